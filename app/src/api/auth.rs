//! Sign-in, sign-out and "who am I".
//!
//! Login and logout are plain HTML form posts so they work before hydration and without
//! JavaScript; the server answers them with redirects.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::secret_text::SecretText;
use crate::model::user::UserDto;

/// Where to go after login: a parsed, normalised local path, so the parameter cannot send a
/// user elsewhere. Browsers drop tabs and newlines from URLs and read `\` as `/`, so
/// `/\t/evil.example` would become `//evil.example`: anything but plain URL characters, and
/// any encoded slash or backslash, gives `/` rather than a repaired guess.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or_else(|| "/".to_owned())
}

fn local_path(next: &str) -> Option<String> {
    let url_char = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?%#".contains(c);
    // "//host/…" names another host (a scheme-relative URL), not a path.
    if !next.starts_with('/') || next.starts_with("//") || !next.chars().all(url_char) {
        return None;
    }
    let lower = next.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || has_encoded_control(&lower) {
        return None;
    }
    let (path, rest) = match next.find(['?', '#']) {
        Some(i) => next.split_at(i),
        None => (next, ""),
    };
    let path = normalise(path);
    // Still "//…" after normalising would name another host; API routes are no page.
    if path.starts_with("//") || path == "/api" || path.starts_with("/api/") {
        return None;
    }
    Some(format!("{path}{rest}"))
}

/// `%00`–`%1f` and `%7f`: control characters a server or browser might decode later.
fn has_encoded_control(lower: &str) -> bool {
    lower.match_indices('%').any(|(i, _)| {
        let hex = lower.get(i + 1..i + 3).unwrap_or("");
        matches!(hex.as_bytes(), [b'0' | b'1', _]) || hex == "7f"
    })
}

/// Removes `.` and `..` segments and empty segments (`//`), as a browser resolving the path
/// would, so the answer is the path the browser ends up at.
fn normalise(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let trailing = path.ends_with('/') && !segments.is_empty();
    let mut out = format!("/{}", segments.join("/"));
    if trailing {
        out.push('/');
    }
    out
}

#[server(endpoint = "auth/login")]
pub async fn login(
    username: String,
    password: SecretText,
    next: Option<String>,
) -> Result<(), ConsoleError> {
    use crate::api::guard::{backend, is_plain_form_post, reject, start_session};

    let backend = backend()?;
    let client = leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .await
        .map(|info| info.0.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let next = safe_next(next.as_deref());
    match backend
        .authenticate(username.trim(), password.expose(), client)
        .await
    {
        Ok(user) => {
            start_session(&backend, &user, client).await?;
            let _ = backend.audit(&user.username, "login", "").await;
            leptos_axum::redirect(&next);
            Ok(())
        }
        Err(err) => {
            let err = reject(err);
            if is_plain_form_post() {
                let code = match err {
                    ConsoleError::RateLimited { .. } => "throttled",
                    ConsoleError::InvalidCredentials => "invalid",
                    _ => "failed",
                };
                let target = format!("/login?error={code}&next={}", encode_component(&next));
                leptos_axum::redirect(&target);
            }
            Err(err)
        }
    }
}

#[server(endpoint = "auth/logout")]
pub async fn logout() -> Result<(), ConsoleError> {
    use crate::api::guard::{backend, current_user, reject, session};

    let user = current_user().await?;
    let session = session().await?;
    if let Some(id) = session.id() {
        backend()?
            .end_session(&id.to_string())
            .await
            .map_err(reject)?;
    }
    // flush() deletes the record in the store too, so the old cookie is dead server-side.
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "could not end the session");
        return Err(reject(ConsoleError::Internal {
            incident: "session-store".into(),
        }));
    }
    if let Some(user) = user {
        let _ = backend()?.audit(&user.username, "logout", "").await;
    }
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user, or `None` for an anonymous visitor (not an error: the shell asks).
#[server(endpoint = "auth/me")]
pub async fn me() -> Result<Option<UserDto>, ConsoleError> {
    crate::api::guard::current_user().await
}

/// Percent-encodes a query component (only what a local path can contain needs it).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_accepts_only_local_paths() {
        let cases = [
            (None, "/"),
            (Some("/endpoints"), "/endpoints"),
            (
                Some("/configuration/integrations?x=1"),
                "/configuration/integrations?x=1",
            ),
            (Some("/endpoints/7#risk"), "/endpoints/7#risk"),
            (Some("//evil.example/"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("/api/auth/logout"), "/"),
            (Some("/api"), "/"),
            (Some(""), "/"),
            // Browsers drop tabs and newlines, leaving "//evil.example".
            (Some("/\t/evil.example"), "/"),
            (Some("/\n/evil.example"), "/"),
            (Some("/\r\nSet-Cookie:x=1"), "/"),
            (Some("/ /evil.example"), "/"),
            // Encoded slashes, backslashes and controls.
            (Some("/%2F/evil.example"), "/"),
            (Some("/%2f%2fevil.example"), "/"),
            (Some("/%5Cevil.example"), "/"),
            (Some("/%09/evil.example"), "/"),
            (Some("/x%0d%0aSet-Cookie:x=1"), "/"),
            (Some("/x%7f"), "/"),
            // Dot segments and doubled slashes are resolved as the browser would.
            (Some("/./endpoints"), "/endpoints"),
            (Some("/a/../endpoints"), "/endpoints"),
            (Some("/..//evil.example"), "/evil.example"),
            (Some("/endpoints//7"), "/endpoints/7"),
            (Some("/x/../api/auth/logout"), "/"),
            (Some("/endpoints/"), "/endpoints/"),
            (Some("/%20x"), "/%20x"),
            (Some("/\u{e9}"), "/"),
        ];
        for (input, expected) in cases {
            assert_eq!(safe_next(input), expected, "{input:?}");
        }
    }

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(encode_component("/a b?c=d&e"), "/a%20b%3Fc%3Dd%26e");
    }
}
