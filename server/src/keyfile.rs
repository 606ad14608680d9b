//! The key that encrypts secrets at rest: created once, mode 0600, in the data directory.

use std::path::Path;

use base64::Engine;
use rand::RngCore;

use crate::auth::bootstrap::write_private;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or create the key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the key file {path} does not hold a base64 key of 32 bytes")]
    Malformed { path: String },
}

/// The key given in configuration (base64) wins over the key file.
pub fn from_config(configured: Option<&str>, path: &Path) -> Result<[u8; 32], KeyError> {
    match configured {
        Some(text) => decode(text, "EA_SECRET_KEY"),
        None => load_or_create(path),
    }
}

fn decode(text: &str, origin: &str) -> Result<[u8; 32], KeyError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| KeyError::Malformed {
            path: origin.to_owned(),
        })?;
    bytes.try_into().map_err(|_| KeyError::Malformed {
        path: origin.to_owned(),
    })
}

/// Loads the 32-byte key, creating it on first start.
pub fn load_or_create(path: &Path) -> Result<[u8; 32], KeyError> {
    let shown = path.display().to_string();
    let io = |source| KeyError::Io {
        path: shown.clone(),
        source,
    };
    if !path.exists() {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        let encoded = base64::engine::general_purpose::STANDARD.encode(key);
        write_private(path, &format!("{encoded}\n")).map_err(io)?;
        tracing::info!(file = %path.display(), "created a new secret key");
        return Ok(key);
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| KeyError::Malformed {
            path: shown.clone(),
        })?;
    bytes
        .try_into()
        .map_err(|_| KeyError::Malformed { path: shown })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let first = load_or_create(&path).unwrap();
        assert_eq!(load_or_create(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(KeyError::Malformed { .. })
        ));
    }
}
