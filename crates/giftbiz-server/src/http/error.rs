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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        envelope_response(&Envelope::<()>::error(self.code, self.detail.as_deref()))
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
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if resp.status() == StatusCode::OK && is_json {
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
