//! Software entities and machine references (defender-api.md §4.15, §4.16).

use serde_json::{json, Value};

use super::catalog::Product;

/// Per-product figures computed once by the generator from the machine set.
#[derive(Clone, Debug, Default)]
pub struct SoftwareStats {
    /// Exposed CVEs of this product.
    pub weaknesses: usize,
    pub public_exploit: bool,
    pub active_alert: bool,
    pub exposed_machines: usize,
    pub impact_score: f64,
}

/// `{vendor}-_-{product}` in lower case (§4.15).
pub fn software_id(p: &Product) -> String {
    format!("{}-_-{}", p.vendor, p.name).to_lowercase()
}

pub fn json(p: &Product, s: &SoftwareStats) -> Value {
    json!({
        "id": software_id(p),
        "name": p.name,
        "vendor": p.vendor,
        "weaknesses": s.weaknesses,
        "publicExploit": s.public_exploit,
        "activeAlert": s.active_alert,
        "exposedMachines": s.exposed_machines,
        "impactScore": (s.impact_score * 100.0).round() / 100.0,
    })
}

/// A MachineRef item (§4.16).
pub fn machine_ref(
    id: &str,
    name: Option<&str>,
    platform: Option<&str>,
    rbac: (i64, Option<&str>),
) -> Value {
    json!({
        "id": id,
        "computerDnsName": name,
        "osPlatform": platform,
        "rbacGroupName": rbac.1,
        "rbacGroupId": rbac.0,
    })
}
