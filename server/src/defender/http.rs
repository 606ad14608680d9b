//! Sending API requests: budget, bearer token, timeout, and retries after 401, 429, 5xx,
//! timeouts and connection errors (defender-api.md §2.3, §3.7, §10).

use std::error::Error as _;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::TokenCache;
use super::backoff::{backoff_delay, retry_after, throttle_delay, unit_random};
use super::body::{read_capped, BodyError};
use super::budget::{Budget, Family};
use super::destination::check_url;
use super::error::{from_api_response, DefenderError};
use super::metrics::Metrics;
use super::resolver::RefusedName;
use super::settings::{ClientOptions, DefenderSettings};

/// Everything a request needs; shared by every clone of a client and by its pagers.
#[derive(Debug)]
pub(crate) struct Core {
    pub http: reqwest::Client,
    pub settings: DefenderSettings,
    pub options: ClientOptions,
    pub tokens: TokenCache,
    pub budget: Budget,
    pub metrics: Metrics,
}

/// One API call.
pub(crate) struct ApiRequest<'a> {
    pub method: Method,
    pub url: Url,
    pub body: Option<&'a serde_json::Value>,
    pub family: Family,
    /// What is being fetched, for errors and logs.
    pub what: &'static str,
    /// Sending it twice does no harm. A request that is not (a machine action or its
    /// cancellation) is never resent once it may have reached Defender: a lost answer becomes
    /// `DefenderError::Unconfirmed`, and the caller looks for what the request did (§9.22).
    pub idempotent: bool,
}

impl<'a> ApiRequest<'a> {
    pub(crate) fn get(url: Url, family: Family, what: &'static str) -> Self {
        Self {
            method: Method::GET,
            url,
            body: None,
            family,
            what,
            idempotent: true,
        }
    }

    /// A POST that only reads (advanced hunting): resent like a GET.
    pub(crate) fn post(
        url: Url,
        body: &'a serde_json::Value,
        family: Family,
        what: &'static str,
    ) -> Self {
        Self {
            method: Method::POST,
            url,
            body: Some(body),
            family,
            what,
            idempotent: true,
        }
    }

    /// A POST that changes something in Defender: never resent once it may have arrived.
    pub(crate) fn post_once(
        url: Url,
        body: &'a serde_json::Value,
        family: Family,
        what: &'static str,
    ) -> Self {
        Self {
            idempotent: false,
            ..Self::post(url, body, family, what)
        }
    }
}

/// Maps a reqwest failure. The message names the URL and cause, never headers or bodies. A
/// connection our resolver refused is `RefusedDestination`, which is not retried.
pub(crate) fn transport_error(e: &reqwest::Error) -> DefenderError {
    if e.is_timeout() {
        return DefenderError::Timeout;
    }
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<RefusedName>() {
            return DefenderError::RefusedDestination {
                host: refused.host.clone(),
                reason: "it resolves only to link-local or cloud metadata addresses",
            };
        }
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    DefenderError::Transport(text)
}

/// Error bodies are read only for their error envelope, which is small; a longer one is
/// judged by its status alone.
pub(crate) const ERROR_BODY_CAP: usize = 64 * 1024;

enum Attempt<T> {
    Done(T),
    /// Transient failure: retry after backoff (or the server's `Retry-After`, if longer)
    /// while the retry budget lasts.
    Transient(DefenderError, Option<Duration>),
    /// 429: retry after `Retry-After` while the throttle budget lasts.
    Throttled(Option<Duration>),
    /// 401: refresh the token once and retry once.
    Unauthorized,
    Fatal(DefenderError),
}

impl Core {
    /// Sends `req` and decodes a JSON success body, retrying as §3.7 and §10 recommend.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        req: &ApiRequest<'_>,
    ) -> Result<T, DefenderError> {
        self.send_decoded(req, |body| serde_json::from_slice(body))
            .await
    }

    /// Sends `req` and decodes a success body with `decode`, retrying as [`Self::send_json`]
    /// does; a body `decode` refuses is retried like a cut transfer. `decode` sees the body's
    /// bytes, so what it decodes may borrow from them (the pager keeps items raw, §3.2).
    pub(crate) async fn send_decoded<R, F>(
        &self,
        req: &ApiRequest<'_>,
        decode: F,
    ) -> Result<R, DefenderError>
    where
        F: Fn(&[u8]) -> Result<R, serde_json::Error>,
    {
        let opts = &self.options;
        let mut failures = 0u32;
        let mut throttles = 0u32;
        let mut refreshed = false;
        loop {
            let waited = self.budget.acquire(req.family).await;
            if !waited.is_zero() {
                self.metrics.budget_waited(waited);
            }
            let token = self.tokens.get(self).await?;
            let attempt = self.attempt(req, token.expose(), &decode).await;
            match attempt {
                Attempt::Done(value) => return Ok(value),
                Attempt::Fatal(err) => return Err(err),
                Attempt::Unauthorized if !refreshed => {
                    // §2.3: discard the token, fetch a new one once, retry once.
                    tracing::info!(
                        what = req.what,
                        "401 from the API; refreshing the token once"
                    );
                    refreshed = true;
                    self.metrics.refreshed_after_401();
                    self.metrics.retry();
                    self.tokens.invalidate(&token).await;
                }
                Attempt::Unauthorized => {
                    // The fresh token was refused too; don't keep it for the next call.
                    self.tokens.invalidate(&token).await;
                    return Err(DefenderError::Unauthorized);
                }
                Attempt::Throttled(after) => {
                    self.metrics.throttled();
                    if throttles >= opts.max_throttle_retries {
                        tracing::warn!(what = req.what, ?after, "still throttled; giving up");
                        return Err(DefenderError::RateLimited { retry_after: after });
                    }
                    let delay = throttle_delay(
                        after,
                        opts.throttle_fallback,
                        opts.retry_after_cap,
                        opts.retry_after_jitter,
                        unit_random(),
                    );
                    tracing::warn!(what = req.what, ?after, ?delay, "429 from the API; waiting");
                    throttles += 1;
                    self.metrics.retry();
                    self.metrics.retry_after_waited(delay);
                    tokio::time::sleep(delay).await;
                }
                Attempt::Transient(err, after) => {
                    if failures >= opts.max_retries {
                        tracing::warn!(what = req.what, error = %err, "retries exhausted");
                        return Err(err);
                    }
                    let backoff =
                        backoff_delay(failures, opts.backoff_base, opts.backoff_max, unit_random());
                    let delay = after.map_or(backoff, |a| backoff.max(a.min(opts.retry_after_cap)));
                    tracing::warn!(what = req.what, error = %err, ?delay, "transient failure; retrying");
                    failures += 1;
                    self.metrics.retry();
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt<R, F>(&self, req: &ApiRequest<'_>, bearer: &str, decode: &F) -> Attempt<R>
    where
        F: Fn(&[u8]) -> Result<R, serde_json::Error>,
    {
        if let Err(refused) = check_url(&req.url) {
            return Attempt::Fatal(refused);
        }
        self.metrics.api_call();
        let mut builder = self
            .http
            .request(req.method.clone(), req.url.clone())
            .bearer_auth(bearer)
            .header(http::header::ACCEPT, "application/json")
            .timeout(self.options.request_timeout);
        if let Some(body) = req.body {
            builder = builder.json(body);
        }
        // What a failure means once the request may have been received: a read can simply be
        // asked again, a change cannot.
        let lost = |cause: DefenderError| {
            if req.idempotent {
                Attempt::Transient(cause, None)
            } else {
                Attempt::Fatal(DefenderError::Unconfirmed {
                    what: req.what.to_owned(),
                    cause: cause.to_string(),
                })
            }
        };
        let resp = match builder.send().await {
            Ok(resp) => resp,
            // Nothing was sent when the connection could not even be made.
            Err(e) if e.is_connect() => {
                return match transport_error(&e) {
                    refused @ DefenderError::RefusedDestination { .. } => Attempt::Fatal(refused),
                    other => Attempt::Transient(other, None),
                }
            }
            Err(e) => return lost(transport_error(&e)),
        };
        let status = resp.status();
        let after = retry_after(resp.headers());
        let cap = if status.is_success() {
            self.options.max_response_bytes
        } else {
            ERROR_BODY_CAP
        };
        // A body cut short (connection reset, truncated transfer) is as transient as a
        // failed connect.
        let body = match read_capped(resp, cap).await {
            Ok(body) => body,
            Err(BodyError::Read(e)) => return lost(transport_error(&e)),
            Err(BodyError::TooLarge) if status.is_success() => {
                tracing::warn!(what = req.what, limit = cap, "answer too large; not read");
                let too_large = DefenderError::ResponseTooLarge {
                    what: req.what.to_owned(),
                    limit: cap,
                };
                // Asking again would get the same answer; a change may still have happened.
                return if req.idempotent {
                    Attempt::Fatal(too_large)
                } else {
                    lost(too_large)
                };
            }
            Err(BodyError::TooLarge) => Vec::new(),
        };
        tracing::debug!(method = %req.method, path = req.url.path(), status = status.as_u16(), "api call");
        if status.is_success() {
            return match decode(&body) {
                Ok(value) => Attempt::Done(value),
                // Truncated JSON looks like a cut transfer: retry, then give up as Decode.
                Err(e) => lost(DefenderError::Decode {
                    what: req.what.to_owned(),
                    detail: e.to_string(),
                }),
            };
        }
        match status {
            // Refused before anything was done: safe to send again.
            StatusCode::UNAUTHORIZED => Attempt::Unauthorized,
            StatusCode::TOO_MANY_REQUESTS => Attempt::Throttled(after),
            // A gateway or proxy may have passed the request on before failing.
            s if (s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT) && !req.idempotent => {
                lost(from_api_response(s.as_u16(), &body))
            }
            s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => {
                Attempt::Transient(from_api_response(s.as_u16(), &body), after)
            }
            s => Attempt::Fatal(from_api_response(s.as_u16(), &body)),
        }
    }
}
