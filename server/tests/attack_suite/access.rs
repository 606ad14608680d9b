//! Every server fn, plain HTTP route and page, enumerated from the registries the server
//! mounts them from (the server fn inventory, `web::routes::plain_routes`, the Leptos route
//! list) and classified here. A new one without a classification fails the suite, and then:
//! anonymous callers get 401 (pages: a redirect to sign-in), an Analyst gets 403 on everything
//! that changes state or is for Administrators (an Operator on the latter), a user who must
//! change their password gets 403 on everything but that change (pages: a redirect to it),
//! and a cross-site POST is refused on every route that takes one.
//!
//! Already covered, and not repeated: `web_auth.rs` (users/* by role, the Origin and
//! Sec-Fetch-Site checks on two fns, the login redirect of one page), `api_tokens.rs`
//! (sensors/tokens/* by role), `endpoints_view.rs` (the export anonymous, the import as an
//! Analyst), `web::origin` unit tests (the header rules case by case).

use std::collections::BTreeSet;

use reqwest::{Client, Method, Response};
use serde_json::Value;

use crate::support::{browser, TestApp};

/// Who may call, the least role that may.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Who {
    /// Signed in or not: signing in and out, asking who one is, probes, the login page.
    Anyone,
    /// Any signed-in role.
    SignedIn,
    /// Any signed-in role, acting on their own account only (their password, their
    /// sessions): the change is refused by the route's own checks when it is not theirs.
    OwnAccount,
    /// Operators and Administrators.
    Operator,
    Administrator,
    /// A sensor API token; a session is not enough.
    SensorToken,
}

/// How a route is called in this suite: arguments that pass deserialisation, so that what
/// answers is the handler's own check.
#[derive(Clone, Copy, Debug)]
enum Body {
    None,
    /// URL query parameters (a GET that needs some to answer 200 or 404).
    Query(&'static [(&'static str, &'static str)]),
    Form(&'static [(&'static str, &'static str)]),
    /// A multipart upload of a small valid nmap report.
    NmapUpload,
    /// A small valid sensor batch.
    SensorJson,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Route {
    pub(crate) path: &'static str,
    pub(crate) who: Who,
    mutating: bool,
    body: Body,
}

const fn route(path: &'static str, who: Who, mutating: bool, body: Body) -> Route {
    Route {
        path,
        who,
        mutating,
        body,
    }
}

const DEFENDER_FORM: &[(&str, &str)] = &[
    ("tenant_id", "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5"),
    ("client_id", "0c6b8f2e-5d4a-4b3c-9e1f-a2b3c4d5e6f7"),
    ("client_secret", "attack-suite-secret"),
    ("cloud", "commercial"),
    ("custom_login_url", "http://127.0.0.1:9/"),
    ("custom_api_url", "http://127.0.0.1:9/"),
    ("enabled", "on"),
];

const LIST_QUERY: &[(&str, &str)] = &crate::support::endpoint_list_form("", "50");

const VULNERABILITY_QUERY: &[(&str, &str)] = &[
    ("query[q]", ""),
    ("query[severity]", ""),
    ("query[exploit]", ""),
    ("query[cve]", ""),
    ("query[group]", ""),
    ("query[sort]", ""),
    ("query[dir]", "desc"),
    ("query[page]", "1"),
    ("query[page_size]", "50"),
];

const SOFTWARE_QUERY: &[(&str, &str)] = &[
    ("query[q]", ""),
    ("query[software]", ""),
    ("query[group]", ""),
    ("query[sort]", ""),
    ("query[dir]", "desc"),
    ("query[page]", "1"),
    ("query[page_size]", "50"),
];

/// Every server fn, by its path under `/api/`.
const SERVER_FNS: &[Route] = &[
    route(
        "/api/auth/login",
        Who::Anyone,
        true,
        Body::Form(&[("username", "nobody"), ("password", "not-a-password")]),
    ),
    route("/api/auth/logout", Who::Anyone, true, Body::None),
    route("/api/auth/me", Who::Anyone, false, Body::None),
    route("/api/users/list", Who::Administrator, false, Body::None),
    route(
        "/api/users/create",
        Who::Administrator,
        true,
        Body::Form(&[
            ("username", "planted"),
            ("password", "a-long-enough-password"),
            ("role", "Administrator"),
        ]),
    ),
    route(
        "/api/users/get",
        Who::Administrator,
        false,
        Body::Form(&[("id", "1")]),
    ),
    route(
        "/api/users/disable",
        Who::Administrator,
        true,
        Body::Form(&[("id", "1")]),
    ),
    route(
        "/api/users/enable",
        Who::Administrator,
        true,
        Body::Form(&[("id", "1")]),
    ),
    route(
        "/api/users/set_role",
        Who::Administrator,
        true,
        Body::Form(&[("id", "1"), ("role", "Analyst")]),
    ),
    route(
        "/api/users/reset_password",
        Who::Administrator,
        true,
        Body::Form(&[("id", "1"), ("password", "a-long-enough-password")]),
    ),
    route(
        "/api/users/delete",
        Who::Administrator,
        true,
        Body::Form(&[("id", "1"), ("confirm", "admin")]),
    ),
    // A wrong current password: refused with 422 even for the right account.
    route(
        "/api/account/change_password",
        Who::OwnAccount,
        true,
        Body::Form(&[
            ("current_password", "not-the-password"),
            ("new_password", "a-long-enough-password"),
            ("new_password_again", "a-long-enough-password"),
        ]),
    ),
    route(
        "/api/account/sessions/list",
        Who::SignedIn,
        false,
        Body::None,
    ),
    // Nobody's session: ids count from 1.
    route(
        "/api/account/sessions/end",
        Who::OwnAccount,
        true,
        Body::Form(&[("id", "999999")]),
    ),
    route(
        "/api/account/sessions/end_all",
        Who::OwnAccount,
        true,
        Body::None,
    ),
    route("/api/audit/list", Who::Administrator, false, Body::None),
    route(
        "/api/identity/split",
        Who::Administrator,
        true,
        Body::Form(&[
            ("endpoint_id", "1"),
            ("machine_id", "0000000000000000000000000000000000000000"),
            ("reason", "planted"),
        ]),
    ),
    route(
        "/api/identity/undo_split",
        Who::Administrator,
        true,
        Body::Form(&[("split_id", "1")]),
    ),
    route("/api/integrations/list", Who::SignedIn, false, Body::None),
    route(
        "/api/integrations/defender/get",
        Who::SignedIn,
        false,
        Body::None,
    ),
    route(
        "/api/integrations/defender/save",
        Who::Operator,
        true,
        Body::Form(DEFENDER_FORM),
    ),
    // Test Connection saves nothing, but it makes the server call out with the form's values,
    // so it is an Operator's action like Save.
    route(
        "/api/integrations/defender/test",
        Who::Operator,
        true,
        Body::Form(DEFENDER_FORM),
    ),
    // The report a plain-form Test Connection left in the caller's own session.
    route(
        "/api/integrations/defender/posted_test",
        Who::SignedIn,
        false,
        Body::None,
    ),
    route(
        "/api/endpoints/list",
        Who::SignedIn,
        false,
        Body::Form(LIST_QUERY),
    ),
    route(
        "/api/vulnerabilities/list",
        Who::SignedIn,
        false,
        Body::Form(VULNERABILITY_QUERY),
    ),
    route(
        "/api/software/list",
        Who::SignedIn,
        false,
        Body::Form(SOFTWARE_QUERY),
    ),
    route(
        "/api/endpoints/get",
        Who::SignedIn,
        false,
        Body::Form(&[("id", "1")]),
    ),
    route(
        "/api/endpoints/import_outcome",
        Who::SignedIn,
        false,
        Body::None,
    ),
    route("/api/dashboard/get", Who::SignedIn, false, Body::None),
    route("/api/sync/journal", Who::SignedIn, false, Body::None),
    route("/api/sync/now", Who::Operator, true, Body::None),
    route("/api/profiles/list", Who::SignedIn, false, Body::None),
    route("/api/profiles/remodel", Who::Operator, true, Body::None),
    route(
        "/api/profiles/remodel_progress",
        Who::SignedIn,
        false,
        Body::None,
    ),
    route(
        "/api/actions/for_endpoint",
        Who::SignedIn,
        false,
        Body::Form(&[("endpoint_id", "1")]),
    ),
    route(
        "/api/actions/submit",
        Who::Operator,
        true,
        Body::Form(&[
            ("endpoint_id", "1"),
            ("kind", "RunAntiVirusScan"),
            ("scope", "Quick"),
            ("comment", "planted"),
            ("confirm", ""),
            ("request_key", "attack-suite"),
        ]),
    ),
    route(
        "/api/actions/cancel",
        Who::Operator,
        true,
        Body::Form(&[("action_id", "1"), ("comment", "planted")]),
    ),
    route(
        "/api/sensors/tokens/list",
        Who::Administrator,
        false,
        Body::None,
    ),
    route(
        "/api/sensors/tokens/create",
        Who::Administrator,
        true,
        Body::Form(&[("name", "planted")]),
    ),
    route(
        "/api/sensors/tokens/revoke",
        Who::Administrator,
        true,
        Body::Form(&[("id", "1")]),
    ),
];

/// Every route outside Leptos.
const PLAIN_ROUTES: &[Route] = &[
    route("/healthz", Who::Anyone, false, Body::None),
    route("/readyz", Who::Anyone, false, Body::None),
    route(
        "/api/endpoints/export.csv",
        Who::SignedIn,
        false,
        Body::None,
    ),
    route(
        "/api/vulnerabilities/export.csv",
        Who::SignedIn,
        false,
        Body::Query(&[("cve", "CVE-2024-0001")]),
    ),
    route(
        "/api/software/export.csv",
        Who::SignedIn,
        false,
        Body::Query(&[("software", "mozilla-_-firefox")]),
    ),
    route("/api/sync/events", Who::SignedIn, false, Body::None),
    route(
        "/api/endpoints/import",
        Who::Operator,
        true,
        Body::NmapUpload,
    ),
    route(
        "/api/ingest/sensor",
        Who::SensorToken,
        true,
        Body::SensorJson,
    ),
];

/// Every page (Leptos route paths, parameters as axum writes them).
pub(crate) const PAGES: &[(&str, Who)] = &[
    ("/login", Who::Anyone),
    ("/", Who::SignedIn),
    ("/endpoints", Who::SignedIn),
    // The page is a plain upload form for anyone signed in; the upload route is guarded.
    ("/endpoints/import", Who::SignedIn),
    ("/endpoints/{id}", Who::SignedIn),
    ("/vulnerabilities", Who::SignedIn),
    ("/software", Who::SignedIn),
    ("/configuration/profiles", Who::SignedIn),
    ("/configuration/integrations", Who::SignedIn),
    (
        "/configuration/integrations/microsoft-defender",
        Who::SignedIn,
    ),
    ("/configuration/sensors", Who::Administrator),
    ("/configuration/users", Who::Administrator),
    ("/configuration/users/{id}", Who::Administrator),
    ("/configuration/audit-log", Who::Administrator),
    ("/account", Who::SignedIn),
    ("/account/password", Who::SignedIn),
];

/// What a user who must change their password may still call: the change itself (besides
/// what anyone may).
pub(crate) const WHILE_PASSWORD_CHANGE_PENDING: &[&str] = &["/api/account/change_password"];

/// Routes that end the caller's own session, which a sweep with one session must leave out.
const ENDS_THE_SESSION: &[&str] = &["/api/account/sessions/end_all"];

const NMAP: &str = "<?xml version=\"1.0\"?><nmaprun><host><status state=\"up\"/>\
    <address addr=\"192.0.2.1\" addrtype=\"ipv4\"/>\
    <address addr=\"02:00:00:00:00:01\" addrtype=\"mac\"/></host></nmaprun>";
const SENSOR: &str = r#"{"sensor": "s", "observations": [{"mac": "02:00:00:00:00:02"}]}"#;

fn request(app: &TestApp, client: &Client, method: Method, r: &Route) -> reqwest::RequestBuilder {
    let builder = client.request(method, app.url(r.path));
    match r.body {
        Body::None => builder,
        Body::Query(pairs) => builder.query(pairs),
        Body::Form(form) => builder.form(form),
        Body::NmapUpload => {
            let part = reqwest::multipart::Part::bytes(NMAP.as_bytes().to_vec()).file_name("a.xml");
            builder.multipart(reqwest::multipart::Form::new().part("file", part))
        }
        Body::SensorJson => builder.body(SENSOR),
    }
}

fn server_fn_method() -> Method {
    Method::POST
}

/// Plain routes answer one method each, as `plain_routes` declares it.
fn plain_method(path: &str) -> Method {
    server::web::routes::plain_routes()
        .into_iter()
        .find(|r| r.path == path)
        .map(|r| Method::from_bytes(r.method.as_str().as_bytes()).unwrap())
        .unwrap()
}

/// Every route with the method it is called with.
pub(crate) fn every_route() -> Vec<(Method, Route)> {
    SERVER_FNS
        .iter()
        .map(|r| (server_fn_method(), *r))
        .chain(PLAIN_ROUTES.iter().map(|r| (plain_method(r.path), *r)))
        .collect()
}

pub(crate) async fn send(app: &TestApp, client: &Client, method: Method, r: &Route) -> Response {
    request(app, client, method, r).send().await.unwrap()
}

/// Counts of what a refused call could have written.
async fn written(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "account",
        "api_token",
        "audit_log",
        "endpoint",
        "integration",
        "machine_action",
        "sync_run",
    ] {
        let n: i64 = server::on_pool!(&app.pool, |db| sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table}"
        ))
        .fetch_one(db)
        .await
        .unwrap());
        counts.push(n);
    }
    counts
}

/// Fails naming what is registered but not classified, and what is classified but gone.
fn assert_same<T: Ord + std::fmt::Debug>(
    what: &str,
    registered: BTreeSet<T>,
    classified: BTreeSet<T>,
) {
    let unclassified: Vec<&T> = registered.difference(&classified).collect();
    let gone: Vec<&T> = classified.difference(&registered).collect();
    assert!(
        unclassified.is_empty() && gone.is_empty(),
        "{what}: not classified here: {unclassified:?}; classified but not registered: {gone:?}"
    );
}

#[tokio::test]
async fn every_server_fn_route_and_page_is_classified() {
    let registered: BTreeSet<(String, String)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (path.to_owned(), method.to_string()))
        .collect();
    let classified: BTreeSet<(String, String)> = SERVER_FNS
        .iter()
        .map(|r| (r.path.to_owned(), server_fn_method().to_string()))
        .collect();
    assert_same("server fns (SERVER_FNS)", registered, classified);

    // Their methods are taken from the mounted list itself (see `plain_method`).
    let mounted: BTreeSet<&str> = server::web::routes::plain_routes()
        .iter()
        .map(|r| r.path)
        .collect();
    let classified: BTreeSet<&str> = PLAIN_ROUTES.iter().map(|r| r.path).collect();
    assert_same("plain routes (PLAIN_ROUTES)", mounted, classified);

    let pages: BTreeSet<String> = leptos_axum::generate_route_list(app::App)
        .iter()
        .map(|l| l.path().to_owned())
        .collect();
    let classified: BTreeSet<String> = PAGES.iter().map(|(p, _)| (*p).to_owned()).collect();
    assert_same("pages (PAGES)", pages, classified);

    // The cross-site guard only looks at state-changing methods: nothing that changes state
    // may answer GET.
    for (method, r) in every_route() {
        assert!(
            !(r.mutating && method == Method::GET),
            "{} changes state but answers GET",
            r.path
        );
        assert!(
            !(r.mutating && r.who == Who::SignedIn),
            "{} changes state but any role may call it",
            r.path
        );
    }
}

#[tokio::test]
async fn anonymous_callers_get_401_and_pages_send_them_to_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let anonymous = browser();
    let before = written(&app).await;
    for (method, r) in every_route() {
        if r.who == Who::Anyone {
            continue;
        }
        let res = send(&app, &anonymous, method.clone(), &r).await;
        assert_eq!(res.status(), 401, "{method} {}", r.path);
        if r.who != Who::SensorToken {
            assert_eq!(
                res.json::<Value>().await.unwrap(),
                Value::String("Unauthenticated".into()),
                "{}",
                r.path
            );
        }
    }
    assert_eq!(written(&app).await, before, "nothing was written");

    for (path, who) in PAGES {
        let path = path.replace("{id}", "1");
        let res = anonymous
            .get(app.url(&path))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        if *who == Who::Anyone {
            assert_eq!(res.status(), 200, "{path}");
            continue;
        }
        assert_eq!(res.status(), 303, "{path}");
        let location = res.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/login?next="), "{path}: {location}");
    }
    app.stop().await;
}

#[tokio::test]
async fn analysts_get_403_on_every_change_and_operators_on_administration() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let analyst = app.user_with_role("analyst-1", "Analyst").await;
    let operator = app.user_with_role("operator-1", "Operator").await;
    let before = written(&app).await;
    for (method, r) in every_route() {
        // Signing out would end the session the rest of the sweep needs.
        if r.who == Who::Anyone
            || r.path == "/api/sync/events"
            || ENDS_THE_SESSION.contains(&r.path)
        {
            continue;
        }
        let res = send(&app, &analyst, method.clone(), &r).await;
        let status = res.status().as_u16();
        match r.who {
            Who::Operator | Who::Administrator => {
                assert_eq!(status, 403, "analyst {method} {}", r.path);
                assert_eq!(
                    res.json::<Value>().await.unwrap(),
                    Value::String("Forbidden".into()),
                    "{}",
                    r.path
                );
            }
            // A session is not a sensor token.
            Who::SensorToken => assert_eq!(status, 401, "analyst {}", r.path),
            // Reads work (404 for an endpoint id that does not exist yet).
            Who::SignedIn => assert!(
                status == 200 || status == 404,
                "analyst {} got {status}",
                r.path
            ),
            // Let through to the route's own checks, which refuse what is not theirs.
            Who::OwnAccount => assert!(
                status == 404 || status == 422,
                "analyst {} got {status}",
                r.path
            ),
            Who::Anyone => unreachable!(),
        }
        if r.who == Who::Administrator {
            let res = send(&app, &operator, method.clone(), &r).await;
            assert_eq!(res.status(), 403, "operator {method} {}", r.path);
        }
    }
    // The event stream answers with its headers and then streams; its status is enough.
    let events = analyst
        .get(app.url("/api/sync/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    drop(events);
    assert_eq!(written(&app).await, before, "nothing was written");

    for (path, who) in PAGES {
        let path = path.replace("{id}", "1");
        let res = analyst.get(app.url(&path)).send().await.unwrap();
        let html = res.text().await.unwrap();
        let refused = html.contains("Your role does not allow this.");
        assert_eq!(
            refused,
            matches!(who, Who::Operator | Who::Administrator),
            "analyst on {path}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn cross_site_posts_are_refused_on_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let (_, token) = server::endpoints::create_api_token(&app.pool, "cross-site", "admin")
        .await
        .unwrap();
    let before = written(&app).await;
    let cross_site: [(&str, &str); 4] = [
        ("Origin", "http://evil.example"),
        ("Origin", "null"),
        ("Sec-Fetch-Site", "cross-site"),
        // Same host name, another port: another origin.
        ("Origin", "http://127.0.0.1:1"),
    ];
    let mut checked = 0;
    for (method, r) in every_route() {
        if method == Method::GET {
            continue;
        }
        for (header, value) in cross_site {
            let mut req = request(&app, &admin, method.clone(), &r).header(header, value);
            if r.who == Who::SensorToken {
                req = req.bearer_auth(&token);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 403, "{header}: {value} on {}", r.path);
            assert_eq!(
                res.json::<Value>().await.unwrap(),
                Value::String("CrossSite".into()),
                "{}",
                r.path
            );
            checked += 1;
        }
    }
    assert!(checked >= 4 * SERVER_FNS.len());
    assert_eq!(written(&app).await, before, "nothing was written");
    // The admin's session survived every refused sign-out.
    let me: Value = app.call(&admin, "auth/me", &[]).await.json().await.unwrap();
    assert_eq!(me["username"], "admin");
    app.stop().await;
}

#[tokio::test]
async fn a_user_who_must_change_their_password_can_do_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    // An Administrator, so that what answers 403 is the pending change and not the role.
    let id = app.create_user(&admin, "held-admin", "Administrator").await;
    app.reset_password(&admin, id, "temporary-password-1").await;
    let held = app.signed_in("held-admin", "temporary-password-1").await;
    let before = written(&app).await;
    for (method, r) in every_route() {
        if r.who == Who::Anyone {
            continue;
        }
        let res = send(&app, &held, method.clone(), &r).await;
        let status = res.status().as_u16();
        if r.who == Who::SensorToken {
            assert_eq!(status, 401, "{}", r.path);
        } else if WHILE_PASSWORD_CHANGE_PENDING.contains(&r.path) {
            // Let through: the wrong current password is what answers.
            assert_eq!(status, 422, "{}", r.path);
        } else {
            assert_eq!(status, 403, "{method} {}", r.path);
            assert_eq!(
                res.json::<Value>().await.unwrap(),
                Value::String("PasswordChangeRequired".into()),
                "{}",
                r.path
            );
        }
    }
    assert_eq!(written(&app).await, before, "nothing was written");

    for (path, who) in PAGES {
        if *who == Who::Anyone {
            continue;
        }
        let path = path.replace("{id}", "1");
        let res = held
            .get(app.url(&path))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        if path == "/account/password" {
            assert_eq!(res.status(), 200, "{path}");
            assert!(res.text().await.unwrap().contains("Choose your own"));
            continue;
        }
        assert_eq!(res.status(), 302, "{path}");
        assert_eq!(res.headers()["location"], "/account/password", "{path}");
    }
    app.stop().await;
}
