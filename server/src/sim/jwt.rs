//! JWT-shaped access tokens (defender-api.md §2.4): base64url header.payload.signature with
//! v1 claims, HMAC-SHA256-signed with a per-simulator random key so the API can tell its own
//! tokens from garbled or forged ones.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Claims the simulator issues; names as in Entra v1 tokens (§2.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub appid: String,
    pub appidacr: String,
    pub idp: String,
    pub idtyp: String,
    pub oid: String,
    pub sub: String,
    pub tid: String,
    /// Absent when the app has no admin-consented permissions (§2.4).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub roles: Option<Vec<String>>,
    /// Unique token id; the simulator numbers tokens to expire them in bulk (§11.5).
    pub uti: String,
    pub ver: String,
}

impl Claims {
    pub fn serial(&self) -> u64 {
        self.uti
            .strip_prefix("sim")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

fn sign(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn issue(key: &[u8], claims: &Claims) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256","kid":"defender-sim"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
    let signing_input = format!("{header}.{payload}");
    let sig = URL_SAFE_NO_PAD.encode(sign(key, signing_input.as_bytes()));
    format!("{signing_input}.{sig}")
}

/// Checks shape and signature; expiry and audience are the caller's business.
pub fn verify(key: &[u8], token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let sig = URL_SAFE_NO_PAD.decode(s).ok()?;
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(format!("{h}.{p}").as_bytes());
    mac.verify_slice(&sig).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(roles: Option<Vec<String>>) -> Claims {
        Claims {
            aud: "https://api.securitycenter.microsoft.com".into(),
            iss: "https://sts.windows.net/t/".into(),
            iat: 1,
            nbf: 1,
            exp: 2,
            appid: "c".into(),
            appidacr: "1".into(),
            idp: "https://sts.windows.net/t/".into(),
            idtyp: "app".into(),
            oid: "o".into(),
            sub: "o".into(),
            tid: "t".into(),
            roles,
            uti: "sim7".into(),
            ver: "1.0".into(),
        }
    }

    #[test]
    fn round_trip_and_tamper() {
        let key = b"k1";
        let c = claims(Some(vec!["Machine.Read.All".into()]));
        let t = issue(key, &c);
        assert_eq!(verify(key, &t), Some(c.clone()));
        assert_eq!(verify(key, &t).unwrap().serial(), 7);
        assert_eq!(verify(b"k2", &t), None);
        let mut forged = t.clone();
        forged.insert(t.find('.').unwrap() + 3, 'x');
        assert_eq!(verify(key, &forged), None);
        assert_eq!(verify(key, "garbage"), None);
    }

    #[test]
    fn no_consent_means_no_roles_claim() {
        let t = issue(b"k", &claims(None));
        let payload = t.split('.').nth(1).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert!(json.get("roles").is_none());
        assert_eq!(json["tid"], "t");
    }
}
