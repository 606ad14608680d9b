//! Sensor API tokens as Configuration > Sensors shows them.
//!
//! A listed token never carries its value; the value travels once, in the answer to its
//! creation ([`NewApiToken`]), because the server keeps only a hash of it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One token in the list: who made it and when, its last use, whether it still works.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenView {
    pub id: i64,
    pub name: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// A token just created: the only time its value leaves the server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub id: i64,
    pub name: String,
    pub token: String,
}

/// Redacts the value, so a stray `{:?}` cannot put a usable token in a log.
impl fmt::Debug for NewApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// Token names: 1 to 64 characters without control characters (they label a sensor in the
/// list and the audit log).
pub fn validate_token_name(name: &str) -> Result<(), String> {
    let count = name.chars().count();
    if count == 0 {
        return Err("Name the token after the sensor that will use it.".into());
    }
    if count > 64 {
        return Err("At most 64 characters.".into());
    }
    if name.chars().any(char::is_control) {
        return Err("Control characters are not allowed.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["branch-01", "Sensor in the lobby", "é", &"x".repeat(64)] {
            assert!(validate_token_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", &"x".repeat(65), "a\nb", "tab\there"] {
            assert!(validate_token_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_the_value() {
        let token = NewApiToken {
            id: 1,
            name: "branch-01".into(),
            token: "eat_0123456789abcdef".into(),
        };
        let shown = format!("{token:?}");
        assert!(!shown.contains("eat_0123"), "{shown}");
        assert!(shown.contains("branch-01"));
    }
}
