//! Account management: Administrators only.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::account::AccountView;
use crate::model::secret_text::SecretText;
use crate::model::user::UserDto;

#[server(endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<AccountView>, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::ManageUsers).await?;
    backend.list_users().await.map_err(reject)
}

#[server(endpoint = "users/create")]
pub async fn create_user(
    username: String,
    password: SecretText,
    role: String,
) -> Result<UserDto, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::{Capability, Role};

    let (backend, actor) = require(Capability::ManageUsers).await?;
    let role = Role::parse(&role)
        .ok_or_else(|| reject(ConsoleError::validation("role", "Choose a role.")))?;
    backend
        .create_user(&actor, username.trim(), password.expose(), role)
        .await
        .map_err(reject)
}

#[server(endpoint = "users/get")]
pub async fn get_user(id: i64) -> Result<AccountView, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::ManageUsers).await?;
    backend.get_user(id).await.map_err(reject)
}

/// The account can no longer sign in, and its sessions end at once.
#[server(endpoint = "users/disable")]
pub async fn disable_user(id: i64) -> Result<(), ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, actor) = require(Capability::ManageUsers).await?;
    backend.disable_user(&actor, id).await.map_err(reject)
}

#[server(endpoint = "users/enable")]
pub async fn enable_user(id: i64) -> Result<(), ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, actor) = require(Capability::ManageUsers).await?;
    backend.enable_user(&actor, id).await.map_err(reject)
}

/// Takes effect on the account's next request.
#[server(endpoint = "users/set_role")]
pub async fn set_user_role(id: i64, role: String) -> Result<(), ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::{Capability, Role};

    let (backend, actor) = require(Capability::ManageUsers).await?;
    let role = Role::parse(&role)
        .ok_or_else(|| reject(ConsoleError::validation("role", "Choose a role.")))?;
    backend
        .set_user_role(&actor, id, role)
        .await
        .map_err(reject)
}

/// A temporary password the user must replace at their next sign-in.
#[server(endpoint = "users/reset_password")]
pub async fn reset_user_password(id: i64, password: SecretText) -> Result<(), ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, actor) = require(Capability::ManageUsers).await?;
    backend
        .reset_password(&actor, id, password.expose())
        .await
        .map_err(reject)
}

/// `confirm` repeats the username, so a stray click (or a form resent without JavaScript)
/// deletes nothing.
#[server(endpoint = "users/delete")]
pub async fn delete_user(id: i64, confirm: String) -> Result<(), ConsoleError> {
    use crate::api::guard::{is_plain_form_post, reject, require};
    use crate::model::user::Capability;

    let (backend, actor) = require(Capability::ManageUsers).await?;
    backend
        .delete_user(&actor, id, confirm.trim())
        .await
        .map_err(reject)?;
    // The account's own page is gone; without JavaScript the browser would be sent back to it.
    if is_plain_form_post() {
        leptos_axum::redirect("/configuration/users");
    }
    Ok(())
}
