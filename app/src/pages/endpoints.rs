//! The endpoint list: server-side filters, sorting and paging, all carried in the URL so a view
//! can be shared and reloaded; CSV export of the filtered list.

use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

use crate::api::endpoints::list_endpoints;
use crate::components::data_table::{DataTable, Heading};
use crate::components::feedback::empty_state::EmptyState;
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::list_controls::{next_direction, Pager};
use crate::components::risk_badge::RiskBadge;
use crate::components::time::Time;
use crate::model::endpoint::{EndpointPage, EndpointQuery, EndpointRow, SortKey};
use crate::model::profile::match_level_label;
use crate::model::risk::RiskLevel;

fn query_from(params: &ParamsMap) -> EndpointQuery {
    let d = EndpointQuery::default();
    let text = |k: &str, default: &str| params.get(k).unwrap_or_else(|| default.to_owned());
    EndpointQuery {
        q: text("q", &d.q),
        risk: text("risk", &d.risk),
        profile: text("profile", &d.profile),
        source: text("source", &d.source),
        onboarding: text("onboarding", &d.onboarding),
        group: text("group", &d.group),
        tag: text("tag", &d.tag),
        sort: text("sort", &d.sort),
        dir: text("dir", &d.dir),
        page: params
            .get("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(d.page),
        page_size: params
            .get("page_size")
            .and_then(|p| p.parse().ok())
            .unwrap_or(d.page_size),
    }
    .normalised()
}

fn href(query: &EndpointQuery) -> String {
    let qs = query.to_query_string();
    if qs.is_empty() {
        "/endpoints".into()
    } else {
        format!("/endpoints?{qs}")
    }
}

#[component]
pub fn EndpointsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(query_from));
    let page = Resource::new(move || query.get(), list_endpoints);
    view! {
        <h1>"Endpoints"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <EndpointList page/> }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EndpointList(page: EndpointPage) -> impl IntoView {
    let q = page.query.clone();
    let filtered = [
        &q.q,
        &q.risk,
        &q.profile,
        &q.source,
        &q.onboarding,
        &q.group,
        &q.tag,
    ]
    .iter()
    .any(|f| !f.is_empty());
    if page.total == 0 && !filtered {
        return view! {
            <EmptyState title="No endpoints discovered">
                <p>"Endpoints appear once the Microsoft Defender integration has synced or a network scan is imported."</p>
                <p><a href="/configuration/integrations">"Configure an integration"</a>" or "<a href="/endpoints/import">"import an nmap scan"</a></p>
            </EmptyState>
        }
        .into_any();
    }
    let export = format!("/api/endpoints/export.csv?{}", q.to_query_string());
    let first = (q.page as u64 - 1) * q.page_size as u64 + 1;
    let last = (first + page.rows.len() as u64).saturating_sub(1);
    let prev = (q.page > 1).then(|| {
        href(&EndpointQuery {
            page: q.page - 1,
            ..q.clone()
        })
    });
    let next = (last < page.total).then(|| {
        href(&EndpointQuery {
            page: q.page + 1,
            ..q.clone()
        })
    });
    view! {
        <FilterBar
            query=q.clone()
            profiles=page.profiles.clone()
            onboarding_states=page.onboarding_states.clone()
            device_groups=page.device_groups.clone()
            tags=page.tags.clone()
        />
        <div class="list-toolbar">
            <span class="list-count" data-testid="endpoint-count">
                {if page.total == 0 { "No endpoint matches these filters.".to_owned() }
                 else { format!("{first}–{last} of {} endpoints", page.total) }}
            </span>
            <span class="toolbar-actions">
                <a class="button-secondary" href="/endpoints/import">"Import scan"</a>
                <a class="button-secondary" href=export download="endpoints.csv" rel="external">"Export CSV"</a>
            </span>
        </div>
        <DataTable class="endpoint-table" headings={vec![sorted(&q, SortKey::Risk, "Risk"), sorted(&q, SortKey::Mac, "MAC"), sorted(&q, SortKey::Ip, "IP"), sorted(&q, SortKey::Hostname, "Hostname"), sorted(&q, SortKey::Vendor, "MAC vendor"), sorted(&q, SortKey::Profile, "Profile"), sorted(&q, SortKey::Os, "OS"), Heading::Text("Sources"), Heading::Text("Defender"), Heading::Text("Device group"), sorted(&q, SortKey::LastSeen, "Last seen")]}
            rows={page.rows.into_iter().map(|row| view! { <EndpointRowView row/> }).collect::<Vec<_>>()}/>
        <Pager page=q.page previous=prev next/>
    }
    .into_any()
}

/// A header of the list sorting by `key`.
/// A heading that sorts the list by its column: descending first, ascending when it is so already.
fn sorted(query: &EndpointQuery, key: SortKey, label: &'static str) -> Heading {
    let active = query.sort == key.as_str();
    let descending = query.dir == "desc";
    let href = href(&EndpointQuery {
        sort: key.as_str().into(),
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
fn FilterBar(
    query: EndpointQuery,
    profiles: Vec<String>,
    onboarding_states: Vec<String>,
    device_groups: Vec<String>,
    tags: Vec<String>,
) -> impl IntoView {
    let option = |value: String, label: String, selected: bool| {
        view! { <option value=value selected=selected>{label}</option> }
    };
    let risk_options = RiskLevel::ALL
        .into_iter()
        .rev()
        .map(|r| {
            option(
                r.as_str().into(),
                r.as_str().into(),
                query.risk == r.as_str(),
            )
        })
        .collect_view();
    // A choice per value, shown as itself.
    let named = |values: Vec<String>, selected: &dyn Fn(&str) -> bool| {
        values
            .into_iter()
            .map(|v| option(v.clone(), v.clone(), selected(&v)))
            .collect_view()
    };
    let profile_options = named(profiles, &|p| query.profile == p);
    let source_options = [
        ("network", "Network"),
        ("defender", "Defender"),
        ("both", "Both"),
        ("defender_only", "Defender only"),
    ]
    .into_iter()
    .map(|(v, l)| option(v.into(), l.into(), query.source == v))
    .collect_view();
    let onboarding_options = std::iter::once("none".to_owned())
        .chain(onboarding_states)
        .map(|o| {
            let label = if o == "none" {
                "Not in Defender".to_owned()
            } else {
                o.clone()
            };
            option(o.clone(), label, query.onboarding == o)
        })
        .collect_view();
    let group_options = named(device_groups, &|g| query.group == g);
    let tag_options = named(tags, &|t| query.tag.eq_ignore_ascii_case(t));
    view! {
        <Form method="GET" action="/endpoints" attr:class="filter-bar" attr:role="search">
            <label>"Search"
                <input type="search" name="q" value=query.q.clone() placeholder="MAC, IP or hostname"/>
            </label>
            <label>"Risk"
                <select name="risk"><option value="">"Any"</option>{risk_options}</select>
            </label>
            <label>"Profile"
                <select name="profile"><option value="">"Any"</option>{profile_options}</select>
            </label>
            <label>"Source"
                <select name="source"><option value="">"Any"</option>{source_options}</select>
            </label>
            <label>"Onboarding"
                <select name="onboarding"><option value="">"Any"</option>{onboarding_options}</select>
            </label>
            <label>"Device group"
                <select name="group"><option value="">"Any"</option>{group_options}</select>
            </label>
            <label>"Tag"
                <select name="tag"><option value="">"Any"</option>{tag_options}</select>
            </label>
            <input type="hidden" name="sort" value=query.sort.clone()/>
            <input type="hidden" name="dir" value=query.dir.clone()/>
            <button type="submit" class="button-primary">"Apply"</button>
            <a href="/endpoints">"Clear"</a>
        </Form>
    }
    .into_any()
}

#[component]
fn EndpointRowView(row: EndpointRow) -> impl IntoView {
    let link = format!("/endpoints/{}", row.id);
    let cell_link = |text: Option<String>| {
        let link = link.clone();
        text.map(|t| view! { <A href=link>{t}</A> })
    };
    let sources = match (row.source_network, row.source_defender) {
        (true, true) => "Network, Defender",
        (true, false) => "Network",
        (false, true) => "Defender",
        (false, false) => "—",
    };
    let profile = match (&row.profile_name, &row.match_level) {
        (Some(p), Some(l)) => format!("{p} ({})", match_level_label(l)),
        (Some(p), None) => p.clone(),
        _ => "Unprofiled".into(),
    };
    view! {
        <tr class:inactive=row.inactive>
            <td><RiskBadge level=row.risk_level/></td>
            <td class="mono">{cell_link(row.mac.clone())}</td>
            <td class="mono">{cell_link(row.ip.clone())}</td>
            <td>{cell_link(row.hostname.clone())}</td>
            <td>{row.mac_vendor.clone()}</td>
            <td>{profile}</td>
            <td>{row.os.clone()}</td>
            <td>{sources}</td>
            <td>{row.onboarding_status.clone().unwrap_or_else(|| "—".into())}</td>
            <td>
                {row.device_group.clone().unwrap_or_else(|| "—".into())}
                {row.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view()}
            </td>
            <td><Time at=row.last_seen.clone()/></td>
        </tr>
    }
    .into_any()
}
