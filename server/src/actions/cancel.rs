//! Cancelling an open action: Defender accepts it only while the action is not terminal, and
//! any machine-action role may cancel (defender-api.md §4.9).

use app::model::action::{ActionOutcome, ActionStatus, MAX_COMMENT_CHARS};

use super::panel::view;
use super::remote;
use super::service::{ActionError, ActionService};
use crate::db;
use crate::db::machine_action::Polled;
use crate::defender::model::MachineActionStatus;
use crate::defender::DefenderError;

impl ActionService {
    pub async fn cancel(
        &self,
        actor: &str,
        action_id: i64,
        comment: &str,
    ) -> Result<ActionOutcome, ActionError> {
        let stores = &self.inner.db;
        let comment = comment.trim();
        if comment.is_empty() || comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(ActionError::Invalid(vec![(
                "comment".into(),
                "Say why the action is cancelled (Defender records it).".into(),
            )]));
        }
        let row = stores
            .actions
            .get(action_id)
            .await?
            .ok_or(ActionError::NotFound)?;
        let open = ActionStatus::parse(&row.status).is_some_and(ActionStatus::is_open);
        let Some(defender_id) = row.defender_action_id.as_deref().filter(|_| open) else {
            return Err(ActionError::Refused(format!(
                "Only an action Microsoft Defender has accepted and not finished can be \
                 cancelled; this one is {}.",
                row.status
            )));
        };
        let client = self.inner.client().await.map_err(ActionError::Refused)?;
        let action = match client.cancel_machine_action(defender_id, comment).await {
            Ok(action) => action,
            // The cancellation may have arrived: it is not sent again; what Defender holds
            // now says whether it did (§9.22).
            Err(e @ DefenderError::Unconfirmed { .. }) => {
                tracing::warn!(error = %e, action_id, "cancellation unconfirmed");
                let now = client.machine_action(defender_id).await.map_err(|read| {
                    ActionError::Refused(format!(
                        "{e}. It was not sent again, and the action could not be read back \
                         ({read}); its status will show here once Defender answers."
                    ))
                })?;
                if now.status != Some(MachineActionStatus::Cancelled) {
                    return Err(ActionError::Refused(format!(
                        "{e}. It was not sent again: Defender shows the action as {}, so the \
                         cancellation did not take effect. Try again if it is still needed.",
                        remote::status_of(&now).unwrap_or("in an unknown state")
                    )));
                }
                now
            }
            Err(e) => {
                return Err(ActionError::Refused(format!(
                    "Microsoft Defender refused: {e}"
                )))
            }
        };
        let status = remote::status_of(&action).unwrap_or("Cancelled");
        let updated = remote::updated_at(&action);
        let terminal = action.is_terminal();
        let now = db::now();
        let next = db::format_time_precise(
            time::OffsetDateTime::now_utc() + self.inner.timing.poll_interval,
        );
        stores
            .actions
            .record_poll(
                action_id,
                &Polled {
                    status,
                    updated_at: &updated,
                    completed_at: terminal.then_some(updated.as_str()),
                    polled_at: &now,
                    next_poll_at: (!terminal).then_some(next.as_str()),
                    note: None,
                },
            )
            .await?;
        stores
            .audit
            .record(
                actor,
                "action.cancel",
                &format!(
                    "{} on Defender machine {} requested by {}: {comment}",
                    row.kind, row.machine_id, row.requested_by
                ),
            )
            .await?;
        let row = stores
            .actions
            .get(action_id)
            .await?
            .ok_or(ActionError::NotFound)?;
        Ok(ActionOutcome {
            action: view(&row),
            existing: false,
            message: format!("Cancellation sent to Microsoft Defender; status {status}."),
        })
    }
}
