//! Session and role checks shared by every server fn, and the one place error statuses are set.

use leptos::prelude::*;
use tower_sessions::Session;

use crate::backend::{SessionStart, SharedBackend};
use crate::error::ConsoleError;
use crate::model::user::{Capability, UserDto};

/// Session key holding the signed-in account's id.
pub const USER_ID_KEY: &str = "user_id";

/// Sets the HTTP status that matches `err` and hands it back, so every failure path of every
/// server fn answers with the same status for the same error.
///
/// A redirect already decided for the request wins: when the shell sends a page's visitor to
/// sign in or to change their password, the page's own resources fail too, and whichever
/// finished last would otherwise set the status.
///
/// A form posted without JavaScript (a server fn asked for HTML) gets no error status: the
/// server fn sends it back to its page with the error in the URL, where the page's action
/// shows it, and a browser follows no redirect whose status says error.
pub fn reject(err: ConsoleError) -> ConsoleError {
    let status = if posted_form() {
        Ok(http::StatusCode::SEE_OTHER)
    } else {
        http::StatusCode::from_u16(err.status())
    };
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let (Ok(status), Ok(mut parts)) = (status, response.0.write()) {
            if !parts.status.is_some_and(|s| s.is_redirection()) {
                parts.status = Some(status);
            }
        }
    }
    err
}

/// Whether this request is a server fn called by a plain HTML form: one that accepts HTML,
/// which server_fn answers with a redirect back to the page (its `form-redirects`).
pub fn posted_form() -> bool {
    use_context::<http::request::Parts>().is_some_and(|req| {
        let html = req
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
        html && req.uri.path().starts_with("/api/")
    })
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
    session_user(&session, &backend()?).await.map_err(reject)
}

/// The account signed in on `session`, checked against the session registry on every
/// request: a session ended elsewhere (sign-out everywhere, a disabled account, a password
/// reset), idle too long or past its absolute limit is signed out here too. Activity moves
/// the idle deadline. Plain routes call this as well, so both kinds of request follow the
/// same rules.
pub async fn session_user(
    session: &Session,
    backend: &SharedBackend,
) -> Result<Option<UserDto>, ConsoleError> {
    let Ok(Some(user_id)) = session.get::<i64>(USER_ID_KEY).await else {
        return Ok(None);
    };
    // Known only once the record has loaded (above): an id the store did not know is gone.
    let Some(session_id) = session.id() else {
        return Ok(None);
    };
    match backend
        .session_user(&session_id.to_string(), user_id)
        .await?
    {
        Some(check) => {
            if check.extended {
                // Marks the session changed, so the session layer saves it with a new idle
                // deadline and sends the cookie again; only every so often, not on every
                // request, as the registry decides.
                session.set_expiry(session.expiry());
            }
            Ok(Some(check.user))
        }
        None => {
            // Drops the record and the cookie, so the browser stops sending a dead id.
            if let Err(e) = session.flush().await {
                tracing::warn!(error = %e, "could not clear an ended session");
            }
            Ok(None)
        }
    }
}

/// The one access rule: signed in, not held at the password change, and the role allows it.
pub fn authorise(user: Option<UserDto>, capability: Capability) -> Result<UserDto, ConsoleError> {
    let user = user.ok_or(ConsoleError::Unauthenticated)?;
    if user.must_change_password {
        return Err(ConsoleError::PasswordChangeRequired);
    }
    if !user.role.allows(capability) {
        return Err(ConsoleError::Forbidden);
    }
    Ok(user)
}

/// Checks the session and the role; 401 without a session, 403 without the capability or
/// while the password must be changed.
pub async fn require(capability: Capability) -> Result<(SharedBackend, UserDto), ConsoleError> {
    let user = authorise(current_user().await?, capability).map_err(reject)?;
    Ok((backend()?, user))
}

/// Signed in, even while the password must be changed: for changing it, and nothing else.
pub async fn require_signed_in() -> Result<(SharedBackend, UserDto, String), ConsoleError> {
    let session = session().await?;
    let backend = backend()?;
    let user = session_user(&session, &backend)
        .await
        .map_err(reject)?
        .ok_or_else(|| reject(ConsoleError::Unauthenticated))?;
    let session_id = session
        .id()
        .ok_or_else(|| reject(ConsoleError::Unauthenticated))?;
    Ok((backend, user, session_id.to_string()))
}

/// The session id of a request that passed [`require`].
pub async fn session_id() -> Result<String, ConsoleError> {
    session()
        .await?
        .id()
        .map(|id| id.to_string())
        .ok_or_else(|| reject(ConsoleError::Unauthenticated))
}

/// Signs `user` in on this request's session: a new id, so one planted before sign-in is
/// worth nothing after it, and a row in the session registry, without which the session
/// would not count as signed in.
pub async fn start_session(
    backend: &SharedBackend,
    user: &UserDto,
    client: std::net::IpAddr,
) -> Result<(), ConsoleError> {
    let session = session().await?;
    let replaces = session.id().map(|id| id.to_string());
    let stored = async {
        session.cycle_id().await?;
        session.insert(USER_ID_KEY, user.id).await?;
        // Saved now rather than after the response, so the new id is known here.
        session.save().await
    };
    if let Err(e) = stored.await {
        tracing::error!(error = %e, "could not store the session");
        return Err(reject(ConsoleError::Internal {
            incident: "session-store".into(),
        }));
    }
    let Some(session_id) = session.id() else {
        tracing::error!("a saved session has no id");
        return Err(reject(ConsoleError::Internal {
            incident: "session-store".into(),
        }));
    };
    let user_agent = use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    backend
        .start_session(SessionStart {
            replaces,
            session_id: session_id.to_string(),
            account_id: user.id,
            client: client.to_string(),
            user_agent,
        })
        .await
        .map_err(reject)
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
