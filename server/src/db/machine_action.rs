//! `machine_action`: every isolate, unisolate and scan this console sent or found pending, with
//! the status Defender reports and the poller's schedule.

use super::{classify, AsConn, DbError, Pool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActionRow {
    pub machine_action_id: i64,
    pub endpoint_id: i64,
    pub machine_id: String,
    pub kind: String,
    pub action_group: String,
    pub scope: Option<String>,
    pub comment: String,
    pub requested_by: String,
    pub external: bool,
    pub request_key: Option<String>,
    pub defender_action_id: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub requested_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
    pub last_polled_at: Option<String>,
    pub next_poll_at: Option<String>,
    pub poll_failures: i64,
    /// Defender's `requestor` (for our own actions, the name Defender gives this app).
    pub defender_requestor: Option<String>,
    pub request_source: Option<String>,
}

const COLUMNS: &str = "machine_action_id, endpoint_id, machine_id, kind, action_group, scope, \
    comment, requested_by, external, request_key, defender_action_id, status, error, \
    requested_at, updated_at, completed_at, last_polled_at, next_poll_at, poll_failures, \
    defender_requestor, request_source";

/// The statuses the poller follows; the partial unique index uses the same list.
const OPEN: &str = "('Submitting', 'Pending', 'InProgress')";

/// A request about to be sent, or an action found in Defender.
pub struct NewAction<'a> {
    pub endpoint_id: i64,
    pub machine_id: &'a str,
    pub kind: &'a str,
    pub action_group: &'a str,
    pub scope: Option<&'a str>,
    pub comment: &'a str,
    pub requested_by: &'a str,
    pub external: bool,
    pub request_key: Option<&'a str>,
    pub defender_action_id: Option<&'a str>,
    pub status: &'a str,
    pub requested_at: &'a str,
    pub updated_at: &'a str,
    pub completed_at: Option<&'a str>,
    pub next_poll_at: Option<&'a str>,
    pub defender_requestor: Option<&'a str>,
    pub request_source: Option<&'a str>,
}

/// Machine actions: what was asked, sent and polled.
#[async_trait::async_trait]
pub trait ActionStore: Send + Sync + std::fmt::Debug {
    /// Inserts the row. A second open action for the same device and group, or a reused request
    /// key, is a `Conflict`: that is how concurrent submissions are serialised.
    async fn insert(&self, a: &NewAction<'_>) -> Result<i64, DbError>;

    async fn get(&self, id: i64) -> Result<Option<ActionRow>, DbError>;

    async fn by_request_key(&self, key: &str) -> Result<Option<ActionRow>, DbError>;

    async fn by_defender_id(&self, defender_action_id: &str) -> Result<Option<ActionRow>, DbError>;

    /// The open action of a device in a group, if any (at most one, by the unique index).
    async fn open_in_group(
        &self,
        machine_id: &str,
        group: &str,
    ) -> Result<Option<ActionRow>, DbError>;

    /// Every open action, for the poller.
    async fn open(&self) -> Result<Vec<ActionRow>, DbError>;

    /// An endpoint's history, newest first: actions sent from its page, and every action on the
    /// machines it holds now (a machine split off another endpoint brings its history along).
    async fn for_endpoint(&self, endpoint_id: i64, limit: i64) -> Result<Vec<ActionRow>, DbError>;

    /// What a machine's action panel is drawn from, read in one snapshot: the poller updates
    /// actions while the page reads, and separate reads showed an action "Succeeded" in the
    /// history beside an isolation still "pending". `history_of` adds that endpoint's history.
    async fn snapshot(
        &self,
        machine_id: &str,
        history_of: Option<i64>,
    ) -> Result<ActionSnapshot, DbError>;

    /// Defender accepted the request: its id and first status.
    async fn record_sent(
        &self,
        id: i64,
        defender_action_id: &str,
        status: &str,
        updated_at: &str,
        completed_at: Option<&str>,
        next_poll_at: Option<&str>,
    ) -> Result<(), DbError>;

    /// The request never reached Defender or was refused; the row stays as history. Only a claim
    /// still waiting for its answer changes: a submission and the poller may both be deciding it.
    async fn record_not_sent(&self, id: i64, error: &str, at: &str) -> Result<(), DbError>;

    async fn record_poll(&self, id: i64, p: &Polled<'_>) -> Result<(), DbError>;

    /// A failed status check: the reason is shown with the action and the next check backs off.
    async fn record_poll_failure(
        &self,
        id: i64,
        error: &str,
        polled_at: &str,
        next_poll_at: &str,
    ) -> Result<(), DbError>;

    /// Remembers how Defender named the requestor of an action this console sent.
    async fn record_requestor(&self, id: i64, requestor: Option<&str>) -> Result<(), DbError>;

    /// The name Defender gave this console's own actions most recently, if it ever answered one.
    async fn own_requestor(&self) -> Result<Option<String>, DbError>;

    /// Remembers that Defender refused `kind` on the machine with this OS.
    async fn record_refusal(
        &self,
        machine_id: &str,
        kind: &str,
        code: &str,
        os_platform: Option<&str>,
        version: Option<&str>,
        at: &str,
    ) -> Result<(), DbError>;
}

/// One consistent reading of a machine's actions (see [`ActionStore::snapshot`]).
#[derive(Debug, Clone, Default)]
pub struct ActionSnapshot {
    pub latest_isolation: Option<ActionRow>,
    pub open_scan: Option<ActionRow>,
    pub refusals: Vec<Refusal>,
    /// Newest first, at most [`HISTORY_LIMIT`] rows; empty unless asked for.
    pub history: Vec<ActionRow>,
}

/// How many past actions an endpoint's history shows.
pub const HISTORY_LIMIT: i64 = 50;

#[async_trait::async_trait]
impl ActionStore for Pool {
    async fn insert(&self, a: &NewAction<'_>) -> Result<i64, DbError> {
        crate::on_pool!(self, |pool| {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO machine_action (endpoint_id, machine_id, kind, action_group, scope, comment,
                     requested_by, external, request_key, defender_action_id, status, requested_at,
                     updated_at, completed_at, next_poll_at, defender_requestor, request_source)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                 RETURNING machine_action_id",
            )
            .bind(a.endpoint_id)
            .bind(a.machine_id)
            .bind(a.kind)
            .bind(a.action_group)
            .bind(a.scope)
            .bind(a.comment)
            .bind(a.requested_by)
            .bind(a.external)
            .bind(a.request_key)
            .bind(a.defender_action_id)
            .bind(a.status)
            .bind(a.requested_at)
            .bind(a.updated_at)
            .bind(a.completed_at)
            .bind(a.next_poll_at)
            .bind(a.defender_requestor)
            .bind(a.request_source)
            .fetch_one(pool)
            .await
            .map_err(classify)?;
            Ok(id)
        })
    }

    async fn get(&self, id: i64) -> Result<Option<ActionRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM machine_action WHERE machine_action_id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(classify)
        })
    }

    async fn by_request_key(&self, key: &str) -> Result<Option<ActionRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM machine_action WHERE request_key = $1"
            ))
            .bind(key)
            .fetch_optional(pool)
            .await
            .map_err(classify)
        })
    }

    async fn by_defender_id(&self, defender_action_id: &str) -> Result<Option<ActionRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM machine_action WHERE defender_action_id = $1"
            ))
            .bind(defender_action_id)
            .fetch_optional(pool)
            .await
            .map_err(classify)
        })
    }

    async fn open_in_group(
        &self,
        machine_id: &str,
        group: &str,
    ) -> Result<Option<ActionRow>, DbError> {
        open_in_group(&mut self.acquire().await?, machine_id, group).await
    }

    async fn open(&self) -> Result<Vec<ActionRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM machine_action WHERE status IN {OPEN} ORDER BY machine_action_id"
            ))
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn for_endpoint(&self, endpoint_id: i64, limit: i64) -> Result<Vec<ActionRow>, DbError> {
        history(&mut self.acquire().await?, endpoint_id, limit).await
    }

    async fn snapshot(
        &self,
        machine_id: &str,
        history_of: Option<i64>,
    ) -> Result<ActionSnapshot, DbError> {
        let mut tx = self.begin_snapshot().await?;
        let snapshot = ActionSnapshot {
            latest_isolation: latest_isolation(&mut tx, machine_id).await?,
            open_scan: open_in_group(&mut tx, machine_id, "scan").await?,
            refusals: refusals(&mut tx, machine_id).await?,
            history: match history_of {
                Some(endpoint_id) => history(&mut tx, endpoint_id, HISTORY_LIMIT).await?,
                None => Vec::new(),
            },
        };
        tx.commit().await?;
        Ok(snapshot)
    }

    async fn record_sent(
        &self,
        id: i64,
        defender_action_id: &str,
        status: &str,
        updated_at: &str,
        completed_at: Option<&str>,
        next_poll_at: Option<&str>,
    ) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE machine_action SET defender_action_id = $2, status = $3, updated_at = $4,
                     completed_at = $5, next_poll_at = $6, error = NULL
                 WHERE machine_action_id = $1",
            )
            .bind(id)
            .bind(defender_action_id)
            .bind(status)
            .bind(updated_at)
            .bind(completed_at)
            .bind(next_poll_at)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(())
        })
    }

    async fn record_not_sent(&self, id: i64, error: &str, at: &str) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE machine_action SET status = 'NotSent', error = $2, updated_at = $3,
                     completed_at = $3, next_poll_at = NULL
                 WHERE machine_action_id = $1 AND status = 'Submitting' AND defender_action_id IS NULL",
            )
            .bind(id)
            .bind(error)
            .bind(at)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(())
        })
    }

    async fn record_poll(&self, id: i64, p: &Polled<'_>) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE machine_action SET status = $2, updated_at = $3, completed_at = $4,
                     last_polled_at = $5, next_poll_at = $6, error = $7, poll_failures = 0
                 WHERE machine_action_id = $1",
            )
            .bind(id)
            .bind(p.status)
            .bind(p.updated_at)
            .bind(p.completed_at)
            .bind(p.polled_at)
            .bind(p.next_poll_at)
            .bind(p.note)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(())
        })
    }

    async fn record_poll_failure(
        &self,
        id: i64,
        error: &str,
        polled_at: &str,
        next_poll_at: &str,
    ) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE machine_action SET error = $2, last_polled_at = $3, next_poll_at = $4,
                     poll_failures = poll_failures + 1
                 WHERE machine_action_id = $1",
            )
            .bind(id)
            .bind(error)
            .bind(polled_at)
            .bind(next_poll_at)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(())
        })
    }

    async fn record_requestor(&self, id: i64, requestor: Option<&str>) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE machine_action SET defender_requestor = COALESCE($2, defender_requestor)
                 WHERE machine_action_id = $1",
            )
            .bind(id)
            .bind(requestor)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(())
        })
    }

    async fn own_requestor(&self) -> Result<Option<String>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT defender_requestor FROM machine_action
                 WHERE external = FALSE AND defender_requestor IS NOT NULL
                 ORDER BY machine_action_id DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await
            .map_err(classify)
        })
    }

    async fn record_refusal(
        &self,
        machine_id: &str,
        kind: &str,
        code: &str,
        os_platform: Option<&str>,
        version: Option<&str>,
        at: &str,
    ) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO machine_action_refusal (machine_id, kind, code, os_platform, version,
                     refused_at) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (machine_id, kind) DO UPDATE SET code = excluded.code,
                     os_platform = excluded.os_platform, version = excluded.version,
                     refused_at = excluded.refused_at",
            )
            .bind(machine_id)
            .bind(kind)
            .bind(code)
            .bind(os_platform)
            .bind(version)
            .bind(at)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(())
        })
    }
}

async fn open_in_group(
    c: &mut impl AsConn,
    machine_id: &str,
    group: &str,
) -> Result<Option<ActionRow>, DbError> {
    crate::on_conn!(c, |c| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM machine_action
             WHERE machine_id = $1 AND action_group = $2 AND status IN {OPEN}"
        ))
        .bind(machine_id)
        .bind(group)
        .fetch_optional(&mut *c)
        .await
        .map_err(classify)
    })
}

/// An endpoint's history, newest first: actions sent from its page, and every action on the
/// machines it holds now (a machine split off another endpoint brings its history along).
async fn history(
    c: &mut impl AsConn,
    endpoint_id: i64,
    limit: i64,
) -> Result<Vec<ActionRow>, DbError> {
    crate::on_conn!(c, |c| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM machine_action WHERE endpoint_id = $1
                OR machine_id IN (SELECT machine_id FROM defender_machine WHERE endpoint_id = $1)
             ORDER BY requested_at DESC, machine_action_id DESC LIMIT $2"
        ))
        .bind(endpoint_id)
        .bind(limit)
        .fetch_all(&mut *c)
        .await
        .map_err(classify)
    })
}

/// What decides the isolation state (defender-api.md §6): an open isolate or unisolate of the
/// machine (at most one, by the unique index), else the one that succeeded last. "Last" is by
/// Defender's completion time, not by request: isolate and unisolate sent close together have
/// completed out of order (§4.7), and actions from the portal arrive with the sync in any order.
async fn latest_isolation(
    c: &mut impl AsConn,
    machine_id: &str,
) -> Result<Option<ActionRow>, DbError> {
    crate::on_conn!(c, |c| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM machine_action
             WHERE machine_id = $1 AND action_group = 'isolation'
               AND status IN ('Submitting', 'Pending', 'InProgress', 'Succeeded')
             ORDER BY status <> 'Succeeded' DESC, COALESCE(completed_at, updated_at) DESC,
                      requested_at DESC, machine_action_id DESC
             LIMIT 1"
        ))
        .bind(machine_id)
        .fetch_optional(&mut *c)
        .await
        .map_err(classify)
    })
}

/// The refusals remembered for a machine.
async fn refusals(c: &mut impl AsConn, machine_id: &str) -> Result<Vec<Refusal>, DbError> {
    crate::on_conn!(c, |c| {
        sqlx::query_as(
            "SELECT kind, code, os_platform, version, refused_at FROM machine_action_refusal
             WHERE machine_id = $1",
        )
        .bind(machine_id)
        .fetch_all(&mut *c)
        .await
        .map_err(classify)
    })
}

/// A successful status check.
pub struct Polled<'a> {
    pub status: &'a str,
    pub updated_at: &'a str,
    pub completed_at: Option<&'a str>,
    pub polled_at: &'a str,
    pub next_poll_at: Option<&'a str>,
    /// Shown with the action, e.g. that Defender has reported no change for long.
    pub note: Option<&'a str>,
}

/// A refusal of Defender for the device itself, as remembered.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Refusal {
    pub kind: String,
    pub code: String,
    pub os_platform: Option<String>,
    pub version: Option<String>,
    pub refused_at: String,
}
