//! Machine actions over HTTP: lifecycle, duplicates, strict bodies, OS rules, cancel.

#[path = "support/sim.rs"]
mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use server::sim::{
    ActionRefused, ActionType, Faults, ForcedOutcome, LostAnswerMode, PortalAction, RunningSim,
};
use support::*;

async fn action(s: &RunningSim, tok: &str, id: &str) -> Value {
    get_json(&format!("{}/api/machineactions/{id}", s.base_url()), tok).await
}

async fn wait_for(s: &RunningSim, tok: &str, id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let a = action(s, tok, id).await;
        if a["status"] == status {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("action {id} never reached {status}");
}

#[tokio::test]
async fn isolate_lifecycle_and_isolation_state() {
    let s = start_small(12).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let m0 = s.control().machine(0).unwrap();
    let (st, a) = post_json(
        &format!("{base}/api/machines/{}/isolate", m0.id),
        &tok,
        json!({"Comment": "C2 beaconing", "IsolationType": "Selective"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    assert_eq!(a["status"], "Pending");
    assert_eq!(a["type"], "Isolate");
    assert_eq!(a["scope"], "Selective");
    assert_eq!(a["requestSource"], "PublicApi");
    assert_eq!(a["requestorComment"], "C2 beaconing");
    assert_eq!(a["errorHResult"], 0);
    assert_eq!(a["machineId"], m0.id.as_str());
    assert_eq!(a["creationDateTimeUtc"], a["lastUpdateDateTimeUtc"]);
    assert!(a["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("#MachineActions/$entity"));
    let id = a["id"].as_str().unwrap().to_owned();

    // Second isolate while the first is open.
    let (st, dup) = post_json(
        &format!("{base}/api/machines/{}/isolate", m0.id),
        &tok,
        comment("again"),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&dup), "ActiveRequestAlreadyExists");
    assert_eq!(dup["error"]["message"], "Action is already in progress");

    let inprog = wait_for(&s, &tok, &id, "InProgress").await;
    assert!(inprog["lastUpdateDateTimeUtc"].as_str() > a["lastUpdateDateTimeUtc"].as_str());
    let done = wait_for(&s, &tok, &id, "Succeeded").await;
    assert!(done["lastUpdateDateTimeUtc"].as_str() > inprog["lastUpdateDateTimeUtc"].as_str());
    assert_eq!(s.control().is_isolated(&m0.id), Some(true));
    assert_eq!(s.control().action_status(&id).as_deref(), Some("Succeeded"));

    let (st, un) = post_json(
        &format!("{base}/api/machines/{}/unisolate", m0.id),
        &tok,
        comment("ok"),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    wait_for(&s, &tok, un["id"].as_str().unwrap(), "Succeeded").await;
    assert_eq!(s.control().is_isolated(&m0.id), Some(false));

    let list = get_json(
        &format!(
            "{base}/api/machineactions?$filter=machineId eq '{}' and type eq 'Isolate'",
            m0.id
        ),
        &tok,
    )
    .await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let r = get(
        &format!("{base}/api/machineactions/6e8f0c3a-0000-4000-8000-000000000000"),
        &tok,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    s.shutdown().await;
}

#[tokio::test]
async fn strict_bodies_and_platform_rules() {
    let s = start_small(12).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let c = s.control();
    let win = c.machine(0).unwrap();
    let linux = c.machine(1).unwrap();
    assert_eq!(linux.os_platform.as_deref(), Some("Ubuntu"));
    let discovered = c
        .find_machine(|m| m.onboarding_status == "CanBeOnboarded")
        .unwrap();
    let url = |id: &str, verb: &str| format!("{base}/api/machines/{id}/{verb}");

    let cases = [
        (
            url(&win.id, "isolate"),
            json!({"comment": "lower"}),
            "InvalidRequestBody",
        ),
        (
            url(&win.id, "isolate"),
            json!({}),
            "MissingRequiredParameter",
        ),
        (
            url(&win.id, "isolate"),
            json!({"Comment": "x", "IsolationType": "Half"}),
            "InvalidInput",
        ),
        (
            url(&win.id, "runAntiVirusScan"),
            json!({"Comment": "x"}),
            "MissingRequiredParameter",
        ),
        (
            url(&win.id, "runAntiVirusScan"),
            json!({"Comment": "x", "ScanType": "Deep"}),
            "InvalidInput",
        ),
        (
            url(&linux.id, "isolate"),
            json!({"Comment": "x", "IsolationType": "Selective"}),
            "OsPlatformNotSupported",
        ),
        (
            url(&discovered.id, "isolate"),
            json!({"Comment": "x"}),
            "OsPlatformNotSupported",
        ),
    ];
    for (u, body, code) in cases {
        let (st, v) = post_json(&u, &tok, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{u} {body}");
        assert_eq!(error_code(&v), code, "{u} {body}: {v}");
    }
    let (st, _) = post_json(&url(&linux.id, "isolate"), &tok, comment("full is fine")).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, contain) = post_json(
        &url(&discovered.id, "isolate"),
        &tok,
        json!({"Comment": "contain", "IsolationType": "UnManagedDevice"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{contain}");
    let (st, scan) = post_json(
        &url(&win.id, "runAntiVirusScan"),
        &tok,
        json!({"Comment": "scan", "ScanType": "Quick"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(
        (scan["type"].as_str(), scan["scope"].as_str()),
        (Some("RunAntiVirusScan"), Some("Quick"))
    );
    let (st, _) = post_json(
        &url("0000000000000000000000000000000000000000", "isolate"),
        &tok,
        comment("x"),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.shutdown().await;
}

#[tokio::test]
async fn inactive_device_times_out_and_cancel_works() {
    let s = start_small(12).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let inactive = s.control().machine(2).unwrap();
    assert_eq!(inactive.health_status, "Inactive");
    let (st, a) = post_json(
        &format!("{base}/api/machines/{}/isolate", inactive.id),
        &tok,
        comment("x"),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let id = a["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(action(&s, &tok, &id).await["status"], "Pending");
    wait_for(&s, &tok, &id, "TimeOut").await;

    let win = s.control().machine(0).unwrap();
    let (_, scan) = post_json(
        &format!("{base}/api/machines/{}/runAntiVirusScan", win.id),
        &tok,
        json!({"Comment": "scan", "ScanType": "Full"}),
    )
    .await;
    let sid = scan["id"].as_str().unwrap();
    let (st, bad) = post_json(
        &format!("{base}/api/machineactions/{sid}/cancel"),
        &tok,
        json!({"comment": "x"}),
    )
    .await;
    assert_eq!(
        (st, error_code(&bad)),
        (StatusCode::BAD_REQUEST, "InvalidRequestBody")
    );
    let (st, c) = post_json(
        &format!("{base}/api/machineactions/{sid}/cancel"),
        &tok,
        comment("mistake"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["status"], "Cancelled");
    assert_eq!(c["cancellationComment"], "mistake");
    assert!(c["cancellationDateTimeUtc"].is_string());
    let (st, _) = post_json(
        &format!("{base}/api/machineactions/{sid}/cancel"),
        &tok,
        comment("again"),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = post_json(
        &format!("{base}/api/machineactions/6e8f0c3a-0000-4000-8000-000000000000/cancel"),
        &tok,
        comment("x"),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.shutdown().await;
}

#[tokio::test]
async fn forced_outcomes_and_duplicate_alternate_mode() {
    let s = start_small(12).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let c = s.control();
    let win = c.machine(0).unwrap();
    let server = c.machine(8).unwrap();
    c.set_faults(Faults {
        action_outcome: Some(ForcedOutcome::Failed),
        ..Faults::default()
    });
    let (_, a) = post_json(
        &format!("{base}/api/machines/{}/isolate", win.id),
        &tok,
        comment("x"),
    )
    .await;
    let failed = wait_for(&s, &tok, a["id"].as_str().unwrap(), "Failed").await;
    assert_ne!(failed["errorHResult"], 0);
    assert_eq!(c.is_isolated(&win.id), Some(false));

    c.set_faults(Faults {
        action_outcome: Some(ForcedOutcome::NeverTerminal),
        duplicate_action_returns_existing: true,
        ..Faults::default()
    });
    let (st, first) = post_json(
        &format!("{base}/api/machines/{}/isolate", server.id),
        &tok,
        comment("x"),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, second) = post_json(
        &format!("{base}/api/machines/{}/isolate", server.id),
        &tok,
        comment("y"),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(first["id"], second["id"]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        action(&s, &tok, first["id"].as_str().unwrap()).await["status"],
        "InProgress"
    );

    c.set_faults(Faults {
        action_outcome: Some(ForcedOutcome::TimeOut),
        ..Faults::default()
    });
    let (_, t) = post_json(
        &format!("{base}/api/machines/{}/runAntiVirusScan", win.id),
        &tok,
        json!({"Comment": "x", "ScanType": "Quick"}),
    )
    .await;
    wait_for(&s, &tok, t["id"].as_str().unwrap(), "TimeOut").await;
    s.shutdown().await;
}

/// `GET /api/machineactions` ids for a `$filter`.
async fn listed(s: &RunningSim, tok: &str, filter: &str) -> Vec<String> {
    let url = format!("{}/api/machineactions?$filter={filter}", s.base_url());
    let v = get_json(&url, tok).await;
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn lost_answers_leave_the_action_done() {
    let s = start_small(12).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let c = s.control();
    let m0 = c.machine(0).unwrap();
    let m8 = c.machine(8).unwrap();
    let url = |id: &str, verb: &str| format!("{base}/api/machines/{id}/{verb}");
    let of_m0 = format!("machineId eq '{}'", m0.id);

    // Rejected requests and out-of-scope calls do not use the fault up.
    c.set_faults(Faults {
        lost_answer_next: 1,
        ..Faults::default()
    });
    let (st, _) = post_json(&url(&m0.id, "isolate"), &tok, json!({"comment": "x"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(c.faults().lost_answer_next, 1);

    // GatewayTimeout: a proxy's 504, but the isolation exists.
    let r = client()
        .post(url(&m0.id, "isolate"))
        .bearer_auth(&tok)
        .json(&comment("lost isolate"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(r.headers()["content-type"], "text/html");
    assert!(r.text().await.unwrap().contains("504 Gateway Time-out"));
    assert_eq!(c.faults().lost_answer_next, 0);
    assert_eq!(c.action_count(), 1);
    let found = get_json(
        &format!("{base}/api/machineactions?$filter={of_m0} and type eq 'Isolate'"),
        &tok,
    )
    .await;
    let found = &found["value"].as_array().unwrap()[..];
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["requestorComment"], "lost isolate");
    assert_eq!(found[0]["requestSource"], "PublicApi");
    let (st, dup) = post_json(&url(&m0.id, "isolate"), &tok, comment("again")).await;
    assert_eq!(
        (st, error_code(&dup)),
        (StatusCode::BAD_REQUEST, "ActiveRequestAlreadyExists")
    );

    // CutBody: 201 with half a body.
    c.set_faults(Faults {
        lost_answer_next: 1,
        lost_answer_mode: LostAnswerMode::CutBody,
        ..Faults::default()
    });
    let (st, cut) = post_json(
        &url(&m0.id, "runAntiVirusScan"),
        &tok,
        json!({"Comment": "lost scan", "ScanType": "Quick"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(cut.is_string(), "not JSON: {cut}");
    assert_eq!(c.action_count(), 2);
    let scans = listed(&s, &tok, &format!("{of_m0} and type eq 'RunAntiVirusScan'")).await;
    assert_eq!(scans.len(), 1);

    // A lost cancellation still cancels.
    c.set_faults(Faults {
        lost_answer_next: 1,
        ..Faults::default()
    });
    let cancel = format!("{base}/api/machineactions/{}/cancel", scans[0]);
    let (st, _) = post_json(&cancel, &tok, comment("stop")).await;
    assert_eq!(st, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(action(&s, &tok, &scans[0]).await["status"], "Cancelled");
    assert_eq!(c.action_status(&scans[0]).as_deref(), Some("Cancelled"));

    // Hang: a client with a shorter timeout gives up; the action exists all the same.
    c.set_faults(Faults {
        lost_answer_next: 2,
        lost_answer_mode: LostAnswerMode::Hang,
        lost_answer_hang_ms: Some(1500),
        ..Faults::default()
    });
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = impatient
        .post(url(&m8.id, "isolate"))
        .bearer_auth(&tok)
        .json(&comment("hung isolate"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(c.action_count(), 3);
    let on_m8 = listed(&s, &tok, &format!("machineId eq '{}'", m8.id)).await;
    assert_eq!(on_m8.len(), 1);
    let t0 = std::time::Instant::now();
    let (st, late) = post_json(&url(&m8.id, "unisolate"), &tok, comment("patient")).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(late["type"], "Unisolate");
    assert!(t0.elapsed() >= Duration::from_millis(1500));

    // Scoped elsewhere: the answer arrives.
    c.set_faults(Faults {
        lost_answer_next: 1,
        scope: Some("alerts".into()),
        ..Faults::default()
    });
    let (st, _) = post_json(
        &url(&m8.id, "runAntiVirusScan"),
        &tok,
        json!({"Comment": "x", "ScanType": "Full"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(c.faults().lost_answer_next, 1);
    s.shutdown().await;
}

#[tokio::test]
async fn portal_actions_follow_the_api_rules_and_show_in_the_api() {
    let s = start_small(16).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let c = s.control();
    let (m0, m8) = (c.machine(0).unwrap(), c.machine(8).unwrap());

    // Over HTTP, without a bearer: an isolation taken an hour ago, long finished.
    let r = client()
        .post(format!("{base}/_sim/actions"))
        .json(&json!({"machine_id": m0.id, "type": "Isolate", "created_secs_ago": 3600}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["requestSource"], "Portal");
    assert_eq!(a["requestor"], "secops@contoso.test");
    assert_eq!(a["status"], "Succeeded");
    assert_eq!(a["scope"], "Full");
    let id = a["id"].as_str().unwrap();
    let served = action(&s, &tok, id).await;
    assert_eq!(served["requestSource"], "Portal");
    assert_eq!(served["creationDateTimeUtc"], a["creationDateTimeUtc"]);
    assert!(served["creationDateTimeUtc"].as_str() < served["lastUpdateDateTimeUtc"].as_str());
    assert_eq!(c.is_isolated(&m0.id), Some(true));
    let by_portal = listed(&s, &tok, "requestor eq 'secops@contoso.test'").await;
    assert_eq!(by_portal, [id.to_owned()]);

    // The API releases what the portal isolated.
    let (st, un) = post_json(
        &format!("{base}/api/machines/{}/unisolate", m0.id),
        &tok,
        comment("released after triage"),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{un}");
    wait_for(&s, &tok, un["id"].as_str().unwrap(), "Succeeded").await;
    assert_eq!(c.is_isolated(&m0.id), Some(false));

    // Pending for days: created yesterday, the device never picked it up.
    let pending = c
        .create_portal_action(
            PortalAction::new(&m8.id, ActionType::Isolate)
                .scope("Selective")
                .requestor("analyst@contoso.test")
                .comment("contain")
                .created_secs_ago(86_400)
                .pending_for_secs(3 * 86_400),
        )
        .unwrap();
    assert_eq!(pending["status"], "Pending");
    assert_eq!(pending["scope"], "Selective");
    assert_eq!(pending["requestor"], "analyst@contoso.test");
    assert_eq!(
        pending["lastUpdateDateTimeUtc"],
        pending["creationDateTimeUtc"]
    );
    let pid = pending["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(action(&s, &tok, pid).await["status"], "Pending");
    let (st, dup) = post_json(
        &format!("{base}/api/machines/{}/isolate", m8.id),
        &tok,
        comment("ours"),
    )
    .await;
    assert_eq!(
        (st, error_code(&dup)),
        (StatusCode::BAD_REQUEST, "ActiveRequestAlreadyExists")
    );
    let again = c.create_portal_action(PortalAction::new(&m8.id, ActionType::Isolate));
    assert_eq!(
        again.unwrap_err(),
        ActionRefused {
            status: 400,
            code: "ActiveRequestAlreadyExists".into(),
            message: "Action is already in progress".into(),
        }
    );
    let (st, cancelled) = post_json(
        &format!("{base}/api/machineactions/{pid}/cancel"),
        &tok,
        comment("not needed"),
    )
    .await;
    assert_eq!(
        (st, cancelled["status"].as_str()),
        (StatusCode::OK, Some("Cancelled"))
    );

    // Pending until its own deadline, then TimeOut at exactly that time.
    let m12 = c.machine(12).unwrap();
    let short = c
        .create_portal_action(
            PortalAction::new(&m12.id, ActionType::RunAntiVirusScan).pending_for_secs(1),
        )
        .unwrap();
    assert_eq!(
        (short["status"].as_str(), short["scope"].as_str()),
        (Some("Pending"), Some("Quick"))
    );
    let done = wait_for(&s, &tok, short["id"].as_str().unwrap(), "TimeOut").await;
    let at = |k: &str| {
        let t = done[k].as_str().unwrap();
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap()
    };
    assert_eq!(
        at("lastUpdateDateTimeUtc") - at("creationDateTimeUtc"),
        time::Duration::SECOND
    );

    // The platform rules and error codes of the API.
    let refused = |p: PortalAction| c.create_portal_action(p).unwrap_err();
    let linux = c.machine(1).unwrap();
    let selective = PortalAction::new(&linux.id, ActionType::Isolate).scope("Selective");
    assert_eq!(
        (
            refused(selective).status,
            refused(PortalAction::new(
                &c.machine(9).unwrap().id,
                ActionType::Isolate
            ))
            .code
        ),
        (400, "OsPlatformNotSupported".to_owned())
    );
    let unknown = refused(PortalAction::new(&"0".repeat(40), ActionType::Isolate));
    assert_eq!(
        (unknown.status, unknown.code.as_str()),
        (404, "ResourceNotFound")
    );
    let bad_scope = refused(PortalAction::new(&m0.id, ActionType::RunAntiVirusScan).scope("Deep"));
    assert_eq!(
        (bad_scope.status, bad_scope.code.as_str()),
        (400, "InvalidInput")
    );
    let r = client()
        .post(format!("{base}/_sim/actions"))
        .json(&json!({"machineId": m0.id, "type": "Isolate"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await.unwrap()), "InvalidRequestBody");
    assert_eq!(c.action_count(), 4);
    s.shutdown().await;
}

#[tokio::test]
async fn stays_pending_is_never_picked_up_until_the_timeout() {
    let s = start_small(12).await;
    let tok = token(&s).await;
    let c = s.control();
    let m0 = c.machine(0).unwrap();
    c.set_faults(Faults {
        action_outcome: Some(ForcedOutcome::StaysPending),
        ..Faults::default()
    });
    let (st, a) = post_json(
        &format!("{}/api/machines/{}/isolate", s.base_url(), m0.id),
        &tok,
        comment("x"),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let id = a["id"].as_str().unwrap();
    // Past pickup and completion of the fast timings, still untouched.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let still = action(&s, &tok, id).await;
    assert_eq!(still["status"], "Pending");
    assert_eq!(still["lastUpdateDateTimeUtc"], a["creationDateTimeUtc"]);
    wait_for(&s, &tok, id, "TimeOut").await;
    assert_eq!(c.is_isolated(&m0.id), Some(false));
    s.shutdown().await;
}

#[tokio::test]
async fn actions_filter_on_creation_time_only() {
    let s = start_small(12).await;
    let tok = token(&s).await;
    let c = s.control();
    let make = |i: usize, ago: u64| {
        let m = c.machine(i).unwrap();
        let a = c
            .create_portal_action(
                PortalAction::new(&m.id, ActionType::RunAntiVirusScan).created_secs_ago(ago),
            )
            .unwrap();
        (
            a["id"].as_str().unwrap().to_owned(),
            a["creationDateTimeUtc"].as_str().unwrap().to_owned(),
        )
    };
    let (old, t_old) = make(0, 7200);
    let (mid, t_mid) = make(1, 3600);
    let (new, _) = make(6, 0);
    let ids = |v: &[&String]| v.iter().map(|s| (*s).clone()).collect::<Vec<String>>();
    let f = |op: &str, t: &str| format!("creationDateTimeUtc {op} {t}");
    assert_eq!(listed(&s, &tok, &f("gt", &t_mid)).await, ids(&[&new]));
    assert_eq!(listed(&s, &tok, &f("ge", &t_mid)).await, ids(&[&mid, &new]));
    assert_eq!(listed(&s, &tok, &f("lt", &t_mid)).await, ids(&[&old]));
    assert_eq!(listed(&s, &tok, &f("le", &t_mid)).await, ids(&[&old, &mid]));
    let between = format!("{} and {}", f("gt", &t_old), f("lt", &t_mid));
    assert!(listed(&s, &tok, &between).await.is_empty());
    // Not a documented filter field (§4.4).
    let r = get(
        &format!(
            "{}/api/machineactions?$filter=lastUpdateDateTimeUtc ge {t_mid}",
            s.base_url()
        ),
        &tok,
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await.unwrap()), "ODataError");
    s.shutdown().await;
}

/// `platform_refusal_next`: Defender's own platform check refuses an action the support table
/// allows, once, without creating anything.
#[tokio::test]
async fn a_platform_refusal_creates_nothing_and_fires_once() {
    let s = start_small(12).await;
    let tok = token(&s).await;
    let m0 = s.control().machine(0).unwrap();
    s.control().set_faults(Faults {
        platform_refusal_next: 1,
        ..Faults::default()
    });
    let url = format!("{}/api/machines/{}/runAntiVirusScan", s.base_url(), m0.id);
    let body = json!({"Comment": "scan", "ScanType": "Quick"});
    let (st, refused) = post_json(&url, &tok, body.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(error_code(&refused), "OsPlatformNotSupported");
    assert_eq!(s.control().action_count(), 0);
    assert_eq!(s.control().faults().platform_refusal_next, 0);
    let (st, _) = post_json(&url, &tok, body).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(s.control().action_count(), 1);
}
