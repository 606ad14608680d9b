//! Issue 15's stolen-secret attack: someone who may edit the Defender settings but does not
//! know the client secret points the sign-in or API host at a listener of their own and
//! makes the server send the stored secret (or the tokens it buys) there, through Test
//! Connection, Save, Sync now, the hourly schedule or an edit of the database. Each case
//! ends by counting what a recording listener (the trap) received: exactly zero requests
//! where the stored secret must not go, and never one carrying it.
//!
//! Also here: redirects, oversized answers and metadata addresses from configured hosts, and
//! the one-time binding of secrets sealed before binding existed.
//!
//! Already covered, and not repeated: the change rules case by case (`app::model::
//! defender_change`), the seal's binding (`integrations::sealed_secret`), the address rules
//! (`defender::destination`, `defender::resolver`), the client's containment against a
//! scripted mock (`defender::client::tests::containment`).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use reqwest::Client;
use serde_json::Value;
use server::defender::{ClientOptions, HostOverrides};
use server::sim::{self, RunningSim, SimApp, SimConfig};
use server::startup::Tuning;

use crate::support::{self, TestApp};

const TENANT: &str = "5e6f7081-92a3-4b4c-8d5e-6f708192a3b4";
const CLIENT: &str = "6f708192-a3b4-4c5d-9e6f-708192a3b4c5";
/// Shaped like an Entra secret, around a core no encoding changes.
const SECRET: &str = "Dst~StolenSecretCanary9Kq2Vw.Zr7";
const SECRET_CORE: &str = "StolenSecretCanary9Kq2Vw";
/// A secret an Administrator types in for a host of their choosing: theirs to send.
const ENTERED: &str = "Adm~EnteredOnPurpose4Lp.Qs1";
/// Text a hostile host puts in its answers, which no report may repeat.
const HOST_WORDS: &str = "CallEvilSupportNow";

/// How the trap answers.
#[derive(Clone)]
enum Answer {
    /// Entra- and Defender-shaped refusals whose free text is [`HOST_WORDS`].
    Refuse,
    /// A 307 to this URL (plus the request's path), its body [`HOST_WORDS`].
    Redirect(String),
    /// 200 with this many bytes.
    Oversized(usize),
}

/// A listener of the attacker's: records every request it gets, whole.
struct Trap {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
}

struct TrapState {
    answer: Answer,
    seen: Arc<Mutex<Vec<String>>>,
}

async fn record(
    State(trap): State<Arc<TrapState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut text = format!("{method} {uri}\n");
    for (name, value) in &headers {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text.push_str(&String::from_utf8_lossy(&body));
    trap.seen.lock().unwrap().push(text);
    let token_request = uri.path().ends_with("/oauth2/v2.0/token");
    match &trap.answer {
        Answer::Refuse if token_request => (
            StatusCode::BAD_REQUEST,
            format!(
                r#"{{"error":"{HOST_WORDS} at evil.example","error_description":"{HOST_WORDS}","error_codes":[]}}"#
            ),
        )
            .into_response(),
        Answer::Refuse => (
            StatusCode::FORBIDDEN,
            format!(
                r#"{{"error":{{"code":"{HOST_WORDS}","message":"Missing application roles. API required roles: {HOST_WORDS}.All, application roles: {HOST_WORDS}."}}}}"#
            ),
        )
            .into_response(),
        Answer::Redirect(to) => (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", format!("{to}{}", uri.path()))],
            HOST_WORDS,
        )
            .into_response(),
        Answer::Oversized(bytes) => (StatusCode::OK, "x".repeat(*bytes)).into_response(),
    }
}

impl Trap {
    async fn start(answer: Answer) -> Trap {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(TrapState {
            answer,
            seen: Arc::clone(&seen),
        });
        let router = axum::Router::new().fallback(record).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Trap { base, seen }
    }

    fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Requests carrying `secret` in any encoding a client would plausibly use.
    fn carrying(&self, secret_core: &str, secret: &str) -> usize {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT}:{secret}"));
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.contains(secret_core) || r.contains(&basic))
            .count()
    }

    /// The stored secret never reached the trap, nor did anything else.
    fn assert_untouched(&self) {
        assert_eq!(
            self.carrying(SECRET_CORE, SECRET),
            0,
            "the stored secret reached the trap"
        );
        assert_eq!(
            self.requests(),
            0,
            "the trap was called: {:#?}",
            self.seen.lock().unwrap()
        );
    }
}

fn form(
    secret: &str,
    login: &str,
    api: &str,
    geo: &str,
    enabled: bool,
) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("tenant_id", TENANT.to_owned()),
        ("client_id", CLIENT.to_owned()),
        ("client_secret", secret.to_owned()),
        ("cloud", "commercial".to_owned()),
        ("geo_api_host", geo.to_owned()),
        ("custom_login_url", login.to_owned()),
        ("custom_api_url", api.to_owned()),
    ];
    if enabled {
        fields.push(("enabled", "on".to_owned()));
    }
    fields
}

async fn call(
    app: &TestApp,
    client: &Client,
    endpoint: &str,
    fields: &[(&'static str, String)],
) -> (u16, Value) {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = app.call(client, endpoint, &pairs).await;
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert!(
        !text.contains(SECRET_CORE),
        "{endpoint} answered with the secret"
    );
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The fields a 422 names, with their messages.
fn field_errors(body: &Value) -> Vec<(String, String)> {
    body["InvalidForm"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("not a form error: {body}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("not a report: {report}"))
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check: {report}"))
}

async fn simulator() -> RunningSim {
    let mut config = SimConfig::for_tests(8);
    config.apps = vec![SimApp::full_access(
        TENANT,
        None,
        CLIENT,
        SECRET,
        "Secret destination",
    )];
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Test timings, and a schedule checked often enough for a due run to start at once.
fn tuning(options: ClientOptions) -> Tuning {
    Tuning {
        client_options: options,
        schedule_period: Duration::from_millis(100),
        ..support::tuning()
    }
}

/// The integration configured by an Administrator against the simulator, enabled and synced
/// once.
struct Configured {
    sim: RunningSim,
    dir: tempfile::TempDir,
    app: TestApp,
    admin: Client,
}

impl Configured {
    async fn start() -> Configured {
        Self::start_with(ClientOptions::for_tests()).await
    }

    async fn start_with(options: ClientOptions) -> Configured {
        let sim = simulator().await;
        let dir = tempfile::tempdir().unwrap();
        let app = TestApp::spawn_with(
            support::settings(dir.path(), Some(support::ADMIN_PASSWORD)),
            tuning(options),
        )
        .await;
        let admin = app.admin().await;
        let base = sim.base_url().to_owned();
        let (status, saved) = call(
            &app,
            &admin,
            "integrations/defender/save",
            &form(SECRET, &base, &base, "", true),
        )
        .await;
        assert_eq!(status, 200, "{saved}");
        let config = app.wait_for_sync(&admin).await;
        assert_eq!(config["last_sync_outcome"], "Succeeded", "{config:#}");
        Configured {
            sim,
            dir,
            app,
            admin,
        }
    }

    fn sim_url(&self) -> String {
        self.sim.base_url().to_owned()
    }

    async fn stored_settings(&self) -> String {
        server::on_pool!(&self.app.pool, |db| sqlx::query_scalar(
            "SELECT CAST(settings AS TEXT) FROM integration WHERE kind = 'defender'"
        )
        .fetch_one(db)
        .await
        .unwrap())
    }

    /// Rewrites the stored settings JSON as someone with the database file could.
    async fn tamper(&self, login: &str, api: &str, geo: &str) {
        let json = serde_json::json!({
            "tenant_id": TENANT,
            "client_id": CLIENT,
            "cloud": "commercial",
            "geo_api_host": geo,
            "custom_login_url": login,
            "custom_api_url": api,
        });
        server::on_pool!(&self.app.pool, |db| {
            sqlx::query("UPDATE integration SET settings = $1 WHERE kind = 'defender'")
                .bind(server::db::JsonText(json.to_string()))
                .execute(db)
                .await
                .unwrap();
        });
    }

    /// Waits until `runs` syncs have finished, and the last one has let go of the sync slot (a
    /// "Sync now" before that would join it instead of starting a run), and returns the newest.
    async fn wait_for_runs(&self, runs: usize) -> Value {
        let mut journal = Value::Null;
        for _ in 0..300 {
            journal = call(&self.app, &self.admin, "sync/journal", &[]).await.1;
            let finished = journal.as_array().map_or(0, |r| {
                r.iter().filter(|r| r["finished_at"].is_string()).count()
            });
            if finished >= runs && !self.app.sync.is_running() {
                return journal[0].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{runs} syncs did not finish: {journal}");
    }

    async fn audit(&self) -> Vec<Value> {
        let (status, audit) = call(&self.app, &self.admin, "audit/list", &[]).await;
        assert_eq!(status, 200);
        audit.as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn an_operator_cannot_send_the_stored_secret_elsewhere() {
    let fx = Configured::start().await;
    let trap = Trap::start(Answer::Refuse).await;
    let operator = fx.app.user_with_role("operator-15", "Operator").await;
    let sim = fx.sim_url();
    let before = fx.stored_settings().await;
    let attempts = [
        // Both custom URLs to the trap.
        (trap.base.clone(), trap.base.clone(), String::new()),
        // Only the API host: the token would go there.
        (sim.clone(), trap.base.clone(), String::new()),
        // Microsoft's sign-in, with a geo API host of the attacker's.
        (String::new(), String::new(), "api.trap.example".to_owned()),
    ];
    for (login, api, geo) in &attempts {
        for endpoint in ["integrations/defender/test", "integrations/defender/save"] {
            // With the secret left empty, and with one the operator types: hosts are an
            // Administrator's to choose either way.
            for secret in ["", ENTERED] {
                let fields = form(secret, login, api, geo, true);
                let (status, body) = call(&fx.app, &operator, endpoint, &fields).await;
                assert_eq!(status, 422, "{endpoint} {login} {api} {geo}: {body}");
                let errors = field_errors(&body);
                let host_fields: Vec<&str> = errors
                    .iter()
                    .filter(|(_, m)| m.starts_with("Only an Administrator"))
                    .map(|(f, _)| f.as_str())
                    .collect();
                assert!(!host_fields.is_empty(), "{errors:?}");
                assert!(host_fields.iter().all(|f| [
                    "geo_api_host",
                    "custom_login_url",
                    "custom_api_url"
                ]
                .contains(f)));
                let asks_secret = errors.iter().any(|(f, m)| {
                    f == "client_secret" && m.starts_with("Enter the client secret again")
                });
                assert_eq!(asks_secret, secret.is_empty(), "{errors:?}");
            }
        }
    }
    assert_eq!(fx.stored_settings().await, before, "nothing was saved");
    // What stays an Operator's: the same destination, enabled or not, without the secret.
    let (status, saved) = call(
        &fx.app,
        &operator,
        "integrations/defender/save",
        &form("", &sim, &sim, "", false),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["can_choose_hosts"], false);
    assert_eq!(saved["enabled"], false);
    trap.assert_untouched();
}

#[tokio::test]
async fn an_administrator_enters_the_secret_again_to_move_it() {
    let fx = Configured::start().await;
    let trap = Trap::start(Answer::Refuse).await;
    let sim = fx.sim_url();
    for (login, api, geo) in [
        (trap.base.as_str(), trap.base.as_str(), ""),
        (sim.as_str(), trap.base.as_str(), ""),
        ("", "", "api.trap.example"),
    ] {
        for endpoint in ["integrations/defender/test", "integrations/defender/save"] {
            let (status, body) = call(
                &fx.app,
                &fx.admin,
                endpoint,
                &form("", login, api, geo, true),
            )
            .await;
            assert_eq!(status, 422, "{endpoint}: {body}");
            let errors = field_errors(&body);
            assert_eq!(errors.len(), 1, "{errors:?}");
            let (field, message) = &errors[0];
            assert_eq!(field, "client_secret");
            assert!(
                message.starts_with("Enter the client secret again")
                    && (message.contains("custom API URL") || message.contains("geo API host")),
                "{message}"
            );
        }
    }
    // Changing the tenant or the client needs it again too.
    let mut other_tenant = form("", &sim, &sim, "", true);
    other_tenant[0].1 = "contoso.onmicrosoft.com".into();
    let (status, body) = call(
        &fx.app,
        &fx.admin,
        "integrations/defender/test",
        &other_tenant,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    trap.assert_untouched();

    // An Administrator who types a secret for a listener of their own may test and save it:
    // what goes there is what they typed.
    let (status, report) = call(
        &fx.app,
        &fx.admin,
        "integrations/defender/test",
        &form(ENTERED, &trap.base, &trap.base, "", true),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["passed"], false);
    assert_eq!(trap.requests(), 1, "one token request, not retried");
    assert_eq!(trap.carrying("EnteredOnPurpose4Lp", ENTERED), 1);
    let (status, saved) = call(
        &fx.app,
        &fx.admin,
        "integrations/defender/save",
        &form(ENTERED, &trap.base, &trap.base, "", true),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["custom_login_url"], trap.base.as_str());
    assert_eq!(
        trap.carrying(SECRET_CORE, SECRET),
        0,
        "the stored secret never went"
    );

    // Both URLs are in the audit log, old and new; the secrets are not.
    let audit = fx.audit().await;
    let save = audit
        .iter()
        .find(|e| e["action"] == "integration.defender.save")
        .unwrap();
    let detail = save["detail"].as_str().unwrap();
    for part in [
        format!("custom login URL: {sim:?} -> {:?}", trap.base),
        format!("custom API URL: {sim:?} -> {:?}", trap.base),
        "client secret replaced".to_owned(),
    ] {
        assert!(detail.contains(&part), "{part} not in {detail}");
    }
    let test = audit
        .iter()
        .find(|e| e["action"] == "integration.defender.test")
        .unwrap();
    let detail = test["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("login URL \"{}/\"", trap.base))
            && detail.contains("entered secret"),
        "{detail}"
    );
    let all = serde_json::to_string(&audit).unwrap();
    assert!(!all.contains(SECRET_CORE) && !all.contains("EnteredOnPurpose4Lp"));
}

#[tokio::test]
async fn settings_edited_in_the_database_open_no_secret() {
    let fx = Configured::start().await;
    let trap = Trap::start(Answer::Refuse).await;
    let sim = fx.sim_url();
    let refused = |run: &Value| {
        assert_eq!(run["outcome"], "Failed", "{run}");
        let error = run["error"].as_str().unwrap_or_default();
        assert!(error.contains("does not open"), "{run}");
    };

    // Both hosts to the trap, then Sync now.
    fx.tamper(&trap.base, &trap.base, "").await;
    let (status, _) = call(&fx.app, &fx.admin, "sync/now", &[]).await;
    assert_eq!(status, 200);
    refused(&fx.wait_for_runs(2).await);

    // The hourly schedule, made due.
    server::on_pool!(&fx.app.pool, |db| {
        sqlx::query("UPDATE integration SET next_sync_at = '2000-01-01T00:00:00Z'")
            .execute(db)
            .await
            .unwrap();
    });
    refused(&fx.wait_for_runs(3).await);

    // Test Connection with the form as the page now shows it: nothing to re-enter, since
    // nothing differs from what is stored, and still the secret does not open.
    let (status, report) = call(
        &fx.app,
        &fx.admin,
        "integrations/defender/test",
        &form("", &trap.base, &trap.base, "", true),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    let stored = check(&report, "Stored secret");
    assert_eq!(stored["passed"], false, "{report}");

    // A machine action opens the secret the same way.
    let list = call(
        &fx.app,
        &fx.admin,
        "endpoints/list",
        &crate::support::endpoint_list_form("", "50")
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect::<Vec<_>>(),
    )
    .await
    .1;
    // Machine 0 of the simulator is an onboarded device that takes actions.
    let name = fx
        .sim
        .control()
        .machine(0)
        .unwrap()
        .computer_dns_name
        .unwrap();
    let row = list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["hostname"] == name.as_str())
        .unwrap_or_else(|| panic!("{name} not listed: {list}"));
    let id = row["id"].to_string();
    let panel = call(
        &fx.app,
        &fx.admin,
        "actions/for_endpoint",
        &[("endpoint_id", id.clone())],
    )
    .await
    .1;
    if let (Some(machine), Some(key)) =
        (panel["machine_id"].as_str(), panel["request_key"].as_str())
    {
        let (status, body) = call(
            &fx.app,
            &fx.admin,
            "actions/submit",
            &[
                ("endpoint_id", id.clone()),
                ("machine_id", machine.to_owned()),
                ("kind", "RunAntiVirusScan".to_owned()),
                ("scope", "Quick".to_owned()),
                ("comment", "issue 15".to_owned()),
                ("confirm", String::new()),
                ("request_key", key.to_owned()),
            ],
        )
        .await;
        assert_ne!(status, 200, "{body}");
    }

    // Only the API host, where the token would go; the sign-in host left alone.
    fx.tamper(&sim, &trap.base, "").await;
    call(&fx.app, &fx.admin, "sync/now", &[]).await;
    refused(&fx.wait_for_runs(4).await);
    // A literal metadata address never even resolves to a binding.
    fx.tamper("http://169.254.169.254", "http://169.254.169.254", "")
        .await;
    call(&fx.app, &fx.admin, "sync/now", &[]).await;
    let run = fx.wait_for_runs(5).await;
    assert_eq!(run["outcome"], "Failed", "{run}");
    assert!(
        run["error"].as_str().unwrap().contains("no usable hosts"),
        "{run}"
    );

    // A restart does not re-bind a bound secret to what is stored now.
    fx.tamper(&trap.base, &trap.base, "").await;
    let Configured { sim, dir, app, .. } = fx;
    app.stop().await;
    let app = TestApp::spawn_with(
        support::settings(dir.path(), Some(support::ADMIN_PASSWORD)),
        tuning(ClientOptions::for_tests()),
    )
    .await;
    let admin = app.admin().await;
    let fx = Configured {
        sim,
        dir,
        app,
        admin,
    };
    call(&fx.app, &fx.admin, "sync/now", &[]).await;
    refused(&fx.wait_for_runs(6).await);

    trap.assert_untouched();
}

#[tokio::test]
async fn a_secret_sealed_before_binding_is_bound_once_at_startup() {
    let fx = Configured::start().await;
    let trap = Trap::start(Answer::Refuse).await;
    let Configured { sim, dir, app, .. } = fx;
    let pool = app.pool.clone();
    app.stop().await;
    // As an older version stored it: sealed under the purpose alone.
    let key = server::keyfile::from_config(None, &dir.path().join("secret.key")).unwrap();
    let legacy = server::secret_box::SecretBox::new(&key)
        .seal(SECRET, server::integrations::DEFENDER_SECRET_PURPOSE);
    server::on_pool!(&pool, |db| {
        sqlx::query("UPDATE integration SET secret_sealed = $1")
            .bind(&legacy)
            .execute(db)
            .await
            .unwrap();
    });

    let restart = || {
        TestApp::spawn_with(
            support::settings(dir.path(), Some(support::ADMIN_PASSWORD)),
            tuning(ClientOptions::for_tests()),
        )
    };
    let app = restart().await;
    let admin = app.admin().await;
    let base = sim.base_url().to_owned();
    let (status, report) = call(
        &app,
        &admin,
        "integrations/defender/test",
        &form("", &base, &base, "", true),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(report["passed"], true, "{report:#}");
    let sealed: String = server::on_pool!(&pool, |db| sqlx::query_scalar(
        "SELECT secret_sealed FROM integration"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_ne!(sealed, legacy, "re-sealed in place");
    let audit = call(&app, &admin, "audit/list", &[]).await.1;
    let rebound: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "integration.defender.secret_rebound")
        .collect();
    assert_eq!(rebound.len(), 1, "{audit}");
    assert_eq!(rebound[0]["actor"], "system");
    assert!(rebound[0]["detail"]
        .as_str()
        .unwrap()
        .contains(&format!("login URL \"{base}/\"")));

    // Bound now: pointing the stored settings at the trap and restarting moves nothing.
    let json = serde_json::json!({
        "tenant_id": TENANT, "client_id": CLIENT, "cloud": "commercial",
        "geo_api_host": "", "custom_login_url": trap.base, "custom_api_url": trap.base,
    });
    server::on_pool!(&pool, |db| {
        sqlx::query("UPDATE integration SET settings = $1")
            .bind(server::db::JsonText(json.to_string()))
            .execute(db)
            .await
            .unwrap();
    });
    app.stop().await;
    let app = restart().await;
    let admin = app.admin().await;
    let (_, report) = call(
        &app,
        &admin,
        "integrations/defender/test",
        &form("", &trap.base, &trap.base, "", true),
    )
    .await;
    assert_eq!(check(&report, "Stored secret")["passed"], false, "{report}");
    let audit = call(&app, &admin, "audit/list", &[]).await.1;
    let rebound = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "integration.defender.secret_rebound")
        .count();
    assert_eq!(rebound, 1, "bound once only");
    trap.assert_untouched();
}

#[tokio::test]
async fn redirects_from_a_configured_host_are_not_followed() {
    let fx = Configured::start().await;
    let elsewhere = Trap::start(Answer::Refuse).await;
    let redirector = Trap::start(Answer::Redirect(elsewhere.base.clone())).await;
    let sim = fx.sim_url();
    // The sign-in host redirects: the token form (with the typed secret) is not re-posted.
    let (status, report) = call(
        &fx.app,
        &fx.admin,
        "integrations/defender/test",
        &form(ENTERED, &redirector.base, &redirector.base, "", true),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    let token = check(&report, "Token obtained");
    assert_eq!(token["passed"], false);
    assert!(token["fix"].as_str().unwrap().contains("307"), "{token}");
    // The API host redirects: the bearer token is not carried on.
    let (_, report) = call(
        &fx.app,
        &fx.admin,
        "integrations/defender/test",
        &form(SECRET, &sim, &redirector.base, "", true),
    )
    .await;
    assert_eq!(check(&report, "Token obtained")["passed"], true, "{report}");
    let api = check(&report, "API reachable");
    assert_eq!(api["passed"], false);
    assert!(
        api["detail"].as_str().unwrap().contains("redirect"),
        "{api}"
    );
    assert!(!report.to_string().contains(HOST_WORDS), "{report}");
    assert_eq!(redirector.requests(), 2);
    assert_eq!(elsewhere.requests(), 0, "no redirect was followed");
}

#[tokio::test]
async fn test_connection_never_repeats_what_a_host_said() {
    let fx = Configured::start().await;
    let trap = Trap::start(Answer::Refuse).await;
    let sim = fx.sim_url();
    for (login, api, secret) in [
        (trap.base.as_str(), trap.base.as_str(), ENTERED),
        (sim.as_str(), trap.base.as_str(), SECRET),
    ] {
        let (status, report) = call(
            &fx.app,
            &fx.admin,
            "integrations/defender/test",
            &form(secret, login, api, "", true),
        )
        .await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["passed"], false);
        assert!(!report.to_string().contains(HOST_WORDS), "{report:#}");
    }
    assert_eq!(trap.requests(), 2);
}

#[tokio::test]
async fn an_oversized_answer_is_a_classified_failure() {
    let options = ClientOptions {
        // Above the simulator's largest page here (its CVE list, about 300 KB).
        max_response_bytes: 1024 * 1024,
        max_token_response_bytes: 16 * 1024,
        ..ClientOptions::for_tests()
    };
    // The simulator's pages fit; the configuration syncs.
    let fx = Configured::start_with(options).await;
    let trap = Trap::start(Answer::Oversized(4 * 1024 * 1024)).await;
    let sim = fx.sim_url();
    let (_, report) = call(
        &fx.app,
        &fx.admin,
        "integrations/defender/test",
        &form(ENTERED, &trap.base, &trap.base, "", true),
    )
    .await;
    let token = check(&report, "Token obtained");
    assert_eq!(token["passed"], false);
    assert!(
        token["detail"]
            .as_str()
            .unwrap()
            .contains("larger than 16384 bytes"),
        "{token}"
    );
    let (_, report) = call(
        &fx.app,
        &fx.admin,
        "integrations/defender/test",
        &form(SECRET, &sim, &trap.base, "", true),
    )
    .await;
    let api = check(&report, "API reachable");
    assert_eq!(api["passed"], false);
    assert!(
        api["detail"]
            .as_str()
            .unwrap()
            .contains("larger than 1048576 bytes"),
        "{api}"
    );
    assert_eq!(trap.requests(), 2, "neither was asked again");
}

#[tokio::test]
async fn metadata_addresses_are_refused_before_any_connection() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let options = ClientOptions {
        hosts: HostOverrides::new([(
            "metadata.trap.test".to_owned(),
            vec![ip("169.254.169.254"), ip("fd00:ec2::254")],
        )]),
        ..ClientOptions::for_tests()
    };
    let fx = Configured::start_with(options).await;
    for url in [
        "https://169.254.169.254",
        "https://[::ffff:169.254.169.254]",
        "https://[fe80::a9fe:a9fe]:8443",
        "http://169.254.169.254",
        "https://100.100.100.200",
    ] {
        let (status, body) = call(
            &fx.app,
            &fx.admin,
            "integrations/defender/test",
            &form(ENTERED, url, url, "", true),
        )
        .await;
        assert_eq!(status, 422, "{url}: {body}");
        let errors = field_errors(&body);
        assert!(
            errors.iter().any(|(f, _)| f == "custom_login_url"),
            "{url}: {errors:?}"
        );
    }
    // A name that resolves only to metadata addresses: refused when connecting.
    let started = std::time::Instant::now();
    let (status, report) = call(
        &fx.app,
        &fx.admin,
        "integrations/defender/test",
        &form(
            ENTERED,
            "https://metadata.trap.test",
            "https://metadata.trap.test",
            "",
            true,
        ),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    let token = check(&report, "Token obtained");
    assert_eq!(token["passed"], false);
    assert!(
        token["detail"]
            .as_str()
            .unwrap()
            .contains("refused to connect to metadata.trap.test"),
        "{token}"
    );
    assert!(started.elapsed() < Duration::from_secs(1), "not retried");
}
