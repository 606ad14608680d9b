//! Configuration > Sensors: the API tokens discovery sensors push with. Administrators only:
//! a token is a credential, so it is managed like an account.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::api_token::{ApiTokenView, NewApiToken};

#[server(endpoint = "sensors/tokens/list")]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenView>, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::ManageUsers).await?;
    backend.list_api_tokens().await.map_err(reject)
}

/// Creates a token and answers with its value, which the server cannot show again.
#[server(endpoint = "sensors/tokens/create")]
pub async fn create_api_token(name: String) -> Result<NewApiToken, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, actor) = require(Capability::ManageUsers).await?;
    backend
        .create_api_token(&actor, name.trim())
        .await
        .map_err(reject)
}

/// Revokes a token: the sensor ingest endpoint refuses it from then on.
#[server(endpoint = "sensors/tokens/revoke")]
pub async fn revoke_api_token(id: i64) -> Result<(), ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, actor) = require(Capability::ManageUsers).await?;
    backend.revoke_api_token(&actor, id).await.map_err(reject)
}
