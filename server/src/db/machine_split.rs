//! `machine_split`: joins an administrator undid. The merge never joins the machine to the
//! endpoint again until the split is undone (deleted).

use super::{classify, AsConn, DbError, Pool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SplitRow {
    pub machine_split_id: i64,
    pub machine_id: String,
    pub endpoint_id: i64,
    pub reason: String,
    pub created_by: String,
    pub created_at: String,
}

pub(super) const COLUMNS: &str =
    "machine_split_id, machine_id, endpoint_id, reason, created_by, created_at";

/// Machines an administrator split off an endpoint.
#[async_trait::async_trait]
pub trait SplitStore: Send + Sync + std::fmt::Debug {
    /// Every split, for the merge.
    async fn all(&self, conn: &mut dyn AsConn) -> Result<Vec<SplitRow>, DbError>;

    async fn get(&self, conn: &mut dyn AsConn, id: i64) -> Result<Option<SplitRow>, DbError>;

    /// Pins a split; a second split of the same pair is a `Conflict`.
    async fn insert(
        &self,
        conn: &mut dyn AsConn,
        machine_id: &str,
        endpoint_id: i64,
        reason: &str,
        created_by: &str,
        created_at: &str,
    ) -> Result<i64, DbError>;

    async fn delete(&self, conn: &mut dyn AsConn, id: i64) -> Result<bool, DbError>;
}

#[async_trait::async_trait]
impl SplitStore for Pool {
    async fn all(&self, conn: &mut dyn AsConn) -> Result<Vec<SplitRow>, DbError> {
        crate::on_conn!(conn, |conn| {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM machine_split ORDER BY machine_split_id"
            ))
            .fetch_all(&mut *conn)
            .await?)
        })
    }

    async fn get(&self, conn: &mut dyn AsConn, id: i64) -> Result<Option<SplitRow>, DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM machine_split WHERE machine_split_id = $1"
            ))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(classify)
        })
    }

    async fn insert(
        &self,
        conn: &mut dyn AsConn,
        machine_id: &str,
        endpoint_id: i64,
        reason: &str,
        created_by: &str,
        created_at: &str,
    ) -> Result<i64, DbError> {
        crate::on_conn!(conn, |conn| {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO machine_split (machine_id, endpoint_id, reason, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING machine_split_id",
            )
            .bind(machine_id)
            .bind(endpoint_id)
            .bind(reason)
            .bind(created_by)
            .bind(created_at)
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?;
            Ok(id)
        })
    }

    async fn delete(&self, conn: &mut dyn AsConn, id: i64) -> Result<bool, DbError> {
        crate::on_conn!(conn, |conn| {
            let done = sqlx::query("DELETE FROM machine_split WHERE machine_split_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
            Ok(done.rows_affected() > 0)
        })
    }
}
