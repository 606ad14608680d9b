//! DNS for the Defender client: the addresses a name resolves to pass
//! [`destination::is_refused`] on every connection, so a name that resolves to a metadata
//! or link-local address, at once or only the second time (DNS rebinding), is never
//! connected to. Literal addresses never reach a resolver; `destination::check_url` covers
//! those.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::destination;

/// Names answered from a fixed table instead of DNS, still filtered like DNS answers. Tests
/// use it to make a name resolve where they need; production leaves it empty.
#[derive(Clone, Debug, Default)]
pub struct HostOverrides(Arc<HashMap<String, Vec<IpAddr>>>);

impl HostOverrides {
    pub fn new(entries: impl IntoIterator<Item = (String, Vec<IpAddr>)>) -> Self {
        Self(Arc::new(
            entries
                .into_iter()
                .map(|(name, ips)| (name.to_ascii_lowercase(), ips))
                .collect(),
        ))
    }

    fn get(&self, name: &str) -> Option<Vec<IpAddr>> {
        self.0.get(&name.to_ascii_lowercase()).cloned()
    }
}

/// Every address of a name was refused. The client recognises this error in a failed
/// connection and reports [`super::DefenderError::RefusedDestination`], without retrying.
#[derive(Debug)]
pub struct RefusedName {
    pub host: String,
}

impl fmt::Display for RefusedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} resolves only to link-local or cloud metadata addresses",
            self.host
        )
    }
}

impl std::error::Error for RefusedName {}

/// Keeps the addresses that may be connected to, in the resolver's order.
pub fn allowed(addrs: impl IntoIterator<Item = SocketAddr>) -> Vec<SocketAddr> {
    addrs
        .into_iter()
        .filter(|a| !destination::is_refused(a.ip()))
        .collect()
}

/// The system resolver (or the overrides), filtered.
#[derive(Clone, Debug, Default)]
pub struct GuardedResolver {
    overrides: HostOverrides,
}

impl GuardedResolver {
    pub fn new(overrides: HostOverrides) -> Self {
        Self { overrides }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let fixed = self.overrides.get(&host);
        Box::pin(async move {
            let found: Vec<SocketAddr> = match fixed {
                Some(ips) => ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect(),
                // Port 0: reqwest puts the URL's port (or the scheme's) in its place.
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let kept = allowed(found.iter().copied());
            if kept.len() < found.len() {
                tracing::warn!(
                    %host,
                    refused = found.len() - kept.len(),
                    "refused link-local or metadata addresses for a Defender host"
                );
            }
            if kept.is_empty() && !found.is_empty() {
                return Err(Box::new(RefusedName { host }) as _);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn resolve(resolver: &GuardedResolver, name: &str) -> Result<Vec<IpAddr>, String> {
        resolver
            .resolve(name.parse().unwrap())
            .await
            .map(|addrs| addrs.map(|a| a.ip()).collect())
            .map_err(|e| e.to_string())
    }

    fn resolver() -> GuardedResolver {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        GuardedResolver::new(HostOverrides::new([
            ("metadata.test".to_owned(), vec![ip("169.254.169.254")]),
            (
                "Mixed.Test".to_owned(),
                vec![ip("fe80::1"), ip("127.0.0.1"), ip("::ffff:169.254.169.254")],
            ),
            ("sim.test".to_owned(), vec![ip("127.0.0.1")]),
        ]))
    }

    #[tokio::test]
    async fn a_name_resolving_only_to_link_local_is_refused() {
        let err = resolve(&resolver(), "metadata.test").await.unwrap_err();
        assert!(err.contains("metadata.test resolves only to"), "{err}");
    }

    #[tokio::test]
    async fn refused_addresses_are_dropped_from_a_mixed_answer() {
        let r = resolver();
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(resolve(&r, "mixed.test").await.unwrap(), [loopback]);
        assert_eq!(resolve(&r, "sim.test").await.unwrap(), [loopback]);
    }

    #[tokio::test]
    async fn the_system_resolver_still_answers_for_other_names() {
        let addrs = resolve(&resolver(), "localhost").await.unwrap();
        assert!(addrs.iter().all(IpAddr::is_loopback), "{addrs:?}");
    }
}
