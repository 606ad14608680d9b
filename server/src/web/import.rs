//! `POST /api/endpoints/import`: an nmap XML report uploaded from Endpoints > Import (a plain
//! multipart form, so it works without JavaScript). Operators and Administrators only. The
//! whole file is parsed before anything is written; a bad file changes nothing.

use app::api::import_outcome::IMPORT_OUTCOME_KEY;
use app::model::import::ImportOutcome;
use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

use crate::db::Stores;
use tower_sessions::Session;

use super::extract::{Operate, Require};
use crate::discovery::Limits;
use crate::endpoints::{import_nmap, ImportError, InactiveAfter};
use crate::views::endpoint_list::ListCache;

/// Largest upload accepted; the parser has its own limit of the same size.
pub const MAX_UPLOAD_BYTES: usize = Limits::NMAP_XML.max_bytes;

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// Answers a browser with a redirect to the import page, which finds the outcome in the
/// session, and anything else with JSON.
async fn answer(
    session: &Session,
    html: bool,
    status: StatusCode,
    body: serde_json::Value,
    outcome: ImportOutcome,
) -> Response {
    if !html {
        return (status, axum::Json(body)).into_response();
    }
    if let Err(e) = session.insert(IMPORT_OUTCOME_KEY, outcome).await {
        // The import itself is done (or refused); only its banner is lost.
        tracing::warn!(error = %e, "could not keep the import outcome for the page");
    }
    Redirect::to("/endpoints/import").into_response()
}

fn failed(message: &str) -> ImportOutcome {
    ImportOutcome::Failed {
        message: message.to_owned(),
    }
}

// Each argument is one extractor axum hands in; grouping them would only hide which.
#[allow(clippy::too_many_arguments)]
pub async fn import_upload(
    State(stores): State<Stores>,
    State(cache): State<Arc<ListCache>>,
    State(inactive_after): State<InactiveAfter>,
    Require { user, .. }: Require<Operate>,
    session: Session,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let html = wants_html(&headers);
    let mut file = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => match field.bytes().await {
                Ok(bytes) => file = Some(bytes),
                Err(e) => {
                    let message = format!("The upload could not be read: {}", e.body_text());
                    let body = serde_json::json!({ "error": message });
                    return answer(&session, html, e.status(), body, failed(&message)).await;
                }
            },
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                let message = format!("The upload could not be read: {}", e.body_text());
                let body = serde_json::json!({ "error": message });
                return answer(&session, html, e.status(), body, failed(&message)).await;
            }
        }
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let message = "Choose an nmap XML file (nmap -oX) to import.";
        let body = serde_json::json!({ "error": message });
        return answer(
            &session,
            html,
            StatusCode::BAD_REQUEST,
            body,
            failed(message),
        )
        .await;
    };
    let result = import_nmap(&stores, &bytes, inactive_after).await;
    cache.invalidate(&*stores.list_generation).await;
    match result {
        Ok(report) => {
            let detail = format!(
                "nmap XML: {} observations, {} added, {} updated",
                report.observations, report.added, report.updated
            );
            let _ = stores
                .audit
                .record(&user.username, "discovery.import", &detail)
                .await;
            let outcome = ImportOutcome::Imported {
                observations: report.observations,
                added: report.added,
                updated: report.updated,
                skipped_without_mac: report.skipped_without_mac,
            };
            let body = serde_json::to_value(&report).unwrap_or_default();
            answer(&session, html, StatusCode::OK, body, outcome).await
        }
        Err(e @ (ImportError::Nmap(_) | ImportError::Sensor(_))) => {
            let message = e.to_string();
            let body = serde_json::json!({ "error": message });
            answer(
                &session,
                html,
                StatusCode::BAD_REQUEST,
                body,
                failed(&message),
            )
            .await
        }
        Err(e) => {
            let err = crate::backend::internal(e);
            let message = err.to_string();
            let body = serde_json::to_value(&err).unwrap_or_default();
            answer(
                &session,
                html,
                StatusCode::INTERNAL_SERVER_ERROR,
                body,
                failed(&message),
            )
            .await
        }
    }
}
