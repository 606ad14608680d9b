//! Reads the `roles` claim of an access token without verifying it (defender-api.md §2.4).

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::Deserialize;

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    roles: Option<serde_json::Value>,
}

/// The application permissions granted to the app, from the token's `roles` claim. An absent
/// claim (no consent) or an opaque, non-JWT token gives an empty list: the API will answer
/// 403 anyway, and that is handled at call time.
pub fn roles_of(token: &str) -> Vec<String> {
    let Some(payload) = token.split('.').nth(1) else {
        return Vec::new();
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(payload));
    let Ok(bytes) = bytes else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_slice::<Claims>(&bytes) else {
        return Vec::new();
    };
    match claims.roles {
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        // Single-valued claims are sometimes serialised as a bare string.
        Some(serde_json::Value::String(one)) => vec![one],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn roles_are_read_and_absent_means_empty() {
        let t = token(
            r#"{"aud":"https://api.securitycenter.microsoft.com","roles":["Machine.Read.All","Machine.Isolate"],"exp":1}"#,
        );
        assert_eq!(roles_of(&t), ["Machine.Read.All", "Machine.Isolate"]);
        assert!(roles_of(&token(r#"{"aud":"x"}"#)).is_empty());
        assert!(roles_of(&token(r#"{"roles":[]}"#)).is_empty());
        assert!(roles_of("opaque-token").is_empty());
        assert!(roles_of("a.!!!.c").is_empty());
    }
}
