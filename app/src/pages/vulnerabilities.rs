//! The Vulnerabilities page, CVE first: search or pick a CVE, then see every endpoint it
//! affects with the software that carries it; everything in the URL, CSV of the endpoints.

use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

use crate::api::vulnerabilities::list_vulnerabilities;
use crate::components::data_table::{DataTable, Heading};
use crate::components::feedback::empty_state::EmptyState;
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::list_controls::{neighbour_pages, next_direction, Pager};
use crate::components::risk_badge::RiskBadge;
use crate::components::time::Time;
use crate::model::vulnerability::{
    AffectedEndpoint, CveRow, CveView, VulnerabilityPage, VulnerabilityQuery, EXPLOIT_FILTERS,
    SEVERITIES,
};

fn query_from(params: &ParamsMap) -> VulnerabilityQuery {
    let d = VulnerabilityQuery::default();
    let text = |k: &str, default: &str| params.get(k).unwrap_or_else(|| default.to_owned());
    let number = |k: &str, default: u32| {
        params
            .get(k)
            .and_then(|p| p.parse().ok())
            .unwrap_or(default)
    };
    VulnerabilityQuery {
        q: text("q", &d.q),
        severity: text("severity", &d.severity),
        exploit: text("exploit", &d.exploit),
        cve: text("cve", &d.cve),
        group: text("group", &d.group),
        sort: text("sort", &d.sort),
        dir: text("dir", &d.dir),
        page: number("page", d.page),
        page_size: number("page_size", d.page_size),
    }
    .normalised()
}

fn href(query: &VulnerabilityQuery) -> String {
    let qs = query.to_query_string();
    if qs.is_empty() {
        "/vulnerabilities".into()
    } else {
        format!("/vulnerabilities?{qs}")
    }
}

fn exploit_text(c: &CveRow) -> String {
    let facts: Vec<&str> = [
        (c.public_exploit, "public exploit"),
        (c.exploit_verified, "verified"),
        (c.exploit_in_kit, "in exploit kit"),
    ]
    .into_iter()
    .filter_map(|(on, label)| on.then_some(label))
    .collect();
    if facts.is_empty() {
        "none known".into()
    } else {
        facts.join(", ")
    }
}

/// Defender gives the fixing update's number alone (`5034441`); people search for `KB5034441`.
fn kb_text(kb: String) -> String {
    if kb.to_ascii_uppercase().starts_with("KB") {
        kb
    } else {
        format!("KB{kb}")
    }
}

/// The name when it says more than the id (Defender's usually repeats it), else the start of
/// the description.
fn summary(c: &CveRow) -> String {
    match &c.name {
        Some(name) if !name.eq_ignore_ascii_case(&c.cve_id) => name.clone(),
        _ => {
            let text = c.description.as_deref().unwrap_or_default();
            let mut short: String = text.chars().take(120).collect();
            if short.len() < text.len() {
                short.push('…');
            }
            short
        }
    }
}

/// Defender's tenant-wide count, or the group's endpoints when the list is scoped to one.
fn exposed_text(c: &CveRow, grouped: bool) -> String {
    let count = if grouped {
        c.group_endpoints
    } else {
        c.exposed_machines.and_then(|n| u64::try_from(n).ok())
    };
    count.map_or_else(|| "—".into(), |n| n.to_string())
}

fn cvss_text(c: &CveRow) -> String {
    c.cvss_v3
        .map(|s| format!("{s:.1}"))
        .unwrap_or_else(|| "—".into())
}

#[component]
pub fn VulnerabilitiesPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(query_from));
    let page = Resource::new(move || query.get(), list_vulnerabilities);
    view! {
        <h1>"Vulnerabilities"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) if page.cve.is_some() => view! { <CvePanel page/> }.into_any(),
                    Ok(page) => view! { <CveList page/> }.into_any(),
                    Err(error) => view! {
                        <ErrorBanner error/>
                        <p><A href="/vulnerabilities">"All vulnerabilities"</A></p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// Previous / next links for a page of `total` rows.
#[component]
fn PageLinks(query: VulnerabilityQuery, shown: usize, total: u64) -> impl IntoView {
    let (previous, next) = neighbour_pages(query.page, query.page_size, shown, total, |page| {
        href(&VulnerabilityQuery {
            page,
            ..query.clone()
        })
    });
    view! { <Pager page=query.page previous next/> }
}

/// A header sorting the CVEs, or one CVE's endpoints, by `key`.
/// A heading that sorts the list by its column: descending first, ascending when it is so already.
fn sorted(query: &VulnerabilityQuery, key: &'static str, label: &'static str) -> Heading {
    let active = query.sort == key;
    let descending = query.dir == "desc";
    let href = href(&VulnerabilityQuery {
        sort: key.into(),
        dir: next_direction(active, descending).into(),
        page: 1,
        ..query.clone()
    });
    Heading::Sort {
        label,
        active,
        descending,
        href,
    }
}

#[component]
fn CveList(page: VulnerabilityPage) -> impl IntoView {
    let q = page.query.clone();
    let filtered =
        !(q.q.is_empty() && q.severity.is_empty() && q.exploit.is_empty() && q.group.is_empty());
    if page.total == 0 && !filtered {
        return view! {
            <EmptyState title="No vulnerabilities known">
                <p>"CVEs appear here once the Microsoft Defender integration has synced the tenant's vulnerabilities."</p>
                <p><a href="/configuration/integrations">"Configure an integration"</a></p>
            </EmptyState>
        }
        .into_any();
    }
    let option = |value: &str, label: &str, selected: bool| {
        view! { <option value=value.to_owned() selected=selected>{label.to_owned()}</option> }
    };
    let severity_options = SEVERITIES
        .iter()
        .map(|s| option(s, s, q.severity == *s))
        .collect_view();
    let exploit_options = EXPLOIT_FILTERS
        .iter()
        .map(|(v, l)| option(v, l, q.exploit == *v))
        .collect_view();
    let group_options = page
        .device_groups
        .iter()
        .map(|g| option(g, g, q.group == *g))
        .collect_view();
    // Scoped to a group, the count that matters is the group's endpoints, not the tenant's.
    let grouped = !q.group.is_empty();
    let exposed_label = if grouped {
        "Endpoints in group"
    } else {
        "Exposed devices"
    };
    let shown = page.cves.len();
    let first = (q.page as u64 - 1) * q.page_size as u64 + 1;
    let count = if page.total == 0 {
        "No CVE matches these filters.".to_owned()
    } else {
        format!(
            "{first}–{} of {} CVEs",
            first + shown as u64 - 1,
            page.total
        )
    };
    let text = q.q.clone();
    view! {
        <Form method="GET" action="/vulnerabilities" attr:class="filter-bar" attr:role="search">
            <label>"CVE"
                <input type="search" name="q" value=text placeholder="CVE id or name"/>
            </label>
            <label>"Severity"
                <select name="severity"><option value="">"Any"</option>{severity_options}</select>
            </label>
            <label>"Exploit"
                <select name="exploit"><option value="">"Any"</option>{exploit_options}</select>
            </label>
            <label>"Device group"
                <select name="group"><option value="">"Any"</option>{group_options}</select>
            </label>
            <button type="submit" class="button-primary">"Apply"</button>
            <a href="/vulnerabilities">"Clear"</a>
        </Form>
        <div class="list-toolbar">
            <span class="list-count" data-testid="cve-count">{count}</span>
        </div>
        <DataTable class="cve-table" headings={vec![sorted(&q, "cve", "CVE"), Heading::Text("Description"), sorted(&q, "severity", "Severity"), Heading::Text("CVSS"), Heading::Text("Exploit"), sorted(&q, "exposed", exposed_label), sorted(&q, "published", "Published")]}
            rows={page.cves.into_iter().map(|c| {
                    let link = href(&q.opening(&c.cve_id));
                    let id = c.cve_id.clone();
                    view! {
                        <tr>
                            <td class="mono"><A href=link>{id}</A></td>
                            <td class="cve-summary">{summary(&c)}</td>
                            <td>{c.severity.clone().unwrap_or_else(|| "—".into())}</td>
                            <td>{cvss_text(&c)}</td>
                            <td>{exploit_text(&c)}</td>
                            <td>{exposed_text(&c, grouped)}</td>
                            <td>{c.published_on.clone().unwrap_or_default()}</td>
                        </tr>
                    }
                }).collect::<Vec<_>>()}/>
        <PageLinks query=q.clone() shown total=page.total/>
    }
    .into_any()
}

#[component]
fn CvePanel(page: VulnerabilityPage) -> impl IntoView {
    let q = page.query.clone();
    let view: CveView = page.cve.expect("a CVE is open");
    let c = view.cve.clone();
    let back = href(&q.opening(""));
    // The rows on screen, every page of them: the CVE, its group filter and its sort.
    let export = format!(
        "/api/vulnerabilities/export.csv?{}",
        VulnerabilityQuery {
            cve: q.cve.clone(),
            group: q.group.clone(),
            sort: q.sort.clone(),
            dir: q.dir.clone(),
            ..VulnerabilityQuery::default()
        }
        .to_query_string()
    );
    let group_options = page
        .device_groups
        .iter()
        .map(|g| view! { <option value=g.clone() selected=q.group == *g>{g.clone()}</option> })
        .collect_view();
    let shown = view.endpoints.len();
    let first = (q.page as u64 - 1) * q.page_size as u64 + 1;
    let count = if page.total == 0 {
        "No endpoint has this CVE (with these filters).".to_owned()
    } else {
        format!(
            "{} endpoints; rows {first}–{} of {}",
            view.endpoint_count,
            first + shown as u64 - 1,
            page.total
        )
    };
    // The list's filters ride along, so "All vulnerabilities" finds the same list again.
    let hidden = q.clone();
    let title = c.cve_id.clone();
    view! {
        <p><A href=back>"← All vulnerabilities"</A></p>
        <section class="cve-detail" data-testid="cve-detail">
            <h2 class="mono">{title}</h2>
            {c.name.clone().filter(|n| !n.eq_ignore_ascii_case(&c.cve_id)).map(|n| view! { <p class="cve-name">{n}</p> })}
            <dl class="facts">
                <dt>"Severity"</dt><dd>{c.severity.clone().unwrap_or_else(|| "Unknown".into())}</dd>
                <dt>"CVSS v3"</dt><dd>{cvss_text(&c)}{view.cvss_vector.clone().map(|v| format!(" ({v})"))}</dd>
                <dt>"Exploit"</dt><dd>{exploit_text(&c)}{(!c.exploit_types.is_empty()).then(|| format!(" — {}", c.exploit_types.join(", ")))}</dd>
                <dt>"Published"</dt><dd>{c.published_on.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Exposed devices (Defender)"</dt><dd>{c.exposed_machines.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</dd>
            </dl>
            {c.description.clone().map(|d| view! { <p class="cve-description">{d}</p> })}
            {view.defender_url.clone().map(|u| view! {
                <p><a href=u target="_blank" rel="noopener noreferrer">"Open in Microsoft Defender"</a></p>
            })}
        </section>
        <Form method="GET" action="/vulnerabilities" attr:class="filter-bar">
            <input type="hidden" name="cve" value=hidden.cve/>
            <input type="hidden" name="q" value=hidden.q/>
            <input type="hidden" name="severity" value=hidden.severity/>
            <input type="hidden" name="exploit" value=hidden.exploit/>
            <label>"Device group"
                <select name="group"><option value="">"Any"</option>{group_options}</select>
            </label>
            <button type="submit" class="button-primary">"Apply"</button>
        </Form>
        <div class="list-toolbar">
            <span class="list-count" data-testid="affected-count">{count}</span>
            <span class="toolbar-actions">
                <a class="button-secondary" href=export download="endpoints.csv" rel="external">"Export CSV"</a>
            </span>
        </div>
        <DataTable class="affected-table" headings={vec![sorted(&q, "risk", "Risk"), sorted(&q, "hostname", "Hostname"), Heading::Text("MAC"), Heading::Text("IP"), sorted(&q, "software", "Software"), Heading::Text("Fix"), sorted(&q, "group", "Device group"), sorted(&q, "first_seen", "First seen")]}
            rows={view.endpoints.into_iter().map(|r| view! { <AffectedRow row=r/> }).collect::<Vec<_>>()}/>
        <PageLinks query=q.clone() shown total=page.total/>
    }
    .into_any()
}

#[component]
fn AffectedRow(row: AffectedEndpoint) -> impl IntoView {
    let link = format!("/endpoints/{}", row.endpoint_id);
    let name = row
        .hostname
        .clone()
        .or_else(|| row.mac.clone())
        .unwrap_or_else(|| format!("Endpoint {}", row.endpoint_id));
    let software = [&row.product_vendor, &row.product_name, &row.product_version]
        .into_iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <tr>
            <td><RiskBadge level=row.risk_level/></td>
            <td><A href=link>{name}</A></td>
            <td class="mono">{row.mac.clone()}</td>
            <td class="mono">{row.ip.clone()}</td>
            <td>{software}</td>
            <td>{row.fixing_kb_id.clone().map(kb_text).unwrap_or_else(|| "—".into())}</td>
            <td>{row.device_group.clone().unwrap_or_else(|| "—".into())}</td>
            <td><Time at=row.first_seen.clone()/></td>
        </tr>
    }
}
