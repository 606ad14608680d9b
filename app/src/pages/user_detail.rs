//! Configuration > Users > one user (Administrators only): the account's state, and the
//! lifecycle changes: role, disable or enable, password reset, delete. Each is a plain form,
//! so all of them work before hydration.

mod delete_form;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::users::{get_user, DisableUser, EnableUser, ResetUserPassword, SetUserRole};
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::time::Time;
use crate::error::ConsoleError;
use crate::model::account::AccountView;
use crate::model::user::Role;
use delete_form::DeleteForm;

/// The forms of the page, so each can say how its last submission went.
#[derive(Clone, Copy)]
struct Changes {
    role: ServerAction<SetUserRole>,
    disable: ServerAction<DisableUser>,
    enable: ServerAction<EnableUser>,
    reset: ServerAction<ResetUserPassword>,
}

#[component]
pub fn UserDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok())));
    let changes = Changes {
        role: ServerAction::new(),
        disable: ServerAction::new(),
        enable: ServerAction::new(),
        reset: ServerAction::new(),
    };
    let account = Resource::new(
        move || {
            (
                id.get(),
                changes.role.version().get(),
                changes.disable.version().get(),
                changes.enable.version().get(),
                changes.reset.version().get(),
            )
        },
        |(id, ..)| async move {
            match id {
                Some(id) => get_user(id).await,
                None => Err(ConsoleError::NotFound),
            }
        },
    );

    view! {
        <p><a href="/configuration/users">"Back to the users"</a></p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(account) => view! { <UserPanel account changes/> }.into_any(),
                    Err(error) => view! { <h1>"User"</h1><ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What the last submission of a form came to: a confirmation, or the error.
fn outcome<A>(action: ServerAction<A>, done: &'static str) -> impl IntoView
where
    A: leptos::server_fn::ServerFn<Output = (), Error = ConsoleError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    move || {
        action.value().get().map(|result| match result {
            Ok(()) => view! { <p class="banner banner-ok" role="status">{done}</p> }.into_any(),
            Err(error) => view! { <ErrorBanner error/> }.into_any(),
        })
    }
}

#[component]
fn UserPanel(account: AccountView, changes: Changes) -> impl IntoView {
    let id = account.id;
    let state = account.state_label();
    let state_class = if account.disabled {
        "state state-disabled"
    } else {
        "state state-enabled"
    };
    let role = account.role;
    let access = if account.disabled {
        view! {
            <ActionForm action=changes.enable>
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="button-primary">"Enable"</button>
            </ActionForm>
            {outcome(changes.enable, "Enabled: the user can sign in again.")}
        }
        .into_any()
    } else {
        view! {
            <p class="hint">"Disabling signs the user out everywhere and refuses their sign-in."</p>
            <ActionForm action=changes.disable>
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="button-danger">"Disable"</button>
            </ActionForm>
            {outcome(changes.disable, "Disabled, and signed out everywhere.")}
        }
        .into_any()
    };

    view! {
        <h1>{format!("User {}", account.username)}</h1>
        <dl class="facts">
            <dt>"Role"</dt><dd>{role.as_str()}</dd>
            <dt>"State"</dt><dd><span class=state_class>{state}</span></dd>
            <dt>"Created"</dt><dd><Time at=account.created_at.clone()/></dd>
        </dl>

        <section class="panel" aria-labelledby="role-heading">
            <h2 id="role-heading">"Role"</h2>
            <ActionForm action=changes.role attr:class="stacked-form">
                <input type="hidden" name="id" value=id/>
                <label for="user-role">"Role"</label>
                <select id="user-role" name="role">
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=r == role>{r.as_str()}</option>
                    }).collect_view()}
                </select>
                <button type="submit" class="button-primary">"Change role"</button>
            </ActionForm>
            {outcome(changes.role, "Role changed: it applies from the user's next request.")}
        </section>

        <section class="panel" aria-labelledby="access-heading">
            <h2 id="access-heading">"Access"</h2>
            {access}
        </section>

        <section class="panel" aria-labelledby="reset-heading">
            <h2 id="reset-heading">"Reset password"</h2>
            <p class="hint">
                "Sets a temporary password and signs the user out everywhere; they must choose \
                 their own at their next sign-in. Give it to them by a channel you trust."
            </p>
            <ActionForm action=changes.reset attr:class="stacked-form">
                <input type="hidden" name="id" value=id/>
                <label for="temporary-password">"Temporary password"</label>
                <input id="temporary-password" name="password" type="password"
                    autocomplete="new-password" required=true minlength="12"/>
                <button type="submit" class="button-secondary">"Reset password"</button>
            </ActionForm>
            {outcome(changes.reset, "Password reset: the user must change it at sign-in.")}
        </section>

        <DeleteForm id username=account.username.clone()/>
    }
    .into_any()
}
