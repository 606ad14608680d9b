//! `software`: Defender's facts about each software product (Get software by id,
//! defender-api.md §4.15), written by the sync for the products its machine-vulnerability rows
//! name. Which machine runs which version is in `machine_vulnerability`.

use super::{classify, AsConn, DbError, Pool};

/// One product as Defender describes it, tenant-wide.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SoftwareRow {
    /// `{vendor}-_-{product}` in lower case.
    pub software_id: String,
    pub name: Option<String>,
    pub vendor: Option<String>,
    /// CVEs of the product across the tenant.
    pub weaknesses: Option<i64>,
    pub public_exploit: bool,
    pub active_alert: bool,
    pub exposed_machines: Option<i64>,
    pub impact_score: Option<f64>,
}

/// The id Defender gives the product of a machine-vulnerability row (§4.15).
pub fn software_id(vendor: &str, product: &str) -> String {
    format!("{vendor}-_-{product}").to_lowercase()
}

#[async_trait::async_trait]
pub trait SoftwareStore: Send + Sync + std::fmt::Debug {
    /// The products the staged machine-vulnerability rows name, as software ids, sorted.
    async fn staged_ids(&self, conn: &mut dyn AsConn) -> Result<Vec<String>, DbError>;

    /// Stores `rows` and deletes every other product except those in `kept` (asked for but
    /// not answered this time, so their last facts stand).
    async fn replace(
        &self,
        conn: &mut dyn AsConn,
        rows: &[SoftwareRow],
        kept: &[String],
        synced_at: &str,
    ) -> Result<(), DbError>;

    /// The stored facts of these products (unknown ids are left out).
    async fn by_ids(&self, ids: &[String]) -> Result<Vec<SoftwareRow>, DbError>;

    /// Every stored product (a tenant has hundreds, not thousands), by id.
    async fn all(&self) -> Result<Vec<SoftwareRow>, DbError>;
}

const COLUMNS: &str = "software_id, name, vendor, weaknesses, public_exploit, active_alert, \
     exposed_machines, impact_score";

#[async_trait::async_trait]
impl SoftwareStore for Pool {
    async fn staged_ids(&self, conn: &mut dyn AsConn) -> Result<Vec<String>, DbError> {
        crate::on_conn!(conn, |conn| {
            let pairs: Vec<(String, String)> = sqlx::query_as(
                "SELECT DISTINCT product_vendor, product_name FROM stage_machine_vulnerability \
                 WHERE product_name <> ''",
            )
            .fetch_all(&mut *conn)
            .await?;
            let mut ids: Vec<String> = pairs
                .iter()
                .map(|(vendor, product)| software_id(vendor, product))
                .collect();
            ids.sort();
            ids.dedup();
            Ok(ids)
        })
    }

    async fn replace(
        &self,
        conn: &mut dyn AsConn,
        rows: &[SoftwareRow],
        kept: &[String],
        synced_at: &str,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            let mut delete: sqlx::QueryBuilder<Db> =
                sqlx::QueryBuilder::new("DELETE FROM software WHERE software_id NOT IN ('' ");
            for id in rows.iter().map(|r| &r.software_id).chain(kept) {
                delete.push(", ").push_bind(id);
            }
            delete.push(")");
            delete.build().execute(&mut *conn).await?;
            for chunk in rows.chunks(500) {
                let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(format!(
                    "INSERT INTO software ({COLUMNS}, synced_at) "
                ));
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.software_id)
                        .push_bind(&r.name)
                        .push_bind(&r.vendor)
                        .push_bind(r.weaknesses)
                        .push_bind(r.public_exploit)
                        .push_bind(r.active_alert)
                        .push_bind(r.exposed_machines)
                        .push_bind(r.impact_score)
                        .push_bind(synced_at);
                });
                q.push(
                    " ON CONFLICT (software_id) DO UPDATE SET name = excluded.name, \
                     vendor = excluded.vendor, weaknesses = excluded.weaknesses, \
                     public_exploit = excluded.public_exploit, \
                     active_alert = excluded.active_alert, \
                     exposed_machines = excluded.exposed_machines, \
                     impact_score = excluded.impact_score, synced_at = excluded.synced_at",
                );
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn by_ids(&self, ids: &[String]) -> Result<Vec<SoftwareRow>, DbError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        crate::on_pool!(self, |pool| {
            let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(format!(
                "SELECT {COLUMNS} FROM software WHERE software_id IN ("
            ));
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(id);
            }
            q.push(") ORDER BY software_id");
            q.build_query_as().fetch_all(pool).await.map_err(classify)
        })
    }

    async fn all(&self) -> Result<Vec<SoftwareRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM software ORDER BY software_id"
            ))
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, weaknesses: i64) -> SoftwareRow {
        SoftwareRow {
            software_id: id.into(),
            name: Some(id.split("-_-").nth(1).unwrap_or(id).into()),
            vendor: Some(id.split("-_-").next().unwrap_or(id).into()),
            weaknesses: Some(weaknesses),
            public_exploit: weaknesses > 2,
            active_alert: false,
            exposed_machines: Some(weaknesses * 10),
            impact_score: Some(1.5),
        }
    }

    #[test]
    fn ids_are_defenders_lower_case_vendor_and_product() {
        assert_eq!(
            software_id("Microsoft", "Edge_Chromium"),
            "microsoft-_-edge_chromium"
        );
    }

    #[tokio::test]
    async fn replace_keeps_only_what_was_listed_or_kept() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = crate::db::open(&url).await.unwrap();
        let at = "2026-01-01T00:00:00Z";
        let mut conn = db.acquire().await.unwrap();
        let first = [row("a-_-x", 1), row("b-_-y", 2), row("c-_-z", 3)];
        db.replace(&mut conn, &first, &[], at).await.unwrap();
        // b is answered again with new figures, c was not answered (kept), a is gone.
        db.replace(&mut conn, &[row("b-_-y", 5)], &["c-_-z".into()], at)
            .await
            .unwrap();
        drop(conn);
        let ids: Vec<String> = ["a-_-x", "b-_-y", "c-_-z", "d-_-w"]
            .map(String::from)
            .to_vec();
        let stored = db.by_ids(&ids).await.unwrap();
        assert_eq!(stored, vec![row("b-_-y", 5), row("c-_-z", 3)]);
    }
}
