//! Where the Defender client may connect. Never to a link-local or cloud metadata address:
//! those answer with the credentials of the machine this server runs on, so a settings value
//! or a DNS answer pointing there would turn the client into a way to read them. Plain http
//! only to this machine, since the client secret and the access tokens travel in these
//! requests.
//!
//! Literal addresses in URLs are checked here before a request; names are checked on every
//! connection by [`super::resolver::GuardedResolver`], after DNS, so a name that resolves
//! somewhere else the second time (DNS rebinding) is caught too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use super::error::DefenderError;

/// Alibaba Cloud's metadata service.
const ALIBABA_METADATA: Ipv4Addr = Ipv4Addr::new(100, 100, 100, 200);
/// Azure's WireServer, which hands VM agents their configuration and certificates.
const AZURE_WIRESERVER: Ipv4Addr = Ipv4Addr::new(168, 63, 129, 16);
/// AWS's instance metadata service over IPv6.
const AWS_METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

/// True for addresses no Defender request may reach: 169.254.0.0/16 (the metadata services
/// of AWS, Azure, Google Cloud and Oracle Cloud live at 169.254.169.254), fe80::/10, the
/// single metadata addresses above, and each of these written as an IPv6 address (mapped,
/// compatible, or behind the NAT64 prefix 64:ff9b::/96).
pub fn is_refused(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_refused_v4(v4),
        IpAddr::V6(v6) => is_refused_v6(v6),
    }
}

fn is_refused_v4(ip: Ipv4Addr) -> bool {
    ip.is_link_local() || ip == ALIBABA_METADATA || ip == AZURE_WIRESERVER
}

fn is_refused_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // `to_ipv4` reads both ::ffff:a.b.c.d and the deprecated ::a.b.c.d; ::1 becomes 0.0.0.1,
    // which is not refused.
    if let Some(v4) = ip.to_ipv4() {
        return is_refused_v4(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let embedded = (u32::from(s[6]) << 16) | u32::from(s[7]);
        return is_refused_v4(Ipv4Addr::from(embedded));
    }
    (s[0] & 0xffc0) == 0xfe80 || ip == AWS_METADATA_V6
}

/// This machine: 127.0.0.0/8, ::1 (also IPv4-mapped) or the name `localhost`.
pub fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Checks a URL before anything is sent to it: an http(s) URL with a host, https unless the
/// host is this machine, and no literal refused address.
pub fn check_url(url: &Url) -> Result<(), DefenderError> {
    let refused = |reason: &'static str| DefenderError::RefusedDestination {
        host: url.host_str().unwrap_or_default().to_owned(),
        reason,
    };
    let Some(host) = url.host() else {
        return Err(refused("the URL has no host"));
    };
    let literal = match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    };
    if literal.is_some_and(is_refused) {
        return Err(refused("a link-local or cloud metadata address"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&host) => Ok(()),
        "http" => Err(refused(
            "plain http is allowed only to this machine; use https",
        )),
        _ => Err(refused("only http(s) URLs are used")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn metadata_and_link_local_addresses_are_refused_in_every_spelling() {
        for refused in [
            "169.254.169.254",
            "169.254.0.1",
            "169.254.255.255",
            "100.100.100.200",
            "168.63.129.16",
            "fe80::1",
            "febf:ffff::1",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "::169.254.169.254",
            "::ffff:100.100.100.200",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_refused(ip(refused)), "{refused}");
        }
        for allowed in [
            "127.0.0.1",
            "::1",
            "10.0.0.1",
            "20.190.128.1",
            "169.253.255.255",
            "169.255.0.0",
            "100.100.100.201",
            "fec0::1",
            "fd00:ec2::253",
            "2603:1026::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_refused(ip(allowed)), "{allowed}");
        }
    }

    #[test]
    fn urls_with_refused_literals_or_plain_http_elsewhere_are_refused() {
        for refused in [
            "http://169.254.169.254/latest/meta-data/",
            "https://169.254.169.254/",
            // The URL parser reads these as 169.254.169.254 too.
            "https://0xA9FEA9FE/",
            "https://2852039166/",
            "https://[::ffff:169.254.169.254]/",
            "https://[fe80::1]:8443/",
            "http://proxy.example.com/",
            "http://10.0.0.5:8950/",
            "ftp://127.0.0.1/",
        ] {
            let url = Url::parse(refused).unwrap();
            let err = check_url(&url).unwrap_err();
            assert!(
                matches!(err, DefenderError::RefusedDestination { .. }),
                "{refused}: {err:?}"
            );
        }
        for allowed in [
            "https://login.microsoftonline.com/",
            "https://api.security.microsoft.com/",
            "http://127.0.0.1:8950/",
            "http://127.5.6.7/",
            "http://localhost:8950/",
            "http://[::1]:8950/",
            "https://10.0.0.5/",
        ] {
            assert!(
                check_url(&Url::parse(allowed).unwrap()).is_ok(),
                "{allowed}"
            );
        }
    }
}
