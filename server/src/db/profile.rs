//! `profile`: factory, custom and Defender dynamic (`⇋`) profiles.

use super::{DbError, Pool};

/// The profiles: factory, custom and Defender's dynamic ones.
#[async_trait::async_trait]
pub trait ProfileStore: Send + Sync + std::fmt::Debug {
    /// Records profiles of one origin, leaving existing rows (and an admin's settings) alone.
    async fn ensure(&self, names: &[String], origin: &str) -> Result<(), DbError>;

    /// Makes the `defender` profiles exactly `names`: adds the new ones, deletes the rest.
    async fn replace_dynamic(&self, names: &[String]) -> Result<(), DbError>;

    /// Deletes every Defender dynamic profile.
    async fn delete_dynamic(&self) -> Result<u64, DbError>;

    /// The risky level an admin set per profile (`None` rows omitted).
    async fn risky_levels(&self) -> Result<Vec<(String, String)>, DbError>;

    async fn names_by_origin(&self, origin: &str) -> Result<Vec<String>, DbError>;
}

#[async_trait::async_trait]
impl ProfileStore for Pool {
    async fn ensure(&self, names: &[String], origin: &str) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for name in names {
                sqlx::query(
                    "INSERT INTO profile (name, origin) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(origin)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    async fn replace_dynamic(&self, names: &[String]) -> Result<(), DbError> {
        // Reads before it writes: a write transaction (see `AsConn::begin_write`).
        let mut tx = self.begin_write().await?;
        crate::on_conn!(&mut tx, |tx| {
            let stored: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM profile WHERE origin = 'defender'")
                    .fetch_all(&mut *tx)
                    .await?;
            for (name,) in stored {
                if !names.contains(&name) {
                    sqlx::query("DELETE FROM profile WHERE name = $1 AND origin = 'defender'")
                        .bind(&name)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for name in names {
                sqlx::query(
                    "INSERT INTO profile (name, origin) VALUES ($1, 'defender') \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .execute(&mut *tx)
                .await?;
            }
        });
        tx.commit().await
    }

    async fn delete_dynamic(&self) -> Result<u64, DbError> {
        crate::on_pool!(self, |pool| {
            let done = sqlx::query("DELETE FROM profile WHERE origin = 'defender'")
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }

    async fn risky_levels(&self) -> Result<Vec<(String, String)>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT name, risky_level FROM profile WHERE risky_level IS NOT NULL AND enabled = TRUE",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    async fn names_by_origin(&self, origin: &str) -> Result<Vec<String>, DbError> {
        crate::on_pool!(self, |pool| {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM profile WHERE origin = $1 ORDER BY name")
                    .bind(origin)
                    .fetch_all(pool)
                    .await?;
            Ok(rows.into_iter().map(|(n,)| n).collect())
        })
    }
}
