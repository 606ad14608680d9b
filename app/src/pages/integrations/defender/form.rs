//! `DefenderEditor`: the settings form with inline validation, Save and Test Connection.
//!
//! The browser checks the fields with the same function as the server, so mistakes show at
//! once; the server checks again and its answer wins. The secret field is write-only: it
//! starts empty, and empty means "keep the stored secret".

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::report::ConnectionReportView;
use crate::api::integrations::{SaveDefender, TestDefender};
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::time::Time;
use crate::error::{ConsoleError, FieldError};
use crate::model::defender_change::{check_defender_change, DefenderDestination, Stored};
use crate::model::integration::{
    validate_defender_form, CloudChoice, ConnectionReport, DefenderConfigView, DefenderForm,
    IntegrationState,
};

#[derive(Clone, Copy)]
struct Fields {
    tenant_id: RwSignal<String>,
    client_id: RwSignal<String>,
    client_secret: RwSignal<String>,
    cloud: RwSignal<String>,
    geo_api_host: RwSignal<String>,
    custom_login_url: RwSignal<String>,
    custom_api_url: RwSignal<String>,
    enabled: RwSignal<bool>,
    import_groups: RwSignal<String>,
}

impl Fields {
    fn from_saved(saved: &DefenderConfigView) -> Self {
        Self {
            tenant_id: RwSignal::new(saved.tenant_id.clone()),
            client_id: RwSignal::new(saved.client_id.clone()),
            client_secret: RwSignal::new(String::new()),
            cloud: RwSignal::new(saved.cloud.clone()),
            geo_api_host: RwSignal::new(saved.geo_api_host.clone()),
            custom_login_url: RwSignal::new(saved.custom_login_url.clone()),
            custom_api_url: RwSignal::new(saved.custom_api_url.clone()),
            enabled: RwSignal::new(saved.enabled),
            import_groups: RwSignal::new(saved.import_groups.join("\n")),
        }
    }

    fn form(&self) -> DefenderForm {
        DefenderForm {
            tenant_id: self.tenant_id.get_untracked().trim().to_owned(),
            client_id: self.client_id.get_untracked().trim().to_owned(),
            client_secret: self.client_secret.get_untracked(),
            cloud: self.cloud.get_untracked(),
            geo_api_host: self.geo_api_host.get_untracked().trim().to_owned(),
            custom_login_url: self.custom_login_url.get_untracked().trim().to_owned(),
            custom_api_url: self.custom_api_url.get_untracked().trim().to_owned(),
            enabled: self.enabled.get_untracked(),
            import_groups: self.import_groups.get_untracked(),
        }
    }
}

fn enabled_arg(enabled: bool) -> Option<String> {
    enabled.then(|| "on".to_owned())
}

#[component]
pub fn DefenderEditor(
    saved: DefenderConfigView,
    /// The report of a Test Connection posted without JavaScript, for the page it returned to.
    posted_test: Resource<Result<Option<ConnectionReport>, ConsoleError>>,
) -> impl IntoView {
    let can_edit = saved.can_edit;
    let can_choose_hosts = saved.can_choose_hosts;
    let fields = Fields::from_saved(&saved);
    let saved = RwSignal::new(saved);
    let client_errors = RwSignal::new(Vec::<FieldError>::new());
    let save = ServerAction::<SaveDefender>::new();
    let test = ServerAction::<TestDefender>::new();

    // A successful save becomes the new saved state; the secret field empties again.
    Effect::new(move |_| {
        if let Some(Ok(view)) = save.value().get() {
            saved.set(view);
            fields.client_secret.set(String::new());
        }
    });

    let check = move || {
        let form = fields.form();
        let mut errors = validate_defender_form(&form, saved.with_untracked(|s| s.secret_set));
        if errors.is_empty() {
            errors = saved.with_untracked(|s| {
                let destination = DefenderDestination::of_view(s);
                let stored = Stored {
                    destination: (s.state != IntegrationState::NotConfigured)
                        .then_some(&destination),
                    secret_stored: s.secret_set,
                };
                check_defender_change(stored, &form, s.can_choose_hosts)
            });
        }
        client_errors.set(errors.clone());
        errors.is_empty().then_some(form)
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Some(f) = check() {
            save.dispatch(SaveDefender {
                tenant_id: f.tenant_id,
                client_id: f.client_id,
                client_secret: f.client_secret,
                cloud: f.cloud,
                geo_api_host: f.geo_api_host,
                custom_login_url: f.custom_login_url,
                custom_api_url: f.custom_api_url,
                enabled: enabled_arg(f.enabled),
                import_groups: f.import_groups,
            });
        }
    };
    let on_test = move |ev: leptos::ev::MouseEvent| {
        // The button also posts the form to the test fn, for a browser without JavaScript.
        ev.prevent_default();
        if let Some(f) = check() {
            test.dispatch(TestDefender {
                tenant_id: f.tenant_id,
                client_id: f.client_id,
                client_secret: f.client_secret,
                cloud: f.cloud,
                geo_api_host: f.geo_api_host,
                custom_login_url: f.custom_login_url,
                custom_api_url: f.custom_api_url,
                enabled: enabled_arg(f.enabled),
            });
        }
    };

    // Inline message for one field: the browser's own check first, then the server's verdict.
    let message = move |name: &'static str| {
        move || {
            client_errors
                .with(|errs| {
                    errs.iter()
                        .find(|e| e.field == name)
                        .map(|e| e.message.clone())
                })
                .or_else(|| {
                    save.value().with(|v| match v {
                        Some(Err(e)) => e.message_for(name),
                        _ => None,
                    })
                })
                .or_else(|| {
                    test.value().with(|v| match v {
                        Some(Err(e)) => e.message_for(name),
                        _ => None,
                    })
                })
                .map(|m| view! { <span class="field-error" role="alert">{m}</span> })
        }
    };
    let other_save_error = move || match save.value().get() {
        Some(Err(ConsoleError::InvalidForm { .. }))
        | Some(Err(ConsoleError::Validation { .. })) => None,
        Some(Err(error)) => Some(view! { <ErrorBanner error/> }),
        _ => None,
    };
    let secret_state = move || {
        saved.with(|s| match (s.secret_set, &s.secret_changed_at) {
            (true, Some(at)) => view! {
                "A secret is set (last changed "<Time at=at.clone()/>"). Leave empty to keep it."
            }
            .into_any(),
            (true, None) => "A secret is set. Leave empty to keep it.".into_any(),
            (false, _) => "No secret stored yet.".into_any(),
        })
    };

    view! {
        <StatusLine saved/>
        {move || saved.with(|s| s.demo).then(|| view! {
            <p class="banner banner-demo" role="note">
                "Demo tenant: this integration points at the built-in Defender simulator, not at Microsoft."
            </p>
        })}
        {(!can_edit).then(|| view! {
            <p class="banner banner-info" role="note">"Your role can view these settings but not change them."</p>
        })}
        // `bind:` sets properties, which the server cannot render: each bound field also
        // carries its saved value as an attribute, so a page read without JavaScript shows the
        // settings and posts them back.
        <form class="settings-form" method="post" action="/api/integrations/defender/save"
            on:submit=on_submit novalidate=true>
            <fieldset disabled=!can_edit>
                <label for="defender-tenant">"Tenant ID"</label>
                <input id="defender-tenant" name="tenant_id" type="text" bind:value=fields.tenant_id value=fields.tenant_id.get_untracked()
                    placeholder="GUID or contoso.onmicrosoft.com" autocomplete="off"/>
                {message("tenant_id")}

                <label for="defender-client">"Client ID"</label>
                <input id="defender-client" name="client_id" type="text" bind:value=fields.client_id value=fields.client_id.get_untracked()
                    placeholder="00000000-0000-0000-0000-000000000000" autocomplete="off"/>
                {message("client_id")}

                <label for="defender-secret">"Client secret"</label>
                <input id="defender-secret" name="client_secret" type="password"
                    bind:value=fields.client_secret autocomplete="new-password"/>
                <span class="hint" data-testid="secret-state">{secret_state}</span>
                {message("client_secret")}

                <label for="defender-cloud">"Cloud"</label>
                <select id="defender-cloud" name="cloud"
                    on:change=move |ev| fields.cloud.set(event_target_value(&ev))
                    prop:value=move || fields.cloud.get()>
                    {CloudChoice::ALL.into_iter().map(|c| view! {
                        <option value=c.as_str() selected=move || fields.cloud.get() == c.as_str()>
                            {c.label()}
                        </option>
                    }).collect_view()}
                </select>
                {message("cloud")}

                // Read-only rather than disabled, so a form posted without JavaScript still
                // sends the stored hosts (an empty value would be a change).
                <details class="advanced">
                    <summary>"Advanced"</summary>
                    // A wrapper, since Chromium does not lay out a <details>' own children as
                    // flex items: they ran on in one line.
                    <div class="advanced-fields">
                    {(can_edit && !can_choose_hosts).then(|| view! {
                        <p class="hint" role="note">
                            "Only an Administrator can change where the credentials are sent."
                        </p>
                    })}
                    <label for="defender-geo">"Geo API host (optional)"</label>
                    <input id="defender-geo" name="geo_api_host" type="text" bind:value=fields.geo_api_host value=fields.geo_api_host.get_untracked()
                        readonly=!can_choose_hosts placeholder="api-eu.securitycenter.microsoft.com"/>
                    {message("geo_api_host")}
                    <label for="defender-login-url">"Custom login base URL (optional)"</label>
                    <input id="defender-login-url" name="custom_login_url" type="text"
                        readonly=!can_choose_hosts bind:value=fields.custom_login_url value=fields.custom_login_url.get_untracked()
                        placeholder="https://login.proxy.example"/>
                    {message("custom_login_url")}
                    <label for="defender-api-url">"Custom API base URL (optional)"</label>
                    <input id="defender-api-url" name="custom_api_url" type="text"
                        readonly=!can_choose_hosts bind:value=fields.custom_api_url value=fields.custom_api_url.get_untracked()
                        placeholder="https://api.proxy.example"/>
                    {message("custom_api_url")}
                    </div>
                </details>

                <label for="defender-import-groups">"Import only these device groups (optional)"</label>
                <textarea id="defender-import-groups" name="import_groups" rows="3"
                    bind:value=fields.import_groups placeholder="Servers">
                    // A textarea's first value is its text, which a post without JavaScript sends.
                    {fields.import_groups.get_untracked()}
                </textarea>
                <span class="hint">
                    "One Defender device group per line, as the endpoint list names them; empty imports every group. Machines of other groups are not imported, and endpoints already imported from them are left as they are."
                </span>
                {message("import_groups")}

                <label class="checkbox">
                    <input name="enabled" type="checkbox" value="on" bind:checked=fields.enabled
                        checked=fields.enabled.get_untracked()/>
                    "Enabled (sync now, then every hour)"
                </label>
            </fieldset>
            {can_edit.then(|| view! {
                <div class="form-actions">
                    <button type="submit" formaction="/api/integrations/defender/test"
                        formnovalidate=true class="button-secondary" on:click=on_test
                        disabled=move || test.pending().get()>
                        {move || if test.pending().get() { "Testing…" } else { "Test Connection" }}
                    </button>
                    <button type="submit" class="button-primary" disabled=move || save.pending().get()>
                        "Save"
                    </button>
                </div>
            })}
            {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! {
                <p class="banner banner-ok" role="status">"Saved."</p>
            })}
            {other_save_error}
        </form>
        {move || test.value().get().map(|result| match result {
            Ok(report) => view! { <ConnectionReportView report/> }.into_any(),
            Err(error) => view! { <ErrorBanner error/> }.into_any(),
        })}
        // Until a test runs here, the report of one posted without JavaScript.
        {move || test.value().with(Option::is_none).then(|| view! {
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    posted_test
                        .await
                        .ok()
                        .flatten()
                        .map(|report| view! { <ConnectionReportView report/> })
                })}
            </Suspense>
        })}
    }
    .into_any()
}

#[component]
fn StatusLine(saved: RwSignal<DefenderConfigView>) -> impl IntoView {
    view! {
        <dl class="status-line">
            <dt>"State"</dt>
            <dd>
                {move || saved.with(|s| view! {
                    <span class=s.state.css_class() data-testid="integration-state">{s.state.label()}</span>
                })}
                {move || saved.with(|s| s.last_error.clone()).map(|e| view! {
                    <div class="state-error-detail">{e}</div>
                })}
            </dd>
            <dt>"Last sync"</dt>
            <dd>{move || saved.with(|s| {
                let outcome = s
                    .last_sync_outcome
                    .clone()
                    .filter(|_| s.last_sync_at.is_some())
                    .map(|o| format!(" — {o}"));
                view! { <Time at=s.last_sync_at.clone() missing="Never"/>{outcome} }
            })}</dd>
            <dt>"Next sync"</dt>
            <dd>{move || saved.with(|s| view! { <Time at=s.next_sync_at.clone() missing="Not scheduled"/> })}</dd>
        </dl>
    }
    .into_any()
}
