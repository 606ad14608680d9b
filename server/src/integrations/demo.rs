//! The demo tenant: on first start with `--demo-defender-url`, the Defender integration is
//! configured against the bundled simulator, enabled, and labelled as a demo.

use crate::db::{self, AuditStore, DbError, IntegrationStore};
use crate::defender::DefenderError;
use crate::secret_box::SecretBox;
use crate::sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID};

use super::defender::{self, Write};
use super::defender_settings::StoredDefenderSettings;
use super::sealed_secret;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the simulator URL cannot be used: {0}")]
    Url(#[from] DefenderError),
}

/// Creates the demo configuration unless a Defender configuration already exists (an admin's
/// own settings are never overwritten). Returns whether it did.
pub async fn seed(
    store: &dyn IntegrationStore,
    audit: &dyn AuditStore,
    secrets: &SecretBox,
    simulator_url: &str,
) -> Result<bool, DemoError> {
    if defender::saved(store).await?.is_some() {
        return Ok(false);
    }
    let base = simulator_url.trim_end_matches('/');
    let settings = StoredDefenderSettings {
        tenant_id: DEMO_TENANT_ID.into(),
        client_id: DEMO_CLIENT_ID.into(),
        cloud: "commercial".into(),
        geo_api_host: String::new(),
        custom_login_url: base.into(),
        custom_api_url: base.into(),
        import_groups: Vec::new(),
    };
    let sealed = sealed_secret::seal(secrets, DEMO_CLIENT_SECRET, &settings)?;
    // Due now: the schedule's first check, at startup, runs the first sync at once.
    let next = db::now();
    defender::write(
        store,
        Write {
            enabled: true,
            settings: &settings,
            sealed: Some(&sealed),
            demo: true,
            next_sync_at: Some(&next),
            actor: "system",
        },
    )
    .await?;
    audit
        .record(
            "system",
            "integration.defender.save",
            "demo tenant configured",
        )
        .await?;
    tracing::info!(simulator = %base, "configured the Defender demo tenant");
    Ok(true)
}
