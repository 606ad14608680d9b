//! Configuration > Users: accounts, their roles and states (Administrators only). Each
//! account's lifecycle changes are on its own page.

use leptos::prelude::*;

use crate::api::users::{list_users, CreateUser};
use crate::components::data_table::{headings, DataTable, Loaded};
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::time::Time;
use crate::model::account::AccountView;
use crate::model::user::Role;

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let users = Resource::new(move || create.version().get(), |_| list_users());

    view! {
        <h1>"Users"</h1>
        <Loaded data=users ready=user_table/>
        <h2>"Add a user"</h2>
        <ActionForm action=create attr:class="stacked-form">
            <label for="new-username">"Username"</label>
            <input id="new-username" name="username" type="text" required=true/>
            <label for="new-password">"Password"</label>
            <input id="new-password" name="password" type="password" required=true minlength="12"/>
            <label for="new-role">"Role"</label>
            <select id="new-role" name="role">
                {Role::ALL.into_iter().map(|r| view! {
                    <option value=r.as_str()>{r.as_str()}</option>
                }).collect_view()}
            </select>
            <button type="submit" class="button-primary">"Add user"</button>
        </ActionForm>
        {move || create.value().get().map(|result| match result {
            Ok(user) => view! {
                <p class="banner banner-ok" role="status">{format!("Added {}.", user.username)}</p>
            }.into_any(),
            Err(error) => view! { <ErrorBanner error/> }.into_any(),
        })}
    }
}

#[component]
fn UserRow(account: AccountView) -> impl IntoView {
    let href = format!("/configuration/users/{}", account.id);
    let state_class = if account.disabled {
        "state state-disabled"
    } else {
        "state state-enabled"
    };
    view! {
        <tr>
            <td><a href=href>{account.username.clone()}</a></td>
            <td>{account.role.as_str()}</td>
            <td><span class=state_class>{account.state_label()}</span></td>
            <td><Time at=account.created_at.clone()/></td>
        </tr>
    }
    .into_any()
}

fn user_table(users: Vec<AccountView>) -> impl IntoView {
    let rows: Vec<_> = users
        .into_iter()
        .map(|u| view! { <UserRow account=u/> })
        .collect();
    view! { <DataTable headings=headings(&["Username", "Role", "State", "Created"]) rows/> }
}
