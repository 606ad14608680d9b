//! Shared helpers for the simulator's HTTP tests: start on port 0, fetch tokens, call the API
//! with raw reqwest and `serde_json::Value` (never the Defender client's types).
#![allow(dead_code)]

use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use server::sim::{self, RunningSim, SimConfig};

pub const AUDIENCE: &str = "https://api.securitycenter.microsoft.com";

pub async fn start(config: SimConfig) -> RunningSim {
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

pub async fn start_small(machines: usize) -> RunningSim {
    start(SimConfig::for_tests(machines)).await
}

pub fn client() -> Client {
    Client::new()
}

/// v2 token request; returns the raw response.
pub async fn token_v2(base: &str, tenant: &str, form: &[(&str, &str)]) -> Response {
    client()
        .post(format!("{base}/{tenant}/oauth2/v2.0/token"))
        .form(form)
        .send()
        .await
        .unwrap()
}

pub async fn token_v1(base: &str, tenant: &str, form: &[(&str, &str)]) -> Response {
    client()
        .post(format!("{base}/{tenant}/oauth2/token"))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// A token for `client_id`/`secret` in the sim's first tenant.
pub async fn token_for(s: &RunningSim, client_id: &str, secret: &str) -> String {
    let scope = format!("{AUDIENCE}/.default");
    let r = token_v2(
        s.base_url(),
        &s.app().tenant_id,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn token(s: &RunningSim) -> String {
    let app = s.app().clone();
    token_for(s, &app.client_id, &app.client_secret).await
}

pub async fn get(url: &str, token: &str) -> Response {
    client().get(url).bearer_auth(token).send().await.unwrap()
}

/// GET expecting 200 and JSON.
pub async fn get_json(url: &str, token: &str) -> Value {
    let r = get(url, token).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {url}: {text}");
    serde_json::from_str(&text).unwrap()
}

pub async fn post_json(url: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let r = client()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Follows `@odata.nextLink` from `url`; returns all items and the number of pages.
pub async fn collect(url: &str, token: &str, max_pages: usize) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut next = Some(url.to_owned());
    let mut pages = 0;
    while let Some(u) = next {
        assert!(pages < max_pages, "too many pages");
        let page = get_json(&u, token).await;
        pages += 1;
        items.extend(page["value"].as_array().unwrap().iter().cloned());
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    (items, pages)
}

pub fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

pub async fn set_faults_http(base: &str, faults: Value) {
    let r = client()
        .post(format!("{base}/_sim/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

pub fn comment(c: &str) -> Value {
    json!({ "Comment": c })
}
