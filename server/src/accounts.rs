//! Account lifecycle: what Administrators do to accounts (disable, enable, change the role,
//! reset the password, delete) and what every user does to their own (change the password).
//!
//! Each change is one write transaction that also ends the sessions it must end and writes
//! its audit entry, so none of the three can happen without the others. No change may leave
//! the console without an enabled Administrator (`db::account` carries that rule in SQL).

mod lifecycle;
mod own_password;

use std::path::PathBuf;

use crate::auth::session_registry::SessionRegistry;
use crate::db::{AccountStore, AuditStore, Database, DbError, SessionStore, Stores};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("no such account")]
    NotFound,
    #[error("the last enabled Administrator cannot be disabled, demoted or deleted")]
    LastAdministrator,
    /// Something an Administrator does to others but not to themselves, and why.
    #[error("{0}")]
    OwnAccount(&'static str),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("cannot hash the password")]
    Hash,
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Clone, Debug)]
pub struct Accounts {
    database: Arc<dyn Database>,
    accounts: Arc<dyn AccountStore>,
    sessions_table: Arc<dyn SessionStore>,
    audit: Arc<dyn AuditStore>,
    /// Where the first start left a generated password (`auth::bootstrap`), removed once that
    /// password is replaced.
    data_dir: PathBuf,
    sessions: SessionRegistry,
}

impl Accounts {
    pub fn new(db: &Stores, data_dir: PathBuf, sessions: SessionRegistry) -> Self {
        Self {
            database: db.database.clone(),
            accounts: db.accounts.clone(),
            sessions_table: db.sessions.clone(),
            audit: db.audit.clone(),
            data_dir,
            sessions,
        }
    }

    /// The accounts' signed-in sessions.
    pub fn sessions(&self) -> &SessionRegistry {
        &self.sessions
    }

    /// Once the first administrator's generated password is replaced (or the account is
    /// gone), the file holding it is worthless and should not linger.
    fn password_replaced(&self, username: &str) {
        crate::auth::bootstrap::retire_initial_password(&self.data_dir, username);
    }
}

async fn hash(password: &str) -> Result<String, AccountError> {
    crate::auth::password::hash(password.to_owned())
        .await
        .map_err(|_| AccountError::Hash)
}
