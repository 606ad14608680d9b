//! The server-side poller: follows every open action to a terminal state. Browsers read our
//! database, never Defender, so Defender is asked about an action at most once per
//! `poll_interval` however many tabs watch it. State lives in the `machine_action` rows, so a
//! restart resumes where the last process stopped.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::remote;
use super::service::Inner;
use crate::db::machine_action::{ActionRow, Polled};
use crate::db::{self, DbError};
use crate::defender::DefenderError;
use crate::supervisor::StopSignal;

/// How long the loop sleeps when nothing is open; a submission wakes it at once.
const IDLE: Duration = Duration::from_secs(30);

pub(crate) async fn run(inner: Arc<Inner>, mut stop: StopSignal) {
    let started = OffsetDateTime::now_utc();
    loop {
        let wait = match round(&inner, started).await {
            Ok(wait) => wait,
            Err(e) => {
                tracing::error!(error = %e, "action poller could not read the actions");
                inner.timing.max_backoff
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = inner.wake.notified() => {}
            () = stop.stopped() => return,
        }
    }
}

/// Checks every due action once; returns how long until the next one is due.
async fn round(inner: &Inner, started: OffsetDateTime) -> Result<Duration, DbError> {
    let open = inner.db.actions.open().await?;
    let mut wait = IDLE;
    for row in open {
        let now = OffsetDateTime::now_utc();
        let due = due_at(inner, &row, started, now);
        if due > now {
            wait = wait.min(to_std(due - now));
            continue;
        }
        let next = if row.status == "Submitting" {
            confirm(inner, &row).await?
        } else {
            poll(inner, &row).await?
        };
        if let Some(next) = next {
            wait = wait.min(to_std(next - OffsetDateTime::now_utc()));
        }
    }
    Ok(wait.max(Duration::from_millis(20)))
}

fn to_std(d: time::Duration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

/// When the row should next be looked at. An unconfirmed request gets time to be confirmed by
/// the process that sent it, unless that process is gone (it predates this poller).
fn due_at(
    inner: &Inner,
    row: &ActionRow,
    started: OffsetDateTime,
    now: OffsetDateTime,
) -> OffsetDateTime {
    if let Some(next) = row.next_poll_at.as_deref().and_then(db::parse_time) {
        return next;
    }
    if row.status == "Submitting" {
        let requested = db::parse_time(&row.requested_at).unwrap_or(now);
        if requested < started {
            return now;
        }
        return requested + inner.timing.unconfirmed_after;
    }
    now
}

fn schedule(after: Duration) -> (OffsetDateTime, String) {
    let at = OffsetDateTime::now_utc() + after;
    (at, db::format_time_precise(at))
}

/// Backoff after `failures` failed checks: doubling from the poll interval, capped.
fn backoff(inner: &Inner, failures: i64, retry_after: Option<Duration>) -> Duration {
    let t = &inner.timing;
    let exp = u32::try_from(failures.clamp(0, 16)).unwrap_or(16);
    let doubled = t.poll_interval.saturating_mul(2u32.saturating_pow(exp));
    doubled
        .min(t.max_backoff)
        .max(retry_after.unwrap_or_default())
}

/// Records a failed check with the reason the admin sees, and when to try again.
async fn failed(
    inner: &Inner,
    row: &ActionRow,
    error: &str,
    wait: Duration,
) -> Result<Option<OffsetDateTime>, DbError> {
    let (at, text) = schedule(wait);
    inner
        .db
        .actions
        .record_poll_failure(row.machine_action_id, error, &db::now(), &text)
        .await?;
    Ok(Some(at))
}

/// Asks Defender about one action and stores what it says.
async fn poll(inner: &Inner, row: &ActionRow) -> Result<Option<OffsetDateTime>, DbError> {
    let stores = &inner.db;
    let polled_at = db::now();
    let Some(defender_id) = row.defender_action_id.as_deref() else {
        return Ok(None);
    };
    let client = match inner.client().await {
        Ok(c) => c,
        Err(message) => {
            let error = format!("Status checks are paused: {message}");
            return failed(inner, row, &error, inner.timing.max_backoff).await;
        }
    };
    let action = match client.machine_action(defender_id).await {
        Ok(a) => a,
        Err(e) => {
            let retry_after = match &e {
                DefenderError::RateLimited { retry_after } => *retry_after,
                _ => None,
            };
            let wait = backoff(inner, row.poll_failures + 1, retry_after);
            let error = match e {
                DefenderError::RateLimited { .. } => format!(
                    "Microsoft Defender is throttling status checks; next check in {} s.",
                    wait.as_secs().max(1)
                ),
                e => format!(
                    "Could not read the status from Microsoft Defender ({e}); next check in {} s.",
                    wait.as_secs().max(1)
                ),
            };
            tracing::warn!(action_id = row.machine_action_id, %error, "action status check failed");
            return failed(inner, row, &error, wait).await;
        }
    };
    let Some(status) = remote::status_of(&action) else {
        let error = format!(
            "Microsoft Defender reported a status this console does not know ({}); still \
             checking.",
            action.status.as_ref().map_or("none", |s| s.as_str())
        );
        return failed(inner, row, &error, inner.timing.poll_interval).await;
    };
    let updated = remote::updated_at(&action);
    let terminal = action.is_terminal();
    // An action stuck in one state for long (an offline device) is checked less often.
    let changed = action
        .last_update_date_time_utc
        .or(action.creation_date_time_utc);
    let stalled =
        changed.is_some_and(|u| to_std(OffsetDateTime::now_utc() - u) > inner.timing.stalled_after);
    let interval = if stalled {
        inner.timing.stalled_interval
    } else {
        inner.timing.poll_interval
    };
    let note = (stalled && !terminal).then(|| {
        format!(
            "Microsoft Defender has reported no change since {updated}; the device may be \
             offline. Checking every {} s.",
            interval.as_secs().max(1)
        )
    });
    let (at, text) = schedule(interval);
    stores
        .actions
        .record_poll(
            row.machine_action_id,
            &Polled {
                status,
                updated_at: &updated,
                completed_at: terminal.then_some(updated.as_str()),
                polled_at: &polled_at,
                next_poll_at: (!terminal).then_some(text.as_str()),
                note: note.as_deref(),
            },
        )
        .await?;
    if status != row.status {
        tracing::info!(action_id = row.machine_action_id, from = %row.status, to = status, "action status changed");
    }
    if terminal {
        stores
            .audit
            .record(
                "system",
                "action.finished",
                &format!(
                    "{} on Defender machine {} requested by {}: {status}",
                    row.kind, row.machine_id, row.requested_by
                ),
            )
            .await?;
        return Ok(None);
    }
    Ok(Some(at))
}

/// A request whose answer was lost (a timeout, or a restart between sending and storing the
/// answer): find the action in Defender, or record that it never arrived.
async fn confirm(inner: &Inner, row: &ActionRow) -> Result<Option<OffsetDateTime>, DbError> {
    let stores = &inner.db;
    let polled_at = db::now();
    let found = match inner.client().await {
        Ok(client) => remote::find_unconfirmed(stores, &client, row).await,
        Err(message) => Err(message),
    };
    match found {
        Ok(Some(action)) => {
            let terminal = action.is_terminal();
            let (at, text) = schedule(inner.timing.poll_interval);
            remote::record_confirmed(stores, row.machine_action_id, &action, &text).await?;
            tracing::info!(
                action_id = row.machine_action_id,
                "unconfirmed action found in Defender"
            );
            Ok((!terminal).then_some(at))
        }
        Ok(None) => {
            stores
                .actions
                .record_not_sent(
                    row.machine_action_id,
                    "The request was not confirmed and Microsoft Defender has no record of it: \
                 nothing was done. Send it again if it is still needed.",
                    &polled_at,
                )
                .await?;
            Ok(None)
        }
        Err(message) => {
            let wait = backoff(inner, row.poll_failures + 1, None);
            let error = format!(
                "Checking whether Microsoft Defender received the request failed ({message}); \
                 retrying in {} s.",
                wait.as_secs().max(1)
            );
            failed(inner, row, &error, wait).await
        }
    }
}
