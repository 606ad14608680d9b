//! Account management: Administrators only.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::user::UserDto;

#[server(endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<UserDto>, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::ManageUsers).await?;
    backend.list_users().await.map_err(reject)
}

#[server(endpoint = "users/create")]
pub async fn create_user(
    username: String,
    password: String,
    role: String,
) -> Result<UserDto, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::{Capability, Role};

    let (backend, actor) = require(Capability::ManageUsers).await?;
    let role = Role::parse(&role)
        .ok_or_else(|| reject(ConsoleError::validation("role", "Choose a role.")))?;
    backend
        .create_user(&actor, username.trim(), &password, role)
        .await
        .map_err(reject)
}
