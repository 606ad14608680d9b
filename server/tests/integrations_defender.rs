//! Configuration > Integrations > Microsoft Defender against the simulator, over real HTTP and
//! a real SQLite file: Test Connection outcomes, the write-only secret, validation, roles,
//! restarts, and the enable/disable lifecycle.

#[path = "support/app.rs"]
mod support;

use serde_json::Value;
use server::sim::{self, RunningSim, SimApp, SimConfig};
use support::{browser, TestApp};

const SECRET: &str = "Recognisable~Secret.Value-4711";
const TENANT: &str = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
const CLIENT: &str = "2c3d4e5f-6071-4b8c-9d0e-1f2a3b4c5d6e";

async fn simulator() -> RunningSim {
    let mut config = SimConfig::for_tests(20);
    config.apps = vec![SimApp::full_access(
        TENANT,
        Some("fabrikam-test.onmicrosoft.com"),
        CLIENT,
        SECRET,
        "EA tests",
    )];
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// The form as the browser posts it.
fn form<'a>(
    sim: &'a RunningSim,
    tenant: &'a str,
    client: &'a str,
    secret: &'a str,
    enabled: bool,
) -> Vec<(&'static str, &'a str)> {
    let mut fields = vec![
        ("tenant_id", tenant),
        ("client_id", client),
        ("client_secret", secret),
        ("cloud", "commercial"),
        ("geo_api_host", ""),
        ("custom_login_url", sim.base_url()),
        ("custom_api_url", sim.base_url()),
    ];
    if enabled {
        fields.push(("enabled", "on"));
    }
    fields
}

async fn test_connection(
    app: &TestApp,
    client: &reqwest::Client,
    fields: &[(&str, &str)],
) -> Value {
    let res = app.call(client, "integrations/defender/test", fields).await;
    assert_eq!(res.status(), 200, "a failed test is a report, not an error");
    res.json().await.unwrap()
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn test_connection_passes_every_check_with_a_full_access_app() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let report = test_connection(&app, &admin, &form(&sim, TENANT, CLIENT, SECRET, false)).await;
    assert_eq!(report["passed"], true, "{report:#}");
    assert_eq!(check(&report, "Token obtained")["passed"], true);
    let api = check(&report, "API reachable");
    assert!(
        api["detail"].as_str().unwrap().contains("20 machines"),
        "{api}"
    );
    let permissions = report["permissions"].as_array().unwrap();
    assert!(permissions.len() >= 8);
    assert!(permissions.iter().all(|p| p["granted"] == true));
    // Testing saves nothing.
    let config: Value = app
        .call(&admin, "integrations/defender/get", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["state"], "NotConfigured");
}

#[tokio::test]
async fn each_entra_failure_gets_its_own_message() {
    let sim = simulator().await;
    let expired_client = "3d4e5f60-7182-4c9d-8e0f-2a3b4c5d6e7f";
    let mut expired = SimApp::full_access(
        TENANT,
        None,
        expired_client,
        "Old~Secret.Value-1",
        "expired",
    );
    expired.secret_expired = true;
    sim.control().add_app(expired);
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let unknown_tenant = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
    let unknown_client = "8e7d6c5b-4a39-4281-8f6e-5d4c3b2a1f0e";
    let cases = [
        (TENANT, CLIENT, "Wrong~Secret.Value-0", "Value"),
        (TENANT, expired_client, "Old~Secret.Value-1", "expired"),
        (TENANT, unknown_client, SECRET, "client (application) ID"),
        (unknown_tenant, CLIENT, SECRET, "tenant was not found"),
    ];
    for (tenant, client, secret, words) in cases {
        let report =
            test_connection(&app, &admin, &form(&sim, tenant, client, secret, false)).await;
        assert_eq!(report["passed"], false);
        let token = check(&report, "Token obtained");
        assert_eq!(token["passed"], false, "{report:#}");
        let fix = token["fix"].as_str().unwrap();
        assert!(fix.contains(words), "{words:?} not in {fix:?}");
        assert!(
            !report.to_string().contains(secret),
            "the secret never comes back"
        );
    }
}

#[tokio::test]
async fn partial_and_missing_roles_show_in_the_permission_matrix() {
    let sim = simulator().await;
    let partial = "4e5f6071-8293-4dae-9f10-3b4c5d6e7f80";
    let none = "5f607182-93a4-4ebf-8021-4c5d6e7f8091";
    sim.control().add_app(
        SimApp::full_access(TENANT, None, partial, "Partial~Secret-1", "partial")
            .with_roles(Some(&["Machine.Read.All", "Alert.Read.All"])),
    );
    sim.control().add_app(
        SimApp::full_access(TENANT, None, none, "NoConsent~Secret-1", "none").with_roles(None),
    );
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;

    let report = test_connection(
        &app,
        &admin,
        &form(&sim, TENANT, partial, "Partial~Secret-1", false),
    )
    .await;
    assert_eq!(check(&report, "Token obtained")["passed"], true);
    assert_eq!(check(&report, "API reachable")["passed"], true);
    let permissions = check(&report, "Permissions");
    assert_eq!(permissions["passed"], false);
    let detail = permissions["detail"].as_str().unwrap();
    assert!(
        detail.contains("Vulnerability.Read.All") && detail.contains("Machine.Isolate"),
        "{detail}"
    );
    assert!(permissions["fix"]
        .as_str()
        .unwrap()
        .contains("admin consent"));
    let granted: Vec<&Value> = report["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["granted"] == true)
        .collect();
    assert!(granted.iter().any(|p| p["feature"] == "Device inventory"));
    assert!(granted.iter().any(|p| p["feature"] == "Alerts"));

    let report = test_connection(
        &app,
        &admin,
        &form(&sim, TENANT, none, "NoConsent~Secret-1", false),
    )
    .await;
    assert_eq!(check(&report, "Token obtained")["passed"], true);
    let api = check(&report, "API reachable");
    assert_eq!(api["passed"], false);
    assert!(api["fix"].as_str().unwrap().contains("Machine.Read.All"));
    assert!(report["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["granted"] == false));
}

#[tokio::test]
async fn the_secret_never_leaves_the_server() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let mut bodies = Vec::new();
    let save = app
        .call(
            &admin,
            "integrations/defender/save",
            &form(&sim, TENANT, CLIENT, SECRET, true),
        )
        .await;
    assert_eq!(save.status(), 200);
    bodies.push(save.bytes().await.unwrap());
    for endpoint in [
        "integrations/defender/get",
        "integrations/list",
        "audit/list",
    ] {
        let res = app.call(&admin, endpoint, &[]).await;
        assert_eq!(res.status(), 200, "{endpoint}");
        bodies.push(res.bytes().await.unwrap());
    }
    let test = app
        .call(
            &admin,
            "integrations/defender/test",
            &form(&sim, TENANT, CLIENT, "", false),
        )
        .await;
    bodies.push(test.bytes().await.unwrap());
    for page in [
        "/configuration/integrations/microsoft-defender",
        "/configuration/integrations",
        "/configuration/audit-log",
    ] {
        let res = admin
            .get(app.url(page))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{page}");
        bodies.push(res.bytes().await.unwrap());
    }
    let needle = SECRET.as_bytes();
    for body in &bodies {
        assert!(
            !body.windows(needle.len()).any(|w| w == needle),
            "secret in {}",
            String::from_utf8_lossy(body)
        );
    }
    let config: Value = serde_json::from_slice(&bodies[1]).unwrap();
    assert_eq!(config["secret_set"], true);
    assert!(config["secret_changed_at"].is_string());
    // At rest it is sealed, not stored as is: nowhere in SQLite's file (free pages and log
    // included), nowhere in PostgreSQL's integration row.
    if support::database::on_postgres() {
        let rows: Vec<String> = server::on_pool!(&app.pool, |db| sqlx::query_scalar(
            "SELECT CAST(i AS TEXT) FROM integration i"
        )
        .fetch_all(db)
        .await
        .unwrap());
        assert_eq!(rows.len(), 1);
        assert!(!rows[0]
            .as_bytes()
            .windows(needle.len())
            .any(|w| w == needle));
    } else {
        let db = std::fs::read(dir.path().join("endpoint-analytics.db")).unwrap();
        assert!(!db.windows(needle.len()).any(|w| w == needle));
    }
}

#[tokio::test]
async fn the_server_validates_the_form() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let res = app
        .call(
            &admin,
            "integrations/defender/save",
            &form(&sim, "not a tenant", "abc", "", true),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    let fields: Vec<&str> = body["InvalidForm"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["tenant_id", "client_id", "client_secret"]);
    let config: Value = app
        .call(&admin, "integrations/defender/get", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["state"], "NotConfigured", "nothing was saved");
}

#[tokio::test]
async fn analysts_read_but_cannot_change_or_test() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let analyst = app.user_with_role("analyst-1", "Analyst").await;
    let get = app.call(&analyst, "integrations/defender/get", &[]).await;
    assert_eq!(get.status(), 200);
    assert_eq!(get.json::<Value>().await.unwrap()["can_edit"], false);
    for endpoint in ["integrations/defender/save", "integrations/defender/test"] {
        let res = app
            .call(
                &analyst,
                endpoint,
                &form(&sim, TENANT, CLIENT, SECRET, true),
            )
            .await;
        assert_eq!(res.status(), 403, "{endpoint}");
    }
    assert_eq!(app.call(&analyst, "audit/list", &[]).await.status(), 403);
    // An Operator edits everything but the hosts the credentials go to.
    let operator = app.user_with_role("operator-1", "Operator").await;
    let res = app
        .call(
            &operator,
            "integrations/defender/save",
            &form(&sim, TENANT, CLIENT, SECRET, false),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    let fields: Vec<&str> = body["InvalidForm"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["custom_login_url", "custom_api_url"]);
    let admin = app.admin().await;
    let res = app
        .call(
            &admin,
            "integrations/defender/save",
            &form(&sim, TENANT, CLIENT, SECRET, false),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .call(
            &operator,
            "integrations/defender/save",
            &form(&sim, TENANT, CLIENT, SECRET, false),
        )
        .await;
    assert_eq!(res.status(), 200);
    let saved = res.json::<Value>().await.unwrap();
    assert_eq!(saved["can_edit"], true);
    assert_eq!(saved["can_choose_hosts"], false);
    assert_eq!(
        app.call(&browser(), "integrations/defender/get", &[])
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn a_restart_keeps_the_settings_and_a_decryptable_secret() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let res = app
        .call(
            &admin,
            "integrations/defender/save",
            &form(&sim, TENANT, CLIENT, SECRET, false),
        )
        .await;
    assert_eq!(res.status(), 200);
    let before: Value = res.json().await.unwrap();
    app.stop().await;

    let app = TestApp::spawn(dir.path()).await;
    let config: Value = app
        .call(&admin, "integrations/defender/get", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["tenant_id"], TENANT);
    assert_eq!(config["secret_set"], true);
    assert_eq!(config["secret_changed_at"], before["secret_changed_at"]);
    // An empty secret field tests (and saves) with the stored secret, which still decrypts.
    let report = test_connection(&app, &admin, &form(&sim, TENANT, CLIENT, "", false)).await;
    assert_eq!(report["passed"], true, "{report:#}");
    let saved = app
        .call(
            &admin,
            "integrations/defender/save",
            &form(&sim, TENANT, CLIENT, "", false),
        )
        .await;
    assert_eq!(
        saved.json::<Value>().await.unwrap()["secret_changed_at"],
        before["secret_changed_at"]
    );
}

#[tokio::test]
async fn enabling_syncs_at_once_and_schedules_hourly_disabling_stops_it() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let res = app
        .call(
            &admin,
            "integrations/defender/save",
            &form(&sim, TENANT, CLIENT, SECRET, true),
        )
        .await;
    let saved: Value = res.json().await.unwrap();
    assert_eq!(saved["enabled"], true);
    let next = time::OffsetDateTime::parse(
        saved["next_sync_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let in_an_hour = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    assert!(
        (next - in_an_hour).abs() < time::Duration::minutes(1),
        "next sync {next}"
    );

    let config = app.wait_for_sync(&admin).await;
    assert_eq!(config["last_sync_outcome"], "Succeeded", "{config:#}");
    assert_eq!(config["state"], "Enabled");
    let list: Vec<Value> = app
        .call(&admin, "integrations/list", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["state"], "Enabled");
    assert!(list[0]["last_sync_at"].is_string());

    let res = app
        .call(
            &admin,
            "integrations/defender/save",
            &form(&sim, TENANT, CLIENT, "", false),
        )
        .await;
    let disabled: Value = res.json().await.unwrap();
    assert_eq!(disabled["state"], "Disabled");
    assert!(disabled["next_sync_at"].is_null());

    let audit: Vec<Value> = app
        .call(&admin, "audit/list", &[])
        .await
        .json()
        .await
        .unwrap();
    let saves: Vec<&str> = audit
        .iter()
        .filter(|e| e["action"] == "integration.defender.save")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    let sim_url = sim.base_url();
    let created = format!(
        "created: tenant ID {TENANT:?}, client ID {CLIENT:?}, cloud \"commercial\", \
         custom login URL {sim_url:?}, custom API URL {sim_url:?}, client secret replaced, enabled"
    );
    assert_eq!(saves, ["disabled", created.as_str()]);
}

#[tokio::test]
async fn a_failing_sync_puts_the_integration_in_error_with_the_reason() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let res = app
        .call(
            &admin,
            "integrations/defender/save",
            &form(&sim, TENANT, CLIENT, SECRET, false),
        )
        .await;
    assert_eq!(res.status(), 200);
    sim.control().revoke_secret(CLIENT);
    app.call(
        &admin,
        "integrations/defender/save",
        &form(&sim, TENANT, CLIENT, "", true),
    )
    .await;
    let config = app.wait_for_sync(&admin).await;
    assert_eq!(config["state"], "Error", "{config:#}");
    assert!(
        config["last_error"].as_str().unwrap().contains("secret"),
        "{config:#}"
    );
}

#[tokio::test]
async fn test_connection_is_rate_limited_per_user() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    for _ in 0..5 {
        test_connection(&app, &admin, &form(&sim, TENANT, CLIENT, SECRET, false)).await;
    }
    let res = app
        .call(
            &admin,
            "integrations/defender/test",
            &form(&sim, TENANT, CLIENT, SECRET, false),
        )
        .await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn the_demo_tenant_is_configured_labelled_and_synced_on_first_start() {
    let sim = sim::start(SimConfig::for_tests(20), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = support::settings(dir.path(), Some(support::ADMIN_PASSWORD));
    settings.demo_defender_url = Some(sim.base_url().to_owned());
    let app = TestApp::spawn_with(settings, support::tuning()).await;
    let admin = app.admin().await;
    let config = app.wait_for_sync(&admin).await;
    assert_eq!(config["demo"], true);
    assert_eq!(config["state"], "Enabled");
    assert_eq!(config["last_sync_outcome"], "Succeeded", "{config:#}");
    let list: Vec<Value> = app
        .call(&admin, "integrations/list", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["demo"], true);
}

#[tokio::test]
async fn without_javascript_the_settings_page_shows_the_saved_values_and_a_refused_save_comes_back_to_it(
) {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let res = app
        .call(
            &admin,
            "integrations/defender/save",
            &form(&sim, TENANT, CLIENT, SECRET, false),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let page_url = app.url("/configuration/integrations/microsoft-defender");

    // The page as the server renders it: every saved value in its field, the secret not.
    let html = admin
        .get(&page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (id, value) in [
        ("defender-tenant", TENANT),
        ("defender-client", CLIENT),
        ("defender-login-url", sim.base_url()),
        ("defender-api-url", sim.base_url()),
    ] {
        let field = html
            .split(&format!("id=\"{id}\""))
            .nth(1)
            .and_then(|rest| rest.split('>').next())
            .unwrap_or_else(|| panic!("no field {id} in {html}"));
        assert!(
            field.contains(&format!("value=\"{value}\"")),
            "{id}: {field}"
        );
    }
    assert!(!html.contains(SECRET));

    // A form post (it asks for HTML) with a field left empty goes back to the page, with the
    // error in the URL, and that page says which field is wrong. The stored settings stay.
    let mut fields = form(&sim, TENANT, CLIENT, "", true);
    fields[0].1 = "";
    let res = admin
        .post(app.url("/api/integrations/defender/save"))
        .header("Accept", "text/html")
        .header("Referer", &page_url)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(&format!("{page_url}?")), "{back}");
    assert!(back.contains("__err="), "{back}");
    let html = admin.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("Enter the Directory (tenant) ID."),
        "no inline error in {html}"
    );
    let saved: Value = app
        .call(&admin, "integrations/defender/get", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["tenant_id"], TENANT);
    assert_eq!(saved["enabled"], false);

    // A script's call (no HTML asked for) keeps the error status.
    let res = app
        .call(&admin, "integrations/defender/save", &fields)
        .await;
    assert_eq!(res.status(), 422);

    // Test Connection posted by the form: back to the page, which shows the report once.
    let heading = "Connection test passed";
    let res = admin
        .post(app.url("/api/integrations/defender/test"))
        .header("Accept", "text/html")
        .header("Referer", &page_url)
        .form(&form(&sim, TENANT, CLIENT, "", false))
        .send()
        .await
        .unwrap();
    // server_fn's own redirect back, which a browser follows with a GET.
    assert_eq!(res.status(), 302);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    // The page, with the error information of an earlier post stripped (an empty query left).
    assert_eq!(back, format!("{page_url}?"));
    let html = admin.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(heading), "no report in {html}");
    assert!(!html.contains(SECRET));
    let html = admin.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains(heading), "the report shows only once");
    // A script's test gets its report as the answer, and leaves none for the page.
    let report = test_connection(&app, &admin, &form(&sim, TENANT, CLIENT, "", false)).await;
    assert_eq!(report["passed"], true, "{report:#}");
    let html = admin
        .get(&page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains(heading));
}
