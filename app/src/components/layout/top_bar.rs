//! `TopBar`: product name, the signed-in user and Log out.

use leptos::prelude::*;

use crate::components::sync_status::SyncBadge;
use crate::model::user::UserDto;

#[component]
pub fn TopBar(user: UserDto) -> impl IntoView {
    view! {
        <header class="top-bar">
            <a class="brand" href="/">"Endpoint Analytics"</a>
            <SyncBadge/>
            <div class="top-bar-user">
                <a class="user-name" href="/account" title="Your account" data-testid="current-user">
                    {user.username}
                </a>
                <span class="user-role">{user.role.as_str()}</span>
                // A plain form: logging out must work before hydration and without JavaScript.
                <form method="post" action="/api/auth/logout">
                    <button type="submit" class="button-link">"Log out"</button>
                </form>
            </div>
        </header>
    }
    .into_any()
}
