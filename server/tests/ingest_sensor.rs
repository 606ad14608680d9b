//! `POST /api/ingest/sensor` over real HTTP: token authentication, the parse error as JSON,
//! and the import report.

#[path = "support/app.rs"]
mod support;

use serde_json::Value;
use support::TestApp;

const BATCH: &str = r#"{"sensor": "branch-01", "observations": [
  {"mac": "00:1E:8F:15:D8:3B", "ip": "10.0.0.7", "hostname": "printer-7",
   "open_ports": [{"port": 9100, "protocol": "tcp"}, {"port": 631, "protocol": "tcp"}]},
  {"mac": "54-EE-75-0B-3F-5D", "ip": "10.0.0.8", "dhcp_vendor_class": "MSFT 5.0"}
]}"#;

#[tokio::test]
async fn sensors_push_batches_with_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let (_, token) = server::endpoints::create_api_token(&app.pool, "branch-01", "admin")
        .await
        .unwrap();
    let (stored,): (String,) = server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT token_hash FROM api_token"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert!(!stored.contains(&token), "only a hash is stored");
    assert_eq!(
        server::endpoints::verify_api_token(&app.pool, &token).await,
        Some(1)
    );
    let http = reqwest::Client::new();
    let url = app.url("/api/ingest/sensor");

    // No token, or a wrong one: 401 and nothing stored.
    for auth in [None, Some("Bearer eat_wrong"), Some("Basic abc")] {
        let mut req = http.post(&url).body(BATCH);
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
    }

    // A bad body: 400 with the parser's message.
    let res = http
        .post(&url)
        .bearer_auth(&token)
        .body(r#"{"sensor": "branch-01", "observations": [{"mac": "zz"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );

    let (before,): (i64,) = server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT COUNT(*) FROM endpoint"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(before, 0);

    let res = http
        .post(&url)
        .bearer_auth(&token)
        .body(BATCH)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["added"], 2, "{report}");
    let (printer_profile, ports): (Option<String>, String) =
        server::on_pool!(&app.pool, |db| sqlx::query_as(
            "SELECT a.profile_name, CAST(e.open_ports AS TEXT) FROM endpoint e \
             LEFT JOIN endpoint_assessment a USING (endpoint_id) WHERE e.mac = $1",
        )
        .bind("00:1E:8F:15:D8:3B")
        .fetch_one(db)
        .await
        .unwrap());
    assert!(ports.contains("9100"));
    assert!(printer_profile.is_some(), "re-modelled after the import");

    // The same batch again updates, never duplicates.
    let res = http
        .post(&url)
        .bearer_auth(&token)
        .body(BATCH)
        .send()
        .await
        .unwrap();
    let report: Value = res.json().await.unwrap();
    assert_eq!(
        (report["added"].clone(), report["updated"].clone()),
        (0.into(), 2.into())
    );
    app.stop().await;
}
