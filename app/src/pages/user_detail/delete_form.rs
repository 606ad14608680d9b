//! `DeleteForm`: deleting an account, confirmed by typing its username (which works without
//! JavaScript, unlike a dialog).

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::users::DeleteUser;
use crate::components::feedback::error_banner::ErrorBanner;

#[component]
pub fn DeleteForm(id: i64, username: String) -> impl IntoView {
    let delete = ServerAction::<DeleteUser>::new();
    let navigate = use_navigate();
    // Without JavaScript the server redirects to the list itself.
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/configuration/users", Default::default());
        }
    });
    let hint = format!(
        "Deleting ends the account's sessions and cannot be undone; its audit entries stay. \
         Type \u{201c}{username}\u{201d} to confirm."
    );
    view! {
        <section class="panel" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete"</h2>
            <p class="hint">{hint}</p>
            <ActionForm action=delete attr:class="stacked-form">
                <input type="hidden" name="id" value=id/>
                <label for="delete-confirm">"Username to confirm"</label>
                <input id="delete-confirm" name="confirm" type="text" autocomplete="off"
                    required=true/>
                <button type="submit" class="button-danger">"Delete user"</button>
            </ActionForm>
            {move || delete.value().get().and_then(Result::err).map(|error| view! { <ErrorBanner error/> })}
        </section>
    }
}
