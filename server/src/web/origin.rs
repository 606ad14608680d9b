//! Refuses state-changing requests that a browser sent on behalf of another site (CSRF).
//!
//! SameSite=Lax cookies already keep most cross-site posts anonymous; this check closes the
//! rest (same-site subdomains, older browsers) using the headers browsers always send.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::error::ConsoleError;

/// The origins a state-changing request may come from, besides the request's own host.
#[derive(Clone, Debug, Default)]
pub struct OriginPolicy {
    pub public_origin: Option<String>,
}

impl OriginPolicy {
    pub fn from_public_url(public_url: Option<&str>) -> Self {
        let public_origin = public_url.map(|u| {
            let after_scheme = u.find("://").map(|i| i + 3).unwrap_or(0);
            let end = u[after_scheme..]
                .find('/')
                .map(|i| after_scheme + i)
                .unwrap_or(u.len());
            u[..end].to_owned()
        });
        Self { public_origin }
    }

    /// Decides from the request headers alone; requests without browser headers (scripts,
    /// curl) carry no ambient cookies from a victim's browser and pass.
    pub fn allows(
        &self,
        sec_fetch_site: Option<&str>,
        origin: Option<&str>,
        host: Option<&str>,
    ) -> bool {
        match sec_fetch_site {
            Some("cross-site") => return false,
            // The browser's own word, which no page can forge; on a form post from a page
            // whose referrer policy is `no-referrer` it is the only sign left (the browser
            // then sends `Origin: null`).
            Some("same-origin") => return true,
            _ => {}
        }
        let Some(origin) = origin else {
            return true;
        };
        if self.public_origin.as_deref() == Some(origin) {
            return true;
        }
        let origin_host = origin.split_once("://").map(|(_, rest)| rest);
        matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
    }
}

pub async fn refuse_cross_site(
    State(policy): State<OriginPolicy>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    if policy.allows(
        text(header::HeaderName::from_static("sec-fetch-site")),
        text(header::ORIGIN),
        text(header::HOST),
    ) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
    let body = serde_json::to_string(&ConsoleError::CrossSite).unwrap_or_default();
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_cases() {
        let p = OriginPolicy::from_public_url(Some("https://ea.example.com/console"));
        assert_eq!(p.public_origin.as_deref(), Some("https://ea.example.com"));
        let host = Some("127.0.0.1:3000");
        let cases = [
            (None, None, true),
            (None, Some("http://127.0.0.1:3000"), true),
            (Some("same-origin"), Some("http://127.0.0.1:3000"), true),
            (Some("same-origin"), Some("null"), true),
            (Some("same-site"), Some("null"), false),
            (
                Some("same-site"),
                Some("https://other.ea.example.com"),
                false,
            ),
            (None, Some("https://ea.example.com"), true),
            (None, Some("http://evil.example"), false),
            (None, Some("null"), false),
            (None, Some("http://127.0.0.1:3001"), false),
            (Some("cross-site"), None, false),
        ];
        for (fetch_site, origin, allowed) in cases {
            assert_eq!(
                p.allows(fetch_site, origin, host),
                allowed,
                "{fetch_site:?} {origin:?}"
            );
        }
    }
}
