//! The sign-in page: a plain HTML form, so it works before hydration and without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query.with(|q| match q.get("error").as_deref() {
            Some("invalid") => Some("Wrong username or password."),
            Some("throttled") => Some("Too many failed attempts. Wait a few minutes and retry."),
            Some(_) => Some("Sign-in failed. Try again."),
            None => None,
        })
    };
    let next = move || {
        query
            .with(|q| q.get("next"))
            .unwrap_or_else(|| "/".to_owned())
    };

    view! {
        <main class="login-page">
            <form class="login-form" method="post" action="/api/auth/login">
                <h1>"Endpoint Analytics"</h1>
                <p class="login-subtitle">"Sign in to the console"</p>
                {move || error().map(|message| view! {
                    <div class="banner banner-error" role="alert">{message}</div>
                })}
                <label for="login-username">"Username"</label>
                <input id="login-username" name="username" type="text"
                    autocomplete="username" required=true autofocus=true/>
                <label for="login-password">"Password"</label>
                <input id="login-password" name="password" type="password"
                    autocomplete="current-password" required=true/>
                <input type="hidden" name="next" prop:value=next/>
                <button type="submit" class="button-primary">"Sign in"</button>
            </form>
        </main>
    }
}
