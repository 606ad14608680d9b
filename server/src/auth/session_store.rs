//! `HashedIdStore`: the database's session store (SQLite's or PostgreSQL's), filing each
//! session under a SHA-256 digest of its id rather than the id itself.
//!
//! The id is the whole credential of a signed-in browser. Kept as is, a copy of the database
//! (a backup, a support bundle) would let its reader take over every live session; its digest
//! is useless in a cookie. The same digest keys the session registry (`account_session`),
//! which is how ending an account's sessions also deletes their records.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::db::Pool;

/// The key a session's record is filed under: the first 128 bits of the SHA-256 of its id.
pub fn stored_id(id: &Id) -> Id {
    let digest = Sha256::digest(id.0.to_le_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(first))
}

/// [`stored_id`] as text, as the store's table and the registry hold it; `None` for text that
/// is not a session id.
pub fn stored_key(session_id: &str) -> Option<String> {
    session_id
        .parse::<Id>()
        .ok()
        .map(|id| stored_id(&id).to_string())
}

/// The session table of the backend the console runs on: `tower_sessions` on both (on
/// PostgreSQL in the `public` schema, which every replica shares).
#[derive(Clone, Debug)]
pub enum SessionTable {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl SessionTable {
    pub fn for_pool(pool: &Pool) -> Self {
        match pool {
            Pool::Sqlite(p) => SessionTable::Sqlite(SqliteStore::new(p.clone())),
            // The same table name as SQLite's, so `account_session` ends sessions with the
            // same SQL on both.
            Pool::Postgres(p) => SessionTable::Postgres(
                PostgresStore::new(p.clone())
                    .with_schema_name("public")
                    .and_then(|s| s.with_table_name("tower_sessions"))
                    .expect("valid identifiers"),
            ),
        }
    }

    /// Creates the table if it is missing (the store's own schema, not one of our migrations).
    pub async fn migrate(&self) -> Result<(), sqlx::Error> {
        match self {
            SessionTable::Sqlite(s) => s.migrate().await,
            SessionTable::Postgres(s) => s.migrate().await,
        }
    }

    /// Deletes expired records every `period`, until an error.
    pub async fn continuously_delete_expired(
        self,
        period: tokio::time::Duration,
    ) -> session_store::Result<()> {
        match self {
            SessionTable::Sqlite(s) => s.continuously_delete_expired(period).await,
            SessionTable::Postgres(s) => s.continuously_delete_expired(period).await,
        }
    }

    fn store(&self) -> &dyn SessionStore {
        match self {
            SessionTable::Sqlite(s) => s,
            SessionTable::Postgres(s) => s,
        }
    }
}

#[derive(Clone, Debug)]
pub struct HashedIdStore {
    inner: SessionTable,
}

impl HashedIdStore {
    pub fn new(inner: SessionTable) -> Self {
        Self { inner }
    }

    fn stored(record: &Record) -> Record {
        Record {
            id: stored_id(&record.id),
            ..record.clone()
        }
    }
}

#[async_trait]
impl SessionStore for HashedIdStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let mut stored = Self::stored(record);
            let wanted = stored.id;
            self.inner.store().create(&mut stored).await?;
            if stored.id == wanted {
                return Ok(());
            }
            // The key was taken, and the inner store filed the record under a random key of
            // its own, which no cookie's id hashes to: drop that and draw another id.
            self.inner.store().delete(&stored.id).await?;
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.inner.store().save(&Self::stored(record)).await
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let loaded = self.inner.store().load(&stored_id(session_id)).await?;
        Ok(loaded.map(|record| Record {
            id: *session_id,
            ..record
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.inner.store().delete(&stored_id(session_id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_key_is_a_digest_not_the_id() {
        let id = Id(42);
        assert_ne!(stored_id(&id), id);
        assert_eq!(stored_id(&id), stored_id(&Id(42)), "stable across calls");
        assert_eq!(
            stored_key(&id.to_string()),
            Some(stored_id(&id).to_string())
        );
        assert_eq!(stored_key("not a session id"), None);
    }

    #[tokio::test]
    async fn records_round_trip_under_the_digest() {
        // One connection: each connection to `:memory:` is a database of its own.
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let inner = SessionTable::Sqlite(SqliteStore::new(pool.clone()));
        inner.migrate().await.unwrap();
        let store = HashedIdStore::new(inner);
        let mut record = Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
        };
        record
            .data
            .insert("user_id".into(), serde_json::Value::from(7));
        store.create(&mut record).await.unwrap();
        let loaded = store.load(&record.id).await.unwrap().unwrap();
        assert_eq!(loaded, record, "the caller sees its own id");

        let keys: Vec<String> = sqlx::query_scalar("SELECT id FROM tower_sessions")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(keys, vec![stored_id(&record.id).to_string()]);

        store.delete(&record.id).await.unwrap();
        assert_eq!(store.load(&record.id).await.unwrap(), None);
    }
}
