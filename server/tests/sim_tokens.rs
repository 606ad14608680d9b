//! Entra token endpoints of the simulator: v1/v2 success shapes and the AADSTS errors.

#[path = "support/sim.rs"]
mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::Value;
use server::sim::{Cloud, SimApp, SimConfig, DEMO_TENANT_DOMAIN};
use support::*;

fn payload(token: &str) -> Value {
    let p = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

#[tokio::test]
async fn v2_and_v1_success_shapes() {
    let s = start_small(10).await;
    let app = s.app().clone();
    let scope = format!("{AUDIENCE}/.default");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
        ("scope", scope.as_str()),
    ];
    let r = token_v2(s.base_url(), &app.tenant_id, &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    assert!(v["ext_expires_in"].is_number());
    let claims = payload(v["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["tid"], app.tenant_id.as_str());
    assert_eq!(claims["appid"], app.client_id.as_str());
    assert_eq!(
        claims["iss"],
        format!("https://sts.windows.net/{}/", app.tenant_id)
    );
    assert!(claims["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "Machine.Isolate"));
    for k in ["exp", "nbf", "iat"] {
        assert!(claims[k].is_i64(), "{k}");
    }
    assert!(claims["oid"].is_string());

    // v1 by tenant domain: numbers as strings plus expires_on/not_before/resource.
    let v1 = token_v1(
        s.base_url(),
        DEMO_TENANT_DOMAIN,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("resource", AUDIENCE),
        ],
    )
    .await;
    assert_eq!(v1.status(), StatusCode::OK);
    let v1: Value = v1.json().await.unwrap();
    assert_eq!(v1["expires_in"], "3599");
    assert!(v1["expires_on"].as_str().unwrap().parse::<i64>().is_ok());
    assert!(v1["not_before"].is_string());
    assert_eq!(v1["resource"], AUDIENCE);
    s.shutdown().await;
}

async fn expect_error(r: reqwest::Response, status: StatusCode, error: &str, code: u64) {
    assert_eq!(r.status(), status);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], error, "{v}");
    assert_eq!(v["error_codes"][0], code);
    let d = v["error_description"].as_str().unwrap();
    assert!(d.starts_with(&format!("AADSTS{code}: ")), "{d}");
    assert!(
        d.contains("Trace ID: ") && d.contains("Correlation ID: ") && d.contains("Timestamp: ")
    );
    for k in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(v[k].is_string(), "{k}");
    }
}

#[tokio::test]
async fn token_errors() {
    let s = start_small(5).await;
    let app = s.app().clone();
    let base = s.base_url();
    let t = app.tenant_id.as_str();
    let scope = format!("{AUDIENCE}/.default");
    let form = |id: &'static str, secret: &'static str, scope: String| {
        move |a: &SimApp| {
            let id = if id.is_empty() {
                a.client_id.clone()
            } else {
                id.to_owned()
            };
            let secret = if secret == "*" {
                a.client_secret.clone()
            } else {
                secret.to_owned()
            };
            vec![
                ("grant_type".to_owned(), "client_credentials".to_owned()),
                ("client_id".to_owned(), id),
                ("client_secret".to_owned(), secret),
                ("scope".to_owned(), scope.clone()),
            ]
        }
    };
    let post = |tenant: String, f: Vec<(String, String)>| {
        let url = format!("{base}/{tenant}/oauth2/v2.0/token");
        async move { client().post(url).form(&f).send().await.unwrap() }
    };
    let good = form("", "*", scope.clone())(&app);
    let unknown_tenant = post("00000000-0000-0000-0000-000000000000".into(), good.clone()).await;
    expect_error(
        unknown_tenant,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        90002,
    )
    .await;
    let malformed = post("not_a_tenant".into(), good.clone()).await;
    expect_error(
        malformed,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900023,
    )
    .await;
    let unknown_client = post(
        t.into(),
        form("11111111-2222-3333-4444-555555555555", "*", scope.clone())(&app),
    )
    .await;
    expect_error(
        unknown_client,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
    )
    .await;
    let wrong = post(t.into(), form("", "wrong", scope.clone())(&app)).await;
    expect_error(wrong, StatusCode::UNAUTHORIZED, "invalid_client", 7000215).await;
    let mut missing = good.clone();
    missing.retain(|(k, _)| k != "client_secret");
    expect_error(
        post(t.into(), missing).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000218,
    )
    .await;
    let bare = post(t.into(), form("", "*", AUDIENCE.to_owned())(&app)).await;
    expect_error(bare, StatusCode::BAD_REQUEST, "invalid_scope", 1002012).await;

    s.control().expire_secret(&app.client_id);
    let expired = post(t.into(), good.clone()).await;
    expect_error(expired, StatusCode::UNAUTHORIZED, "invalid_client", 7000222).await;
    s.control().revoke_secret(&app.client_id);
    let revoked = post(t.into(), good).await;
    expect_error(revoked, StatusCode::UNAUTHORIZED, "invalid_client", 7000215).await;
    s.shutdown().await;
}

#[tokio::test]
async fn client_secret_basic_is_accepted() {
    let s = start_small(5).await;
    let app = s.app().clone();
    let r = client()
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            s.base_url(),
            app.tenant_id
        ))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://api.securitycenter.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test]
async fn wrong_audience_token_is_issued_but_api_refuses() {
    let s = start_small(5).await;
    let app = s.app().clone();
    let r = token_v2(
        s.base_url(),
        &app.tenant_id,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let tok = r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = get(&format!("{}/api/machines", s.base_url()), &tok).await;
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
    s.shutdown().await;
}

#[tokio::test]
async fn no_consent_app_gets_token_without_roles() {
    let mut config = SimConfig::for_tests(5);
    let base_app = config.apps[0].clone();
    let mut none = base_app.clone().with_roles(None);
    none.client_id = "22222222-2222-4222-8222-222222222222".into();
    config.apps.push(none.clone());
    let s = start(config).await;
    let tok = token_for(&s, &none.client_id, &none.client_secret).await;
    assert!(payload(&tok).get("roles").is_none());
    let r = get(&format!("{}/api/machines", s.base_url()), &tok).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "Forbidden");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Missing application roles."));
    s.shutdown().await;
}

#[tokio::test]
async fn each_cloud_issues_tokens_for_its_own_defender_audience_only() {
    let mut config = SimConfig::for_tests(5);
    let gov_app = |cloud: Cloud, tenant: &str, client: &str| {
        SimApp::full_access(tenant, None, client, "Gov~Secret-1", "gov app").in_cloud(cloud)
    };
    config.apps.extend([
        gov_app(
            Cloud::Gcc,
            "aaaaaaaa-0000-4000-8000-000000000001",
            "bbbbbbbb-0000-4000-8000-000000000001",
        ),
        gov_app(
            Cloud::GccHigh,
            "aaaaaaaa-0000-4000-8000-000000000002",
            "bbbbbbbb-0000-4000-8000-000000000002",
        ),
        gov_app(
            Cloud::Dod,
            "aaaaaaaa-0000-4000-8000-000000000003",
            "bbbbbbbb-0000-4000-8000-000000000003",
        ),
    ]);
    assert_eq!(config.apps[0].cloud, Cloud::Commercial);
    let apps = config.apps.clone();
    let s = start(config).await;
    let commercial = [
        "https://api.securitycenter.microsoft.com",
        "https://api.securitycenter.windows.com",
    ];
    let gcc = [
        "https://api-gcc.securitycenter.microsoft.us",
        "https://api-gcc.security.microsoft.us",
    ];
    let gov = [
        "https://api-gov.securitycenter.microsoft.us",
        "https://api-gov.security.microsoft.us",
    ];
    let app_id = "fc780465-2017-40d4-a0c5-307022471b92";
    let all: Vec<&str> = commercial.iter().chain(&gcc).chain(&gov).copied().collect();
    for app in &apps {
        let own: &[&str] = match app.cloud {
            Cloud::Commercial => &commercial,
            Cloud::Gcc => &gcc,
            Cloud::GccHigh | Cloud::Dod => &gov,
        };
        for aud in all.iter().copied().chain([app_id]) {
            let scope = format!("{aud}/.default");
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", app.client_id.as_str()),
                ("client_secret", app.client_secret.as_str()),
                ("scope", scope.as_str()),
            ];
            let r = token_v2(s.base_url(), &app.tenant_id, &form).await;
            if own.contains(&aud) || aud == app_id {
                assert_eq!(r.status(), StatusCode::OK, "{:?} {aud}", app.cloud);
                let tok = r.json::<Value>().await.unwrap()["access_token"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                assert_eq!(payload(&tok)["aud"], aud);
                let api = get(&format!("{}/api/machines", s.base_url()), &tok).await;
                assert_eq!(api.status(), StatusCode::OK, "{:?} {aud}", app.cloud);
            } else {
                expect_error(r, StatusCode::BAD_REQUEST, "invalid_resource", 500011).await;
            }
        }
        // v1 `resource=` follows the same rule.
        let foreign = if app.cloud == Cloud::Commercial {
            gov[0]
        } else {
            commercial[0]
        };
        let r = token_v1(
            s.base_url(),
            &app.tenant_id,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &app.client_id),
                ("client_secret", &app.client_secret),
                ("resource", foreign),
            ],
        )
        .await;
        expect_error(r, StatusCode::BAD_REQUEST, "invalid_resource", 500011).await;
    }
    s.shutdown().await;
}
