//! Sensor API tokens: a random secret shown once; only its SHA-256 hash is stored, so a
//! database leak does not leak usable tokens.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::{self, ApiTokenStore, DbError};

/// Prefix that makes a leaked token recognisable in logs and secret scanners.
const PREFIX: &str = "eat_";

fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a token; returns its id and the plaintext, which is never stored.
#[tracing::instrument(skip_all)]
pub async fn create_api_token(
    tokens: &dyn ApiTokenStore,
    name: &str,
    created_by: &str,
) -> Result<(i64, String), DbError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let token = format!("{PREFIX}{secret}");
    let id = tokens
        .insert(name, &hash(&token), created_by, &db::now())
        .await?;
    Ok((id, token))
}

/// The id of the unrevoked token `presented` is, if any.
#[tracing::instrument(skip_all)]
pub async fn verify_api_token(tokens: &dyn ApiTokenStore, presented: &str) -> Option<i64> {
    let presented = presented.trim();
    if !presented.starts_with(PREFIX) {
        return None;
    }
    match tokens.use_token(&hash(presented), &db::now()).await {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "could not check an API token");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_hex_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
