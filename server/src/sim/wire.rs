//! Response writing shared by the API handlers: OData headers and envelopes (§3.2) and the
//! MDE error envelope (§3.5).

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

pub const ODATA_CONTENT_TYPE: &str =
    "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8";

/// An MDE API error (§3.5) with optional `Retry-After`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn odata(message: impl Into<String>) -> Self {
        Self::bad("ODataError", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceNotFound", message)
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }

    pub fn into_response(self) -> Response {
        let body = json!({"error": {
            "code": self.code,
            "message": self.message,
            "target": format!("|{}.", uuid::Uuid::new_v4()),
        }});
        let mut r = json_response(self.status, body.to_string());
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

/// What a reverse proxy in front of the API sends when the backend answers too late.
pub fn gateway_timeout() -> Response {
    let body = "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n\
                <center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n";
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::GATEWAY_TIMEOUT;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}

pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ODATA_CONTENT_TYPE),
    );
    h.insert("OData-Version", HeaderValue::from_static("4.0"));
    r
}

/// How a processed request's answer gets lost on its way back (§9.22).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lost {
    GatewayTimeout,
    CutBody,
    Hold(Duration),
}

/// Asks the async handler to hold a response back this long before sending it.
#[derive(Clone, Copy, Debug)]
pub struct Hold(pub Duration);

/// A successful body before faults such as truncation are applied.
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
    /// The response already went out as a stream; nothing left to send.
    pub streamed: bool,
    /// The request was carried out but its answer is to be lost.
    pub lost: Option<Lost>,
}

impl Reply {
    pub fn ok(body: String) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            streamed: false,
            lost: None,
        }
    }

    pub fn streamed() -> Self {
        Self {
            status: StatusCode::OK,
            body: String::new(),
            streamed: true,
            lost: None,
        }
    }

    pub fn losing(mut self, lost: Option<Lost>) -> Self {
        self.lost = lost;
        self
    }

    /// Single entity: properties at top level plus `@odata.context` ending in `/$entity`.
    pub fn entity(status: StatusCode, context: String, mut v: Value) -> Self {
        let mut out = serde_json::Map::new();
        out.insert("@odata.context".into(), Value::String(context));
        if let Value::Object(o) = &mut v {
            out.append(o);
        }
        Self {
            status,
            body: Value::Object(out).to_string(),
            streamed: false,
            lost: None,
        }
    }
}

/// Writes a collection page item by item, handing out chunks of roughly `chunk` bytes to
/// `emit` (which returns false when the reader has gone away).
pub fn write_collection(
    context: &str,
    items: impl Iterator<Item = Value>,
    next_link: Option<&str>,
    chunk: usize,
    emit: &mut dyn FnMut(String) -> bool,
) {
    let mut s = String::with_capacity(chunk.min(1 << 20) + 1024);
    s.push_str("{\"@odata.context\":");
    s.push_str(&Value::String(context.to_owned()).to_string());
    s.push_str(",\"value\":[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&item.to_string());
        if s.len() >= chunk && !emit(std::mem::take(&mut s)) {
            return;
        }
    }
    s.push(']');
    if let Some(l) = next_link {
        s.push_str(",\"@odata.nextLink\":");
        s.push_str(&Value::String(l.to_owned()).to_string());
    }
    s.push('}');
    emit(s);
}

/// The whole page as one string (small pages, and pages the truncation fault will cut).
pub fn collection(
    context: &str,
    items: impl Iterator<Item = Value>,
    next_link: Option<&str>,
) -> String {
    let mut out = String::new();
    write_collection(context, items, next_link, usize::MAX, &mut |c| {
        out.push_str(&c);
        true
    });
    out
}

/// A page whose body is streamed in chunks from a blocking thread: returns the response to
/// send now and the function the producer calls per chunk.
pub fn streamed_response(status: StatusCode) -> (Response, impl FnMut(String) -> bool) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, Infallible>>(4);
    let stream =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ODATA_CONTENT_TYPE),
    );
    h.insert("OData-Version", HeaderValue::from_static("4.0"));
    (r, move |chunk: String| {
        tx.blocking_send(Ok(Bytes::from(chunk))).is_ok()
    })
}
