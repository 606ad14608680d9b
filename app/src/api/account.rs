//! The signed-in user's own account: their password and their sessions. Any role.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::secret_text::SecretText;
use crate::model::session::SessionView;

/// Where a successful change lands: the account page, which says so.
pub const PASSWORD_CHANGED_PATH: &str = "/account?changed=password";

/// Needs the current password. The one call allowed while the password must be changed.
/// Ends the user's other sessions; this one stays signed in.
#[server(endpoint = "account/change_password")]
pub async fn change_password(
    current_password: SecretText,
    new_password: SecretText,
    new_password_again: SecretText,
) -> Result<(), ConsoleError> {
    use crate::api::guard::{is_plain_form_post, reject, require_signed_in};
    use crate::backend::PasswordChange;

    let (backend, actor, session_id) = require_signed_in().await?;
    let change = PasswordChange {
        current: current_password,
        new: new_password,
        repeated: new_password_again,
    };
    backend
        .change_own_password(&actor, &session_id, change)
        .await
        .map_err(reject)?;
    // With JavaScript the page reloads itself (the shell must learn the change is done).
    if is_plain_form_post() {
        leptos_axum::redirect(PASSWORD_CHANGED_PATH);
    }
    Ok(())
}

#[server(endpoint = "account/sessions/list")]
pub async fn list_sessions() -> Result<Vec<SessionView>, ConsoleError> {
    use crate::api::guard::{reject, require, session_id};
    use crate::model::user::Capability;

    let (backend, viewer) = require(Capability::Read).await?;
    let session_id = session_id().await?;
    backend
        .list_sessions(&viewer, &session_id)
        .await
        .map_err(reject)
}

/// Ends one of the user's own sessions (another browser, a forgotten device).
#[server(endpoint = "account/sessions/end")]
pub async fn end_session(id: i64) -> Result<(), ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, actor) = require(Capability::Read).await?;
    backend.end_own_session(&actor, id).await.map_err(reject)
}

/// Sign out everywhere: every session of the user ends, this one included.
#[server(endpoint = "account/sessions/end_all")]
pub async fn end_all_sessions() -> Result<(), ConsoleError> {
    use crate::api::guard::{reject, require, session};

    let (backend, actor) = require(crate::model::user::Capability::Read).await?;
    backend.end_all_sessions(&actor).await.map_err(reject)?;
    if let Err(e) = session().await?.flush().await {
        tracing::warn!(error = %e, "could not clear the ended session");
    }
    leptos_axum::redirect("/login");
    Ok(())
}
