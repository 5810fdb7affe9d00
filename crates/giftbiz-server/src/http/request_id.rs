//! Request ids: every request gets one (a client's `X-Request-Id` when it is a sane one, else a
//! new one), the answer echoes it, and the request's span carries it, so every log line of the
//! request names it. A send or resend stores it on the message it queues (see
//! `jobs::delivery`), so the delivery's log line names it too. Handlers take it as
//! `Option<Extension<RequestId>>` (none when `request_ids` is off).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use giftbiz_core::RequestId;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives the request its id (in its extensions) and puts it on the answer.
pub async fn assign(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(RequestId::parse)
        .unwrap_or_else(RequestId::generate);
    req.extensions_mut().insert(id.clone());
    let mut resp = next.run(req).await;
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        resp.headers_mut().insert(X_REQUEST_ID, value);
    }
    resp
}
