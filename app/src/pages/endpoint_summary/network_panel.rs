//! The device's hardware and network adapters as Defender's advanced hunting reports them:
//! every adapter, also those without an address the machine record leaves out, with subnet
//! prefixes and the networks each is connected to.

use leptos::prelude::*;

use crate::components::data_table::{headings, DataTable};
use crate::components::or_dash::or_dash;
use crate::components::time::Time;
use crate::model::network_facts::NetworkFactsView;

#[component]
pub fn NetworkPanel(facts: NetworkFactsView) -> impl IntoView {
    if facts.adapters.is_empty() && facts.device.is_none() {
        return ().into_any();
    }
    view! {
        <section class="panel" aria-label="Hardware and network">
            <h2>"Hardware and network"</h2>
            {facts.device.map(|d| view! {
                <dl class="facts" data-testid="device-facts">
                    <dt>"Device type"</dt><dd>{or_dash(d.device_type)}</dd>
                    <dt>"Model"</dt><dd>{or_dash(d.model)}</dd>
                    <dt>"Vendor"</dt><dd>{or_dash(d.vendor)}</dd>
                    <dt>"Architecture"</dt><dd>{or_dash(d.os_architecture)}</dd>
                    <dt>"Join type"</dt><dd>{or_dash(d.join_type)}</dd>
                    <dt>"Reported"</dt><dd>"by Microsoft Defender, "<Time at=d.reported_at/></dd>
                </dl>
            })}
            {(!facts.adapters.is_empty()).then(|| view! {
                <DataTable compact=true label="Network adapters" headings={headings(&["Adapter", "Type", "Status", "MAC", "Addresses", "Connected networks", "Reported"])}
                    rows={facts.adapters.into_iter().map(|a| view! {
                            <tr>
                                <td><bdi>{a.name}</bdi></td>
                                <td>{or_dash(a.adapter_type)}</td>
                                <td>{or_dash(a.status)}</td>
                                <td class="mono">{or_dash(a.mac)}</td>
                                <td class="mono">
                                    {if a.addresses.is_empty() { Some("—") } else { None }}
                                    {a.addresses.into_iter().enumerate().map(|(i, ip)| view! {
                                        {(i > 0).then_some(", ")}
                                        <span title=ip.space.clone().unwrap_or_default()>{ip.address}</span>
                                    }).collect_view()}
                                </td>
                                <td>{if a.networks.is_empty() { "—".to_owned() } else { a.networks.join(", ") }}</td>
                                <td><Time at=a.reported_at/></td>
                            </tr>
                        }).collect::<Vec<_>>()}/>
            })}
        </section>
    }
    .into_any()
}
