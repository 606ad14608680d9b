//! The outcome of the last upload on Endpoints > Import. The upload is a plain form post that
//! answers with a redirect; the outcome waits in the session for the page to show it once,
//! rather than riding in the URL, where anyone's link could make the page say anything.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::import::ImportOutcome;

/// Session key holding the outcome until the import page takes it.
pub const IMPORT_OUTCOME_KEY: &str = "import_outcome";

/// Takes the outcome out of the session: a reload of the page shows it no more.
#[server(endpoint = "endpoints/import_outcome")]
pub async fn take_import_outcome() -> Result<Option<ImportOutcome>, ConsoleError> {
    use crate::api::guard::{reject, require, session};
    use crate::model::user::Capability;

    require(Capability::Read).await?;
    let session = session().await?;
    session
        .remove::<ImportOutcome>(IMPORT_OUTCOME_KEY)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "could not read the import outcome");
            reject(ConsoleError::Internal {
                incident: "session-store".into(),
            })
        })
}
