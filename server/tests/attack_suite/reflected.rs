//! Hostile URL parameters that pages echo back (the endpoint filters, the sign-in page's `next`
//! and `error`, path segments) render inert, the import page says only what an upload of
//! this session did (never what its link says), and sign-in never redirects off the console.
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
    "/endpoints?group={}&tag={}",
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
            // The import outcome comes from the session, so a link cannot put words in it.
            if page.starts_with("/endpoints/import?") {
                assert!(!html.contains(&html::escaped_text(payload)), "{path}");
                assert!(!html.contains("import-error") && !html.contains("import-result"));
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
        // Browsers drop the tab and the newline and land on //evil.example.
        "/\t/evil.example",
        "/\n/evil.example",
        "/%2F/evil.example",
        "/%5cevil.example",
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

#[tokio::test]
async fn the_import_page_shows_an_upload_outcome_once_from_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let upload = |body: &'static str| {
        let part = reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name("scan.xml");
        admin
            .post(app.url("/api/endpoints/import"))
            .header("Accept", "text/html")
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
    };
    let page = || async {
        let res = admin
            .get(app.url("/endpoints/import"))
            .send()
            .await
            .unwrap();
        res.text().await.unwrap()
    };

    let res = upload("not xml at all").await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/endpoints/import",
        "nothing in the URL"
    );
    let shown = page().await;
    assert!(shown.contains("data-testid=\"import-error\""), "{shown}");
    assert!(shown.contains("Nothing was imported."));
    let again = page().await;
    assert!(!again.contains("import-error"), "shown once");

    let scan = "<?xml version=\"1.0\"?>\n<nmaprun><host><status state=\"up\"/>\
        <address addr=\"10.9.8.7\" addrtype=\"ipv4\"/>\
        <address addr=\"02:00:00:00:00:01\" addrtype=\"mac\"/></host></nmaprun>";
    let res = upload(scan).await.unwrap();
    assert_eq!(res.headers()["location"], "/endpoints/import");
    let shown = page().await;
    assert!(
        shown.contains("Imported 1 hosts: 1 new endpoints, 0 updated"),
        "{shown}"
    );
    // Another signed-in browser has no outcome to see.
    let other = app.admin().await;
    let theirs = other
        .get(app.url("/endpoints/import"))
        .send()
        .await
        .unwrap();
    assert!(!theirs.text().await.unwrap().contains("import-result"));
    app.stop().await;
}
