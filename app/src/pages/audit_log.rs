//! Configuration > Audit log: who changed what, when (Administrators only).

use leptos::prelude::*;

use crate::api::audit::audit_log;
use crate::components::data_table::{headings, DataTable, Loaded};
use crate::components::time::Time;
use crate::model::audit::AuditEntry;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let entries = Resource::new(|| (), |_| audit_log());
    view! {
        <h1>"Audit log"</h1>
        <Loaded data=entries ready=entry_table/>
    }
}

fn entry_table(rows: Vec<AuditEntry>) -> impl IntoView {
    let rows: Vec<_> = rows
        .into_iter()
        .map(|r| {
            view! {
                <tr><td><Time at=r.at/></td><td>{r.actor}</td><td>{r.action}</td><td>{r.detail}</td></tr>
            }
        })
        .collect();
    view! { <DataTable headings=headings(&["When", "Who", "What", "Details"]) rows/> }
}
