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
use tower_sessions::session_store::{self, SessionStore};

use crate::db::SessionTable;

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
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let pool = crate::db::open(&url).await.unwrap();
        let inner = SessionTable::for_pool(&pool);
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

        let keys: Vec<String> = crate::on_pool!(&pool, |db| {
            sqlx::query_scalar("SELECT id FROM tower_sessions")
                .fetch_all(db)
                .await
                .unwrap()
        });
        assert_eq!(keys, vec![stored_id(&record.id).to_string()]);

        store.delete(&record.id).await.unwrap();
        assert_eq!(store.load(&record.id).await.unwrap(), None);
    }
}
