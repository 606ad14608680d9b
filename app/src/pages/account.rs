//! Account: who you are signed in as, a link to change your password, and your sessions with
//! "Sign out everywhere". Any role.

mod session_table;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::account::{list_sessions, EndSession};
use crate::api::auth::me;
use crate::components::feedback::error_banner::ErrorBanner;
use crate::pages::change_password::CHANGE_PASSWORD_PATH;
use session_table::SessionTable;

#[component]
pub fn AccountPage() -> impl IntoView {
    let query = use_query_map();
    let end = ServerAction::<EndSession>::new();
    let user = Resource::new(|| (), |_| me());
    let sessions = Resource::new(move || end.version().get(), |_| list_sessions());
    let changed = move || query.with(|q| q.get("changed").as_deref() == Some("password"));

    view! {
        <h1>"Your account"</h1>
        <Show when=changed>
            <p class="banner banner-ok" role="status">
                "Your password was changed. Your other sessions were signed out."
            </p>
        </Show>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! {
                        <dl class="facts">
                            <dt>"Username"</dt><dd>{user.username}</dd>
                            <dt>"Role"</dt><dd>{user.role.as_str()}</dd>
                        </dl>
                    }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
        <p><a href=CHANGE_PASSWORD_PATH>"Change password"</a></p>
        <h2>"Sessions"</h2>
        <p class="hint">
            "Every browser signed in to your account. A session ends after a while without \
             activity, and some hours after sign-in in any case."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Ok(rows) => view! { <SessionTable rows end/> }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
        {move || end.value().get().and_then(Result::err).map(|error| view! { <ErrorBanner error/> })}
        // A plain form: it ends this session too, so the answer is a redirect to sign-in.
        <form method="post" action="/api/account/sessions/end_all">
            <button type="submit" class="button-danger">"Sign out everywhere"</button>
        </form>
    }
}
