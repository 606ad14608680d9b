//! Defender clouds and the hosts derived from them: login, API, token audience and portal.

use std::fmt;
use std::str::FromStr;

use url::Url;

use super::destination::check_url;
use super::error::DefenderError;

/// The national clouds Defender for Endpoint runs in (defender-api.md §1.1, §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cloud {
    Commercial,
    Gcc,
    GccHigh,
    Dod,
}

impl Cloud {
    pub const ALL: [Cloud; 4] = [Cloud::Commercial, Cloud::Gcc, Cloud::GccHigh, Cloud::Dod];

    /// The configuration spelling (§1.2): `commercial | gcc | gcc-high | dod`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Commercial => "commercial",
            Cloud::Gcc => "gcc",
            Cloud::GccHigh => "gcc-high",
            Cloud::Dod => "dod",
        }
    }

    /// Sign-in host. GCC signs in on the *commercial* host, GCC High and DoD on `.us` (§1.1).
    pub fn login_base(self) -> &'static str {
        match self {
            Cloud::Commercial | Cloud::Gcc => "https://login.microsoftonline.com",
            Cloud::GccHigh | Cloud::Dod => "https://login.microsoftonline.us",
        }
    }

    /// Default API host (§1.1). GCC High and DoD share one host.
    pub fn api_base(self) -> &'static str {
        match self {
            Cloud::Commercial => "https://api.security.microsoft.com",
            Cloud::Gcc => "https://api-gcc.securitycenter.microsoft.us",
            Cloud::GccHigh | Cloud::Dod => "https://api-gov.securitycenter.microsoft.us",
        }
    }

    /// Token audience: the v2 scope is this plus `/.default` (§1.1, §2.1). The commercial
    /// audience keeps the older `securitycenter` name even though the API host moved.
    pub fn audience(self) -> &'static str {
        match self {
            Cloud::Commercial => "https://api.securitycenter.microsoft.com",
            Cloud::Gcc => "https://api-gcc.securitycenter.microsoft.us",
            Cloud::GccHigh | Cloud::Dod => "https://api-gov.securitycenter.microsoft.us",
        }
    }

    /// Portal host for deep links (§1.1 notes, §8).
    pub fn portal_host(self) -> &'static str {
        match self {
            Cloud::Commercial | Cloud::Gcc => "security.microsoft.com",
            Cloud::GccHigh => "security.microsoft.us",
            Cloud::Dod => "security.apps.mil",
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cloud {
    type Err = DefenderError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect::<String>()
            .to_ascii_lowercase();
        match norm.as_str() {
            "commercial" | "public" => Ok(Cloud::Commercial),
            "gcc" => Ok(Cloud::Gcc),
            "gcchigh" => Ok(Cloud::GccHigh),
            "dod" => Ok(Cloud::Dod),
            _ => Err(DefenderError::InvalidArgument {
                what: "cloud",
                reason: format!("unknown cloud {s:?}; expected commercial, gcc, gcc-high or dod"),
            }),
        }
    }
}

/// Resolved endpoints the client talks to. Built from a [`Cloud`] (optionally with a geo API
/// host) or from a custom login/API pair for the simulator, demos and proxies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Base of the sign-in host; the token path `/{tenant}/oauth2/v2.0/token` is appended.
    pub login_base: Url,
    /// Base of the API host; `/api/...` is appended.
    pub api_base: Url,
    /// Token audience without `/.default`.
    pub audience: String,
    /// Host name of the security portal, for deep links.
    pub portal_host: String,
}

impl Endpoints {
    /// Endpoints of a cloud. `geo_api_host` replaces the API host only: geo hosts serve the same
    /// tenant and take the same audience (§1.1 notes). Accepts a bare host or an https URL.
    pub fn for_cloud(cloud: Cloud, geo_api_host: Option<&str>) -> Result<Self, DefenderError> {
        let api_base = match geo_api_host.map(str::trim).filter(|h| !h.is_empty()) {
            Some(host) if host.contains("://") => {
                let url = parse_base("geo API host", host)?;
                if url.scheme() != "https" {
                    return Err(DefenderError::InvalidArgument {
                        what: "geo API host",
                        reason: "a Defender API host must use https".into(),
                    });
                }
                url
            }
            Some(host) => parse_base("geo API host", &format!("https://{host}"))?,
            None => parse_base("API host", cloud.api_base())?,
        };
        check_destination("geo API host", &api_base)?;
        Ok(Self {
            login_base: parse_base("login host", cloud.login_base())?,
            api_base,
            audience: cloud.audience().to_owned(),
            portal_host: cloud.portal_host().to_owned(),
        })
    }

    /// A custom login/API pair (simulator, demo, or a proxy in front of Defender). The audience
    /// and portal default to the commercial cloud's. Plain http only to this machine (the
    /// simulator), and never a link-local or metadata address (`destination::check_url`).
    pub fn custom(login_base: &str, api_base: &str) -> Result<Self, DefenderError> {
        Ok(Self {
            login_base: parse_destination("login base URL", login_base)?,
            api_base: parse_destination("API base URL", api_base)?,
            audience: Cloud::Commercial.audience().to_owned(),
            portal_host: Cloud::Commercial.portal_host().to_owned(),
        })
    }

    /// Same as [`Endpoints::custom`] with an explicit audience and portal cloud.
    pub fn custom_for(
        cloud: Cloud,
        login_base: &str,
        api_base: &str,
    ) -> Result<Self, DefenderError> {
        Ok(Self {
            audience: cloud.audience().to_owned(),
            portal_host: cloud.portal_host().to_owned(),
            ..Self::custom(login_base, api_base)?
        })
    }

    /// The v2 token endpoint of a tenant (§2.1).
    pub fn token_url(&self, tenant: &str) -> Url {
        let mut url = self.login_base.clone();
        push_segments(&mut url, &[tenant, "oauth2", "v2.0", "token"]);
        url
    }

    /// The v2 scope for client credentials: audience plus `/.default` (§2.1).
    pub fn scope(&self) -> String {
        format!("{}/.default", self.audience.trim_end_matches('/'))
    }

    /// An API URL below `/api/`, each segment percent-encoded.
    pub fn api_url(&self, segments: &[&str]) -> Url {
        let mut url = self.api_base.clone();
        let mut all = Vec::with_capacity(segments.len() + 1);
        all.push("api");
        all.extend_from_slice(segments);
        push_segments(&mut url, &all);
        url
    }
}

fn parse_base(what: &'static str, raw: &str) -> Result<Url, DefenderError> {
    let url = Url::parse(raw).map_err(|e| DefenderError::InvalidArgument {
        what,
        reason: format!("{raw:?} is not a URL: {e}"),
    })?;
    if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
        return Err(DefenderError::InvalidArgument {
            what,
            reason: format!("{raw:?} must be an http(s) base URL"),
        });
    }
    Ok(url)
}

/// A base URL the client may send credentials to.
fn parse_destination(what: &'static str, raw: &str) -> Result<Url, DefenderError> {
    let url = parse_base(what, raw)?;
    check_destination(what, &url)?;
    Ok(url)
}

fn check_destination(what: &'static str, url: &Url) -> Result<(), DefenderError> {
    check_url(url).map_err(|e| DefenderError::InvalidArgument {
        what,
        reason: match e {
            DefenderError::RefusedDestination { reason, .. } => format!("{url}: {reason}"),
            other => other.to_string(),
        },
    })
}

fn push_segments(url: &mut Url, segments: &[&str]) {
    // Bases are validated by `parse_base`, so `path_segments_mut` cannot fail here.
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url.set_query(None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds_map_to_documented_hosts() {
        let c = Endpoints::for_cloud(Cloud::Commercial, None).unwrap();
        assert_eq!(c.login_base.as_str(), "https://login.microsoftonline.com/");
        assert_eq!(c.api_base.as_str(), "https://api.security.microsoft.com/");
        assert_eq!(
            c.scope(),
            "https://api.securitycenter.microsoft.com/.default"
        );
        assert_eq!(c.portal_host, "security.microsoft.com");

        let gcc = Endpoints::for_cloud(Cloud::Gcc, None).unwrap();
        assert_eq!(gcc.login_base.host_str(), Some("login.microsoftonline.com"));
        assert_eq!(
            gcc.api_base.host_str(),
            Some("api-gcc.securitycenter.microsoft.us")
        );

        let high = Endpoints::for_cloud(Cloud::GccHigh, None).unwrap();
        assert_eq!(high.login_base.host_str(), Some("login.microsoftonline.us"));
        assert_eq!(high.audience, "https://api-gov.securitycenter.microsoft.us");
        assert_eq!(high.portal_host, "security.microsoft.us");

        let dod = Endpoints::for_cloud(Cloud::Dod, None).unwrap();
        assert_eq!(
            dod.api_base.host_str(),
            Some("api-gov.securitycenter.microsoft.us")
        );
        assert_eq!(dod.portal_host, "security.apps.mil");
    }

    #[test]
    fn geo_host_replaces_api_host_only() {
        let e =
            Endpoints::for_cloud(Cloud::Commercial, Some("eu.api.security.microsoft.com")).unwrap();
        assert_eq!(
            e.api_base.as_str(),
            "https://eu.api.security.microsoft.com/"
        );
        assert_eq!(e.audience, Cloud::Commercial.audience());
        assert!(Endpoints::for_cloud(Cloud::Commercial, Some("http://x.test")).is_err());
    }

    #[test]
    fn custom_hosts_are_https_or_this_machine_and_never_metadata() {
        assert!(Endpoints::custom("http://127.0.0.1:8950", "http://localhost:8950").is_ok());
        assert!(Endpoints::custom("https://login.proxy.example", "https://[::1]:9").is_ok());
        for (login, api) in [
            ("http://login.proxy.example", "https://api.proxy.example"),
            ("https://login.proxy.example", "http://10.1.2.3:8080"),
            ("https://169.254.169.254", "https://api.proxy.example"),
            ("https://login.proxy.example", "http://[::ffff:a9fe:a9fe]/"),
        ] {
            let err = Endpoints::custom(login, api).unwrap_err();
            assert!(
                matches!(err, DefenderError::InvalidArgument { .. }),
                "{login} {api}: {err:?}"
            );
        }
        assert!(Endpoints::for_cloud(Cloud::Commercial, Some("https://169.254.169.254")).is_err());
    }

    #[test]
    fn urls_are_built_below_the_base() {
        let e = Endpoints::custom("http://127.0.0.1:9/", "http://127.0.0.1:9/proxy/").unwrap();
        assert_eq!(
            e.token_url("t-1").as_str(),
            "http://127.0.0.1:9/t-1/oauth2/v2.0/token"
        );
        assert_eq!(
            e.api_url(&["Software", "a b-_-c"]).as_str(),
            "http://127.0.0.1:9/proxy/api/Software/a%20b-_-c"
        );
    }

    #[test]
    fn cloud_names_parse() {
        assert_eq!("GCC-High".parse::<Cloud>().unwrap(), Cloud::GccHigh);
        assert_eq!("dod".parse::<Cloud>().unwrap(), Cloud::Dod);
        assert!("mars".parse::<Cloud>().is_err());
        for c in Cloud::ALL {
            assert_eq!(c.as_str().parse::<Cloud>().unwrap(), c);
        }
    }
}
