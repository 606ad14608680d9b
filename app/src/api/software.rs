//! The Software page.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::software::{SoftwarePage, SoftwareQuery};

#[server(endpoint = "software/list")]
pub async fn list_software(query: SoftwareQuery) -> Result<SoftwarePage, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::Read).await?;
    backend.software(query).await.map_err(reject)
}
