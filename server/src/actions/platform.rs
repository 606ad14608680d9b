//! Which actions a Defender machine supports, from its onboarding status and OS
//! (defender-api.md §7). Unknown platforms and versions are treated as unsupported: sending an
//! action Defender will refuse wastes the admin's time and the API budget.

/// What the machine can do: for isolation and for scans, the scopes it supports or the reason
/// it supports none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Support {
    pub isolation: Result<Vec<&'static str>, String>,
    pub scan: Result<Vec<&'static str>, String>,
}

/// The facts the rules read, as Defender reported them.
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineFacts<'a> {
    pub onboarding_status: Option<&'a str>,
    pub os_platform: Option<&'a str>,
    pub version: Option<&'a str>,
}

const FULL_SELECTIVE: &[&str] = &["Full", "Selective"];
const FULL_ONLY: &[&str] = &["Full"];
const SCANS: &[&str] = &["Quick", "Full"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Windows 10 with its feature release as a number (1607, 1709, 2110 for 21H2, ...).
    Windows10(Option<u32>),
    Windows11,
    /// Windows Server 2012 R2 and later, on the modern unified agent.
    ModernServer,
    Linux,
    Mac,
    /// Known to Defender but outside the support table (Windows 7, Server 2008 R2, mobile).
    Unsupported,
}

const LINUX_PLATFORMS: &[&str] = &[
    "linux",
    "ubuntu",
    "debian",
    "redhatenterpriselinux",
    "centos",
    "suse",
    "sles",
    "oraclelinux",
    "amazonlinux",
    "fedora",
    "almalinux",
    "rockylinux",
];

fn family(platform: &str, version: Option<&str>) -> Family {
    let p = platform.trim().to_ascii_lowercase();
    match p.as_str() {
        "windows10" => Family::Windows10(version.and_then(windows_release)),
        "windows11" => Family::Windows11,
        "windowsserver2012r2"
        | "windowsserver2016"
        | "windowsserver2019"
        | "windowsserver2022"
        | "windowsserver2025"
        | "azurestackhci" => Family::ModernServer,
        "macos" | "mac os" | "macosx" => Family::Mac,
        _ if LINUX_PLATFORMS.contains(&p.as_str()) => Family::Linux,
        _ => Family::Unsupported,
    }
}

/// Windows 10 feature releases as comparable numbers: "1709" is 1709, "21H2" is 2110.
fn windows_release(version: &str) -> Option<u32> {
    let v = version.trim().to_ascii_uppercase();
    if let Some((year, half)) = v.split_once('H') {
        let year: u32 = year.parse().ok()?;
        let month = match half {
            "1" => 5,
            "2" => 10,
            _ => return None,
        };
        return Some(year * 100 + month);
    }
    v.parse().ok().filter(|n| (1000..10000).contains(n))
}

/// The support table applied to one machine.
pub fn support(m: MachineFacts<'_>) -> Support {
    let both = |reason: String| Support {
        isolation: Err(reason.clone()),
        scan: Err(reason),
    };
    let onboarding = m.onboarding_status.unwrap_or("unknown");
    if !onboarding.eq_ignore_ascii_case("Onboarded") {
        return both(format!(
            "Not onboarded in Microsoft Defender (onboarding status: {onboarding}): the sensor \
             is not running on this device, so Defender cannot isolate or scan it."
        ));
    }
    let Some(platform) = m.os_platform.filter(|p| !p.trim().is_empty()) else {
        return both(
            "Microsoft Defender reports no operating system for this machine, so it cannot \
             tell which actions it supports."
                .into(),
        );
    };
    let os = match m.version {
        Some(v) if !v.is_empty() => format!("{platform} {v}"),
        _ => platform.to_owned(),
    };
    let unsupported = |what: &str| format!("{what} is not supported on {os}.");
    match family(platform, m.version) {
        Family::Windows11 | Family::ModernServer | Family::Mac => Support {
            isolation: Ok(FULL_SELECTIVE.to_vec()),
            scan: Ok(SCANS.to_vec()),
        },
        Family::Linux => Support {
            // Selective isolation keeps Outlook and Teams online, which exists only on
            // Windows and macOS.
            isolation: Ok(FULL_ONLY.to_vec()),
            scan: Ok(SCANS.to_vec()),
        },
        Family::Windows10(Some(r)) if r >= 1709 => Support {
            isolation: Ok(FULL_SELECTIVE.to_vec()),
            scan: Ok(SCANS.to_vec()),
        },
        Family::Windows10(Some(r)) if r >= 1703 => Support {
            isolation: Ok(FULL_ONLY.to_vec()),
            scan: Err(unsupported("An antivirus scan through the API")),
        },
        Family::Windows10(Some(_)) => both(unsupported("Isolation and scanning")),
        Family::Windows10(None) => both(format!(
            "Microsoft Defender reports {os} without a version; isolation and scans need \
             Windows 10 1703 or later."
        )),
        Family::Unsupported => both(unsupported("Isolation and scanning")),
    }
}

/// A caveat for a device that may never pick an action up (defender-api.md §7: an Inactive
/// device leaves the action Pending until it times out).
pub fn health_warning(health_status: Option<&str>) -> Option<String> {
    match health_status? {
        "Active" => None,
        h => Some(format!(
            "Microsoft Defender reports this device's health as {h}: an action may stay \
             Pending until the device reports again, and time out."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(platform: Option<&'a str>, version: Option<&'a str>) -> MachineFacts<'a> {
        MachineFacts {
            onboarding_status: Some("Onboarded"),
            os_platform: platform,
            version,
        }
    }

    /// (platform, version, isolation scopes or None, scan supported)
    type Case = (
        &'static str,
        Option<&'static str>,
        Option<&'static [&'static str]>,
        bool,
    );

    #[test]
    fn support_table() {
        let cases: &[Case] = &[
            ("Windows11", Some("23H2"), Some(FULL_SELECTIVE), true),
            ("Windows10", Some("22H2"), Some(FULL_SELECTIVE), true),
            ("Windows10", Some("1709"), Some(FULL_SELECTIVE), true),
            ("Windows10", Some("1703"), Some(FULL_ONLY), false),
            ("Windows10", Some("1607"), None, false),
            ("Windows10", None, None, false),
            ("WindowsServer2012R2", None, Some(FULL_SELECTIVE), true),
            (
                "WindowsServer2022",
                Some("21H2"),
                Some(FULL_SELECTIVE),
                true,
            ),
            ("WindowsServer2008R2", None, None, false),
            ("Windows7", None, None, false),
            ("Ubuntu", Some("22.4"), Some(FULL_ONLY), true),
            ("RedHatEnterpriseLinux", Some("9.4"), Some(FULL_ONLY), true),
            ("Linux", None, Some(FULL_ONLY), true),
            ("macOS", Some("15.1"), Some(FULL_SELECTIVE), true),
            ("iOS", Some("17"), None, false),
            ("Android", None, None, false),
        ];
        for &(platform, version, isolation, scan) in cases {
            let s = support(facts(Some(platform), version));
            assert_eq!(
                s.isolation.as_deref().ok(),
                isolation,
                "{platform} {version:?}"
            );
            assert_eq!(s.scan.is_ok(), scan, "{platform} {version:?}");
        }
    }

    #[test]
    fn reasons_name_the_os() {
        let s = support(facts(Some("Windows7"), None));
        assert_eq!(
            s.isolation.unwrap_err(),
            "Isolation and scanning is not supported on Windows7."
        );
        let s = support(facts(Some("Windows10"), Some("1703")));
        assert!(s.scan.unwrap_err().contains("Windows10 1703"));
    }

    #[test]
    fn only_onboarded_machines_with_a_known_os_can_act() {
        for status in [Some("CanBeOnboarded"), Some("Unsupported"), None] {
            let s = support(MachineFacts {
                onboarding_status: status,
                os_platform: Some("Windows11"),
                version: None,
            });
            assert!(s.isolation.unwrap_err().contains("Not onboarded"));
            assert!(s.scan.is_err());
        }
        let s = support(facts(None, None));
        assert!(s.isolation.unwrap_err().contains("no operating system"));
    }

    #[test]
    fn windows_releases_compare_in_time_order() {
        assert_eq!(windows_release("1709"), Some(1709));
        assert_eq!(windows_release("20H2"), Some(2010));
        assert!(windows_release("21H1") > windows_release("2004"));
        assert_eq!(windows_release("latest"), None);
        assert_eq!(windows_release("21H3"), None);
    }

    #[test]
    fn inactive_devices_get_a_warning() {
        assert_eq!(health_warning(Some("Active")), None);
        assert_eq!(health_warning(None), None);
        assert!(health_warning(Some("Inactive"))
            .unwrap()
            .contains("Inactive"));
    }
}
