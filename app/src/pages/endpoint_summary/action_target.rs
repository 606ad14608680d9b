//! Which Defender machine the actions of the Endpoint Summary go to: its id, name, last
//! report and health, and, when the endpoint holds several live machines, links to choose
//! another (links, so the choice works before hydration). Stale duplicates are never listed.

use leptos::prelude::*;

use crate::components::or_dash::or_dash;
use crate::components::time::Time;
use crate::model::action::EndpointActions;

#[component]
pub fn ActionTarget(panel: EndpointActions) -> impl IntoView {
    let Some(target) = panel.target().cloned() else {
        return ().into_any();
    };
    let others: Vec<_> = panel
        .targets
        .iter()
        .filter(|t| t.machine_id != target.machine_id)
        .cloned()
        .collect();
    let base = format!("/endpoints/{}", panel.endpoint_id);
    view! {
        <div class="action-target" data-testid="action-target">
            <p>"Actions go to this Microsoft Defender machine:"</p>
            <dl class="facts">
                <dt>"Machine id"</dt><dd class="mono" data-testid="target-machine-id">{target.machine_id.clone()}</dd>
                <dt>"Name"</dt><dd><bdi>{or_dash(target.computer_dns_name.clone())}</bdi></dd>
                <dt>"Last seen"</dt><dd><Time at=target.last_seen.clone()/></dd>
                <dt>"Health"</dt><dd>{or_dash(target.health_status.clone())}</dd>
                <dt>"Onboarding"</dt><dd>{or_dash(target.onboarding_status.clone())}</dd>
                <dt>"OS"</dt><dd>{or_dash(target.os.clone())}</dd>
            </dl>
            {(!others.is_empty()).then(|| view! {
                <p class="banner banner-warn" role="note">
                    "This endpoint holds several live Defender machines. Choose the one to act on:"
                </p>
                <ul class="target-choices">
                    {others.into_iter().map(|t| {
                        let href = format!("{base}?machine={}", t.machine_id);
                        view! {
                            <li>
                                <a href=href data-testid="choose-target">{t.machine_id.clone()}</a>
                                " — "<bdi>{or_dash(t.computer_dns_name)}</bdi>
                                ", last seen "<Time at=t.last_seen/>", health "{or_dash(t.health_status)}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
    .into_any()
}
