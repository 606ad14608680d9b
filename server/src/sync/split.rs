//! An administrator's correction of the identity rules: split a Defender machine off an
//! endpoint, pinned so that later syncs keep it apart (`machine_split`), and undo the split.
//! Both re-run the merge at once, under the same lock as a sync's apply phase, and re-model,
//! so the Summary shows the result straight away.

use super::merge_write;
use super::service::SyncService;
use crate::db::{self, AsConn, DbError, Stores};
use crate::endpoints::RemodelError;

/// Why a split or an undo was refused.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("not found")]
    NotFound,
    /// The request makes no sense for this endpoint; the message says why.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Remodel(#[from] RemodelError),
}

/// Longest reason kept with a split.
pub const MAX_REASON_CHARS: usize = 500;

impl SyncService {
    /// Splits `machine_id` off `endpoint_id` and pins the split. Returns the endpoint the
    /// machine lives on now.
    #[tracing::instrument(skip_all, fields(endpoint_id, machine_id))]
    pub async fn split(
        &self,
        actor: &str,
        endpoint_id: i64,
        machine_id: &str,
        reason: &str,
    ) -> Result<i64, SplitError> {
        let stores = self.stores();
        let reason = reason.trim();
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(SplitError::Refused(format!(
                "Keep the reason under {MAX_REASON_CHARS} characters."
            )));
        }
        let linked = stores.machines.on_endpoint(endpoint_id).await?;
        let Some((_, network)) = linked.iter().find(|(m, _)| m == machine_id) else {
            return Err(SplitError::NotFound);
        };
        if !network && linked.len() < 2 {
            return Err(SplitError::Refused(
                "This machine is the only source of this endpoint: there is nothing to split it \
                 from."
                    .into(),
            ));
        }
        let _merge = self.merge_lock().lock().await;
        let mut conn = stores.database.acquire().await?;
        let mut tx = conn.begin_write().await?;
        let pinned = stores
            .splits
            .insert(&mut tx, machine_id, endpoint_id, reason, actor, &db::now())
            .await;
        match pinned {
            Ok(_) => {}
            Err(DbError::Conflict(_)) => {
                return Err(SplitError::Refused(
                    "This machine is already split off this endpoint.".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        }
        rejoin(stores, &mut tx, self.inactive_since()).await?;
        let now_on = stores.machines.endpoint_of(&mut tx, machine_id).await?;
        stores
            .audit
            .record_in(
                &mut tx,
                actor,
                "identity.split",
                &format!(
                "Defender machine {machine_id} split off endpoint {endpoint_id} (now endpoint {}): \
                 {reason}",
                now_on.map_or("none".to_owned(), |e| e.to_string())
            ),
            )
            .await?;
        tx.commit().await?;
        drop(_merge);
        self.remodel_all_afresh().await?;
        now_on.ok_or(SplitError::NotFound)
    }

    /// Undoes a split: the identity rules decide again. Returns the endpoint the machine lives
    /// on now.
    #[tracing::instrument(skip_all, fields(split_id))]
    pub async fn undo_split(&self, actor: &str, split_id: i64) -> Result<i64, SplitError> {
        let stores = self.stores();
        let _merge = self.merge_lock().lock().await;
        let mut conn = stores.database.acquire().await?;
        let mut tx = conn.begin_write().await?;
        let split = stores
            .splits
            .get(&mut tx, split_id)
            .await?
            .ok_or(SplitError::NotFound)?;
        stores.splits.delete(&mut tx, split_id).await?;
        rejoin(stores, &mut tx, self.inactive_since()).await?;
        let now_on = stores
            .machines
            .endpoint_of(&mut tx, &split.machine_id)
            .await?;
        stores
            .audit
            .record_in(
                &mut tx,
                actor,
                "identity.split_undone",
                &format!(
                    "Split of Defender machine {} off endpoint {} undone (split by {} at {}); the \
                 machine is now on endpoint {}",
                    split.machine_id,
                    split.endpoint_id,
                    split.created_by,
                    split.created_at,
                    now_on.map_or("none".to_owned(), |e| e.to_string())
                ),
            )
            .await?;
        tx.commit().await?;
        drop(_merge);
        self.remodel_all_afresh().await?;
        now_on.ok_or(SplitError::NotFound)
    }
}

/// Runs the merge alone on what is stored, in the caller's transaction.
async fn rejoin(
    stores: &Stores,
    conn: &mut impl crate::db::AsConn,
    recent_since: String,
) -> Result<(), DbError> {
    stores.staging.prepare(conn).await?;
    let merged = merge_write::merge_machines(stores, conn, &recent_since).await;
    stores.staging.clear(conn).await?;
    merged
}
