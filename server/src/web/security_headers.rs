//! The security headers every response carries, and the per-response script nonce.
//!
//! The page's only inline script is Leptos's hydration bootstrap (plus the resource data it
//! serialises), so the policy allows scripts from this origin and those carrying this
//! response's nonce, and wasm compilation (`wasm-unsafe-eval`), never `unsafe-inline`:
//! markup injected through a Defender string cannot run. The nonce is made here, before
//! rendering, and handed to Leptos through the request (see `render_nonce`), so the header and
//! the `<script nonce>` attributes always agree.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use rand::RngCore;

/// Whether the console is reached over https, which decides HSTS.
#[derive(Clone, Debug, Default)]
pub struct HeaderPolicy {
    pub https: bool,
}

impl HeaderPolicy {
    pub fn from_public_url(public_url: Option<&str>) -> Self {
        Self {
            https: public_url.is_some_and(|u| u.to_ascii_lowercase().starts_with("https://")),
        }
    }
}

/// This response's script nonce, in the request's extensions for the renderer.
#[derive(Clone, Debug)]
pub struct ScriptNonce(pub Arc<str>);

impl ScriptNonce {
    /// 128 random bits, base64url: what CSP asks of a nonce.
    fn fresh() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Self(encoded.into())
    }
}

/// The Content-Security-Policy for one response.
pub fn content_security_policy(nonce: &str) -> String {
    [
        "default-src 'self'".to_owned(),
        format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        "style-src 'self'".to_owned(),
        "img-src 'self' data:".to_owned(),
        "connect-src 'self'".to_owned(),
        "object-src 'none'".to_owned(),
        "base-uri 'none'".to_owned(),
        "form-action 'self'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
    ]
    .join("; ")
}

/// One year, with subdomains: the console's host is meant for https only once it says so.
const HSTS: &str = "max-age=31536000; includeSubDomains";

pub async fn add(State(policy): State<HeaderPolicy>, mut req: Request, next: Next) -> Response {
    let nonce = ScriptNonce::fresh();
    req.extensions_mut().insert(nonce.clone());
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    let csp = HeaderValue::from_str(&content_security_policy(&nonce.0))
        .expect("the policy is plain ASCII");
    headers.insert(CONTENT_SECURITY_POLICY, csp);
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // For browsers without CSP level 2; `frame-ancestors` above is the real rule.
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin` rather than `no-referrer`: no other site (the Defender portal, a link in
    // an alert) ever learns a console URL, while a form posted without JavaScript still tells
    // its server fn which page to return to (leptos_axum redirects back by the Referer).
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if policy.https {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    res
}

/// Hands this request's nonce to Leptos, replacing the one it made up, so the hydration
/// scripts carry the nonce the header names. Called in the render context.
pub fn render_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ScriptNonce>().cloned());
    if let Some(ScriptNonce(value)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_no_inline_script_but_the_nonce() {
        let csp = content_security_policy("abc");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn nonces_are_fresh_and_128_bits() {
        let (a, b) = (ScriptNonce::fresh(), ScriptNonce::fresh());
        assert_ne!(a.0, b.0);
        assert_eq!(a.0.len(), 22);
    }

    #[test]
    fn hsts_only_for_https() {
        assert!(HeaderPolicy::from_public_url(Some("https://ea.example")).https);
        assert!(!HeaderPolicy::from_public_url(Some("http://ea.example")).https);
        assert!(!HeaderPolicy::from_public_url(None).https);
    }
}
