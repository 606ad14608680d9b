//! Accounts, sessions and request guards, through real HTTP against a real SQLite file.

#[path = "support/app.rs"]
mod support;

use serde_json::Value;
use support::{browser, settings, TestApp, ADMIN_PASSWORD};

#[tokio::test]
async fn login_with_right_and_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let client = browser();

    let wrong = app.login(&client, "admin", "not-the-password").await;
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body, Value::String("InvalidCredentials".into()));

    let unknown = app.login(&client, "nobody", "whatever-it-is").await;
    assert_eq!(unknown.status(), 401);

    let right = app.login(&client, "admin", ADMIN_PASSWORD).await;
    assert_eq!(right.status(), 200);
    let me: Value = app
        .call(&client, "auth/me", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "Administrator");
}

#[tokio::test]
async fn the_session_cookie_carries_across_requests_and_has_safe_flags() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let client = browser();
    let res = app.login(&client, "admin", ADMIN_PASSWORD).await;
    let cookie = res
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap();
    assert!(cookie.starts_with("ea_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );

    for _ in 0..3 {
        let users = app.call(&client, "users/list", &[]).await;
        assert_eq!(users.status(), 200);
        let users: Vec<Value> = users.json().await.unwrap();
        assert!(users.iter().any(|u| u["username"] == "admin"));
    }
}

#[tokio::test]
async fn anonymous_server_fn_calls_get_401() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let client = browser();
    for endpoint in ["users/list", "users/create"] {
        let res = app
            .call(
                &client,
                endpoint,
                &[("username", "x"), ("password", "y"), ("role", "Analyst")],
            )
            .await;
        assert_eq!(res.status(), 401, "{endpoint}");
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            Value::String("Unauthenticated".into())
        );
    }
    // Asking who you are is not an error: anonymous is an answer.
    let me = app.call(&client, "auth/me", &[]).await;
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().await.unwrap(), Value::Null);
}

#[tokio::test]
async fn roles_are_enforced_on_administrator_only_server_fns() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    for role in ["Analyst", "Operator"] {
        let client = app
            .user_with_role(&format!("user-{}", role.to_lowercase()), role)
            .await;
        let list = app.call(&client, "users/list", &[]).await;
        assert_eq!(list.status(), 403, "{role}");
        assert_eq!(
            list.json::<Value>().await.unwrap(),
            Value::String("Forbidden".into())
        );
        let create = app
            .call(
                &client,
                "users/create",
                &[
                    ("username", "sneaky"),
                    ("password", "a-long-enough-password"),
                    ("role", "Administrator"),
                ],
            )
            .await;
        assert_eq!(create.status(), 403, "{role}");
    }
    let admin = app.admin().await;
    let users: Vec<Value> = app
        .call(&admin, "users/list", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(users.iter().all(|u| u["username"] != "sneaky"));
}

#[tokio::test]
async fn user_creation_is_validated_by_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let cases = [
        ("ab", "a-long-enough-password", "Analyst", "username"),
        ("valid-name", "short", "Analyst", "password"),
        ("valid-name", "a-long-enough-password", "Root", "role"),
        ("admin", "a-long-enough-password", "Analyst", "username"),
    ];
    for (username, password, role, field) in cases {
        let res = app
            .call(
                &admin,
                "users/create",
                &[
                    ("username", username),
                    ("password", password),
                    ("role", role),
                ],
            )
            .await;
        assert_eq!(res.status(), 422, "{username} {role}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["Validation"]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn a_session_survives_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let client = app.admin().await;
    app.stop().await;

    let again = TestApp::spawn(dir.path()).await;
    let me: Value = again
        .call(&client, "auth/me", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin", "the old cookie still signs in");
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;

    let res = admin
        .post(app.url("/api/users/create"))
        .header("Origin", "http://evil.example")
        .form(&[
            ("username", "planted"),
            ("password", "a-long-enough-password"),
            ("role", "Administrator"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        Value::String("CrossSite".into())
    );

    let res = browser()
        .post(app.url("/api/auth/login"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // The same request from our own origin goes through.
    let res = admin
        .post(app.url("/api/users/create"))
        .header("Origin", app.base.clone())
        .form(&[
            ("username", "legit"),
            ("password", "a-long-enough-password"),
            ("role", "Analyst"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let users: Vec<Value> = app
        .call(&admin, "users/list", &[])
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = users
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert_eq!(names, ["admin", "legit"]);
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    for _ in 0..5 {
        assert_eq!(
            app.login(&browser(), "admin", "guess-guess-guess")
                .await
                .status(),
            401
        );
    }
    // Even the right password is refused while the account is throttled.
    let res = app.login(&browser(), "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 429);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["RateLimited"]["retry_after_secs"].as_u64().unwrap() > 0,
        "{body}"
    );
}

#[tokio::test]
async fn failed_logins_are_throttled_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    for i in 0..20 {
        let res = app
            .login(&browser(), &format!("spray{i}"), "guess-guess-guess")
            .await;
        assert_eq!(res.status(), 401);
    }
    assert_eq!(
        app.login(&browser(), "admin", ADMIN_PASSWORD)
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn login_rotates_the_session_id_and_logout_kills_it_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let planted = "ea_session=AAAAAAAAAAAAAAAAAAAAAA";
    let res = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .header("Cookie", planted)
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let issued = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(issued, planted);

    let with_cookie = |path: &str| {
        reqwest::Client::new()
            .post(app.url(path))
            .header("Cookie", issued.clone())
            .send()
    };
    assert_eq!(with_cookie("/api/users/list").await.unwrap().status(), 200);
    assert_eq!(with_cookie("/api/auth/logout").await.unwrap().status(), 200);
    // Replaying the old cookie after logout gets nothing.
    assert_eq!(with_cookie("/api/users/list").await.unwrap().status(), 401);
}

#[tokio::test]
async fn plain_form_login_redirects_like_a_browser_expects() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let client = browser();
    let post = |password: &'static str| {
        client
            .post(app.url("/api/auth/login"))
            .header("Accept", "text/html")
            .header("Referer", app.url("/login"))
            .form(&[
                ("username", "admin"),
                ("password", password),
                ("next", "/endpoints"),
            ])
            .send()
    };
    let failed = post("wrong-password").await.unwrap();
    assert_eq!(failed.status(), 302);
    assert_eq!(
        failed.headers()["location"],
        "/login?error=invalid&next=/endpoints"
    );
    let ok = post(ADMIN_PASSWORD).await.unwrap();
    assert_eq!(ok.status(), 302);
    assert_eq!(ok.headers()["location"], "/endpoints");
}

#[tokio::test]
async fn pages_need_a_session_and_unknown_routes_are_404() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let anonymous = browser();
    // A page request without a session is sent to sign-in, whatever it accepts, with where
    // it was going (its query too) for after.
    for accept in ["text/html,application/xhtml+xml", "*/*"] {
        let res = anonymous
            .get(app.url("/endpoints"))
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{accept}");
        assert_eq!(res.headers()["location"], "/login?next=/endpoints");
    }
    let res = anonymous
        .get(app.url("/vulnerabilities?severity=High&cve=CVE-2024-1"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/login?next=/vulnerabilities%3Fseverity%3DHigh%26cve%3DCVE-2024-1"
    );
    let login = anonymous.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    assert!(login.text().await.unwrap().contains("Sign in"));

    let admin = app.admin().await;
    let page = admin.get(app.url("/endpoints")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Log out") && html.contains("admin"),
        "the shell is rendered"
    );

    let missing = admin.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn health_and_readiness_probes() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let client = browser();
    assert_eq!(
        client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn first_start_writes_a_random_admin_password_privately() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(settings(dir.path(), None), support::tuning()).await;
    let path = dir.path().join("initial-admin-password");
    let password = std::fs::read_to_string(&path).unwrap();
    assert!(password.len() >= 20);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(
        app.login(&browser(), "admin", password.trim())
            .await
            .status(),
        200
    );
    let key = std::fs::metadata(dir.path().join("secret.key")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
    }
}

#[tokio::test]
async fn a_failed_migration_stops_the_server_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    app.stop().await;
    // Tamper with the recorded checksum of the first migration, as an edited migration would.
    let pool = server::db::open(&settings(dir.path(), None).database_url)
        .await
        .unwrap();
    server::on_pool!(&pool, |db| {
        sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 1")
            .bind(vec![0_u8])
            .execute(db)
            .await
            .unwrap();
    });
    pool.close().await;

    let result = server::startup::Application::build(settings(dir.path(), None)).await;
    let message = result.err().expect("startup must fail").to_string();
    assert!(message.contains("migration failed"), "{message}");
}
