//! The Software subtab: every product and version Defender lists weaknesses for on this
//! endpoint's live machine, with the CVEs (each linked to the console's Vulnerabilities page),
//! exploit facts and fixing updates, beside Defender's tenant-wide facts about the product.
//! Every string from Defender is text.

use crate::components::data_table::{headings, DataTable};
use leptos::prelude::*;

use super::defender_tab::no_defender_message;
use crate::model::endpoint::{encode, EndpointSummary};
use crate::model::software::InstalledSoftware;

#[component]
pub fn SoftwareTab(summary: EndpointSummary) -> impl IntoView {
    let Some(detail) = summary.defender.clone() else {
        let message = no_defender_message(&summary);
        return view! { <section class="panel" aria-label="Software"><p data-testid="defender-state">{message}</p></section> }.into_any();
    };
    let software = detail.software;
    view! {
        <section class="panel" aria-label="Software">
            <p class="hint">
                "Software Microsoft Defender lists weaknesses for on this device, most severe first. \
                 Tenant-wide figures are Defender's own, from the last sync."
            </p>
            {if software.is_empty() {
                view! { <p data-testid="software-empty">"Microsoft Defender lists no vulnerable software on this device."</p> }.into_any()
            } else {
                view! {
                    <DataTable compact=true label="Software"
                        headings=headings(&["Software", "Vendor", "Version", "Weaknesses here",
                            "Most severe", "Exploits", "Fixed by", "In the tenant"])
                        rows={software.into_iter().map(software_row).collect::<Vec<_>>()}/>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

fn software_row(s: InstalledSoftware) -> impl IntoView {
    let exploits = s.exploit_text();
    let tenant = match &s.facts {
        Some(f) => {
            let mut parts = Vec::new();
            if let Some(w) = f.weaknesses {
                parts.push(format!("{w} weaknesses"));
            }
            if let Some(m) = f.exposed_machines {
                parts.push(format!("{m} exposed devices"));
            }
            if let Some(i) = f.impact_score {
                parts.push(format!("impact score {i:.2}"));
            }
            if f.active_alert {
                parts.push("active alert".into());
            }
            parts.join(", ")
        }
        None => "not read yet".into(),
    };
    view! {
        <tr data-software=s.software_id.clone()>
            <td>{s.name.clone()}</td>
            <td>{s.vendor.clone()}</td>
            <td>{if s.version.is_empty() { "—".to_owned() } else { s.version.clone() }}</td>
            <td>
                {format!("{} ", s.cves.len())}
                <span class="cve-list">
                    {s.cves.iter().map(|cve| view! {
                        <a href=format!("/vulnerabilities?cve={}", encode(cve))>{cve.clone()}</a>" "
                    }).collect_view()}
                </span>
            </td>
            <td>{s.most_severe.clone().unwrap_or_else(|| "—".into())}</td>
            <td>{exploits}</td>
            <td>{if s.fixing_kbs.is_empty() { "—".to_owned() } else { s.fixing_kbs.iter().map(|kb| format!("KB{kb}")).collect::<Vec<_>>().join(", ") }}</td>
            <td data-testid="software-tenant">{tenant}</td>
        </tr>
    }
}
