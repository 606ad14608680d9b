//! The session registry: every signed-in session, by account (`account_session`).
//!
//! A session counts as signed in only while its row exists, its account is enabled, it has
//! been active within the idle limit and it signed in within the absolute limit. So ending an
//! account's sessions (sign out everywhere, disabling it, resetting or changing its password)
//! takes effect on their very next request, and the session list shows what is really live.

use std::time::Duration;

use time::OffsetDateTime;

use super::session_store::stored_key;
use std::sync::Arc;

use crate::db::{self, account_session, Database, DbError, SessionStore, Stores};

/// How long a session lives: `idle` after its last activity, and `absolute` after sign-in
/// however active it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
        }
    }
}

impl SessionLimits {
    /// How often activity is written down: each write moves the idle deadline, and costs a
    /// registry update and a session save, so requests closer together than this do not
    /// write. A thirtieth of the idle limit, at most a minute: a 30-minute session ends
    /// between 29 and 30 minutes after its last request.
    pub fn touch_every(&self) -> Duration {
        (self.idle / 30).min(Duration::from_secs(60))
    }
}

/// A live session's account, as the registry read it.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub account: account_session::SignedInRow,
    /// This request moved the idle deadline.
    pub extended: bool,
}

#[derive(Clone, Debug)]
pub struct SessionRegistry {
    database: Arc<dyn Database>,
    sessions: Arc<dyn SessionStore>,
    limits: SessionLimits,
}

impl SessionRegistry {
    pub fn new(db: &Stores, limits: SessionLimits) -> Self {
        Self {
            database: db.database.clone(),
            sessions: db.sessions.clone(),
            limits,
        }
    }

    pub fn limits(&self) -> SessionLimits {
        self.limits
    }

    /// Records a sign-in, and forgets the session it replaces (its record is gone already:
    /// sign-in gives the browser a new id).
    #[tracing::instrument(skip_all, fields(account_id = account_id))]
    pub async fn start(
        &self,
        replaces: Option<&str>,
        session_id: &str,
        account_id: i64,
        client: &str,
        user_agent: &str,
    ) -> Result<(), DbError> {
        let Some(key) = stored_key(session_id) else {
            return Err(DbError::Conflict("not a session id".into()));
        };
        if let Some(old) = replaces.and_then(stored_key) {
            let mut conn = self.database.acquire().await?;
            self.sessions.end_key(&mut conn, &old).await?;
        }
        let now = OffsetDateTime::now_utc();
        // Sign-ins are rare, so they are when rows of sessions that expired unseen go.
        let (idle_cutoff, absolute_cutoff) = self.cutoffs(now);
        self.sessions
            .delete_expired(&idle_cutoff, &absolute_cutoff)
            .await?;
        // Bounded: the list shows it, and a client picks it.
        let user_agent: String = user_agent.chars().take(256).collect();
        self.sessions
            .insert(&account_session::NewSession {
                session_key: &key,
                account_id,
                at: &db::format_time_precise(now),
                client,
                user_agent: &user_agent,
            })
            .await
    }

    /// The account signed in on `session_id` if the session is live and belongs to
    /// `user_id`; a session that is not live any more is ended.
    pub async fn check(
        &self,
        session_id: &str,
        user_id: i64,
    ) -> Result<Option<LiveSession>, DbError> {
        let Some(key) = stored_key(session_id) else {
            return Ok(None);
        };
        let Some(row) = self.sessions.signed_in(&key).await? else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        let since = |at: &str| db::parse_time(at).map(|at| now - at);
        let idle = since(&row.last_seen_at);
        let age = since(&row.created_at);
        let live = row.account_id == user_id
            && !row.disabled
            && idle.is_some_and(|idle| idle < self.limits.idle)
            && age.is_some_and(|age| age < self.limits.absolute);
        if !live {
            tracing::info!(account_id = row.account_id, "session ended by its limits");
            let mut conn = self.database.acquire().await?;
            self.sessions.end_key(&mut conn, &key).await?;
            return Ok(None);
        }
        let extended = idle.is_some_and(|idle| idle >= self.limits.touch_every());
        if extended {
            self.sessions
                .touch(row.account_session_id, &db::format_time_precise(now))
                .await?;
        }
        Ok(Some(LiveSession {
            account: row,
            extended,
        }))
    }

    /// The live sessions of an account, newest first, with the key of each (to tell the
    /// current one apart).
    pub async fn list(&self, account_id: i64) -> Result<Vec<account_session::SessionRow>, DbError> {
        let (idle_cutoff, absolute_cutoff) = self.cutoffs(OffsetDateTime::now_utc());
        let rows = self.sessions.for_account(account_id).await?;
        Ok(rows
            .into_iter()
            .filter(|r| r.last_seen_at >= idle_cutoff && r.created_at >= absolute_cutoff)
            .collect())
    }

    /// Signing out of one session.
    pub async fn end(&self, session_id: &str) -> Result<(), DbError> {
        let Some(key) = stored_key(session_id) else {
            return Ok(());
        };
        let mut conn = self.database.acquire().await?;
        self.sessions.end_key(&mut conn, &key).await
    }

    /// Ends one session of an account; false when the account has no such session.
    pub async fn end_one(&self, account_id: i64, account_session_id: i64) -> Result<bool, DbError> {
        let mut conn = self.database.acquire().await?;
        self.sessions
            .end_one(&mut conn, account_id, account_session_id)
            .await
    }

    /// Ends every session of an account; how many ended.
    pub async fn end_all(&self, account_id: i64) -> Result<u64, DbError> {
        let mut conn = self.database.acquire().await?;
        self.sessions.end_all_of(&mut conn, account_id, None).await
    }

    /// Sessions last active before the first, or signed in before the second, are over.
    fn cutoffs(&self, now: OffsetDateTime) -> (String, String) {
        (
            db::format_time_precise(now - self.limits.idle),
            db::format_time_precise(now - self.limits.absolute),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_is_written_at_most_once_a_minute_and_often_enough_for_short_limits() {
        let every = |idle_secs| {
            SessionLimits {
                idle: Duration::from_secs(idle_secs),
                absolute: Duration::from_secs(3600),
            }
            .touch_every()
        };
        assert_eq!(every(30 * 60), Duration::from_secs(60));
        assert_eq!(every(24 * 3600), Duration::from_secs(60));
        assert_eq!(every(3), Duration::from_millis(100));
    }
}
