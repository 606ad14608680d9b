//! The Defender actions of the Endpoint Summary: Run Scan, Isolate Machine and Unisolate
//! Machine with their confirmations, the isolation state, and the action history that keeps
//! refreshing while an action is open.
//!
//! Each action is a `<details>` with a plain form, so it opens and posts without JavaScript;
//! the form carries a one-time key from the server, so a double click or a resent form never
//! sends a second action.

use std::time::Duration;

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::actions::{CancelAction, SubmitAction};
use crate::components::data_table::{DataTable, Heading};
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::interval::use_interval;
use crate::components::time::Time;
use crate::error::ConsoleError;
use crate::model::action::{ActionKind, ActionView, EndpointActions, IsolationState};

use super::action_target::ActionTarget;

/// How often the page re-reads the panel while an action is open. It reads our server only;
/// the server asks Defender at its own pace.
const REFRESH: Duration = Duration::from_millis(1500);

#[component]
pub fn ActionsPanel(actions: Resource<Result<EndpointActions, ConsoleError>>) -> impl IntoView {
    let submit = ServerAction::<SubmitAction>::new();
    let cancel = ServerAction::<CancelAction>::new();
    // Which action's form is open, so "Run again" can open it.
    let open_form = RwSignal::new(None::<ActionKind>);

    // A finished submission changes the history and needs a fresh form key.
    Effect::new(move |previous: Option<usize>| {
        let version = submit.version().get() + cancel.version().get();
        if previous.is_some_and(|p| p != version) {
            open_form.set(None);
            actions.refetch();
        }
        version
    });
    // Keep refreshing while something is open.
    use_interval(
        REFRESH,
        move || {
            actions
                .get()
                .and_then(Result::ok)
                .is_some_and(|a| a.has_open())
        },
        move || actions.refetch(),
    );

    view! {
        <section class="panel actions-panel" aria-label="Microsoft Defender actions">
            <h2>"Microsoft Defender actions"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match actions.await {
                        Ok(panel) => view! { <PanelBody panel submit cancel open_form/> }.into_any(),
                        Err(error) => view! { <ErrorBanner error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PanelBody(
    panel: EndpointActions,
    submit: ServerAction<SubmitAction>,
    cancel: ServerAction<CancelAction>,
    open_form: RwSignal<Option<ActionKind>>,
) -> impl IntoView {
    if panel.machine_id.is_none() {
        return view! {
            <p class="empty-state">
                "This endpoint is not linked to a Microsoft Defender machine, so there are no \
                 Defender actions for it."
            </p>
        }
        .into_any();
    }
    let state_class = match panel.isolation {
        IsolationState::Isolated => "isolation-state isolated",
        IsolationState::NotIsolated => "isolation-state",
        _ => "isolation-state pending",
    };
    let outcome = move || {
        submit.value().get().map(|result| match result {
            Ok(outcome) => view! {
                <p class=if outcome.existing { "banner banner-info" } else { "banner banner-ok" }
                    role="status" data-testid="action-outcome">{outcome.message}</p>
            }
            .into_any(),
            Err(ConsoleError::InvalidForm { .. }) => ().into_any(),
            Err(error) => view! { <ErrorBanner error/> }.into_any(),
        })
    };
    let cancelled = move || {
        cancel.value().get().map(|result| match result {
            Ok(outcome) => view! {
                <p class="banner banner-ok" role="status">{outcome.message}</p>
            }
            .into_any(),
            Err(error) => view! { <ErrorBanner error/> }.into_any(),
        })
    };
    let forms = ActionKind::ALL
        .into_iter()
        .map(|kind| {
            let panel = panel.clone();
            view! { <ActionControl panel kind submit open_form/> }
        })
        .collect_view();
    let history = panel.history.clone();
    let can_act = panel.can_act;
    let target = panel.clone();
    view! {
        <ActionTarget panel=target/>
        <p>
            "Isolation: "
            <span class=state_class data-testid="isolation-state">{panel.isolation.label()}</span>
        </p>
        {panel.warning.clone().map(|w| view! { <p class="banner banner-warn" role="note">{w}</p> })}
        {(!can_act).then(|| view! {
            <p class="banner banner-info" role="note">
                "Your role can see the action history but not send actions."
            </p>
        })}
        {can_act.then(|| view! { <div class="action-controls">{forms}</div> })}
        {outcome}
        {cancelled}
        <ActionHistory history can_act open_form cancel/>
    }
    .into_any()
}

/// One action: a disabled button with its reason, or the button that opens its form.
#[component]
fn ActionControl(
    panel: EndpointActions,
    kind: ActionKind,
    submit: ServerAction<SubmitAction>,
    open_form: RwSignal<Option<ActionKind>>,
) -> impl IntoView {
    let Some(availability) = panel.availability(kind).cloned() else {
        return ().into_any();
    };
    let testid = format!("action-{}", kind.as_str());
    if let Some(reason) = availability.disabled_reason {
        return view! {
            <div class="action-control" data-testid=testid>
                <button type="button" class="button-secondary" disabled=true>{kind.label()}</button>
                <span class="hint" data-testid="disabled-reason">{reason}</span>
            </div>
        }
        .into_any();
    }
    let confirm_name = panel.confirmation_name.clone().unwrap_or_default();
    let typed = RwSignal::new(String::new());
    // The button waits for the typed name only once the page runs: without JavaScript nothing
    // would ever enable it, so the server's own check of the name is the one that holds there.
    // Effects run in the browser alone, after hydration (whose first render matches the server's).
    let running = RwSignal::new(false);
    Effect::new(move |_| running.set(true));
    let confirmed = {
        let name = confirm_name.clone();
        move || {
            !kind.needs_confirmation()
                || !running.get()
                || typed.get().trim().eq_ignore_ascii_case(&name)
        }
    };
    let field_error = move |name: &'static str| {
        move || {
            submit
                .value()
                .with(|v| match v {
                    Some(Err(e)) => e.message_for(name),
                    _ => None,
                })
                .map(|m| view! { <span class="field-error" role="alert">{m}</span> })
        }
    };
    let id = move |field: &str| format!("{}-{field}", kind.as_str().to_lowercase());
    let scopes = availability.scopes.clone();
    view! {
        <details class="action-control" data-testid=testid
            open=move || open_form.get() == Some(kind)>
            <summary class="button-secondary">{kind.label()}</summary>
            <ActionForm action=submit attr:class="action-form">
                <input type="hidden" name="endpoint_id" value=panel.endpoint_id.to_string()/>
                <input type="hidden" name="machine_id" value=panel.machine_id.clone().unwrap_or_default()/>
                <input type="hidden" name="kind" value=kind.as_str()/>
                <input type="hidden" name="request_key" value=panel.request_key.clone()/>
                {match kind {
                    ActionKind::Isolate => Some(view! {
                        <p class="banner banner-warn" role="note">
                            "Isolation cuts the device off the network (only the Defender service \
                             stays reachable; Selective also keeps Outlook and Teams) until it is \
                             released."
                        </p>
                    }),
                    _ => None,
                }}
                {(!scopes.is_empty()).then(|| {
                    let label = if kind == ActionKind::RunAntiVirusScan { "Scan type" } else { "Isolation type" };
                    view! {
                        <label for=id("scope")>{label}</label>
                        <select id=id("scope") name="scope">
                            {scopes.iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                        </select>
                        {field_error("scope")}
                    }
                })}
                <label for=id("comment")>"Comment (recorded in Microsoft Defender)"</label>
                <textarea id=id("comment") name="comment" rows="2" maxlength="1000" required=true></textarea>
                {field_error("comment")}
                {kind.needs_confirmation().then(|| view! {
                    <label for=id("confirm")>
                        "Type the device name "<strong>{confirm_name.clone()}</strong>" to confirm"
                    </label>
                    <input id=id("confirm") name="confirm" type="text" autocomplete="off"
                        bind:value=typed/>
                    {field_error("confirm")}
                })}
                <div class="form-actions">
                    <button type="submit"
                        class=if kind == ActionKind::RunAntiVirusScan { "button-primary" } else { "button-danger" }
                        disabled=move || submit.pending().get() || !confirmed()>
                        {move || if submit.pending().get() { "Sending…".to_owned() } else { format!("Send: {}", kind.label()) }}
                    </button>
                </div>
            </ActionForm>
        </details>
    }
    .into_any()
}

#[component]
fn ActionHistory(
    history: Vec<ActionView>,
    can_act: bool,
    open_form: RwSignal<Option<ActionKind>>,
    cancel: ServerAction<CancelAction>,
) -> impl IntoView {
    if history.is_empty() {
        return view! { <p class="empty-state">"No actions have been sent to this device."</p> }
            .into_any();
    }
    view! {
        <h3>"Action history"</h3>
        <DataTable compact=true testid="action-history" headings={vec![Heading::Text("Action"), Heading::Text("Defender machine"), Heading::Text("Status"), Heading::Text("Requested by"), Heading::Text("Comment"), Heading::Text("Requested"), Heading::Text("Last update"), Heading::Hidden("Actions")]}
            rows={history.into_iter().map(|a| {
                    let kind = a.kind;
                    let what = match &a.scope {
                        Some(scope) => format!("{} ({scope})", kind.label()),
                        None => kind.label().to_owned(),
                    };
                    let who = if a.external {
                        format!("{} (outside this console)", a.requested_by)
                    } else {
                        a.requested_by.clone()
                    };
                    let retry = (can_act && a.status.can_retry()).then(|| view! {
                        <button type="button" class="button-link"
                            on:click=move |_| open_form.set(Some(kind))>"Run again"</button>
                    });
                    let cancellable = can_act && a.status.is_open() && a.defender_action_id.is_some();
                    let cancel_form = cancellable.then(|| view! {
                        <details class="cancel-action">
                            <summary class="button-link">"Cancel"</summary>
                            <ActionForm action=cancel attr:class="action-form">
                                <input type="hidden" name="action_id" value=a.id.to_string()/>
                                <label for=format!("cancel-comment-{}", a.id)>"Reason"</label>
                                <input id=format!("cancel-comment-{}", a.id) name="comment" type="text" required=true/>
                                <button type="submit" class="button-secondary"
                                    disabled=move || cancel.pending().get()>"Send cancellation"</button>
                            </ActionForm>
                        </details>
                    });
                    view! {
                        <tr data-kind=kind.as_str()>
                            <td title=a.defender_action_id.clone().unwrap_or_default()>{what}</td>
                            <td class="mono" data-testid="action-machine">{a.machine_id.clone()}</td>
                            <td>
                                <span class=a.status.css_class() data-testid="action-status">{a.status.label()}</span>
                                {a.error.clone().map(|e| view! { <div class="hint">{e}</div> })}
                            </td>
                            <td>{who}</td>
                            <td>{a.comment.clone()}</td>
                            <td><Time at=a.requested_at.clone()/></td>
                            <td><Time at=a.completed_at.clone().unwrap_or_else(|| a.updated_at.clone())/></td>
                            <td>{retry}{cancel_form}</td>
                        </tr>
                    }
                }).collect::<Vec<_>>()}/>
    }
    .into_any()
}
