//! The Test Connection report: each check passed or failed with a plain fix, and the
//! permission matrix.

use leptos::prelude::*;

use crate::components::data_table::{headings, DataTable};
use crate::model::integration::ConnectionReport;

#[component]
pub fn ConnectionReportView(report: ConnectionReport) -> impl IntoView {
    let summary = if report.passed {
        "Connection test passed"
    } else {
        "Connection test found problems"
    };
    let missing_any = report.permissions.iter().any(|p| !p.granted);
    view! {
        <section class="report" aria-label="Connection test report">
            <h2 class=if report.passed { "report-ok" } else { "report-failed" }>{summary}</h2>
            <ul class="checks">
                {report.checks.into_iter().map(|check| view! {
                    <li class=if check.passed { "check check-passed" } else { "check check-failed" }>
                        <span class="check-mark">{if check.passed { "Passed" } else { "Failed" }}</span>
                        <strong>{check.name}</strong>
                        ": "
                        <span class="check-detail">{check.detail}</span>
                        {check.fix.map(|fix| view! { <div class="check-fix">{fix}</div> })}
                    </li>
                }).collect_view()}
            </ul>
            {(!report.permissions.is_empty()).then(|| view! {
                <DataTable compact=true class="permission-matrix" caption="Permission matrix" headings={headings(&["Feature", "Needs", "Granted"])}
                    rows={report.permissions.clone().into_iter().map(|p| view! {
                            <tr class=if p.granted { "granted" } else { "missing" }>
                                <td>{p.feature}</td>
                                <td><code>{p.needs}</code></td>
                                <td>{if p.granted { "Yes" } else { "Missing" }}</td>
                            </tr>
                        }).collect::<Vec<_>>()}/>
            })}
            {missing_any.then(|| view! {
                <p class="hint">
                    "After adding a permission to the app registration, an administrator must grant "
                    "admin consent again; only consented permissions appear in new tokens."
                </p>
            })}
        </section>
    }
    .into_any()
}
