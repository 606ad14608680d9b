//! What the identity rules (`sync::merge`) read and write of `endpoint`: each endpoint's keys
//! and evidence, its representative slot, its MAC key, and the retirement of an endpoint
//! whose device now lives on another one.

use sqlx::QueryBuilder;

use futures::stream::{BoxStream, StreamExt};

use super::{AsConn, DbError, JsonText, MaybeJsonText, Pool};

/// What the merge needs of each stored endpoint.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdentityRow {
    pub endpoint_id: i64,
    pub mac: Option<String>,
    pub defender_machine_id: Option<String>,
    #[sqlx(try_from = "JsonText")]
    pub ips: String,
    #[sqlx(try_from = "JsonText")]
    pub hostnames: String,
    pub source_network: bool,
    pub last_seen: String,
}

/// What the merge reads and writes about which machines make one endpoint.
#[async_trait::async_trait]
pub trait IdentityStore: Send + Sync + std::fmt::Debug {
    /// Every endpoint as the merge sees it, as a stream (the caller keeps parsed values only).
    fn identity_rows<'c>(
        &self,
        conn: &'c mut dyn AsConn,
    ) -> BoxStream<'c, Result<IdentityRow, sqlx::Error>>;

    /// The stored evidence and conflicts of these endpoints, read a chunk at a time by the merge
    /// rather than for every endpoint at once.
    async fn evidence(
        &self,
        conn: &mut dyn AsConn,
        endpoint_ids: &[i64],
    ) -> Result<Vec<(i64, String, Option<String>)>, DbError>;

    /// Endpoints without a representative that still carry evidence (notes of an earlier sync
    /// that may no longer hold).
    async fn unrepresented_with_evidence(&self, conn: &mut dyn AsConn)
        -> Result<Vec<i64>, DbError>;

    /// Writes the evidence of endpoints that hold no machine.
    async fn store_evidence(
        &self,
        conn: &mut dyn AsConn,
        endpoint_id: i64,
        evidence: &str,
        conflicts: Option<&str>,
    ) -> Result<(), DbError>;

    /// Frees the representative slot (`defender_machine_id` is unique) of these endpoints, so the
    /// sync can hand their machines to other endpoints in any order.
    async fn release_representatives(
        &self,
        conn: &mut dyn AsConn,
        endpoint_ids: &[i64],
    ) -> Result<(), DbError>;

    /// Network endpoints whose device moved elsewhere: they are discovery's again. The OS shown
    /// falls back to discovery's best match.
    async fn clear_defender_view(
        &self,
        conn: &mut dyn AsConn,
        endpoint_ids: &[i64],
    ) -> Result<(), DbError>;

    /// Sets or clears the MAC key of a Defender-only endpoint; clearing runs first, so a MAC can
    /// move between endpoints in one sync.
    async fn rekey(
        &self,
        conn: &mut dyn AsConn,
        changes: &[(i64, Option<String>, Option<&'static str>)],
    ) -> Result<(), DbError>;

    /// Whether any machine record, present or gone, is still linked to the endpoint.
    async fn has_machines(&self, conn: &mut dyn AsConn, endpoint_id: i64) -> Result<bool, DbError>;

    /// A Defender-only endpoint whose device now lives on `successor`: its action history moves
    /// there, and it goes (nothing else described it: discovery never saw it).
    async fn retire(
        &self,
        conn: &mut dyn AsConn,
        endpoint_id: i64,
        successor: i64,
    ) -> Result<(), DbError>;
}

#[async_trait::async_trait]
impl IdentityStore for Pool {
    fn identity_rows<'c>(
        &self,
        conn: &'c mut dyn AsConn,
    ) -> BoxStream<'c, Result<IdentityRow, sqlx::Error>> {
        crate::on_conn!(conn, |conn| {
            sqlx::query_as(
                "SELECT endpoint_id, mac, defender_machine_id, ips, hostnames, source_network, \
                 last_seen FROM endpoint",
            )
            .fetch(conn)
            .boxed()
        })
    }

    async fn evidence(
        &self,
        conn: &mut dyn AsConn,
        endpoint_ids: &[i64],
    ) -> Result<Vec<(i64, String, Option<String>)>, DbError> {
        crate::on_conn!(conn, |conn| {
            let mut found = Vec::with_capacity(endpoint_ids.len());
            for chunk in endpoint_ids.chunks(5_000) {
                let mut q: QueryBuilder<Db> = QueryBuilder::new(
                    "SELECT endpoint_id, merge_evidence, mac_conflicts FROM endpoint \
                     WHERE endpoint_id IN (",
                );
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(*id);
                }
                q.push(")");
                let rows: Vec<(i64, JsonText, MaybeJsonText)> =
                    q.build_query_as().fetch_all(&mut *conn).await?;
                found.extend(rows.into_iter().map(|(id, e, c)| (id, e.0, c.0)));
            }
            Ok(found)
        })
    }

    async fn unrepresented_with_evidence(
        &self,
        conn: &mut dyn AsConn,
    ) -> Result<Vec<i64>, DbError> {
        crate::on_conn!(conn, |conn| {
            Ok(sqlx::query_scalar(
                "SELECT endpoint_id FROM endpoint WHERE defender_machine_id IS NULL \
                 AND (merge_evidence <> '[]' OR mac_conflicts IS NOT NULL)",
            )
            .fetch_all(&mut *conn)
            .await?)
        })
    }

    async fn store_evidence(
        &self,
        conn: &mut dyn AsConn,
        endpoint_id: i64,
        evidence: &str,
        conflicts: Option<&str>,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query(
                "UPDATE endpoint SET merge_evidence = $1, mac_conflicts = $2 WHERE endpoint_id = $3",
            )
            .bind(JsonText(evidence))
            .bind(conflicts.map(JsonText))
            .bind(endpoint_id)
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }

    async fn release_representatives(
        &self,
        conn: &mut dyn AsConn,
        endpoint_ids: &[i64],
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            for chunk in endpoint_ids.chunks(500) {
                let mut q: QueryBuilder<Db> = QueryBuilder::new(
                    "UPDATE endpoint SET defender_machine_id = NULL WHERE endpoint_id IN (",
                );
                in_list(&mut q, chunk);
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn clear_defender_view(
        &self,
        conn: &mut dyn AsConn,
        endpoint_ids: &[i64],
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            for chunk in endpoint_ids.chunks(500) {
                let first_match = if POSTGRES {
                    "os_matches -> 0 ->> 'name'"
                } else {
                    "json_extract(os_matches, '$[0].name')"
                };
                let mut q: QueryBuilder<Db> = QueryBuilder::new(format!(
                    "UPDATE endpoint SET defender_machine_id = NULL, source_defender = FALSE, \
                     onboarding_status = NULL, os = {first_match} WHERE endpoint_id IN ("
                ));
                in_list(&mut q, chunk);
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn rekey(
        &self,
        conn: &mut dyn AsConn,
        changes: &[(i64, Option<String>, Option<&'static str>)],
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            for (id, _, _) in changes.iter().filter(|(_, mac, _)| mac.is_none()) {
                sqlx::query("UPDATE endpoint SET mac = NULL WHERE endpoint_id = $1")
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            for (id, mac, vendor) in changes.iter().filter(|(_, mac, _)| mac.is_some()) {
                sqlx::query("UPDATE endpoint SET mac = $1, mac_vendor = COALESCE($2, mac_vendor) WHERE endpoint_id = $3")
                    .bind(mac)
                    .bind(vendor)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        })
    }

    async fn has_machines(&self, conn: &mut dyn AsConn, endpoint_id: i64) -> Result<bool, DbError> {
        crate::on_conn!(conn, |conn| {
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM defender_machine WHERE endpoint_id = $1")
                    .bind(endpoint_id)
                    .fetch_one(&mut *conn)
                    .await?;
            Ok(n > 0)
        })
    }

    async fn retire(
        &self,
        conn: &mut dyn AsConn,
        endpoint_id: i64,
        successor: i64,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query("UPDATE machine_action SET endpoint_id = $1 WHERE endpoint_id = $2")
                .bind(successor)
                .bind(endpoint_id)
                .execute(&mut *conn)
                .await?;
            for sql in [
                "DELETE FROM machine_split WHERE endpoint_id = $1",
                "DELETE FROM endpoint_assessment WHERE endpoint_id = $1",
                "DELETE FROM endpoint WHERE endpoint_id = $1",
            ] {
                sqlx::query(sql)
                    .bind(endpoint_id)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        })
    }
}

fn in_list<'a, DB: sqlx::Database>(q: &mut QueryBuilder<'a, DB>, ids: &[i64])
where
    i64: 'a + sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
}
