//! The identity section of the Summary: why each Defender machine belongs to this endpoint,
//! MACs that several live machines report, matches the rules refused, and the splits an
//! administrator pinned, with the forms to split a machine off and to undo a split. The forms
//! post without JavaScript too; with it, the Summary reloads its data after each.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::endpoints::{SplitMachine, UndoSplit};
use crate::components::data_table::{DataTable, Heading};
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::time::Time;
use crate::model::endpoint::{rule_label, IdentityView};

/// Called after a split or an undo, so the page shows where the machines are now.
#[derive(Clone, Copy)]
pub struct ReloadSummary(pub Callback<()>);

fn note_label(kind: &str) -> &'static str {
    match kind {
        "ambiguous" => "Ambiguous match, not joined",
        "also-seen" => "Another adapter of a device",
        "not-joined" => "Match not joined",
        "not-grouped" => "Record not grouped",
        _ => "Note",
    }
}

#[component]
pub fn IdentityPanel(endpoint_id: i64, identity: IdentityView) -> impl IntoView {
    let split = ServerAction::<SplitMachine>::new();
    let undo = ServerAction::<UndoSplit>::new();
    let reload = use_context::<ReloadSummary>();
    Effect::new(move |previous: Option<usize>| {
        let version = split.version().get() + undo.version().get();
        let succeeded = split.value().with(|v| matches!(v, Some(Ok(_))))
            || undo.value().with(|v| matches!(v, Some(Ok(_))));
        if previous.is_some_and(|p| p != version) && succeeded {
            if let Some(ReloadSummary(reload)) = reload {
                reload.run(());
            }
        }
        version
    });
    let outcome = move || {
        let moved = |what: &str, result: Option<Result<i64, crate::error::ConsoleError>>| {
            result.map(|r| match r {
                Ok(now_on) => view! {
                    <p class="banner banner-ok" role="status" data-testid="identity-outcome">
                        {format!("{what} The machine is now on ")}
                        <a href=format!("/endpoints/{now_on}")>{format!("endpoint {now_on}")}</a>"."
                    </p>
                }
                .into_any(),
                Err(error) => view! { <ErrorBanner error/> }.into_any(),
            })
        };
        (
            moved("Split and pinned.", split.value().get()),
            moved("Split undone.", undo.value().get()),
        )
    };
    let IdentityView {
        joins,
        conflicts,
        notes,
        splits,
        splittable,
        can_correct,
    } = identity;
    let has_anything =
        !joins.is_empty() || !conflicts.is_empty() || !notes.is_empty() || !splits.is_empty();
    view! {
        <div class="identity" data-testid="identity">
            {outcome}
            {(!has_anything).then(|| view! {
                <p class="hint">"No Microsoft Defender machine is joined to this endpoint."</p>
            })}
            {conflicts.into_iter().map(|c| view! {
                <p class="banner banner-warn" role="note" data-testid="mac-conflict">
                    {format!(
                        "MAC {} is reported by {} live Microsoft Defender machines ({}): a cloned \
                         VM or a spoofed MAC. None of them is joined by it, and each stays an \
                         endpoint of its own.",
                        c.mac, c.machines.len(), c.machines.join(", ")
                    )}
                </p>
            }).collect_view()}
            {(!joins.is_empty()).then(|| view! {
                <h3>"Why these Defender machines are this device"</h3>
                <DataTable compact=true testid="identity-joins" headings={vec![Heading::Text("Defender machine"), Heading::Text("Evidence"), Heading::Text("Detail"), Heading::Hidden("Actions")]}
                    rows={joins.into_iter().map(|j| {
                            let can_split = can_correct && splittable.contains(&j.machine_id);
                            let machine = j.machine_id.clone();
                            view! {
                                <tr data-rule=j.rule.clone()>
                                    <td class="mono">{j.machine_id.clone()}</td>
                                    <td>{rule_label(&j.rule)}</td>
                                    <td>{j.detail}</td>
                                    <td>{can_split.then(|| view! {
                                        <details class="split-machine">
                                            <summary class="button-link">"Split off"</summary>
                                            <ActionForm action=split attr:class="action-form">
                                                <input type="hidden" name="endpoint_id" value=endpoint_id.to_string()/>
                                                <input type="hidden" name="machine_id" value=machine.clone()/>
                                                <label for=format!("split-reason-{machine}")>"Why is this not the same device?"</label>
                                                <input id=format!("split-reason-{machine}") name="reason" type="text" maxlength="500"/>
                                                <button type="submit" class="button-secondary"
                                                    disabled=move || split.pending().get()>"Split and pin"</button>
                                            </ActionForm>
                                        </details>
                                    })}</td>
                                </tr>
                            }
                        }).collect::<Vec<_>>()}/>
            })}
            {(!notes.is_empty()).then(|| view! {
                <h3>"What the identity rules did not join"</h3>
                <ul class="evidence" data-testid="identity-notes">
                    {notes.into_iter().map(|n| view! {
                        <li data-kind=n.kind.clone()>
                            <strong>{note_label(&n.kind)}</strong>": "{n.detail}
                            {(!n.machines.is_empty()).then(|| view! {
                                " ("<span class="mono">{n.machines.join(", ")}</span>")"
                            })}
                        </li>
                    }).collect_view()}
                </ul>
            })}
            {(!splits.is_empty()).then(|| view! {
                <h3>"Splits pinned by an administrator"</h3>
                <ul class="evidence" data-testid="identity-splits">
                    {splits.into_iter().map(|s| {
                        let here = s.endpoint_id == endpoint_id;
                        let text = if here {
                            format!("Defender machine {} was split off this endpoint", s.machine_id)
                        } else {
                            format!("This machine, {}, was split off endpoint {}", s.machine_id, s.endpoint_id)
                        };
                        view! {
                            <li>
                                {text}{format!(" by {} ", s.created_by)}<Time at=s.created_at/>
                                {(!s.reason.is_empty()).then(|| format!(": {}", s.reason))}
                                {can_correct.then(|| view! {
                                    <ActionForm action=undo attr:class="inline-form">
                                        <input type="hidden" name="split_id" value=s.id.to_string()/>
                                        <button type="submit" class="button-link"
                                            disabled=move || undo.pending().get()>"Undo"</button>
                                    </ActionForm>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
    .into_any()
}
