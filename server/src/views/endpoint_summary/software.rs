//! The Software subtab of the Endpoint Summary: one entry per product and version the
//! representative machine's vulnerability rows name, with the CVEs Defender lists for it
//! there, and Defender's tenant-wide facts about the product when a sync could read them.

use std::collections::BTreeMap;

use app::model::software::{InstalledSoftware, SoftwareFacts};

use super::defender::{most_severe_first, severity_rank};
use crate::db::endpoint_query::MachineVulnerabilityRow;
use crate::db::software::{software_id, SoftwareRow};
use crate::db::{DbError, SoftwareStore};

pub(super) async fn installed_software(
    store: &dyn SoftwareStore,
    rows: &[MachineVulnerabilityRow],
) -> Result<Vec<InstalledSoftware>, DbError> {
    // Keyed by (vendor, product, version): a product runs in one version per machine as a
    // rule, but Defender may list two (side-by-side installs), and each is its own entry.
    let mut by_version: BTreeMap<(&str, &str, &str), Vec<&MachineVulnerabilityRow>> =
        BTreeMap::new();
    for r in rows.iter().filter(|r| !r.product_name.is_empty()) {
        by_version
            .entry((&r.product_vendor, &r.product_name, &r.product_version))
            .or_default()
            .push(r);
    }
    let ids: Vec<String> = by_version
        .keys()
        .map(|(vendor, name, _)| software_id(vendor, name))
        .collect();
    let facts: BTreeMap<String, SoftwareRow> = store
        .by_ids(&ids)
        .await?
        .into_iter()
        .map(|f| (f.software_id.clone(), f))
        .collect();
    let mut list: Vec<InstalledSoftware> = by_version
        .into_iter()
        .map(|((vendor, name, version), mut cves)| {
            cves.sort_by(|a, b| {
                most_severe_first(
                    (a.severity.as_deref(), a.cvss_v3, &a.cve_id),
                    (b.severity.as_deref(), b.cvss_v3, &b.cve_id),
                )
            });
            let id = software_id(vendor, name);
            let mut fixing_kbs: Vec<String> =
                cves.iter().filter_map(|r| r.fixing_kb_id.clone()).collect();
            fixing_kbs.sort();
            fixing_kbs.dedup();
            let mut cve_ids: Vec<String> = cves.iter().map(|r| r.cve_id.clone()).collect();
            cve_ids.dedup();
            InstalledSoftware {
                facts: facts.get(&id).map(|f| SoftwareFacts {
                    weaknesses: f.weaknesses,
                    exposed_machines: f.exposed_machines,
                    impact_score: f.impact_score,
                    public_exploit: f.public_exploit,
                    active_alert: f.active_alert,
                }),
                software_id: id,
                vendor: vendor.to_owned(),
                name: name.to_owned(),
                version: version.to_owned(),
                most_severe: cves.first().and_then(|r| r.severity.clone()),
                public_exploit: cves.iter().any(|r| r.public_exploit == Some(true)),
                exploit_verified: cves.iter().any(|r| r.exploit_verified == Some(true)),
                exploit_in_kit: cves.iter().any(|r| r.exploit_in_kit == Some(true)),
                cves: cve_ids,
                fixing_kbs,
            }
        })
        .collect();
    // Most severe first, then the most weaknesses, then by name.
    list.sort_by(|a, b| {
        severity_rank(b.most_severe.as_deref())
            .cmp(&severity_rank(a.most_severe.as_deref()))
            .then(b.cves.len().cmp(&a.cves.len()))
            .then_with(|| (&a.vendor, &a.name, &a.version).cmp(&(&b.vendor, &b.name, &b.version)))
    });
    Ok(list)
}
