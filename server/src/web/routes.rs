//! Every HTTP route outside Leptos (whose pages and server fns have their own registries), in
//! one list: startup mounts exactly these, and the attack suite enumerates them from here.

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{get, post, MethodRouter};

use super::{export, health, import, ingest, sync_events};
use crate::discovery::Limits;
use crate::startup::AppState;

/// A path, the one method it answers, and its handler with any per-route layers.
pub struct PlainRoute {
    pub path: &'static str,
    pub method: Method,
    pub handler: MethodRouter<AppState>,
}

fn route(path: &'static str, method: Method, handler: MethodRouter<AppState>) -> PlainRoute {
    PlainRoute {
        path,
        method,
        handler,
    }
}

pub fn plain_routes() -> Vec<PlainRoute> {
    vec![
        route("/healthz", Method::GET, get(health::alive)),
        route("/readyz", Method::GET, get(health::ready)),
        route(
            "/api/endpoints/export.csv",
            Method::GET,
            get(export::endpoints_csv),
        ),
        route(
            "/api/vulnerabilities/export.csv",
            Method::GET,
            get(export::vulnerable_endpoints_csv),
        ),
        route(
            "/api/software/export.csv",
            Method::GET,
            get(export::software_devices_csv),
        ),
        route(
            "/api/sync/events",
            Method::GET,
            get(sync_events::sync_events),
        ),
        route(
            "/api/endpoints/import",
            Method::POST,
            post(import::import_upload).layer(DefaultBodyLimit::max(import::MAX_UPLOAD_BYTES)),
        ),
        // The body limit matches the sensor parser's own.
        route(
            "/api/ingest/sensor",
            Method::POST,
            post(ingest::sensor).layer(DefaultBodyLimit::max(Limits::SENSOR_JSON.max_bytes)),
        ),
    ]
}
