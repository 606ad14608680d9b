//! Authenticated encryption of secrets at rest (XChaCha20-Poly1305 under the key file's key).
//!
//! The associated data names what a sealed value is for, so a ciphertext copied into another
//! column or row does not decrypt there.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

/// Format tag, so a later change of cipher can tell old values apart.
const VERSION: &str = "v1";

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the stored secret cannot be decrypted (wrong key file, or the value was altered)")]
    Open,
    #[error("the stored secret is not in a known format")]
    Format,
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// `v1:<base64 of 24-byte nonce || ciphertext+tag>`, with a fresh random nonce each time.
    pub fn seal(&self, plaintext: &str, purpose: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: purpose.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!(
            "{VERSION}:{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    pub fn open(&self, sealed: &str, purpose: &str) -> Result<String, SealError> {
        let encoded = sealed.strip_prefix("v1:").ok_or(SealError::Format)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| SealError::Format)?;
        if bytes.len() < 24 + 16 {
            return Err(SealError::Format);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let payload = Payload {
            msg: ciphertext,
            aad: purpose.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| SealError::Open)?;
        String::from_utf8(plain).map_err(|_| SealError::Format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_fresh_nonces() {
        let b = SecretBox::new(&[7; 32]);
        let one = b.seal("client-secret-value", "defender.client_secret");
        let two = b.seal("client-secret-value", "defender.client_secret");
        assert_ne!(one, two, "a fresh nonce every time");
        assert!(!one.contains("client-secret-value"));
        assert_eq!(
            b.open(&one, "defender.client_secret").unwrap(),
            "client-secret-value"
        );
    }

    #[test]
    fn wrong_key_purpose_or_tampering_fail() {
        let b = SecretBox::new(&[7; 32]);
        let sealed = b.seal("value", "defender.client_secret");
        assert!(matches!(
            SecretBox::new(&[8; 32]).open(&sealed, "defender.client_secret"),
            Err(SealError::Open)
        ));
        assert!(matches!(
            b.open(&sealed, "other.purpose"),
            Err(SealError::Open)
        ));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(b
            .open(
                std::str::from_utf8(&tampered).unwrap(),
                "defender.client_secret"
            )
            .is_err());
        assert!(matches!(b.open("plain", "x"), Err(SealError::Format)));
    }

    #[test]
    fn debug_shows_no_key() {
        assert_eq!(
            format!("{:?}", SecretBox::new(&[1; 32])),
            "SecretBox([redacted])"
        );
    }
}
