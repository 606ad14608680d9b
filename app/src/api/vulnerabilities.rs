//! The Vulnerabilities page.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::vulnerability::{VulnerabilityPage, VulnerabilityQuery};

#[server(endpoint = "vulnerabilities/list")]
pub async fn list_vulnerabilities(
    query: VulnerabilityQuery,
) -> Result<VulnerabilityPage, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::Read).await?;
    backend.vulnerabilities(query).await.map_err(reject)
}
