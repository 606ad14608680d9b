//! Run Scan, Isolate Machine and Unisolate Machine end to end: the server fns, the preflight,
//! the stored history and the server-side poller, against the simulator over real HTTP and a
//! real SQLite file.

#[path = "support/app.rs"]
mod support;

use std::time::Duration;

use reqwest::Client;
use serde_json::Value;
use server::sim::{
    self, ActionType, Faults, ForcedOutcome, LostAnswerMode, MachineInfo, PortalAction, RunningSim,
    SimConfig,
};
use support::TestApp;

const AUDIENCE_SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";

struct World {
    sim: RunningSim,
    app: TestApp,
    admin: Client,
    _dir: tempfile::TempDir,
}

async fn world(machines: usize) -> World {
    world_with(machines, support::tuning(), |_| {}).await
}

/// A simulator, the console with Defender enabled against it, and the first sync done.
/// `before_sync` may change the simulator first (e.g. the app's roles).
async fn world_with(
    machines: usize,
    tuning: server::startup::Tuning,
    before_sync: impl FnOnce(&RunningSim),
) -> World {
    let mut config = SimConfig::for_tests(machines);
    // Several syncs per test must not meet the real per-minute quota (§3.6): the throttling
    // cases inject their storms on purpose.
    config.rate_limits.per_minute = 100_000;
    config.rate_limits.per_hour = 1_000_000;
    let sim = sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    before_sync(&sim);
    let dir = tempfile::tempdir().unwrap();
    let settings = support::settings(dir.path(), Some(support::ADMIN_PASSWORD));
    let app = TestApp::spawn_with(settings, tuning).await;
    let admin = app.admin().await;
    let a = sim.app().clone();
    let res = app
        .call(
            &admin,
            "integrations/defender/save",
            &[
                ("tenant_id", &a.tenant_id),
                ("client_id", &a.client_id),
                ("client_secret", &a.client_secret),
                ("cloud", "commercial"),
                ("custom_login_url", sim.base_url()),
                ("custom_api_url", sim.base_url()),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let config = app.wait_for_sync(&admin).await;
    assert_eq!(config["last_sync_outcome"], "Succeeded", "{config:#}");
    World {
        sim,
        app,
        admin,
        _dir: dir,
    }
}

impl World {
    fn machine(&self, pred: impl Fn(&MachineInfo) -> bool) -> MachineInfo {
        self.sim
            .control()
            .find_machine(|m| !m.is_potential_duplication && pred(m))
            .expect("the simulated tenant has such a machine")
    }

    /// An onboarded, active Windows 11 machine: every action is supported.
    fn windows(&self) -> MachineInfo {
        self.machine(|m| {
            m.onboarding_status == "Onboarded"
                && m.health_status == "Active"
                && m.os_platform.as_deref() == Some("Windows11")
        })
    }

    async fn endpoint_of(&self, machine_id: &str) -> i64 {
        let (id,): (i64,) = server::on_pool!(&self.app.pool, |db| sqlx::query_as(
            "SELECT endpoint_id FROM endpoint WHERE defender_machine_id = $1"
        )
        .bind(machine_id)
        .fetch_one(db)
        .await
        .expect("the machine is an endpoint after the sync"));
        id
    }

    async fn panel(&self, client: &Client, endpoint_id: i64) -> Value {
        let res = self
            .app
            .call(
                client,
                "actions/for_endpoint",
                &[("endpoint_id", &endpoint_id.to_string())],
            )
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Submits the form as the page sends it: for the machine the panel shows.
    async fn submit(&self, client: &Client, form: &Form<'_>) -> reqwest::Response {
        let panel = self.panel(&self.admin, form.endpoint_id).await;
        let machine = panel["machine_id"].as_str().unwrap_or_default().to_owned();
        self.submit_to(client, form, &machine).await
    }

    /// Submits the form naming `machine_id` as the machine it showed.
    async fn submit_to(
        &self,
        client: &Client,
        form: &Form<'_>,
        machine_id: &str,
    ) -> reqwest::Response {
        self.app
            .call(
                client,
                "actions/submit",
                &[
                    ("endpoint_id", &form.endpoint_id.to_string()),
                    ("machine_id", machine_id),
                    ("kind", form.kind),
                    ("scope", form.scope),
                    ("comment", form.comment),
                    ("confirm", form.confirm),
                    ("request_key", form.key),
                ],
            )
            .await
    }

    async fn submit_ok(&self, form: &Form<'_>) -> Value {
        let res = self.submit(&self.admin, form).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{body:#}");
        body
    }

    /// Polls the panel (as the page does) until the action leaves the open statuses.
    async fn wait_until_closed(&self, endpoint_id: i64, action_id: i64) -> Value {
        let mut last = Value::Null;
        for _ in 0..300 {
            let panel = self.panel(&self.admin, endpoint_id).await;
            last = history_row(&panel, action_id);
            let status = last["status"].as_str().unwrap().to_owned();
            if !["Submitting", "Pending", "InProgress"].contains(&status.as_str()) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("action {action_id} never closed: {last:#}");
    }

    async fn sync(&self) {
        let outcome = self.app.sync.trigger("test").wait().await;
        assert!(outcome.ok, "{outcome:?}");
    }

    async fn stored_statuses(&self) -> Vec<(String, String)> {
        server::on_pool!(&self.app.pool, |db| sqlx::query_as(
            "SELECT kind, status FROM machine_action ORDER BY machine_action_id"
        )
        .fetch_all(db)
        .await
        .unwrap())
    }

    fn set_outcome(&self, outcome: Option<ForcedOutcome>) {
        self.sim.control().set_faults(Faults {
            action_outcome: outcome,
            ..Faults::default()
        });
    }
}

struct Form<'a> {
    endpoint_id: i64,
    kind: &'a str,
    scope: &'a str,
    comment: &'a str,
    confirm: &'a str,
    key: &'a str,
}

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn history_row(panel: &Value, action_id: i64) -> Value {
    panel["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == action_id)
        .cloned()
        .unwrap_or_else(|| panic!("action {action_id} not in the history: {panel:#}"))
}

fn availability<'a>(panel: &'a Value, kind: &str) -> &'a Value {
    panel["available"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == kind)
        .unwrap()
}

fn disabled_reason(panel: &Value, kind: &str) -> Option<String> {
    availability(panel, kind)["disabled_reason"]
        .as_str()
        .map(str::to_owned)
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let rows: Vec<(String,)> = server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT action FROM audit_log ORDER BY audit_log_id"
    )
    .fetch_all(db)
    .await
    .unwrap());
    rows.into_iter().map(|(a,)| a).collect()
}

#[tokio::test]
async fn isolate_then_release_succeed_once_each_and_the_isolation_state_follows() {
    let w = world(30).await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    let name = m.computer_dns_name.clone().unwrap();

    let panel = w.panel(&w.admin, eid).await;
    assert_eq!(panel["isolation"], "NotIsolated");
    assert_eq!(panel["can_act"], true);
    assert_eq!(panel["confirmation_name"], name.as_str());
    assert_eq!(disabled_reason(&panel, "Isolate"), None);
    assert_eq!(
        availability(&panel, "Isolate")["scopes"],
        serde_json::json!(["Full", "Selective"])
    );
    assert_eq!(
        disabled_reason(&panel, "Unisolate").as_deref(),
        Some("The device is not isolated.")
    );

    // A wrong confirmation sends nothing.
    let k = key();
    let wrong = Form {
        endpoint_id: eid,
        kind: "Isolate",
        scope: "Full",
        comment: "C2 beaconing from this host",
        confirm: "some-other-host",
        key: &k,
    };
    let res = w.submit(&w.admin, &wrong).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert!(body.to_string().contains("confirm"), "{body}");
    assert_eq!(w.sim.control().action_count(), 0);

    // The right one is sent once, however often the same form arrives.
    let form = Form {
        confirm: &name.to_uppercase(),
        ..wrong
    };
    let first = w.submit_ok(&form).await;
    assert_eq!(first["existing"], false, "{first:#}");
    let action_id = first["action"]["id"].as_i64().unwrap();
    assert!(
        ["Pending", "InProgress"].contains(&first["action"]["status"].as_str().unwrap()),
        "{first:#}"
    );
    let again = w.submit_ok(&form).await;
    assert_eq!(again["existing"], true);
    assert_eq!(again["action"]["id"], action_id);
    assert_eq!(w.sim.control().action_count(), 1, "one action in Defender");

    let panel = w.panel(&w.admin, eid).await;
    assert_eq!(panel["isolation"], "IsolationPending");
    assert!(disabled_reason(&panel, "Isolate").is_some());

    let done = w.wait_until_closed(eid, action_id).await;
    assert_eq!(done["status"], "Succeeded", "{done:#}");
    assert_eq!(done["requested_by"], "admin");
    assert_eq!(done["comment"], "C2 beaconing from this host");
    assert_eq!(done["scope"], "Full");
    assert!(done["completed_at"].is_string());
    assert_eq!(w.sim.control().is_isolated(&m.id), Some(true));
    let panel = w.panel(&w.admin, eid).await;
    assert_eq!(panel["isolation"], "Isolated");
    assert_eq!(
        disabled_reason(&panel, "Isolate").as_deref(),
        Some("The device is already isolated.")
    );
    assert_eq!(disabled_reason(&panel, "Unisolate"), None);

    let k = key();
    let release = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "Unisolate",
            scope: "",
            comment: "Released after triage #4471",
            confirm: &name,
            key: &k,
        })
        .await;
    let release_id = release["action"]["id"].as_i64().unwrap();
    assert_eq!(w.panel(&w.admin, eid).await["isolation"], "ReleasePending");
    let done = w.wait_until_closed(eid, release_id).await;
    assert_eq!(done["status"], "Succeeded");
    assert_eq!(w.sim.control().is_isolated(&m.id), Some(false));
    let panel = w.panel(&w.admin, eid).await;
    assert_eq!(panel["isolation"], "NotIsolated");
    let kinds: Vec<&str> = panel["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Unisolate", "Isolate"], "newest first");

    let audit = audit_actions(&w.app).await;
    for expected in ["action.isolate", "action.unisolate", "action.finished"] {
        assert!(audit.iter().any(|a| a == expected), "{expected}: {audit:?}");
    }
}

#[tokio::test]
async fn scans_end_in_every_terminal_status_defender_reports() {
    let w = world(30).await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    for (outcome, expected) in [
        (Some(ForcedOutcome::Succeeded), "Succeeded"),
        (Some(ForcedOutcome::Failed), "Failed"),
        (Some(ForcedOutcome::TimeOut), "TimeOut"),
    ] {
        w.set_outcome(outcome);
        let k = key();
        let sent = w
            .submit_ok(&Form {
                endpoint_id: eid,
                kind: "RunAntiVirusScan",
                scope: "Quick",
                comment: "Scan after alert",
                confirm: "",
                key: &k,
            })
            .await;
        let id = sent["action"]["id"].as_i64().unwrap();
        let done = w.wait_until_closed(eid, id).await;
        assert_eq!(done["status"], expected, "{done:#}");
        // A scan that did not succeed can be run again at once.
        let panel = w.panel(&w.admin, eid).await;
        assert_eq!(disabled_reason(&panel, "RunAntiVirusScan"), None);
    }

    // Cancelled in Defender (e.g. from the portal) while it never finishes on its own.
    w.set_outcome(Some(ForcedOutcome::NeverTerminal));
    let k = key();
    let sent = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "RunAntiVirusScan",
            scope: "Full",
            comment: "Full scan",
            confirm: "",
            key: &k,
        })
        .await;
    let id = sent["action"]["id"].as_i64().unwrap();
    let defender_id = sent["action"]["defender_action_id"]
        .as_str()
        .unwrap()
        .to_owned();
    cancel_in_defender(&w.sim, &defender_id).await;
    let done = w.wait_until_closed(eid, id).await;
    assert_eq!(done["status"], "Cancelled", "{done:#}");
    let statuses: Vec<String> = w
        .stored_statuses()
        .await
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(statuses, ["Succeeded", "Failed", "TimeOut", "Cancelled"]);
}

/// Cancels an action through Defender's API with the app's own token, as the portal would.
async fn cancel_in_defender(sim: &RunningSim, defender_id: &str) {
    let token = sim_token(sim).await;
    let res = reqwest::Client::new()
        .post(format!(
            "{}/api/machineactions/{defender_id}/cancel",
            sim.base_url()
        ))
        .bearer_auth(token)
        .json(&serde_json::json!({"Comment": "Cancelled in the portal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

async fn sim_token(sim: &RunningSim) -> String {
    let a = sim.app();
    let res = reqwest::Client::new()
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            sim.base_url(),
            a.tenant_id
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", a.client_id.as_str()),
            ("client_secret", a.client_secret.as_str()),
            ("scope", AUDIENCE_SCOPE),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_pending_action_is_shown_instead_of_sending_another() {
    let w = world(30).await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    w.set_outcome(Some(ForcedOutcome::NeverTerminal));

    // Pending in this console: a second scan form (another key) gets the first scan back.
    let k1 = key();
    let first = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "RunAntiVirusScan",
            scope: "Quick",
            comment: "first",
            confirm: "",
            key: &k1,
        })
        .await;
    let k2 = key();
    let second = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "RunAntiVirusScan",
            scope: "Full",
            comment: "second",
            confirm: "",
            key: &k2,
        })
        .await;
    assert_eq!(second["existing"], true, "{second:#}");
    assert_eq!(second["action"]["id"], first["action"]["id"]);
    assert!(second["message"].as_str().unwrap().contains("already"));
    assert_eq!(w.sim.control().action_count(), 1);

    // Pending in Defender only (isolated from the portal): found by the preflight, recorded
    // as an outside action, and followed by the poller.
    let token = sim_token(&w.sim).await;
    let res = reqwest::Client::new()
        .post(format!(
            "{}/api/machines/{}/isolate",
            w.sim.base_url(),
            m.id
        ))
        .bearer_auth(token)
        .json(&serde_json::json!({"Comment": "Isolated from the portal", "IsolationType": "Full"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let k3 = key();
    let shown = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "Isolate",
            scope: "Selective",
            comment: "isolate again",
            confirm: m.computer_dns_name.as_deref().unwrap(),
            key: &k3,
        })
        .await;
    assert_eq!(shown["existing"], true, "{shown:#}");
    assert_eq!(shown["action"]["external"], true);
    assert_eq!(shown["action"]["comment"], "Isolated from the portal");
    assert_eq!(
        w.sim.control().action_count(),
        2,
        "no third action was sent"
    );
    let panel = w.panel(&w.admin, eid).await;
    assert_eq!(panel["isolation"], "IsolationPending");
    assert!(disabled_reason(&panel, "Unisolate").is_some());
}

#[tokio::test]
async fn unsupported_devices_get_the_reason_and_nothing_is_sent() {
    let w = world(60).await;
    let admin = &w.admin;

    // Not onboarded: every action disabled with the onboarding status named.
    let discovered = w.machine(|m| m.onboarding_status != "Onboarded");
    let eid = w.endpoint_of(&discovered.id).await;
    let panel = w.panel(admin, eid).await;
    for kind in ["Isolate", "Unisolate", "RunAntiVirusScan"] {
        let reason = disabled_reason(&panel, kind).unwrap();
        assert!(reason.contains("Not onboarded"), "{kind}: {reason}");
        assert!(reason.contains(&discovered.onboarding_status), "{reason}");
    }
    let k = key();
    let res = w
        .submit(
            admin,
            &Form {
                endpoint_id: eid,
                kind: "RunAntiVirusScan",
                scope: "Quick",
                comment: "scan",
                confirm: "",
                key: &k,
            },
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("Not onboarded"));

    // Linux: full isolation only; Selective is refused before anything is sent.
    let linux = w.machine(|m| {
        m.onboarding_status == "Onboarded"
            && matches!(
                m.os_platform.as_deref(),
                Some("Ubuntu" | "Debian" | "RedHatEnterpriseLinux" | "Linux")
            )
    });
    let eid = w.endpoint_of(&linux.id).await;
    let panel = w.panel(admin, eid).await;
    assert_eq!(
        availability(&panel, "Isolate")["scopes"],
        serde_json::json!(["Full"])
    );
    let k = key();
    let res = w
        .submit(
            admin,
            &Form {
                endpoint_id: eid,
                kind: "Isolate",
                scope: "Selective",
                comment: "contain",
                confirm: panel["confirmation_name"].as_str().unwrap(),
                key: &k,
            },
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Selective"));
    assert_eq!(w.sim.control().action_count(), 0);
    assert!(w.stored_statuses().await.is_empty(), "nothing was claimed");
}

#[tokio::test]
async fn a_missing_permission_is_named_before_anything_is_sent() {
    let w = world_with(20, support::tuning(), |sim| {
        let client_id = sim.app().client_id.clone();
        // Read roles only: the sync works, the actions do not.
        sim.control().set_roles(
            &client_id,
            Some(
                [
                    "Machine.Read.All",
                    "Alert.Read.All",
                    "Vulnerability.Read.All",
                    "Software.Read.All",
                    "AdvancedQuery.Read.All",
                ]
                .map(String::from)
                .to_vec(),
            ),
        );
    })
    .await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    let k = key();
    let res = w
        .submit(
            &w.admin,
            &Form {
                endpoint_id: eid,
                kind: "Isolate",
                scope: "Full",
                comment: "contain",
                confirm: m.computer_dns_name.as_deref().unwrap(),
                key: &k,
            },
        )
        .await;
    assert_eq!(res.status(), 409);
    let text = res.text().await.unwrap();
    assert!(text.contains("Machine.Isolate"), "{text}");
    assert!(text.contains("Nothing was sent"), "{text}");
    assert_eq!(w.sim.control().action_count(), 0);
}

#[tokio::test]
async fn analysts_see_the_history_but_cannot_act() {
    let w = world(20).await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    let analyst = w.app.user_with_role("ana", "Analyst").await;
    let operator = w.app.user_with_role("oper", "Operator").await;

    let panel = w.panel(&analyst, eid).await;
    assert_eq!(panel["can_act"], false);
    let k = key();
    let form = Form {
        endpoint_id: eid,
        kind: "RunAntiVirusScan",
        scope: "Quick",
        comment: "scan",
        confirm: "",
        key: &k,
    };
    assert_eq!(w.submit(&analyst, &form).await.status(), 403);
    assert_eq!(w.submit(&browser_signed_out(), &form).await.status(), 401);
    assert_eq!(w.sim.control().action_count(), 0);

    let res = w.submit(&operator, &form).await;
    assert_eq!(res.status(), 200);
    let sent: Value = res.json().await.unwrap();
    assert_eq!(sent["action"]["requested_by"], "oper");
    let panel = w.panel(&analyst, eid).await;
    assert_eq!(panel["history"].as_array().unwrap().len(), 1);
}

fn browser_signed_out() -> Client {
    support::browser()
}

#[tokio::test]
async fn polling_resumes_after_a_server_restart() {
    let w = world(20).await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    let k = key();
    let sent = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "Isolate",
            scope: "Full",
            comment: "contain before restart",
            confirm: m.computer_dns_name.as_deref().unwrap(),
            key: &k,
        })
        .await;
    let id = sent["action"]["id"].as_i64().unwrap();
    let defender_id = sent["action"]["defender_action_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let World {
        sim,
        app,
        _dir: dir,
        ..
    } = w;
    let pool = app.pool.clone();
    app.stop().await;

    // While the console is down Defender finishes the action; the stored row still says open.
    for _ in 0..100 {
        if sim.control().action_status(&defender_id).as_deref() == Some("Succeeded") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        sim.control().action_status(&defender_id).as_deref(),
        Some("Succeeded")
    );
    let (stored,): (String,) = server::on_pool!(&pool, |db| sqlx::query_as(
        "SELECT status FROM machine_action WHERE machine_action_id = $1"
    )
    .bind(id)
    .fetch_one(db)
    .await
    .unwrap());
    assert!(
        ["Pending", "InProgress"].contains(&stored.as_str()),
        "{stored}"
    );
    pool.close().await;

    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let w = World {
        sim,
        app,
        admin,
        _dir: dir,
    };
    let done = w.wait_until_closed(eid, id).await;
    assert_eq!(done["status"], "Succeeded");
    assert_eq!(w.panel(&w.admin, eid).await["isolation"], "Isolated");
}

#[tokio::test]
async fn the_server_polls_defender_at_its_own_pace_however_many_tabs_watch() {
    let w = world(20).await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    w.set_outcome(Some(ForcedOutcome::NeverTerminal));
    let k = key();
    let sent = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "RunAntiVirusScan",
            scope: "Quick",
            comment: "watched by many tabs",
            confirm: "",
            key: &k,
        })
        .await;
    let id = sent["action"]["id"].as_i64().unwrap();
    let reads_before = w.sim.control().action_status_reads();
    let started = std::time::Instant::now();
    // Ten "tabs" refresh the panel as fast as they can for a while.
    let tabs = (0..10).map(|_| async {
        for _ in 0..30 {
            let panel = w.panel(&w.admin, eid).await;
            let status = history_row(&panel, id)["status"].clone();
            assert!(status == "Pending" || status == "InProgress", "{status}");
        }
    });
    futures::future::join_all(tabs).await;
    let elapsed = started.elapsed();
    let reads = w.sim.control().action_status_reads() - reads_before;
    // The test timing polls every 100 ms: the reads are bounded by elapsed time, not by the
    // 300 panel requests.
    let bound = elapsed.as_millis() as u64 / 100 + 2;
    assert!(
        reads <= bound,
        "{reads} status reads in {elapsed:?} for 300 panel requests (bound {bound})"
    );
}

#[tokio::test]
async fn status_checks_back_off_while_defender_throttles_and_recover() {
    let w = world(20).await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    let k = key();
    let sent = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "RunAntiVirusScan",
            scope: "Quick",
            comment: "scan under throttling",
            confirm: "",
            key: &k,
        })
        .await;
    let id = sent["action"]["id"].as_i64().unwrap();
    // Every API call answers 429 from now on.
    w.sim.control().set_faults(Faults {
        throttle_next: 100_000,
        throttle_retry_after_secs: Some(0),
        ..Faults::default()
    });
    let mut seen = Value::Null;
    for _ in 0..200 {
        seen = history_row(&w.panel(&w.admin, eid).await, id);
        if seen["error"]
            .as_str()
            .is_some_and(|e| e.contains("throttling"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen["error"]
            .as_str()
            .unwrap_or_default()
            .contains("throttling"),
        "{seen:#}"
    );
    assert!(
        ["Pending", "InProgress"].contains(&seen["status"].as_str().unwrap()),
        "still open: {seen:#}"
    );
    let (failures,): (i64,) = server::on_pool!(&w.app.pool, |db| sqlx::query_as(
        "SELECT poll_failures FROM machine_action WHERE machine_action_id = $1"
    )
    .bind(id)
    .fetch_one(db)
    .await
    .unwrap());
    assert!(failures >= 1);

    w.sim.control().set_faults(Faults::default());
    let done = w.wait_until_closed(eid, id).await;
    assert_eq!(done["status"], "Succeeded", "{done:#}");
    assert!(done["error"].is_null(), "the problem clears: {done:#}");
}

/// A process that died between sending an action and storing Defender's answer leaves the
/// row "Submitting". The next process looks the request up in Defender instead of sending it
/// again: found, it is followed; not found, it is recorded as not sent.
#[tokio::test]
async fn unconfirmed_requests_are_looked_up_in_defender_after_a_restart() {
    let w = world(20).await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    let World {
        sim,
        app,
        _dir: dir,
        ..
    } = w;
    let pool = app.pool.clone();
    app.stop().await;

    // What reached Defender before the crash.
    let token = sim_token(&sim).await;
    let res = reqwest::Client::new()
        .post(format!(
            "{}/api/machines/{}/runAntiVirusScan",
            sim.base_url(),
            m.id
        ))
        .bearer_auth(token)
        .json(&serde_json::json!({"Comment": "sent before the crash", "ScanType": "Quick"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let defender_id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let earlier =
        server::db::format_time(time::OffsetDateTime::now_utc() - time::Duration::seconds(2));
    for (kind, group, comment, key) in [
        (
            "RunAntiVirusScan",
            "scan",
            "sent before the crash",
            "key-reached-defender",
        ),
        (
            "Isolate",
            "isolation",
            "never left the console",
            "key-never-sent",
        ),
    ] {
        server::on_pool!(&pool, |db| {
            sqlx::query(
                "INSERT INTO machine_action (endpoint_id, machine_id, kind, action_group, scope,
                 comment, requested_by, request_key, status, requested_at, updated_at)
             VALUES ($1, $2, $3, $4, NULL, $5, 'admin', $6, 'Submitting', $7, $7)",
            )
            .bind(eid)
            .bind(&m.id)
            .bind(kind)
            .bind(group)
            .bind(comment)
            .bind(key)
            .bind(&earlier)
            .execute(db)
            .await
            .unwrap();
        });
    }
    pool.close().await;

    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let w = World {
        sim,
        app,
        admin,
        _dir: dir,
    };
    let panel = w.panel(&w.admin, eid).await;
    let ids: Vec<i64> = panel["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let (never, reached) = (ids[0], ids[1]);
    let done = w.wait_until_closed(eid, reached).await;
    assert_eq!(done["status"], "Succeeded", "{done:#}");
    assert_eq!(done["defender_action_id"], defender_id.as_str());
    let done = w.wait_until_closed(eid, never).await;
    assert_eq!(done["status"], "NotSent", "{done:#}");
    assert!(done["error"].as_str().unwrap().contains("no record"));
    assert_eq!(w.sim.control().action_count(), 1, "nothing was sent again");
}

/// Fault: an action Defender never finishes. The console keeps showing it open, says it has
/// not changed, checks less often, and the other actions still work.
#[tokio::test]
async fn an_action_that_never_ends_is_shown_as_stalled_and_checked_less_often() {
    let tuning = server::startup::Tuning {
        action_timing: Some(server::actions::ActionTiming {
            stalled_after: Duration::from_millis(300),
            stalled_interval: Duration::from_secs(1),
            ..server::actions::ActionTiming::for_tests()
        }),
        ..support::tuning()
    };
    let w = world_with(20, tuning, |_| {}).await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    w.set_outcome(Some(ForcedOutcome::NeverTerminal));
    let k = key();
    let sent = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "RunAntiVirusScan",
            scope: "Quick",
            comment: "never ends",
            confirm: "",
            key: &k,
        })
        .await;
    let id = sent["action"]["id"].as_i64().unwrap();
    let mut row = Value::Null;
    for _ in 0..100 {
        row = history_row(&w.panel(&w.admin, eid).await, id);
        if row["error"]
            .as_str()
            .is_some_and(|e| e.contains("no change"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(row["status"], "InProgress", "{row:#}");
    assert!(
        row["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no change"),
        "{row:#}"
    );
    // Stalled: about one check per second instead of ten.
    let before = w.sim.control().action_status_reads();
    let started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let reads = w.sim.control().action_status_reads() - before;
    let bound = started.elapsed().as_secs() + 2;
    assert!(
        reads <= bound,
        "{reads} reads while stalled (bound {bound})"
    );

    // The device is still usable for other actions.
    w.set_outcome(None);
    let k = key();
    let isolate = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "Isolate",
            scope: "Full",
            comment: "isolate meanwhile",
            confirm: m.computer_dns_name.as_deref().unwrap(),
            key: &k,
        })
        .await;
    let done = w
        .wait_until_closed(eid, isolate["action"]["id"].as_i64().unwrap())
        .await;
    assert_eq!(done["status"], "Succeeded");
    let counts: (i64, i64) = server::on_pool!(&w.app.pool, |db| {
        sqlx::query_as(
        "SELECT COUNT(*), SUM(CASE WHEN status = 'InProgress' THEN 1 ELSE 0 END) FROM machine_action"
    )
    .fetch_one(db)
    .await
    .unwrap()
    });
    assert_eq!(counts, (2, 1), "the stalled scan is kept, still open");
}

#[tokio::test]
async fn an_open_action_can_be_cancelled_from_the_console_by_operators_only() {
    let w = world(20).await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    w.set_outcome(Some(ForcedOutcome::NeverTerminal));
    let k = key();
    let sent = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "Isolate",
            scope: "Full",
            comment: "wrong device",
            confirm: m.computer_dns_name.as_deref().unwrap(),
            key: &k,
        })
        .await;
    let id = sent["action"]["id"].as_i64().unwrap().to_string();
    let analyst = w.app.user_with_role("ana", "Analyst").await;
    let cancel = |client: Client, comment: &'static str| {
        let app = &w.app;
        let id = id.clone();
        async move {
            app.call(
                &client,
                "actions/cancel",
                &[("action_id", id.as_str()), ("comment", comment)],
            )
            .await
        }
    };
    assert_eq!(cancel(analyst, "no").await.status(), 403);
    assert_eq!(cancel(w.admin.clone(), " ").await.status(), 422);
    let res = cancel(w.admin.clone(), "Isolated the wrong device").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let row = history_row(&w.panel(&w.admin, eid).await, id.parse().unwrap());
    assert_eq!(row["status"], "Cancelled", "{row:#}");
    let defender_id = row["defender_action_id"].as_str().unwrap();
    assert_eq!(
        w.sim.control().action_status(defender_id).as_deref(),
        Some("Cancelled")
    );
    // A finished action cannot be cancelled again, and the device can be isolated anew.
    assert_eq!(cancel(w.admin.clone(), "again").await.status(), 409);
    let panel = w.panel(&w.admin, eid).await;
    assert_eq!(panel["isolation"], "NotIsolated");
    assert_eq!(disabled_reason(&panel, "Isolate"), None);
    assert!(audit_actions(&w.app)
        .await
        .contains(&"action.cancel".to_owned()));
}

/// A scan form as the page sends it.
fn scan_form<'a>(endpoint_id: i64, comment: &'a str, key: &'a str) -> Form<'a> {
    Form {
        endpoint_id,
        kind: "RunAntiVirusScan",
        scope: "Quick",
        comment,
        confirm: "",
        key,
    }
}

/// The panel names the one machine actions go to (a stale duplicate of the device is never
/// offered), and the server sends only to the machine the form named, while it is still a live
/// machine of the endpoint.
#[tokio::test]
async fn actions_go_only_to_the_machine_the_form_named() {
    let w = world(30).await;
    let c = w.sim.control();
    let (live, stale, other) = (
        c.machine(0).unwrap(),
        c.machine(7).unwrap(),
        c.machine(8).unwrap(),
    );
    assert_eq!(stale.duplicate_of.as_deref(), Some(live.id.as_str()));
    let eid = w.endpoint_of(&live.id).await;
    let panel = w.panel(&w.admin, eid).await;
    assert_eq!(panel["machine_id"], live.id.as_str());
    let targets = panel["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{panel:#}");
    assert_eq!(targets[0]["machine_id"], live.id.as_str());
    assert_eq!(
        targets[0]["computer_dns_name"],
        live.computer_dns_name.clone().unwrap()
    );
    assert_eq!(targets[0]["health_status"], "Active");
    assert!(targets[0]["last_seen"].is_string());
    // The stale record is not a target, even when asked for by name.
    let res = w
        .app
        .call(
            &w.admin,
            "actions/for_endpoint",
            &[("endpoint_id", &eid.to_string()), ("machine_id", &stale.id)],
        )
        .await;
    assert_eq!(res.status(), 404);

    for (named, words) in [
        (
            stale.id.as_str(),
            "no longer a live machine of this endpoint",
        ),
        (
            other.id.as_str(),
            "no longer a live machine of this endpoint",
        ),
        ("", "does not say which Microsoft Defender machine"),
    ] {
        let k = key();
        let res = w
            .submit_to(&w.admin, &scan_form(eid, "wrong machine", &k), named)
            .await;
        assert_eq!(res.status(), 409, "{named}");
        let body = res.text().await.unwrap();
        assert!(body.contains(words), "{named}: {body}");
    }
    assert_eq!(c.action_count(), 0, "nothing reached Defender");
    assert_eq!(w.stored_statuses().await, Vec::<(String, String)>::new());

    let k = key();
    let res = w
        .submit_to(&w.admin, &scan_form(eid, "right machine", &k), &live.id)
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (machine, defender_id): (String, String) =
        server::on_pool!(&w.app.pool, |db| sqlx::query_as(
            "SELECT machine_id, defender_action_id FROM machine_action"
        )
        .fetch_one(db)
        .await
        .unwrap());
    assert_eq!(machine, live.id);
    assert!(c.action_status(&defender_id).is_some());
    assert_eq!(c.action_count(), 1);
}

/// Defender's own platform check refuses an action our table allows: the admin reads what
/// `OsPlatformNotSupported` means, the refusal is recorded with the action and remembered for
/// the device, and the button says so next time. Other actions stay available.
#[tokio::test]
async fn a_platform_refusal_is_explained_recorded_and_remembered() {
    let w = world(30).await;
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    w.sim.control().set_faults(Faults {
        platform_refusal_next: 1,
        ..Faults::default()
    });
    let k = key();
    let res = w
        .submit(&w.admin, &scan_form(eid, "scan after alert", &k))
        .await;
    assert_eq!(res.status(), 409);
    let body = res.text().await.unwrap();
    assert!(body.contains("(OsPlatformNotSupported)"), "{body}");
    assert!(
        body.contains("operating system does not support this action"),
        "{body}"
    );
    assert_eq!(w.sim.control().action_count(), 0);
    let panel = w.panel(&w.admin, eid).await;
    let row = &panel["history"][0];
    assert_eq!(row["status"], "NotSent");
    assert!(row["error"]
        .as_str()
        .unwrap()
        .contains("OsPlatformNotSupported"));
    let reason = disabled_reason(&panel, "RunAntiVirusScan").unwrap();
    assert!(
        reason.starts_with("Microsoft Defender refused this action for this device on "),
        "{reason}"
    );
    assert_eq!(disabled_reason(&panel, "Isolate"), None);
}

/// An isolation started in the Defender portal reaches the console with the sync: it is in the
/// history with its requestor, the isolation state follows it, and the device can be released
/// from here. A second sync adds nothing twice.
#[tokio::test]
async fn a_device_isolated_in_the_portal_can_be_released_from_the_console() {
    let w = world(30).await;
    let c = w.sim.control();
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    let name = m.computer_dns_name.clone().unwrap();
    c.create_portal_action(PortalAction::new(&m.id, ActionType::Isolate))
        .unwrap();
    for _ in 0..100 {
        if c.is_isolated(&m.id) == Some(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(c.is_isolated(&m.id), Some(true));
    assert_eq!(
        w.panel(&w.admin, eid).await["isolation"],
        "NotIsolated",
        "not synced yet"
    );

    w.sync().await;
    let panel = w.panel(&w.admin, eid).await;
    assert_eq!(panel["isolation"], "Isolated", "{panel:#}");
    let row = &panel["history"][0];
    assert_eq!(row["kind"], "Isolate");
    assert_eq!(row["status"], "Succeeded");
    assert_eq!(row["external"], true);
    assert_eq!(row["requested_by"], "secops@contoso.test");
    assert_eq!(row["machine_id"], m.id.as_str());
    assert_eq!(disabled_reason(&panel, "Unisolate"), None);
    let cursor: Option<String> = server::on_pool!(&w.app.pool, |db| sqlx::query_scalar(
        "SELECT value FROM sync_cursor WHERE name = 'machine_actions.created'"
    )
    .fetch_optional(db)
    .await
    .unwrap());
    assert!(cursor.is_some(), "the listing resumes from here next time");

    let k = key();
    let release = w
        .submit_ok(&Form {
            endpoint_id: eid,
            kind: "Unisolate",
            scope: "",
            comment: "Released after the portal isolation",
            confirm: &name,
            key: &k,
        })
        .await;
    let id = release["action"]["id"].as_i64().unwrap();
    assert_eq!(w.wait_until_closed(eid, id).await["status"], "Succeeded");
    assert_eq!(c.is_isolated(&m.id), Some(false));
    w.sync().await;
    let panel = w.panel(&w.admin, eid).await;
    assert_eq!(panel["isolation"], "NotIsolated");
    assert_eq!(panel["history"].as_array().unwrap().len(), 2, "{panel:#}");
}

/// An isolation the device has not picked up for days (it is offline): shown as pending, with
/// its requestor, followed by the poller at the slower pace, and no second one is offered.
#[tokio::test]
async fn an_isolation_pending_for_days_shows_as_pending() {
    let w = world(30).await;
    let c = w.sim.control();
    let m = w.windows();
    let eid = w.endpoint_of(&m.id).await;
    c.create_portal_action(
        PortalAction::new(&m.id, ActionType::Isolate)
            .created_secs_ago(2 * 86_400)
            .pending_for_secs(3 * 86_400),
    )
    .unwrap();
    w.sync().await;
    let panel = w.panel(&w.admin, eid).await;
    assert_eq!(panel["isolation"], "IsolationPending", "{panel:#}");
    let row = &panel["history"][0];
    assert_eq!(
        (row["status"].as_str(), row["external"].as_bool()),
        (Some("Pending"), Some(true))
    );
    for kind in ["Isolate", "Unisolate"] {
        assert!(
            disabled_reason(&panel, kind)
                .unwrap()
                .contains("already pending"),
            "{kind}: {panel:#}"
        );
    }
    // The poller follows it, and says it has not moved for long.
    let mut note = Value::Null;
    for _ in 0..100 {
        note = w.panel(&w.admin, eid).await["history"][0]["error"].clone();
        if note.is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        note.as_str()
            .unwrap()
            .contains("has reported no change since"),
        "{note}"
    );
}

/// A submission whose answer is lost after Defender created the action (a 504 from a proxy, a
/// cut body, an answer later than the client waits) is never sent again: the console finds the
/// action it created and tracks that one. Exactly one action per click in Defender.
#[tokio::test]
async fn a_lost_answer_is_never_resent_and_the_created_action_is_found() {
    let w = world(30).await;
    let c = w.sim.control();
    let candidates: Vec<MachineInfo> = c
        .machines()
        .into_iter()
        .filter(|m| {
            m.onboarding_status == "Onboarded"
                && m.health_status == "Active"
                && m.duplicate_of.is_none()
                && m.os_platform.as_deref() == Some("Windows11")
        })
        .take(3)
        .collect();
    assert_eq!(candidates.len(), 3);
    for (n, (mode, m)) in [
        LostAnswerMode::GatewayTimeout,
        LostAnswerMode::CutBody,
        LostAnswerMode::Hang,
    ]
    .into_iter()
    .zip(&candidates)
    .enumerate()
    {
        c.set_faults(Faults {
            lost_answer_next: 1,
            lost_answer_mode: mode,
            // Longer than the client waits (support::tuning: 1.5 s).
            lost_answer_hang_ms: Some(4_000),
            ..Faults::default()
        });
        let eid = w.endpoint_of(&m.id).await;
        let k = key();
        let sent = w.submit_ok(&scan_form(eid, "scan, answer lost", &k)).await;
        assert!(
            sent["message"]
                .as_str()
                .unwrap()
                .contains("answer was lost, but the action it created was found"),
            "{mode:?}: {sent:#}"
        );
        assert_eq!(c.faults().lost_answer_next, 0, "{mode:?}: the fault fired");
        assert_eq!(c.action_count(), n + 1, "{mode:?}: one action in Defender");
        let defender_id = sent["action"]["defender_action_id"].as_str().unwrap();
        assert!(c.action_status(defender_id).is_some(), "{mode:?}");
        let done = w
            .wait_until_closed(eid, sent["action"]["id"].as_i64().unwrap())
            .await;
        assert_eq!(done["status"], "Succeeded", "{mode:?}: {done:#}");
    }
    c.set_faults(Faults::default());
}
