//! The secret-leak journey: the real server binary (`support/process.rs`) logging at `trace`
//! is configured with a recognisable client secret, tests the connection, syncs, survives a
//! rejected secret and an expired token, scans and isolates a device, and hands out a sensor
//! token. Then every response body and header and the whole captured log are searched for
//! the secrets and for every access token the simulator issued.
//!
//! The journey is a list of steps on a [`Journey`]; a new feature that touches Defender or
//! the secrets joins it as more steps.

use base64::Engine;
use reqwest::Client;
use serde_json::Value;
use server::sim::{self, RunningSim, SimApp, SimConfig};

use crate::process::{ServerOptions, ServerProcess};

const TENANT: &str = "3c4d5e6f-7081-4c9d-8e0f-1a2b3c4d5e6f";
const CLIENT: &str = "4d5e6f70-8192-4dae-9f10-2b3c4d5e6f70";
/// Shaped like an Entra secret (`~` and `.` included), around a core no encoding changes.
const SECRET: &str = "Qz8~LeakCanarySecretCore7Hq2Vn.Xp4";
const SECRET_CORE: &str = "LeakCanarySecretCore7Hq2Vn";
const WRONG_SECRET: &str = "Wr0~LeakCanaryWrongSecret5Tb8Mk.Zz1";
const ADMIN_PASSWORD: &str = "LeakCanaryAdminPassword-6Rf1";

/// One response as the browser saw it, and the secrets it may legitimately carry.
struct Seen {
    step: String,
    text: String,
    may_show: Vec<String>,
}

/// A signed-in admin's walk through the console, keeping every response.
struct Journey {
    base: String,
    client: Client,
    seen: Vec<Seen>,
}

impl Journey {
    async fn record(&mut self, step: &str, res: reqwest::Response, may_show: &[&str]) -> String {
        let mut text = format!("{} {}\n", step, res.status());
        for (name, value) in res.headers() {
            text.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        let body = res.text().await.unwrap();
        text.push_str(&body);
        self.seen.push(Seen {
            step: step.to_owned(),
            text,
            may_show: may_show.iter().map(|s| (*s).to_owned()).collect(),
        });
        body
    }

    async fn call(&mut self, endpoint: &str, form: &[(&str, &str)]) -> Value {
        let res = self
            .client
            .post(format!("{}/api/{endpoint}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let body = self.record(endpoint, res, &[]).await;
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    async fn page(&mut self, path: &str) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        self.record(path, res, &[]).await;
    }

    /// Polls the endpoint's action panel, as the page does, until the action is closed.
    async fn wait_for_action(&mut self, endpoint_id: &str, action_id: i64) -> Value {
        let mut row = Value::Null;
        for _ in 0..300 {
            let panel = self
                .call("actions/for_endpoint", &[("endpoint_id", endpoint_id)])
                .await;
            row = panel["history"]
                .as_array()
                .and_then(|h| h.iter().find(|a| a["id"] == action_id))
                .cloned()
                .unwrap_or(Value::Null);
            let open = ["Submitting", "Pending", "InProgress"];
            if row["status"].as_str().is_some_and(|s| !open.contains(&s)) {
                return row;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("action {action_id} did not close: {row}");
    }

    /// Polls the sync journal until `runs` runs have finished (the journal counts runs;
    /// timestamps have whole seconds, so two quick runs can share one), and returns the
    /// newest.
    async fn wait_for_runs(&mut self, runs: usize) -> Value {
        let mut journal = Value::Null;
        for _ in 0..300 {
            journal = self.call("sync/journal", &[]).await;
            let finished = journal.as_array().map_or(0, |r| {
                r.iter().filter(|r| r["finished_at"].is_string()).count()
            });
            if finished >= runs {
                return journal[0].clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{runs} syncs did not finish: {journal}");
    }
}

fn defender_form<'a>(sim: &'a RunningSim, secret: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("tenant_id", TENANT),
        ("client_id", CLIENT),
        ("client_secret", secret),
        ("cloud", "commercial"),
        ("custom_login_url", sim.base_url()),
        ("custom_api_url", sim.base_url()),
        ("enabled", "on"),
    ]
}

/// The journey itself.
async fn walk(j: &mut Journey, sim: &RunningSim) -> String {
    let res = j
        .client
        .post(format!("{}/api/auth/login", j.base))
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    j.record("login", res, &[]).await;
    j.page("/configuration/integrations/microsoft-defender")
        .await;

    // A secret Entra refuses: the report says so without repeating it.
    let report = j
        .call(
            "integrations/defender/test",
            &defender_form(sim, WRONG_SECRET),
        )
        .await;
    assert_eq!(report["passed"], false, "{report}");
    let report = j
        .call("integrations/defender/test", &defender_form(sim, SECRET))
        .await;
    assert_eq!(report["passed"], true, "{report}");

    // Saving enabled syncs at once.
    let saved = j
        .call("integrations/defender/save", &defender_form(sim, SECRET))
        .await;
    assert_eq!(saved["secret_set"], true, "{saved}");
    let run = j.wait_for_runs(1).await;
    assert_eq!(run["outcome"], "Succeeded", "{run}");
    // Test Connection with the stored secret (the form leaves it empty).
    let report = j
        .call("integrations/defender/test", &defender_form(sim, ""))
        .await;
    assert_eq!(report["passed"], true, "{report}");

    // Every token issued so far dies mid-way; the next sync must fetch a new one.
    sim.control().expire_issued_tokens();
    j.call("sync/now", &[]).await;
    let run = j.wait_for_runs(2).await;
    assert_eq!(run["outcome"], "Succeeded", "{run}");

    for endpoint in [
        "integrations/list",
        "integrations/defender/get",
        "dashboard/get",
        "audit/list",
        "profiles/list",
    ] {
        j.call(endpoint, &[]).await;
    }
    let list = j
        .call(
            "endpoints/list",
            &crate::support::endpoint_list_form("", "500"),
        )
        .await;
    // Machine 0 of the simulator is an onboarded Windows 11 device that takes actions.
    let name = sim.control().machine(0).unwrap().computer_dns_name.unwrap();
    let row = list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["hostname"] == name.as_str())
        .unwrap_or_else(|| panic!("{name} not listed: {list}"));
    let id = row["id"].to_string();
    j.call("endpoints/get", &[("id", &id)]).await;

    // Machine actions: a scan and an isolation, each followed until Defender closes it.
    for (kind, scope) in [("RunAntiVirusScan", "Quick"), ("Isolate", "Full")] {
        let panel = j
            .call("actions/for_endpoint", &[("endpoint_id", &id)])
            .await;
        let confirm = if kind == "Isolate" {
            panel["confirmation_name"].as_str().unwrap().to_owned()
        } else {
            String::new()
        };
        let key = panel["request_key"].as_str().unwrap().to_owned();
        let machine = panel["machine_id"].as_str().unwrap().to_owned();
        let sent = j
            .call(
                "actions/submit",
                &[
                    ("endpoint_id", &id),
                    ("machine_id", &machine),
                    ("kind", kind),
                    ("scope", scope),
                    ("comment", "leak check"),
                    ("confirm", &confirm),
                    ("request_key", &key),
                ],
            )
            .await;
        let action = sent["action"]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{kind} not sent: {sent}"));
        let closed = j.wait_for_action(&id, action).await;
        assert_eq!(closed["status"], "Succeeded", "{closed}");
    }
    for path in [
        "/".to_owned(),
        "/endpoints".to_owned(),
        format!("/endpoints/{id}?tab=risk&sub=defender"),
        "/configuration/integrations".to_owned(),
        "/configuration/integrations/microsoft-defender".to_owned(),
        "/configuration/audit-log".to_owned(),
        "/api/endpoints/export.csv".to_owned(),
    ] {
        j.page(&path).await;
    }

    // A sensor token: its one showing is the creation answer.
    let res = j
        .client
        .post(format!("{}/api/sensors/tokens/create", j.base))
        .form(&[("name", "leak-check")])
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    let token = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    j.seen.push(Seen {
        step: "sensors/tokens/create".into(),
        text: body,
        may_show: vec![token.clone()],
    });
    let res = reqwest::Client::new()
        .post(format!("{}/api/ingest/sensor", j.base))
        .bearer_auth(&token)
        .body(r#"{"sensor": "leak-check", "observations": [{"mac": "02:00:00:00:00:99"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    j.record("ingest/sensor", res, &[]).await;
    // A wrong token is logged as refused, not repeated.
    let wrong = format!("{token}0");
    let res = reqwest::Client::new()
        .post(format!("{}/api/ingest/sensor", j.base))
        .bearer_auth(&wrong)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    j.record("ingest/sensor (wrong token)", res, &[]).await;
    j.call("sensors/tokens/list", &[]).await;
    j.page("/configuration/sensors").await;
    j.call("auth/logout", &[]).await;
    token
}

/// What must never leave the server: every encoding of the secrets a log line or a body
/// could plausibly carry.
fn canaries(sim: &RunningSim, sensor_token: &str) -> Vec<(String, String)> {
    let mut out = vec![
        ("client secret".to_owned(), SECRET_CORE.to_owned()),
        (
            "client secret, form-encoded".to_owned(),
            serde_urlencoded::to_string([("s", SECRET)]).unwrap()[2..].to_owned(),
        ),
        (
            "rejected client secret".to_owned(),
            "LeakCanaryWrongSecret5Tb8Mk".to_owned(),
        ),
        ("admin password".to_owned(), ADMIN_PASSWORD.to_owned()),
        ("sensor token".to_owned(), sensor_token.to_owned()),
        // The hash is not the token, but it is what a stolen database would hold.
        (
            "sensor token, hex part".to_owned(),
            sensor_token[4..].to_owned(),
        ),
    ];
    for engine in [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        out.push((
            "client credentials, Basic".to_owned(),
            engine.encode(format!("{CLIENT}:{SECRET}")),
        ));
    }
    let tokens = sim.control().issued_access_tokens();
    assert!(
        tokens.len() >= 2,
        "the journey fetched a token again after expiry"
    );
    for (i, token) in tokens.iter().enumerate() {
        out.push((format!("access token #{i}"), token.clone()));
        let signature = token.rsplit('.').next().unwrap();
        out.push((format!("access token #{i} signature"), signature.to_owned()));
    }
    out
}

#[tokio::test]
async fn no_secret_or_token_reaches_a_response_or_the_log() {
    let mut config = SimConfig::for_tests(12);
    config.apps = vec![SimApp::full_access(
        TENANT,
        Some("leak-check.onmicrosoft.com"),
        CLIENT,
        SECRET,
        "Leak check",
    )];
    let sim = sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.env = vec![
        ("EA_LOG".into(), "trace".into()),
        ("EA_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
        // Actions close within a second in the simulator; the server should notice soon.
        ("EA_ACTION_POLL_SECS".into(), "1".into()),
    ];
    let mut server = ServerProcess::start_with(options).await;
    let mut journey = Journey {
        base: server.base.clone(),
        client: crate::support::browser(),
        seen: Vec::new(),
    };
    let sensor_token = walk(&mut journey, &sim).await;
    // Stopped the way an operator would (SIGTERM to its pid), so the log runs to its end.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(server.wait_exit().await.is_some_and(|s| s.success()));
    let log = server.logs();
    let canaries = canaries(&sim, &sensor_token);
    sim.shutdown().await;

    // The log really is the server's, at its most verbose, up to its shutdown.
    assert!(
        log.contains("sync finished") && log.contains("TRACE") && log.contains("shutting down"),
        "{log}"
    );

    for (what, canary) in canaries {
        for seen in &journey.seen {
            if seen
                .may_show
                .iter()
                .any(|s| s.contains(&canary) || canary.contains(s.as_str()))
            {
                continue;
            }
            assert!(
                !seen.text.contains(&canary),
                "the {what} is in the answer to {}",
                seen.step
            );
        }
        let at = log.find(&canary);
        assert!(
            at.is_none(),
            "the {what} is in the server log: …{}…",
            &log[at.unwrap_or(0).saturating_sub(200)..at.unwrap_or(0)]
        );
    }
}
