//! The application permissions the product needs (defender-api.md §2.4).

use leptos::prelude::*;

use crate::components::data_table::{headings, DataTable};
const PERMISSIONS: [(&str, &str); 8] = [
    (
        "Machine.Read.All",
        "Device inventory, machine action status",
    ),
    ("Alert.Read.All", "Alerts and the alert risk level"),
    (
        "Vulnerability.Read.All",
        "Vulnerabilities and the exposure risk level",
    ),
    (
        "Software.Read.All",
        "Tenant-wide software facts on the Summary's Software subtab",
    ),
    (
        "AdvancedQuery.Read.All",
        "Network adapters, subnets, connected networks and hardware on the Summary (advanced hunting, read daily)",
    ),
    ("Machine.Isolate", "Isolate and release devices"),
    ("Machine.Scan", "Run antivirus scans"),
    (
        "Machine.ReadWrite.All",
        "Optional: may replace Machine.Read.All",
    ),
];

#[component]
pub fn PermissionsTable() -> impl IntoView {
    view! {
        <section class="side-panel">
            <h2>"Required API permissions"</h2>
            <DataTable compact=true headings={headings(&["Permission", "Used for"])}
                rows={PERMISSIONS.into_iter().map(|(name, used)| view! {
                        <tr><td><code>{name}</code></td><td>{used}</td></tr>
                    }).collect::<Vec<_>>()}/>
            <p class="hint">"Application permissions on WindowsDefenderATP; each needs admin consent."</p>
        </section>
    }
}
