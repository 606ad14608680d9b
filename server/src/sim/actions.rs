//! Machine actions (defender-api.md §4.6–4.9, §5.5, §6, §7): strict request bodies, OS and
//! onboarding rules, duplicate rejection, and a lifecycle evaluated lazily from timestamps.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::catalog::Family;
use super::clock::{iso7, Nanos};
use super::config::ActionTimings;
use super::faults::ForcedOutcome;
use super::machines::{Machine, INACTIVE};
use super::odata::Val;

/// §4.4 `$filter` fields.
pub const FILTER_FIELDS: &[&str] = &[
    "id",
    "status",
    "machineId",
    "type",
    "requestor",
    "creationDateTimeUtc",
];

/// The action types the simulator carries out (§5.5 `type`), spelt as served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionType {
    Isolate,
    Unisolate,
    RunAntiVirusScan,
}

impl ActionType {
    pub fn name(self) -> &'static str {
        match self {
            ActionType::Isolate => "Isolate",
            ActionType::Unisolate => "Unisolate",
            ActionType::RunAntiVirusScan => "RunAntiVirusScan",
        }
    }
}

/// Who asked for an action (`requestSource`, §5.5; the portal's value is unconfirmed, §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    PublicApi,
    /// The Defender portal, another tool or automated investigation (§9.23).
    Portal,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::PublicApi => "PublicApi",
            Source::Portal => "Portal",
        }
    }
}

/// §5.5 status values; the last four are terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    InProgress,
    Succeeded,
    Failed,
    TimeOut,
    Cancelled,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "Pending",
            Status::InProgress => "InProgress",
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::TimeOut => "TimeOut",
            Status::Cancelled => "Cancelled",
        }
    }

    pub fn terminal(self) -> bool {
        !matches!(self, Status::Pending | Status::InProgress)
    }
}

/// A rejected request: (error code of §3.5, message). Always HTTP 400.
pub type Rejection = (&'static str, String);

/// A validated request body.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub kind: ActionType,
    pub comment: String,
    /// `Full`/`Selective`/`UnManagedDevice` for isolation, `Quick`/`Full` for scans.
    pub scope: Option<String>,
    pub external_id: Option<String>,
}

/// Parses a body strictly: names are case-sensitive PascalCase (§3.5, §9.8).
pub fn parse_body(kind: ActionType, body: &[u8]) -> Result<Request, Rejection> {
    let bad = |m: &str| ("InvalidRequestBody", m.to_owned());
    let obj: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(o)) => o,
        _ => return Err(bad("Request body is not a valid JSON object")),
    };
    let known: &[&str] = match kind {
        ActionType::Isolate => &["Comment", "IsolationType", "ExternalId"],
        ActionType::Unisolate => &["Comment", "ExternalId"],
        ActionType::RunAntiVirusScan => &["Comment", "ScanType", "ExternalId"],
    };
    for key in obj.keys() {
        if let Some(k) = known
            .iter()
            .find(|k| k.eq_ignore_ascii_case(key) && **k != key)
        {
            return Err(bad(&format!(
                "Invalid property '{key}'; did you mean '{k}'?"
            )));
        }
    }
    let comment = match obj.get("Comment") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(("MissingRequiredParameter", "Comment is required".into()))
        }
        Some(_) => return Err(("InvalidInput", "Comment must be a string".into())),
    };
    let text = |k: &str| {
        obj.get(k)
            .map(|v| v.as_str().map(str::to_owned).ok_or(k.to_owned()))
    };
    let external_id = match text("ExternalId") {
        Some(Err(_)) => return Err(("InvalidInput", "ExternalId must be a string".into())),
        other => other.and_then(Result::ok),
    };
    let scope = match kind {
        ActionType::Isolate => match text("IsolationType") {
            // Default when omitted is Full (§4.6, unconfirmed).
            None => Some("Full".to_owned()),
            Some(Ok(t)) if ["Full", "Selective", "UnManagedDevice"].contains(&t.as_str()) => {
                Some(t)
            }
            Some(_) => {
                return Err((
                    "InvalidInput",
                    "IsolationType must be Full, Selective or UnManagedDevice".into(),
                ))
            }
        },
        ActionType::Unisolate => None,
        ActionType::RunAntiVirusScan => match text("ScanType") {
            None => return Err(("MissingRequiredParameter", "ScanType is required".into())),
            Some(Ok(t)) if t == "Quick" || t == "Full" => Some(t),
            Some(_) => return Err(("InvalidInput", "ScanType must be Quick or Full".into())),
        },
    };
    Ok(Request {
        kind,
        comment,
        scope,
        external_id,
    })
}

/// Platform and onboarding rules (§7). Codes for non-onboarded devices are unconfirmed
/// (§12); the simulator answers 400 OsPlatformNotSupported.
pub fn check_platform(req: &Request, m: &Machine) -> Result<(), Rejection> {
    let unsupported = |what: &str| {
        Err((
            "OsPlatformNotSupported",
            format!("{what} is not supported on this machine's OS platform"),
        ))
    };
    let contain = req.scope.as_deref() == Some("UnManagedDevice");
    if !m.onboarded() {
        return if contain {
            Ok(())
        } else {
            Err((
                "OsPlatformNotSupported",
                format!(
                    "Machine is not onboarded (onboardingStatus: {})",
                    super::machines::ONBOARDING[m.onboarding as usize]
                ),
            ))
        };
    }
    if contain {
        return Err((
            "InvalidInput",
            "UnManagedDevice isolation targets devices that are not onboarded".into(),
        ));
    }
    let family = m.family();
    if family == Family::Legacy {
        return unsupported(req.kind.name());
    }
    if req.scope.as_deref() == Some("Selective") {
        let old_win10 = m
            .release()
            .is_some_and(|r| r.platform == "Windows10" && r.version == Some("1703"));
        if family == Family::Linux || old_win10 {
            return unsupported("Selective isolation");
        }
    }
    Ok(())
}

#[derive(Clone, Debug)]
pub struct Cancellation {
    pub at: Nanos,
    pub by: String,
    pub comment: String,
}

#[derive(Clone, Debug)]
pub struct Action {
    pub id: String,
    pub kind: ActionType,
    pub scope: Option<String>,
    pub machine_id: String,
    pub computer_dns_name: Option<String>,
    pub requestor: String,
    pub comment: String,
    pub external_id: Option<String>,
    pub created: Nanos,
    pub outcome: ForcedOutcome,
    /// Device Inactive: nobody picks the action up, it ends in TimeOut (§4.6, §7).
    pub unreachable: bool,
    /// Nobody picks the action up before this instant, when it times out (portal actions
    /// created with `pending_for_secs`).
    pub pending_until: Option<Nanos>,
    pub source: Source,
    pub cancel: Option<Cancellation>,
}

impl Action {
    /// Status and `lastUpdateDateTimeUtc` at `now`, from the timings (§6).
    pub fn state(&self, now: Nanos, t: &ActionTimings) -> (Status, Nanos) {
        if let Some(c) = &self.cancel {
            return (Status::Cancelled, c.at);
        }
        let pickup = t.pickup.as_nanos() as Nanos;
        let done = pickup + t.complete.as_nanos() as Nanos;
        let timeout = t.pending_timeout.as_nanos() as Nanos;
        // Never picked up: Pending (not updated since creation) until it times out (§4.6).
        let gives_up = match self.pending_until {
            Some(at) => Some(at),
            None if self.unreachable || self.outcome == ForcedOutcome::StaysPending => {
                Some(self.created + timeout)
            }
            None => None,
        };
        if let Some(at) = gives_up {
            return if now < at {
                (Status::Pending, self.created)
            } else {
                (Status::TimeOut, at)
            };
        }
        let el = now - self.created;
        if el < pickup {
            return (Status::Pending, self.created);
        }
        if el < done || self.outcome == ForcedOutcome::NeverTerminal {
            return (Status::InProgress, self.created + pickup);
        }
        let end = match self.outcome {
            ForcedOutcome::Failed => Status::Failed,
            ForcedOutcome::TimeOut => Status::TimeOut,
            _ => Status::Succeeded,
        };
        (end, self.created + done)
    }

    pub fn json(&self, now: Nanos, t: &ActionTimings) -> Value {
        let (status, updated) = self.state(now, t);
        let c = self.cancel.as_ref();
        json!({
            "id": self.id,
            "type": self.kind.name(),
            "title": format!("{} {}", self.kind.name(), self.computer_dns_name.as_deref().unwrap_or(&self.machine_id)),
            "requestor": self.requestor,
            "requestorComment": self.comment,
            "status": status.name(),
            "machineId": self.machine_id,
            "computerDnsName": self.computer_dns_name,
            "creationDateTimeUtc": iso7(self.created),
            "lastUpdateDateTimeUtc": iso7(updated),
            "cancellationRequestor": c.map(|c| &c.by),
            "cancellationComment": c.map(|c| &c.comment),
            "cancellationDateTimeUtc": c.map(|c| iso7(c.at)),
            // E_FAIL for failed actions, 0 otherwise (§5.5).
            "errorHResult": if status == Status::Failed { -2_147_467_259i64 } else { 0 },
            "scope": self.scope,
            "externalId": self.external_id,
            "requestSource": self.source.name(),
            "relatedFileInfo": Value::Null,
            "commands": [],
            "troubleshootInfo": Value::Null,
        })
    }

    pub fn field(&self, f: &str, now: Nanos, t: &ActionTimings) -> Val {
        match f {
            "id" => Val::Str(self.id.clone()),
            "status" => Val::Str(self.state(now, t).0.name().to_owned()),
            "machineId" => Val::Str(self.machine_id.clone()),
            "type" => Val::Str(self.kind.name().to_owned()),
            "requestor" => Val::Str(self.requestor.clone()),
            "creationDateTimeUtc" => Val::Date(self.created),
            _ => Val::Null,
        }
    }
}

/// Rounds down to the 100 ns the service stores and prints (7 fraction digits, §5.1), so a
/// served timestamp used as a `$filter` literal matches its own action.
fn tick(t: Nanos) -> Nanos {
    t - t.rem_euclid(100)
}

/// What a submit produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Submitted {
    Created(usize),
    /// Alternate duplicate mode (§11.24): the existing non-terminal action.
    Existing(usize),
}

/// A validated action to record.
pub struct Submission<'a> {
    pub req: Request,
    pub machine: &'a Machine,
    /// The machine's position in the dataset.
    pub index: u32,
    pub name: Option<String>,
    pub requestor: &'a str,
    pub outcome: ForcedOutcome,
    pub source: Source,
    /// Creation time: now for the API, possibly earlier for the portal.
    pub created: Nanos,
    pub pending_until: Option<Nanos>,
}

#[derive(Default)]
pub struct ActionStore {
    pub actions: Vec<Action>,
    /// `GET /api/machineactions/{id}` calls answered, so tests can bound a poller's rate.
    pub status_reads: u64,
    by_id: HashMap<String, usize>,
    by_machine: HashMap<u32, Vec<usize>>,
}

impl ActionStore {
    pub fn get(&self, id: &str) -> Option<&Action> {
        self.by_id
            .get(&id.to_ascii_lowercase())
            .map(|i| &self.actions[*i])
    }

    /// Records a validated request unless one of the same type is still open (§6).
    pub fn submit(
        &mut self,
        s: Submission<'_>,
        return_existing: bool,
        now: Nanos,
        t: &ActionTimings,
    ) -> Result<Submitted, Rejection> {
        let Submission {
            req,
            machine,
            index,
            name,
            requestor,
            outcome,
            source,
            created,
            pending_until,
        } = s;
        let created = tick(created);
        let open = self
            .by_machine
            .get(&index)
            .into_iter()
            .flatten()
            .copied()
            .find(|i| {
                let a = &self.actions[*i];
                a.kind == req.kind && !a.state(now, t).0.terminal()
            });
        if let Some(i) = open {
            return if return_existing {
                Ok(Submitted::Existing(i))
            } else {
                Err((
                    "ActiveRequestAlreadyExists",
                    "Action is already in progress".into(),
                ))
            };
        }
        let id = uuid::Uuid::new_v4().to_string();
        let action = Action {
            id: id.clone(),
            kind: req.kind,
            scope: req.scope,
            machine_id: machine.id_hex(),
            computer_dns_name: name,
            requestor: requestor.to_owned(),
            comment: req.comment,
            external_id: req.external_id,
            created,
            outcome,
            unreachable: machine.health == INACTIVE,
            pending_until,
            source,
            cancel: None,
        };
        let i = self.actions.len();
        self.actions.push(action);
        self.by_id.insert(id, i);
        self.by_machine.entry(index).or_default().push(i);
        Ok(Submitted::Created(i))
    }

    /// Cancels a non-terminal action (§4.9); `Err` when it already finished.
    pub fn cancel(
        &mut self,
        id: &str,
        by: &str,
        comment: &str,
        now: Nanos,
        t: &ActionTimings,
    ) -> Option<Result<usize, Rejection>> {
        let i = *self.by_id.get(&id.to_ascii_lowercase())?;
        let a = &mut self.actions[i];
        let status = a.state(now, t).0;
        if status.terminal() {
            return Some(Err((
                "InvalidRequest",
                format!("Action is already in a terminal state ({})", status.name()),
            )));
        }
        a.cancel = Some(Cancellation {
            at: tick(now),
            by: by.to_owned(),
            comment: comment.to_owned(),
        });
        Some(Ok(i))
    }

    /// Isolation follows the newest succeeded Isolate/Unisolate (§6).
    pub fn isolated(&self, machine: u32, now: Nanos, t: &ActionTimings) -> bool {
        self.by_machine
            .get(&machine)
            .into_iter()
            .flatten()
            .map(|i| &self.actions[*i])
            .filter(|a| a.kind != ActionType::RunAntiVirusScan)
            .filter_map(|a| match a.state(now, t) {
                (Status::Succeeded, at) => Some((at, a.kind == ActionType::Isolate)),
                _ => None,
            })
            .max_by_key(|(at, _)| *at)
            .is_some_and(|(_, iso)| iso)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generator::generate;
    use std::time::Duration;

    const T: ActionTimings = ActionTimings {
        pickup: Duration::from_secs(10),
        complete: Duration::from_secs(10),
        pending_timeout: Duration::from_secs(100),
    };
    const S: Nanos = 1_000_000_000;

    fn req(kind: ActionType, body: &str) -> Result<Request, Rejection> {
        parse_body(kind, body.as_bytes())
    }

    fn api(
        req: Request,
        machine: &Machine,
        index: u32,
        outcome: ForcedOutcome,
        created: Nanos,
    ) -> Submission<'_> {
        Submission {
            req,
            machine,
            index,
            name: None,
            requestor: "app",
            outcome,
            source: Source::PublicApi,
            created,
            pending_until: None,
        }
    }

    #[test]
    fn strict_bodies() {
        assert_eq!(
            req(ActionType::Isolate, r#"{"comment":"x"}"#)
                .unwrap_err()
                .0,
            "InvalidRequestBody"
        );
        assert_eq!(
            req(ActionType::Isolate, r#"{}"#).unwrap_err().0,
            "MissingRequiredParameter"
        );
        assert_eq!(
            req(ActionType::Isolate, "not json").unwrap_err().0,
            "InvalidRequestBody"
        );
        assert_eq!(
            req(
                ActionType::Isolate,
                r#"{"Comment":"x","IsolationType":"Half"}"#
            )
            .unwrap_err()
            .0,
            "InvalidInput"
        );
        assert_eq!(
            req(ActionType::Isolate, r#"{"Comment":"x"}"#)
                .unwrap()
                .scope
                .as_deref(),
            Some("Full")
        );
        assert_eq!(
            req(ActionType::RunAntiVirusScan, r#"{"Comment":"x"}"#)
                .unwrap_err()
                .0,
            "MissingRequiredParameter"
        );
        assert_eq!(
            req(
                ActionType::RunAntiVirusScan,
                r#"{"Comment":"x","ScanType":"Deep"}"#
            )
            .unwrap_err()
            .0,
            "InvalidInput"
        );
        assert_eq!(
            req(
                ActionType::RunAntiVirusScan,
                r#"{"Comment":"x","scanType":"Quick"}"#
            )
            .unwrap_err()
            .0,
            "InvalidRequestBody"
        );
        assert!(req(
            ActionType::Unisolate,
            r#"{"Comment":"x","ExternalId":"abc"}"#
        )
        .is_ok());
    }

    #[test]
    fn lifecycle_duplicates_cancel_and_isolation() {
        let d = generate(1, 12, "t");
        let mut store = ActionStore::default();
        let iso = || req(ActionType::Isolate, r#"{"Comment":"c"}"#).unwrap();
        let m0 = &d.machines[0];
        let sub = |s: &mut ActionStore, r, now| {
            s.submit(api(r, m0, 0, ForcedOutcome::Succeeded, now), false, now, &T)
        };
        let Submitted::Created(i) = sub(&mut store, iso(), 0).unwrap() else {
            panic!()
        };
        let a = store.actions[i].clone();
        assert_eq!(a.state(5 * S, &T), (Status::Pending, 0));
        assert_eq!(a.state(15 * S, &T), (Status::InProgress, 10 * S));
        assert_eq!(a.state(25 * S, &T), (Status::Succeeded, 20 * S));
        assert_eq!(
            sub(&mut store, iso(), 5 * S).unwrap_err().0,
            "ActiveRequestAlreadyExists"
        );
        assert!(store.isolated(0, 25 * S, &T));
        assert!(!store.isolated(0, 5 * S, &T));
        // A new isolate after the first finished is fine; cancel it.
        let Submitted::Created(j) = sub(&mut store, iso(), 30 * S).unwrap() else {
            panic!()
        };
        let id = store.actions[j].id.clone();
        assert!(store
            .cancel(&id, "app", "oops", 31 * S, &T)
            .unwrap()
            .is_ok());
        assert_eq!(store.actions[j].state(99 * S, &T).0, Status::Cancelled);
        assert!(store
            .cancel(&id, "app", "again", 32 * S, &T)
            .unwrap()
            .is_err());
        assert!(store.cancel("nope", "app", "", 0, &T).is_none());
        let un = req(ActionType::Unisolate, r#"{"Comment":"c"}"#).unwrap();
        assert!(sub(&mut store, un, 40 * S).is_ok());
        assert!(!store.isolated(0, 70 * S, &T));
    }

    #[test]
    fn inactive_and_forced_outcomes() {
        let d = generate(1, 12, "t");
        let mut store = ActionStore::default();
        let m2 = &d.machines[2]; // Inactive fixture
        let r = req(ActionType::Isolate, r#"{"Comment":"c"}"#).unwrap();
        let sub = api(r, m2, 2, ForcedOutcome::Succeeded, 0);
        let Submitted::Created(i) = store.submit(sub, false, 0, &T).unwrap() else {
            panic!()
        };
        assert_eq!(store.actions[i].state(50 * S, &T), (Status::Pending, 0));
        assert_eq!(
            store.actions[i].state(100 * S, &T),
            (Status::TimeOut, 100 * S)
        );
        let mut a = store.actions[i].clone();
        a.unreachable = false;
        a.outcome = ForcedOutcome::Failed;
        assert_eq!(a.state(30 * S, &T).0, Status::Failed);
        a.outcome = ForcedOutcome::NeverTerminal;
        assert_eq!(a.state(1_000 * S, &T).0, Status::InProgress);
        // TimeOut: picked up, then the device stops answering (§6 InProgress -> TimeOut).
        a.outcome = ForcedOutcome::TimeOut;
        assert_eq!(a.state(15 * S, &T), (Status::InProgress, 10 * S));
        assert_eq!(a.state(25 * S, &T), (Status::TimeOut, 20 * S));
        // StaysPending: on a reachable device too, never picked up until the timeout.
        a.outcome = ForcedOutcome::StaysPending;
        assert_eq!(a.state(99 * S, &T), (Status::Pending, 0));
        assert_eq!(a.state(100 * S, &T), (Status::TimeOut, 100 * S));
        assert_eq!(a.json(99 * S, &T)["lastUpdateDateTimeUtc"], iso7(0));
    }

    #[test]
    fn pending_until_overrides_the_timings_and_the_source_is_served() {
        let d = generate(1, 12, "t");
        let mut store = ActionStore::default();
        let r = req(ActionType::Isolate, r#"{"Comment":"c"}"#).unwrap();
        let mut sub = api(r, &d.machines[0], 0, ForcedOutcome::Succeeded, -50 * S);
        sub.source = Source::Portal;
        sub.pending_until = Some(1_000 * S);
        let Submitted::Created(i) = store.submit(sub, false, 0, &T).unwrap() else {
            panic!()
        };
        let a = &store.actions[i];
        assert_eq!(a.state(999 * S, &T), (Status::Pending, -50 * S));
        assert_eq!(a.state(1_000 * S, &T), (Status::TimeOut, 1_000 * S));
        let v = a.json(0, &T);
        assert_eq!(v["requestSource"], "Portal");
        assert_eq!(v["creationDateTimeUtc"], iso7(-50 * S));
        assert_eq!(v["lastUpdateDateTimeUtc"], iso7(-50 * S));
        assert!(
            !store.isolated(0, 2_000 * S, &T),
            "a timed-out isolation isolates nothing"
        );
    }

    #[test]
    fn platform_rules() {
        let d = generate(1, 12, "t");
        let sel = req(
            ActionType::Isolate,
            r#"{"Comment":"c","IsolationType":"Selective"}"#,
        )
        .unwrap();
        assert_eq!(
            check_platform(&sel, &d.machines[1]).unwrap_err().0,
            "OsPlatformNotSupported"
        );
        assert!(check_platform(&sel, &d.machines[0]).is_ok());
        let full = req(ActionType::Isolate, r#"{"Comment":"c"}"#).unwrap();
        assert!(check_platform(&full, &d.machines[3]).is_err());
        assert!(check_platform(&full, &d.machines[9]).is_err());
        let contain = req(
            ActionType::Isolate,
            r#"{"Comment":"c","IsolationType":"UnManagedDevice"}"#,
        )
        .unwrap();
        assert!(check_platform(&contain, &d.machines[3]).is_ok());
        assert!(check_platform(&contain, &d.machines[0]).is_err());
    }
}
