//! Which actions a Defender machine supports, from its onboarding status, OS and sensor
//! version: one table, [`SUPPORT`], each row with the Microsoft page it comes from
//! (defender-api.md §7). Unknown platforms and versions are treated as unsupported: sending an
//! action Defender will refuse wastes the admin's time and the API budget. When Defender
//! refuses anyway (`OsPlatformNotSupported`, `ClientVersionNotSupported`), its answer is the
//! last word: [`refusal_message`] says what it means and the refusal is remembered per machine.

use crate::defender::DefenderError;

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
    /// `agentVersion`: the sensor's version (macOS and Linux need a minimum).
    pub agent_version: Option<&'a str>,
}

/// What a row of the table allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    FullIsolation,
    SelectiveIsolation,
    Scan,
}

/// OS families as the table names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Windows 10 with its feature release as a number (1607, 1709, 2110 for 21H2, ...).
    Windows10,
    Windows11,
    /// Windows Server 2012 R2 and later, on the modern unified agent, and Azure Stack HCI.
    ModernServer,
    Linux,
    Mac,
}

/// One row of the support table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportRow {
    pub capability: Capability,
    pub family: Family,
    /// Windows 10 feature release at least (as [`windows_release`] numbers it).
    pub min_release: Option<u32>,
    /// Sensor (`agentVersion`) at least, compared number by number.
    pub min_agent: Option<&'static str>,
    /// The Microsoft Learn page the row comes from.
    pub source: &'static str,
}

const ISOLATE_API: &str = "https://learn.microsoft.com/en-us/defender-endpoint/api/isolate-machine";
const SCAN_API: &str = "https://learn.microsoft.com/en-us/defender-endpoint/api/run-av-scan";
const RESPOND_ISOLATE: &str =
    "https://learn.microsoft.com/en-us/defender-endpoint/respond-machine-alerts#isolate-devices-from-the-network";
const RESPOND_SCAN: &str =
    "https://learn.microsoft.com/en-us/defender-endpoint/respond-machine-alerts#run-antivirus-scan";
/// macOS and Linux clients from this version take the newer actions.
const MIN_UNIX_CLIENT: &str = "101.98.84";

const fn row(
    capability: Capability,
    family: Family,
    min_release: Option<u32>,
    min_agent: Option<&'static str>,
    source: &'static str,
) -> SupportRow {
    SupportRow {
        capability,
        family,
        min_release,
        min_agent,
        source,
    }
}

/// Where each action is supported, and the page that says so. A machine supports a capability
/// when one row of its family admits it; nothing else is supported.
pub const SUPPORT: &[SupportRow] = {
    use Capability::{FullIsolation as Full, Scan, SelectiveIsolation as Selective};
    use Family::{Linux, Mac, ModernServer, Windows10, Windows11};
    &[
        row(Full, Windows10, Some(1703), None, ISOLATE_API),
        row(Full, Windows11, None, None, ISOLATE_API),
        row(Full, ModernServer, None, None, ISOLATE_API),
        row(Full, Linux, None, None, RESPOND_ISOLATE),
        row(Full, Mac, None, Some(MIN_UNIX_CLIENT), RESPOND_ISOLATE),
        // Selective isolation keeps Outlook and Teams online, which exists only on Windows and
        // macOS. One page says 1703 for Windows 10; the API page says 1709.
        row(Selective, Windows10, Some(1709), None, ISOLATE_API),
        row(Selective, Windows11, None, None, ISOLATE_API),
        row(Selective, ModernServer, None, None, ISOLATE_API),
        row(Selective, Mac, None, Some(MIN_UNIX_CLIENT), RESPOND_ISOLATE),
        row(Scan, Windows10, Some(1709), None, SCAN_API),
        row(Scan, Windows11, None, None, SCAN_API),
        row(Scan, ModernServer, None, None, RESPOND_SCAN),
        row(Scan, Mac, None, Some(MIN_UNIX_CLIENT), RESPOND_SCAN),
        row(Scan, Linux, None, Some(MIN_UNIX_CLIENT), RESPOND_SCAN),
    ]
};

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

/// The table's family for an `osPlatform`; `None` for platforms outside the table (Windows 7,
/// Server 2008 R2, mobile).
fn family(platform: &str) -> Option<Family> {
    let p = platform.trim().to_ascii_lowercase();
    Some(match p.as_str() {
        "windows10" => Family::Windows10,
        "windows11" => Family::Windows11,
        "windowsserver2012r2"
        | "windowsserver2016"
        | "windowsserver2019"
        | "windowsserver2022"
        | "windowsserver2025"
        | "azurestackhci" => Family::ModernServer,
        "macos" | "mac os" | "macosx" => Family::Mac,
        _ if LINUX_PLATFORMS.contains(&p.as_str()) => Family::Linux,
        _ => return None,
    })
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

/// `a >= b` for dotted version numbers; `None` when either is not one.
fn version_at_least(a: &str, b: &str) -> Option<bool> {
    let parse =
        |v: &str| -> Option<Vec<u64>> { v.trim().split('.').map(|p| p.parse().ok()).collect() };
    Some(parse(a)? >= parse(b)?)
}

/// Whether the row admits the machine, or why not.
fn admits(row: &SupportRow, m: &MachineFacts<'_>) -> Result<(), String> {
    if let Some(min) = row.min_release {
        let release = m.version.and_then(windows_release);
        match release {
            Some(r) if r >= min => {}
            Some(_) => return Err(format!("needs release {} or later", release_name(min))),
            None => {
                return Err(format!(
                    "needs release {} or later, and Microsoft Defender reports no release",
                    release_name(min)
                ))
            }
        }
    }
    if let Some(min) = row.min_agent {
        match m.agent_version.and_then(|a| version_at_least(a, min)) {
            Some(true) => {}
            Some(false) => return Err(format!("needs sensor version {min} or later")),
            None => {
                return Err(format!(
                    "needs sensor version {min} or later, and Microsoft Defender reports no \
                     sensor version"
                ))
            }
        }
    }
    Ok(())
}

fn release_name(release: u32) -> String {
    match release % 100 {
        5 => format!("{}H1", release / 100),
        10 => format!("{}H2", release / 100),
        _ => release.to_string(),
    }
}

/// Whether the machine has the capability; the reason names the OS and Microsoft's page.
fn capability(
    m: &MachineFacts<'_>,
    platform: &str,
    os: &str,
    what: Capability,
) -> Result<(), String> {
    let label = match what {
        Capability::FullIsolation => "Isolation",
        Capability::SelectiveIsolation => "Selective isolation",
        Capability::Scan => "An antivirus scan through the API",
    };
    let Some(fam) = family(platform) else {
        return Err(format!("{label} is not supported on {os}."));
    };
    let rows: Vec<&SupportRow> = SUPPORT
        .iter()
        .filter(|r| r.capability == what && r.family == fam)
        .collect();
    let mut why = None;
    for r in &rows {
        match admits(r, m) {
            Ok(()) => return Ok(()),
            Err(e) => why = Some((e, r.source)),
        }
    }
    Err(match why {
        Some((e, source)) => {
            format!("{label} is not supported on {os}: it {e} (Microsoft: {source}).")
        }
        None => format!("{label} is not supported on {os}."),
    })
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
    let isolation = match capability(&m, platform, &os, Capability::FullIsolation) {
        Err(e) => Err(e),
        Ok(()) => {
            let mut scopes = vec!["Full"];
            if capability(&m, platform, &os, Capability::SelectiveIsolation).is_ok() {
                scopes.push("Selective");
            }
            Ok(scopes)
        }
    };
    Support {
        isolation,
        scan: capability(&m, platform, &os, Capability::Scan).map(|()| vec!["Quick", "Full"]),
    }
}

/// The refusal codes that say the device cannot take the action (defender-api.md §3.5, §7).
pub fn platform_code(e: &DefenderError) -> Option<&'static str> {
    match e {
        DefenderError::Rejected { code, .. } if code == "OsPlatformNotSupported" => {
            Some("OsPlatformNotSupported")
        }
        DefenderError::Rejected { code, .. } if code == "ClientVersionNotSupported" => {
            Some("ClientVersionNotSupported")
        }
        _ => None,
    }
}

/// What a code of [`platform_code`] means, in words for the admin.
pub fn code_meaning(code: &str) -> &'static str {
    match code {
        "OsPlatformNotSupported" => {
            "the device's operating system does not support this action, whatever Microsoft's \
             tables say; Defender's own check is final"
        }
        "ClientVersionNotSupported" => {
            "the Defender sensor on the device is too old for this action; update the sensor, \
             then try again"
        }
        _ => "Defender refused the action for this device",
    }
}

/// The message an admin reads when Defender refused an action.
pub fn refusal_message(e: &DefenderError) -> String {
    match platform_code(e) {
        Some(code) => format!(
            "Microsoft Defender refused the action ({code}): {}.",
            code_meaning(code)
        ),
        None => format!("Microsoft Defender refused the action: {e}"),
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
            agent_version: Some("101.24042.0001"),
        }
    }

    /// (platform, version, isolation scopes or None, scan supported)
    type Case = (
        &'static str,
        Option<&'static str>,
        Option<&'static [&'static str]>,
        bool,
    );

    const FULL_SELECTIVE: &[&str] = &["Full", "Selective"];
    const FULL_ONLY: &[&str] = &["Full"];

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
    fn reasons_name_the_os_and_the_page() {
        let s = support(facts(Some("Windows7"), None));
        assert_eq!(
            s.isolation.unwrap_err(),
            "Isolation is not supported on Windows7."
        );
        let s = support(facts(Some("Windows10"), Some("1703")));
        assert_eq!(
            s.scan.unwrap_err(),
            format!(
                "An antivirus scan through the API is not supported on Windows10 1703: it needs \
                 release 1709 or later (Microsoft: {SCAN_API})."
            )
        );
    }

    #[test]
    fn macos_and_linux_need_a_recent_enough_sensor() {
        let old = MachineFacts {
            agent_version: Some("101.97.9"),
            ..facts(Some("macOS"), Some("15.1"))
        };
        let s = support(old);
        assert!(s
            .isolation
            .unwrap_err()
            .contains("sensor version 101.98.84"));
        assert!(s.scan.unwrap_err().contains(RESPOND_SCAN));
        let linux = MachineFacts {
            agent_version: Some("101.97.9"),
            ..facts(Some("Ubuntu"), Some("22.4"))
        };
        let s = support(linux);
        assert_eq!(s.isolation.as_deref().ok(), Some(FULL_ONLY));
        assert!(s.scan.is_err());
        let unknown = MachineFacts {
            agent_version: None,
            ..facts(Some("macOS"), Some("15.1"))
        };
        assert!(support(unknown)
            .isolation
            .unwrap_err()
            .contains("no sensor version"));
        assert_eq!(
            version_at_least("101.24042.0001", MIN_UNIX_CLIENT),
            Some(true)
        );
        assert_eq!(version_at_least("101.98.84", MIN_UNIX_CLIENT), Some(true));
        assert_eq!(version_at_least("x", MIN_UNIX_CLIENT), None);
    }

    #[test]
    fn every_row_cites_a_microsoft_page() {
        for r in SUPPORT {
            assert!(
                r.source.starts_with("https://learn.microsoft.com/"),
                "{r:?}"
            );
        }
    }

    #[test]
    fn platform_refusals_are_explained() {
        let e = DefenderError::Rejected {
            status: 400,
            code: "OsPlatformNotSupported".into(),
            message: "Isolate is not supported on this machine's OS platform".into(),
        };
        assert_eq!(platform_code(&e), Some("OsPlatformNotSupported"));
        assert!(refusal_message(&e).contains("operating system does not support this action"));
        let other = DefenderError::Rejected {
            status: 400,
            code: "InvalidInput".into(),
            message: "m".into(),
        };
        assert_eq!(platform_code(&other), None);
    }

    #[test]
    fn only_onboarded_machines_with_a_known_os_can_act() {
        for status in [Some("CanBeOnboarded"), Some("Unsupported"), None] {
            let s = support(MachineFacts {
                onboarding_status: status,
                os_platform: Some("Windows11"),
                version: None,
                agent_version: None,
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
