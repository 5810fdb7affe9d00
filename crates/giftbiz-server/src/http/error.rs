//! One error type for the API: each failure maps to one result code and leaves as the JSON
//! envelope with HTTP 200 (clients call raise_for_status() before reading `code`). Internal
//! failures are logged and shown only as E9999.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use giftbiz_core::StoreError;
use giftbiz_wire::{Envelope, ResultCode};
use serde::Serialize;

pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

#[derive(Debug)]
pub struct ApiError {
    pub code: ResultCode,
    /// Added to the message in parentheses, e.g. the offending parameter's name.
    pub detail: Option<Cow<'static, str>>,
}

impl ApiError {
    pub fn new(code: ResultCode) -> ApiError {
        ApiError { code, detail: None }
    }

    pub fn with(code: ResultCode, detail: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError { code, detail: Some(detail.into()) }
    }

    pub fn internal(err: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %err, "internal failure");
        ApiError::new(ResultCode::Unexpected)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        ApiError::internal(err)
    }
}

/// The error object of our own routes outside `/bizApi` (the partner API, images, the health
/// check): `{"error": slug, "message": text}` with its HTTP status.
#[derive(Debug)]
pub struct HttpError {
    pub status: StatusCode,
    pub error: &'static str,
    pub message: &'static str,
    pub retry_after_secs: Option<u64>,
}

impl HttpError {
    pub fn new(status: StatusCode, error: &'static str, message: &'static str) -> HttpError {
        HttpError { status, error, message, retry_after_secs: None }
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(message: &'static str, retry_after_secs: u64) -> HttpError {
        HttpError { retry_after_secs: Some(retry_after_secs), ..HttpError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message) }
    }

    pub fn internal() -> HttpError {
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "unexpected failure")
    }

    /// The object for a status some layer or fallback answered without a body of ours.
    pub fn of_status(status: StatusCode) -> HttpError {
        let error = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::REQUEST_TIMEOUT => "request_timeout",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            s if s.is_client_error() => "bad_request",
            _ => "internal",
        };
        HttpError::new(status, error, status.canonical_reason().unwrap_or("error"))
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.error, "message": self.message});
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

/// Outside `/bizApi`: an error status that left without a JSON body (a framework rejection, a
/// method not routed) gets [`HttpError`]'s object. Successes (images, JSON) pass untouched.
pub async fn ensure_json_errors(resp: Response) -> Response {
    if resp.status().is_success() || resp.status().is_redirection() || is_json(&resp) || is_unchanged_page(&resp) {
        return resp;
    }
    HttpError::of_status(resp.status()).into_response()
}

/// A 0101 page the client already holds (`If-None-Match`): the API's one answer that is no
/// envelope, and no error.
fn is_unchanged_page(resp: &Response) -> bool {
    resp.status() == StatusCode::PRECONDITION_FAILED && resp.headers().contains_key(header::ETAG)
}

fn is_json(resp: &Response) -> bool {
    resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = envelope_response(&Envelope::<()>::error(self.code, self.detail.as_deref()));
        // For the metrics of the call (a success carries none: its code is 0000).
        resp.extensions_mut().insert(self.code);
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Serializes any response body as the API's JSON with HTTP 200.
pub fn envelope_response<T: Serialize>(body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => json_bytes(bytes),
        Err(err) => ApiError::internal(err).into_response(),
    }
}

pub fn json_bytes(bytes: Vec<u8>) -> Response {
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    resp
}

/// Handler for panics caught by the panic layer: E9999, never the panic text.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(ResultCode::Unexpected).into_response()
}

/// Last line of defence: whatever left the API without being the envelope (a framework
/// rejection, a non-200 status) is replaced by one.
pub async fn ensure_envelope(resp: Response) -> Response {
    if resp.status() == StatusCode::OK && is_json(&resp) {
        return resp;
    }
    if is_unchanged_page(&resp) {
        return resp;
    }
    tracing::warn!(status = %resp.status(), "non-envelope response replaced");
    let code = match resp.status() {
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ResultCode::MissingParameter
        }
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => ResultCode::ApiCodeMissing,
        _ => ResultCode::Unexpected,
    };
    ApiError::new(code).into_response()
}
