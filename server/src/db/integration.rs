//! The `integration` table: one row per integration kind, its settings, the sealed secret and
//! the schedule state.

use super::{classify, now, DbError, JsonText, Pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IntegrationRow {
    pub kind: String,
    pub enabled: bool,
    #[sqlx(try_from = "JsonText")]
    pub settings: String,
    pub secret_sealed: Option<String>,
    pub secret_changed_at: Option<String>,
    pub demo: bool,
    pub last_error: Option<String>,
    pub last_sync_at: Option<String>,
    pub last_sync_outcome: Option<String>,
    pub next_sync_at: Option<String>,
}

const COLUMNS: &str = "kind, enabled, settings, secret_sealed, secret_changed_at, demo, \
    last_error, last_sync_at, last_sync_outcome, next_sync_at";

/// Integration settings and their sealed secrets.
#[async_trait::async_trait]
pub trait IntegrationStore: Send + Sync + std::fmt::Debug {
    async fn get(&self, kind: &str) -> Result<Option<IntegrationRow>, DbError>;

    async fn save(&self, save: Save<'_>) -> Result<(), DbError>;

    /// Records how a sync ended; `error` set means the integration shows the Error state.
    async fn record_sync(
        &self,
        kind: &str,
        finished_at: &str,
        outcome: &str,
        error: Option<&str>,
    ) -> Result<(), DbError>;

    async fn set_next_sync(&self, kind: &str, at: Option<&str>) -> Result<(), DbError>;

    /// Replaces the sealed secret with `new` if it is still `old`, keeping `secret_changed_at`:
    /// the secret itself is the same, only its seal changes. Returns whether it did.
    async fn reseal_secret(&self, kind: &str, old: &str, new: &str) -> Result<bool, DbError>;
}

#[async_trait::async_trait]
impl IntegrationStore for Pool {
    async fn get(&self, kind: &str) -> Result<Option<IntegrationRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM integration WHERE kind = $1"
            ))
            .bind(kind)
            .fetch_optional(pool)
            .await
            .map_err(classify)
        })
    }

    async fn save(&self, save: Save<'_>) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            let at = now();
            sqlx::query(
                "INSERT INTO integration (kind, enabled, settings, secret_sealed, secret_changed_at, demo,
                     next_sync_at, updated_at, updated_by)
                 VALUES ($1, $2, $3, $4, CASE WHEN $4 IS NULL THEN NULL ELSE $5 END, $6, $7, $5, $8)
                 ON CONFLICT (kind) DO UPDATE SET
                     enabled = excluded.enabled,
                     settings = excluded.settings,
                     secret_sealed = COALESCE(excluded.secret_sealed, integration.secret_sealed),
                     secret_changed_at = CASE WHEN excluded.secret_sealed IS NULL
                         THEN integration.secret_changed_at ELSE excluded.updated_at END,
                     demo = excluded.demo,
                     next_sync_at = excluded.next_sync_at,
                     last_error = CASE WHEN excluded.enabled = FALSE THEN NULL ELSE integration.last_error END,
                     updated_at = excluded.updated_at,
                     updated_by = excluded.updated_by",
            )
            .bind(save.kind)
            .bind(save.enabled)
            .bind(JsonText(save.settings))
            .bind(save.secret_sealed)
            .bind(&at)
            .bind(save.demo)
            .bind(save.next_sync_at)
            .bind(save.actor)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(())
        })
    }

    async fn record_sync(
        &self,
        kind: &str,
        finished_at: &str,
        outcome: &str,
        error: Option<&str>,
    ) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE integration SET last_sync_at = $2, last_sync_outcome = $3, last_error = $4
                 WHERE kind = $1",
            )
            .bind(kind)
            .bind(finished_at)
            .bind(outcome)
            .bind(error)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(())
        })
    }

    async fn set_next_sync(&self, kind: &str, at: Option<&str>) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query("UPDATE integration SET next_sync_at = $2 WHERE kind = $1")
                .bind(kind)
                .bind(at)
                .execute(pool)
                .await
                .map_err(classify)?;
            Ok(())
        })
    }

    async fn reseal_secret(&self, kind: &str, old: &str, new: &str) -> Result<bool, DbError> {
        crate::on_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE integration SET secret_sealed = $3 WHERE kind = $1 AND secret_sealed = $2",
            )
            .bind(kind)
            .bind(old)
            .bind(new)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(done.rows_affected() == 1)
        })
    }
}

/// What a save changes; `secret_sealed: None` keeps the stored secret.
pub struct Save<'a> {
    pub kind: &'a str,
    pub enabled: bool,
    pub settings: &'a str,
    pub secret_sealed: Option<&'a str>,
    pub demo: bool,
    pub next_sync_at: Option<&'a str>,
    pub actor: &'a str,
}
