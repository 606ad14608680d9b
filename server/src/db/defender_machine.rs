//! `defender_machine`: every Defender machine record, duplicates included.

use futures::Stream;
use sqlx::{SqliteConnection, SqlitePool};

use super::DbError;

/// The fields the merge and the endpoint display columns need.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MachineRow {
    pub machine_id: String,
    pub endpoint_id: Option<i64>,
    pub computer_dns_name: Option<String>,
    pub os_platform: Option<String>,
    pub version: Option<String>,
    pub onboarding_status: Option<String>,
    pub health_status: Option<String>,
    pub last_ip_address: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub is_potential_duplication: i64,
    pub merged_into_machine_id: Option<String>,
    pub ip_addresses: String,
}

/// Every machine present in the latest listing (not gone), as a stream: the caller keeps what
/// it needs of each row, not 100k rows of JSON at once.
pub fn present(
    conn: &mut SqliteConnection,
) -> impl Stream<Item = Result<MachineRow, sqlx::Error>> + '_ {
    sqlx::query_as(
        "SELECT machine_id, endpoint_id, computer_dns_name, os_platform, version, \
         onboarding_status, health_status, last_ip_address, first_seen, last_seen, \
         is_potential_duplication, merged_into_machine_id, ip_addresses \
         FROM defender_machine WHERE gone = 0 ORDER BY machine_id",
    )
    .fetch(conn)
}

/// Row count, for tests and the journal.
pub async fn count(pool: &SqlitePool) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM defender_machine")
        .fetch_one(pool)
        .await?;
    Ok(n)
}
