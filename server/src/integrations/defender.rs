//! The one owner of the Microsoft Defender integration's stored row: its settings, the sealed
//! client secret, the schedule and the last sync's state are read and written here and
//! nowhere else, and here the secret is unsealed and the client built. The rest of the server
//! asks it questions by purpose (is it enabled, where are the portal links, the client for a
//! sync) and never sees the row.
//!
//! The pure pieces stay apart: what the settings are and how they become a client
//! (`defender_settings`), how the secret is bound to them (`sealed_secret`), and what Test
//! Connection checks (`connection_test`).

use std::sync::Mutex;

use app::model::integration::{CheckResult, ConnectionReport};
use time::OffsetDateTime;

use crate::db::{self, integration::IntegrationRow, AuditStore, DbError, IntegrationStore};
use crate::defender::{ClientOptions, DefenderClient, DefenderError, PortalLinks};
use crate::secret_box::SecretBox;
use crate::sync::schedule::INTERVAL;

use super::defender_settings::{interactive_options, StoredDefenderSettings};
use super::sealed_secret::{self, OpenError};
use super::{connection_test, DEFENDER};

/// The saved configuration as the settings page, the integration list and the save and test
/// rules see it: everything but the secret itself, which only this module opens.
#[derive(Clone)]
pub struct Saved {
    pub enabled: bool,
    /// `None` when the stored JSON does not parse (an edit of the database): the page then
    /// shows empty fields, and the change rules count every value as changed.
    pub settings: Option<StoredDefenderSettings>,
    sealed: Option<String>,
    pub secret_changed_at: Option<String>,
    pub demo: bool,
    pub last_error: Option<String>,
    pub last_sync_at: Option<String>,
    pub last_sync_outcome: Option<String>,
    pub next_sync_at: Option<String>,
}

impl Saved {
    pub fn secret_stored(&self) -> bool {
        self.sealed.is_some()
    }

    /// The sealed secret, for the one-time re-binding (`secret_rebinding`) only.
    pub(super) fn sealed_secret(&self) -> Option<&str> {
        self.sealed.as_deref()
    }
}

impl From<IntegrationRow> for Saved {
    fn from(row: IntegrationRow) -> Self {
        Self {
            enabled: row.enabled,
            settings: StoredDefenderSettings::parse(&row.settings).ok(),
            sealed: row.secret_sealed,
            secret_changed_at: row.secret_changed_at,
            demo: row.demo,
            last_error: row.last_error,
            last_sync_at: row.last_sync_at,
            last_sync_outcome: row.last_sync_outcome,
            next_sync_at: row.next_sync_at,
        }
    }
}

/// The saved configuration, if an admin (or the demo seed) ever saved one.
pub async fn saved(store: &dyn IntegrationStore) -> Result<Option<Saved>, DbError> {
    Ok(store.get(DEFENDER).await?.map(Saved::from))
}

/// Whether the integration is saved and enabled: actions and Sync Now need it, and a re-model
/// counts Defender's data only then.
pub async fn is_enabled(store: &dyn IntegrationStore) -> Result<bool, DbError> {
    Ok(store.get(DEFENDER).await?.is_some_and(|r| r.enabled))
}

/// What the endpoint pages link to: the portal of the configured tenant and cloud (`None` when
/// nothing is saved or the settings name no usable cloud), and whether the integration is
/// enabled.
pub async fn portal(store: &dyn IntegrationStore) -> Result<(Option<PortalLinks>, bool), DbError> {
    let Some(row) = store.get(DEFENDER).await? else {
        return Ok((None, false));
    };
    let links = StoredDefenderSettings::parse(&row.settings)
        .ok()
        .and_then(|s| {
            s.endpoints()
                .ok()
                .map(|e| PortalLinks::new(e.portal_host, s.tenant_id))
        });
    Ok((links, row.enabled))
}

/// Why no client can be had from the saved configuration; the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Unusable {
    #[error("database error: {0}")]
    Db(#[from] DbError),
    #[error("Microsoft Defender is not configured.")]
    NotConfigured,
    #[error("The Microsoft Defender integration is disabled.")]
    Disabled,
    #[error("The stored Defender settings are unreadable; save them again.")]
    UnreadableSettings,
    #[error("No client secret is stored.")]
    NoSecret,
    #[error("{0}; enter the client secret again.")]
    Sealed(OpenError),
    #[error(transparent)]
    Client(DefenderError),
}

/// The saved, enabled configuration, before its secret is opened.
struct Usable {
    /// The settings as stored and the sealed secret: a new secret seals differently every
    /// time, so together they identify the configuration without holding the secret.
    fingerprint: String,
    settings: StoredDefenderSettings,
    sealed: String,
}

async fn usable(store: &dyn IntegrationStore) -> Result<Usable, Unusable> {
    let row = store.get(DEFENDER).await?.ok_or(Unusable::NotConfigured)?;
    if !row.enabled {
        return Err(Unusable::Disabled);
    }
    let settings =
        StoredDefenderSettings::parse(&row.settings).map_err(|_| Unusable::UnreadableSettings)?;
    let sealed = row.secret_sealed.ok_or(Unusable::NoSecret)?;
    Ok(Usable {
        fingerprint: format!("{}\u{0}{sealed}", row.settings),
        settings,
        sealed,
    })
}

impl Usable {
    fn client(
        self,
        secrets: &SecretBox,
        options: ClientOptions,
    ) -> Result<DefenderClient, Unusable> {
        // Opens only for the tenant, client and hosts it was entered for.
        let secret =
            sealed_secret::open(secrets, &self.sealed, &self.settings).map_err(Unusable::Sealed)?;
        self.settings
            .client(secret, options)
            .map_err(Unusable::Client)
    }
}

/// What one sync run works with, from the configuration as saved when the run starts.
pub struct ForSync {
    pub client: DefenderClient,
    /// The device groups to import; empty for every group.
    pub import_groups: Vec<String>,
}

/// The client for one sync run and the import allow-list.
pub async fn client_for_sync(
    store: &dyn IntegrationStore,
    secrets: &SecretBox,
    options: ClientOptions,
) -> Result<ForSync, Unusable> {
    let usable = usable(store).await?;
    let import_groups = usable.settings.import_groups.clone();
    Ok(ForSync {
        client: usable.client(secrets, options)?,
        import_groups,
    })
}

/// One client per saved configuration, for machine actions: submissions and the poller reuse
/// it, and so its cached token, until the settings or the secret change.
#[derive(Default)]
pub struct ClientCache {
    held: Mutex<Option<(String, DefenderClient)>>,
}

impl ClientCache {
    pub async fn client(
        &self,
        store: &dyn IntegrationStore,
        secrets: &SecretBox,
        options: &ClientOptions,
    ) -> Result<DefenderClient, Unusable> {
        let usable = usable(store).await?;
        if let Some((f, client)) = self.held.lock().expect("client lock").as_ref() {
            if *f == usable.fingerprint {
                return Ok(client.clone());
            }
        }
        let fingerprint = usable.fingerprint.clone();
        let client = usable.client(secrets, options.clone())?;
        *self.held.lock().expect("client lock") = Some((fingerprint, client.clone()));
        Ok(client)
    }
}

/// When the next scheduled sync is due; `None` while nothing is saved, the integration is
/// disabled, or no slot is stored.
pub async fn next_sync_due(
    store: &dyn IntegrationStore,
) -> Result<Option<OffsetDateTime>, DbError> {
    Ok(store
        .get(DEFENDER)
        .await?
        .filter(|r| r.enabled)
        .and_then(|r| r.next_sync_at.as_deref().and_then(db::parse_time)))
}

/// Stores the slot the schedule fires at next.
pub async fn schedule_next_sync(store: &dyn IntegrationStore, at: &str) -> Result<(), DbError> {
    store.set_next_sync(DEFENDER, Some(at)).await
}

/// Records how a sync ended; `error` set shows the integration in its Error state.
pub async fn record_sync(
    store: &dyn IntegrationStore,
    finished_at: &str,
    outcome: &str,
    error: Option<&str>,
) -> Result<(), DbError> {
    store
        .record_sync(DEFENDER, finished_at, outcome, error)
        .await
}

/// A failure the admin cannot fix from the form; the backend logs it as an incident.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Hosts(#[from] DefenderError),
}

/// A whole configuration, written at once by Save and by the demo seed.
pub(super) struct Write<'a> {
    pub enabled: bool,
    pub settings: &'a StoredDefenderSettings,
    /// `None` keeps the stored secret.
    pub sealed: Option<&'a str>,
    pub demo: bool,
    pub next_sync_at: Option<&'a str>,
    pub actor: &'a str,
}

pub(super) async fn write(store: &dyn IntegrationStore, w: Write<'_>) -> Result<(), DbError> {
    store
        .save(db::integration::Save {
            kind: DEFENDER,
            enabled: w.enabled,
            settings: &w.settings.to_json(),
            secret_sealed: w.sealed,
            demo: w.demo,
            next_sync_at: w.next_sync_at,
            actor: w.actor,
        })
        .await
}

/// Replaces the sealed secret with `new` if it is still `old`; see `secret_rebinding`.
pub(super) async fn reseal(
    store: &dyn IntegrationStore,
    old: &str,
    new: &str,
) -> Result<bool, DbError> {
    store.reseal_secret(DEFENDER, old, new).await
}

/// A Save from the settings page whose rules already passed (`backend::checked_settings`).
pub struct Change<'a> {
    pub settings: StoredDefenderSettings,
    /// Empty keeps the stored secret.
    pub secret: &'a str,
    pub enabled: bool,
    pub actor: &'a str,
}

/// Stores `change` over `before` and audits what changed, value by value. Returns whether the
/// integration was enabled before, for what follows a save (the first sync, the re-model
/// after disabling).
pub async fn save(
    store: &dyn IntegrationStore,
    audit: &dyn AuditStore,
    secrets: &SecretBox,
    before: Option<&Saved>,
    change: Change<'_>,
) -> Result<bool, Error> {
    let settings = &change.settings;
    let old_settings = before.and_then(|s| s.settings.as_ref());
    let was_enabled = before.is_some_and(|s| s.enabled);
    // A kept secret stays sealed for the old settings, which the save rules made sure send
    // it to the same tenant, client and hosts.
    let sealed = if change.secret.is_empty() {
        None
    } else {
        Some(sealed_secret::seal(secrets, change.secret, settings)?)
    };
    let mut changed: Vec<String> = match (before, old_settings) {
        (_, Some(old)) => old.changes_to(settings),
        (Some(_), None) => vec![format!(
            "unreadable settings replaced: {}",
            settings.described()
        )],
        (None, None) => vec![format!("created: {}", settings.described())],
    };
    if sealed.is_some() {
        changed.push("client secret replaced".into());
    }
    if was_enabled != change.enabled {
        changed.push(
            if change.enabled {
                "enabled"
            } else {
                "disabled"
            }
            .into(),
        );
    }
    // Enabling starts the hourly cadence from this moment; staying enabled keeps it.
    let next_sync_at = match (was_enabled, change.enabled) {
        (_, false) => None,
        (false, true) => Some(db::format_time(OffsetDateTime::now_utc() + INTERVAL)),
        (true, true) => before.and_then(|s| s.next_sync_at.clone()),
    };
    // A demo configuration stops being the demo once it points somewhere else.
    let demo = before.is_some_and(|s| s.demo)
        && old_settings.map(StoredDefenderSettings::destination) == Some(settings.destination())
        && sealed.is_none();
    write(
        store,
        Write {
            enabled: change.enabled,
            settings,
            sealed: sealed.as_deref(),
            demo,
            next_sync_at: next_sync_at.as_deref(),
            actor: change.actor,
        },
    )
    .await?;
    let detail = if changed.is_empty() {
        "no change".to_owned()
    } else {
        changed.join(", ")
    };
    audit
        .record(change.actor, "integration.defender.save", &detail)
        .await?;
    Ok(was_enabled)
}

/// Test Connection with settings the save rules passed, and the entered secret or, when none
/// is entered, the stored one if it opens for these settings. Audited either way, naming
/// where the credentials were sent.
pub async fn test_connection(
    audit: &dyn AuditStore,
    secrets: &SecretBox,
    options: &ClientOptions,
    before: Option<&Saved>,
    settings: &StoredDefenderSettings,
    entered_secret: &str,
    actor: &str,
) -> Result<ConnectionReport, Error> {
    let endpoints = settings.endpoints()?;
    let destination = format!(
        "tenant ID {:?}, client ID {:?}, login URL {:?}, API URL {:?}, {} secret",
        settings.tenant_id,
        settings.client_id,
        endpoints.login_base.as_str(),
        endpoints.api_base.as_str(),
        if entered_secret.is_empty() {
            "stored"
        } else {
            "entered"
        },
    );
    let secret = if entered_secret.is_empty() {
        let sealed = before
            .and_then(|s| s.sealed.as_deref())
            .expect("validation requires a secret when none is stored");
        match sealed_secret::open(secrets, sealed, settings) {
            Ok(secret) => secret,
            Err(e) => {
                tracing::warn!(error = %e, "the stored secret did not open for a test");
                let detail = format!("not run, the stored secret did not open: {destination}");
                audit
                    .record(actor, "integration.defender.test", &detail)
                    .await?;
                return Ok(ConnectionReport {
                    checks: vec![CheckResult {
                        name: "Stored secret".into(),
                        passed: false,
                        detail: e.to_string(),
                        fix: Some("Enter the client secret again and save.".into()),
                    }],
                    permissions: Vec::new(),
                    passed: false,
                });
            }
        }
    } else {
        entered_secret.to_owned()
    };
    let report = connection_test::run(settings, secret, interactive_options(options)).await;
    let outcome = if report.passed { "passed" } else { "failed" };
    let detail = format!("{outcome}: {destination}");
    audit
        .record(actor, "integration.defender.test", &detail)
        .await?;
    Ok(report)
}
