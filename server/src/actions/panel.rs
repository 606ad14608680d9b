//! The action panel of an endpoint: which actions can be sent and why not, the isolation state
//! derived from the stored actions, and the history.

use app::model::action::{
    ActionAvailability, ActionKind, ActionStatus, ActionView, EndpointActions, IsolationState,
    TargetMachine,
};

use super::platform::{self, MachineFacts};
use crate::db::action_target_query::ActionTarget;
use crate::db::machine_action::{ActionRow, ActionSnapshot, HISTORY_LIMIT};
use crate::db::{DbError, Stores};

/// The panel without the viewer-specific parts (role, request key).
pub struct Panel {
    pub isolation: IsolationState,
    pub available: Vec<ActionAvailability>,
    pub warning: Option<String>,
    /// The open action of each group, shown instead of sending another.
    pub open_isolation: Option<ActionRow>,
    pub open_scan: Option<ActionRow>,
}

impl Panel {
    pub fn availability(&self, kind: ActionKind) -> &ActionAvailability {
        self.available
            .iter()
            .find(|a| a.kind == kind)
            .expect("every kind has an availability")
    }

    pub fn open_for(&self, kind: ActionKind) -> Option<&ActionRow> {
        match kind.group() {
            "isolation" => self.open_isolation.as_ref(),
            _ => self.open_scan.as_ref(),
        }
    }
}

/// Decides what can be sent to the target's machine now.
pub async fn panel(
    stores: &Stores,
    target: &ActionTarget,
    integration_enabled: bool,
) -> Result<Panel, DbError> {
    let snapshot = match &target.machine_id {
        Some(machine_id) => stores.actions.snapshot(machine_id, None).await?,
        None => ActionSnapshot::default(),
    };
    Ok(panel_of(snapshot, target, integration_enabled))
}

/// The panel from one reading of the machine's actions.
fn panel_of(snapshot: ActionSnapshot, target: &ActionTarget, integration_enabled: bool) -> Panel {
    if target.machine_id.is_none() {
        let reason = "This endpoint is not linked to a Microsoft Defender machine.".to_owned();
        return Panel {
            isolation: IsolationState::NotIsolated,
            available: disabled_all(&reason),
            warning: None,
            open_isolation: None,
            open_scan: None,
        };
    }
    let ActionSnapshot {
        latest_isolation: latest,
        open_scan,
        refusals,
        history: _,
    } = snapshot;
    let isolation = isolation_state(latest.as_ref());
    let open_isolation = latest.filter(is_open);
    let support = platform::support(MachineFacts {
        onboarding_status: target.onboarding_status.as_deref(),
        os_platform: target.os_platform.as_deref(),
        version: target.version.as_deref(),
        agent_version: target.agent_version.as_deref(),
    });
    let mut available = Vec::new();
    for kind in ActionKind::ALL {
        // Defender's own refusal for this device, while it still runs the OS it had then.
        let refused = refusals
            .iter()
            .find(|r| {
                r.kind == kind.as_str()
                    && r.os_platform == target.os_platform
                    && r.version == target.version
            })
            .map(|r| {
                format!(
                    "Microsoft Defender refused this action for this device on {} ({}): {}.",
                    r.refused_at,
                    r.code,
                    platform::code_meaning(&r.code)
                )
            });
        let supported = match kind {
            ActionKind::RunAntiVirusScan => support.scan.clone(),
            ActionKind::Isolate => support.isolation.clone(),
            // Releasing needs no scope.
            ActionKind::Unisolate => support.isolation.clone().map(|_| Vec::new()),
        };
        let state_reason = match (kind, isolation) {
            (ActionKind::RunAntiVirusScan, _) => open_scan
                .as_ref()
                .map(|_| "A scan is already pending on this device; it is shown below.".into()),
            (_, IsolationState::IsolationPending) => {
                Some("An isolation is already pending on this device; it is shown below.".into())
            }
            (_, IsolationState::ReleasePending) => Some(
                "A release from isolation is already pending on this device; it is shown below."
                    .into(),
            ),
            (ActionKind::Isolate, IsolationState::Isolated) => {
                Some("The device is already isolated.".into())
            }
            (ActionKind::Unisolate, IsolationState::NotIsolated) => {
                Some("The device is not isolated.".into())
            }
            _ => None,
        };
        let reason = if !integration_enabled {
            Some("Enable the Microsoft Defender integration to send actions.".into())
        } else {
            supported
                .as_ref()
                .err()
                .cloned()
                .or(refused)
                .or(state_reason)
        };
        available.push(ActionAvailability {
            kind,
            disabled_reason: reason,
            scopes: supported
                .unwrap_or_default()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        });
    }
    Panel {
        isolation,
        available,
        warning: platform::health_warning(target.health_status.as_deref()),
        open_isolation,
        open_scan,
    }
}

fn disabled_all(reason: &str) -> Vec<ActionAvailability> {
    ActionKind::ALL
        .into_iter()
        .map(|kind| ActionAvailability {
            kind,
            disabled_reason: Some(reason.to_owned()),
            scopes: Vec::new(),
        })
        .collect()
}

fn is_open(row: &ActionRow) -> bool {
    ActionStatus::parse(&row.status).is_some_and(ActionStatus::is_open)
}

/// Defender has no isolation field: the latest open or succeeded isolate/unisolate decides
/// (defender-api.md §6).
pub fn isolation_state(latest: Option<&ActionRow>) -> IsolationState {
    let Some(row) = latest else {
        return IsolationState::NotIsolated;
    };
    match (row.kind.as_str(), is_open(row)) {
        ("Isolate", true) => IsolationState::IsolationPending,
        ("Isolate", false) => IsolationState::Isolated,
        ("Unisolate", true) => IsolationState::ReleasePending,
        _ => IsolationState::NotIsolated,
    }
}

pub fn view(row: &ActionRow) -> ActionView {
    ActionView {
        id: row.machine_action_id,
        machine_id: row.machine_id.clone(),
        kind: ActionKind::parse(&row.kind).unwrap_or(ActionKind::RunAntiVirusScan),
        scope: row.scope.clone(),
        status: ActionStatus::parse(&row.status).unwrap_or(ActionStatus::Pending),
        requested_by: row.requested_by.clone(),
        external: row.external,
        comment: row.comment.clone(),
        requested_at: row.requested_at.clone(),
        updated_at: row.updated_at.clone(),
        completed_at: row.completed_at.clone(),
        error: row.error.clone(),
        defender_action_id: row.defender_action_id.clone(),
    }
}

/// The whole panel for one viewer.
pub async fn endpoint_actions(
    stores: &Stores,
    target: &ActionTarget,
    integration_enabled: bool,
    can_act: bool,
) -> Result<EndpointActions, DbError> {
    // The isolation state and the history come from one snapshot, so they agree.
    let mut snapshot = match &target.machine_id {
        Some(machine_id) => {
            stores
                .actions
                .snapshot(machine_id, Some(target.endpoint_id))
                .await?
        }
        None => ActionSnapshot {
            history: stores
                .actions
                .for_endpoint(target.endpoint_id, HISTORY_LIMIT)
                .await?,
            ..ActionSnapshot::default()
        },
    };
    let history = std::mem::take(&mut snapshot.history)
        .iter()
        .map(view)
        .collect();
    let panel = panel_of(snapshot, target, integration_enabled);
    let targets = stores
        .action_targets
        .candidates(target.endpoint_id)
        .await?
        .into_iter()
        .filter_map(|t| {
            Some(TargetMachine {
                os: match (&t.os_platform, &t.version) {
                    (Some(p), Some(v)) => Some(format!("{p} {v}")),
                    (Some(p), None) => Some(p.clone()),
                    _ => None,
                },
                machine_id: t.machine_id?,
                computer_dns_name: t.computer_dns_name,
                last_seen: t.last_seen,
                health_status: t.health_status,
                onboarding_status: t.onboarding_status,
            })
        })
        .collect();
    Ok(EndpointActions {
        endpoint_id: target.endpoint_id,
        machine_id: target.machine_id.clone(),
        targets,
        confirmation_name: confirmation_name(target),
        isolation: panel.isolation,
        available: panel.available,
        warning: panel.warning,
        can_act,
        request_key: uuid::Uuid::new_v4().to_string(),
        history,
    })
}

/// The name typed to confirm: the device name Defender knows, else ours, else the machine id.
pub fn confirmation_name(target: &ActionTarget) -> Option<String> {
    let machine_id = target.machine_id.as_ref()?;
    [&target.computer_dns_name, &target.hostname]
        .into_iter()
        .flatten()
        .find(|n| !n.trim().is_empty())
        .cloned()
        .or_else(|| Some(machine_id.clone()))
}
