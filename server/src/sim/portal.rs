//! Machine actions taken outside the API (defender-api.md §6, §9.23): in the Defender portal,
//! by other tools or by automated investigation. They go into the same store as API actions,
//! under the same platform and one-open-action-per-type rules, so they show in
//! `GET /api/machineactions`, drive the isolation state and can be cancelled or followed by
//! an API action; they carry `"requestSource": "Portal"`.
//!
//! Reached through `POST /_sim/actions` (JSON body = [`PortalAction`], snake_case names) and
//! `SimControl::create_portal_action`.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actions::{self, ActionType, Request, Source, Submission, Submitted};
use super::clock::{self, Nanos, SEC};
use super::faults::ForcedOutcome;
use super::state::{lock, Sim};
use super::wire::ApiError;

/// The requestor of portal actions when none is given: an analyst's UPN, as the portal
/// records (§5.5).
pub const DEFAULT_REQUESTOR: &str = "secops@contoso.test";
pub const DEFAULT_COMMENT: &str = "Action taken in the Microsoft Defender portal";

/// An action as an analyst takes it in the portal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalAction {
    /// The MDE machine id (the computer name is accepted too, as by the API, §4.2).
    pub machine_id: String,
    #[serde(rename = "type")]
    pub action_type: ActionType,
    /// `Full` (default), `Selective` or `UnManagedDevice` for Isolate; `Quick` (default) or
    /// `Full` for RunAntiVirusScan; none for Unisolate.
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default = "default_requestor")]
    pub requestor: String,
    #[serde(default = "default_comment")]
    pub comment: String,
    /// The action was created this long ago, so it may already have finished.
    #[serde(default)]
    pub created_secs_ago: u64,
    /// The device does not pick the action up: it stays Pending until creation + this many
    /// seconds, then times out. `None` = the normal lifecycle.
    #[serde(default)]
    pub pending_for_secs: Option<u64>,
}

fn default_requestor() -> String {
    DEFAULT_REQUESTOR.to_owned()
}

fn default_comment() -> String {
    DEFAULT_COMMENT.to_owned()
}

impl PortalAction {
    /// Created now by [`DEFAULT_REQUESTOR`], default scope, normal lifecycle.
    pub fn new(machine_id: &str, action_type: ActionType) -> Self {
        Self {
            machine_id: machine_id.to_owned(),
            action_type,
            scope: None,
            requestor: default_requestor(),
            comment: default_comment(),
            created_secs_ago: 0,
            pending_for_secs: None,
        }
    }

    pub fn scope(mut self, scope: &str) -> Self {
        self.scope = Some(scope.to_owned());
        self
    }

    pub fn requestor(mut self, upn: &str) -> Self {
        self.requestor = upn.to_owned();
        self
    }

    pub fn comment(mut self, comment: &str) -> Self {
        self.comment = comment.to_owned();
        self
    }

    pub fn created_secs_ago(mut self, secs: u64) -> Self {
        self.created_secs_ago = secs;
        self
    }

    pub fn pending_for_secs(mut self, secs: u64) -> Self {
        self.pending_for_secs = Some(secs);
        self
    }
}

/// Why the simulator refused a portal action: the status and error code the API would have
/// answered (§3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionRefused {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl From<ApiError> for ActionRefused {
    fn from(e: ApiError) -> Self {
        Self {
            status: e.status.as_u16(),
            code: e.code,
            message: e.message,
        }
    }
}

/// The scope values the API accepts for each type (§4.6, §4.8), with the portal's defaults.
fn scope(p: &PortalAction) -> Result<Option<String>, ApiError> {
    let (allowed, default): (&[&str], Option<&str>) = match p.action_type {
        ActionType::Isolate => (&["Full", "Selective", "UnManagedDevice"], Some("Full")),
        ActionType::Unisolate => (&[], None),
        ActionType::RunAntiVirusScan => (&["Quick", "Full"], Some("Quick")),
    };
    match p.scope.as_deref() {
        None => Ok(default.map(str::to_owned)),
        Some(s) if allowed.contains(&s) => Ok(Some(s.to_owned())),
        Some(s) => Err(ApiError::bad(
            "InvalidInput",
            format!("Scope '{s}' is not valid for {}", p.action_type.name()),
        )),
    }
}

/// Records a portal action and returns the MachineAction as the API serves it.
pub fn create(sim: &Sim, p: PortalAction) -> Result<Value, ApiError> {
    let d = &sim.data;
    let i = d
        .lookup(&p.machine_id)
        .ok_or_else(|| ApiError::not_found(format!("Machine {} was not found", p.machine_id)))?;
    let m = &d.machines[i];
    if p.comment.trim().is_empty() {
        return Err(ApiError::bad(
            "MissingRequiredParameter",
            "Comment is required",
        ));
    }
    let req = Request {
        kind: p.action_type,
        comment: p.comment.clone(),
        scope: scope(&p)?,
        external_id: None,
    };
    actions::check_platform(&req, m).map_err(|(c, msg)| ApiError::bad(c, msg))?;
    let now = clock::now();
    let created = now - Nanos::from(p.created_secs_ago) * SEC;
    let submission = Submission {
        req,
        machine: m,
        index: i as u32,
        name: d.name(i),
        requestor: &p.requestor,
        // API faults are for API actions; a portal action follows its own arguments.
        outcome: ForcedOutcome::Succeeded,
        source: Source::Portal,
        created,
        pending_until: p.pending_for_secs.map(|s| created + Nanos::from(s) * SEC),
    };
    let t = &sim.config.action_timings;
    let mut store = lock(&sim.actions);
    let (Submitted::Created(k) | Submitted::Existing(k)) = store
        .submit(submission, false, now, t)
        .map_err(|(c, msg)| ApiError::bad(c, msg))?;
    tracing::info!(
        machine = %m.id_hex(),
        kind = p.action_type.name(),
        requestor = %p.requestor,
        "portal machine action recorded"
    );
    Ok(store.actions[k].json(now, t))
}

/// The HTTP answer of `POST /_sim/actions`: 201 + MachineAction, or the API's error.
pub fn answer(sim: &Sim, body: &[u8]) -> axum::response::Response {
    let parsed = serde_json::from_slice::<PortalAction>(body)
        .map_err(|e| ApiError::bad("InvalidRequestBody", e.to_string()));
    match parsed.and_then(|p| create(sim, p)) {
        Ok(v) => super::wire::json_response(StatusCode::CREATED, v.to_string()),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_and_defaults() {
        let p: PortalAction =
            serde_json::from_str(r#"{"machine_id":"m","type":"RunAntiVirusScan"}"#).unwrap();
        assert_eq!(p, PortalAction::new("m", ActionType::RunAntiVirusScan));
        assert_eq!(scope(&p).unwrap().as_deref(), Some("Quick"));
        let p: PortalAction = serde_json::from_str(
            r#"{"machine_id":"m","type":"Isolate","scope":"Selective","requestor":"a@b.test",
                "comment":"c","created_secs_ago":60,"pending_for_secs":600}"#,
        )
        .unwrap();
        let built = PortalAction::new("m", ActionType::Isolate)
            .scope("Selective")
            .requestor("a@b.test")
            .comment("c")
            .created_secs_ago(60)
            .pending_for_secs(600);
        assert_eq!(p, built);
        assert!(
            serde_json::from_str::<PortalAction>(r#"{"machine_id":"m","type":"Offboard"}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<PortalAction>(
            r#"{"machine_id":"m","type":"Isolate","Comment":"x"}"#
        )
        .is_err());
        let bad = PortalAction::new("m", ActionType::Unisolate).scope("Full");
        assert_eq!(scope(&bad).unwrap_err().code, "InvalidInput");
        let iso = PortalAction::new("m", ActionType::Isolate);
        assert_eq!(scope(&iso).unwrap().as_deref(), Some("Full"));
    }
}
