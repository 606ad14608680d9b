//! The plain routes' side of the one guard (`app::api::guard`): the same session check and
//! access rule as every server fn, answered as JSON with the matching status.

use app::api::guard::{authorise, session_user};
use app::backend::SharedBackend;
use app::error::ConsoleError;
use app::model::user::{Capability, UserDto};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

/// The signed-in user when the session is live and allows `capability`; otherwise the
/// refusal to send (401, or 403 for the role or a pending password change).
pub async fn authorised(
    backend: &SharedBackend,
    session: &Session,
    capability: Capability,
) -> Result<UserDto, Response> {
    let user = session_user(session, backend).await.map_err(refusal)?;
    authorise(user, capability).map_err(refusal)
}

pub fn refusal(err: ConsoleError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(err)).into_response()
}
