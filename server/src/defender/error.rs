//! `DefenderError`, the one error of the Defender client, and the mapping of API error responses.

use std::time::Duration;

use serde::Deserialize;

use super::aadsts::AadError;
use super::permissions::Permission;

/// Every failure of the Defender client. Never carries a token or a secret: messages come from
/// status codes, error codes and the API's own `message` text.
#[derive(Debug, thiserror::Error)]
pub enum DefenderError {
    /// The token endpoint refused to issue a token (defender-api.md §2.5).
    #[error("{kind}")]
    TokenRejected {
        kind: AadError,
        code: Option<u64>,
        status: u16,
    },

    /// The API answered 401 even after one token refresh and one retry (§2.3).
    #[error("the Defender API rejected the access token (401) even after a refresh")]
    Unauthorized,

    /// 403: the app lacks a role. `required` lists the roles of which any one would do, parsed
    /// from "Missing application roles. API required roles: …, application roles: …" (§3.5).
    #[error("{}", forbidden_message(required, granted, code, message))]
    Forbidden {
        code: String,
        required: Vec<String>,
        granted: Vec<String>,
        message: String,
    },

    /// 404 on a single entity.
    #[error("not found: {message}")]
    NotFound { code: String, message: String },

    /// 429 that outlasted the retry budget (§3.7).
    #[error("the Defender API is throttling this app (retry after {retry_after:?})")]
    RateLimited { retry_after: Option<Duration> },

    /// 400 `ActiveRequestAlreadyExists`: an action of this kind is already pending (§3.5, §6).
    #[error("an action of this kind is already pending on the device: {message}")]
    AlreadyPending { message: String },

    /// Any other error response, switched on status first, then `code` (§3.5).
    #[error("the Defender API rejected the request ({status} {code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },

    /// The request timed out on every attempt.
    #[error("the Defender API did not answer in time")]
    Timeout,

    /// Connection-level failure on every attempt.
    #[error("could not reach Microsoft Defender: {0}")]
    Transport(String),

    /// A request that changes something (a machine action, a cancellation) may have reached
    /// Defender, but no usable answer came back (timeout, 5xx, cut body): it is not resent,
    /// and the caller looks for what it did (§9.22).
    #[error("Microsoft Defender may have received the {what} request, but its answer was lost ({cause})")]
    Unconfirmed { what: String, cause: String },

    /// A success response that could not be decoded.
    #[error("could not decode {what}: {detail}")]
    Decode { what: String, detail: String },

    /// A caller-supplied value is unusable (bad machine id, bad URL in settings, ...).
    #[error("invalid {what}: {reason}")]
    InvalidArgument { what: &'static str, reason: String },

    /// The client will not connect there: a link-local or cloud metadata address (literal, or
    /// every address a name resolves to), or plain http to another machine.
    #[error("refused to connect to {host}: {reason}")]
    RefusedDestination { host: String, reason: &'static str },

    /// An answer larger than the client reads (`ClientOptions::max_response_bytes`,
    /// `max_token_response_bytes`).
    #[error("the answer to the {what} request is larger than {limit} bytes and was not read")]
    ResponseTooLarge { what: String, limit: usize },
}

impl DefenderError {
    /// Worth retrying later without any change of configuration.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            DefenderError::RateLimited { .. }
                | DefenderError::Timeout
                | DefenderError::Transport(_)
                | DefenderError::TokenRejected {
                    kind: AadError::Throttled,
                    ..
                }
        ) || matches!(self, DefenderError::Rejected { status, .. } if *status >= 500)
    }

    /// The roles that would satisfy a 403 (any one of them).
    pub fn missing_permissions(&self) -> &[String] {
        match self {
            DefenderError::Forbidden { required, .. } => required,
            _ => &[],
        }
    }

    /// The error in words of this client's own, for people who should not be shown what the
    /// host sent: status codes, classified error codes and permissions this client knows, but
    /// never a message, code or description from the body, nor a TLS peer's names. Test
    /// Connection shows this, since its host may be anyone's.
    pub fn classified(&self) -> String {
        match self {
            DefenderError::TokenRejected { kind, status, .. } => {
                format!("the sign-in endpoint refused (HTTP {status}): {kind}")
            }
            DefenderError::Unauthorized => self.to_string(),
            DefenderError::Forbidden { required, .. } => {
                let known: Vec<&str> = required
                    .iter()
                    .filter_map(|r| Permission::from_name(r))
                    .map(Permission::as_str)
                    .collect();
                if known.is_empty() {
                    "the Defender API refused the request (HTTP 403)".to_owned()
                } else {
                    format!(
                        "the app registration lacks a Defender permission (HTTP 403): grant \
                         one of {} (application permissions on WindowsDefenderATP, with admin \
                         consent)",
                        known.join(", ")
                    )
                }
            }
            DefenderError::NotFound { .. } => "the API answered HTTP 404 (not found)".to_owned(),
            DefenderError::RateLimited { .. } => {
                "the Defender API is throttling this app (HTTP 429)".to_owned()
            }
            DefenderError::AlreadyPending { .. } => {
                "an action of this kind is already pending on the device".to_owned()
            }
            DefenderError::Rejected { status, .. } if (300..400).contains(status) => {
                format!("the host answered with a redirect (HTTP {status}), which is not followed")
            }
            DefenderError::Rejected { status, .. } => {
                format!("the host refused the request (HTTP {status})")
            }
            DefenderError::Timeout => self.to_string(),
            DefenderError::Transport(text) => transport_class(text).to_owned(),
            DefenderError::Unconfirmed { what, .. } => {
                format!("the answer to the {what} request was lost")
            }
            DefenderError::Decode { what, .. } => {
                format!("the answer could not be read as a {what}")
            }
            DefenderError::InvalidArgument { .. }
            | DefenderError::RefusedDestination { .. }
            | DefenderError::ResponseTooLarge { .. } => self.to_string(),
        }
    }
}

/// What kind of connection failure a transport message describes, in fixed words.
fn transport_class(text: &str) -> &'static str {
    let lower = text.to_ascii_lowercase();
    if lower.contains("dns error") || lower.contains("failed to lookup") {
        "the host name could not be resolved"
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        "the TLS handshake failed (the certificate is not trusted or not for this host)"
    } else if lower.contains("connection refused") {
        "the connection was refused"
    } else if lower.contains("timed out") {
        "the connection timed out"
    } else {
        "the connection failed"
    }
}

fn forbidden_message(required: &[String], granted: &[String], code: &str, message: &str) -> String {
    if required.is_empty() {
        return format!("the Defender API refused the request (403 {code}): {message}");
    }
    let granted = if granted.is_empty() {
        "none".to_owned()
    } else {
        granted.join(", ")
    };
    format!(
        "the app registration lacks a Defender permission: grant one of {} \
         (application permissions on WindowsDefenderATP, with admin consent); granted: {granted}",
        required.join(", ")
    )
}

/// The MDE error envelope `{"error":{"code","message","target"}}` (§3.5).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiErrorEnvelope {
    #[serde(default)]
    pub error: ApiErrorBody,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiErrorBody {
    #[serde(default, deserialize_with = "super::model::de::string_or_number")]
    pub code: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// Maps a non-success, non-retried API response to an error. Status codes are mapped here
/// and nowhere else.
pub(crate) fn from_api_response(status: u16, body: &[u8]) -> DefenderError {
    let envelope: ApiErrorEnvelope = serde_json::from_slice(body).unwrap_or_default();
    let code = envelope.error.code;
    let message = envelope.error.message.unwrap_or_default();
    match status {
        401 => DefenderError::Unauthorized,
        403 => {
            let (required, granted) = parse_missing_roles(&message);
            DefenderError::Forbidden {
                code,
                required,
                granted,
                message,
            }
        }
        404 => DefenderError::NotFound { code, message },
        429 => DefenderError::RateLimited { retry_after: None },
        400 if code.eq_ignore_ascii_case("ActiveRequestAlreadyExists") => {
            DefenderError::AlreadyPending { message }
        }
        _ => DefenderError::Rejected {
            status,
            code,
            message,
        },
    }
}

/// Parses "Missing application roles. API required roles: A,B, application roles: C." into
/// (`[A, B]`, `[C]`). The message is free text (§3.5), so anything else yields empty lists.
pub(crate) fn parse_missing_roles(message: &str) -> (Vec<String>, Vec<String>) {
    const REQUIRED: &str = "required roles:";
    const GRANTED: &str = "application roles:";
    let lower = message.to_ascii_lowercase();
    let Some(req_at) = lower.find(REQUIRED) else {
        return (Vec::new(), Vec::new());
    };
    let req_start = req_at + REQUIRED.len();
    let granted_at = lower[req_start..].find(GRANTED).map(|i| req_start + i);
    let required_text = &message[req_start..granted_at.unwrap_or(message.len())];
    let granted_text = granted_at
        .map(|at| &message[at + GRANTED.len()..])
        .unwrap_or("");
    (split_roles(required_text), split_roles(granted_text))
}

fn split_roles(text: &str) -> Vec<String> {
    text.split([',', ' ', ';'])
        .map(|r| r.trim().trim_end_matches('.'))
        .filter(|r| !r.is_empty() && r.contains('.'))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_missing_roles() {
        let body = br#"{"error":{"code":"Forbidden","message":"Missing application roles. API required roles: Machine.Read.All,Machine.ReadWrite.All, application roles: Machine.Isolate.","target":"|6d1f"}}"#;
        let err = from_api_response(403, body);
        let DefenderError::Forbidden {
            required, granted, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(required, &["Machine.Read.All", "Machine.ReadWrite.All"]);
        assert_eq!(granted, &["Machine.Isolate"]);
        let text = err.to_string();
        assert!(
            text.contains("Machine.Read.All, Machine.ReadWrite.All"),
            "{text}"
        );
        assert_eq!(err.missing_permissions().len(), 2);
    }

    #[test]
    fn forbidden_without_granted_roles() {
        let (req, granted) = parse_missing_roles(
            "Missing application roles. API required roles: Vulnerability.Read.All, application roles: .",
        );
        assert_eq!(req, ["Vulnerability.Read.All"]);
        assert!(granted.is_empty());
        assert_eq!(parse_missing_roles("Feature disabled"), (vec![], vec![]));
    }

    #[test]
    fn envelope_codes_map() {
        let e = from_api_response(
            400,
            br#"{"error":{"code":"ActiveRequestAlreadyExists","message":"Action is already in progress","target":"x"}}"#,
        );
        assert!(
            matches!(e, DefenderError::AlreadyPending { ref message } if message.contains("in progress"))
        );
        let e = from_api_response(
            404,
            br#"{"error":{"code":"ResourceNotFound","message":"Machine 0f3c was not found","target":"x"}}"#,
        );
        assert!(
            matches!(e, DefenderError::NotFound { ref code, .. } if code == "ResourceNotFound")
        );
        let e = from_api_response(
            400,
            br#"{"error":{"code":"InvalidRequestBody","message":"m"}}"#,
        );
        assert!(
            matches!(e, DefenderError::Rejected { status: 400, ref code, .. } if code == "InvalidRequestBody")
        );
        // A numeric code ("429" or 429) and a body that is not JSON at all.
        let e = from_api_response(500, br#"{"error":{"code":500,"message":"boom"}}"#);
        assert!(
            matches!(e, DefenderError::Rejected { status: 500, ref code, .. } if code == "500")
        );
        assert!(e.is_transient());
        let e = from_api_response(502, b"<html>bad gateway</html>");
        assert!(matches!(e, DefenderError::Rejected { status: 502, .. }));
    }

    #[test]
    fn classified_words_never_carry_the_hosts_text() {
        const CANARY: &str = "Call-Evil-Support";
        let bodies: &[(u16, String)] = &[
            (
                403,
                format!(
                    r#"{{"error":{{"code":"{CANARY}","message":"Missing application roles. API required roles: Machine.Read.All,{CANARY}.x, application roles: {CANARY}.y"}}}}"#
                ),
            ),
            (
                403,
                format!(r#"{{"error":{{"code":"Forbidden","message":"{CANARY}"}}}}"#),
            ),
            (
                404,
                format!(r#"{{"error":{{"code":"{CANARY}","message":"{CANARY}"}}}}"#),
            ),
            (
                400,
                format!(r#"{{"error":{{"code":"{CANARY}","message":"{CANARY}"}}}}"#),
            ),
            (
                400,
                format!(
                    r#"{{"error":{{"code":"ActiveRequestAlreadyExists","message":"{CANARY}"}}}}"#
                ),
            ),
            (302, format!("<a href='https://{CANARY}'>moved</a>")),
            (500, CANARY.to_owned()),
        ];
        for (status, body) in bodies {
            let e = from_api_response(*status, body.as_bytes());
            let words = e.classified();
            assert!(!words.contains(CANARY), "{status}: {words}");
            assert!(
                words.contains(&status.to_string()) || *status == 400,
                "{words}"
            );
        }
        let forbidden = from_api_response(403, bodies[0].1.as_bytes()).classified();
        assert!(forbidden.contains("Machine.Read.All"), "{forbidden}");
        let decode = DefenderError::Decode {
            what: "token response".into(),
            detail: format!("invalid type: string \"{CANARY}\""),
        };
        assert!(!decode.classified().contains(CANARY));
        let tls = DefenderError::Transport(format!(
            "error sending request: invalid peer certificate: NotValidForName {CANARY}.example"
        ));
        assert!(!tls.classified().contains(CANARY));
        assert!(tls.classified().contains("TLS"));
    }
}
