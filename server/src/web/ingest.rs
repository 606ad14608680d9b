//! `POST /api/ingest/sensor`: discovery sensors push JSON batches here.
//!
//! Sensors are machines, not people: they authenticate with an API token
//! (`Authorization: Bearer <token>`, only its hash is stored, see `extract::SensorToken`),
//! not a session. The body is
//! parsed in full before anything is written, so a bad batch changes nothing and the sensor
//! gets the parser's message naming the element at fault.

use crate::db::Stores;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::extract::SensorToken;
use crate::endpoints::{import_sensor, ImportError, InactiveAfter};

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

#[tracing::instrument(skip_all)]
pub async fn sensor(
    State(stores): State<Stores>,
    State(cache): State<std::sync::Arc<crate::views::endpoint_list::ListCache>>,
    State(inactive_after): State<InactiveAfter>,
    SensorToken(token_id): SensorToken,
    body: Bytes,
) -> Response {
    let result = import_sensor(&stores, &body, inactive_after).await;
    cache.invalidate(&*stores.list_generation).await;
    match result {
        Ok(report) => {
            tracing::info!(
                token_id,
                observations = report.observations,
                "sensor batch imported"
            );
            (StatusCode::OK, Json(report)).into_response()
        }
        Err(ImportError::Sensor(e)) => error(StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "sensor batch import failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The batch could not be stored; try again later.",
            )
        }
    }
}
