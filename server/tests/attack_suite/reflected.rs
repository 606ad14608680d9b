//! Hostile URL parameters that pages echo back (the endpoint filters, the import outcome, the
//! sign-in page's `next` and `error`, path segments) render inert, and sign-in never
//! redirects off the console.
//!
//! Already covered: `safe_next` case by case (`api::auth` unit tests), a safe `next` through a
//! plain-form sign-in (`web_auth.rs`).

use crate::html;
use crate::support::{browser, TestApp, ADMIN_PASSWORD};

const PAYLOADS: &[&str] = &[
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "</title></textarea><svg onload=alert(1)>",
    "javascript:alert(1)",
    "//evil.example/",
];

/// Pages and the parameters they echo, `{}` standing for the payload.
const PAGES: &[&str] = &[
    "/endpoints?q={}",
    "/endpoints?q=x&risk={}&profile={}&source={}&onboarding={}&sort={}&dir={}&page={}",
    "/endpoints/import?error={}",
    "/endpoints/import?observations={}&added={}&updated={}&skipped={}",
    "/login?next={}&error={}",
    "/endpoints/{}",
    "/configuration/{}",
];

/// Percent-encodes every byte but letters and digits, so a payload stays one path segment.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn echoed_parameters_render_inert() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let get = |path: String| {
        let admin = admin.clone();
        let url = app.url(&path);
        async move { admin.get(url).send().await.unwrap().text().await.unwrap() }
    };
    for page in PAGES {
        let benign = get(page.replace("{}", "benign")).await;
        for payload in PAYLOADS {
            let path = page.replace("{}", &encode(payload));
            let html = get(path.clone()).await;
            html::assert_no_injection(&path, &html, &benign);
            if payload.contains('<') {
                assert!(!html.contains(payload), "{path}: echoed raw");
            }
            // The import outcome does show the text it was given, as text.
            if page.starts_with("/endpoints/import?error=") {
                assert!(html.contains(&html::escaped_text(payload)), "{path}");
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn sign_in_redirects_only_within_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let nexts = [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "/api/auth/logout",
    ];
    for next in nexts {
        for password in ["wrong-password", ADMIN_PASSWORD] {
            let res = browser()
                .post(app.url("/api/auth/login"))
                .header("Accept", "text/html")
                .form(&[
                    ("username", "admin"),
                    ("password", password),
                    ("next", next),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 302, "{next}");
            let location = res.headers()["location"].to_str().unwrap();
            let expected = if password == ADMIN_PASSWORD {
                "/"
            } else {
                "/login?error=invalid&next=/"
            };
            assert_eq!(location, expected, "next={next}");
        }
    }
    app.stop().await;
}
