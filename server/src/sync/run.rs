//! One sync run against Defender.

use crate::db;
use crate::integrations::defender_settings::StoredDefenderSettings;
use crate::integrations::{DEFENDER, DEFENDER_SECRET_PURPOSE};

use super::service::{Inner, SyncOutcome};

/// Reads the saved configuration, pages the machine inventory, and records the outcome on
/// the integration (its Error state shows the last failure).
#[tracing::instrument(skip_all, fields(%reason))]
pub(crate) async fn run_once(inner: &Inner, reason: &'static str) -> SyncOutcome {
    let outcome = match attempt(inner).await {
        Ok(summary) => SyncOutcome { ok: true, summary },
        Err(message) => SyncOutcome {
            ok: false,
            summary: message,
        },
    };
    let finished = db::now();
    let error = (!outcome.ok).then_some(outcome.summary.as_str());
    let label = if outcome.ok { "Succeeded" } else { "Failed" };
    if let Err(e) =
        db::integration::record_sync(&inner.pool, DEFENDER, &finished, label, error).await
    {
        tracing::error!(error = %e, "could not record the sync outcome");
    }
    tracing::info!(ok = outcome.ok, summary = %outcome.summary, "sync finished");
    outcome
}

async fn attempt(inner: &Inner) -> Result<String, String> {
    let row = db::integration::get(&inner.pool, DEFENDER)
        .await
        .map_err(|e| format!("database error: {e}"))?
        .ok_or("Microsoft Defender is not configured.")?;
    if !row.enabled {
        return Err("Microsoft Defender is disabled.".into());
    }
    let settings = StoredDefenderSettings::parse(&row.settings)
        .map_err(|_| "The stored Defender settings are unreadable; save them again.".to_owned())?;
    let sealed = row.secret_sealed.ok_or("No client secret is stored.")?;
    let secret = inner
        .secrets
        .open(&sealed, DEFENDER_SECRET_PURPOSE)
        .map_err(|e| format!("{e}; enter the client secret again."))?;
    let client = settings
        .client(secret, inner.options.clone())
        .map_err(|e| e.to_string())?;
    let mut pager = client.machines();
    let mut machines = 0usize;
    while let Some(page) = pager.next_page().await.map_err(|e| e.to_string())? {
        machines += page.len();
    }
    Ok(format!("{machines} machines listed"))
}
