//! Runtime control over HTTP, for tests written in other languages and for manual poking:
//! `GET`/`POST /_sim/faults` (JSON body = `Faults`), `GET /_sim/state` (counts) and
//! `POST /_sim/actions` (a machine action taken in the portal, JSON body = `PortalAction`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use super::clock;
use super::faults::Faults;
use super::portal;
use super::state::{lock, Sim};

pub async fn get_faults(State(sim): State<Arc<Sim>>) -> Json<Faults> {
    Json(lock(&sim.faults).clone())
}

pub async fn set_faults(State(sim): State<Arc<Sim>>, Json(f): Json<Faults>) -> Json<Faults> {
    tracing::info!(faults = ?f, "faults replaced");
    *lock(&sim.faults) = f.clone();
    Json(f)
}

/// 201 + MachineAction, or 400/404 with the API's error codes.
pub async fn create_action(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    portal::answer(&sim, &body)
}

pub async fn state(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(counts(&sim))
}

pub fn counts(sim: &Sim) -> Value {
    let d = &sim.data;
    let now = clock::now();
    let t = &sim.config.action_timings;
    let actions = lock(&sim.actions);
    let open = actions
        .actions
        .iter()
        .filter(|a| !a.state(now, t).0.terminal())
        .count();
    let isolated = (0..d.machines.len() as u32)
        .filter(|m| actions.isolated(*m, now, t))
        .count();
    json!({
        "machines": d.machines.len(),
        "alerts": d.alerts.len(),
        "vulnerabilities": d.exposed_cves.len(),
        "machineVulnerabilities": d.rows.len(),
        "software": d.software.iter().filter(|s| s.exposed_machines > 0).count(),
        "machineActions": actions.actions.len(),
        "openMachineActions": open,
        "isolatedMachines": isolated,
        "apps": lock(&sim.apps).len(),
        "tokensIssued": lock(&sim.tokens).issued,
    })
}
