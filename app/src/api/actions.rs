//! Machine actions on an endpoint: the panel's state and history, and sending an action.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::action::{ActionOutcome, EndpointActions};

/// `machine_id` empty: the machine that represents the endpoint.
#[server(endpoint = "actions/for_endpoint")]
pub async fn get_endpoint_actions(
    endpoint_id: i64,
    #[server(default)] machine_id: String,
) -> Result<EndpointActions, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, user) = require(Capability::Read).await?;
    let machine_id = Some(machine_id).filter(|m| !m.is_empty());
    backend
        .endpoint_actions(&user, endpoint_id, machine_id)
        .await
        .map_err(reject)
}

/// Flat arguments, so the form also posts without JavaScript. `request_key` makes a double
/// click or a resent form return the first submission instead of sending again.
#[server(endpoint = "actions/submit")]
pub async fn submit_action(
    endpoint_id: i64,
    #[server(default)] machine_id: String,
    kind: String,
    #[server(default)] scope: String,
    #[server(default)] comment: String,
    #[server(default)] confirm: String,
    request_key: String,
) -> Result<ActionOutcome, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::backend::ActionRequest;
    use crate::model::action::ActionKind;
    use crate::model::user::Capability;

    let (backend, user) = require(Capability::Operate).await?;
    let kind = ActionKind::parse(&kind)
        .ok_or_else(|| reject(ConsoleError::validation("kind", "Unknown action.")))?;
    let request = ActionRequest {
        endpoint_id,
        machine_id,
        kind,
        scope,
        comment,
        confirm,
        request_key,
    };
    backend.submit_action(&user, request).await.map_err(reject)
}

/// Cancels an action that has not finished (Defender refuses once it has).
#[server(endpoint = "actions/cancel")]
pub async fn cancel_action(
    action_id: i64,
    #[server(default)] comment: String,
) -> Result<ActionOutcome, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, user) = require(Capability::Operate).await?;
    backend
        .cancel_action(&user, action_id, comment)
        .await
        .map_err(reject)
}
