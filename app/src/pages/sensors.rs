//! Configuration > Sensors: the API tokens network sensors push discovery data with
//! (Administrators only). A new token's value is shown once, right after it is made: the
//! server keeps only its hash.

mod token_table;

use leptos::prelude::*;

use crate::api::api_tokens::{list_api_tokens, CreateApiToken, RevokeApiToken};
use crate::components::feedback::error_banner::ErrorBanner;
use crate::model::api_token::NewApiToken;
use token_table::TokenTable;

#[component]
pub fn SensorsPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );

    view! {
        <h1>"Sensors"</h1>
        <p class="hint">
            "Sensors post what they see on the network to "<code>"POST /api/ingest/sensor"</code>
            " with the header "<code>"Authorization: Bearer <token>"</code>
            ". Give each sensor its own token, so that one can be revoked alone."
        </p>
        <h2>"API tokens"</h2>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(rows) => view! { <TokenTable rows revoke/> }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
        {move || revoke.value().get().and_then(Result::err).map(|error| view! { <ErrorBanner error/> })}
        <h2>"Create a token"</h2>
        <ActionForm action=create attr:class="stacked-form">
            <label for="token-name">"Name"</label>
            <input id="token-name" name="name" type="text" required=true maxlength="64"
                placeholder="e.g. branch-01 sensor"/>
            <button type="submit" class="button-primary">"Create token"</button>
        </ActionForm>
        {move || create.value().get().map(|result| match result {
            Ok(created) => view! { <NewTokenNotice created/> }.into_any(),
            Err(error) => view! { <ErrorBanner error/> }.into_any(),
        })}
    }
}

/// The one showing of a new token's value. It lives only in this page's memory: leaving
/// the page forgets it, and the server has no way to show it again.
#[component]
fn NewTokenNotice(created: NewApiToken) -> impl IntoView {
    view! {
        <div class="banner banner-ok new-token" role="status">
            <p>{format!("Created the token \u{201c}{}\u{201d}. Copy it now: it will not be shown again.", created.name)}</p>
            <label for="new-token-value">"Token"</label>
            <input id="new-token-value" class="mono" type="text" readonly=true autocomplete="off"
                spellcheck="false" value=created.token/>
        </div>
    }
}
