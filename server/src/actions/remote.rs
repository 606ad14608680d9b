//! What Defender itself holds about a machine's actions: open ones started elsewhere (the
//! portal, another tool) and the fate of a request this console could not confirm.

use app::model::action::ActionKind;

use crate::db::machine_action::{ActionRow, NewAction};
use crate::db::{self, DbError, Stores};
use crate::defender::model::machine_action::{MachineAction, MachineActionType};
use crate::defender::{DefenderClient, DefenderError};

/// Our kind for Defender's type, for the three kinds this console follows.
pub fn kind_of(action: &MachineAction) -> Option<ActionKind> {
    match action.action_type.as_ref()? {
        MachineActionType::Isolate => Some(ActionKind::Isolate),
        MachineActionType::Unisolate => Some(ActionKind::Unisolate),
        MachineActionType::RunAntiVirusScan => Some(ActionKind::RunAntiVirusScan),
        _ => None,
    }
}

/// Our status name for Defender's, or `None` for a status outside the documented set (the
/// caller keeps polling rather than guess).
pub fn status_of(action: &MachineAction) -> Option<&'static str> {
    use crate::defender::model::machine_action::MachineActionStatus as S;
    Some(match action.status.as_ref()? {
        S::Pending => "Pending",
        S::InProgress => "InProgress",
        S::Succeeded => "Succeeded",
        S::Failed => "Failed",
        S::TimeOut => "TimeOut",
        S::Cancelled => "Cancelled",
        S::Other(_) => return None,
    })
}

/// Defender's last update time, as stored.
pub fn updated_at(action: &MachineAction) -> String {
    action
        .last_update_date_time_utc
        .or(action.creation_date_time_utc)
        .map(db::format_time)
        .unwrap_or_else(db::now)
}

/// Records that Defender holds `action` for the request of row `id`: its id, status and times,
/// and how Defender names this app (so a later lost answer can be matched). Returns the status.
pub async fn record_confirmed(
    stores: &Stores,
    id: i64,
    action: &MachineAction,
    next_poll_at: &str,
) -> Result<&'static str, DbError> {
    let status = status_of(action).unwrap_or("Pending");
    let updated = updated_at(action);
    let terminal = action.is_terminal();
    stores
        .actions
        .record_sent(
            id,
            &action.id,
            status,
            &updated,
            terminal.then_some(updated.as_str()),
            (!terminal).then_some(next_poll_at),
        )
        .await?;
    stores
        .actions
        .record_requestor(id, action.requestor.as_deref())
        .await?;
    Ok(status)
}

/// Every action Defender lists for the machine (one filtered listing, paged).
pub async fn machine_actions(
    client: &DefenderClient,
    machine_id: &str,
) -> Result<Vec<MachineAction>, DefenderError> {
    let filter = format!("machineId eq '{}'", machine_id.to_ascii_lowercase());
    let mut pager = client.machine_actions(Some(&filter));
    let mut all = Vec::new();
    while let Some(page) = pager.next_page().await? {
        all.extend(page);
    }
    Ok(all)
}

/// The newest non-terminal action of the group on the machine, if Defender has one.
pub async fn open_in_group(
    client: &DefenderClient,
    machine_id: &str,
    group: &str,
) -> Result<Option<MachineAction>, DefenderError> {
    Ok(machine_actions(client, machine_id)
        .await?
        .into_iter()
        .filter(|a| !a.is_terminal() && kind_of(a).is_some_and(|k| k.group() == group))
        .max_by_key(|a| a.creation_date_time_utc))
}

/// Stores an action found in Defender (or returns the row that already tracks it), so the
/// page shows it and the poller follows it.
pub async fn record_found(
    stores: &Stores,
    endpoint_id: i64,
    action: &MachineAction,
    next_poll_at: &str,
) -> Result<Option<ActionRow>, DbError> {
    if let Some(row) = stores.actions.by_defender_id(&action.id).await? {
        return Ok(Some(row));
    }
    let (Some(kind), Some(status)) = (kind_of(action), status_of(action)) else {
        return Ok(None);
    };
    let requested_at = action
        .creation_date_time_utc
        .map(db::format_time)
        .unwrap_or_else(db::now);
    let updated = updated_at(action);
    let id = stores
        .actions
        .insert(&NewAction {
            endpoint_id,
            machine_id: action.machine_id.as_deref().unwrap_or_default(),
            kind: kind.as_str(),
            action_group: kind.group(),
            scope: action.scope.as_deref(),
            comment: action.requestor_comment.as_deref().unwrap_or_default(),
            requested_by: action.requestor.as_deref().unwrap_or("unknown requestor"),
            external: true,
            request_key: None,
            defender_action_id: Some(&action.id),
            status,
            requested_at: &requested_at,
            updated_at: &updated,
            completed_at: action.is_terminal().then_some(updated.as_str()),
            next_poll_at: (!action.is_terminal()).then_some(next_poll_at),
            defender_requestor: action.requestor.as_deref(),
            request_source: action.request_source.as_deref(),
        })
        .await?;
    stores.actions.get(id).await
}

/// How far Defender's clock may be from ours when matching a lost answer's action by its
/// creation time.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// The action Defender created for a request this console sent but could not confirm (§9.22):
/// same machine, kind and comment, submitted through the API by this app (its requestor, once
/// Defender has named it), created between the request and now (give or take the clock
/// skew), and not tracked by another row.
pub async fn find_unconfirmed(
    stores: &Stores,
    client: &DefenderClient,
    row: &ActionRow,
) -> Result<Option<MachineAction>, String> {
    let since = db::parse_time(&row.requested_at)
        .map(|t| t - CLOCK_SKEW)
        .ok_or("unreadable request time")?;
    let until = time::OffsetDateTime::now_utc() + CLOCK_SKEW;
    let own = stores
        .actions
        .own_requestor()
        .await
        .map_err(|e| e.to_string())?;
    let candidates = machine_actions(client, &row.machine_id)
        .await
        .map_err(|e| e.to_string())?;
    for action in candidates {
        let same = kind_of(&action).is_some_and(|k| k.as_str() == row.kind)
            && action.requestor_comment.as_deref() == Some(row.comment.as_str())
            && action
                .creation_date_time_utc
                .is_some_and(|c| c >= since && c <= until)
            && action
                .request_source
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case("PublicApi"))
            && own
                .as_deref()
                .is_none_or(|o| action.requestor.as_deref() == Some(o));
        // Tracked by another row: someone else's. Tracked by this row: confirmed meanwhile.
        let tracked = stores
            .actions
            .by_defender_id(&action.id)
            .await
            .map_err(|e| e.to_string())?;
        if same && tracked.is_none_or(|t| t.machine_action_id == row.machine_action_id) {
            return Ok(Some(action));
        }
    }
    Ok(None)
}
