//! Machine actions (Run Scan, Isolate, Unisolate) as the Endpoint Summary shows and sends them.

use serde::{Deserialize, Serialize};

/// The three actions this console sends to Defender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionKind {
    Isolate,
    Unisolate,
    RunAntiVirusScan,
}

impl ActionKind {
    pub const ALL: [ActionKind; 3] = [Self::Isolate, Self::Unisolate, Self::RunAntiVirusScan];

    /// Defender's `type` name, also the form value and the stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Isolate => "Isolate",
            Self::Unisolate => "Unisolate",
            Self::RunAntiVirusScan => "RunAntiVirusScan",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// The button label, as Defender's portal words it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Isolate => "Isolate Machine",
            Self::Unisolate => "Unisolate Machine",
            Self::RunAntiVirusScan => "Run Scan",
        }
    }

    /// The scopes the form offers, first one the default.
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            Self::Isolate => &["Full", "Selective"],
            Self::Unisolate => &[],
            Self::RunAntiVirusScan => &["Quick", "Full"],
        }
    }

    /// Isolate and Unisolate change the device's network access and need the hostname typed
    /// as confirmation.
    pub fn needs_confirmation(self) -> bool {
        matches!(self, Self::Isolate | Self::Unisolate)
    }

    /// Actions that must not overlap on one device (defender-api.md §4.7: isolate and
    /// unisolate sent together completed out of order).
    pub fn group(self) -> &'static str {
        match self {
            Self::Isolate | Self::Unisolate => "isolation",
            Self::RunAntiVirusScan => "scan",
        }
    }
}

/// Where an action stands. `Submitting` and `NotSent` are ours; the rest are Defender's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionStatus {
    /// Claimed by this console, not yet confirmed by Defender.
    Submitting,
    Pending,
    InProgress,
    Succeeded,
    Failed,
    TimeOut,
    Cancelled,
    /// Defender refused the request, or it never left this console.
    NotSent,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 8] = [
        Self::Submitting,
        Self::Pending,
        Self::InProgress,
        Self::Succeeded,
        Self::Failed,
        Self::TimeOut,
        Self::Cancelled,
        Self::NotSent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitting => "Submitting",
            Self::Pending => "Pending",
            Self::InProgress => "InProgress",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::TimeOut => "TimeOut",
            Self::Cancelled => "Cancelled",
            Self::NotSent => "NotSent",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Submitting => "Submitting",
            Self::Pending => "Pending",
            Self::InProgress => "In progress",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::TimeOut => "Timed out",
            Self::Cancelled => "Cancelled",
            Self::NotSent => "Not sent",
        }
    }

    /// Still moving: the server keeps polling and the page keeps refreshing.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Submitting | Self::Pending | Self::InProgress)
    }

    /// Ended without doing what was asked: the page offers to run it again.
    pub fn can_retry(self) -> bool {
        matches!(
            self,
            Self::Failed | Self::TimeOut | Self::Cancelled | Self::NotSent
        )
    }

    pub fn css_class(self) -> &'static str {
        match self {
            Self::Submitting | Self::Pending | Self::InProgress => "action-status open",
            Self::Succeeded => "action-status ok",
            Self::Failed | Self::NotSent => "action-status bad",
            Self::TimeOut | Self::Cancelled => "action-status stale",
        }
    }
}

/// The device's isolation, derived from its isolate and unisolate actions (defender-api.md §6:
/// Defender has no isolation field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IsolationState {
    NotIsolated,
    IsolationPending,
    Isolated,
    ReleasePending,
}

impl IsolationState {
    pub fn label(self) -> &'static str {
        match self {
            Self::NotIsolated => "Not isolated",
            Self::IsolationPending => "Isolation pending",
            Self::Isolated => "Isolated",
            Self::ReleasePending => "Release pending",
        }
    }
}

/// One row of an endpoint's action history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionView {
    pub id: i64,
    /// The Defender machine the action went to.
    pub machine_id: String,
    pub kind: ActionKind,
    pub scope: Option<String>,
    pub status: ActionStatus,
    pub requested_by: String,
    /// Started outside this console (e.g. in the Defender portal).
    pub external: bool,
    pub comment: String,
    pub requested_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
    /// Why it was not sent, or the last problem asking Defender about it.
    pub error: Option<String>,
    pub defender_action_id: Option<String>,
}

/// Whether one action can be sent now, and why not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionAvailability {
    pub kind: ActionKind,
    /// `None` when the action can be sent; otherwise the reason the button is disabled.
    pub disabled_reason: Option<String>,
    /// Scopes the device supports, in the order the form offers them.
    pub scopes: Vec<String>,
}

/// A Defender machine an action can go to: a live record of the endpoint's device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetMachine {
    pub machine_id: String,
    pub computer_dns_name: Option<String>,
    pub last_seen: Option<String>,
    pub health_status: Option<String>,
    pub onboarding_status: Option<String>,
    pub os: Option<String>,
}

/// The action panel of the Endpoint Summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointActions {
    pub endpoint_id: i64,
    /// The Defender machine actions go to; `None` when the endpoint is not in Defender.
    pub machine_id: Option<String>,
    /// Every live Defender machine of the endpoint (stale duplicates are never offered);
    /// `machine_id` is one of them. With several, the operator chooses.
    pub targets: Vec<TargetMachine>,
    /// What the user types to confirm isolation (the device name Defender knows).
    pub confirmation_name: Option<String>,
    pub isolation: IsolationState,
    pub available: Vec<ActionAvailability>,
    /// A caveat for every action, e.g. an inactive device that may never pick it up.
    pub warning: Option<String>,
    /// The viewer's role may send actions (Administrators and Operators).
    pub can_act: bool,
    /// A fresh one-time key for the next form submission.
    pub request_key: String,
    /// Newest first.
    pub history: Vec<ActionView>,
}

impl EndpointActions {
    /// The machine actions go to, as the panel shows it.
    pub fn target(&self) -> Option<&TargetMachine> {
        let id = self.machine_id.as_deref()?;
        self.targets.iter().find(|t| t.machine_id == id)
    }

    /// Some action is still moving, so the page keeps polling.
    pub fn has_open(&self) -> bool {
        self.history.iter().any(|a| a.status.is_open())
    }

    pub fn availability(&self, kind: ActionKind) -> Option<&ActionAvailability> {
        self.available.iter().find(|a| a.kind == kind)
    }
}

/// What a submission did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOutcome {
    pub action: ActionView,
    /// True when nothing new was sent: the same form was already submitted, or an action of
    /// the same kind was already pending on the device (that one is shown instead).
    pub existing: bool,
    pub message: String,
}

pub const MAX_COMMENT_CHARS: usize = 1000;

/// Checks the fields every action needs; the server checks again. Returns field errors keyed
/// by form field name.
pub fn validate_request(
    kind: ActionKind,
    scope: &str,
    comment: &str,
    confirm: &str,
    confirmation_name: Option<&str>,
) -> Vec<crate::error::FieldError> {
    let mut errors = Vec::new();
    let mut add = |field: &str, message: String| {
        errors.push(crate::error::FieldError {
            field: field.into(),
            message,
        })
    };
    let comment = comment.trim();
    if comment.is_empty() {
        add(
            "comment",
            "A comment is required: Defender records it with the action.".into(),
        );
    } else if comment.chars().count() > MAX_COMMENT_CHARS {
        add(
            "comment",
            format!("Keep the comment under {MAX_COMMENT_CHARS} characters."),
        );
    }
    if !kind.scopes().is_empty() && !kind.scopes().contains(&scope) {
        add(
            "scope",
            format!("Choose one of: {}.", kind.scopes().join(", ")),
        );
    }
    if kind.needs_confirmation() {
        match confirmation_name {
            Some(name) if confirm.trim().eq_ignore_ascii_case(name) => {}
            Some(name) => add(
                "confirm",
                format!("Type the device name \u{201c}{name}\u{201d} to confirm."),
            ),
            None => add("confirm", "This device has no name to confirm with.".into()),
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in ActionKind::ALL {
            assert_eq!(ActionKind::parse(k.as_str()), Some(k));
        }
        for s in ActionStatus::ALL {
            assert_eq!(ActionStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ActionKind::parse("Offboard"), None);
    }

    #[test]
    fn open_and_retry_split_the_statuses() {
        for s in ActionStatus::ALL {
            assert!(
                !(s.is_open() && s.can_retry()),
                "{s:?} cannot be both open and over"
            );
            assert!(
                s.is_open() || s.can_retry() || s == ActionStatus::Succeeded,
                "{s:?}"
            );
        }
    }

    #[test]
    fn isolation_needs_the_name_a_scope_and_a_comment() {
        let e = validate_request(
            ActionKind::Isolate,
            "Full",
            " ",
            "eng-ws-1",
            Some("ENG-WS-1"),
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "comment");
        let e = validate_request(
            ActionKind::Isolate,
            "Half",
            "c2",
            "eng-ws-2",
            Some("eng-ws-1"),
        );
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["scope", "confirm"]);
        assert!(validate_request(
            ActionKind::Isolate,
            "Selective",
            "c2",
            " eng-ws-1 ",
            Some("eng-ws-1")
        )
        .is_empty());
        assert!(validate_request(
            ActionKind::Unisolate,
            "",
            "done",
            "eng-ws-1",
            Some("eng-ws-1")
        )
        .is_empty());
    }

    #[test]
    fn scans_need_no_confirmation_but_a_scan_type() {
        assert!(
            validate_request(ActionKind::RunAntiVirusScan, "Quick", "alert", "", None).is_empty()
        );
        let e = validate_request(ActionKind::RunAntiVirusScan, "", "alert", "", None);
        assert_eq!(e[0].field, "scope");
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        let e = validate_request(ActionKind::RunAntiVirusScan, "Full", &long, "", None);
        assert_eq!(e[0].field, "comment");
    }
}
