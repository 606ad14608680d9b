//! Every response carries the security headers: a Content-Security-Policy that lets no inline
//! script run but the one carrying this response's nonce, no framing, no MIME sniffing, no
//! referrer to another site, and HSTS once the console is reached over https. On a page, every `<script>`
//! carries exactly the header's nonce, and the nonce is new for each response.

use reqwest::header::HeaderMap;

use crate::access::{every_route, send};
use crate::html;
use crate::support::{browser, settings, tuning, TestApp, ADMIN_PASSWORD};

/// The nonce the policy names, after checking the rest of the policy and the other headers.
fn checked(what: &str, headers: &HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "same-origin", "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    let csp = header("content-security-policy");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains(" 'unsafe-eval'"),
        "{what}: {csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("object-src 'none'"), "{what}: {csp}");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("{what}: no script-src in {csp}"));
    let sources: Vec<&str> = script_src.split_whitespace().skip(1).collect();
    assert_eq!(sources.len(), 3, "{what}: {script_src}");
    assert_eq!((sources[0], sources[2]), ("'self'", "'wasm-unsafe-eval'"));
    sources[1]
        .strip_prefix("'nonce-")
        .and_then(|n| n.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{what}: {script_src}"))
        .to_owned()
}

#[tokio::test]
async fn every_route_and_page_carries_the_headers_and_scripts_carry_the_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let anonymous = browser();

    // Plain routes and server fns, answered or refused, signed in or not.
    for (method, r) in every_route() {
        for (who, client) in [("admin", &admin), ("anonymous", &anonymous)] {
            let res = send(&app, client, method.clone(), &r).await;
            let what = format!("{method} {} as {who} ({})", r.path, res.status());
            checked(&what, res.headers());
            assert!(
                !res.headers().contains_key("strict-transport-security"),
                "{what}: HSTS over plain http"
            );
        }
    }

    // Pages: each script tag carries this response's nonce, and no two responses share one.
    let mut nonces = std::collections::BTreeSet::new();
    for (path, client) in [
        ("/login", &anonymous),
        ("/", &admin),
        ("/endpoints", &admin),
        ("/configuration/integrations/microsoft-defender", &admin),
        ("/no-such-page", &admin),
        ("/", &admin),
    ] {
        let res = client.get(app.url(path)).send().await.unwrap();
        let nonce = checked(path, res.headers());
        assert!(nonces.insert(nonce.clone()), "{path}: nonce reused");
        let page = res.text().await.unwrap();
        let scripts: Vec<_> = html::tags(&page)
            .into_iter()
            .filter(|t| t.name == "script")
            .collect();
        assert!(!scripts.is_empty(), "{path}: the hydration script is there");
        for script in scripts {
            let carried = script
                .attributes
                .iter()
                .find(|(name, _)| name == "nonce")
                .map(|(_, value)| value.as_str());
            assert_eq!(carried, Some(nonce.as_str()), "{path}: {script:?}");
        }
    }

    // A static file too (the fallback serves the site root).
    let res = anonymous
        .get(app.url("/pkg/missing.js"))
        .send()
        .await
        .unwrap();
    checked("/pkg/missing.js", res.headers());
    app.stop().await;
}

#[tokio::test]
async fn hsts_once_the_public_url_is_https() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(dir.path(), Some(ADMIN_PASSWORD));
    settings.public_url = Some("https://ea.example".into());
    let app = TestApp::spawn_with(settings, tuning()).await;
    let res = browser().get(app.url("/login")).send().await.unwrap();
    checked("/login", res.headers());
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    app.stop().await;
}
