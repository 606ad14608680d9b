//! `GET /api/endpoints/export.csv`: the filtered endpoint list as CSV (any signed-in role),
//! with the same query parameters as the list page.

use app::error::ConsoleError;
use app::model::endpoint::EndpointQuery;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

use crate::db::Stores;

use super::extract::{Read, Require};
use crate::backend::internal;
use crate::views::csv;
use crate::views::endpoint_list::{self, ListCache};

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
        Ok(rows) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"endpoints.csv\"",
                ),
            ],
            csv::csv(&rows),
        )
            .into_response(),
        Err(e) => {
            let err = internal(e);
            refuse(StatusCode::INTERNAL_SERVER_ERROR, err)
        }
    }
}
