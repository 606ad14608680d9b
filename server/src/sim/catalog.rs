//! Static reference tables the generator draws from: OS releases, RBAC groups, software,
//! alert templates and network vendor OUIs. Enum spellings follow defender-api.md §5.

/// Broad OS family; drives names, software, MAC vendors and action support (§7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    WindowsClient,
    WindowsServer,
    Linux,
    Mac,
    Legacy,
    Unknown,
}

pub struct OsRelease {
    /// `osPlatform` (§5.1; open set).
    pub platform: &'static str,
    pub version: Option<&'static str>,
    pub build: Option<i64>,
    pub family: Family,
    /// Relative weight among onboarded devices.
    pub weight: u32,
}

const fn os(
    platform: &'static str,
    version: Option<&'static str>,
    build: Option<i64>,
    family: Family,
    weight: u32,
) -> OsRelease {
    OsRelease {
        platform,
        version,
        build,
        family,
        weight,
    }
}

pub const OS_RELEASES: &[OsRelease] = &[
    os(
        "Windows10",
        Some("1709"),
        Some(16299),
        Family::WindowsClient,
        2,
    ),
    os(
        "Windows10",
        Some("21H2"),
        Some(19044),
        Family::WindowsClient,
        8,
    ),
    os(
        "Windows10",
        Some("22H2"),
        Some(19045),
        Family::WindowsClient,
        22,
    ),
    os(
        "Windows11",
        Some("22H2"),
        Some(22621),
        Family::WindowsClient,
        6,
    ),
    os(
        "Windows11",
        Some("23H2"),
        Some(22631),
        Family::WindowsClient,
        18,
    ),
    os(
        "Windows11",
        Some("24H2"),
        Some(26100),
        Family::WindowsClient,
        14,
    ),
    os(
        "WindowsServer2012R2",
        None,
        Some(9600),
        Family::WindowsServer,
        1,
    ),
    os(
        "WindowsServer2016",
        Some("1607"),
        Some(14393),
        Family::WindowsServer,
        3,
    ),
    os(
        "WindowsServer2019",
        Some("1809"),
        Some(17763),
        Family::WindowsServer,
        5,
    ),
    os(
        "WindowsServer2022",
        Some("21H2"),
        Some(20348),
        Family::WindowsServer,
        6,
    ),
    os(
        "WindowsServer2025",
        Some("24H2"),
        Some(26100),
        Family::WindowsServer,
        2,
    ),
    os("Windows7", None, Some(7601), Family::Legacy, 1),
    os("Ubuntu", Some("22.4"), None, Family::Linux, 4),
    os("Ubuntu", Some("24.4"), None, Family::Linux, 2),
    os("RedHatEnterpriseLinux", Some("9.4"), None, Family::Linux, 2),
    os("Debian", Some("12"), None, Family::Linux, 1),
    os("Linux", None, None, Family::Linux, 1),
    os("macOS", Some("14.6"), None, Family::Mac, 2),
    os("macOS", Some("15.1"), None, Family::Mac, 2),
];

/// Index of a release by platform and version, for the fixed fixtures.
pub fn os_index(platform: &str, version: Option<&str>) -> u8 {
    OS_RELEASES
        .iter()
        .position(|o| o.platform == platform && (version.is_none() || o.version == version))
        .map_or(0, |i| i as u8)
}

/// RBAC device groups; id 0 = ungrouped with a null name (§5.1).
pub const RBAC_GROUPS: &[(i64, Option<&str>, &str)] = &[
    (0, None, "dev"),
    (12, Some("Engineering"), "eng"),
    (14, Some("Finance"), "fin"),
    (17, Some("Servers"), "srv"),
    (21, Some("Linux Fleet"), "lnx"),
    (23, Some("Executives"), "exec"),
];

/// OS platforms a product entry applies to; `only` narrows to one `osPlatform`.
pub struct Product {
    pub vendor: &'static str,
    pub name: &'static str,
    pub families: &'static [Family],
    pub only: Option<&'static str>,
    pub versions: &'static [&'static str],
    /// Microsoft products get a `fixingKbId` (§4.12).
    pub kb: bool,
}

use Family::{Linux as L, Mac as M, WindowsClient as W, WindowsServer as S};

const fn p(
    vendor: &'static str,
    name: &'static str,
    families: &'static [Family],
    only: Option<&'static str>,
    versions: &'static [&'static str],
    kb: bool,
) -> Product {
    Product {
        vendor,
        name,
        families,
        only,
        versions,
        kb,
    }
}

pub const PRODUCTS: &[Product] = &[
    p(
        "microsoft",
        "windows_10",
        &[W],
        Some("Windows10"),
        &["10.0.19045.5131"],
        true,
    ),
    p(
        "microsoft",
        "windows_11",
        &[W],
        Some("Windows11"),
        &["10.0.22631.4460"],
        true,
    ),
    p(
        "microsoft",
        "windows_server_2019",
        &[S],
        Some("WindowsServer2019"),
        &["10.0.17763.6532"],
        true,
    ),
    p(
        "microsoft",
        "windows_server_2022",
        &[S],
        Some("WindowsServer2022"),
        &["10.0.20348.2849"],
        true,
    ),
    p(
        "microsoft",
        "edge_chromium",
        &[W, S],
        None,
        &["130.0.2849.80", "131.0.2903.70"],
        false,
    ),
    p(
        "microsoft",
        "office",
        &[W, M],
        None,
        &["16.0.17928.20156", "16.0.18025.20104"],
        true,
    ),
    p(
        "microsoft",
        ".net_framework",
        &[W, S],
        None,
        &["4.8.1"],
        true,
    ),
    p(
        "google",
        "chrome",
        &[W, M, L],
        None,
        &["130.0.6723.117", "131.0.6778.86"],
        false,
    ),
    p(
        "mozilla",
        "firefox",
        &[W, M, L],
        None,
        &["132.0.2", "128.5.0"],
        false,
    ),
    p(
        "adobe",
        "acrobat_reader_dc",
        &[W, M],
        None,
        &["24.4.20220", "24.3.20180"],
        false,
    ),
    p(
        "oracle",
        "jre",
        &[W, S, L],
        None,
        &["8.0.4310.10", "8.0.4210.9"],
        false,
    ),
    p("7-zip", "7-zip", &[W, S], None, &["23.01", "24.08"], false),
    p(
        "notepad++",
        "notepad++",
        &[W],
        None,
        &["8.6.9", "8.7.1"],
        false,
    ),
    p(
        "vmware",
        "tools",
        &[S, L],
        None,
        &["12.4.0", "12.5.0"],
        false,
    ),
    p(
        "openssl",
        "openssl",
        &[L, M],
        None,
        &["3.0.2", "3.0.13"],
        false,
    ),
    p("linux", "kernel", &[L], None, &["5.15.0", "6.8.0"], false),
    p(
        "openbsd",
        "openssh",
        &[L, M, S],
        None,
        &["8.9p1", "9.6p1"],
        false,
    ),
    p(
        "python",
        "python",
        &[W, S, L, M],
        None,
        &["3.10.12", "3.12.3"],
        false,
    ),
    p("apple", "macos", &[M], None, &["14.6.1", "15.1.0"], false),
    p("apple", "safari", &[M], None, &["17.6", "18.1"], false),
    p("zoom", "zoom", &[W, M], None, &["6.2.5", "6.1.11"], false),
    p("fabrikam", "viewer", &[W], None, &["4.2.1", "4.3.0"], false),
    p(
        "sudo_project",
        "sudo",
        &[L],
        None,
        &["1.9.9", "1.9.15"],
        false,
    ),
    p(
        "haxx",
        "curl",
        &[W, S, L, M],
        None,
        &["8.5.0", "7.81.0"],
        false,
    ),
    p(
        "git-scm",
        "git",
        &[W, L, M],
        None,
        &["2.43.0", "2.47.0"],
        false,
    ),
];

/// Alert templates: title, category, detectionSource, MITRE techniques, threat family.
pub struct AlertTemplate {
    pub title: &'static str,
    pub category: &'static str,
    pub detection_source: &'static str,
    pub mitre: &'static [&'static str],
    pub threat_family: Option<&'static str>,
}

const fn a(
    title: &'static str,
    category: &'static str,
    detection_source: &'static str,
    mitre: &'static [&'static str],
    threat_family: Option<&'static str>,
) -> AlertTemplate {
    AlertTemplate {
        title,
        category,
        detection_source,
        mitre,
        threat_family,
    }
}

pub const ALERT_TEMPLATES: &[AlertTemplate] = &[
    a(
        "Suspicious remote service creation",
        "LateralMovement",
        "WindowsDefenderAtp",
        &["T1021.002", "T1543.003"],
        None,
    ),
    a(
        "Suspicious PowerShell command line",
        "Execution",
        "WindowsDefenderAtp",
        &["T1059.001"],
        None,
    ),
    a(
        "'Mimikatz' credential theft tool",
        "CredentialAccess",
        "WindowsDefenderAv",
        &["T1003.001"],
        Some("Mimikatz"),
    ),
    a(
        "Ransomware behavior detected in the file system",
        "Ransomware",
        "WindowsDefenderAtp",
        &["T1486"],
        Some("Lockbit"),
    ),
    a(
        "'Wacatac' malware was detected",
        "Malware",
        "WindowsDefenderAv",
        &[],
        Some("Wacatac"),
    ),
    a(
        "Anomalous scheduled task created",
        "Persistence",
        "WindowsDefenderAtp",
        &["T1053.005"],
        None,
    ),
    a(
        "Suspicious connection to a known C2 address",
        "CommandAndControl",
        "CustomerTI",
        &["T1071.001"],
        None,
    ),
    a(
        "Automated investigation started manually",
        "SuspiciousActivity",
        "AutomatedInvestigation",
        &[],
        None,
    ),
    a(
        "Custom detection: admin share enumeration",
        "Discovery",
        "CustomDetection",
        &["T1135"],
        None,
    ),
    a(
        "Potentially unwanted application detected",
        "UnwantedSoftware",
        "WindowsDefenderAv",
        &[],
        Some("BundleInstaller"),
    ),
    a(
        "Suspicious sudo usage",
        "PrivilegeEscalation",
        "WindowsDefenderAtp",
        &["T1548.003"],
        None,
    ),
    a(
        "Phishing URL opened",
        "InitialAccess",
        "SmartScreen",
        &["T1566.002"],
        None,
    ),
];

/// Network-card and device vendors by OUI (first 3 MAC bytes, upper-case hex).
pub const OUIS: &[(&str, &str)] = &[
    ("D4BED9", "Dell"),
    ("54EE75", "Lenovo"),
    ("3024A9", "HP"),
    ("00155D", "Microsoft"),
    ("005056", "VMware"),
    ("F01898", "Apple"),
    ("A4B1C1", "Apple"),
    ("A0A8CD", "Intel Corporate"),
    ("3CD92B", "Hewlett Packard"),
    ("00000C", "Cisco Systems"),
    ("001BD4", "Cisco Systems"),
    ("00408C", "Axis Communications AB"),
    ("4419B6", "Hangzhou Hikvision Digital Technology"),
    ("8C7712", "Samsung Electronics"),
    ("24A43C", "Ubiquiti Networks"),
    ("008077", "Brother Industries"),
    ("001E8F", "Canon"),
    ("B827EB", "Raspberry Pi Foundation"),
];

pub fn oui_vendor(mac: &str) -> Option<&'static str> {
    OUIS.iter()
        .find(|(o, _)| mac.starts_with(o))
        .map(|(_, v)| *v)
}
