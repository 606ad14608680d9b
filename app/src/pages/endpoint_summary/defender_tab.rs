//! The Microsoft Defender subtab: the most severe vulnerability with its Exposure Risk Level,
//! the vulnerability count linked to the device's vulnerabilities in the portal, the Risk Level
//! from the most severe active alert, links to the device's alerts and overview, and tables.
//! Every string from Defender is shown as text; links go only to the configured portal host
//! (built by the server from the machine id), or to this console's Vulnerabilities page.

use leptos::prelude::*;

use crate::components::data_table::{headings, DataTable};
use crate::components::risk_badge::RiskBadge;
use crate::model::endpoint::{encode, DefenderDetail, EndpointSummary, VulnerabilityView};
use crate::model::risk::LevelReason;
use crate::model::software::exploit_text;

fn exploit_flags(v: &VulnerabilityView) -> String {
    exploit_text(v.public_exploit, v.exploit_verified, v.exploit_in_kit)
}

fn portal_link(url: Option<String>, text: String) -> impl IntoView {
    match url {
        Some(url) => {
            view! { <a href=url target="_blank" rel="noopener noreferrer">{text}</a> }.into_any()
        }
        None => view! { <span>{text}</span> }.into_any(),
    }
}

/// A sub-level with its reason; a source the app could not read shows "Unknown", never None.
fn level_view(level: LevelReason) -> AnyView {
    if level.unknown {
        return view! {
            <span class="risk-badge risk-unknown" data-risk="Unknown">"Unknown"</span>
            " "<span class="reason">{level.reason}</span>
        }
        .into_any();
    }
    view! { <RiskBadge level=level.level/>" "<span class="reason">{level.reason}</span> }.into_any()
}

/// Why an endpoint has no Defender data to show.
pub fn no_defender_message(summary: &EndpointSummary) -> &'static str {
    if summary.defender_enabled {
        "This endpoint is not in Microsoft Defender: no Defender machine matched it."
    } else {
        "The Microsoft Defender integration is not enabled."
    }
}

#[component]
pub fn DefenderTab(summary: EndpointSummary) -> impl IntoView {
    let Some(detail) = summary.defender.clone() else {
        let message = no_defender_message(&summary);
        return view! { <section class="panel" aria-label="Microsoft Defender"><p data-testid="defender-state">{message}</p></section> }.into_any();
    };
    view! { <DefenderPanel detail machines=summary.machines.len()/> }.into_any()
}

#[component]
fn DefenderPanel(detail: DefenderDetail, machines: usize) -> impl IntoView {
    let exposure = detail.risk.as_ref().map(|r| r.exposure.clone());
    let alert = detail.risk.as_ref().map(|r| r.alert.clone());
    let count_text = format!("{} vulnerabilities", detail.vulnerability_count);
    view! {
        <section class="panel" aria-label="Microsoft Defender">
            {(machines > 1).then(|| view! {
                <p class="hint">{format!("{machines} Defender records belong to this device; this view shows the live one, which receives its actions ({}).", detail.machine_id)}</p>
            })}
            {exposure.as_ref().filter(|e| e.unknown).map(|_| view! {
                <p class="banner banner-warn" role="note" data-testid="vulnerabilities-unknown">
                    "Microsoft Defender's vulnerabilities could not be read at the last sync, so the \
                     vulnerabilities below are as the last sync that could read them left them."
                </p>
            })}
            <h2>"Most severe vulnerability"</h2>
            {match detail.most_severe_vulnerability.clone() {
                Some(v) => view! {
                    <div class="most-severe" data-testid="most-severe-vulnerability">
                        <p>
                            <strong>{portal_link(v.url.clone(), v.cve_id.clone())}</strong>
                            " — " {v.severity.clone().unwrap_or_else(|| "Unknown severity".into())}
                            ", CVSS " {v.cvss_v3.map(|c| format!("{c:.1}")).unwrap_or_else(|| "not scored".into())}
                            ", " {exploit_flags(&v)}
                        </p>
                        <p class="description">{v.description.clone().unwrap_or_default()}</p>
                    </div>
                }.into_any(),
                None => view! { <p data-testid="most-severe-vulnerability">"Microsoft Defender reports no vulnerabilities for this device."</p> }.into_any(),
            }}
            <dl class="facts">
                <dt>"Exposure Risk Level"</dt>
                <dd data-testid="exposure-risk-level">
                    {exposure.clone().map(level_view)}
                </dd>
                <dt>"Vulnerabilities"</dt>
                <dd data-testid="vulnerability-count">{portal_link(detail.vulnerabilities_url.clone(), count_text)}</dd>
                <dt>"Risk Level"</dt>
                <dd data-testid="alert-risk-level">
                    {alert.clone().map(level_view)}
                </dd>
                <dt>"Alerts"</dt>
                <dd>{portal_link(detail.alerts_url.clone(), "Alerts in Microsoft Defender".into())}</dd>
                <dt>"Device"</dt>
                <dd>{portal_link(detail.overview_url.clone(), "Overview in Microsoft Defender".into())}</dd>
            </dl>
            <h3>"Vulnerabilities"</h3>
            {if detail.vulnerabilities.is_empty() {
                view! { <p>"None reported."</p> }.into_any()
            } else {
                view! {
                    <DataTable compact=true label="Vulnerabilities" headings={headings(&["CVE", "Severity", "CVSS", "Exploits", "Software", "In this console"])}
                        rows={detail.vulnerabilities.clone().into_iter().map(|v| view! {
                                <tr>
                                    <td>{portal_link(v.url.clone(), v.cve_id.clone())}</td>
                                    <td>{v.severity.clone().unwrap_or_default()}</td>
                                    <td>{v.cvss_v3.map(|c| format!("{c:.1}")).unwrap_or_else(|| "—".into())}</td>
                                    <td>{exploit_flags(&v)}</td>
                                    <td>{v.products.join(", ")}</td>
                                    <td><a href=format!("/vulnerabilities?cve={}", encode(&v.cve_id))>"Every endpoint with it"</a></td>
                                </tr>
                            }).collect::<Vec<_>>()}/>
                }.into_any()
            }}
            <h3>"Alerts"</h3>
            {if detail.alerts.is_empty() {
                view! { <p>"No alerts."</p> }.into_any()
            } else {
                view! {
                    <DataTable compact=true label="Alerts" headings={headings(&["Alert", "Severity", "Status", "Category", "Created"])}
                        rows={detail.alerts.clone().into_iter().map(|a| view! {
                                <tr>
                                    <td>{portal_link(a.url.clone(), a.title.clone().unwrap_or(a.alert_id.clone()))}</td>
                                    <td>{a.severity.clone().unwrap_or_default()}</td>
                                    <td>{a.status.clone().unwrap_or_default()}</td>
                                    <td>{a.category.clone().unwrap_or_default()}</td>
                                    <td>{a.created.clone().unwrap_or_default()}</td>
                                </tr>
                            }).collect::<Vec<_>>()}/>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}
