//! The generated tenant: all entities in compact vectors plus the indices the API needs.

use std::collections::HashMap;

use super::alerts::{self, Alert};
use super::catalog::{Family, PRODUCTS, RBAC_GROUPS};
use super::machines::{ipv4, Gadget, Label, Machine, CLONE_TEMPLATE_NAME};
use super::software::SoftwareStats;
use super::vulnerabilities::{Cve, Row};

/// Items grouped by a dense key (counting sort): `offsets[k]..offsets[k+1]` into `items`.
#[derive(Clone, Debug, Default)]
pub struct Grouping {
    offsets: Vec<u32>,
    items: Vec<u32>,
}

impl Grouping {
    pub fn build(keys: usize, pairs: impl Iterator<Item = (u32, u32)> + Clone) -> Self {
        let mut offsets = vec![0u32; keys + 1];
        for (k, _) in pairs.clone() {
            offsets[k as usize + 1] += 1;
        }
        for k in 0..keys {
            offsets[k + 1] += offsets[k];
        }
        let mut fill = offsets.clone();
        let mut items = vec![0u32; offsets[keys] as usize];
        for (k, v) in pairs {
            items[fill[k as usize] as usize] = v;
            fill[k as usize] += 1;
        }
        Self { offsets, items }
    }

    pub fn get(&self, key: usize) -> &[u32] {
        match (self.offsets.get(key), self.offsets.get(key + 1)) {
            (Some(a), Some(b)) => &self.items[*a as usize..*b as usize],
            _ => &[],
        }
    }
}

#[derive(Debug, Default)]
pub struct Dataset {
    pub tenant_id: String,
    pub machines: Vec<Machine>,
    pub by_id: HashMap<[u8; 20], u32>,
    pub alerts: Vec<Alert>,
    pub alerts_by_machine: Grouping,
    pub cves: Vec<Cve>,
    pub cve_by_id: HashMap<String, u32>,
    /// CVEs affecting at least one device, the ones `/api/vulnerabilities` lists (§4.10).
    pub exposed_cves: Vec<u32>,
    /// `(machine, cve)` rows grouped by machine (§4.12).
    pub rows: Vec<(u32, u32)>,
    pub rows_by_machine: Grouping,
    pub rows_by_cve: Grouping,
    pub software: Vec<SoftwareStats>,
    /// Names set by [`super::SimConfig::machine_names`], by the index of the named machine.
    pub renamed: HashMap<u32, String>,
}

fn parse_id(s: &str) -> Option<[u8; 20]> {
    if s.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Dataset {
    pub fn machine_index(&self, id: &str) -> Option<usize> {
        let key = parse_id(&id.to_ascii_lowercase())?;
        self.by_id.get(&key).map(|i| *i as usize)
    }

    /// By MDE id, or by computer name as §4.2 allows (the live record of duplicates first).
    pub fn lookup(&self, id: &str) -> Option<usize> {
        self.machine_index(id).or_else(|| {
            (0..self.machines.len())
                .filter(|i| self.name(*i).is_some_and(|n| n.eq_ignore_ascii_case(id)))
                .min_by_key(|i| self.machines[*i].duplicate)
        })
    }

    /// `computerDnsName`, shared by a stale duplicate and its live twin (§9.3) and by a cloned
    /// VM and its template; several distinct hosts are plain `localhost` (§9.19).
    pub fn name(&self, i: usize) -> Option<String> {
        // A clone is a device of its own: a name set for its position beats its template's,
        // while a stale duplicate always shares its live twin's.
        let own = self.machines[i].clone_of.is_some();
        let set = own
            .then(|| self.renamed.get(&(i as u32)))
            .flatten()
            .or_else(|| self.renamed.get(&self.machines[i].name_of));
        if let Some(name) = set {
            return Some(name.clone());
        }
        let m = &self.machines[self.machines[i].name_of as usize];
        match m.label {
            Label::Generated => {}
            Label::Localhost => return Some("localhost".to_owned()),
            Label::CloneTemplate => return Some(CLONE_TEMPLATE_NAME.to_owned()),
        }
        let n = m.name_of;
        let dept = RBAC_GROUPS[m.rbac as usize].2;
        let domain = if m.seed.is_multiple_of(6) {
            ""
        } else {
            ".corp.contoso.test"
        };
        Some(match (m.onboarding, m.family(), m.gadget) {
            (0, Family::WindowsClient | Family::Legacy, _) => format!("{dept}-ws-{n:04}{domain}"),
            (0, Family::WindowsServer, _) => format!("{dept}-srv-{n:03}{domain}"),
            (0, Family::Linux, _) => format!("lnx-{n:04}{domain}"),
            (0, _, _) => format!("mac-{n:04}{domain}"),
            (1, _, _) => format!("desktop-{:06x}", m.seed & 0xFF_FFFF),
            (_, _, Gadget::Printer) => format!("HP LaserJet Pro M404 {n}"),
            (_, _, Gadget::Phone) => "Cisco IP Phone 8845".to_owned(),
            (_, _, Gadget::Camera) => format!("AXIS P3245-LV {n}"),
            (_, _, Gadget::Switch) => format!("sw-access-{n:03}"),
            // InsufficientInfo devices are often named by their IP (§9.5).
            _ => ipv4(m.ip),
        })
    }

    /// A Machine as served (§5.1).
    pub fn machine_json(&self, i: usize) -> serde_json::Value {
        let m = &self.machines[i];
        let merged = m.merged_into.map(|t| self.machines[t as usize].id_hex());
        m.json(self.name(i).as_deref(), merged)
    }

    pub fn alert_on<'a>(
        &'a self,
        a: &Alert,
        scratch: &'a mut (String, Option<String>),
    ) -> alerts::On<'a> {
        let m = a.machine as usize;
        *scratch = (self.machines[m].id_hex(), self.name(m));
        alerts::On {
            machine_id: &scratch.0,
            computer_dns_name: scratch.1.as_deref(),
            rbac_group_name: self.machines[m].rbac_group().1,
            tenant_id: &self.tenant_id,
        }
    }

    /// Row `r`; `machine_id` is the row machine's hex id, passed in so callers can reuse it.
    pub fn row<'a>(&'a self, r: usize, machine_id: &'a str) -> Row<'a> {
        let (m, c) = self.rows[r];
        self.row_of(m, c, machine_id)
    }

    /// The row of machine `m` and CVE `c`, generated or found since (`row_changes`).
    pub fn row_of<'a>(&'a self, m: u32, c: u32, machine_id: &'a str) -> Row<'a> {
        let cve = &self.cves[c as usize];
        Row {
            machine_id,
            cve,
            version: self.product_version(m as usize, cve.product as usize),
        }
    }

    pub fn product_version(&self, machine: usize, product: usize) -> &'static str {
        let versions = PRODUCTS[product].versions;
        versions[(super::rng::mix(self.machines[machine].seed, product as u64)
            % versions.len() as u64) as usize]
    }

    pub fn exposed(&self, cve: usize) -> usize {
        self.rows_by_cve.get(cve).len()
    }

    pub fn software_index(&self, id: &str) -> Option<usize> {
        let id = id.to_lowercase();
        PRODUCTS
            .iter()
            .position(|p| super::software::software_id(p) == id)
    }
}
