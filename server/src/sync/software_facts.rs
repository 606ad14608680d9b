//! Defender's facts about the software a run's machine-vulnerability rows name: Get software
//! by id (defender-api.md §4.15), one call per product. A tenant has a few hundred products,
//! not one per machine, so this costs a few hundred calls an hour at most.
//!
//! Partial data still syncs: a product Defender no longer knows (404) is dropped; one whose
//! answer cannot be decoded, or that stays throttled or unreachable through the client's
//! retries, keeps its last facts and makes the run Partial (so do the products after it, which
//! are not asked for then); a 403 leaves all of them as they were and names the missing
//! permission, like the other optional listings.

use super::fetch::{FetchError, Forbidden, Source};
use super::progress::{Progress, SOFTWARE};
use crate::db::software::SoftwareRow;
use crate::db::{AsConn, Stores};
use crate::defender::model::software::Software;
use crate::defender::skipped::SkippedItem;
use crate::defender::{DefenderClient, DefenderError};

/// What the software step brought back.
#[derive(Debug, Default)]
pub struct SoftwareFacts {
    /// Whether the products were asked for at all (the machine-vulnerability rows named some).
    pub listed: bool,
    pub rows: Vec<SoftwareRow>,
    /// Products asked for whose answer did not come: their stored facts stand.
    pub kept: Vec<String>,
    /// Products whose answer could not be decoded.
    pub skipped: Vec<SkippedItem>,
    /// Why some answers did not come (the first error), for the journal.
    pub failure: Option<String>,
    pub forbidden: Option<Forbidden>,
}

/// Asks Defender for every product the staged machine-vulnerability rows name.
pub(crate) async fn fetch_software(
    stores: &Stores,
    client: &DefenderClient,
    conn: &mut impl AsConn,
    progress: Progress<'_>,
) -> Result<SoftwareFacts, FetchError> {
    let ids = stores
        .software
        .staged_ids(conn)
        .await
        .map_err(|source| FetchError::Db {
            listing: SOFTWARE,
            source,
        })?;
    let mut facts = SoftwareFacts {
        listed: !ids.is_empty(),
        ..SoftwareFacts::default()
    };
    progress.begin(SOFTWARE, Some(ids.len() as u64));
    let mut ids = ids.into_iter();
    while let Some(id) = ids.next() {
        match client.software(&id).await {
            Ok(software) => facts.rows.push(row(&id, software)),
            Err(DefenderError::NotFound { .. }) => {}
            Err(e @ DefenderError::Forbidden { .. }) => {
                tracing::warn!(error = %e, "software facts forbidden; left out");
                return Ok(SoftwareFacts {
                    forbidden: Some(Forbidden {
                        source: Source::Software,
                        permissions: e.missing_permissions().to_vec(),
                    }),
                    ..SoftwareFacts::default()
                });
            }
            Err(DefenderError::Decode { detail, .. }) => {
                facts.skipped.push(SkippedItem {
                    listing: SOFTWARE.into(),
                    id: Some(id.clone()),
                    machine_id: None,
                    field: String::new(),
                    reason: detail.chars().take(200).collect(),
                });
                facts.kept.push(id);
            }
            Err(e) => {
                // It outlasted the client's retries: Defender is not answering these now, and
                // asking for the rest would only wait out the same retries once per product.
                tracing::warn!(software_id = %id, error = %e, "software facts not read");
                facts.failure = Some(e.to_string());
                facts.kept.push(id);
                facts.kept.extend(ids.by_ref());
                break;
            }
        }
        progress.page(|p| &mut p.software, 1);
    }
    Ok(facts)
}

/// The stored row; the id asked for stands when Defender's answer names another spelling.
fn row(asked: &str, s: Software) -> SoftwareRow {
    SoftwareRow {
        software_id: asked.to_owned(),
        name: s.name,
        vendor: s.vendor,
        weaknesses: s.weaknesses,
        public_exploit: s.public_exploit,
        active_alert: s.active_alert,
        exposed_machines: s.exposed_machines,
        impact_score: s.impact_score.filter(|f| f.is_finite()),
    }
}
