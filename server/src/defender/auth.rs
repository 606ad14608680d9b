//! OAuth2 client-credentials tokens: request on the v2 endpoint, cache, refresh before expiry.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::aadsts::{AadError, AadErrorBody};
use super::backoff::{backoff_delay, unit_random};
use super::body::{read_capped, BodyError};
use super::destination::check_url;
use super::error::DefenderError;
use super::http::{transport_error, Core};
use super::jwt;
use super::model::de;

/// A bearer token with the roles it carries. `Debug` never shows the token itself.
pub struct AccessToken {
    value: SecretString,
    roles: Vec<String>,
    lifetime: Duration,
    refresh_at: Instant,
    generation: u64,
}

impl AccessToken {
    /// Application permissions from the token's `roles` claim; empty when absent (§2.4).
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// `expires_in` as issued.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    pub(crate) fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"[REDACTED]")
            .field("roles", &self.roles)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// When to refresh a token of `lifetime`: `margin` before expiry (five minutes, §2.3), or at
/// half-life for tokens too short for that margin to make sense.
pub(crate) fn refresh_after(lifetime: Duration, margin: Duration) -> Duration {
    if lifetime > margin.saturating_mul(2) {
        lifetime - margin
    } else {
        lifetime / 2
    }
}

/// One token per client (and so per cloud, tenant and app, §10). The lock is held while a
/// token is fetched, so concurrent callers wait for one request instead of sending many
/// (Entra throttles token loops, AADSTS50196).
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    slot: tokio::sync::Mutex<Option<Arc<AccessToken>>>,
    generation: AtomicU64,
}

impl TokenCache {
    pub(crate) async fn get(&self, core: &Core) -> Result<Arc<AccessToken>, DefenderError> {
        let mut slot = self.slot.lock().await;
        if let Some(token) = slot.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(Arc::clone(token));
        }
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let token = Arc::new(fetch_token(core, generation).await?);
        *slot = Some(Arc::clone(&token));
        Ok(token)
    }

    /// Drops `stale` if it is still the cached token (another task may have refreshed it).
    pub(crate) async fn invalidate(&self, stale: &AccessToken) {
        let mut slot = self.slot.lock().await;
        if slot
            .as_ref()
            .is_some_and(|t| t.generation == stale.generation)
        {
            *slot = None;
        }
    }
}

/// v2 and v1 token responses; v1 sends numbers as strings (§2.2). No `Debug`: it holds the
/// token in clear.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(deserialize_with = "de::u64_or_string")]
    expires_in: u64,
}

pub(crate) fn parse_token_response(
    body: &[u8],
    generation: u64,
    margin: Duration,
) -> Result<AccessToken, DefenderError> {
    let parsed: TokenResponse =
        serde_json::from_slice(body).map_err(|e| DefenderError::Decode {
            what: "token response".into(),
            // serde_json's message names the position, never the token text.
            detail: e.to_string(),
        })?;
    let lifetime = Duration::from_secs(parsed.expires_in);
    let roles = jwt::roles_of(&parsed.access_token);
    Ok(AccessToken {
        value: SecretString::from(parsed.access_token),
        roles,
        lifetime,
        refresh_at: Instant::now() + refresh_after(lifetime, margin),
        generation,
    })
}

/// Maps a failed token response to `TokenRejected`, classifying AADSTS codes (§2.5).
pub(crate) fn token_error(status: u16, body: &[u8]) -> DefenderError {
    match serde_json::from_slice::<AadErrorBody>(body) {
        Ok(aad) => {
            let (kind, code) = aad.classify();
            DefenderError::TokenRejected { kind, code, status }
        }
        Err(_) => DefenderError::TokenRejected {
            kind: AadError::Other {
                error: format!("HTTP {status}"),
            },
            code: None,
            status,
        },
    }
}

#[tracing::instrument(skip_all, fields(tenant = %core.settings.tenant_id))]
async fn fetch_token(core: &Core, generation: u64) -> Result<AccessToken, DefenderError> {
    let settings = &core.settings;
    let options = &core.options;
    let url = settings.endpoints.token_url(&settings.tenant_id);
    // Before the secret is put in any request.
    check_url(&url)?;
    let scope = settings.endpoints.scope();
    let cap = options.max_token_response_bytes;
    let mut failures = 0u32;
    loop {
        core.metrics.token_request();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", settings.client_id.as_str()),
            ("client_secret", settings.client_secret.expose_secret()),
            ("scope", scope.as_str()),
        ];
        let sent = core
            .http
            .post(url.clone())
            .form(&form)
            .timeout(options.request_timeout)
            .send()
            .await;
        let failure = match sent {
            Ok(resp) => {
                let status = resp.status();
                match read_capped(resp, cap).await {
                    Ok(body) if status.is_success() => {
                        tracing::debug!(generation, "access token issued");
                        return parse_token_response(
                            &body,
                            generation,
                            options.token_refresh_margin,
                        );
                    }
                    Ok(body) if !status.is_server_error() => {
                        let err = token_error(status.as_u16(), &body);
                        tracing::warn!(status = status.as_u16(), error = %err, "token request rejected");
                        return Err(err);
                    }
                    Ok(_) => DefenderError::Rejected {
                        status: status.as_u16(),
                        code: "TokenEndpoint".into(),
                        message: "the token endpoint failed".into(),
                    },
                    Err(BodyError::Read(e)) => transport_error(&e),
                    Err(BodyError::TooLarge) => {
                        tracing::warn!(limit = cap, "token answer too large; not read");
                        return Err(DefenderError::ResponseTooLarge {
                            what: "token".into(),
                            limit: cap,
                        });
                    }
                }
            }
            Err(e) => match transport_error(&e) {
                refused @ DefenderError::RefusedDestination { .. } => return Err(refused),
                other => other,
            },
        };
        if failures >= options.max_retries {
            return Err(failure);
        }
        let delay = backoff_delay(
            failures,
            options.backoff_base,
            options.backoff_max,
            unit_random(),
        );
        tracing::warn!(error = %failure, ?delay, "token request failed; retrying");
        failures += 1;
        core.metrics.retry();
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARGIN: Duration = Duration::from_secs(300);

    #[test]
    fn v2_and_v1_token_responses_parse() {
        let v2 = br#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAi.eyJyb2xlcyI6WyJNYWNoaW5lLlJlYWQuQWxsIl19.sig"}"#;
        let t = parse_token_response(v2, 1, MARGIN).unwrap();
        assert_eq!(t.lifetime(), Duration::from_secs(3599));
        assert_eq!(t.roles(), ["Machine.Read.All"]);
        let v1 = br#"{"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","expires_on":"1767229199",
 "not_before":"1767225299","resource":"https://api.securitycenter.microsoft.com","access_token":"eyJ0eXAi...sig"}"#;
        let t = parse_token_response(v1, 2, MARGIN).unwrap();
        assert_eq!(t.lifetime(), Duration::from_secs(3599));
        assert!(t.roles().is_empty());
        assert!(
            parse_token_response(br#"{"access_token":"x","expires_in":"soon"}"#, 3, MARGIN)
                .is_err()
        );
    }

    #[test]
    fn refresh_five_minutes_early_or_at_half_life() {
        assert_eq!(
            refresh_after(Duration::from_secs(3599), MARGIN),
            Duration::from_secs(3299)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(5), MARGIN),
            Duration::from_millis(2500)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(600), MARGIN),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn token_debug_and_errors_never_show_the_token() {
        let body = br#"{"expires_in":3599,"access_token":"eyJhbGciOi.TOPSECRETPAYLOAD.sig"}"#;
        let t = parse_token_response(body, 1, MARGIN).unwrap();
        let text = format!("{t:?}");
        assert!(!text.contains("TOPSECRETPAYLOAD"), "{text}");
        let err = parse_token_response(
            br#"{"access_token":"TOPSECRET","expires_in":[]}"#,
            1,
            MARGIN,
        )
        .unwrap_err();
        assert!(!format!("{err:?} {err}").contains("TOPSECRET"));
    }

    #[test]
    fn entra_error_bodies_become_token_rejected() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215],"timestamp":"2026-01-05 09:14:03Z","trace_id":"a","correlation_id":"b","error_uri":"https://login.microsoftonline.com/error?code=7000215"}"#;
        let err = token_error(401, body);
        assert!(matches!(
            err,
            DefenderError::TokenRejected {
                kind: AadError::WrongSecret,
                code: Some(7000215),
                status: 401
            }
        ));
        assert!(err.to_string().contains("secret ID"));
        let err = token_error(400, b"not json");
        assert!(matches!(
            err,
            DefenderError::TokenRejected {
                kind: AadError::Other { .. },
                ..
            }
        ));
    }
}
