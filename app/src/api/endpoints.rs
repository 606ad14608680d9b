//! The endpoint list, the Endpoint Summary and the dashboard.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::endpoint::{DashboardView, EndpointPage, EndpointQuery, EndpointSummary};

#[server(endpoint = "endpoints/list")]
pub async fn list_endpoints(query: EndpointQuery) -> Result<EndpointPage, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::Read).await?;
    backend.list_endpoints(query).await.map_err(reject)
}

#[server(endpoint = "endpoints/get")]
pub async fn get_endpoint(id: i64) -> Result<EndpointSummary, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, user) = require(Capability::Read).await?;
    backend.endpoint_summary(&user, id).await.map_err(reject)
}

/// Splits a Defender machine off an endpoint (the identity rules joined them wrongly) and
/// pins the split. Returns the endpoint the machine is on now.
#[server(endpoint = "identity/split")]
pub async fn split_machine(
    endpoint_id: i64,
    machine_id: String,
    #[server(default)] reason: String,
) -> Result<i64, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, user) = require(Capability::CorrectIdentity).await?;
    backend
        .split_machine(&user, endpoint_id, machine_id, reason)
        .await
        .map_err(reject)
}

/// Undoes a split; the identity rules decide again. Returns the endpoint the machine is on.
#[server(endpoint = "identity/undo_split")]
pub async fn undo_split(split_id: i64) -> Result<i64, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, user) = require(Capability::CorrectIdentity).await?;
    backend.undo_split(&user, split_id).await.map_err(reject)
}

/// The dashboard, of every endpoint or of one Defender device group's (`group`, as the
/// endpoint list names it).
#[server(endpoint = "dashboard/get")]
pub async fn dashboard(group: Option<String>) -> Result<DashboardView, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::Read).await?;
    let group = group.filter(|g| !g.is_empty());
    backend.dashboard(group).await.map_err(reject)
}
