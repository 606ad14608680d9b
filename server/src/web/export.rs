//! CSV exports (any signed-in role), with the same query parameters as their pages:
//! `GET /api/endpoints/export.csv`, the filtered endpoint list, and
//! `GET /api/vulnerabilities/export.csv?cve=..`, every endpoint one CVE affects, and
//! `GET /api/software/export.csv?software=..`, every device running one product.

use app::error::ConsoleError;
use app::model::endpoint::EndpointQuery;
use app::model::software::SoftwareQuery;
use app::model::vulnerability::VulnerabilityQuery;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

use crate::db::Stores;

use super::extract::{Read, Require};
use crate::backend::internal;
use crate::views::endpoint_list::{self, ListCache};
use crate::views::software::{self, SoftwareViews};
use crate::views::{csv, vulnerabilities};

/// A CSV download named `file` (plain characters only: it goes in a header as it is).
fn attachment(file: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The list's URL parameters; absent ones take the list's defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportParams {
    q: String,
    risk: String,
    profile: String,
    source: String,
    onboarding: String,
    group: String,
    tag: String,
    sort: String,
    dir: String,
}

fn refuse(status: StatusCode, err: ConsoleError) -> Response {
    (status, axum::Json(err)).into_response()
}

pub async fn endpoints_csv(
    State(stores): State<Stores>,
    State(cache): State<Arc<ListCache>>,
    _: Require<Read>,
    Query(params): Query<ExportParams>,
) -> Response {
    let d = EndpointQuery::default();
    let or = |v: String, default: &str| if v.is_empty() { default.to_owned() } else { v };
    let query = EndpointQuery {
        q: params.q,
        risk: params.risk,
        profile: params.profile,
        source: params.source,
        onboarding: params.onboarding,
        group: params.group,
        tag: params.tag,
        sort: or(params.sort, &d.sort),
        dir: or(params.dir, &d.dir),
        ..d
    };
    match endpoint_list::all_rows(&*stores.endpoint_views, &cache, query).await {
        Ok(rows) => attachment("endpoints.csv", csv::csv(&rows)),
        Err(e) => {
            let err = internal(e);
            refuse(StatusCode::INTERNAL_SERVER_ERROR, err)
        }
    }
}

/// The Vulnerabilities page's URL parameters that choose the rows (paging aside).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VulnerabilityExportParams {
    cve: String,
    group: String,
    sort: String,
    dir: String,
}

pub async fn vulnerable_endpoints_csv(
    State(stores): State<Stores>,
    State(cache): State<Arc<ListCache>>,
    _: Require<Read>,
    Query(params): Query<VulnerabilityExportParams>,
) -> Response {
    if params.cve.trim().is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            ConsoleError::Validation {
                field: "cve".into(),
                message: "Name the CVE to export (cve=CVE-YYYY-NNNN).".into(),
            },
        );
    }
    let d = VulnerabilityQuery::default();
    let query = VulnerabilityQuery {
        cve: params.cve,
        group: params.group,
        sort: params.sort,
        dir: if params.dir.is_empty() {
            d.dir.clone()
        } else {
            params.dir
        },
        ..d
    };
    match vulnerabilities::all_affected(&stores, &cache, query).await {
        Ok(Some((cve_id, rows))) => {
            // The id is normalised to CVE-digits, so it is safe in a header.
            let file: String = cve_id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            attachment(
                &format!("{file}-endpoints.csv"),
                csv::vulnerable_endpoints(&cve_id, &rows),
            )
        }
        Ok(None) => refuse(StatusCode::NOT_FOUND, ConsoleError::NotFound),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, internal(e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SoftwareExportParams {
    software: String,
    group: String,
    sort: String,
    dir: String,
}

/// Every device of one product, as the Software page lists them with these filters.
pub async fn software_devices_csv(
    State(stores): State<Stores>,
    State(cache): State<Arc<ListCache>>,
    State(views): State<SoftwareViews>,
    _: Require<Read>,
    Query(params): Query<SoftwareExportParams>,
) -> Response {
    if params.software.trim().is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            ConsoleError::Validation {
                field: "software".into(),
                message: "Name the product to export (software=vendor-_-product).".into(),
            },
        );
    }
    let d = SoftwareQuery::default();
    let query = SoftwareQuery {
        software: params.software,
        group: params.group,
        sort: params.sort,
        dir: if params.dir.is_empty() {
            d.dir.clone()
        } else {
            params.dir
        },
        ..d
    };
    match software::all_devices(&stores, &cache, &views, query).await {
        Ok(Some(view)) => {
            // Defender's ids are `vendor-_-product`; only plain characters go in the header.
            let file: String = view
                .product
                .software_id
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .take(100)
                .collect();
            attachment(&format!("{file}-devices.csv"), csv::software_devices(&view))
        }
        Ok(None) => refuse(StatusCode::NOT_FOUND, ConsoleError::NotFound),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, internal(e)),
    }
}
