//! The stores every service is handed, built once from the opened database.

use std::sync::Arc;

use super::{
    AccountStore, ActionStore, ActionSyncStore, ActionTargetQuery, AlertStore, ApiTokenStore,
    AuditStore, Connection, ConnectionTestStore, CveExposureStore, DbError, DefenderSourceStore,
    EndpointStore, EndpointViews, IdentityStore, IntegrationStore, LeaseStore, ListGeneration,
    LoginAttemptStore, MachineStore, NetworkFactStore, Pool, ProfileQuery, ProfileStore,
    RemodelRunStore, RiskHistoryStore, SessionStore, SoftwareMachineStore, SoftwareStore,
    SplitStore, StagingStore, SyncCursorStore, SyncJournalQuery, SyncProgressStore, SyncRunStore,
    Tx, VulnerabilityStore, VulnerabilityViews,
};

/// The database itself: what the stores' `&mut dyn AsConn` methods run on (a write
/// transaction for changes to several stores that must commit together, or a plain
/// connection for one statement), and whether it answers.
#[async_trait::async_trait]
pub trait Database: Send + Sync + std::fmt::Debug {
    /// Whether the database answers a query (`/readyz`).
    async fn ping(&self) -> Result<(), DbError>;

    /// See [`Pool::begin_write`].
    async fn begin_write(&self) -> Result<Tx<'static>, DbError>;

    async fn acquire(&self) -> Result<Connection, DbError>;
}

#[async_trait::async_trait]
impl Database for Pool {
    async fn ping(&self) -> Result<(), DbError> {
        super::ping(self).await
    }

    async fn begin_write(&self) -> Result<Tx<'static>, DbError> {
        Pool::begin_write(self).await
    }

    async fn acquire(&self) -> Result<Connection, DbError> {
        Pool::acquire(self).await
    }
}

/// One handle per concern. Cloning shares them.
#[derive(Debug, Clone)]
pub struct Stores {
    // Transactions, connections and readiness.
    pub database: Arc<dyn Database>,
    // Accounts and sessions.
    pub accounts: Arc<dyn AccountStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub login_attempts: Arc<dyn LoginAttemptStore>,
    pub api_tokens: Arc<dyn ApiTokenStore>,
    // Audit.
    pub audit: Arc<dyn AuditStore>,
    // Integrations and secrets.
    pub integrations: Arc<dyn IntegrationStore>,
    pub connection_tests: Arc<dyn ConnectionTestStore>,
    // Machine actions.
    pub actions: Arc<dyn ActionStore>,
    pub action_targets: Arc<dyn ActionTargetQuery>,
    pub action_sync: Arc<dyn ActionSyncStore>,
    // Inventory and assessments.
    pub endpoints: Arc<dyn EndpointStore>,
    pub identities: Arc<dyn IdentityStore>,
    pub machines: Arc<dyn MachineStore>,
    pub alerts: Arc<dyn AlertStore>,
    pub vulnerabilities: Arc<dyn VulnerabilityStore>,
    pub software: Arc<dyn SoftwareStore>,
    pub software_machines: Arc<dyn SoftwareMachineStore>,
    pub network_facts: Arc<dyn NetworkFactStore>,
    pub splits: Arc<dyn SplitStore>,
    pub profiles: Arc<dyn ProfileStore>,
    pub list_generation: Arc<dyn ListGeneration>,
    // Sync runs and staging.
    pub staging: Arc<dyn StagingStore>,
    pub sync_cursors: Arc<dyn SyncCursorStore>,
    pub defender_sources: Arc<dyn DefenderSourceStore>,
    pub sync_runs: Arc<dyn SyncRunStore>,
    pub sync_progress: Arc<dyn SyncProgressStore>,
    pub remodel_runs: Arc<dyn RemodelRunStore>,
    pub cve_exposure: Arc<dyn CveExposureStore>,
    pub risk_history: Arc<dyn RiskHistoryStore>,
    pub leases: Arc<dyn LeaseStore>,
    // Read models of the pages.
    pub endpoint_views: Arc<dyn EndpointViews>,
    pub sync_journal: Arc<dyn SyncJournalQuery>,
    pub profile_views: Arc<dyn ProfileQuery>,
    pub vulnerability_views: Arc<dyn VulnerabilityViews>,
}

impl Stores {
    /// Every store over one database, of either backend.
    pub fn new(pool: &Pool) -> Self {
        let db = Arc::new(pool.clone());
        Self {
            database: db.clone(),
            accounts: db.clone(),
            sessions: db.clone(),
            login_attempts: db.clone(),
            api_tokens: db.clone(),
            audit: db.clone(),
            integrations: db.clone(),
            connection_tests: db.clone(),
            actions: db.clone(),
            action_targets: db.clone(),
            action_sync: db.clone(),
            endpoints: db.clone(),
            identities: db.clone(),
            machines: db.clone(),
            alerts: db.clone(),
            vulnerabilities: db.clone(),
            software: db.clone(),
            software_machines: db.clone(),
            network_facts: db.clone(),
            splits: db.clone(),
            profiles: db.clone(),
            list_generation: db.clone(),
            staging: db.clone(),
            sync_cursors: db.clone(),
            defender_sources: db.clone(),
            sync_runs: db.clone(),
            sync_progress: db.clone(),
            remodel_runs: db.clone(),
            cve_exposure: db.clone(),
            risk_history: db.clone(),
            leases: db.clone(),
            endpoint_views: db.clone(),
            sync_journal: db.clone(),
            profile_views: db.clone(),
            vulnerability_views: db,
        }
    }
}
