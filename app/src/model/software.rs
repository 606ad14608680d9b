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
