//! Endpoints > Import: upload an nmap XML report. A plain multipart form (works without
//! JavaScript); the server answers with a redirect back here carrying the outcome.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn EndpointImportPage() -> impl IntoView {
    let query = use_query_map();
    let outcome = move || {
        query.with(|q| {
            if let Some(error) = q.get("error") {
                return Some(view! {
                    <div class="banner banner-error" role="alert" data-testid="import-error">
                        "Nothing was imported. " {error}
                    </div>
                }.into_any());
            }
            q.get("observations").map(|n| {
                let added = q.get("added").unwrap_or_default();
                let updated = q.get("updated").unwrap_or_default();
                let skipped = q.get("skipped").unwrap_or_default();
                view! {
                    <div class="banner banner-ok" role="status" data-testid="import-result">
                        {format!("Imported {n} hosts: {added} new endpoints, {updated} updated, {skipped} without a MAC skipped.")}
                        " " <a href="/endpoints?source=network">"See them"</a>
                    </div>
                }.into_any()
            })
        })
    };
    view! {
        <h1>"Import a network scan"</h1>
        {outcome}
        <form class="stacked-form" method="post" action="/api/endpoints/import" enctype="multipart/form-data">
            <label for="import-file">"nmap XML file"</label>
            <input id="import-file" name="file" type="file" accept=".xml,text/xml,application/xml" required=true/>
            <p class="hint">
                "Produce it with " <code>"nmap -oX scan.xml"</code> " (add " <code>"-O"</code>
                " or " <code>"-sV"</code> " for OS and service details). Up to 64 MiB; the whole file is checked before anything is saved."
            </p>
            <button type="submit" class="button-primary">"Import"</button>
        </form>
    }
}
