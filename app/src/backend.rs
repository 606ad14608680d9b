//! The port between server fns and the server: a small trait the `server` crate implements.
//!
//! Server fns live in `app` (the browser needs their stubs) but `app` cannot depend on
//! `server`; the implementation is handed in once through `leptos_routes_with_context`.

use std::net::IpAddr;
use std::sync::Arc;

use crate::error::ConsoleError;
use crate::model::account::AccountView;
use crate::model::action::{ActionKind, ActionOutcome, EndpointActions};
use crate::model::api_token::{ApiTokenView, NewApiToken};
use crate::model::audit::AuditEntry;
use crate::model::endpoint::{
    DashboardView, EndpointPage, EndpointQuery, EndpointSummary, SyncRunView,
};
use crate::model::integration::{
    ConnectionReport, DefenderConfigView, DefenderForm, IntegrationSummary,
};
use crate::model::profile::{ProfileRow, RemodelStatus, RemodelSummary};
use crate::model::secret_text::SecretText;
use crate::model::session::SessionView;
use crate::model::software::{SoftwarePage, SoftwareQuery};
use crate::model::user::{Role, UserDto};
use crate::model::vulnerability::{VulnerabilityPage, VulnerabilityQuery};

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

    async fn list_users(&self) -> Result<Vec<AccountView>, ConsoleError>;

    async fn create_user(
        &self,
        actor: &UserDto,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<UserDto, ConsoleError>;

    /// One account for its management page; `NotFound` for an unknown id.
    async fn get_user(&self, id: i64) -> Result<AccountView, ConsoleError>;

    /// Disables an account and ends its sessions; `Conflict` for the last enabled
    /// Administrator or the actor's own account. Audited, as every change below.
    async fn disable_user(&self, actor: &UserDto, id: i64) -> Result<(), ConsoleError>;

    async fn enable_user(&self, actor: &UserDto, id: i64) -> Result<(), ConsoleError>;

    /// `Conflict` when it would demote the last enabled Administrator.
    async fn set_user_role(&self, actor: &UserDto, id: i64, role: Role)
        -> Result<(), ConsoleError>;

    /// Sets a temporary password the user must replace at their next sign-in, and ends
    /// their sessions.
    async fn reset_password(
        &self,
        actor: &UserDto,
        id: i64,
        temporary: &str,
    ) -> Result<(), ConsoleError>;

    /// `confirm` must repeat the username; `Conflict` for the last enabled Administrator or
    /// the actor's own account.
    async fn delete_user(
        &self,
        actor: &UserDto,
        id: i64,
        confirm: &str,
    ) -> Result<(), ConsoleError>;

    /// The signed-in user's own change, which needs their current password; ends their other
    /// sessions and keeps `session_id`'s.
    async fn change_own_password(
        &self,
        actor: &UserDto,
        session_id: &str,
        change: PasswordChange,
    ) -> Result<(), ConsoleError>;

    /// Records a sign-in in the session registry, forgetting the session it replaces.
    async fn start_session(&self, start: SessionStart) -> Result<(), ConsoleError>;

    /// The account signed in on a session, if the session is registered for `user_id`,
    /// within its idle and absolute limits, and the account is enabled; a session that is
    /// not is ended.
    async fn session_user(
        &self,
        session_id: &str,
        user_id: i64,
    ) -> Result<Option<SessionCheck>, ConsoleError>;

    /// Signing out: the session leaves the registry.
    async fn end_session(&self, session_id: &str) -> Result<(), ConsoleError>;

    /// The viewer's live sessions, newest first, `session_id`'s marked as current.
    async fn list_sessions(
        &self,
        viewer: &UserDto,
        session_id: &str,
    ) -> Result<Vec<SessionView>, ConsoleError>;

    /// Ends one of the actor's own sessions; `NotFound` for anyone else's.
    async fn end_own_session(&self, actor: &UserDto, id: i64) -> Result<(), ConsoleError>;

    /// Ends every session of the actor, the current one included.
    async fn end_all_sessions(&self, actor: &UserDto) -> Result<(), ConsoleError>;

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
    async fn endpoint_summary(
        &self,
        viewer: &UserDto,
        id: i64,
    ) -> Result<EndpointSummary, ConsoleError>;

    /// Splits a Defender machine off an endpoint and pins the split; audited. Returns the
    /// endpoint the machine is on now.
    async fn split_machine(
        &self,
        actor: &UserDto,
        endpoint_id: i64,
        machine_id: String,
        reason: String,
    ) -> Result<i64, ConsoleError>;

    /// Undoes a split; audited. Returns the endpoint the machine is on now.
    async fn undo_split(&self, actor: &UserDto, split_id: i64) -> Result<i64, ConsoleError>;

    async fn dashboard(&self, group: Option<String>) -> Result<DashboardView, ConsoleError>;

    /// The Vulnerabilities page; `NotFound` for a CVE that no machine has and Defender does
    /// not list.
    async fn vulnerabilities(
        &self,
        query: VulnerabilityQuery,
    ) -> Result<VulnerabilityPage, ConsoleError>;

    /// The Software page; `NotFound` for a product the last sync did not name.
    async fn software(&self, query: SoftwareQuery) -> Result<SoftwarePage, ConsoleError>;

    async fn sync_journal(&self) -> Result<Vec<SyncRunView>, ConsoleError>;

    /// Starts a Defender sync, or joins the running one; `Conflict` when not enabled.
    async fn sync_now(&self, actor: &UserDto) -> Result<(), ConsoleError>;

    async fn list_profiles(&self) -> Result<Vec<ProfileRow>, ConsoleError>;

    async fn remodel_all(&self, actor: &UserDto) -> Result<RemodelSummary, ConsoleError>;

    /// Records a security-relevant event (logins, logouts) in the audit log.
    async fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<(), ConsoleError>;

    /// The action panel of an endpoint for one of its live Defender machines (`None`: the one
    /// that represents it): availability, isolation state and history.
    async fn endpoint_actions(
        &self,
        viewer: &UserDto,
        endpoint_id: i64,
        machine_id: Option<String>,
    ) -> Result<EndpointActions, ConsoleError>;

    /// Preflights and sends an action, or returns the one already sent with the same key or
    /// already pending on the device.
    async fn submit_action(
        &self,
        actor: &UserDto,
        request: ActionRequest,
    ) -> Result<ActionOutcome, ConsoleError>;

    /// Asks Defender to cancel an open action and records the answer.
    async fn cancel_action(
        &self,
        actor: &UserDto,
        action_id: i64,
        comment: String,
    ) -> Result<ActionOutcome, ConsoleError>;

    /// Sensor API tokens, newest first, without their values (only hashes are stored).
    async fn list_api_tokens(&self) -> Result<Vec<ApiTokenView>, ConsoleError>;

    /// Validates the name, creates a token and audits it; the answer is the only place the
    /// value ever appears.
    async fn create_api_token(
        &self,
        actor: &UserDto,
        name: &str,
    ) -> Result<NewApiToken, ConsoleError>;

    /// Revokes a token and audits it; `NotFound` for an unknown id, and nothing to do for
    /// one already revoked.
    async fn revoke_api_token(&self, actor: &UserDto, id: i64) -> Result<(), ConsoleError>;

    /// How far the running (or last) full re-model got.
    async fn remodel_status(&self) -> Result<RemodelStatus, ConsoleError>;
}

/// A submitted action form.
#[derive(Clone, Debug)]
pub struct ActionRequest {
    pub endpoint_id: i64,
    /// The Defender machine the form showed: the server sends only to that one, and only
    /// while it is still a live machine of the endpoint.
    pub machine_id: String,
    pub kind: ActionKind,
    pub scope: String,
    pub comment: String,
    pub confirm: String,
    pub request_key: String,
}

/// A password change form; its `Debug` shows none of the three.
#[derive(Clone, Debug)]
pub struct PasswordChange {
    pub current: SecretText,
    pub new: SecretText,
    pub repeated: SecretText,
}

/// A sign-in as the session registry records it.
#[derive(Clone, Debug)]
pub struct SessionStart {
    /// The session id the request came with, if any: sign-in gives a new one.
    pub replaces: Option<String>,
    pub session_id: String,
    pub account_id: i64,
    pub client: String,
    pub user_agent: String,
}

/// A live session's account, and whether this request moved its idle deadline (the caller
/// then saves the session so its cookie and record follow).
#[derive(Clone, Debug)]
pub struct SessionCheck {
    pub user: UserDto,
    pub extended: bool,
}

/// How the port travels in the Leptos context.
pub type SharedBackend = Arc<dyn ConsoleBackend>;
