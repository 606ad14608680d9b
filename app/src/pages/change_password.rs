//! Account > Change password: the current password and a new one, twice. The only page a user
//! who must change their password can reach.

use leptos::prelude::*;

use crate::api::account::{ChangePassword, PASSWORD_CHANGED_PATH};
use crate::api::auth::me;
use crate::components::feedback::error_banner::ErrorBanner;
use crate::error::ConsoleError;

pub const CHANGE_PASSWORD_PATH: &str = "/account/password";

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let user = Resource::new(|| (), |_| me());
    // A full load rather than a route change: the shell read the account at its own load and
    // must see that the change is done.
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            let _ = window().location().set_href(PASSWORD_CHANGED_PATH);
        }
    });
    let message = move |name: &'static str| {
        move || {
            change
                .value()
                .with(|v| match v {
                    Some(Err(e)) => e.message_for(name),
                    _ => None,
                })
                .map(|m| view! { <span class="field-error" role="alert">{m}</span> })
        }
    };
    let other_error = move || match change.value().get() {
        Some(Err(ConsoleError::Validation { .. })) => None,
        Some(Err(error)) => Some(view! { <ErrorBanner error/> }),
        _ => None,
    };

    view! {
        <h1>"Change password"</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let forced = matches!(user.await, Ok(Some(ref u)) if u.must_change_password);
                forced.then(|| view! {
                    <p class="banner banner-warn" role="note">
                        "Your password was set for you (by an administrator, or at the first \
                         start). Choose your own before you continue."
                    </p>
                })
            })}
        </Suspense>
        <p class="hint">
            "Changing your password signs out your other sessions; this one stays signed in."
        </p>
        <ActionForm action=change attr:class="stacked-form">
            <label for="current-password">"Current password"</label>
            <input id="current-password" name="current_password" type="password"
                autocomplete="current-password" required=true/>
            {message("current_password")}
            <label for="new-password">"New password"</label>
            <input id="new-password" name="new_password" type="password"
                autocomplete="new-password" required=true minlength="12"/>
            {message("new_password")}
            <label for="new-password-again">"Repeat the new password"</label>
            <input id="new-password-again" name="new_password_again" type="password"
                autocomplete="new-password" required=true minlength="12"/>
            {message("new_password_again")}
            <button type="submit" class="button-primary">"Change password"</button>
        </ActionForm>
        {other_error}
    }
}
