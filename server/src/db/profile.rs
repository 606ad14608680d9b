//! `profile`: factory, custom and Defender dynamic (`⇋`) profiles.

use super::{DbError, Pool};

/// Records profiles of one origin, leaving existing rows (and an admin's settings) alone.
pub async fn ensure(pool: &Pool, names: &[String], origin: &str) -> Result<(), DbError> {
    crate::on_pool!(pool, |pool| {
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

/// Makes the `defender` profiles exactly `names`: adds the new ones, deletes the rest.
pub async fn replace_dynamic(pool: &Pool, names: &[String]) -> Result<(), DbError> {
    // Reads before it writes: a write transaction (see `AsConn::begin_write`).
    let mut tx = pool.begin_write().await?;
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

/// Deletes every Defender dynamic profile.
pub async fn delete_dynamic(pool: &Pool) -> Result<u64, DbError> {
    crate::on_pool!(pool, |pool| {
        let done = sqlx::query("DELETE FROM profile WHERE origin = 'defender'")
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    })
}

/// The risky level an admin set per profile (`None` rows omitted).
pub async fn risky_levels(pool: &Pool) -> Result<Vec<(String, String)>, DbError> {
    crate::on_pool!(pool, |pool| {
        Ok(sqlx::query_as(
            "SELECT name, risky_level FROM profile WHERE risky_level IS NOT NULL AND enabled = TRUE",
        )
        .fetch_all(pool)
        .await?)
    })
}

pub async fn names_by_origin(pool: &Pool, origin: &str) -> Result<Vec<String>, DbError> {
    crate::on_pool!(pool, |pool| {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM profile WHERE origin = $1 ORDER BY name")
                .bind(origin)
                .fetch_all(pool)
                .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    })
}
