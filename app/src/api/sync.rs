//! The Defender sync: its journal, and Sync now.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::endpoint::SyncRunView;

#[server(endpoint = "sync/journal")]
pub async fn sync_journal() -> Result<Vec<SyncRunView>, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::Read).await?;
    backend.sync_journal().await.map_err(reject)
}

/// Starts a sync (or joins the running one) and returns at once.
#[server(endpoint = "sync/now")]
pub async fn sync_now() -> Result<(), ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, user) = require(Capability::Operate).await?;
    backend.sync_now(&user).await.map_err(reject)
}
