//! `GET /api/sync/events`: live sync progress as server-sent events, for any signed-in role.
//! The browser reads them with gloo-net's EventSource; without JavaScript the pages show the
//! state at render time.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use super::extract::{Read, Require};
use crate::startup::AppState;

pub async fn sync_events(State(state): State<AppState>, _: Require<Read>) -> Response {
    let rx = state.sync.progress();
    // The current state first, then every change.
    let events = futures::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let progress = rx.borrow_and_update().clone();
        let event = Event::default().json_data(&progress).unwrap_or_default();
        Some((Ok::<_, Infallible>(event), (rx, false)))
    });
    // Ends when the server shuts down, or the graceful drain would wait for it forever.
    let mut stopping = state.stopping.clone();
    let events = events.take_until(async move { stopping.stopped().await });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
