//! Session limits and the session list, through real HTTP: the idle limit slides with
//! activity, the absolute one does not, a user sees and ends their own sessions, and session
//! ids are never stored in clear. The limits are seconds here; the options take minutes and
//! hours.

#[path = "support/app.rs"]
mod support;

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, COOKIE, USER_AGENT};
use reqwest::Client;
use serde_json::Value;
use server::auth::session_registry::SessionLimits;
use support::{browser, settings, TestApp, ADMIN_PASSWORD};

async fn spawn(dir: &std::path::Path, idle_secs: u64, absolute_secs: u64) -> TestApp {
    let mut settings = settings(dir, Some(ADMIN_PASSWORD));
    settings.session_limits = SessionLimits {
        idle: Duration::from_secs(idle_secs),
        absolute: Duration::from_secs(absolute_secs),
    };
    TestApp::spawn_with(settings, support::tuning()).await
}

/// Signs in and returns a client that sends exactly that session cookie, whatever the cookie's
/// own expiry says: what ends the session must be the server.
async fn session_cookie_client(app: &TestApp) -> Client {
    let res = app.login(&Client::new(), "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, HeaderValue::from_str(&cookie).unwrap());
    Client::builder().default_headers(headers).build().unwrap()
}

async fn status(app: &TestApp, client: &Client) -> u16 {
    app.call(client, "dashboard/get", &[])
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn activity_keeps_a_session_past_the_idle_limit_and_idleness_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn(dir.path(), 2, 600).await;
    let client = session_cookie_client(&app).await;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        assert_eq!(status(&app, &client).await, 200, "at {:?}", start.elapsed());
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(status(&app, &client).await, 401, "idle past the limit");
    // Nor is it listed among the account's sessions any more.
    let again = app.admin().await;
    let listed = sessions(&app, &again).await;
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0]["current"], true);
    app.stop().await;
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_limit_however_active() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn(dir.path(), 2, 4).await;
    let client = session_cookie_client(&app).await;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(3500) {
        assert_eq!(status(&app, &client).await, 200, "at {:?}", start.elapsed());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    while start.elapsed() < Duration::from_millis(4300) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Still active: the idle limit is not what ends it.
        let _ = status(&app, &client).await;
    }
    assert_eq!(status(&app, &client).await, 401);
    app.stop().await;
}

fn browser_as(agent: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert(USER_AGENT, HeaderValue::from_str(agent).unwrap());
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn sessions(app: &TestApp, client: &Client) -> Vec<Value> {
    let res = app.call(client, "account/sessions/list", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_session_list_shows_each_sign_in_and_one_can_be_ended() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let laptop = browser_as("Laptop/1.0");
    let phone = browser_as("Phone/2.0");
    for client in [&laptop, &phone] {
        assert_eq!(
            app.login(client, "admin", ADMIN_PASSWORD).await.status(),
            200
        );
    }

    let listed = sessions(&app, &laptop).await;
    assert_eq!(listed.len(), 2, "{listed:#?}");
    let this = listed.iter().find(|s| s["current"] == true).unwrap();
    let other = listed.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(this["user_agent"], "Laptop/1.0");
    assert_eq!(other["user_agent"], "Phone/2.0");
    for s in &listed {
        assert_eq!(s["client"], "127.0.0.1");
        assert!(s["created_at"].as_str().unwrap().ends_with('Z'), "{s}");
        assert!(s["last_seen_at"].is_string(), "{s}");
    }

    let other_id = other["id"].as_i64().unwrap().to_string();
    let res = app
        .call(
            &laptop,
            "account/sessions/end",
            &[("id", other_id.as_str())],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(status(&app, &phone).await, 401, "the phone is signed out");
    assert_eq!(status(&app, &laptop).await, 200);
    assert_eq!(sessions(&app, &laptop).await.len(), 1);

    // Another user's session is not one's own to end.
    let bob = app.user_with_role("bob", "Analyst").await;
    let bobs = sessions(&app, &bob).await;
    let laptop_id = sessions(&app, &laptop).await[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let res = app
        .call(&bob, "account/sessions/end", &[("id", laptop_id.as_str())])
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(status(&app, &laptop).await, 200);
    assert_eq!(bobs.len(), 1, "each user sees only their own");
    app.stop().await;
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session_including_this_one() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let here = app.admin().await;
    let elsewhere = [app.admin().await, app.admin().await];
    let bob = app.user_with_role("bob", "Analyst").await;

    let res = here
        .post(app.url("/api/account/sessions/end_all"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302, "a plain form post is sent to sign-in");
    assert_eq!(res.headers()["location"], "/login");
    assert_eq!(status(&app, &here).await, 401);
    for client in &elsewhere {
        assert_eq!(status(&app, client).await, 401);
    }
    assert_eq!(status(&app, &bob).await, 200, "other users keep theirs");
    let admins: i64 = server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM account_session s JOIN account a USING (account_id) \
         WHERE a.username = 'admin'",
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(admins, 0);
    let records: i64 = server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM tower_sessions"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(records, 1, "only bob's record is left in the store");
    let audited: i64 = server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'session.end_all' AND actor = 'admin'",
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(audited, 1);
    app.stop().await;
}

#[tokio::test]
async fn session_ids_are_stored_only_as_digests() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let res = app.login(&browser(), "admin", ADMIN_PASSWORD).await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let id = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("ea_session=")
        .to_owned();
    let stored: Vec<String> = server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT id FROM tower_sessions UNION ALL SELECT session_key FROM account_session",
    )
    .fetch_all(db)
    .await
    .unwrap());
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|s| *s != id), "{stored:?}");
    assert_eq!(stored[0], stored[1], "the registry keys the store's record");
    let key = server::auth::session_store::stored_key(&id).unwrap();
    assert_eq!(stored[0], key);
    // On SQLite the whole file, free pages and log included; PostgreSQL's files are the
    // server's, and the rows above are all it keeps of a session.
    if !support::database::on_postgres() {
        let dump = std::fs::read(dir.path().join("endpoint-analytics.db")).unwrap();
        assert!(
            !dump.windows(id.len()).any(|w| w == id.as_bytes()),
            "the id appears nowhere in the database file"
        );
    }
    app.stop().await;
}
