//! Who is calling a plain route: `Require<C>` is the signed-in user whose role allows
//! capability `C`, and `SensorToken` a discovery sensor's API token. A handler that takes one
//! cannot run without it, so no route repeats the check or forgets it.
//!
//! `Require` applies the one guard of the server fns (`app::api::guard`: the same session
//! registry check and access rule) and refuses as they do, with the error as JSON under its
//! status: 401 without a live session, 403 for the role or a pending password change.

use std::marker::PhantomData;

use crate::db::Stores;
use app::api::guard::{authorise, session_user};
use app::backend::SharedBackend;
use app::error::ConsoleError;
use app::model::user::{Capability, UserDto};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tower_sessions::Session;

use crate::endpoints::verify_api_token;

/// A capability as a type, so a route states what it needs in its signature.
pub trait Needs: Send + Sync {
    const CAPABILITY: Capability;
}

/// See inventory, risk and integration state: any signed-in role.
pub struct Read;

impl Needs for Read {
    const CAPABILITY: Capability = Capability::Read;
}

/// Change inventory or act through an integration: Operators and Administrators.
pub struct Operate;

impl Needs for Operate {
    const CAPABILITY: Capability = Capability::Operate;
}

/// The signed-in user, once the session is live and the role allows `C`. Only the extractor
/// makes one: the marker field is private.
pub struct Require<C: Needs> {
    pub user: UserDto,
    capability: PhantomData<C>,
}

impl<S, C> FromRequestParts<S> for Require<C>
where
    S: Send + Sync,
    SharedBackend: FromRef<S>,
    C: Needs,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Without the session layer this is the layer's own 500, as for any handler taking a
        // `Session`.
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let backend = SharedBackend::from_ref(state);
        let user = session_user(&session, &backend).await.map_err(refusal)?;
        let user = authorise(user, C::CAPABILITY).map_err(refusal)?;
        Ok(Self {
            user,
            capability: PhantomData,
        })
    }
}

/// A refusal with the status the server fns give the same error.
fn refusal(err: ConsoleError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(err)).into_response()
}

/// The id of a live sensor API token sent as `Authorization: Bearer <token>`. Sensors are
/// machines, not people: a session is no substitute, and the token is checked against its
/// stored hash only.
pub struct SensorToken(pub i64);

impl<S> FromRequestParts<S> for SensorToken
where
    S: Send + Sync,
    Stores: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token_id = match bearer(parts) {
            Some(token) => verify_api_token(&*Stores::from_ref(state).api_tokens, token).await,
            None => None,
        };
        token_id.map(Self).ok_or_else(|| {
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                Json(json!({ "error": "A valid API token is required." })),
            )
                .into_response()
        })
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}
