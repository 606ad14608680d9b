//! The Software page: the tenant's products with Defender's facts, searched by name or
//! vendor, and for one product every device Defender lists as running it, shown as the
//! endpoint list shows the endpoint (same snapshot, so risk level and device group agree
//! between the pages), with the versions Defender reports a CVE in.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use app::model::software::{
    ProductRow, ProductView, SoftwareDevice, SoftwareFacts, SoftwarePage, SoftwareQuery,
};

use super::endpoint_list::{ListCache, SnapshotStamp};
use super::endpoint_row::UNGROUPED;
use crate::db::software::SoftwareRow;
use crate::db::software_machine::{InstalledVersion, SoftwareMachineRow};
use crate::db::{DbError, Stores};
use crate::integrations::software_devices::{Reading, SoftwareDevices};

fn product_row(r: &SoftwareRow) -> ProductRow {
    let mut parts = r.software_id.splitn(2, "-_-");
    let (vendor, name) = (parts.next().unwrap_or_default(), parts.next());
    ProductRow {
        software_id: r.software_id.clone(),
        vendor: r.vendor.clone().unwrap_or_else(|| vendor.to_owned()),
        name: r
            .name
            .clone()
            .or_else(|| name.map(str::to_owned))
            .unwrap_or_else(|| r.software_id.clone()),
        facts: SoftwareFacts {
            weaknesses: r.weaknesses,
            exposed_machines: r.exposed_machines,
            impact_score: r.impact_score,
            public_exploit: r.public_exploit,
            active_alert: r.active_alert,
        },
    }
}

/// The page for `query`; `None` when it opens a product the sync does not know.
pub async fn page(
    db: &Stores,
    cache: &ListCache,
    views: &SoftwareViews,
    query: SoftwareQuery,
) -> Result<Option<SoftwarePage>, DbError> {
    let query = query.normalised();
    if query.software.is_empty() {
        let mut products: Vec<ProductRow> = db
            .software
            .all()
            .await?
            .iter()
            .map(product_row)
            .filter(|p| matches(p, &query.q))
            .collect();
        sort_products(&mut products, &query);
        let total = products.len() as u64;
        let start = (query.page as usize - 1) * query.page_size as usize;
        let products = products
            .into_iter()
            .skip(start)
            .take(query.page_size as usize)
            .collect();
        return Ok(Some(SoftwarePage {
            products,
            total,
            product: None,
            device_groups: Vec::new(),
            query,
        }));
    }
    let Some((view, total, device_groups)) = opened(db, cache, views, &query, true).await? else {
        return Ok(None);
    };
    Ok(Some(SoftwarePage {
        products: Vec::new(),
        total,
        product: Some(view),
        device_groups,
        query,
    }))
}

/// Every device row of the product `query` opens, in page order, for the CSV.
pub async fn all_devices(
    db: &Stores,
    cache: &ListCache,
    views: &SoftwareViews,
    query: SoftwareQuery,
) -> Result<Option<ProductView>, DbError> {
    let query = query.normalised();
    Ok(opened(db, cache, views, &query, false)
        .await?
        .map(|(view, _, _)| view))
}

fn matches(p: &ProductRow, text: &str) -> bool {
    let text = text.to_lowercase();
    text.is_empty()
        || p.name.to_lowercase().contains(&text)
        || p.vendor.to_lowercase().contains(&text)
        || p.software_id.contains(&text)
}

fn sort_products(rows: &mut [ProductRow], query: &SoftwareQuery) {
    let key = |a: &ProductRow, b: &ProductRow| -> Ordering {
        let f = |p: &ProductRow| p.facts.impact_score.unwrap_or(-1.0);
        match query.sort.as_str() {
            "exposed" => a.facts.exposed_machines.cmp(&b.facts.exposed_machines),
            "impact" => f(a).total_cmp(&f(b)),
            "name" => (a.name.to_lowercase(), a.vendor.to_lowercase())
                .cmp(&(b.name.to_lowercase(), b.vendor.to_lowercase())),
            _ => a.facts.weaknesses.cmp(&b.facts.weaknesses),
        }
    };
    // The id breaks ties in both directions, so pages are stable.
    if query.dir == "desc" {
        rows.sort_by(|a, b| key(b, a).then_with(|| a.software_id.cmp(&b.software_id)));
    } else {
        rows.sort_by(|a, b| key(a, b).then_with(|| a.software_id.cmp(&b.software_id)));
    }
}

/// What one product's rows are built from; while both stand, the built rows do.
#[derive(Clone, PartialEq, Eq)]
struct BuiltFrom {
    read_at: Option<String>,
    list: SnapshotStamp,
}

struct Built {
    from: BuiltFrom,
    rows: Arc<Vec<SoftwareDevice>>,
    imported: u64,
}

/// The devices of the products opened lately, each as rows of the page: a common product of a
/// 100k tenant has tens of thousands, and building them again from the stored reading and the
/// list's snapshot took about 400 ms per request.
const KEPT_PRODUCTS: usize = 16;

/// The Software page's state: the Defender readings, and the rows built from them.
#[derive(Clone)]
pub struct SoftwareViews {
    devices: SoftwareDevices,
    built: Arc<Mutex<HashMap<String, Built>>>,
}

impl SoftwareViews {
    pub fn new(devices: SoftwareDevices) -> Self {
        Self {
            devices,
            built: Arc::default(),
        }
    }

    /// The product's rows, built again only when its reading or the endpoint list changed.
    async fn rows(
        &self,
        db: &Stores,
        cache: &ListCache,
        software_id: &str,
        read_at: Option<String>,
    ) -> Result<(Arc<Vec<SoftwareDevice>>, u64), DbError> {
        let from = BuiltFrom {
            read_at,
            list: cache.stamp(&*db.endpoint_views).await?,
        };
        if let Some(b) = self
            .built
            .lock()
            .expect("software rows lock")
            .get(software_id)
        {
            if b.from == from {
                return Ok((Arc::clone(&b.rows), b.imported));
            }
        }
        let stored = db.software_machines.machines(software_id).await?;
        let mut machines_of: HashMap<i64, Vec<&SoftwareMachineRow>> = HashMap::new();
        let mut others = Vec::new();
        for r in &stored {
            match r.endpoint_id {
                Some(id) => machines_of.entry(id).or_default().push(r),
                None => others.push(r),
            }
        }
        // One row per endpoint (its machines Defender lists), one per machine not imported.
        let mut rows = Vec::with_capacity(stored.len());
        let list = cache
            .visit_rows(&*db.endpoint_views, machines_of.keys().copied(), |e| {
                let machines = &machines_of[&e.id];
                rows.push(SoftwareDevice {
                    endpoint_id: Some(e.id),
                    machine_ids: machines.iter().map(|m| m.machine_id.clone()).collect(),
                    hostname: e
                        .hostname
                        .clone()
                        .or_else(|| machines[0].computer_dns_name.clone()),
                    mac: e.mac.clone(),
                    ip: e.ip.clone(),
                    risk_level: Some(e.risk_level),
                    device_group: e.device_group.clone(),
                    os_platform: machines[0].os_platform.clone(),
                    versions: Vec::new(),
                    cves: 0,
                });
            })
            .await?;
        let imported = rows.len() as u64;
        // A machine whose endpoint the snapshot does not hold yet (gone since) is shown as
        // Defender names it.
        let shown: HashSet<i64> = rows.iter().filter_map(|r| r.endpoint_id).collect();
        for (id, machines) in &machines_of {
            if !shown.contains(id) {
                others.extend(machines.iter().copied());
            }
        }
        rows.extend(others.into_iter().cloned().map(not_imported));
        let rows = Arc::new(rows);
        let mut built = self.built.lock().expect("software rows lock");
        if built.len() >= KEPT_PRODUCTS && !built.contains_key(software_id) {
            // Any one goes; the next opening of it builds it again.
            if let Some(k) = built.keys().next().cloned() {
                built.remove(&k);
            }
        }
        built.insert(
            software_id.to_owned(),
            Built {
                from: BuiltFrom { list, ..from },
                rows: Arc::clone(&rows),
                imported,
            },
        );
        Ok((rows, imported))
    }
}

/// The product's view with its device rows (one page of them when `paged`), the number of
/// rows that match, and every device group.
async fn opened(
    db: &Stores,
    cache: &ListCache,
    views: &SoftwareViews,
    query: &SoftwareQuery,
    paged: bool,
) -> Result<Option<(ProductView, u64, Vec<String>)>, DbError> {
    let Some(record) = db
        .software
        .by_ids(std::slice::from_ref(&query.software))
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let product = product_row(&record);
    let Reading { read_at, note } = views.devices.refresh_if_stale(&query.software).await?;
    let (all, imported) = views
        .rows(db, cache, &query.software, read_at.clone())
        .await?;
    let device_groups = cache.device_groups(&*db.endpoint_views).await?;
    // Positions, not copies: only the page's rows are copied.
    let mut picked: Vec<usize> = (0..all.len())
        .filter(|&i| query.group.is_empty() || all[i].device_group.as_deref() == Some(&query.group))
        .collect();
    let imported_count = if query.group.is_empty() {
        imported
    } else {
        picked
            .iter()
            .filter(|&&i| all[i].endpoint_id.is_some())
            .count() as u64
    };
    sort_devices(&mut picked, &all, query);
    let total = picked.len() as u64;
    let (skip, take) = if paged {
        (
            (query.page as usize - 1) * query.page_size as usize,
            query.page_size as usize,
        )
    } else {
        (0, picked.len())
    };
    let mut rows: Vec<SoftwareDevice> = picked
        .iter()
        .skip(skip)
        .take(take)
        .map(|&i| all[i].clone())
        .collect();
    add_versions(db, &product, &mut rows).await?;
    let view = ProductView {
        product,
        device_count: total,
        imported_count,
        devices: rows,
        read_at,
        note,
    };
    Ok(Some((view, total, device_groups)))
}

fn not_imported(r: SoftwareMachineRow) -> SoftwareDevice {
    SoftwareDevice {
        endpoint_id: None,
        machine_ids: vec![r.machine_id],
        hostname: r.computer_dns_name,
        mac: None,
        ip: None,
        risk_level: None,
        device_group: Some(r.rbac_group_name.unwrap_or_else(|| UNGROUPED.to_owned())),
        os_platform: r.os_platform,
        versions: Vec::new(),
        cves: 0,
    }
}

/// The versions and CVE counts of the product on the rows' machines, from the
/// machine-vulnerability rows.
async fn add_versions(
    db: &Stores,
    product: &ProductRow,
    rows: &mut [SoftwareDevice],
) -> Result<(), DbError> {
    let ids: Vec<String> = rows.iter().flat_map(|r| r.machine_ids.clone()).collect();
    let (vendor, name) = product
        .software_id
        .split_once("-_-")
        .unwrap_or((product.vendor.as_str(), product.name.as_str()));
    let found = db.software_machines.versions(vendor, name, &ids).await?;
    let mut of_machine: BTreeMap<&str, Vec<&InstalledVersion>> = BTreeMap::new();
    for v in &found {
        of_machine.entry(v.machine_id.as_str()).or_default().push(v);
    }
    for row in rows {
        // A CVE on two machines of one endpoint (or in two versions) counts once.
        let mut versions = BTreeSet::new();
        let mut cves = BTreeSet::new();
        for id in &row.machine_ids {
            for v in of_machine.get(id.as_str()).into_iter().flatten() {
                if !v.product_version.is_empty() {
                    versions.insert(v.product_version.clone());
                }
                cves.insert(v.cve_id.as_str());
            }
        }
        row.versions = versions.into_iter().collect();
        row.cves = cves.len() as u64;
    }
    Ok(())
}

fn sort_devices(picked: &mut [usize], rows: &[SoftwareDevice], query: &SoftwareQuery) {
    let key = |a: &SoftwareDevice, b: &SoftwareDevice| -> Ordering {
        match query.sort.as_str() {
            "hostname" => a.hostname.cmp(&b.hostname),
            "group" => a.device_group.cmp(&b.device_group),
            _ => a.risk_level.cmp(&b.risk_level),
        }
    };
    // Ties in endpoint then machine order, so pages are stable.
    let tie = |a: &SoftwareDevice, b: &SoftwareDevice| {
        (a.endpoint_id.is_none(), a.endpoint_id, &a.machine_ids).cmp(&(
            b.endpoint_id.is_none(),
            b.endpoint_id,
            &b.machine_ids,
        ))
    };
    let descending = query.dir == "desc";
    picked.sort_unstable_by(|&a, &b| {
        let (a, b) = (&rows[a], &rows[b]);
        let primary = if descending { key(b, a) } else { key(a, b) };
        primary.then_with(|| tie(a, b))
    });
}
