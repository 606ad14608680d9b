//! Entra ID client-credentials token endpoints, v1 and v2 (defender-api.md §2.1–2.5), with
//! Entra's error envelope and AADSTS codes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::clock::{self, SEC};
use super::config::{Cloud, SimApp};
use super::jwt::{self, Claims};
use super::state::{lock, Sim};

/// The WindowsDefenderATP resource app (§1.1): one first-party app id in every cloud.
pub const WINDOWS_DEFENDER_ATP: &str = "fc780465-2017-40d4-a0c5-307022471b92";

/// Audiences the Defender API accepts in some cloud (§1.1 table, plus the app id).
pub const MDE_AUDIENCES: &[&str] = &[
    "https://api.securitycenter.microsoft.com",
    "https://api.securitycenter.windows.com",
    "https://api-gcc.securitycenter.microsoft.us",
    "https://api-gov.securitycenter.microsoft.us",
    "https://api-gcc.security.microsoft.us",
    "https://api-gov.security.microsoft.us",
    WINDOWS_DEFENDER_ATP,
];

/// The Defender audiences of one cloud (§1.1, §11.4): what a tenant there can get a token
/// for and what its API calls must carry. The `.security.microsoft.us` aliases are
/// unconfirmed (§12) and accepted.
pub fn cloud_audiences(cloud: Cloud) -> &'static [&'static str] {
    match cloud {
        Cloud::Commercial => &[
            "https://api.securitycenter.microsoft.com",
            "https://api.securitycenter.windows.com",
            WINDOWS_DEFENDER_ATP,
        ],
        Cloud::Gcc => &[
            "https://api-gcc.securitycenter.microsoft.us",
            "https://api-gcc.security.microsoft.us",
            WINDOWS_DEFENDER_ATP,
        ],
        Cloud::GccHigh | Cloud::Dod => &[
            "https://api-gov.securitycenter.microsoft.us",
            "https://api-gov.security.microsoft.us",
            WINDOWS_DEFENDER_ATP,
        ],
    }
}

/// Whether a Defender audience belongs to this cloud.
pub fn in_cloud(cloud: Cloud, aud: &str) -> bool {
    cloud_audiences(cloud).contains(&aud.trim_end_matches('/'))
}

/// Real resources Entra issues tokens for, but which the Defender API rejects with 403
/// (§2.1, microsoft-365-docs#9246).
const OTHER_AUDIENCES: &[&str] = &[
    "https://graph.microsoft.com",
    "https://userrequestsgraphapi-prd.trafficmanager.net",
    "https://management.azure.com",
    "https://api.security.microsoft.com",
    "https://graph.microsoft.us",
];

pub fn is_mde_audience(aud: &str) -> bool {
    MDE_AUDIENCES.contains(&aud.trim_end_matches('/'))
}

fn known_audience(aud: &str) -> bool {
    let a = aud.trim_end_matches('/');
    is_mde_audience(a) || OTHER_AUDIENCES.contains(&a)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// An Entra error response (§2.5 body shape).
fn error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let now = clock::now();
    let trace = uuid::Uuid::new_v4();
    let corr = uuid::Uuid::new_v4();
    let ts = clock::entra(now);
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {description}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}"
        ),
        "error_codes": [code],
        "timestamp": ts,
        "trace_id": trace.to_string(),
        "correlation_id": corr.to_string(),
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    json_body(status, &body)
}

fn json_body(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    r
}

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

fn is_domain(s: &str) -> bool {
    s.contains('.')
        && !s.starts_with('.')
        && !s.ends_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// Stable object id for an app's service principal.
fn object_id(client_id: &str) -> String {
    let h = Sha256::digest(client_id.as_bytes());
    let x: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// Credentials from `Authorization: Basic` (client_secret_basic, RFC 6749 §2.3.1: both parts
/// form-urlencoded before base64), which Entra accepts as an alternative to the body.
fn basic_credentials(headers: &HeaderMap) -> Vec<(String, String)> {
    let decoded = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Vec::new();
    };
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|v| v.into_iter().next())
            .map_or_else(|| s.to_owned(), |(_, v)| v)
    };
    vec![
        ("client_id".into(), unescape(id)),
        ("client_secret".into(), unescape(secret)),
    ]
}

pub async fn token_v1(
    State(sim): State<Arc<Sim>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token(&sim, &tenant, &headers, &body, Version::V1).await
}

pub async fn token_v2(
    State(sim): State<Arc<Sim>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token(&sim, &tenant, &headers, &body, Version::V2).await
}

#[tracing::instrument(skip_all, fields(tenant = %tenant))]
async fn token(
    sim: &Sim,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
    version: Version,
) -> Response {
    let delay = {
        let f = lock(&sim.faults);
        if f.delays_tokens() {
            f.delay_ms
        } else {
            0
        }
    };
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let mut form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    form.extend(basic_credentials(headers));
    let r = issue(sim, tenant, &form, version);
    tracing::debug!(status = %r.status(), "token request");
    r
}

fn issue(sim: &Sim, tenant: &str, form: &[(String, String)], version: Version) -> Response {
    let bad = StatusCode::BAD_REQUEST;
    let unauth = StatusCode::UNAUTHORIZED;
    let param = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());

    if !is_guid(tenant) && !is_domain(tenant) {
        return error(bad, "invalid_request", 900023, &format!("Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain."));
    }
    let apps = lock(&sim.apps).clone();
    let in_tenant: Vec<&SimApp> = apps
        .iter()
        .filter(|a| {
            a.tenant_id.eq_ignore_ascii_case(tenant)
                || a.tenant_domain
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(tenant))
        })
        .collect();
    if in_tenant.is_empty() {
        return error(bad, "invalid_request", 90002, &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."));
    }
    match param("grant_type") {
        None => {
            return error(
                bad,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )
        }
        Some("client_credentials") => {}
        Some(g) => {
            return error(
                bad,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{g}'."),
            )
        }
    }
    let Some(client_id) = param("client_id") else {
        return error(
            bad,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    let tenant_id = in_tenant[0].tenant_id.clone();
    let Some(app) = in_tenant
        .iter()
        .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    else {
        return error(bad, "unauthorized_client", 700016, &format!("Application with identifier '{client_id}' was not found in the directory '{tenant_id}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."));
    };
    let Some(secret) = param("client_secret").filter(|s| !s.is_empty()) else {
        return error(unauth, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    };
    let revoked = lock(&sim.revoked).contains(&app.client_id);
    if secret != app.client_secret || revoked {
        return error(unauth, "invalid_client", 7000215, &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.", app.client_id));
    }
    if app.secret_expired {
        return error(unauth, "invalid_client", 7000222, &format!("The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", app.client_id));
    }
    let audience = match version {
        Version::V2 => {
            let Some(scope) = param("scope") else {
                return error(
                    bad,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'scope'.",
                );
            };
            // Client credentials need `{resource}/.default` (§2.1).
            let Some(resource) = scope.trim().strip_suffix("/.default") else {
                return error(bad, "invalid_scope", 1002012, &format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."));
            };
            resource.to_owned()
        }
        Version::V1 => match param("resource") {
            Some(r) => r.to_owned(),
            None => {
                return error(
                    bad,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'resource'.",
                )
            }
        },
    };
    if !known_audience(&audience) {
        return error(bad, "invalid_resource", 500011, &format!("The resource principal named {audience} was not found in the tenant named {tenant_id}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."));
    }
    // Each cloud's Entra knows only its own Defender principal: another cloud's audience is
    // a resource this tenant does not have (§1.1, §2.5).
    if is_mde_audience(&audience) && !in_cloud(app.cloud, &audience) {
        return error(bad, "invalid_resource", 500011, &format!("The resource principal named {audience} was not found in the tenant named {tenant_id}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."));
    }
    // The wrong-audience fault: a valid token for a resource the Defender API refuses.
    let audience = lock(&sim.faults).token_audience.clone().unwrap_or(audience);

    let now = (clock::now() / SEC) as i64;
    let life = sim.config.token_lifetime.as_secs().max(1) as i64;
    let serial = {
        let mut t = lock(&sim.tokens);
        t.issued += 1;
        t.issued
    };
    let iss = format!("https://sts.windows.net/{tenant_id}/");
    let oid = object_id(&app.client_id);
    let claims = Claims {
        aud: audience.clone(),
        iss: iss.clone(),
        iat: now,
        nbf: now,
        exp: now + life,
        appid: app.client_id.clone(),
        appidacr: "1".into(),
        idp: iss,
        idtyp: "app".into(),
        oid: oid.clone(),
        sub: oid,
        tid: tenant_id,
        roles: app.roles.clone(),
        uti: format!("sim{serial}"),
        ver: "1.0".into(),
    };
    let token = jwt::issue(&sim.key, &claims);
    lock(&sim.tokens).keep(&token);
    let body = match version {
        // v2: numbers are JSON numbers (§2.2).
        Version::V2 => {
            json!({"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": token})
        }
        // v1: numbers are JSON strings, plus expires_on / not_before / resource (§2.2).
        Version::V1 => json!({
            "token_type": "Bearer",
            "expires_in": life.to_string(),
            "ext_expires_in": life.to_string(),
            "expires_on": (now + life).to_string(),
            "not_before": now.to_string(),
            "resource": audience,
            "access_token": token,
        }),
    };
    json_body(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_shapes() {
        assert!(is_guid("6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5"));
        assert!(!is_guid("6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4eZ"));
        assert!(is_domain("contoso.onmicrosoft.com"));
        assert!(!is_domain("not a tenant"));
        assert!(!is_domain("common"));
        assert!(is_mde_audience("https://api.securitycenter.microsoft.com/"));
        assert!(!is_mde_audience("https://graph.microsoft.com"));
        assert!(known_audience("https://graph.microsoft.com"));
    }

    #[test]
    fn audiences_by_cloud() {
        let all = [Cloud::Commercial, Cloud::Gcc, Cloud::GccHigh, Cloud::Dod];
        let takers = |aud: &str| {
            all.into_iter()
                .filter(|c| in_cloud(*c, aud))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            takers("https://api.securitycenter.microsoft.com/"),
            [Cloud::Commercial]
        );
        assert_eq!(
            takers("https://api.securitycenter.windows.com"),
            [Cloud::Commercial]
        );
        assert_eq!(
            takers("https://api-gcc.securitycenter.microsoft.us"),
            [Cloud::Gcc]
        );
        assert_eq!(
            takers("https://api-gcc.security.microsoft.us"),
            [Cloud::Gcc]
        );
        let gov = [Cloud::GccHigh, Cloud::Dod];
        assert_eq!(takers("https://api-gov.securitycenter.microsoft.us"), gov);
        assert_eq!(takers("https://api-gov.security.microsoft.us"), gov);
        assert_eq!(takers(WINDOWS_DEFENDER_ATP), all);
        assert!(takers("https://graph.microsoft.com").is_empty());
        for c in all {
            assert!(cloud_audiences(c).iter().all(|a| is_mde_audience(a)));
        }
    }
}
