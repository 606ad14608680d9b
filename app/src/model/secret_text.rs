//! A password or key as it travels through forms and settings: its `Debug` never shows it, so
//! a derived `Debug` of whatever holds it (a server fn's arguments, the CLI settings) cannot
//! leak it into a log line.

use serde::{Deserialize, Serialize};

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    /// The value, for the one call that needs it (hashing, checking, decoding a key).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretText {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretText {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl std::str::FromStr for SecretText {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(value.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)] // read only through Debug
    struct Holder {
        name: &'static str,
        password: SecretText,
    }

    #[test]
    fn debug_of_a_holder_hides_the_value_and_serde_sees_a_string() {
        let holder = Holder {
            name: "admin",
            password: "correct horse battery".into(),
        };
        let shown = format!("{holder:?}");
        assert!(
            shown.contains("admin") && shown.contains("[redacted]"),
            "{shown}"
        );
        assert!(!shown.contains("horse"));
        let json = serde_json::to_string(&holder.password).unwrap();
        assert_eq!(json, "\"correct horse battery\"");
        let back: SecretText = serde_json::from_str(&json).unwrap();
        assert_eq!(back.expose(), "correct horse battery");
    }
}
