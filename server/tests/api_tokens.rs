//! Configuration > Sensors: Administrators create, list and revoke the API tokens sensors push
//! with, through the server fns and the real ingest endpoint.

#[path = "support/app.rs"]
mod support;

use serde_json::Value;
use support::{browser, TestApp};

const BATCH: &str = r#"{"sensor": "branch-01", "observations": [
  {"mac": "00:1E:8F:15:D8:3B", "ip": "10.0.0.7", "hostname": "printer-7"}
]}"#;

async fn ingest(app: &TestApp, token: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(app.url("/api/ingest/sensor"))
        .bearer_auth(token)
        .body(BATCH)
        .send()
        .await
        .unwrap()
        .status()
}

async fn json(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_created_token_ingests_until_it_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;

    let created = json(
        app.call(&admin, "sensors/tokens/create", &[("name", " branch-01 ")])
            .await,
    )
    .await;
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();
    assert!(token.starts_with("eat_") && token.len() > 40, "{created}");
    assert_eq!(created["name"], "branch-01", "the name is trimmed");
    let (hash,): (String,) = server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT token_hash FROM api_token"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert!(!hash.contains(&token[4..]), "only a hash is stored");

    // The list never carries the value, nor the hash.
    let res = app.call(&admin, "sensors/tokens/list", &[]).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(!text.contains(&token[4..]), "{text}");
    assert!(!text.contains(&hash), "{text}");
    let list: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "branch-01");
    assert_eq!(list[0]["created_by"], "admin");
    assert!(list[0]["created_at"].is_string());
    assert_eq!(list[0]["last_used_at"], Value::Null);
    assert_eq!(list[0]["revoked"], false);

    assert_eq!(ingest(&app, &token).await, 200);
    let list = json(app.call(&admin, "sensors/tokens/list", &[]).await).await;
    assert!(list[0]["last_used_at"].is_string(), "{list}");

    let res = app
        .call(&admin, "sensors/tokens/revoke", &[("id", &id.to_string())])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(ingest(&app, &token).await, 401);
    let list = json(app.call(&admin, "sensors/tokens/list", &[]).await).await;
    assert_eq!(list[0]["revoked"], true);

    // Revoking again changes nothing and is not an error; an unknown id is.
    let again = app
        .call(&admin, "sensors/tokens/revoke", &[("id", &id.to_string())])
        .await;
    assert_eq!(again.status(), 200);
    let unknown = app
        .call(&admin, "sensors/tokens/revoke", &[("id", "9999")])
        .await;
    assert_eq!(unknown.status(), 404);

    // Both changes are audited once each, by id and name, without the value.
    let audit = app
        .call(&admin, "audit/list", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(!audit.contains(&token[4..]), "{audit}");
    let audit: Vec<Value> = serde_json::from_str(&audit).unwrap();
    let of = |action: &str| {
        audit
            .iter()
            .filter(|e| e["action"] == action)
            .map(|e| (e["actor"].clone(), e["detail"].clone()))
            .collect::<Vec<_>>()
    };
    let expected = vec![("admin".into(), format!("#{id} branch-01").into())];
    assert_eq!(of("api_token.create"), expected);
    assert_eq!(of("api_token.revoke"), expected);
    app.stop().await;
}

#[tokio::test]
async fn only_administrators_manage_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let created = json(
        app.call(&admin, "sensors/tokens/create", &[("name", "kept")])
            .await,
    )
    .await;
    let id = created["id"].to_string();
    let token = created["token"].as_str().unwrap().to_owned();

    let operator = app.user_with_role("operator-1", "Operator").await;
    let analyst = app.user_with_role("analyst-1", "Analyst").await;
    let anonymous = browser();
    for (who, client, status) in [
        ("operator", &operator, 403),
        ("analyst", &analyst, 403),
        ("anonymous", &anonymous, 401),
    ] {
        for (endpoint, form) in [
            ("sensors/tokens/list", vec![]),
            ("sensors/tokens/create", vec![("name", "sneaky")]),
            ("sensors/tokens/revoke", vec![("id", id.as_str())]),
        ] {
            let res = app.call(client, endpoint, &form).await;
            assert_eq!(res.status(), status, "{who} {endpoint}");
        }
    }
    let (count,): (i64,) = server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT COUNT(*) FROM api_token"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(count, 1, "no token was created by a refused call");
    assert_eq!(ingest(&app, &token).await, 200, "nor revoked");
    app.stop().await;
}

#[tokio::test]
async fn token_names_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    for name in ["", "   ", &"x".repeat(65), "line\nbreak"] {
        let res = app
            .call(&admin, "sensors/tokens/create", &[("name", name)])
            .await;
        assert_eq!(res.status(), 422, "{name:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["Validation"]["field"], "name", "{body}");
    }
    let (count,): (i64,) = server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT COUNT(*) FROM api_token"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(count, 0);
    app.stop().await;
}

#[tokio::test]
async fn the_sensors_page_lists_tokens_for_administrators_only() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let created = json(
        app.call(&admin, "sensors/tokens/create", &[("name", "lobby-sensor")])
            .await,
    )
    .await;
    let token = created["token"].as_str().unwrap();

    let page = admin
        .get(app.url("/configuration/sensors"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("lobby-sensor"), "the token is listed");
    assert!(
        html.contains("Revoke lobby-sensor"),
        "with its Revoke button"
    );
    assert!(!html.contains(&token[4..]), "but never its value");
    assert!(
        html.contains("href=\"/configuration/sensors\""),
        "in the navigation"
    );

    let operator = app.user_with_role("operator-2", "Operator").await;
    let html = operator
        .get(app.url("/configuration/sensors"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("lobby-sensor"));
    assert!(html.contains("Your role does not allow this."));
    assert!(!html.contains("href=\"/configuration/sensors\""));
    app.stop().await;
}
