//! The sync's side of `machine_action`: Defender's own action history (defender-api.md §9.23)
//! applied from the staged listing. Actions started in the portal or by another tool become
//! rows of their own (`external`); actions this console tracks take Defender's status; and a
//! submission whose answer was lost is matched to the action it created (§9.22), so it is
//! never taken for someone else's.

use super::{format_time_precise, AsConn, DbError, Pool};

/// What the apply did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionsApplied {
    /// Actions started outside this console, new to it.
    pub added: u64,
    /// Tracked actions whose status moved.
    pub updated: u64,
    /// Submissions of this console whose lost answer the listing supplied.
    pub confirmed: u64,
}

const TERMINAL: &str = "('Succeeded', 'Failed', 'TimeOut', 'Cancelled')";

/// Machine actions found by the sync, applied to the actions this console tracks.
#[async_trait::async_trait]
pub trait ActionSyncStore: Send + Sync + std::fmt::Debug {
    /// Applies the staged actions; returns the latest creation time listed (for the cursor).
    async fn apply(
        &self,
        conn: &mut dyn AsConn,
    ) -> Result<(ActionsApplied, Option<String>), DbError>;
}

#[async_trait::async_trait]
impl ActionSyncStore for Pool {
    async fn apply(
        &self,
        conn: &mut dyn AsConn,
    ) -> Result<(ActionsApplied, Option<String>), DbError> {
        crate::on_conn!(conn, |conn| {
            let now = format_time_precise(time::OffsetDateTime::now_utc());
            let mut done = ActionsApplied::default();
            // Submissions still waiting for their answer: same machine, kind and comment, created by
            // the API no earlier than five minutes before the request (clock skew), not tracked yet.
            // The earliest such action is the one the request created.
            let five_minutes_before = if POSTGRES {
                "to_char((CAST(a.requested_at AS TIMESTAMPTZ) - INTERVAL '5 minutes') \
                 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            } else {
                "strftime('%Y-%m-%dT%H:%M:%SZ', a.requested_at, '-5 minutes')"
            };
            let confirmed = sqlx::query(&format!(
                "UPDATE machine_action SET defender_action_id = s.defender_action_id, status = s.status,
                     updated_at = s.updated_at,
                     completed_at = CASE WHEN s.status IN {TERMINAL} THEN s.updated_at END,
                     next_poll_at = CASE WHEN s.status IN {TERMINAL} THEN NULL ELSE $1 END,
                     defender_requestor = s.requestor, request_source = s.request_source, error = NULL
                 FROM (SELECT a.machine_action_id AS claim, st.*,
                              ROW_NUMBER() OVER (PARTITION BY a.machine_action_id
                                                 ORDER BY st.requested_at, st.defender_action_id) AS n
                       FROM machine_action a JOIN stage_machine_action st
                         ON st.machine_id = a.machine_id AND st.kind = a.kind
                        AND st.comment = a.comment
                        AND st.requested_at >= {five_minutes_before}
                        AND COALESCE(st.request_source, 'PublicApi') = 'PublicApi'
                       WHERE a.status = 'Submitting' AND a.defender_action_id IS NULL
                         AND NOT EXISTS (SELECT 1 FROM machine_action t
                                         WHERE t.defender_action_id = st.defender_action_id)) s
                 WHERE machine_action.machine_action_id = s.claim AND s.n = 1"
            ))
            .bind(&now)
            .execute(&mut *conn)
            .await?;
            done.confirmed = confirmed.rows_affected();
            // Tracked actions take Defender's word, except that a finished one never reopens.
            let updated = sqlx::query(&format!(
                "UPDATE machine_action SET status = s.status, updated_at = s.updated_at,
                     completed_at = CASE WHEN s.status IN {TERMINAL} THEN s.updated_at END,
                     next_poll_at = CASE WHEN s.status IN {TERMINAL} THEN NULL
                                         ELSE COALESCE(machine_action.next_poll_at, $1) END,
                     defender_requestor = COALESCE(machine_action.defender_requestor, s.requestor),
                     request_source = COALESCE(machine_action.request_source, s.request_source)
                 FROM stage_machine_action s
                 WHERE machine_action.defender_action_id = s.defender_action_id
                   AND (machine_action.status IS DISTINCT FROM s.status OR machine_action.updated_at < s.updated_at)
                   AND (machine_action.status NOT IN {TERMINAL} OR s.status IN {TERMINAL})"
            ))
            .bind(&now)
            .execute(&mut *conn)
            .await?;
            done.updated = updated.rows_affected();
            // The rest were started elsewhere. A machine the inventory does not hold has no endpoint to
            // show them on; an open action that collides with one this console tracks in the same
            // group (the unique index) waits for a later listing.
            let added = sqlx::query(&format!(
                "INSERT INTO machine_action (endpoint_id, machine_id, kind, action_group, scope, comment,
                     requested_by, external, defender_action_id, status, requested_at, updated_at,
                     completed_at, next_poll_at, defender_requestor, request_source)
                 SELECT m.endpoint_id, s.machine_id, s.kind,
                        CASE WHEN s.kind = 'RunAntiVirusScan' THEN 'scan' ELSE 'isolation' END,
                        s.scope, s.comment, COALESCE(s.requestor, 'unknown requestor'), TRUE,
                        s.defender_action_id, s.status, s.requested_at, s.updated_at,
                        CASE WHEN s.status IN {TERMINAL} THEN s.updated_at END,
                        CASE WHEN s.status IN {TERMINAL} THEN NULL ELSE $1 END,
                        s.requestor, s.request_source
                 FROM stage_machine_action s
                 JOIN defender_machine m ON m.machine_id = s.machine_id AND m.endpoint_id IS NOT NULL
                 WHERE NOT EXISTS (SELECT 1 FROM machine_action a
                                   WHERE a.defender_action_id = s.defender_action_id)
                 ORDER BY s.requested_at
                 ON CONFLICT DO NOTHING"
            ))
            .bind(&now)
            .execute(&mut *conn)
            .await?;
            done.added = added.rows_affected();
            let latest: Option<String> =
                sqlx::query_scalar("SELECT MAX(requested_at) FROM stage_machine_action")
                    .fetch_one(&mut *conn)
                    .await?;
            Ok((done, latest))
        })
    }
}
