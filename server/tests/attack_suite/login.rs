//! Sign-in and sessions under attack: guessing slowed per account and per address whatever
//! the attacker varies, no hint whether an account exists, a session planted before sign-in
//! worth nothing after it, and a signed-out cookie dead on every route.
//!
//! Bursts: thirty simultaneous guesses at one account are judged only as far as the limit
//! (each attempt is counted before its password is hashed), and beyond the cap on password
//! checks in flight the answer is 429 without hashing; both kinds of refusal are audited.
//!
//! Already covered, and not repeated: five failures block an account and twenty an address,
//! even for the right password (`web_auth.rs`); an unknown planted session id is replaced at
//! sign-in and one route refuses the cookie after sign-out (`web_auth.rs`); the throttle's
//! window and reset rules (`auth::throttle` unit tests).

use std::net::{IpAddr, Ipv4Addr};

use reqwest::header::{HeaderMap, HeaderValue, COOKIE};
use reqwest::{Client, Method};
use serde_json::Value;

use server::auth::throttle::ThrottleLimits;
use server::startup::Tuning;

use crate::access::{every_route, send, Who, PAGES};
use crate::support::{settings, tuning, TestApp, ADMIN_PASSWORD};

/// A client calling from `127.0.0.<last>`: every 127/8 address is this machine's loopback.
fn from(last: u8) -> Client {
    Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A client that sends exactly this cookie and keeps no other.
fn with_cookie(cookie: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
    Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn login(
    app: &TestApp,
    client: &Client,
    username: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/api/auth/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// The `name=value` of the session cookie a response sets.
fn issued(res: &reqwest::Response) -> String {
    res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn guessing_is_slowed_per_account_and_per_address_whatever_else_varies() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;

    // Forwarding headers are the client's word, not its address: twenty failures with a
    // different claimed address each still block the one real address.
    let forged = [
        "X-Forwarded-For",
        "X-Real-IP",
        "Forwarded",
        "True-Client-IP",
        "CF-Connecting-IP",
    ];
    let sprayer = from(9);
    for i in 0..20u8 {
        let header = forged[usize::from(i) % forged.len()];
        let value = if header == "Forwarded" {
            format!("for=198.51.100.{i}")
        } else {
            format!("198.51.100.{i}")
        };
        let res = sprayer
            .post(app.url("/api/auth/login"))
            .header(header, value)
            .form(&[
                ("username", format!("spray{i}").as_str()),
                ("password", "guess-guess"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = login(&app, &sprayer, "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 429, "the spraying address is blocked");
    // Another address is not, and the account is not.
    assert_eq!(
        login(&app, &from(1), "admin", ADMIN_PASSWORD)
            .await
            .status(),
        200
    );

    // Guesses at one account from five addresses block it from a sixth.
    for last in 10..15 {
        let res = login(&app, &from(last), "admin", "guess-guess").await;
        assert_eq!(res.status(), 401);
    }
    assert_eq!(
        login(&app, &from(20), "admin", ADMIN_PASSWORD)
            .await
            .status(),
        429
    );
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_get_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let answer = |res: reqwest::Response| async move {
        let status = res.status();
        let set_cookie = res.headers().contains_key("set-cookie");
        (status, set_cookie, res.text().await.unwrap())
    };
    let wrong = answer(login(&app, &from(1), "admin", "not-the-password").await).await;
    let unknown = answer(login(&app, &from(1), "no-such-user", "not-the-password").await).await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.0, 401);
    app.stop().await;
}

#[tokio::test]
async fn a_session_planted_before_sign_in_is_worthless_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let res = app
        .call(
            &admin,
            "users/create",
            &[
                ("username", "attacker"),
                ("password", "a-long-enough-password"),
                ("role", "Analyst"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);

    // The attacker signs in and plants their own live session in the victim's browser.
    let planted = issued(&login(&app, &from(1), "attacker", "a-long-enough-password").await);
    let victim = with_cookie(&planted);
    let res = login(&app, &victim, "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 200);
    let fresh = issued(&res);
    assert_ne!(fresh, planted, "sign-in issues a new session id");

    // The planted id is gone: the attacker is signed out, not signed in as the victim.
    let attacker = with_cookie(&planted);
    let me: Value = app
        .call(&attacker, "auth/me", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me, Value::Null);
    assert_eq!(app.call(&attacker, "users/list", &[]).await.status(), 401);
    let me: Value = app
        .call(&with_cookie(&fresh), "auth/me", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");
    app.stop().await;
}

#[tokio::test]
async fn a_signed_out_cookie_is_refused_on_every_route_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let cookie = issued(&login(&app, &from(1), "admin", ADMIN_PASSWORD).await);
    let replay = with_cookie(&cookie);
    assert_eq!(app.call(&replay, "users/list", &[]).await.status(), 200);
    let res = app.call(&replay, "auth/logout", &[]).await;
    assert_eq!(res.status(), 200);

    for (method, r) in every_route() {
        if r.who == Who::Anyone {
            continue;
        }
        let res = send(&app, &replay, method.clone(), &r).await;
        assert_eq!(res.status(), 401, "{method} {} after sign-out", r.path);
    }
    for (path, who) in PAGES {
        if *who == Who::Anyone {
            continue;
        }
        let path = path.replace("{id}", "1");
        let res = replay
            .request(Method::GET, app.url(&path))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{path} after sign-out");
    }
    app.stop().await;
}

async fn spawn_with_limits(dir: &std::path::Path, limits: ThrottleLimits) -> TestApp {
    let tuning = Tuning {
        login_limits: limits,
        ..tuning()
    };
    TestApp::spawn_with(settings(dir, Some(ADMIN_PASSWORD)), tuning).await
}

/// Fires `count` sign-ins at once, attempt `i` from `127.0.0.<first_address + i>`, and returns
/// each answer's status.
async fn burst(app: &TestApp, count: u8, first_address: u8, username: &str) -> Vec<u16> {
    let attempts = (0..count).map(|i| {
        let client = from(first_address + i);
        let url = app.url("/api/auth/login");
        let username = username.to_owned();
        async move {
            client
                .post(url)
                .form(&[("username", username.as_str()), ("password", "guess-guess")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    futures::future::join_all(attempts).await
}

/// How many audit rows of `action` the log holds.
async fn audited(app: &TestApp, action: &str) -> i64 {
    server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = $1"
    )
    .bind(action)
    .fetch_one(db)
    .await
    .unwrap())
}

#[tokio::test]
async fn thirty_simultaneous_guesses_at_one_account_are_judged_five_times() {
    let dir = tempfile::tempdir().unwrap();
    // Enough hashing slots for all thirty, so only the per-account count can refuse.
    let app = spawn_with_limits(
        dir.path(),
        ThrottleLimits {
            concurrent_checks: 30,
            ..ThrottleLimits::default()
        },
    )
    .await;
    let statuses = burst(&app, 30, 100, "admin").await;
    let judged = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((judged, refused), (5, 25), "{statuses:?}");
    assert_eq!(audited(&app, "login.failed").await, 5);
    assert_eq!(audited(&app, "login.throttled").await, 25);
    // The right password is refused too until the window moves on.
    let res = login(&app, &from(1), "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 429);
    app.stop().await;
}

#[tokio::test]
async fn beyond_the_cap_on_password_checks_the_answer_is_429_without_hashing() {
    let dir = tempfile::tempdir().unwrap();
    // No slot at all: every sign-in is refused before hashing, whoever it names.
    let app = spawn_with_limits(
        dir.path(),
        ThrottleLimits {
            concurrent_checks: 0,
            ..ThrottleLimits::default()
        },
    )
    .await;
    let statuses = burst(&app, 30, 100, "admin").await;
    assert_eq!(statuses, vec![429; 30]);
    assert_eq!(audited(&app, "login.failed").await, 0);
    assert_eq!(audited(&app, "login.throttled").await, 30);
    // (That such refusals count as no failure is `auth::throttle`'s unit test.) A slot is
    // given back after each check: with one, sign-ins one after another all go through.
    app.stop().await;
    let app = spawn_with_limits(
        dir.path(),
        ThrottleLimits {
            concurrent_checks: 1,
            ..ThrottleLimits::default()
        },
    )
    .await;
    for last in [100, 101, 102] {
        let res = login(&app, &from(last), "admin", ADMIN_PASSWORD).await;
        assert_eq!(
            res.status(),
            200,
            "one slot serves sign-ins one after another"
        );
    }
    app.stop().await;
}
