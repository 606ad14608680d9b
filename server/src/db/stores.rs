//! The stores every service is handed, built once from the opened database.

use std::sync::Arc;

use super::{
    AccountStore, ActionStore, ActionTargetQuery, ApiTokenStore, AuditStore, Connection,
    ConnectionTestStore, DbError, EndpointViews, IntegrationStore, LeaseStore, ListGeneration,
    LoginAttemptStore, Pool, ProfileQuery, RemodelRunStore, SessionStore, SyncJournalQuery,
    SyncProgressStore, SyncRunStore, Tx,
};

/// Opens what the stores' `&mut dyn AsConn` methods run on: a write transaction for changes
/// to several stores that must commit together, or a plain connection for one statement.
#[async_trait::async_trait]
pub trait Transactions: Send + Sync + std::fmt::Debug {
    /// See [`Pool::begin_write`].
    async fn begin_write(&self) -> Result<Tx<'static>, DbError>;

    async fn acquire(&self) -> Result<Connection, DbError>;
}

#[async_trait::async_trait]
impl Transactions for Pool {
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
    pub transactions: Arc<dyn Transactions>,
    pub accounts: Arc<dyn AccountStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub login_attempts: Arc<dyn LoginAttemptStore>,
    pub api_tokens: Arc<dyn ApiTokenStore>,
    pub audit: Arc<dyn AuditStore>,
    pub integrations: Arc<dyn IntegrationStore>,
    pub connection_tests: Arc<dyn ConnectionTestStore>,
    pub actions: Arc<dyn ActionStore>,
    pub action_targets: Arc<dyn ActionTargetQuery>,
    pub leases: Arc<dyn LeaseStore>,
    pub sync_runs: Arc<dyn SyncRunStore>,
    pub sync_progress: Arc<dyn SyncProgressStore>,
    pub remodel_runs: Arc<dyn RemodelRunStore>,
    pub list_generation: Arc<dyn ListGeneration>,
    pub endpoint_views: Arc<dyn EndpointViews>,
    pub sync_journal: Arc<dyn SyncJournalQuery>,
    pub profile_views: Arc<dyn ProfileQuery>,
}

impl Stores {
    /// Every store over one database, of either backend.
    pub fn new(pool: &Pool) -> Self {
        let db = Arc::new(pool.clone());
        Self {
            transactions: db.clone(),
            accounts: db.clone(),
            sessions: db.clone(),
            login_attempts: db.clone(),
            api_tokens: db.clone(),
            audit: db.clone(),
            integrations: db.clone(),
            connection_tests: db.clone(),
            actions: db.clone(),
            action_targets: db.clone(),
            leases: db.clone(),
            sync_runs: db.clone(),
            sync_progress: db.clone(),
            remodel_runs: db.clone(),
            list_generation: db.clone(),
            endpoint_views: db.clone(),
            sync_journal: db.clone(),
            profile_views: db,
        }
    }
}
