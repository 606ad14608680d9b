//! Machine actions over HTTP: lifecycle, duplicates, strict bodies, OS rules, cancel.

#[path = "support/sim.rs"]
mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use server::sim::{Faults, ForcedOutcome, RunningSim};
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
