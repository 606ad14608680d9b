//! The audit log: Administrators only.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::audit::AuditEntry;

#[server(endpoint = "audit/list")]
pub async fn audit_log() -> Result<Vec<AuditEntry>, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::ManageUsers).await?;
    backend.audit_log().await.map_err(reject)
}
