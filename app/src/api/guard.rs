//! Session and role checks shared by every server fn, and the one place error statuses are set.

use leptos::prelude::*;
use tower_sessions::Session;

use crate::backend::SharedBackend;
use crate::error::ConsoleError;
use crate::model::user::{Capability, UserDto};

/// Session key holding the signed-in account's id.
pub const USER_ID_KEY: &str = "user_id";

/// Sets the HTTP status that matches `err` and hands it back, so every failure path of every
/// server fn answers with the same status for the same error.
pub fn reject(err: ConsoleError) -> ConsoleError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(err.status()) {
            response.set_status(status);
        }
    }
    err
}

pub fn backend() -> Result<SharedBackend, ConsoleError> {
    use_context::<SharedBackend>().ok_or_else(|| {
        tracing::error!("ConsoleBackend missing from the Leptos context");
        reject(ConsoleError::Internal {
            incident: "no-backend".into(),
        })
    })
}

pub async fn session() -> Result<Session, ConsoleError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "session layer missing");
        reject(ConsoleError::Internal {
            incident: "no-session".into(),
        })
    })
}

/// The signed-in user, if any; an unreadable session counts as signed out.
pub async fn current_user() -> Result<Option<UserDto>, ConsoleError> {
    let session = session().await?;
    let Ok(Some(user_id)) = session.get::<i64>(USER_ID_KEY).await else {
        return Ok(None);
    };
    backend()?.user(user_id).await.map_err(reject)
}

/// Checks the session and the role; 401 without a session, 403 without the capability.
pub async fn require(capability: Capability) -> Result<(SharedBackend, UserDto), ConsoleError> {
    let user = current_user()
        .await?
        .ok_or_else(|| reject(ConsoleError::Unauthenticated))?;
    if !user.role.allows(capability) {
        return Err(reject(ConsoleError::Forbidden));
    }
    Ok((backend()?, user))
}

/// True when the request is a plain HTML form post (no JavaScript), which wants a redirect
/// rather than a JSON body.
pub fn is_plain_form_post() -> bool {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|accept| accept.contains("text/html"))
        })
        .unwrap_or(false)
}
