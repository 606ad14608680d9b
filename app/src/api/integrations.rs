//! Configuration > Integrations: the list, the Microsoft Defender settings, Test Connection.
//!
//! The Defender fns take the form's fields flat, so the same HTML form also posts without
//! JavaScript. That makes eight arguments, which the generated client stubs repeat, hence the
//! module-wide allowance.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::model::integration::{
    ConnectionReport, DefenderConfigView, DefenderForm, IntegrationSummary,
};

pub fn defender_form(
    tenant_id: String,
    client_id: String,
    client_secret: String,
    cloud: String,
    geo_api_host: String,
    custom_login_url: String,
    custom_api_url: String,
    enabled: Option<String>,
    import_groups: String,
) -> DefenderForm {
    DefenderForm {
        tenant_id: tenant_id.trim().to_owned(),
        client_id: client_id.trim().to_owned(),
        client_secret,
        cloud,
        geo_api_host: geo_api_host.trim().to_owned(),
        custom_login_url: custom_login_url.trim().to_owned(),
        custom_api_url: custom_api_url.trim().to_owned(),
        // An HTML checkbox sends its value only when ticked.
        enabled: enabled.is_some_and(|v| !v.is_empty() && v != "false"),
        import_groups,
    }
}

#[server(endpoint = "integrations/list")]
pub async fn list_integrations() -> Result<Vec<IntegrationSummary>, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, _) = require(Capability::Read).await?;
    backend.integrations().await.map_err(reject)
}

#[server(endpoint = "integrations/defender/get")]
pub async fn defender_config() -> Result<DefenderConfigView, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, user) = require(Capability::Read).await?;
    backend.defender_config(&user).await.map_err(reject)
}

#[server(endpoint = "integrations/defender/save")]
pub async fn save_defender(
    tenant_id: String,
    client_id: String,
    #[server(default)] client_secret: String,
    cloud: String,
    #[server(default)] geo_api_host: String,
    #[server(default)] custom_login_url: String,
    #[server(default)] custom_api_url: String,
    #[server(default)] enabled: Option<String>,
    #[server(default)] import_groups: String,
) -> Result<DefenderConfigView, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, user) = require(Capability::Operate).await?;
    let form = defender_form(
        tenant_id,
        client_id,
        client_secret,
        cloud,
        geo_api_host,
        custom_login_url,
        custom_api_url,
        enabled,
        import_groups,
    );
    backend.save_defender(&user, form).await.map_err(reject)
}

/// Where the report of a Test Connection posted without JavaScript waits, in the user's session,
/// for the page the post returns to (which takes it out, so it shows once).
#[cfg(feature = "ssr")]
const POSTED_TEST_REPORT: &str = "posted_connection_test";

/// Tests the form's values as they are, without saving; an empty secret means the stored one.
/// Posted by a plain form, the report is kept for the page the browser is sent back to.
#[server(endpoint = "integrations/defender/test")]
pub async fn test_defender(
    tenant_id: String,
    client_id: String,
    #[server(default)] client_secret: String,
    cloud: String,
    #[server(default)] geo_api_host: String,
    #[server(default)] custom_login_url: String,
    #[server(default)] custom_api_url: String,
    #[server(default)] enabled: Option<String>,
) -> Result<ConnectionReport, ConsoleError> {
    use crate::api::guard::{reject, require};
    use crate::model::user::Capability;

    let (backend, user) = require(Capability::Operate).await?;
    let form = defender_form(
        tenant_id,
        client_id,
        client_secret,
        cloud,
        geo_api_host,
        custom_login_url,
        custom_api_url,
        enabled,
        // Which groups are imported does not change whether the connection works.
        String::new(),
    );
    let report = backend.test_defender(&user, form).await.map_err(reject)?;
    if crate::api::guard::posted_form() {
        let session = crate::api::guard::session().await?;
        if let Err(e) = session.insert(POSTED_TEST_REPORT, &report).await {
            tracing::warn!(error = %e, "cannot keep the connection test report for the page");
        }
    }
    Ok(report)
}

/// The report of the Test Connection this user posted without JavaScript, once; `None` when
/// there is none waiting.
#[server(endpoint = "integrations/defender/posted_test")]
pub async fn posted_defender_test() -> Result<Option<ConnectionReport>, ConsoleError> {
    use crate::api::guard::{require, session};
    use crate::model::user::Capability;

    require(Capability::Read).await?;
    let session = session().await?;
    // An unreadable entry is as good as none: the user can test again.
    Ok(session
        .remove::<ConnectionReport>(POSTED_TEST_REPORT)
        .await
        .ok()
        .flatten())
}
