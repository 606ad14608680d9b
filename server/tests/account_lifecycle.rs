//! Account lifecycle through real HTTP: disable, enable, role changes, password resets and
//! changes, deletion, the last-Administrator rule (also under concurrency), the first start's
//! generated password, and who may do any of it. One test per rule.

#[path = "support/app.rs"]
mod support;

use reqwest::Client;
use serde_json::Value;
use server::accounts::{AccountError, Accounts};
use server::auth::session_registry::{SessionLimits, SessionRegistry};
use support::{browser, settings, TestApp, USER_PASSWORD};

const NEW_PASSWORD: &str = "a-brand-new-password";

/// A server fn's status and JSON answer.
async fn call(
    app: &TestApp,
    client: &Client,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let res = app.call(client, endpoint, form).await;
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// What an account may do afterwards: any read a signed-in role may make.
async fn can_read(app: &TestApp, client: &Client) -> u16 {
    app.call(client, "dashboard/get", &[])
        .await
        .status()
        .as_u16()
}

async fn by_id(app: &TestApp, admin: &Client, endpoint: &str, id: i64) -> (u16, Value) {
    let id = id.to_string();
    call(app, admin, endpoint, &[("id", id.as_str())]).await
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String, String)> {
    server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT actor, action, detail FROM audit_log ORDER BY audit_log_id"
    )
    .fetch_all(db)
    .await
    .unwrap())
}

async fn has_audit(app: &TestApp, actor: &str, action: &str, detail_contains: &str) -> bool {
    audit_actions(app)
        .await
        .iter()
        .any(|(a, act, d)| a == actor && act == action && d.contains(detail_contains))
}

async fn sessions_of(app: &TestApp, id: i64) -> i64 {
    server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM account_session WHERE account_id = $1"
    )
    .bind(id)
    .fetch_one(db)
    .await
    .unwrap())
}

async fn session_records(app: &TestApp) -> i64 {
    server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM tower_sessions"
    )
    .fetch_one(db)
    .await
    .unwrap())
}

async fn change_password(
    app: &TestApp,
    client: &Client,
    current: &str,
    new: &str,
    again: &str,
) -> (u16, Value) {
    call(
        app,
        client,
        "account/change_password",
        &[
            ("current_password", current),
            ("new_password", new),
            ("new_password_again", again),
        ],
    )
    .await
}

/// A sign-in as a plain form post: where the browser is sent.
async fn form_sign_in(app: &TestApp, username: &str, password: &str) -> String {
    let res = browser()
        .post(app.url("/api/auth/login"))
        .header("Accept", "text/html")
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn disabling_refuses_sign_in_like_a_wrong_password_and_ends_existing_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let bob = app.create_user(&admin, "bob", "Analyst").await;
    let first = app.signed_in("bob", USER_PASSWORD).await;
    let second = app.signed_in("bob", USER_PASSWORD).await;
    assert_eq!(can_read(&app, &first).await, 200);
    let records_before = session_records(&app).await;

    assert_eq!(by_id(&app, &admin, "users/disable", bob).await.0, 200);
    for client in [&first, &second] {
        assert_eq!(
            can_read(&app, client).await,
            401,
            "an existing session ends at once"
        );
        let (_, me) = call(&app, client, "auth/me", &[]).await;
        assert_eq!(me, Value::Null);
    }
    assert_eq!(sessions_of(&app, bob).await, 0);
    assert_eq!(
        session_records(&app).await,
        records_before - 2,
        "their records are deleted from the store too"
    );

    // The right password and a wrong one get the same answer: nothing tells the account is
    // disabled rather than the password wrong.
    let right = call(
        &app,
        &browser(),
        "auth/login",
        &[("username", "bob"), ("password", USER_PASSWORD)],
    )
    .await;
    let wrong = call(
        &app,
        &browser(),
        "auth/login",
        &[("username", "bob"), ("password", "not-the-password")],
    )
    .await;
    assert_eq!(right, (401, Value::String("InvalidCredentials".into())));
    assert_eq!(right, wrong);
    assert_eq!(
        form_sign_in(&app, "bob", USER_PASSWORD).await,
        form_sign_in(&app, "bob", "not-the-password").await
    );

    let (_, view) = by_id(&app, &admin, "users/get", bob).await;
    assert_eq!(view["disabled"], true);
    assert!(has_audit(&app, "admin", "account.disable", "bob (2 sessions ended)").await);
    app.stop().await;
}

#[tokio::test]
async fn enabling_lets_the_user_sign_in_again() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let bob = app.create_user(&admin, "bob", "Analyst").await;
    assert_eq!(by_id(&app, &admin, "users/disable", bob).await.0, 200);
    assert_eq!(
        app.login(&browser(), "bob", USER_PASSWORD).await.status(),
        401
    );

    assert_eq!(by_id(&app, &admin, "users/enable", bob).await.0, 200);
    let client = app.signed_in("bob", USER_PASSWORD).await;
    assert_eq!(can_read(&app, &client).await, 200);
    let (_, view) = by_id(&app, &admin, "users/get", bob).await;
    assert_eq!(view["disabled"], false);
    assert!(has_audit(&app, "admin", "account.enable", "bob").await);
    app.stop().await;
}

#[tokio::test]
async fn a_role_change_takes_effect_on_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let bob = app.create_user(&admin, "bob", "Analyst").await;
    let client = app.signed_in("bob", USER_PASSWORD).await;
    assert_eq!(app.call(&client, "users/list", &[]).await.status(), 403);

    let id = bob.to_string();
    let promote = [("id", id.as_str()), ("role", "Administrator")];
    assert_eq!(call(&app, &admin, "users/set_role", &promote).await.0, 200);
    assert_eq!(
        app.call(&client, "users/list", &[]).await.status(),
        200,
        "the same session, no new sign-in"
    );
    let demote = [("id", id.as_str()), ("role", "Analyst")];
    assert_eq!(call(&app, &admin, "users/set_role", &demote).await.0, 200);
    assert_eq!(app.call(&client, "users/list", &[]).await.status(), 403);
    let (_, me) = call(&app, &client, "auth/me", &[]).await;
    assert_eq!(me["role"], "Analyst");

    let bad = [("id", id.as_str()), ("role", "Root")];
    assert_eq!(call(&app, &admin, "users/set_role", &bad).await.0, 422);
    assert!(
        has_audit(
            &app,
            "admin",
            "account.role",
            "bob: Analyst \u{2192} Administrator"
        )
        .await
    );
    assert!(
        has_audit(
            &app,
            "admin",
            "account.role",
            "bob: Administrator \u{2192} Analyst"
        )
        .await
    );
    app.stop().await;
}

#[tokio::test]
async fn a_reset_forces_a_change_at_the_next_sign_in_and_ends_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let bob = app.create_user(&admin, "bob", "Operator").await;
    let before = app.signed_in("bob", USER_PASSWORD).await;

    app.reset_password(&admin, bob, "temporary-password-1")
        .await;
    assert_eq!(
        can_read(&app, &before).await,
        401,
        "the reset ends bob's sessions"
    );
    assert_eq!(sessions_of(&app, bob).await, 0);
    assert_eq!(
        app.login(&browser(), "bob", USER_PASSWORD).await.status(),
        401
    );

    let held = app.signed_in("bob", "temporary-password-1").await;
    let (_, me) = call(&app, &held, "auth/me", &[]).await;
    assert_eq!(me["must_change_password"], true);
    let (status, body) = call(&app, &held, "dashboard/get", &[]).await;
    assert_eq!(
        (status, body),
        (403, Value::String("PasswordChangeRequired".into()))
    );

    let changed = change_password(
        &app,
        &held,
        "temporary-password-1",
        NEW_PASSWORD,
        NEW_PASSWORD,
    )
    .await;
    assert_eq!(changed.0, 200, "{changed:?}");
    assert_eq!(
        can_read(&app, &held).await,
        200,
        "free once changed, in the same session"
    );
    let (_, me) = call(&app, &held, "auth/me", &[]).await;
    assert_eq!(me["must_change_password"], false);
    assert!(has_audit(&app, "admin", "account.password_reset", "bob").await);
    assert!(has_audit(&app, "bob", "account.password_change", "").await);

    // An Administrator's own password changes with the current one, not by a reset.
    let (_, me) = call(&app, &admin, "auth/me", &[]).await;
    let own = me["id"].as_i64().unwrap().to_string();
    let form = [("id", own.as_str()), ("password", "temporary-password-2")];
    assert_eq!(
        call(&app, &admin, "users/reset_password", &form).await.0,
        409
    );
    let bob = bob.to_string();
    let short = [("id", bob.as_str()), ("password", "short")];
    assert_eq!(
        call(&app, &admin, "users/reset_password", &short).await.0,
        422
    );
    app.stop().await;
}

#[tokio::test]
async fn changing_ones_own_password_needs_the_current_one_and_ends_the_other_sessions_only() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    app.create_user(&admin, "bob", "Analyst").await;
    let here = app.signed_in("bob", USER_PASSWORD).await;
    let elsewhere = app.signed_in("bob", USER_PASSWORD).await;

    let refused = [
        (
            "not-the-password",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "current_password",
        ),
        (
            USER_PASSWORD,
            NEW_PASSWORD,
            "a-different-password",
            "new_password_again",
        ),
        (USER_PASSWORD, "short", "short", "new_password"),
        (USER_PASSWORD, USER_PASSWORD, USER_PASSWORD, "new_password"),
    ];
    for (current, new, again, field) in refused {
        let (status, body) = change_password(&app, &here, current, new, again).await;
        assert_eq!(status, 422, "{field}: {body}");
        assert_eq!(body["Validation"]["field"], field, "{body}");
    }
    assert_eq!(
        can_read(&app, &elsewhere).await,
        200,
        "a refused change ends nothing"
    );

    let (status, _) = change_password(&app, &here, USER_PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(
        can_read(&app, &here).await,
        200,
        "this session stays signed in"
    );
    assert_eq!(can_read(&app, &elsewhere).await, 401, "the other one ends");
    assert_eq!(
        app.login(&browser(), "bob", USER_PASSWORD).await.status(),
        401
    );
    app.signed_in("bob", NEW_PASSWORD).await;
    assert!(
        has_audit(
            &app,
            "bob",
            "account.password_change",
            "1 other sessions ended"
        )
        .await
    );

    // Anonymous callers cannot change anything.
    let (status, _) =
        change_password(&app, &browser(), NEW_PASSWORD, USER_PASSWORD, USER_PASSWORD).await;
    assert_eq!(status, 401);
    app.stop().await;
}

#[tokio::test]
async fn deleting_an_account_ends_its_sessions_and_frees_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let bob = app.create_user(&admin, "bob", "Operator").await;
    let client = app.signed_in("bob", USER_PASSWORD).await;
    let id = bob.to_string();

    let unconfirmed = [("id", id.as_str()), ("confirm", "bobby")];
    let (status, body) = call(&app, &admin, "users/delete", &unconfirmed).await;
    assert_eq!(status, 422);
    assert_eq!(body["Validation"]["field"], "confirm");
    assert_eq!(can_read(&app, &client).await, 200, "nothing happened");

    let confirmed = [("id", id.as_str()), ("confirm", "bob")];
    assert_eq!(call(&app, &admin, "users/delete", &confirmed).await.0, 200);
    assert_eq!(can_read(&app, &client).await, 401);
    assert_eq!(sessions_of(&app, bob).await, 0);
    assert_eq!(by_id(&app, &admin, "users/get", bob).await.0, 404);
    assert_eq!(call(&app, &admin, "users/delete", &confirmed).await.0, 404);
    assert_eq!(
        app.login(&browser(), "bob", USER_PASSWORD).await.status(),
        401
    );
    assert!(has_audit(&app, "admin", "account.delete", "bob (Operator)").await);

    // The name is free again, and the old session does not come back with the new account
    // (SQLite may even give it the same id).
    app.create_user(&admin, "bob", "Analyst").await;
    assert_eq!(can_read(&app, &client).await, 401);
    app.stop().await;
}

#[tokio::test]
async fn the_last_enabled_administrator_cannot_be_disabled_demoted_or_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let (_, me) = call(&app, &admin, "auth/me", &[]).await;
    let own = me["id"].as_i64().unwrap().to_string();
    let own = own.as_str();

    let attempts: [(&str, Vec<(&str, &str)>); 3] = [
        ("users/disable", vec![("id", own)]),
        ("users/set_role", vec![("id", own), ("role", "Operator")]),
        ("users/delete", vec![("id", own), ("confirm", "admin")]),
    ];
    for (endpoint, form) in &attempts {
        let (status, body) = call(&app, &admin, endpoint, form).await;
        assert_eq!(status, 409, "{endpoint}: {body}");
        assert!(body["Conflict"]
            .as_str()
            .unwrap()
            .contains("last enabled Administrator"));
    }
    assert_eq!(
        app.call(&admin, "users/list", &[]).await.status(),
        200,
        "still an Administrator"
    );

    // A disabled Administrator does not count.
    let other = app.create_user(&admin, "admin-2", "Administrator").await;
    assert_eq!(by_id(&app, &admin, "users/disable", other).await.0, 200);
    for (endpoint, form) in &attempts {
        assert_eq!(
            call(&app, &admin, endpoint, form).await.0,
            409,
            "{endpoint}"
        );
    }
    // With another enabled one, an Administrator may step down.
    assert_eq!(by_id(&app, &admin, "users/enable", other).await.0, 200);
    let step_down = [("id", own), ("role", "Operator")];
    assert_eq!(
        call(&app, &admin, "users/set_role", &step_down).await.0,
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn of_two_concurrent_demotions_of_the_last_two_administrators_exactly_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let (_, me) = call(&app, &admin, "auth/me", &[]).await;
    let first = me["id"].as_i64().unwrap();
    let second = app.create_user(&admin, "admin-2", "Administrator").await;
    let other = app.signed_in("admin-2", USER_PASSWORD).await;

    // Through HTTP: each demotes the other at the same time. The loser is refused by the
    // rule (409) or, when the winner's change landed before its request was authorised, by
    // its new role (403).
    let (a, b) = (first.to_string(), second.to_string());
    let demote_second = [("id", b.as_str()), ("role", "Operator")];
    let demote_first = [("id", a.as_str()), ("role", "Operator")];
    let (x, y) = tokio::join!(
        call(&app, &admin, "users/set_role", &demote_second),
        call(&app, &other, "users/set_role", &demote_first),
    );
    let mut statuses = [x.0, y.0];
    statuses.sort();
    assert!(
        statuses == [200, 403] || statuses == [200, 409],
        "{x:?} {y:?}"
    );
    assert_eq!(enabled_administrators(&app).await, 1);

    // The rule itself, without the HTTP guard in front: both administrators again, then two
    // demotions racing in the service. Exactly one commits, every time.
    let stores = server::db::Stores::new(&app.pool);
    let registry = SessionRegistry::new(&stores, SessionLimits::default());
    let accounts = Accounts::new(&stores, dir.path().to_owned(), registry);
    for round in 0..10 {
        for id in [first, second] {
            server::on_pool!(&app.pool, |db| {
                sqlx::query(
                    "UPDATE account SET role = 'Administrator', disabled = FALSE WHERE account_id = $1",
                )
                .bind(id)
                .execute(db)
                .await
                .unwrap();
            });
        }
        let (x, y) = if round % 2 == 0 {
            tokio::join!(
                accounts.set_role("test", first, app::model::user::Role::Operator),
                accounts.set_role("test", second, app::model::user::Role::Analyst),
            )
        } else {
            tokio::join!(
                accounts.disable("test", first),
                accounts.disable("test", second)
            )
        };
        let refused = [&x, &y]
            .iter()
            .filter(|r| matches!(r, Err(AccountError::LastAdministrator)))
            .count();
        assert!(
            (x.is_ok() ^ y.is_ok()) && refused == 1,
            "round {round}: {x:?} {y:?}"
        );
        assert_eq!(enabled_administrators(&app).await, 1, "round {round}");
    }
    app.stop().await;
}

async fn enabled_administrators(app: &TestApp) -> i64 {
    server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM account WHERE role = 'Administrator' AND disabled = FALSE"
    )
    .fetch_one(db)
    .await
    .unwrap())
}

#[tokio::test]
async fn non_administrators_get_403_on_every_lifecycle_fn() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let target = app
        .create_user(&admin, "target", "Analyst")
        .await
        .to_string();
    let target = target.as_str();
    let calls: [(&str, Vec<(&str, &str)>); 6] = [
        ("users/get", vec![("id", target)]),
        ("users/disable", vec![("id", target)]),
        ("users/enable", vec![("id", target)]),
        (
            "users/set_role",
            vec![("id", target), ("role", "Administrator")],
        ),
        (
            "users/reset_password",
            vec![("id", target), ("password", "temporary-password-1")],
        ),
        ("users/delete", vec![("id", target), ("confirm", "target")]),
    ];
    for role in ["Analyst", "Operator"] {
        let client = app
            .user_with_role(&format!("user-{}", role.to_lowercase()), role)
            .await;
        for (endpoint, form) in &calls {
            let (status, body) = call(&app, &client, endpoint, form).await;
            assert_eq!(status, 403, "{role} {endpoint}");
            assert_eq!(body, Value::String("Forbidden".into()));
        }
    }
    // The target is untouched: it signs in with its password, as an Analyst.
    let client = app.signed_in("target", USER_PASSWORD).await;
    let (_, me) = call(&app, &client, "auth/me", &[]).await;
    assert_eq!(me["role"], "Analyst");
    app.stop().await;
}

#[tokio::test]
async fn the_generated_first_password_must_be_changed_and_its_file_then_goes() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(settings(dir.path(), None), support::tuning()).await;
    let file = dir.path().join("initial-admin-password");
    let generated = std::fs::read_to_string(&file).unwrap();
    let admin = app.signed_in("admin", generated.trim()).await;

    let (_, me) = call(&app, &admin, "auth/me", &[]).await;
    assert_eq!(me["must_change_password"], true);
    let (status, body) = call(&app, &admin, "users/list", &[]).await;
    assert_eq!(
        (status, body),
        (403, Value::String("PasswordChangeRequired".into()))
    );
    let page = admin
        .get(app.url("/endpoints"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 302);
    assert_eq!(page.headers()["location"], "/account/password");
    assert!(file.exists(), "kept until the password is replaced");

    let (status, _) =
        change_password(&app, &admin, generated.trim(), NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200);
    assert!(!file.exists(), "the generated password's file is removed");
    assert_eq!(app.call(&admin, "users/list", &[]).await.status(), 200);
    assert_eq!(
        app.login(&browser(), "admin", generated.trim())
            .await
            .status(),
        401
    );
    app.signed_in("admin", NEW_PASSWORD).await;
    app.stop().await;
}

#[tokio::test]
async fn a_configured_first_password_is_not_forced_to_change() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let (_, me) = call(&app, &admin, "auth/me", &[]).await;
    assert_eq!(me["must_change_password"], false, "the operator chose it");
    assert_eq!(app.call(&admin, "users/list", &[]).await.status(), 200);
    app.stop().await;
}
