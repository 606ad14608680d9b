//! Sending an action: the idempotency key, the preflight (availability, permission, a pending
//! action in Defender), the claim that serialises concurrent requests, and the send itself.

use app::backend::ActionRequest;
use app::model::action::{validate_request, ActionKind, ActionOutcome};

use super::panel::{self, view};
use super::remote;
use super::service::{ActionError, ActionService, Inner};
use crate::db::machine_action::{ActionRow, NewAction};
use crate::db::{self, DbError};
use crate::defender::model::machine_action::MachineAction;
use crate::defender::permissions::{feature_access, Feature};
use crate::defender::{DefenderClient, DefenderError, IsolationType, ScanType};

impl ActionService {
    /// Sends `request` for `actor`, or returns what an earlier identical submission or a
    /// pending action of the same kind already did. Never sends two actions for one form.
    pub async fn submit(
        &self,
        actor: &str,
        request: ActionRequest,
    ) -> Result<ActionOutcome, ActionError> {
        let inner = &self.inner;
        let stores = &inner.db;
        check_key(&request.request_key)?;
        if let Some(row) = stores.actions.by_request_key(&request.request_key).await? {
            return Ok(existing(
                &row,
                "This form was already submitted; showing that action.",
            ));
        }
        // The form names the machine it showed; the action goes there or nowhere.
        let named = request.machine_id.trim();
        if named.is_empty() {
            return Err(ActionError::Refused(
                "The form does not say which Microsoft Defender machine it is for; reload the \
                 page. Nothing was sent."
                    .into(),
            ));
        }
        let target = stores
            .action_targets
            .target(request.endpoint_id, Some(named))
            .await?
            .ok_or(ActionError::NotFound)?;
        let Some(machine_id) = target.machine_id.clone() else {
            return Err(ActionError::Refused(format!(
                "Microsoft Defender machine {named} is no longer a live machine of this \
                 endpoint (it was split off, went stale or Defender no longer lists it). \
                 Nothing was sent; reload the page to see where actions go now."
            )));
        };
        let enabled = crate::integrations::defender::is_enabled(&*stores.integrations).await?;
        let state = panel::panel(stores, &target, enabled).await?;
        let kind = request.kind;
        if let Some(open) = state.open_for(kind) {
            return Ok(existing(open, &pending_message(open)));
        }
        if let Some(reason) = &state.availability(kind).disabled_reason {
            return Err(ActionError::Refused(reason.clone()));
        }
        let errors = validate_request(
            kind,
            &request.scope,
            &request.comment,
            &request.confirm,
            panel::confirmation_name(&target).as_deref(),
        );
        if !errors.is_empty() {
            return Err(ActionError::Invalid(
                errors.into_iter().map(|e| (e.field, e.message)).collect(),
            ));
        }
        if !kind.scopes().is_empty() && !state.availability(kind).scopes.contains(&request.scope) {
            return Err(ActionError::Invalid(vec![(
                "scope".into(),
                format!(
                    "{} isolation is not supported on this device.",
                    request.scope
                ),
            )]));
        }

        let client = inner.client().await.map_err(ActionError::Refused)?;
        preflight_permission(&client, kind).await?;
        let next_poll = next_poll_at(inner);
        match remote::open_in_group(&client, &machine_id, kind.group()).await {
            Ok(Some(found)) => {
                if let Some(row) =
                    remote::record_found(stores, target.endpoint_id, &found, &next_poll).await?
                {
                    inner.wake.notify_one();
                    return Ok(existing(&row, &pending_message(&row)));
                }
            }
            Ok(None) => {}
            Err(e) => {
                return Err(ActionError::Refused(format!(
                    "Could not check Microsoft Defender for a pending action, so nothing was \
                     sent: {e}"
                )))
            }
        }

        let comment = request.comment.trim();
        let scope = (!kind.scopes().is_empty()).then_some(request.scope.as_str());
        let now = db::now();
        let claimed = stores
            .actions
            .insert(&NewAction {
                endpoint_id: target.endpoint_id,
                machine_id: &machine_id,
                kind: kind.as_str(),
                action_group: kind.group(),
                scope,
                comment,
                requested_by: actor,
                external: false,
                request_key: Some(&request.request_key),
                defender_action_id: None,
                status: "Submitting",
                requested_at: &now,
                updated_at: &now,
                completed_at: None,
                next_poll_at: None,
                defender_requestor: None,
                request_source: None,
            })
            .await;
        let id = match claimed {
            Ok(id) => id,
            // Another request won the race: the same form (double click) or another admin.
            Err(DbError::Conflict(_)) => {
                if let Some(row) = stores.actions.by_request_key(&request.request_key).await? {
                    return Ok(existing(
                        &row,
                        "This form was already submitted; showing that action.",
                    ));
                }
                if let Some(row) = stores
                    .actions
                    .open_in_group(&machine_id, kind.group())
                    .await?
                {
                    return Ok(existing(&row, &pending_message(&row)));
                }
                return Err(ActionError::Refused(
                    "Another action on this device was just sent; reload and try again.".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        stores
            .audit
            .record(
                actor,
                &format!("action.{}", audit_name(kind)),
                &format!(
                    "{}{} on endpoint {} (Defender machine {machine_id}): {comment}",
                    kind.label(),
                    scope.map(|s| format!(" ({s})")).unwrap_or_default(),
                    target.endpoint_id
                ),
            )
            .await?;

        let sent = send(&client, &machine_id, kind, scope, comment).await;
        let at = db::now();
        match sent {
            Ok(action) => {
                let status = remote::record_confirmed(stores, id, &action, &next_poll).await?;
                inner.wake.notify_one();
                let row = stores.actions.get(id).await?.ok_or(ActionError::NotFound)?;
                Ok(ActionOutcome {
                    action: view(&row),
                    existing: false,
                    message: format!("Sent to Microsoft Defender; status {status}."),
                })
            }
            Err(DefenderError::AlreadyPending { .. }) => {
                stores.actions.record_not_sent(id,
                    "Microsoft Defender already had an action of this kind pending on the device.",
                    &at,
                )
                .await?;
                let found = remote::open_in_group(&client, &machine_id, kind.group())
                    .await
                    .ok()
                    .flatten();
                if let Some(found) = found {
                    if let Some(row) =
                        remote::record_found(stores, target.endpoint_id, &found, &next_poll).await?
                    {
                        inner.wake.notify_one();
                        return Ok(existing(&row, &pending_message(&row)));
                    }
                }
                Err(ActionError::Refused(
                    "Microsoft Defender says an action of this kind is already pending on the \
                     device; it will appear here once it can be read."
                        .into(),
                ))
            }
            // The request may have reached Defender: it is never sent again. Look for the
            // action it may have created first; if Defender shows none yet, keep the claim and
            // let the poller look again a little later.
            Err(e @ DefenderError::Unconfirmed { .. }) => {
                tracing::warn!(error = %e, action_id = id, "action submission unconfirmed");
                let claim = stores.actions.get(id).await?.ok_or(ActionError::NotFound)?;
                let found = remote::find_unconfirmed(stores, &client, &claim).await;
                if let Ok(Some(action)) = found {
                    let status = remote::record_confirmed(stores, id, &action, &next_poll).await?;
                    inner.wake.notify_one();
                    let row = stores.actions.get(id).await?.ok_or(ActionError::NotFound)?;
                    return Ok(ActionOutcome {
                        action: view(&row),
                        existing: false,
                        message: format!(
                            "Microsoft Defender's answer was lost, but the action it created \
                             was found; status {status}. Nothing was sent twice."
                        ),
                    });
                }
                inner.wake.notify_one();
                Ok(ActionOutcome {
                    action: view(&claim),
                    existing: false,
                    message: format!(
                        "{e}. It was not sent again; the console is checking whether Defender \
                         created the action."
                    ),
                })
            }
            Err(e) => {
                let message = super::platform::refusal_message(&e);
                stores.actions.record_not_sent(id, &message, &at).await?;
                if let Some(code) = super::platform::platform_code(&e) {
                    // Remembered, so the panel says so before anyone tries again.
                    stores
                        .actions
                        .record_refusal(
                            &machine_id,
                            kind.as_str(),
                            code,
                            target.os_platform.as_deref(),
                            target.version.as_deref(),
                            &at,
                        )
                        .await?;
                }
                Err(ActionError::Refused(message))
            }
        }
    }
}

fn existing(row: &ActionRow, message: &str) -> ActionOutcome {
    ActionOutcome {
        action: view(row),
        existing: true,
        message: message.to_owned(),
    }
}

fn pending_message(row: &ActionRow) -> String {
    let who = if row.external {
        format!("{} (outside this console)", row.requested_by)
    } else {
        row.requested_by.clone()
    };
    format!(
        "{} requested by {who} is already {} on this device; showing it instead of sending \
         another.",
        ActionKind::parse(&row.kind).map_or(row.kind.clone(), |k| k.label().to_owned()),
        row.status
    )
}

fn audit_name(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Isolate => "isolate",
        ActionKind::Unisolate => "unisolate",
        ActionKind::RunAntiVirusScan => "scan",
    }
}

/// Keys come from our own form: a UUID. Anything else is refused rather than stored.
fn check_key(key: &str) -> Result<(), ActionError> {
    let ok =
        (8..=64).contains(&key.len()) && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ActionError::Invalid(vec![(
            "request_key".into(),
            "The form is out of date; reload the page and try again.".into(),
        )]))
    }
}

fn next_poll_at(inner: &Inner) -> String {
    let next = time::OffsetDateTime::now_utc() + inner.timing.poll_interval;
    db::format_time_precise(next)
}

/// The token must carry the action's role and the read role that polling needs (an action
/// role does not imply read, defender-api.md §2.4).
async fn preflight_permission(
    client: &DefenderClient,
    kind: ActionKind,
) -> Result<(), ActionError> {
    let roles = client.granted_roles().await.map_err(|e| {
        ActionError::Refused(format!(
            "Could not get a token for Microsoft Defender, so nothing was sent: {e}"
        ))
    })?;
    let needed = match kind {
        ActionKind::Isolate | ActionKind::Unisolate => Feature::IsolateRelease,
        ActionKind::RunAntiVirusScan => Feature::AntivirusScan,
    };
    let missing: Vec<String> = feature_access(&roles)
        .into_iter()
        .filter(|a| (a.feature == needed || a.feature == Feature::ActionStatus) && !a.granted)
        .map(|a| {
            let roles: Vec<&str> = a.missing_any_of.iter().map(|p| p.as_str()).collect();
            format!("{} ({})", roles.join(" or "), a.feature.label())
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ActionError::Refused(format!(
            "The app registration lacks the permission {}. Grant it on WindowsDefenderATP in \
             Microsoft Entra ID with admin consent, then try again. Nothing was sent.",
            missing.join(" and ")
        )))
    }
}

async fn send(
    client: &DefenderClient,
    machine_id: &str,
    kind: ActionKind,
    scope: Option<&str>,
    comment: &str,
) -> Result<MachineAction, DefenderError> {
    match kind {
        ActionKind::Isolate => {
            let isolation = match scope {
                Some("Selective") => IsolationType::Selective,
                _ => IsolationType::Full,
            };
            client.isolate(machine_id, comment, isolation).await
        }
        ActionKind::Unisolate => client.release_from_isolation(machine_id, comment).await,
        ActionKind::RunAntiVirusScan => {
            let scan = match scope {
                Some("Full") => ScanType::Full,
                _ => ScanType::Quick,
            };
            client.run_antivirus_scan(machine_id, comment, scan).await
        }
    }
}
