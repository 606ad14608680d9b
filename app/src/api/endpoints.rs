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

    let (backend, _) = require(Capability::Read).await?;
    backend.endpoint_summary(id).await.map_err(reject)
}

#[server(endpoint = "dashboard/get")]
pub async fn dashboard() -> Result<DashboardView, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::Read).await?;
    backend.dashboard().await.map_err(reject)
}
