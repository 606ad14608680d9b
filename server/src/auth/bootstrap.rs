//! First start: with no account at all, create `admin` so someone can sign in.

use std::io::Write;
use std::path::Path;

use rand::distr::{Alphanumeric, SampleString};

use crate::db::{self, Stores};

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("cannot create the first administrator: {0}")]
    Db(#[from] db::DbError),
    #[error("cannot hash the first administrator's password")]
    Hash,
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the admin password is not acceptable: {0}")]
    Weak(String),
}

pub const INITIAL_PASSWORD_FILE: &str = "initial-admin-password";

/// The account the first start creates.
pub const FIRST_ADMIN: &str = "admin";

/// Creates `admin` when the account table is empty. A password given by flag or env is used
/// as is; otherwise a random one is generated, logged once and written, mode 0600, to
/// `<data_dir>/initial-admin-password`, and must be changed at the first sign-in (it has been
/// in a log and a file).
pub async fn ensure_admin(
    db: &Stores,
    data_dir: &Path,
    given: Option<&str>,
) -> Result<(), BootstrapError> {
    if db.accounts.count().await? > 0 {
        return Ok(());
    }
    let password = match given {
        Some(p) => {
            app::model::user::validate_password(p).map_err(BootstrapError::Weak)?;
            p.to_owned()
        }
        None => Alphanumeric.sample_string(&mut rand::rng(), 24),
    };
    let hash = super::password::hash(password.clone())
        .await
        .map_err(|_| BootstrapError::Hash)?;
    db.accounts
        .insert_with(FIRST_ADMIN, &hash, "Administrator", given.is_none())
        .await?;
    db.audit
        .record(
            "system",
            "account.create",
            "admin (Administrator), first start",
        )
        .await?;
    if given.is_none() {
        let path = data_dir.join(INITIAL_PASSWORD_FILE);
        write_private(&path, &password).map_err(|source| BootstrapError::Write {
            path: path.display().to_string(),
            source,
        })?;
        tracing::warn!(
            password = %password,
            file = %path.display(),
            "created the first account `admin` with this random password; it is shown only once"
        );
    } else {
        tracing::info!("created the first account `admin` with the configured password");
    }
    Ok(())
}

/// Removes the generated password's file once `username`'s password has been replaced (or
/// the account deleted): it no longer opens anything, and is best not left lying around.
pub fn retire_initial_password(data_dir: &Path, username: &str) {
    if username != FIRST_ADMIN {
        return;
    }
    let path = data_dir.join(INITIAL_PASSWORD_FILE);
    match std::fs::remove_file(&path) {
        Ok(()) => tracing::info!(file = %path.display(), "removed the first start's password file"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "could not remove the first start's password file")
        }
    }
}

/// Writes a file only its owner can read (0600 from the moment it exists).
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}
