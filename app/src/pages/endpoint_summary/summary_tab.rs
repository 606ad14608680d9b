//! The Summary tab: identity, profile with match score and the profiles considered, sources
//! with the identity evidence (`identity_panel`), the Defender records, and the hardware and
//! network adapters advanced hunting reports (`network_panel`).

use leptos::prelude::*;

use super::identity_panel::IdentityPanel;
use super::network_panel::NetworkPanel;
use crate::components::data_table::{headings, DataTable};
use crate::components::or_dash::or_dash;
use crate::components::time::Time;
use crate::model::endpoint::EndpointSummary;
use crate::model::profile::match_level_label;

/// Each name in its own `<bdi>`: a name from Defender or a scan may carry a bidi override,
/// which must not reorder the names after it.
fn hostnames(names: &[String]) -> AnyView {
    if names.is_empty() {
        return "—".into_any();
    }
    names
        .iter()
        .enumerate()
        .map(|(i, name)| view! { {(i > 0).then_some(", ")}<bdi>{name.clone()}</bdi> })
        .collect_view()
        .into_any()
}

#[component]
pub fn SummaryTab(summary: EndpointSummary) -> impl IntoView {
    let r = summary.row.clone();
    let profile = match (&r.profile_name, &r.match_level) {
        (Some(p), Some(l)) => format!("{p} — match score {}", match_level_label(l)),
        (Some(p), None) => p.clone(),
        _ => "Unprofiled: no profile matched".into(),
    };
    let sources = match (r.source_network, r.source_defender) {
        (true, true) => "Network discovery and Microsoft Defender",
        (true, false) => "Network discovery",
        (false, true) => "Microsoft Defender",
        (false, false) => "None",
    };
    let overview = summary
        .defender
        .as_ref()
        .and_then(|d| d.overview_url.clone())
        .filter(|_| {
            summary
                .risk
                .assessments
                .iter()
                .any(|a| a.kind == crate::model::risk::AssessmentKind::Defender)
        });
    view! {
        <section class="panel" aria-label="Identity">
            <h2>"Identity"</h2>
            <dl class="facts">
                <dt>"MAC"</dt><dd class="mono">{or_dash(r.mac.clone())}</dd>
                <dt>"MAC vendor"</dt><dd>{or_dash(r.mac_vendor.clone())}</dd>
                <dt>"IP addresses"</dt><dd class="mono">{if summary.ips.is_empty() { "—".into() } else { summary.ips.join(", ") }}</dd>
                <dt>"Hostnames"</dt><dd>{hostnames(&summary.hostnames)}</dd>
                <dt>"Operating system"</dt><dd>{r.os.clone().unwrap_or_else(|| "Unknown".into())}</dd>
                <dt>"Open ports"</dt><dd class="mono">{if summary.open_ports.is_empty() { "—".into() } else { summary.open_ports.join(", ") }}</dd>
                <dt>"First seen"</dt><dd><Time at=summary.first_seen.clone()/></dd>
                <dt>"Last seen"</dt><dd><Time at=r.last_seen.clone()/>{r.inactive.then_some(" (inactive)")}</dd>
            </dl>
        </section>
        <NetworkPanel facts=summary.network_facts.clone()/>
        <section class="panel" aria-label="Profile">
            <h2>"Profile"</h2>
            <p data-testid="profile">{profile}</p>
            {(!summary.profiles_considered.is_empty()).then(|| view! {
                <h3>"Other profiles considered"</h3>
                <DataTable compact=true headings={headings(&["Profile", "Match score", "Matched rules"])}
                    rows={summary.profiles_considered.clone().into_iter().map(|p| view! {
                            <tr><td>{p.name}</td><td>{match_level_label(&p.level).to_owned()}</td><td>{p.rules.join("; ")}</td></tr>
                        }).collect::<Vec<_>>()}/>
            })}
        </section>
        <section class="panel" aria-label="Sources">
            <h2>"Sources"</h2>
            <p>{sources}</p>
            <IdentityPanel endpoint_id=r.id identity=summary.identity.clone()/>
            {(summary.machines.len() > 1).then(|| view! {
                <p class="hint">{format!(
                    "Microsoft Defender has {} records for this device (re-imaged or re-onboarded); \
                     the live one represents it and receives its actions.", summary.machines.len())}</p>
            })}
            {(!summary.machines.is_empty()).then(|| view! {
                <DataTable compact=true headings={headings(&["Defender machine", "Name", "OS", "Onboarding", "Health", "Defender risk score", "Exposure level", "Device group", "Tags", "Last seen"])}
                    rows={summary.machines.clone().into_iter().map(|m| view! {
                            <tr class:representative=m.representative>
                                <td class="mono">{m.machine_id.clone()}{m.representative.then_some(" (represents the device)")}{m.is_potential_duplication.then_some(" (potential duplicate)")}</td>
                                <td>{or_dash(m.computer_dns_name)}</td>
                                <td>{match (m.os_platform, m.version) {
                                    (Some(p), Some(v)) => format!("{p} {v}"),
                                    (Some(p), None) => p,
                                    _ => "Unknown to Defender".into(),
                                }}</td>
                                <td>{or_dash(m.onboarding_status)}</td>
                                <td>{or_dash(m.health_status)}</td>
                                <td>{or_dash(m.risk_score)}</td>
                                <td>{or_dash(m.exposure_level)}</td>
                                <td>{m.device_group}</td>
                                <td>{or_dash(Some(m.tags.join(", ")))}</td>
                                <td><Time at=m.last_seen/></td>
                            </tr>
                        }).collect::<Vec<_>>()}/>
            })}
            {overview.map(|url| view! {
                <p><a href=url target="_blank" rel="noopener noreferrer">"Open the device in Microsoft Defender"</a></p>
            })}
        </section>
    }
    .into_any()
}
