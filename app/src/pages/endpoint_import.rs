//! Endpoints > Import: upload an nmap XML report. A plain multipart form (works without
//! JavaScript); the server answers with a redirect back here and keeps the outcome in the
//! session, which this page takes and shows once.

use leptos::prelude::*;

use crate::api::import_outcome::take_import_outcome;
use crate::model::import::ImportOutcome;

#[component]
pub fn EndpointImportPage() -> impl IntoView {
    let outcome = Resource::new(|| (), |_| take_import_outcome());
    let banner = move || {
        outcome.get().and_then(Result::ok).flatten().map(|outcome| match outcome {
            ImportOutcome::Failed { message } => view! {
                <div class="banner banner-error" role="alert" data-testid="import-error">
                    "Nothing was imported. " {message}
                </div>
            }
            .into_any(),
            ImportOutcome::Imported { observations, added, updated, skipped_without_mac } => view! {
                <div class="banner banner-ok" role="status" data-testid="import-result">
                    {format!("Imported {observations} hosts: {added} new endpoints, {updated} updated, {skipped_without_mac} without a MAC skipped.")}
                    " " <a href="/endpoints?source=network">"See them"</a>
                </div>
            }
            .into_any(),
        })
    };
    view! {
        <h1>"Import a network scan"</h1>
        <Suspense>{banner}</Suspense>
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
