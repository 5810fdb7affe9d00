//! Sandbox faults (`sandbox = true` only; README "Sandbox"), so integrators can test how their
//! client survives the failures of the live service. With the setting off none of this exists:
//! [`fault_layer`] leaves the `/bizApi` router as it is and [`admin_router`] is empty, so
//! `/sandbox/...` answers as an unknown path.
//!
//! A fault is chosen per request by the `X-Giftbiz-Fault` header (any `/bizApi` call) or, for a
//! send (0204), by a prefix of its `tr_id` (wherever the merged parameters carry it: the layer
//! buffers the body, reads it with [`Params::parse`] and hands the same bytes on):
//!
//! | fault | tr_id prefix | header |
//! | --- | --- | --- |
//! | the request runs (a send commits), then the connection is closed without an answer | `FD_` | `drop` |
//! | the request runs, then the answer leaves after N seconds (at most 600) | `FW<N>_` (`FW20_…`) | `delay=<N>` |
//! | `E9999` at once, the handler never runs (nothing is committed) | `FE_` | `e9999` |
//! | the send succeeds, its message fails at the gateway for good (`발송실패`) | `FG_` | — |
//!
//! The clock: the server's clock runs ahead of real time by an offset the operator grows with
//! `POST /sandbox/clock/advance {"seconds": N}`; `GET /sandbox/clock` shows it. Both need the
//! header `X-Giftbiz-Admin-Token` equal to the `admin_token` setting (401 otherwise).

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use giftbiz_core::time::{Clock, OffsetClock};
use giftbiz_wire::{params, ResultCode};
use serde_json::json;
use subtle::ConstantTimeEq;

pub use crate::delivery::sandbox::GATEWAY_FAULT_PREFIX;

use super::error::ApiError;
use super::params::Params;
use super::AppState;

pub const FAULT_HEADER: &str = "x-giftbiz-fault";
pub const ADMIN_TOKEN_HEADER: &str = "x-giftbiz-admin-token";
/// tr_id prefixes of a send (short: the tr_id's 25 bytes, or the 20 the live service takes,
/// must leave room for the integrator's own id).
pub const DROP_PREFIX: &str = "FD_";
pub const E9999_PREFIX: &str = "FE_";
/// `FW` + seconds + `_`, e.g. `FW20_`.
pub const DELAY_PREFIX: &str = "FW";
/// Longer delays are cut to this.
pub const MAX_DELAY_SECS: u64 = 600;
/// The largest single clock advance (ten years); larger ones are refused.
pub const MAX_ADVANCE_SECS: i64 = 10 * 366 * 86_400;

/// What the sandbox does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Run the request, then close the connection without answering.
    Drop,
    /// Run the request, then answer after this many seconds.
    Delay(u64),
    /// Answer E9999 without running the request.
    E9999,
}

impl Fault {
    /// The fault a send's tr_id asks for (case-sensitive prefixes).
    pub fn from_tr_id(tr_id: &str) -> Option<Fault> {
        if tr_id.starts_with(DROP_PREFIX) {
            return Some(Fault::Drop);
        }
        if tr_id.starts_with(E9999_PREFIX) {
            return Some(Fault::E9999);
        }
        let rest = tr_id.strip_prefix(DELAY_PREFIX)?;
        let (digits, _) = rest.split_once('_')?;
        delay_of(digits)
    }

    /// The fault an `X-Giftbiz-Fault` header value names: `drop`, `delay=<N>` or `e9999`
    /// (any case).
    pub fn from_header(value: &str) -> Option<Fault> {
        let value = value.trim().to_ascii_lowercase();
        match value.as_str() {
            "drop" => Some(Fault::Drop),
            "e9999" => Some(Fault::E9999),
            other => delay_of(other.strip_prefix("delay=")?.trim()),
        }
    }
}

fn delay_of(digits: &str) -> Option<Fault> {
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Fault::Delay(digits.parse::<u64>().ok()?.min(MAX_DELAY_SECS)))
}

/// The sandbox's part of the server state: the clock the operator advances (the same one
/// `AppState::clock` and the jobs read).
pub struct Sandbox {
    pub clock: Arc<OffsetClock>,
}

impl Sandbox {
    /// `Some` when `sandbox` is on: `base` becomes the base of an [`OffsetClock`].
    pub fn new(enabled: bool, base: Arc<dyn Clock>) -> Option<Arc<Sandbox>> {
        enabled.then(|| Arc::new(Sandbox { clock: Arc::new(OffsetClock::new(base)) }))
    }
}

/// `api` (the `/bizApi` router) with the fault layer when the sandbox is on; as it is otherwise.
pub fn fault_layer(api: Router<AppState>, state: &AppState) -> Router<AppState> {
    if state.sandbox.is_none() {
        return api;
    }
    api.layer(from_fn_with_state(state.clone(), inject_fault))
}

/// Only a send commits anything worth a tr_id fault; 0201/0202/0205 with the same tr_id must
/// keep working so a client can find out what happened.
fn is_send(path: &str) -> bool {
    path.trim_end_matches('/').ends_with("/send")
}

async fn inject_fault(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let by_header = match req.headers().get(FAULT_HEADER) {
        None => None,
        Some(v) => {
            let fault = v.to_str().ok().and_then(Fault::from_header);
            if fault.is_none() {
                tracing::warn!(value = ?v, "sandbox: unknown X-Giftbiz-Fault value ignored");
            }
            fault
        }
    };
    let (fault, req) = match by_header {
        Some(fault) => (Some(fault), req),
        None if is_send(req.uri().path()) => {
            let (parts, body) = req.into_parts();
            let bytes = match axum::body::to_bytes(body, state.settings.max_body_bytes).await {
                Ok(bytes) => bytes,
                // What the handler's own read would have answered.
                Err(_) => {
                    return ApiError::with(ResultCode::MissingParameter, "body too large or unreadable").into_response()
                }
            };
            // A body the parser refuses is the handler's error to answer, not a fault.
            let fault = match Params::parse(&parts.headers, parts.uri.query(), bytes.clone()).await {
                Ok(p) => p.get(params::TR_ID).and_then(Fault::from_tr_id),
                Err(_) => None,
            };
            (fault, Request::from_parts(parts, Body::from(bytes)))
        }
        None => (None, req),
    };
    let Some(fault) = fault else { return next.run(req).await };
    let path = req.uri().path().to_owned();
    match fault {
        Fault::E9999 => {
            tracing::info!(%path, "sandbox fault: E9999 before the handler");
            ApiError::with(ResultCode::Unexpected, "sandbox fault").into_response()
        }
        Fault::Delay(secs) => {
            let resp = next.run(req).await;
            tracing::info!(%path, secs, "sandbox fault: answer delayed");
            tokio::time::sleep(Duration::from_secs(secs)).await;
            resp
        }
        Fault::Drop => {
            let resp = next.run(req).await;
            // Read the whole answer (the work is done), then throw it away.
            let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
            tracing::info!(%path, "sandbox fault: connection dropped without an answer");
            dropped_connection()
        }
    }
}

/// A response whose body fails before its first byte: hyper then closes the connection with
/// the head still in its buffer, so the client sees the connection close without a status line
/// (not even a 200).
fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("sandbox fault: connection dropped"))
    });
    Response::new(Body::from_stream(failing))
}

/// `/sandbox/clock` and `/sandbox/clock/advance` when the sandbox is on; nothing otherwise.
pub fn admin_router(state: &AppState) -> Router<AppState> {
    if state.sandbox.is_none() {
        return Router::new();
    }
    Router::new().route("/sandbox/clock", get(show_clock)).route("/sandbox/clock/advance", post(advance_clock))
}

fn admin_error(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(json!({"error": error, "message": message}))).into_response()
}

/// The admin token, compared in constant time; no token configured lets nobody in.
fn is_admin(state: &AppState, headers: &HeaderMap) -> bool {
    let expected = state.settings.admin_token.as_ref().map(|t| t.expose().as_bytes()).unwrap_or_default();
    let given = headers.get(ADMIN_TOKEN_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
    !expected.is_empty() && bool::from(given.ct_eq(expected))
}

fn unauthorized() -> Response {
    admin_error(StatusCode::UNAUTHORIZED, "unauthorized", "missing or wrong X-Giftbiz-Admin-Token")
}

fn clock_view(sandbox: &Sandbox) -> Json<serde_json::Value> {
    let now = sandbox.clock.now_kst();
    Json(json!({
        "now": now.to_rfc3339(),
        "now_kst": now.format("%Y%m%d%H%M%S").to_string(),
        "offset_seconds": sandbox.clock.offset().num_seconds(),
    }))
}

/// 샌드박스 시계 / the sandbox clock (only when `sandbox` is on).
#[utoipa::path(get, path = "/sandbox/clock", tag = "sandbox",
    security(("admin_token" = [])),
    responses((status = 200, description = "the sandbox's now", body = ClockView),
              (status = 401, description = "missing or wrong admin token", body = crate::openapi::ErrorObject)))]
pub(crate) async fn show_clock(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !is_admin(&state, &headers) {
        return unauthorized();
    }
    let Some(sandbox) = state.sandbox.as_deref() else { return StatusCode::NOT_FOUND.into_response() };
    clock_view(sandbox).into_response()
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Advance {
    /// 0 to `MAX_ADVANCE_SECS` (10 years).
    #[schema(minimum = 0, maximum = 316_224_000)]
    seconds: i64,
}

/// The sandbox clock's answer.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents `clock_view`
pub(crate) struct ClockView {
    /// RFC 3339, KST.
    now: String,
    /// `yyyyMMddHHmmss`, KST.
    now_kst: String,
    offset_seconds: i64,
}

/// 샌드박스 시계 앞당기기 / move the sandbox clock forward (expiry, reservations, the 7-day cancel window).
#[utoipa::path(post, path = "/sandbox/clock/advance", tag = "sandbox",
    request_body(content = Advance, content_type = "application/json"),
    security(("admin_token" = [])),
    responses((status = 200, description = "the sandbox's now after the move", body = ClockView),
              (status = 400, description = "not `{\"seconds\": N}` within bounds", body = crate::openapi::ErrorObject),
              (status = 401, description = "missing or wrong admin token", body = crate::openapi::ErrorObject)))]
pub(crate) async fn advance_clock(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !is_admin(&state, &headers) {
        return unauthorized();
    }
    let Some(sandbox) = state.sandbox.as_deref() else { return StatusCode::NOT_FOUND.into_response() };
    let seconds = match serde_json::from_slice::<Advance>(&body) {
        Ok(Advance { seconds }) if (0..=MAX_ADVANCE_SECS).contains(&seconds) => seconds,
        _ => {
            let message = format!("the body must be {{\"seconds\": N}} with 0 <= N <= {MAX_ADVANCE_SECS}");
            return admin_error(StatusCode::BAD_REQUEST, "bad_request", &message);
        }
    };
    let offset = sandbox.clock.advance(chrono::Duration::seconds(seconds));
    tracing::warn!(seconds, offset_seconds = offset.num_seconds(), "sandbox clock advanced");
    clock_view(sandbox).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tr_id_prefixes() {
        assert_eq!(Fault::from_tr_id("FD_shop_1"), Some(Fault::Drop));
        assert_eq!(Fault::from_tr_id("FE_1"), Some(Fault::E9999));
        assert_eq!(Fault::from_tr_id("FW20_x"), Some(Fault::Delay(20)));
        assert_eq!(Fault::from_tr_id("FW0_x"), Some(Fault::Delay(0)));
        assert_eq!(Fault::from_tr_id("FW9999_x"), Some(Fault::Delay(MAX_DELAY_SECS)));
        for ordinary in ["shop_FD_1", "fd_1", "FW_1", "FWx_1", "FW20", "FG_1", "F"] {
            assert_eq!(Fault::from_tr_id(ordinary), None, "{ordinary}");
        }
    }

    #[test]
    fn header_values() {
        assert_eq!(Fault::from_header(" Drop "), Some(Fault::Drop));
        assert_eq!(Fault::from_header("E9999"), Some(Fault::E9999));
        assert_eq!(Fault::from_header("delay=3"), Some(Fault::Delay(3)));
        assert_eq!(Fault::from_header("delay=-3"), None);
        assert_eq!(Fault::from_header("explode"), None);
    }

    #[test]
    fn only_the_send_path_takes_tr_id_faults() {
        assert!(is_send("/send") && is_send("/send/") && is_send("/bizApi/send"));
        assert!(!is_send("/sendFail/cancel") && !is_send("/coupons") && !is_send("/cancel"));
    }
}
