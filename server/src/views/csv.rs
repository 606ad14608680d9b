//! The endpoint list, a CVE's affected endpoints and a product's devices as CSV, safe to open in a spreadsheet or
//! print in a terminal.

use app::model::endpoint::EndpointRow;
use app::model::software::ProductView;
use app::model::vulnerability::AffectedEndpoint;

/// A CSV cell. Cells that a spreadsheet would read as a formula (starting with = + - @, or
/// tab/CR) get a leading apostrophe, so hostile names stay text. Control characters (terminal
/// escapes, CR/LF, bidi overrides) become U+FFFD: a name from Defender must not break a row or
/// rewrite the terminal a CSV is printed in.
fn cell(value: &str) -> String {
    let value: String = value
        .chars()
        .map(|c| if is_unsafe_in_text(c) { '\u{fffd}' } else { c })
        .collect();
    let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

fn push_line(out: &mut String, fields: &[&str]) {
    let cells: Vec<String> = fields.iter().map(|f| cell(f)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// The endpoint list as CSV.
pub fn csv(rows: &[EndpointRow]) -> String {
    let mut out = String::from(
        "risk,mac,ip,hostname,mac_vendor,profile,match_score,os,sources,onboarding,device_group,\
         tags,last_seen\r\n",
    );
    for r in rows {
        let sources = match (r.source_network, r.source_defender) {
            (true, true) => "network+defender",
            (true, false) => "network",
            (false, true) => "defender",
            (false, false) => "",
        };
        // All tags in one cell, joined by "; "; `cell` quotes it when a tag holds a comma.
        let tags = r.tags.join("; ");
        push_line(
            &mut out,
            &[
                r.risk_level.as_str(),
                r.mac.as_deref().unwrap_or_default(),
                r.ip.as_deref().unwrap_or_default(),
                r.hostname.as_deref().unwrap_or_default(),
                r.mac_vendor.as_deref().unwrap_or_default(),
                r.profile_name.as_deref().unwrap_or_default(),
                r.match_level.as_deref().unwrap_or_default(),
                r.os.as_deref().unwrap_or_default(),
                sources,
                r.onboarding_status.as_deref().unwrap_or_default(),
                r.device_group.as_deref().unwrap_or_default(),
                &tags,
                &r.last_seen,
            ],
        );
    }
    out
}

/// The endpoints one CVE affects as CSV, one line per (endpoint, software).
pub fn vulnerable_endpoints(cve_id: &str, rows: &[AffectedEndpoint]) -> String {
    let mut out = String::from(
        "cve,risk,hostname,mac,ip,device_group,software_vendor,software,software_version,\
         fixing_kb,first_seen\r\n",
    );
    for r in rows {
        push_line(
            &mut out,
            &[
                cve_id,
                r.risk_level.as_str(),
                r.hostname.as_deref().unwrap_or_default(),
                r.mac.as_deref().unwrap_or_default(),
                r.ip.as_deref().unwrap_or_default(),
                r.device_group.as_deref().unwrap_or_default(),
                &r.product_vendor,
                &r.product_name,
                &r.product_version,
                r.fixing_kb_id.as_deref().unwrap_or_default(),
                r.first_seen.as_deref().unwrap_or_default(),
            ],
        );
    }
    out
}

/// The devices running one product, as the Software page lists them.
pub fn software_devices(view: &ProductView) -> String {
    let mut out = String::from(
        "software_vendor,software,risk,hostname,mac,ip,device_group,os_platform,versions,cves,\
         in_inventory,machine_ids\r\n",
    );
    for r in &view.devices {
        let cves = r.cves.to_string();
        push_line(
            &mut out,
            &[
                &view.product.vendor,
                &view.product.name,
                r.risk_level.map(|l| l.as_str()).unwrap_or_default(),
                r.hostname.as_deref().unwrap_or_default(),
                r.mac.as_deref().unwrap_or_default(),
                r.ip.as_deref().unwrap_or_default(),
                r.device_group.as_deref().unwrap_or_default(),
                r.os_platform.as_deref().unwrap_or_default(),
                &r.versions.join(" "),
                &cves,
                if r.endpoint_id.is_some() { "yes" } else { "no" },
                &r.machine_ids.join(" "),
            ],
        );
    }
    out
}

/// C0 and C1 controls, and the bidirectional formatting characters that reorder text.
fn is_unsafe_in_text(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use app::model::risk::RiskLevel;

    use super::*;

    #[test]
    fn csv_replaces_control_and_bidi_characters() {
        let row = EndpointRow {
            id: 1,
            risk_level: RiskLevel::Low,
            mac: None,
            ip: None,
            hostname: Some("evil\u{1b}[2J\r\nhost\u{202e}gpj.exe".into()),
            mac_vendor: None,
            profile_name: None,
            match_level: None,
            os: None,
            source_network: false,
            source_defender: true,
            onboarding_status: None,
            last_seen: "2026-01-01T00:00:00Z".into(),
            inactive: false,
            device_group: None,
            tags: Vec::new(),
        };
        let text = csv(&[row]);
        assert_eq!(text.lines().count(), 2, "one header, one row: {text:?}");
        let line = text.lines().nth(1).unwrap();
        assert!(
            line.contains(",evil\u{fffd}[2J\u{fffd}\u{fffd}host\u{fffd}gpj.exe,"),
            "{line:?}"
        );
    }

    #[test]
    fn csv_neutralises_formulas_and_quotes() {
        let row = EndpointRow {
            id: 1,
            risk_level: RiskLevel::High,
            mac: Some("00:15:5D:A1:B2:C3".into()),
            ip: Some("10.0.0.1".into()),
            hostname: Some("=HYPERLINK(\"http://evil\")".into()),
            mac_vendor: Some("Acme, Inc.".into()),
            profile_name: Some("@SUM(1)".into()),
            match_level: None,
            os: Some("-2+3".into()),
            source_network: true,
            source_defender: false,
            onboarding_status: None,
            last_seen: "2026-01-01T00:00:00Z".into(),
            inactive: false,
            device_group: Some("+Servers".into()),
            tags: vec!["crown-jewel".into(), "lab, 2nd floor".into()],
        };
        let text = csv(&[row]);
        let line = text.lines().nth(1).unwrap();
        assert!(
            line.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
            "{line}"
        );
        assert!(line.contains("\"Acme, Inc.\""));
        assert!(line.contains(",'@SUM(1),"));
        assert!(line.contains(",'-2+3,"));
        assert!(
            line.contains(",'+Servers,\"crown-jewel; lab, 2nd floor\","),
            "{line}"
        );
    }
}
