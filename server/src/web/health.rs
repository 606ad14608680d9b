//! `/healthz` (the process answers) and `/readyz` (the database answers too).

use crate::db::Stores;
use axum::extract::State;
use axum::http::StatusCode;

pub async fn alive() -> &'static str {
    "ok"
}

pub async fn ready(State(stores): State<Stores>) -> (StatusCode, &'static str) {
    match stores.database.ping().await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
