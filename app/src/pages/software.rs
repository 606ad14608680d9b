//! The Software page: search the tenant's products by name or vendor, then see every device
//! Microsoft Defender lists as running one, with its network identity, risk and the versions
//! Defender reports a CVE in; everything in the URL, CSV of the devices.

use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

use crate::api::software::list_software;
use crate::components::data_table::{DataTable, Heading};
use crate::components::feedback::empty_state::EmptyState;
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::list_controls::{neighbour_pages, next_direction, Pager};
use crate::components::risk_badge::RiskBadge;
use crate::model::software::{
    ProductRow, ProductView, SoftwareDevice, SoftwarePage, SoftwareQuery,
};

fn query_from(params: &ParamsMap) -> SoftwareQuery {
    let d = SoftwareQuery::default();
    let text = |k: &str, default: &str| params.get(k).unwrap_or_else(|| default.to_owned());
    let number = |k: &str, default: u32| {
        params
            .get(k)
            .and_then(|p| p.parse().ok())
            .unwrap_or(default)
    };
    SoftwareQuery {
        q: text("q", &d.q),
        software: text("software", &d.software),
        group: text("group", &d.group),
        sort: text("sort", &d.sort),
        dir: text("dir", &d.dir),
        page: number("page", d.page),
        page_size: number("page_size", d.page_size),
    }
    .normalised()
}

fn href(query: &SoftwareQuery) -> String {
    let qs = query.to_query_string();
    if qs.is_empty() {
        "/software".into()
    } else {
        format!("/software?{qs}")
    }
}

fn number_text(n: Option<i64>) -> String {
    n.map_or_else(|| "—".into(), |n| n.to_string())
}

fn impact_text(p: &ProductRow) -> String {
    p.facts
        .impact_score
        .map_or_else(|| "—".into(), |s| format!("{s:.2}"))
}

/// Defender's tenant-wide flags in words.
fn flags_text(p: &ProductRow) -> String {
    let flags: Vec<&str> = [
        (p.facts.public_exploit, "public exploit"),
        (p.facts.active_alert, "active alert"),
    ]
    .into_iter()
    .filter_map(|(on, label)| on.then_some(label))
    .collect();
    if flags.is_empty() {
        "—".into()
    } else {
        flags.join(", ")
    }
}

#[component]
pub fn SoftwarePage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(query_from));
    let page = Resource::new(move || query.get(), list_software);
    view! {
        <h1>"Software"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) if page.product.is_some() => view! { <ProductPanel page/> }.into_any(),
                    Ok(page) => view! { <ProductList page/> }.into_any(),
                    Err(error) => view! {
                        <ErrorBanner error/>
                        <p><A href="/software">"All software"</A></p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// Previous / next links for a page of `total` rows.
#[component]
fn PageLinks(query: SoftwareQuery, shown: usize, total: u64) -> impl IntoView {
    let (previous, next) = neighbour_pages(query.page, query.page_size, shown, total, |page| {
        href(&SoftwareQuery {
            page,
            ..query.clone()
        })
    });
    view! { <Pager page=query.page previous next/> }
}

/// A header sorting the products, or one product's devices, by `key`.
/// A heading that sorts the list by its column: descending first, ascending when it is so already.
fn sorted(query: &SoftwareQuery, key: &'static str, label: &'static str) -> Heading {
    let active = query.sort == key;
    let descending = query.dir == "desc";
    let href = href(&SoftwareQuery {
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
fn ProductList(page: SoftwarePage) -> impl IntoView {
    let q = page.query.clone();
    if page.total == 0 && q.q.is_empty() {
        return view! {
            <EmptyState title="No software known">
                <p>"Products appear here once the Microsoft Defender integration has synced the software its vulnerability rows name (permission Software.Read.All)."</p>
                <p><a href="/configuration/integrations">"Configure an integration"</a></p>
            </EmptyState>
        }
        .into_any();
    }
    let shown = page.products.len();
    let first = (q.page as u64 - 1) * q.page_size as u64 + 1;
    let count = if page.total == 0 {
        "No product matches this search.".to_owned()
    } else {
        format!(
            "{first}–{} of {} products",
            first + shown as u64 - 1,
            page.total
        )
    };
    let text = q.q.clone();
    view! {
        <Form method="GET" action="/software" attr:class="filter-bar" attr:role="search">
            <label>"Software"
                <input type="search" name="q" value=text placeholder="Name or vendor"/>
            </label>
            <button type="submit" class="button-primary">"Search"</button>
            <a href="/software">"Clear"</a>
        </Form>
        <div class="list-toolbar">
            <span class="list-count" data-testid="software-count">{count}</span>
        </div>
        <DataTable class="software-list" headings={vec![sorted(&q, "name", "Software"), Heading::Text("Vendor"), sorted(&q, "weaknesses", "Weaknesses"), sorted(&q, "exposed", "Exposed devices"), sorted(&q, "impact", "Impact"), Heading::Text("Threats")]}
            rows={page.products.into_iter().map(|p| {
                    let link = href(&q.opening(&p.software_id));
                    let (impact, flags) = (impact_text(&p), flags_text(&p));
                    view! {
                        <tr>
                            <td><A href=link>{p.name}</A></td>
                            <td>{p.vendor}</td>
                            <td>{number_text(p.facts.weaknesses)}</td>
                            <td>{number_text(p.facts.exposed_machines)}</td>
                            <td>{impact}</td>
                            <td>{flags}</td>
                        </tr>
                    }
                }).collect::<Vec<_>>()}/>
        <PageLinks query=q.clone() shown total=page.total/>
    }
    .into_any()
}

#[component]
fn ProductPanel(page: SoftwarePage) -> impl IntoView {
    let q = page.query.clone();
    let view: ProductView = page.product.expect("a product is open");
    let p = view.product.clone();
    let back = href(&q.opening(""));
    // The rows on screen, every page of them: the product, its group filter and its sort.
    let export = format!(
        "/api/software/export.csv?{}",
        SoftwareQuery {
            software: q.software.clone(),
            group: q.group.clone(),
            sort: q.sort.clone(),
            dir: q.dir.clone(),
            ..SoftwareQuery::default()
        }
        .to_query_string()
    );
    let group_options = page
        .device_groups
        .iter()
        .map(|g| view! { <option value=g.clone() selected=q.group == *g>{g.clone()}</option> })
        .collect_view();
    let shown = view.devices.len();
    let first = (q.page as u64 - 1) * q.page_size as u64 + 1;
    let count = if page.total == 0 {
        "Microsoft Defender lists no device running this product (with these filters).".to_owned()
    } else {
        format!(
            "{} devices, {} of them endpoints of the inventory; {first}–{}",
            view.device_count,
            view.imported_count,
            first + shown as u64 - 1,
        )
    };
    let read = view.read_at.clone().map_or_else(
        || "Not read from Microsoft Defender yet.".to_owned(),
        |at| format!("Devices as Microsoft Defender listed them on {at}."),
    );
    let hidden = q.clone();
    view! {
        <p><A href=back>"← All software"</A></p>
        <section class="software-detail" data-testid="software-detail">
            <h2>{p.name.clone()}</h2>
            <dl class="facts">
                <dt>"Vendor"</dt><dd>{p.vendor.clone()}</dd>
                <dt>"Weaknesses (tenant)"</dt><dd>{number_text(p.facts.weaknesses)}</dd>
                <dt>"Exposed devices (Defender)"</dt><dd>{number_text(p.facts.exposed_machines)}</dd>
                <dt>"Impact"</dt><dd>{impact_text(&p)}</dd>
                <dt>"Threats"</dt><dd>{flags_text(&p)}</dd>
            </dl>
            <p class="hint" data-testid="software-read">{read}</p>
            {view.note.clone().map(|n| view! { <p class="warning" role="status" data-testid="software-note">{n}</p> })}
        </section>
        <Form method="GET" action="/software" attr:class="filter-bar">
            <input type="hidden" name="software" value=hidden.software/>
            <input type="hidden" name="q" value=hidden.q/>
            <label>"Device group"
                <select name="group"><option value="">"Any"</option>{group_options}</select>
            </label>
            <button type="submit" class="button-primary">"Apply"</button>
        </Form>
        <div class="list-toolbar">
            <span class="list-count" data-testid="device-count">{count}</span>
            <span class="toolbar-actions">
                <a class="button-secondary" href=export download="devices.csv" rel="external">"Export CSV"</a>
            </span>
        </div>
        <DataTable class="software-devices" headings={vec![sorted(&q, "risk", "Risk"), sorted(&q, "hostname", "Hostname"), Heading::Text("MAC"), Heading::Text("IP"), Heading::Text("OS"), Heading::Text("Vulnerable versions"), Heading::Text("CVEs"), sorted(&q, "group", "Device group")]}
            rows={view.devices.into_iter().map(|d| view! { <DeviceRow row=d/> }).collect::<Vec<_>>()}/>
        <PageLinks query=q.clone() shown total=page.total/>
    }
    .into_any()
}

#[component]
fn DeviceRow(row: SoftwareDevice) -> impl IntoView {
    let name = row
        .hostname
        .clone()
        .or_else(|| row.mac.clone())
        .unwrap_or_else(|| row.machine_ids.first().cloned().unwrap_or_default());
    let host = match row.endpoint_id {
        Some(id) => view! { <A href=format!("/endpoints/{id}")>{name}</A> }.into_any(),
        None => view! { <span>{name}" "<span class="hint">"(not in the inventory)"</span></span> }
            .into_any(),
    };
    let risk = row.risk_level.map_or_else(
        || view! { <span>"—"</span> }.into_any(),
        |level| view! { <RiskBadge level/> }.into_any(),
    );
    let versions = if row.versions.is_empty() {
        "—".to_owned()
    } else {
        row.versions.join(", ")
    };
    view! {
        <tr>
            <td>{risk}</td>
            <td>{host}</td>
            <td class="mono">{row.mac.clone()}</td>
            <td class="mono">{row.ip.clone()}</td>
            <td>{row.os_platform.clone()}</td>
            <td>{versions}</td>
            <td>{row.cves}</td>
            <td>{row.device_group.clone().unwrap_or_else(|| "—".into())}</td>
        </tr>
    }
}
