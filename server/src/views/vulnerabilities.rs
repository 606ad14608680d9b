//! The Vulnerabilities page: Defender's CVEs filtered and paged by the database, and for one
//! CVE the endpoints it affects, shown as the endpoint list shows them (same snapshot, so a
//! risk level or a device group never differs between the two pages).

use std::cmp::Ordering;
use std::collections::BTreeSet;

use app::model::vulnerability::{
    AffectedEndpoint, CveRow, CveView, VulnerabilityPage, VulnerabilityQuery,
};

use super::endpoint_list::ListCache;
use super::endpoint_row::json_or_default;
use crate::db::vulnerability_query::{CveFilter, CveRecord, CveSort, ExploitFilter};
use crate::db::{DbError, Stores};

fn cve_row(r: &CveRecord) -> CveRow {
    CveRow {
        cve_id: r.cve_id.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
        severity: r.severity.clone(),
        cvss_v3: r.cvss_v3,
        public_exploit: r.public_exploit,
        exploit_verified: r.exploit_verified,
        exploit_in_kit: r.exploit_in_kit,
        exploit_types: json_or_default(&r.exploit_types),
        published_on: r.published_on.clone(),
        exposed_machines: r.exposed_machines,
        group_endpoints: r.group_endpoints.and_then(|n| u64::try_from(n).ok()),
    }
}

/// A CVE that machines report but the catalogue listing did not give (it was unreadable in
/// the last sync): its id alone.
fn bare_cve(cve_id: &str) -> CveRow {
    CveRow {
        cve_id: cve_id.to_owned(),
        name: None,
        description: None,
        severity: None,
        cvss_v3: None,
        public_exploit: false,
        exploit_verified: false,
        exploit_in_kit: false,
        exploit_types: Vec::new(),
        published_on: None,
        exposed_machines: None,
        group_endpoints: None,
    }
}

/// The page for `query`; `None` when it opens a CVE no machine and no catalogue entry has.
pub async fn page(
    db: &Stores,
    cache: &ListCache,
    query: VulnerabilityQuery,
) -> Result<Option<VulnerabilityPage>, DbError> {
    let query = query.normalised();
    let offset = i64::from(query.page - 1) * i64::from(query.page_size);
    if query.cve.is_empty() {
        let filter = CveFilter {
            text: &query.q,
            severity: &query.severity,
            exploit: match query.exploit.as_str() {
                "public" => ExploitFilter::Public,
                "verified" => ExploitFilter::Verified,
                "kit" => ExploitFilter::InKit,
                "none" => ExploitFilter::None,
                _ => ExploitFilter::Any,
            },
            group: Some(query.group.as_str()).filter(|g| !g.is_empty()),
            sort: match query.sort.as_str() {
                "exposed" => CveSort::Exposed,
                "published" => CveSort::Published,
                "cve" => CveSort::Id,
                _ => CveSort::Severity,
            },
            descending: query.dir == "desc",
            limit: i64::from(query.page_size),
            offset,
        };
        let (rows, total) = db.vulnerability_views.cves(filter).await?;
        // The group filter's choices are the endpoint list's, from its snapshot.
        let device_groups = cache.device_groups(&*db.endpoint_views).await?;
        return Ok(Some(VulnerabilityPage {
            cves: rows.iter().map(cve_row).collect(),
            total: u64::try_from(total).unwrap_or(0),
            cve: None,
            device_groups,
            query,
        }));
    }
    let Some((mut view, total, device_groups)) = affected(db, cache, &query, true).await? else {
        return Ok(None);
    };
    let (links, _) = crate::integrations::defender::portal(&*db.integrations).await?;
    view.defender_url = links
        .and_then(|l| l.cve(&query.cve).ok())
        .map(|u| u.to_string());
    Ok(Some(VulnerabilityPage {
        cves: Vec::new(),
        total,
        cve: Some(view),
        device_groups,
        query,
    }))
}

/// Every (endpoint, software) row of the CVE `query` opens, in page order, for the CSV.
pub async fn all_affected(
    db: &Stores,
    cache: &ListCache,
    query: VulnerabilityQuery,
) -> Result<Option<(String, Vec<AffectedEndpoint>)>, DbError> {
    let query = query.normalised();
    Ok(affected(db, cache, &query, false)
        .await?
        .map(|(view, _, _)| (view.cve.cve_id, view.endpoints)))
}

/// The CVE's view (without its portal link) with its affected rows (one page of them when
/// `paged`), the number of rows that match, and every device group.
async fn affected(
    db: &Stores,
    cache: &ListCache,
    query: &VulnerabilityQuery,
    paged: bool,
) -> Result<Option<(CveView, u64, Vec<String>)>, DbError> {
    let record = db.vulnerability_views.cve(&query.cve).await?;
    let stored = db.vulnerability_views.affected(&query.cve).await?;
    if record.is_none() && stored.is_empty() {
        return Ok(None);
    }
    let (endpoints, device_groups) = cache
        .rows_of(&*db.endpoint_views, stored.iter().map(|r| r.endpoint_id))
        .await?;
    let mut rows: Vec<AffectedEndpoint> = stored
        .into_iter()
        .filter_map(|r| {
            // An endpoint gone since the snapshot was taken is left out, as the list leaves it.
            let e = endpoints.get(&r.endpoint_id)?;
            Some(AffectedEndpoint {
                endpoint_id: r.endpoint_id,
                hostname: e.hostname.clone(),
                mac: e.mac.clone(),
                ip: e.ip.clone(),
                risk_level: e.risk_level,
                device_group: e.device_group.clone(),
                product_vendor: r.product_vendor,
                product_name: r.product_name,
                product_version: r.product_version,
                fixing_kb_id: r.fixing_kb_id,
                first_seen: r.first_seen,
            })
        })
        .filter(|r| query.group.is_empty() || r.device_group.as_deref() == Some(&query.group))
        .collect();
    sort(&mut rows, query);
    let endpoint_count = rows
        .iter()
        .map(|r| r.endpoint_id)
        .collect::<BTreeSet<_>>()
        .len();
    let total = rows.len() as u64;
    if paged {
        let start = (query.page as usize - 1) * query.page_size as usize;
        rows = rows
            .into_iter()
            .skip(start)
            .take(query.page_size as usize)
            .collect();
    }
    let view = CveView {
        cve: record
            .as_ref()
            .map_or_else(|| bare_cve(&query.cve), cve_row),
        cvss_vector: record.and_then(|r| r.cvss_vector),
        // The page's alone (the CSV has no use for it): see [`page`].
        defender_url: None,
        endpoint_count: endpoint_count as u64,
        endpoints: rows,
    };
    Ok(Some((view, total, device_groups)))
}

/// Vendor, product and version, as the software column reads.
fn software(r: &AffectedEndpoint) -> (&str, &str, &str) {
    (&r.product_vendor, &r.product_name, &r.product_version)
}

fn sort(rows: &mut [AffectedEndpoint], query: &VulnerabilityQuery) {
    let key = |a: &AffectedEndpoint, b: &AffectedEndpoint| -> Ordering {
        let primary = match query.sort.as_str() {
            "hostname" => a.hostname.cmp(&b.hostname),
            "software" => software(a).cmp(&software(b)),
            "group" => a.device_group.cmp(&b.device_group),
            "first_seen" => a.first_seen.cmp(&b.first_seen),
            _ => a.risk_level.cmp(&b.risk_level),
        };
        // Ties in endpoint then software order, so pages are stable.
        primary
            .then(a.endpoint_id.cmp(&b.endpoint_id))
            .then_with(|| software(a).cmp(&software(b)))
    };
    if query.dir == "desc" {
        rows.sort_by(|a, b| key(b, a));
    } else {
        rows.sort_by(key);
    }
}
