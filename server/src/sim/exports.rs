//! The JSON export `GET /api/machines/SoftwareVulnerabilitiesByMachine` (defender-api.md
//! §4.13): one row per (device, software, CVE) with `pageSize` paging and an opaque
//! `$skiptoken`. Deliberately different from the OData APIs: `rbacGroupId` is a string and
//! timestamps are `YYYY-MM-DD HH:MM:SS` (§9.15, §9.16).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::catalog::{Family, PRODUCTS};
use super::clock::{iso0, Nanos, DATA_EPOCH, SEC};
use super::dataset::Dataset;
use super::row_changes::RowEvent;
use super::vulnerabilities::SEVERITY;

/// §4.13: default 50,000 rows per page, at most 200,000.
pub const DEFAULT_PAGE_SIZE: usize = 50_000;
pub const MAX_PAGE_SIZE: usize = 200_000;

pub fn skiptoken(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("sim:{offset}"))
}

pub fn parse_skiptoken(t: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(t).ok()?).ok()?;
    raw.strip_prefix("sim:")?.parse().ok()
}

fn export_time(n: Nanos) -> String {
    iso0(n).replace('T', " ").trim_end_matches('Z').to_owned()
}

pub fn row_json(d: &Dataset, r: usize) -> Value {
    let (mi, ci) = d.rows[r];
    row_json_of(d, mi, ci)
}

/// The export row of machine `mi` and CVE `ci`, generated or found since.
pub fn row_json_of(d: &Dataset, mi: u32, ci: u32) -> Value {
    let m = &d.machines[mi as usize];
    let c = &d.cves[ci as usize];
    let p = &PRODUCTS[c.product as usize];
    let version = d.product_version(mi as usize, c.product as usize);
    let device_id = m.id_hex();
    let (rbac_id, rbac_name) = m.rbac_group();
    let windows = matches!(
        m.family(),
        Family::WindowsClient | Family::WindowsServer | Family::Legacy
    );
    let kb = c.kb();
    let exploitability = if c.exploit_in_kit {
        "ExploitIsInKit"
    } else if c.exploit_verified {
        "ExploitIsVerified"
    } else if c.public_exploit {
        "ExploitIsPublic"
    } else {
        "NoExploit"
    };
    let (disk, registry) = if windows {
        (
            vec![format!(
                "C:\\Program Files\\{}\\{}\\{}.exe",
                p.vendor, p.name, p.name
            )],
            vec![format!(
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\{}\\{}",
                p.vendor, p.name
            )],
        )
    } else {
        (vec![format!("/usr/bin/{}", p.name)], vec![])
    };
    json!({
        "id": format!("{device_id}_{}_{}_{version}_{}", p.vendor, p.name, c.id()),
        "deviceId": device_id,
        "rbacGroupName": rbac_name,
        // A string here, an integer in the machine API (§9.15).
        "rbacGroupId": rbac_id.to_string(),
        "deviceName": d.name(mi as usize),
        "osPlatform": m.platform(),
        "osVersion": m.release().and_then(|r| r.version),
        "osArchitecture": "x64",
        "softwareVendor": p.vendor,
        "softwareName": p.name,
        "softwareVersion": version,
        "cveId": c.id(),
        "cvssScore": c.cvss10.map(|x| f64::from(x) / 10.0),
        "vulnerabilitySeverityLevel": SEVERITY[c.severity as usize],
        "exploitabilityLevel": exploitability,
        "recommendedSecurityUpdate": kb.as_ref().map(|_| "November 2026 Security Updates"),
        "recommendedSecurityUpdateId": kb,
        "recommendedSecurityUpdateUrl": kb.as_ref().map(|k| format!("https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB{k}")),
        "securityUpdateAvailable": kb.is_some(),
        "diskPaths": disk,
        "registryPaths": registry,
        "firstSeenTimestamp": export_time(m.first_seen.max(c.published)),
        "lastSeenTimestamp": export_time(m.last_seen.min(DATA_EPOCH - SEC)),
        "recommendationReference": format!("va-_-{}-_-{}", p.vendor, p.name),
    })
}

/// One entry of the change feed (§4.13): the row as the export gives it, with the change's
/// `status` and `eventTimestamp` (the export's zone-less form).
pub fn change_json(d: &Dataset, e: &RowEvent) -> Value {
    let mut row = row_json_of(d, e.machine, e.cve);
    row["status"] = json!(e.status.as_str());
    row["eventTimestamp"] = json!(export_time(e.at));
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generator::generate;

    #[test]
    fn tokens_round_trip_and_rows_look_like_exports() {
        assert_eq!(parse_skiptoken(&skiptoken(123_456)), Some(123_456));
        assert_eq!(parse_skiptoken("garbage!"), None);
        let d = generate(1, 20, "t");
        let row = row_json(&d, 0);
        assert!(row["rbacGroupId"].is_string());
        let ts = row["lastSeenTimestamp"].as_str().unwrap();
        assert_eq!(ts.len(), 19);
        assert_eq!(&ts[10..11], " ");
        assert!(row["cveId"].as_str().unwrap().starts_with("CVE-"));
    }
}
