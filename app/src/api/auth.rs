//! Sign-in, sign-out and "who am I".
//!
//! Login and logout are plain HTML form posts so they work before hydration and without
//! JavaScript; the server answers them with redirects.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::user::UserDto;

/// Where to go after login: only a local path, so the parameter cannot send a user elsewhere.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.starts_with("/api/") =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[server(endpoint = "auth/login")]
pub async fn login(
    username: String,
    password: String,
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
        .authenticate(username.trim(), &password, client)
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
            (Some("//evil.example/"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("/api/auth/logout"), "/"),
            (Some(""), "/"),
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
