//! `ServerBackend`: the server's implementation of the app's `ConsoleBackend` port. Domain
//! and database errors become `ConsoleError`s here, and only here.

use std::net::IpAddr;
use std::sync::Arc;

use app::backend::{ActionRequest, ConsoleBackend, PasswordChange, SessionCheck, SessionStart};
use app::error::{ConsoleError, FieldError};
use app::model::account::AccountView;
use app::model::action::{ActionOutcome, EndpointActions};
use app::model::api_token::{validate_token_name, ApiTokenView, NewApiToken};
use app::model::audit::AuditEntry;
use app::model::defender_change::{check_defender_change, Stored};
use app::model::endpoint::{
    DashboardView, EndpointPage, EndpointQuery, EndpointSummary, SyncRunView,
};
use app::model::integration::{
    validate_defender_form, ConnectionReport, DefenderConfigView, DefenderForm, IntegrationState,
    IntegrationSummary,
};
use app::model::profile::{ProfileRow, RemodelStatus, RemodelSummary};
use app::model::session::SessionView;
use app::model::software::{SoftwarePage, SoftwareQuery};
use app::model::user::{validate_password, validate_username, Capability, Role, UserDto};
use app::model::vulnerability::{VulnerabilityPage, VulnerabilityQuery};

use crate::accounts::{AccountError, Accounts};
use crate::actions::{panel, ActionError, ActionService};
use crate::auth::password;
use crate::auth::throttle::{LoginThrottle, Refused, ThrottleLimits};
use crate::db::{self, account::AccountRow, DbError, Stores};
use crate::defender::{ClientOptions, DefenderError};
use crate::integrations::defender::{self, Change, Saved};
use crate::integrations::defender_settings::StoredDefenderSettings;
use crate::integrations::test_limiter::{Limited, TestLimiter};
use crate::integrations::DEFENDER;
use crate::secret_box::SecretBox;
use crate::sync::split::SplitError;
use crate::sync::SyncService;
use crate::views::endpoint_list::{self, ListCache};
use crate::views::software::{self, SoftwareViews};
use crate::views::{dashboard, endpoint_summary, sync_journal, vulnerabilities};

pub struct ServerBackend {
    list_cache: Arc<ListCache>,
    db: Stores,
    throttle: LoginThrottle,
    /// Free slots for password checks at sign-in; see `ThrottleLimits::concurrent_checks`.
    password_checks: Arc<tokio::sync::Semaphore>,
    secrets: SecretBox,
    sync: SyncService,
    client_options: ClientOptions,
    test_limiter: TestLimiter,
    actions: ActionService,
    accounts: Accounts,
    software: SoftwareViews,
}

impl ServerBackend {
    // Each argument is a service startup builds once; a struct of them would only rename
    // them.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        list_cache: Arc<ListCache>,
        db: Stores,
        limits: ThrottleLimits,
        secrets: SecretBox,
        sync: SyncService,
        client_options: ClientOptions,
        actions: ActionService,
        accounts: Accounts,
        software: SoftwareViews,
    ) -> Self {
        Self {
            list_cache,
            password_checks: Arc::new(tokio::sync::Semaphore::new(limits.concurrent_checks)),
            throttle: LoginThrottle::new(db.login_attempts.clone(), limits),
            secrets,
            sync,
            client_options,
            test_limiter: TestLimiter::with_defaults(db.connection_tests.clone()),
            actions,
            accounts,
            software,
            db,
        }
    }

    async fn defender_saved(&self) -> Result<Option<Saved>, ConsoleError> {
        defender::saved(&*self.db.integrations)
            .await
            .map_err(internal)
    }
}

fn state_of(row: Option<&Saved>) -> IntegrationState {
    match row {
        None => IntegrationState::NotConfigured,
        Some(r) if !r.enabled => IntegrationState::Disabled,
        Some(r) if r.last_error.is_some() => IntegrationState::Error,
        Some(_) => IntegrationState::Enabled,
    }
}

fn config_view(row: Option<&Saved>, viewer: &UserDto) -> DefenderConfigView {
    let settings = row
        .and_then(|r| r.settings.clone())
        .unwrap_or_else(|| StoredDefenderSettings {
            cloud: "commercial".into(),
            ..Default::default()
        });
    DefenderConfigView {
        tenant_id: settings.tenant_id,
        client_id: settings.client_id,
        cloud: settings.cloud,
        geo_api_host: settings.geo_api_host,
        custom_login_url: settings.custom_login_url,
        custom_api_url: settings.custom_api_url,
        enabled: row.is_some_and(|r| r.enabled),
        secret_set: row.is_some_and(Saved::secret_stored),
        secret_changed_at: row.and_then(|r| r.secret_changed_at.clone()),
        state: state_of(row),
        last_error: row.and_then(|r| r.last_error.clone()),
        last_sync_at: row.and_then(|r| r.last_sync_at.clone()),
        last_sync_outcome: row.and_then(|r| r.last_sync_outcome.clone()),
        next_sync_at: row.and_then(|r| r.next_sync_at.clone()),
        demo: row.is_some_and(|r| r.demo),
        can_edit: viewer.role.allows(Capability::Operate),
        can_choose_hosts: viewer.role.allows(Capability::ChooseDefenderHosts),
        import_groups: settings.import_groups,
    }
}

/// The form's settings once every rule passes: valid values; hosts changed only by someone
/// who may choose them; the secret entered again when anything deciding where it goes
/// changed; and hosts the client will connect to. The same for Save and Test Connection.
fn checked_settings(
    before: Option<&Saved>,
    form: &DefenderForm,
    actor: &UserDto,
) -> Result<StoredDefenderSettings, ConsoleError> {
    let secret_stored = before.is_some_and(Saved::secret_stored);
    let mut errors = validate_defender_form(form, secret_stored);
    if errors.is_empty() {
        // Unreadable stored settings compare as empty ones: every value counts as changed.
        let destination = before.map(|r| r.settings.clone().unwrap_or_default().destination());
        let stored = Stored {
            destination: destination.as_ref(),
            secret_stored,
        };
        let may_choose_hosts = actor.role.allows(Capability::ChooseDefenderHosts);
        errors = check_defender_change(stored, form, may_choose_hosts);
    }
    let settings = StoredDefenderSettings::from_form(form);
    if errors.is_empty() {
        if let Err(e) = settings.endpoints() {
            errors.push(endpoint_field_error(e));
        }
    }
    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(ConsoleError::InvalidForm { errors })
    }
}

/// A setting the Defender client refuses (e.g. a metadata address), on the field it names.
fn endpoint_field_error(e: DefenderError) -> FieldError {
    let field = match &e {
        DefenderError::InvalidArgument { what, .. } => match *what {
            "cloud" => "cloud",
            "geo API host" => "geo_api_host",
            "API base URL" => "custom_api_url",
            _ => "custom_login_url",
        },
        _ => "custom_login_url",
    };
    FieldError {
        field: field.into(),
        message: format!("This host cannot be used: {e}."),
    }
}

/// Logs an internal failure under a short incident id and returns only the id.
pub fn internal(err: impl std::fmt::Display) -> ConsoleError {
    let incident = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    tracing::error!(%incident, error = %err, "internal error");
    ConsoleError::Internal { incident }
}

fn parse_role(role: &str) -> Result<Role, ConsoleError> {
    Role::parse(role).ok_or_else(|| internal(format!("bad role {role:?}")))
}

fn to_dto(row: AccountRow) -> Result<UserDto, ConsoleError> {
    Ok(UserDto {
        id: row.account_id,
        role: parse_role(&row.role)?,
        username: row.username,
        must_change_password: row.must_change_password,
    })
}

fn account_view(row: AccountRow) -> Result<AccountView, ConsoleError> {
    Ok(AccountView {
        id: row.account_id,
        role: parse_role(&row.role)?,
        username: row.username,
        disabled: row.disabled,
        must_change_password: row.must_change_password,
        created_at: row.created_at,
    })
}

#[async_trait::async_trait]
impl ConsoleBackend for ServerBackend {
    #[tracing::instrument(skip_all, fields(%client))]
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<UserDto, ConsoleError> {
        let attempt = match self.throttle.admit(username, client).await {
            Ok(attempt) => attempt,
            Err(Refused::Db(e)) => return Err(internal(e)),
            Err(Refused::Throttled(retry_after_secs)) => {
                tracing::warn!("login refused by the throttle");
                let detail = format!("from {client}: too many failed attempts");
                self.audit(username, "login.throttled", &detail).await?;
                return Err(ConsoleError::RateLimited { retry_after_secs });
            }
        };
        // Refused rather than queued: waiting requests would pile up behind a burst anyway.
        let Ok(_slot) = self.password_checks.clone().try_acquire_owned() else {
            self.throttle.withdrawn(attempt).await.map_err(internal)?;
            tracing::warn!("login refused: every password check slot is busy");
            let detail = format!("from {client}: too many sign-ins at once");
            self.audit(username, "login.throttled", &detail).await?;
            return Err(ConsoleError::RateLimited {
                retry_after_secs: 1,
            });
        };
        let row = self
            .db
            .accounts
            .by_username(username)
            .await
            .map_err(internal)?;
        // A disabled account verifies against the dummy hash: the same answer, in the same
        // time, as a wrong password.
        let stored = row
            .as_ref()
            .filter(|r| !r.disabled)
            .map(|r| r.password_hash.clone());
        if password::verify(password.to_owned(), stored).await {
            self.throttle.succeeded(attempt).await.map_err(internal)?;
            return to_dto(row.expect("verified rows exist"));
        }
        tracing::warn!("failed login");
        let detail = format!("from {client}");
        self.audit(username, "login.failed", &detail).await?;
        Err(ConsoleError::InvalidCredentials)
    }

    async fn list_users(&self) -> Result<Vec<AccountView>, ConsoleError> {
        self.db
            .accounts
            .list()
            .await
            .map_err(internal)?
            .into_iter()
            .map(account_view)
            .collect()
    }

    async fn create_user(
        &self,
        actor: &UserDto,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<UserDto, ConsoleError> {
        validate_username(username).map_err(|m| ConsoleError::validation("username", m))?;
        validate_password(password).map_err(|m| ConsoleError::validation("password", m))?;
        let hash = password::hash(password.to_owned())
            .await
            .map_err(internal)?;
        let id = match self
            .db
            .accounts
            .insert(username, &hash, role.as_str())
            .await
        {
            Ok(id) => id,
            Err(DbError::Conflict(_)) => {
                return Err(ConsoleError::validation(
                    "username",
                    "This username is taken.",
                ))
            }
            Err(e) => return Err(internal(e)),
        };
        let detail = format!("{username} ({})", role.as_str());
        self.audit(&actor.username, "account.create", &detail)
            .await?;
        Ok(UserDto {
            id,
            username: username.to_owned(),
            role,
            must_change_password: false,
        })
    }

    async fn get_user(&self, id: i64) -> Result<AccountView, ConsoleError> {
        self.db
            .accounts
            .by_id(id)
            .await
            .map_err(internal)?
            .ok_or(ConsoleError::NotFound)
            .and_then(account_view)
    }

    async fn disable_user(&self, actor: &UserDto, id: i64) -> Result<(), ConsoleError> {
        self.accounts
            .disable(&actor.username, id)
            .await
            .map_err(account_error)
    }

    async fn enable_user(&self, actor: &UserDto, id: i64) -> Result<(), ConsoleError> {
        self.accounts
            .enable(&actor.username, id)
            .await
            .map_err(account_error)
    }

    async fn set_user_role(
        &self,
        actor: &UserDto,
        id: i64,
        role: Role,
    ) -> Result<(), ConsoleError> {
        self.accounts
            .set_role(&actor.username, id, role)
            .await
            .map_err(account_error)
    }

    async fn reset_password(
        &self,
        actor: &UserDto,
        id: i64,
        temporary: &str,
    ) -> Result<(), ConsoleError> {
        self.accounts
            .reset_password(&actor.username, actor.id, id, temporary)
            .await
            .map_err(account_error)
    }

    async fn delete_user(
        &self,
        actor: &UserDto,
        id: i64,
        confirm: &str,
    ) -> Result<(), ConsoleError> {
        self.accounts
            .delete(&actor.username, id, confirm)
            .await
            .map_err(account_error)
    }

    async fn change_own_password(
        &self,
        actor: &UserDto,
        session_id: &str,
        change: PasswordChange,
    ) -> Result<(), ConsoleError> {
        self.accounts
            .change_own_password(actor.id, session_id, change)
            .await
            .map_err(account_error)
    }

    async fn start_session(&self, start: SessionStart) -> Result<(), ConsoleError> {
        self.accounts
            .sessions()
            .start(
                start.replaces.as_deref(),
                &start.session_id,
                start.account_id,
                &start.client,
                &start.user_agent,
            )
            .await
            .map_err(internal)
    }

    async fn session_user(
        &self,
        session_id: &str,
        user_id: i64,
    ) -> Result<Option<SessionCheck>, ConsoleError> {
        let Some(live) = self
            .accounts
            .sessions()
            .check(session_id, user_id)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let account = live.account;
        Ok(Some(SessionCheck {
            user: UserDto {
                id: account.account_id,
                role: parse_role(&account.role)?,
                username: account.username,
                must_change_password: account.must_change_password,
            },
            extended: live.extended,
        }))
    }

    async fn end_session(&self, session_id: &str) -> Result<(), ConsoleError> {
        self.accounts
            .sessions()
            .end(session_id)
            .await
            .map_err(internal)
    }

    async fn list_sessions(
        &self,
        viewer: &UserDto,
        session_id: &str,
    ) -> Result<Vec<SessionView>, ConsoleError> {
        let current = crate::auth::session_store::stored_key(session_id);
        let shown = |at: &str| db::parse_time(at).map_or_else(|| at.to_owned(), db::format_time);
        let rows = self
            .accounts
            .sessions()
            .list(viewer.id)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|r| SessionView {
                id: r.account_session_id,
                created_at: shown(&r.created_at),
                last_seen_at: shown(&r.last_seen_at),
                current: current.as_deref() == Some(r.session_key.as_str()),
                client: r.client,
                user_agent: r.user_agent,
            })
            .collect())
    }

    async fn end_own_session(&self, actor: &UserDto, id: i64) -> Result<(), ConsoleError> {
        if !self
            .accounts
            .sessions()
            .end_one(actor.id, id)
            .await
            .map_err(internal)?
        {
            return Err(ConsoleError::NotFound);
        }
        self.audit(&actor.username, "session.end", &format!("session #{id}"))
            .await
    }

    async fn end_all_sessions(&self, actor: &UserDto) -> Result<(), ConsoleError> {
        let ended = self
            .accounts
            .sessions()
            .end_all(actor.id)
            .await
            .map_err(internal)?;
        self.audit(
            &actor.username,
            "session.end_all",
            &format!("{ended} sessions ended"),
        )
        .await
    }

    async fn integrations(&self) -> Result<Vec<IntegrationSummary>, ConsoleError> {
        let row = self.defender_saved().await?;
        Ok(vec![IntegrationSummary {
            kind: DEFENDER.into(),
            name: "Microsoft Defender for Endpoint".into(),
            href: "/configuration/integrations/microsoft-defender".into(),
            state: state_of(row.as_ref()),
            last_error: row.as_ref().and_then(|r| r.last_error.clone()),
            last_sync_at: row.as_ref().and_then(|r| r.last_sync_at.clone()),
            last_sync_outcome: row.as_ref().and_then(|r| r.last_sync_outcome.clone()),
            demo: row.as_ref().is_some_and(|r| r.demo),
        }])
    }

    async fn defender_config(&self, viewer: &UserDto) -> Result<DefenderConfigView, ConsoleError> {
        Ok(config_view(self.defender_saved().await?.as_ref(), viewer))
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.username))]
    async fn save_defender(
        &self,
        actor: &UserDto,
        form: DefenderForm,
    ) -> Result<DefenderConfigView, ConsoleError> {
        let before = self.defender_saved().await?;
        let settings = checked_settings(before.as_ref(), &form, actor)?;
        let change = Change {
            settings,
            secret: &form.client_secret,
            enabled: form.enabled,
            actor: &actor.username,
        };
        let was_enabled = defender::save(
            &*self.db.integrations,
            &*self.db.audit,
            &self.secrets,
            before.as_ref(),
            change,
        )
        .await
        .map_err(internal)?;
        if form.enabled && !was_enabled {
            self.sync.trigger("enabled");
        }
        if was_enabled && !form.enabled {
            // Disabling removes Defender's dynamic profiles and re-models every endpoint
            // (imported ones stay) so each gets a standard profile again.
            let report = crate::endpoints::on_defender_disabled(&self.db).await;
            self.list_cache.invalidate(&*self.db.list_generation).await;
            let report = report.map_err(internal)?;
            let detail = format!("{} endpoints re-modelled", report.endpoints);
            self.audit(&actor.username, "profiles.remodel", &detail)
                .await?;
        }
        self.defender_config(actor).await
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.username))]
    async fn test_defender(
        &self,
        actor: &UserDto,
        form: DefenderForm,
    ) -> Result<ConnectionReport, ConsoleError> {
        let row = self.defender_saved().await?;
        let settings = checked_settings(row.as_ref(), &form, actor)?;
        self.test_limiter
            .take(actor.id)
            .await
            .map_err(|limited| match limited {
                Limited::Wait(retry_after_secs) => ConsoleError::RateLimited { retry_after_secs },
                Limited::Db(e) => internal(e),
            })?;
        defender::test_connection(
            &*self.db.audit,
            &self.secrets,
            &self.client_options,
            row.as_ref(),
            &settings,
            &form.client_secret,
            &actor.username,
        )
        .await
        .map_err(internal)
    }

    async fn audit_log(&self) -> Result<Vec<AuditEntry>, ConsoleError> {
        let rows = self.db.audit.recent(500).await.map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                at: r.at,
                actor: r.actor,
                action: r.action,
                detail: r.detail,
            })
            .collect())
    }

    async fn list_endpoints(&self, query: EndpointQuery) -> Result<EndpointPage, ConsoleError> {
        endpoint_list::list(&*self.db.endpoint_views, &self.list_cache, query)
            .await
            .map_err(internal)
    }

    async fn vulnerabilities(
        &self,
        query: VulnerabilityQuery,
    ) -> Result<VulnerabilityPage, ConsoleError> {
        vulnerabilities::page(&self.db, &self.list_cache, query)
            .await
            .map_err(internal)?
            .ok_or(ConsoleError::NotFound)
    }

    async fn software(&self, query: SoftwareQuery) -> Result<SoftwarePage, ConsoleError> {
        software::page(&self.db, &self.list_cache, &self.software, query)
            .await
            .map_err(internal)?
            .ok_or(ConsoleError::NotFound)
    }

    async fn endpoint_summary(
        &self,
        viewer: &UserDto,
        id: i64,
    ) -> Result<EndpointSummary, ConsoleError> {
        let can_correct = viewer.role.allows(Capability::CorrectIdentity);
        endpoint_summary::summary(&self.db, id, can_correct)
            .await
            .map_err(internal)?
            .ok_or(ConsoleError::NotFound)
    }

    async fn split_machine(
        &self,
        actor: &UserDto,
        endpoint_id: i64,
        machine_id: String,
        reason: String,
    ) -> Result<i64, ConsoleError> {
        let moved = self
            .sync
            .split(&actor.username, endpoint_id, &machine_id, &reason)
            .await
            .map_err(split_error)?;
        self.list_cache.invalidate(&*self.db.list_generation).await;
        Ok(moved)
    }

    async fn undo_split(&self, actor: &UserDto, split_id: i64) -> Result<i64, ConsoleError> {
        let moved = self
            .sync
            .undo_split(&actor.username, split_id)
            .await
            .map_err(split_error)?;
        self.list_cache.invalidate(&*self.db.list_generation).await;
        Ok(moved)
    }

    async fn dashboard(&self, group: Option<String>) -> Result<DashboardView, ConsoleError> {
        dashboard::dashboard(&self.db, &self.list_cache, group)
            .await
            .map_err(internal)
    }

    async fn sync_journal(&self) -> Result<Vec<SyncRunView>, ConsoleError> {
        sync_journal::journal(&*self.db.sync_journal, 50)
            .await
            .map_err(internal)
    }

    async fn sync_now(&self, actor: &UserDto) -> Result<(), ConsoleError> {
        if !defender::is_enabled(&*self.db.integrations)
            .await
            .map_err(internal)?
        {
            return Err(ConsoleError::Conflict(
                "Enable the Microsoft Defender integration before syncing.".into(),
            ));
        }
        self.audit(&actor.username, "sync.now", "Microsoft Defender")
            .await?;
        self.sync.trigger("sync now");
        Ok(())
    }

    async fn list_profiles(&self) -> Result<Vec<ProfileRow>, ConsoleError> {
        let rows = self.db.profile_views.list().await.map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|r| ProfileRow {
                name: r.name,
                origin: r.origin,
                enabled: r.enabled,
                risky_level: r.risky_level,
                endpoints: r.endpoints.max(0) as u64,
            })
            .collect())
    }

    async fn remodel_all(&self, actor: &UserDto) -> Result<RemodelSummary, ConsoleError> {
        let report = self.sync.remodel_all().await.map_err(internal)?;
        let detail = format!("{} endpoints re-modelled", report.endpoints);
        self.audit(&actor.username, "profiles.remodel", &detail)
            .await?;
        Ok(RemodelSummary {
            endpoints: report.endpoints as u64,
            dynamic_profiles: report.dynamic_profiles as u64,
            elapsed_ms: report.elapsed.as_millis() as u64,
        })
    }

    async fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<(), ConsoleError> {
        self.db
            .audit
            .record(actor, action, detail)
            .await
            .map_err(internal)
    }

    async fn endpoint_actions(
        &self,
        viewer: &UserDto,
        endpoint_id: i64,
        machine_id: Option<String>,
    ) -> Result<EndpointActions, ConsoleError> {
        let target = self
            .db
            .action_targets
            .target(endpoint_id, machine_id.as_deref())
            .await
            .map_err(internal)?
            .ok_or(ConsoleError::NotFound)?;
        // A machine that is not (or no longer) a live machine of this endpoint is not offered.
        if machine_id.is_some() && target.machine_id.is_none() {
            return Err(ConsoleError::NotFound);
        }
        let enabled = defender::is_enabled(&*self.db.integrations)
            .await
            .map_err(internal)?;
        let can_act = viewer.role.allows(Capability::Operate);
        panel::endpoint_actions(&self.db, &target, enabled, can_act)
            .await
            .map_err(internal)
    }

    async fn submit_action(
        &self,
        actor: &UserDto,
        request: ActionRequest,
    ) -> Result<ActionOutcome, ConsoleError> {
        self.actions
            .submit(&actor.username, request)
            .await
            .map_err(action_error)
    }

    async fn cancel_action(
        &self,
        actor: &UserDto,
        action_id: i64,
        comment: String,
    ) -> Result<ActionOutcome, ConsoleError> {
        self.actions
            .cancel(&actor.username, action_id, &comment)
            .await
            .map_err(action_error)
    }

    async fn list_api_tokens(&self) -> Result<Vec<ApiTokenView>, ConsoleError> {
        let rows = self.db.api_tokens.list().await.map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|r| ApiTokenView {
                id: r.api_token_id,
                name: r.name,
                created_by: r.created_by,
                created_at: r.created_at,
                last_used_at: r.last_used_at,
                revoked: r.revoked,
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.username))]
    async fn create_api_token(
        &self,
        actor: &UserDto,
        name: &str,
    ) -> Result<NewApiToken, ConsoleError> {
        validate_token_name(name).map_err(|m| ConsoleError::validation("name", m))?;
        let (id, token) =
            crate::endpoints::create_api_token(&*self.db.api_tokens, name, &actor.username)
                .await
                .map_err(internal)?;
        // The id and name identify the token in the audit log; its value goes nowhere but
        // the answer.
        let detail = format!("#{id} {name}");
        self.audit(&actor.username, "api_token.create", &detail)
            .await?;
        Ok(NewApiToken {
            id,
            name: name.to_owned(),
            token,
        })
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.username, id = id))]
    async fn revoke_api_token(&self, actor: &UserDto, id: i64) -> Result<(), ConsoleError> {
        if self.db.api_tokens.revoke(id).await.map_err(internal)? {
            let name = self
                .db
                .api_tokens
                .get(id)
                .await
                .map_err(internal)?
                .map(|r| r.name)
                .unwrap_or_default();
            let detail = format!("#{id} {name}");
            return self
                .audit(&actor.username, "api_token.revoke", &detail)
                .await;
        }
        match self.db.api_tokens.get(id).await.map_err(internal)? {
            Some(_) => Ok(()),
            None => Err(ConsoleError::NotFound),
        }
    }

    async fn remodel_status(&self) -> Result<RemodelStatus, ConsoleError> {
        self.sync.remodel_status().await.map_err(internal)
    }
}

fn split_error(e: SplitError) -> ConsoleError {
    match e {
        SplitError::NotFound => ConsoleError::NotFound,
        SplitError::Refused(message) => ConsoleError::Conflict(message),
        SplitError::Db(e) => internal(e),
        SplitError::Remodel(e) => internal(e),
    }
}

fn action_error(e: ActionError) -> ConsoleError {
    match e {
        ActionError::NotFound => ConsoleError::NotFound,
        ActionError::Invalid(errors) => ConsoleError::InvalidForm {
            errors: errors
                .into_iter()
                .map(|(field, message)| FieldError { field, message })
                .collect(),
        },
        ActionError::Refused(message) => ConsoleError::Conflict(message),
        ActionError::Db(e) => internal(e),
    }
}

fn account_error(e: AccountError) -> ConsoleError {
    match e {
        AccountError::NotFound => ConsoleError::NotFound,
        AccountError::LastAdministrator => ConsoleError::Conflict(
            "This is the last enabled Administrator: it cannot be disabled, demoted or deleted."
                .into(),
        ),
        AccountError::OwnAccount(message) => ConsoleError::Conflict(message.into()),
        AccountError::Invalid { field, message } => ConsoleError::validation(field, message),
        AccountError::Hash => internal(e),
        AccountError::Db(e) => internal(e),
    }
}
