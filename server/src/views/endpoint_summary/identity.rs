//! The identity section of the Endpoint Summary: how the endpoint's machines were joined, the
//! MAC conflicts and notes the merge recorded, and the splits an administrator made or may make.

use app::model::endpoint::{
    IdentityNoteView, IdentityView, MacConflictView, MergeEvidence, SplitView,
};

use crate::db::endpoint_query as q;
use crate::db::{DbError, EndpointViews};
use crate::sync::merge::evidence::Evidence;

/// The identity section of the Summary: the stored evidence, the splits that concern the
/// endpoint, and which of its machines an administrator may split off.
pub(super) async fn identity(
    views: &dyn EndpointViews,
    endpoint_id: i64,
    evidence: &str,
    machines: &[q::MachineRow],
    source_network: bool,
    can_correct: bool,
) -> Result<IdentityView, DbError> {
    let evidence = Evidence::parse(evidence);
    let present: Vec<&q::MachineRow> = machines.iter().filter(|m| !m.gone).collect();
    // Splitting the only source off an endpoint would leave an empty endpoint behind.
    let splittable = if source_network || present.len() > 1 {
        present.iter().map(|m| m.machine_id.clone()).collect()
    } else {
        Vec::new()
    };
    let splits = views
        .splits(endpoint_id)
        .await?
        .into_iter()
        .map(|s| SplitView {
            id: s.machine_split_id,
            machine_id: s.machine_id,
            endpoint_id: s.endpoint_id,
            reason: s.reason,
            created_by: s.created_by,
            created_at: s.created_at,
        })
        .collect();
    Ok(IdentityView {
        joins: evidence
            .joins
            .into_iter()
            .map(|j| MergeEvidence {
                machine_id: j.machine_id,
                rule: j.rule.as_str().to_owned(),
                detail: j.detail,
            })
            .collect(),
        conflicts: evidence
            .conflicts
            .into_iter()
            .map(|c| MacConflictView {
                mac: c.mac,
                machines: c.machines,
            })
            .collect(),
        notes: evidence
            .notes
            .into_iter()
            .map(|n| IdentityNoteView {
                kind: serde_json::to_value(n.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                detail: n.detail,
                machines: n.machines,
            })
            .collect(),
        splits,
        splittable,
        can_correct,
    })
}
