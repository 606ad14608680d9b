//! Classification of Microsoft Entra token-endpoint errors (AADSTS codes) into admin advice.

use std::fmt;

use serde::Deserialize;

/// What went wrong at the token endpoint, classified on `error` and the numeric
/// `error_codes` of the Entra error body, never on its description text (defender-api.md §2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AadError {
    /// AADSTS7000215: the secret value is wrong.
    WrongSecret,
    /// AADSTS7000222: the secret has expired.
    ExpiredSecret,
    /// AADSTS7000218: no secret was sent.
    MissingSecret,
    /// AADSTS700016: no application with this client id in the tenant.
    UnknownApplication,
    /// AADSTS7000229: the app has no service principal in the tenant (§2.5, unconfirmed).
    NoServicePrincipal,
    /// AADSTS90002: tenant not found (bad id, or a tenant of another cloud).
    UnknownTenant,
    /// AADSTS90038: the tenant belongs to another national cloud.
    WrongCloud,
    /// AADSTS900023: the tenant id is neither a GUID nor a domain.
    MalformedTenant,
    /// AADSTS500011: WindowsDefenderATP is not in the tenant (MDE not provisioned).
    NotProvisioned,
    /// AADSTS1002012 / AADSTS70011: malformed scope.
    BadScope,
    /// AADSTS65001: consent missing.
    ConsentRequired,
    /// AADSTS50196 / AADSTS90055: token-request loop or tenant throttled.
    Throttled,
    /// Anything else; keeps the OAuth `error` string.
    Other { error: String },
}

/// The `error` values of RFC 6749 §5.2 and those Microsoft Entra adds (defender-api.md §2.5).
const OAUTH_ERRORS: [&str; 9] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "access_denied",
    "server_error",
    "interaction_required",
    "consent_required",
];

impl AadError {
    /// Classifies an Entra error body's `error` and `error_codes`.
    pub fn classify(error: &str, codes: &[u64]) -> Self {
        for code in codes {
            let kind = match code {
                7_000_215 => AadError::WrongSecret,
                7_000_222 => AadError::ExpiredSecret,
                7_000_218 => AadError::MissingSecret,
                700_016 => AadError::UnknownApplication,
                7_000_229 => AadError::NoServicePrincipal,
                90_002 => AadError::UnknownTenant,
                90_038 => AadError::WrongCloud,
                900_023 => AadError::MalformedTenant,
                500_011 => AadError::NotProvisioned,
                1_002_012 | 70_011 => AadError::BadScope,
                65_001 => AadError::ConsentRequired,
                50_196 | 90_055 => AadError::Throttled,
                _ => continue,
            };
            return kind;
        }
        match error {
            "invalid_scope" => AadError::BadScope,
            "invalid_resource" => AadError::NotProvisioned,
            "temporarily_unavailable" => AadError::Throttled,
            // Only the OAuth error codes are kept: the body may come from any host an
            // Administrator configured, and its words are shown in Test Connection.
            other if OAUTH_ERRORS.contains(&other) => AadError::Other {
                error: other.to_owned(),
            },
            _ => AadError::Other {
                error: "an unrecognised error".to_owned(),
            },
        }
    }

    /// A sentence an administrator can act on.
    pub fn admin_message(&self) -> String {
        match self {
            AadError::WrongSecret => "Microsoft Entra rejected the client secret. Check that you \
                pasted the secret's Value; often the secret ID was pasted instead of its value."
                .into(),
            AadError::ExpiredSecret => "The client secret has expired. Create a new secret for \
                the app registration and save its value here."
                .into(),
            AadError::MissingSecret => "No client secret was sent. Enter the secret value.".into(),
            AadError::UnknownApplication => "No application with this client (application) ID \
                exists in the tenant. Check the client ID and tenant ID, or grant admin consent \
                in this tenant for a multi-tenant app."
                .into(),
            AadError::NoServicePrincipal => "The application has no service principal in this \
                tenant. Grant admin consent for it in the tenant."
                .into(),
            AadError::UnknownTenant => "The tenant was not found. Check the tenant ID, and that \
                the selected cloud matches the tenant (a GCC High or DoD tenant needs that cloud)."
                .into(),
            AadError::WrongCloud => "The tenant belongs to a different national cloud. Select \
                the matching cloud (commercial, GCC, GCC High or DoD)."
                .into(),
            AadError::MalformedTenant => "The tenant ID is malformed: use the directory (tenant) \
                GUID or a verified domain such as contoso.onmicrosoft.com."
                .into(),
            AadError::NotProvisioned => "The tenant has no Microsoft Defender for Endpoint \
                resource (WindowsDefenderATP). Check that Defender for Endpoint is provisioned, \
                and that the cloud setting is right."
                .into(),
            AadError::BadScope => "The token request's scope was rejected. The API audience is \
                misconfigured (client-credentials scopes must end in /.default)."
                .into(),
            AadError::ConsentRequired => "Admin consent is missing for the application's \
                Defender permissions. Grant admin consent in Microsoft Entra."
                .into(),
            AadError::Throttled => "Microsoft Entra is throttling token requests for this \
                tenant. Wait a few minutes; tokens are cached, so this should clear."
                .into(),
            AadError::Other { error } => {
                format!("Microsoft Entra refused to issue a token ({error}).")
            }
        }
    }
}

impl fmt::Display for AadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.admin_message())
    }
}

/// The Entra error body (§2.5). Only the machine-readable fields are kept: the description
/// is free text and is never classified on.
#[derive(Debug, Deserialize)]
pub(crate) struct AadErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_codes: Vec<u64>,
}

impl AadErrorBody {
    pub(crate) fn classify(&self) -> (AadError, Option<u64>) {
        (
            AadError::classify(&self.error, &self.error_codes),
            self.error_codes.first().copied(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> (AadError, Option<u64>) {
        serde_json::from_str::<AadErrorBody>(json)
            .unwrap()
            .classify()
    }

    #[test]
    fn documented_codes_classify() {
        let cases: &[(&str, u64, AadError)] = &[
            ("invalid_client", 7000215, AadError::WrongSecret),
            ("invalid_client", 7000222, AadError::ExpiredSecret),
            ("invalid_client", 7000218, AadError::MissingSecret),
            ("unauthorized_client", 700016, AadError::UnknownApplication),
            ("invalid_request", 90002, AadError::UnknownTenant),
            ("invalid_request", 90038, AadError::WrongCloud),
            ("invalid_request", 900023, AadError::MalformedTenant),
            ("invalid_resource", 500011, AadError::NotProvisioned),
            ("invalid_scope", 1002012, AadError::BadScope),
            ("invalid_scope", 70011, AadError::BadScope),
            ("invalid_request", 50196, AadError::Throttled),
            ("invalid_request", 90055, AadError::Throttled),
            ("invalid_grant", 65001, AadError::ConsentRequired),
        ];
        for (error, code, want) in cases {
            let json = format!(
                r#"{{"error":"{error}","error_description":"AADSTS{code}: text","error_codes":[{code}],
                "timestamp":"2026-01-05 09:14:03Z","trace_id":"t","correlation_id":"c"}}"#
            );
            assert_eq!(body(&json), (want.clone(), Some(*code)), "{code}");
        }
    }

    #[test]
    fn description_is_never_used() {
        // The description mentions 7000215 but the codes say otherwise.
        let (kind, _) = body(
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: x","error_codes":[7000222]}"#,
        );
        assert_eq!(kind, AadError::ExpiredSecret);
        let (kind, code) =
            body(r#"{"error":"invalid_client","error_description":"AADSTS7000215"}"#);
        assert_eq!(
            kind,
            AadError::Other {
                error: "invalid_client".into()
            }
        );
        assert_eq!(code, None);
    }

    #[test]
    fn unknown_error_words_are_not_repeated() {
        let (kind, _) = body(r#"{"error":"Visit https://evil.example for help","error_codes":[]}"#);
        assert!(!kind.admin_message().contains("evil"), "{kind}");
        let (kind, _) = body(r#"{"error":"invalid_grant"}"#);
        assert!(kind.admin_message().contains("invalid_grant"));
    }

    #[test]
    fn wrong_secret_message_mentions_secret_id() {
        assert!(AadError::WrongSecret
            .admin_message()
            .contains("secret ID was pasted"));
    }
}
