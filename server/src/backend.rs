//! `ServerBackend`: the server's implementation of the app's `ConsoleBackend` port. Domain
//! and database errors become `ConsoleError`s here, and only here.

use std::net::IpAddr;

use app::backend::ConsoleBackend;
use app::error::ConsoleError;
use app::model::user::{validate_password, validate_username, Role, UserDto};
use sqlx::SqlitePool;

use crate::auth::password;
use crate::auth::throttle::{LoginThrottle, ThrottleLimits};
use crate::db::{self, account::AccountRow, DbError};

pub struct ServerBackend {
    pool: SqlitePool,
    throttle: LoginThrottle,
}

impl ServerBackend {
    pub fn new(pool: SqlitePool, limits: ThrottleLimits) -> Self {
        Self {
            pool,
            throttle: LoginThrottle::new(limits),
        }
    }
}

/// Logs an internal failure under a short incident id and returns only the id.
pub fn internal(err: impl std::fmt::Display) -> ConsoleError {
    let incident = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    tracing::error!(%incident, error = %err, "internal error");
    ConsoleError::Internal { incident }
}

fn to_dto(row: AccountRow) -> Result<UserDto, ConsoleError> {
    let role =
        Role::parse(&row.role).ok_or_else(|| internal(format!("bad role {:?}", row.role)))?;
    Ok(UserDto {
        id: row.account_id,
        username: row.username,
        role,
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
        if let Some(retry_after_secs) = self.throttle.check(username, client) {
            tracing::warn!("login refused by the throttle");
            return Err(ConsoleError::RateLimited { retry_after_secs });
        }
        let row = db::account::by_username(&self.pool, username)
            .await
            .map_err(internal)?;
        let stored = row.as_ref().map(|r| r.password_hash.clone());
        if password::verify(password.to_owned(), stored).await {
            self.throttle.record_success(username);
            return to_dto(row.expect("verified rows exist"));
        }
        self.throttle.record_failure(username, client);
        tracing::warn!("failed login");
        let detail = format!("from {client}");
        db::audit_log::record(&self.pool, username, "login.failed", &detail)
            .await
            .map_err(internal)?;
        Err(ConsoleError::InvalidCredentials)
    }

    async fn user(&self, user_id: i64) -> Result<Option<UserDto>, ConsoleError> {
        match db::account::by_id(&self.pool, user_id)
            .await
            .map_err(internal)?
        {
            Some(row) => to_dto(row).map(Some),
            None => Ok(None),
        }
    }

    async fn list_users(&self) -> Result<Vec<UserDto>, ConsoleError> {
        db::account::list(&self.pool)
            .await
            .map_err(internal)?
            .into_iter()
            .map(to_dto)
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
        let id = match db::account::insert(&self.pool, username, &hash, role.as_str()).await {
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
        })
    }

    async fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<(), ConsoleError> {
        db::audit_log::record(&self.pool, actor, action, detail)
            .await
            .map_err(internal)
    }
}
