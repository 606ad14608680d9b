//! Software as the console shows it: what an endpoint runs (from Defender's
//! machine-vulnerability rows) beside Defender's tenant-wide facts about the product (Get
//! software by id).

use serde::{Deserialize, Serialize};

/// Defender's facts about a product across the tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SoftwareFacts {
    /// CVEs of the product across the tenant.
    pub weaknesses: Option<i64>,
    pub exposed_machines: Option<i64>,
    pub impact_score: Option<f64>,
    pub public_exploit: bool,
    pub active_alert: bool,
}

/// One product and version on one endpoint, with the weaknesses Defender lists for it there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstalledSoftware {
    /// `{vendor}-_-{product}` in lower case, Defender's id.
    pub software_id: String,
    pub vendor: String,
    pub name: String,
    /// Empty when Defender gave none.
    pub version: String,
    /// The CVEs of this version on this endpoint, most severe first.
    pub cves: Vec<String>,
    /// The severity of the most severe of them.
    pub most_severe: Option<String>,
    pub public_exploit: bool,
    pub exploit_verified: bool,
    pub exploit_in_kit: bool,
    /// Updates that fix some of them (Microsoft products).
    pub fixing_kbs: Vec<String>,
    /// `None` until a sync could read them.
    pub facts: Option<SoftwareFacts>,
}

impl InstalledSoftware {
    /// "public exploit, exploit verified", or "no known exploit".
    pub fn exploit_text(&self) -> String {
        exploit_text(
            self.public_exploit,
            self.exploit_verified,
            self.exploit_in_kit,
        )
    }
}

/// Defender's exploit facts in words: "public exploit, exploit verified", or "no known
/// exploit".
pub fn exploit_text(public: bool, verified: bool, in_kit: bool) -> String {
    let flags: Vec<&str> = [
        (public, "public exploit"),
        (verified, "exploit verified"),
        (in_kit, "exploit in kit"),
    ]
    .into_iter()
    .filter_map(|(on, label)| on.then_some(label))
    .collect();
    if flags.is_empty() {
        "no known exploit".into()
    } else {
        flags.join(", ")
    }
}

/// How the product list is sorted.
pub const PRODUCT_SORTS: [&str; 4] = ["weaknesses", "exposed", "impact", "name"];
/// How one product's devices are sorted.
pub const DEVICE_SORTS: [&str; 3] = ["risk", "hostname", "group"];

/// Search, sort and page of the Software page, and its URL's query string. With `software`
/// empty it lists products (`q` searches name and vendor); with a product it lists the devices
/// that run it (`group` filters them). The list's search is kept while a product is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SoftwareQuery {
    /// Text in the product's name or vendor, any case.
    pub q: String,
    /// The product opened (`{vendor}-_-{product}`), or empty for the list.
    pub software: String,
    /// Defender device group of the devices, empty for any.
    pub group: String,
    /// One of [`PRODUCT_SORTS`] or [`DEVICE_SORTS`]; empty is the mode's first.
    pub sort: String,
    /// `asc` or `desc`.
    pub dir: String,
    pub page: u32,
    pub page_size: u32,
}

impl Default for SoftwareQuery {
    fn default() -> Self {
        Self {
            q: String::new(),
            software: String::new(),
            group: String::new(),
            sort: String::new(),
            dir: "desc".into(),
            page: 1,
            page_size: 50,
        }
    }
}

pub const MAX_PAGE_SIZE: u32 = 500;

impl SoftwareQuery {
    /// Bounds every field, so any URL gives a valid query.
    pub fn normalised(mut self) -> Self {
        self.q = self.q.trim().chars().take(200).collect();
        self.software = self
            .software
            .trim()
            .to_lowercase()
            .chars()
            .take(300)
            .collect();
        self.group = self.group.chars().take(200).collect();
        let sorts: &[&str] = if self.software.is_empty() {
            &PRODUCT_SORTS
        } else {
            &DEVICE_SORTS
        };
        if !sorts.contains(&self.sort.as_str()) {
            self.sort = sorts[0].into();
        }
        if self.dir != "asc" {
            self.dir = "desc".into();
        }
        self.page = self.page.max(1);
        self.page_size = self.page_size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The query string for a URL: only fields that differ from the defaults.
    pub fn to_query_string(&self) -> String {
        let d = Self::default();
        let default_sort = if self.software.is_empty() {
            PRODUCT_SORTS[0]
        } else {
            DEVICE_SORTS[0]
        };
        let mut parts = Vec::new();
        let mut add = |k: &str, v: &str, default: &str| {
            if v != default {
                parts.push(format!("{k}={}", super::endpoint::encode(v)));
            }
        };
        add("q", &self.q, &d.q);
        add("software", &self.software, &d.software);
        add("group", &self.group, &d.group);
        if !self.sort.is_empty() {
            add("sort", &self.sort, default_sort);
        }
        add("dir", &self.dir, &d.dir);
        add("page", &self.page.to_string(), &d.page.to_string());
        add(
            "page_size",
            &self.page_size.to_string(),
            &d.page_size.to_string(),
        );
        parts.join("&")
    }

    /// The same search on another product (or on the list, with `software` empty), first
    /// page, the mode's default sort.
    pub fn opening(&self, software: &str) -> Self {
        Self {
            software: software.to_owned(),
            group: String::new(),
            sort: String::new(),
            dir: "desc".into(),
            page: 1,
            ..self.clone()
        }
    }
}

/// One product of the tenant, with Defender's facts about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductRow {
    pub software_id: String,
    pub vendor: String,
    pub name: String,
    pub facts: SoftwareFacts,
}

/// One device that runs the product opened: an endpoint of the inventory (its machines that
/// Defender lists, as one row), or a machine the sync has not imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftwareDevice {
    /// `None` for a machine not in the inventory.
    pub endpoint_id: Option<i64>,
    /// Defender's machines of this row that Defender lists for the product.
    pub machine_ids: Vec<String>,
    /// The endpoint's hostname, else the name Defender gives the machine.
    pub hostname: Option<String>,
    pub mac: Option<String>,
    pub ip: Option<String>,
    /// `None` for a machine not in the inventory.
    pub risk_level: Option<super::risk::RiskLevel>,
    pub device_group: Option<String>,
    pub os_platform: Option<String>,
    /// Versions Defender reports a CVE in (it names no other versions); empty for none.
    pub versions: Vec<String>,
    /// Distinct CVEs of the product on this device.
    pub cves: u64,
}

/// One product opened: its facts and a page of the devices Defender lists for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductView {
    pub product: ProductRow,
    /// Devices (rows) after the group filter.
    pub device_count: u64,
    /// Of those, how many are endpoints of the inventory.
    pub imported_count: u64,
    pub devices: Vec<SoftwareDevice>,
    /// When the devices were read from Microsoft Defender; `None` if never.
    pub read_at: Option<String>,
    /// Why the devices shown are not a fresh reading (a missing permission, Defender not
    /// answering, the integration disabled), when they are not.
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SoftwarePage {
    pub query: SoftwareQuery,
    /// The page of products (list mode).
    pub products: Vec<ProductRow>,
    /// Products that match (list mode), or device rows (a product opened).
    pub total: u64,
    pub product: Option<ProductView>,
    /// The device-group filter's choices.
    pub device_groups: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_url_gives_a_valid_query_and_defaults_stay_out_of_the_url() {
        let q = SoftwareQuery {
            sort: "nonsense".into(),
            dir: "up".into(),
            page: 0,
            page_size: 10_000,
            ..Default::default()
        }
        .normalised();
        assert_eq!((q.sort.as_str(), q.dir.as_str()), ("weaknesses", "desc"));
        assert_eq!((q.page, q.page_size), (1, MAX_PAGE_SIZE));
        assert_eq!(q.to_query_string(), "page_size=500");
        let opened = SoftwareQuery {
            q: "fire fox".into(),
            sort: "exposed".into(),
            ..Default::default()
        }
        .opening(" Mozilla-_-Firefox ")
        .normalised();
        assert_eq!(opened.software, "mozilla-_-firefox");
        assert_eq!(
            opened.sort, "risk",
            "a product's devices sort by their own keys"
        );
        assert_eq!(
            opened.to_query_string(),
            "q=fire%20fox&software=mozilla-_-firefox"
        );
    }
}
