//! Configuration > Profiles: the profile set and the full re-model.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::profile::{ProfileRow, RemodelStatus, RemodelSummary};

#[server(endpoint = "profiles/list")]
pub async fn list_profiles() -> Result<Vec<ProfileRow>, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::Read).await?;
    backend.list_profiles().await.map_err(reject)
}

/// Re-evaluates every endpoint against every enabled profile, and recomputes risk.
#[server(endpoint = "profiles/remodel")]
pub async fn remodel_all() -> Result<RemodelSummary, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, user) = require(Capability::Operate).await?;
    backend.remodel_all(&user).await.map_err(reject)
}

/// How far the running (or last) full re-model got; the Profiles page polls it while its
/// re-model runs.
#[server(endpoint = "profiles/remodel_progress")]
pub async fn remodel_progress() -> Result<RemodelStatus, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::Read).await?;
    backend.remodel_status().await.map_err(reject)
}
