//! The port between server fns and the server: a small trait the `server` crate implements.
//!
//! Server fns live in `app` (the browser needs their stubs) but `app` cannot depend on
//! `server`; the implementation is handed in once through `leptos_routes_with_context`.

use std::net::IpAddr;
use std::sync::Arc;

use crate::error::ConsoleError;
use crate::model::audit::AuditEntry;
use crate::model::endpoint::{
    DashboardView, EndpointPage, EndpointQuery, EndpointSummary, SyncRunView,
};
use crate::model::integration::{
    ConnectionReport, DefenderConfigView, DefenderForm, IntegrationSummary,
};
use crate::model::profile::{ProfileRow, RemodelStatus, RemodelSummary};
use crate::model::user::{Role, UserDto};

/// Everything the server fns need from the server, already authorised by the caller.
#[async_trait::async_trait]
pub trait ConsoleBackend: Send + Sync + 'static {
    /// Checks a password, applying the per-account and per-address login throttle.
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<UserDto, ConsoleError>;

    /// The account behind a session, if it still exists.
    async fn user(&self, user_id: i64) -> Result<Option<UserDto>, ConsoleError>;

    async fn list_users(&self) -> Result<Vec<UserDto>, ConsoleError>;

    async fn create_user(
        &self,
        actor: &UserDto,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<UserDto, ConsoleError>;

    async fn integrations(&self) -> Result<Vec<IntegrationSummary>, ConsoleError>;

    async fn defender_config(&self, viewer: &UserDto) -> Result<DefenderConfigView, ConsoleError>;

    /// Validates, seals a new secret, saves, audits, and starts or stops the sync schedule.
    async fn save_defender(
        &self,
        actor: &UserDto,
        form: DefenderForm,
    ) -> Result<DefenderConfigView, ConsoleError>;

    /// Runs the connection checks on the form's values without saving anything.
    async fn test_defender(
        &self,
        actor: &UserDto,
        form: DefenderForm,
    ) -> Result<ConnectionReport, ConsoleError>;

    async fn audit_log(&self) -> Result<Vec<AuditEntry>, ConsoleError>;

    async fn list_endpoints(&self, query: EndpointQuery) -> Result<EndpointPage, ConsoleError>;

    /// `NotFound` for an unknown id.
    async fn endpoint_summary(&self, id: i64) -> Result<EndpointSummary, ConsoleError>;

    async fn dashboard(&self) -> Result<DashboardView, ConsoleError>;

    async fn sync_journal(&self) -> Result<Vec<SyncRunView>, ConsoleError>;

    /// Starts a Defender sync, or joins the running one; `Conflict` when not enabled.
    async fn sync_now(&self, actor: &UserDto) -> Result<(), ConsoleError>;

    async fn list_profiles(&self) -> Result<Vec<ProfileRow>, ConsoleError>;

    async fn remodel_all(&self, actor: &UserDto) -> Result<RemodelSummary, ConsoleError>;

    /// Records a security-relevant event (logins, logouts) in the audit log.
    async fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<(), ConsoleError>;

    /// How far the running (or last) full re-model got.
    async fn remodel_status(&self) -> Result<RemodelStatus, ConsoleError>;
}

/// How the port travels in the Leptos context.
pub type SharedBackend = Arc<dyn ConsoleBackend>;
