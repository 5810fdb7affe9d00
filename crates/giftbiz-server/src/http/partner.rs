//! The partner API (교환처): `POST /partner/v1/coupons/lookup` and `POST /partner/v1/coupons/redeem`.
//!
//! Our own API, not Giftishow's: JSON in and out, HTTP statuses for errors
//! (`{"error": "...", "message": "..."}`). The partner authenticates with the `X-Partner-Code`
//! header and `Authorization: Bearer <token>`; the PIN travels in the body (`{"pin": "..."}`),
//! never in the URL, and never reaches a log line. Every attempt by a known partner is audited
//! (the SHA-256 of the PIN, never the PIN), refusals and rate-limited ones included; an unknown
//! partner code has no partner to file it under and is only logged (without the PIN).
//!
//! Checks, in order: the partner code and token (401; past `partner_auth_failures_per_minute`
//! failures from the address or for the code, 429 with nothing audited), the partner's rate
//! limit (429), the body
//! (400), then the coupon: unknown, or of a brand the partner does not serve (404, the same
//! answer, so other brands' PINs are not revealed); used, cancelled or expired (409, redeem).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use axum::{Extension, Json, Router};
use giftbiz_core::coupon::Coupon;
use giftbiz_core::partner::{
    check_visible, AuditAction, AuditEntry, AuditOutcome, Partner, RedeemError, RedeemRefusal,
};
use giftbiz_core::send::Pin;
use giftbiz_core::{BrandCode, GoodsCode};
use giftbiz_core::time::{from_millis, kst};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;

use super::error::HttpError;
use super::{check_bounded, AppState};
use crate::config::Settings;

pub const PARTNER_CODE_HEADER: &str = "x-partner-code";
/// Bodies are a PIN; anything larger is not a partner request.
const MAX_BODY_BYTES: usize = 4 * 1024;
/// Longest PIN accepted in a body (ours are 12 digits; room for other issuers' formats).
const MAX_PIN_LEN: usize = 32;

/// Per-partner limit, keyed by partner code. Only authenticated partners get a key, so the
/// limiter holds at most one entry per partner.
#[derive(Clone)]
pub struct PartnerLimiter(Option<Arc<DefaultKeyedRateLimiter<String>>>);

impl PartnerLimiter {
    /// `per_minute` attempts a minute, in bursts of up to as many; 0 means no limit.
    pub fn new(per_minute: u32) -> PartnerLimiter {
        PartnerLimiter(NonZeroU32::new(per_minute).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))))
    }

    /// `Err(seconds to wait)` when the partner is over its limit.
    fn check(&self, partner_code: &str) -> Result<(), u64> {
        let Some(limiter) = &self.0 else { return Ok(()) };
        limiter
            .check_key(&partner_code.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1))
    }
}

/// Failed authentications per minute allowed from one source address and for one presented
/// partner code (known or not); past either, the answer is 429 and nothing is written.
#[derive(Clone)]
pub struct AuthFailureLimiter(Option<Arc<(DefaultKeyedRateLimiter<IpAddr>, DefaultKeyedRateLimiter<String>)>>);

impl AuthFailureLimiter {
    pub fn new(per_minute: u32) -> AuthFailureLimiter {
        AuthFailureLimiter(NonZeroU32::new(per_minute).map(|n| {
            let quota = Quota::per_minute(n);
            Arc::new((RateLimiter::keyed(quota), RateLimiter::keyed(quota)))
        }))
    }

    /// Counts one failure; `false` when its address or code is past the limit.
    fn allow(&self, addr: Option<IpAddr>, code: &str) -> bool {
        let Some(limiters) = &self.0 else { return true };
        let (by_addr, by_code) = &**limiters;
        let addr_ok = addr.is_none_or(|a| check_bounded(by_addr, &a));
        // A code that is no partner's is still a key: a flood of made-up codes is limited by
        // its address, and the memory they take stays bounded.
        let code_ok = check_bounded(by_code, &code.chars().take(64).collect());
        addr_ok && code_ok
    }
}

pub fn router(settings: &Settings) -> Router<AppState> {
    let limiter = PartnerLimiter::new(settings.partner_rate_per_minute);
    let failures = AuthFailureLimiter::new(settings.partner_auth_failures_per_minute);
    Router::new()
        .route("/partner/v1/coupons/lookup", endpoint(post(lookup)))
        .route("/partner/v1/coupons/redeem", endpoint(post(redeem)))
        .layer(Extension(limiter))
        .layer(Extension(failures))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a partner API handler panicked");
            HttpError::internal().into_response()
        }))
}

/// POST only; another method gets a JSON 405.
fn endpoint(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.fallback(|| async {
        HttpError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "POST only").into_response()
    })
}

/// The partner's request: the PIN as printed (digits; spaces and dashes are dropped).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents `parse_pin`'s body
pub struct PinBody {
    /// Digits (up to 32), spaces and dashes allowed between them.
    #[schema(example = "9003 4363 0367", pattern = "^[0-9 -]{1,64}$")]
    pin: String,
}

/// What lookup and redeem answer: the coupon as the partner's counter needs it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CouponView {
    #[schema(value_type = String)]
    pub goods_code: GoodsCode,
    pub goods_name: String,
    #[schema(value_type = String)]
    pub brand_code: BrandCode,
    pub brand_name: String,
    /// `pinStatusCd`: 01 issued, 02 exchanged (used), 07 cancelled, 08 expired.
    pub status_code: &'static str,
    pub status_name: &'static str,
    /// The last valid instant, KST `yyyyMMddHHmmss`.
    pub valid_until: String,
    /// When the status last changed (for 02: when it was redeemed), KST `yyyyMMddHHmmss`.
    pub status_changed_at: String,
}

fn kst_stamp(ms: i64) -> String {
    from_millis(ms).with_timezone(&kst()).format("%Y%m%d%H%M%S").to_string()
}

impl CouponView {
    fn of(c: &Coupon, now_ms: i64) -> CouponView {
        let status = c.effective_status(now_ms);
        CouponView {
            goods_code: c.new.goods_code.clone(),
            goods_name: c.new.goods_name.clone(),
            brand_code: c.new.brand_code.clone(),
            brand_name: c.new.brand_name.clone(),
            status_code: status.code(),
            status_name: status.name(),
            valid_until: kst_stamp(c.new.valid_until_ms),
            status_changed_at: kst_stamp(c.status_changed_at_ms),
        }
    }
}

/// The partner API's refusals, in its error object ([`HttpError`]).
impl HttpError {
    fn unauthorized() -> HttpError {
        HttpError::new(StatusCode::UNAUTHORIZED, "unauthorized", "unknown partner code or wrong token")
    }

    fn bad_request() -> HttpError {
        HttpError::new(StatusCode::BAD_REQUEST, "bad_request", "the body must be a JSON object {\"pin\": \"<digits>\"}")
    }

    fn refused(r: RedeemRefusal) -> HttpError {
        match r {
            RedeemRefusal::NotFound => HttpError::new(StatusCode::NOT_FOUND, "not_found", "no such coupon"),
            RedeemRefusal::AlreadyUsed => {
                HttpError::new(StatusCode::CONFLICT, "already_used", "the coupon was already used")
            }
            RedeemRefusal::Cancelled => HttpError::new(StatusCode::CONFLICT, "cancelled", "the coupon was cancelled"),
            RedeemRefusal::Expired => HttpError::new(StatusCode::CONFLICT, "expired", "the coupon has expired"),
        }
    }
}

/// The PIN of a body `{"pin": "..."}`: digits, spaces and dashes as printed on a coupon are
/// dropped. `Err(None)`: no usable body; `Err(Some(pin))`: a PIN that cannot be one.
fn parse_pin(body: Result<Bytes, BytesRejection>) -> Result<String, Option<String>> {
    #[derive(serde::Deserialize)]
    struct Body {
        pin: String,
    }
    let body = body.map_err(|_| None)?;
    let parsed: Body = serde_json::from_slice(&body).map_err(|_| None)?;
    let pin: String = parsed.pin.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !pin.is_empty() && pin.len() <= MAX_PIN_LEN && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(pin)
    } else {
        Err(Some(pin))
    }
}

/// The partner code the headers present, trimmed (empty when none).
fn presented_code(headers: &HeaderMap) -> &str {
    headers.get(PARTNER_CODE_HEADER).and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or("")
}

/// What the headers prove.
enum Auth {
    Partner(Partner),
    /// A partner's code with a token that is not its own.
    WrongToken(Partner),
    /// No code, or one that is no partner's.
    Unknown,
}

/// The partner the headers name, if its token matches.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Auth, HttpError> {
    let code = presented_code(headers);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .unwrap_or("");
    if code.is_empty() || code.len() > 64 {
        tracing::warn!("partner API call without a partner code");
        return Ok(Auth::Unknown);
    }
    let partner = state.store.partner_by_code(code).await.map_err(|e| {
        tracing::error!(error = %e, "partner lookup failed");
        HttpError::internal()
    })?;
    let Some(partner) = partner else {
        tracing::warn!("partner API call with an unknown partner code");
        return Ok(Auth::Unknown);
    };
    Ok(if !token.is_empty() && partner.token_matches(token) { Auth::Partner(partner) } else { Auth::WrongToken(partner) })
}

/// What every partner request carries to its handler: the limits and where it came from.
struct Call {
    limiter: PartnerLimiter,
    failures: AuthFailureLimiter,
    /// The client's address (the edge records it; absent only when the router runs without it).
    addr: Option<IpAddr>,
}

impl Call {
    fn of(limiter: PartnerLimiter, failures: AuthFailureLimiter, extensions: &Extensions) -> Call {
        let addr = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Call { limiter, failures, addr }
    }
}

/// 쿠폰 조회 / look a coupon up by its PIN (changes nothing).
#[utoipa::path(post, path = "/partner/v1/coupons/lookup", tag = "partner",
    params(("X-Partner-Code" = String, Header, description = "교환처 코드 / the partner's code")),
    request_body(content = PinBody, content_type = "application/json"),
    security(("partner_token" = [])),
    responses((status = 200, description = "the coupon", body = CouponView),
              (status = 400, description = "the body is no `{\"pin\": …}`", body = crate::openapi::ErrorObject),
              (status = 401, description = "unknown partner code or wrong token", body = crate::openapi::ErrorObject),
              (status = 404, description = "no such coupon of the partner's brands", body = crate::openapi::ErrorObject),
              (status = 405, description = "POST only", body = crate::openapi::ErrorObject),
              (status = 413, description = "a body over 4 KiB", body = crate::openapi::ErrorObject),
              (status = 429, description = "over the partner's rate or failure limit", body = crate::openapi::ErrorObject)))]
pub(crate) async fn lookup(
    State(state): State<AppState>,
    Extension(limiter): Extension<PartnerLimiter>,
    Extension(failures): Extension<AuthFailureLimiter>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let call = Call::of(limiter, failures, &extensions);
    counted("lookup", handle(&state, &call, &headers, body, AuditAction::Lookup).await)
}

/// 쿠폰 교환(사용) / redeem a coupon: 01 발행 → 02 교환, once.
#[utoipa::path(post, path = "/partner/v1/coupons/redeem", tag = "partner",
    params(("X-Partner-Code" = String, Header, description = "교환처 코드 / the partner's code")),
    request_body(content = PinBody, content_type = "application/json"),
    security(("partner_token" = [])),
    responses((status = 200, description = "the coupon, now used", body = CouponView),
              (status = 400, description = "the body is no `{\"pin\": …}`", body = crate::openapi::ErrorObject),
              (status = 401, description = "unknown partner code or wrong token", body = crate::openapi::ErrorObject),
              (status = 404, description = "no such coupon of the partner's brands", body = crate::openapi::ErrorObject),
              (status = 405, description = "POST only", body = crate::openapi::ErrorObject),
              (status = 409, description = "already used, cancelled or expired", body = crate::openapi::ErrorObject),
              (status = 413, description = "a body over 4 KiB", body = crate::openapi::ErrorObject),
              (status = 429, description = "over the partner's rate or failure limit", body = crate::openapi::ErrorObject)))]
pub(crate) async fn redeem(
    State(state): State<AppState>,
    Extension(limiter): Extension<PartnerLimiter>,
    Extension(failures): Extension<AuthFailureLimiter>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let call = Call::of(limiter, failures, &extensions);
    counted("redeem", handle(&state, &call, &headers, body, AuditAction::Redeem).await)
}

/// The answer, counted by action and outcome (`ok`, or the error object's slug).
fn counted(action: &'static str, answer: Result<Response, HttpError>) -> Response {
    let outcome = answer.as_ref().map_or_else(|e| e.error, |_| "ok");
    metrics::counter!(crate::metrics::names::PARTNER_REQUESTS, "action" => action, "outcome" => outcome).increment(1);
    answer.unwrap_or_else(IntoResponse::into_response)
}

async fn handle(
    state: &AppState,
    call: &Call,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    action: AuditAction,
) -> Result<Response, HttpError> {
    let now = state.clock.now_ms();
    let pin = parse_pin(body);
    let pin_hash = match &pin {
        Ok(p) | Err(Some(p)) => Some(state.store.pin_hash(&Pin::new(p.as_str()))),
        Err(None) => None,
    };
    let audit = |partner: &Partner, outcome: AuditOutcome, coupon_id: Option<i64>| AuditEntry {
        partner_id: partner.id,
        pin_hash: pin_hash.clone(),
        action,
        outcome,
        coupon_id,
        at_ms: now,
    };

    let failed = match authenticate(state, headers).await? {
        Auth::Partner(partner) => Ok(partner),
        Auth::WrongToken(partner) => Err(Some(partner)),
        Auth::Unknown => Err(None),
    };
    let partner = match failed {
        Ok(partner) => partner,
        // Past the failure limit of its address or its code: refused before any write, so a
        // flood of wrong tokens costs no audit rows (at most the limit's worth a minute).
        Err(_) if !call.failures.allow(call.addr, presented_code(headers)) => {
            tracing::debug!(addr = ?call.addr, "partner authentication failures over the limit");
            return Err(HttpError::rate_limited("too many failed attempts; retry later", 60));
        }
        Err(Some(partner)) => {
            count_failure(state, call, Some(&partner), now).await?;
            record(state, &partner, audit(&partner, AuditOutcome::Unauthorized, None), action).await?;
            return Err(HttpError::unauthorized());
        }
        Err(None) => {
            count_failure(state, call, None, now).await?;
            return Err(HttpError::unauthorized());
        }
    };
    if let Err(wait_secs) = call.limiter.check(&partner.partner_code) {
        record(state, &partner, audit(&partner, AuditOutcome::RateLimited, None), action).await?;
        return Err(HttpError::rate_limited("too many attempts; retry later", wait_secs));
    }
    let Ok(pin) = pin else {
        record(state, &partner, audit(&partner, AuditOutcome::BadRequest, None), action).await?;
        return Err(HttpError::bad_request());
    };
    let pin = Pin::new(pin);

    match action {
        AuditAction::Lookup => {
            let found = match state.store.coupon_by_pin(&pin).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::error!(error = %e, "coupon lookup failed");
                    let _ = record(state, &partner, audit(&partner, AuditOutcome::Error, None), action).await;
                    return Err(HttpError::internal());
                }
            };
            let visible = found.filter(|c| check_visible(&c.new.brand_code, &partner.brand_codes).is_ok());
            let Some(coupon) = visible else {
                record(state, &partner, audit(&partner, AuditOutcome::NotFound, None), action).await?;
                return Err(HttpError::refused(RedeemRefusal::NotFound));
            };
            record(state, &partner, audit(&partner, AuditOutcome::Ok, Some(coupon.id)), action).await?;
            tracing::info!(partner = %partner.partner_code, order_no = %coupon.order_no, "partner looked a coupon up");
            Ok(Json(CouponView::of(&coupon, now)).into_response())
        }
        AuditAction::Redeem => match state.store.redeem(partner.id, &pin, &partner.brand_codes, now).await {
            // The store audited the attempt in the redemption's transaction.
            Ok(coupon) => {
                tracing::info!(partner = %partner.partner_code, order_no = %coupon.order_no, "coupon redeemed");
                Ok(Json(CouponView::of(&coupon, now)).into_response())
            }
            Err(RedeemError::Refused(r)) => {
                tracing::info!(partner = %partner.partner_code, outcome = r.outcome().code(), "redemption refused");
                Err(HttpError::refused(r))
            }
            Err(RedeemError::Store(e)) => {
                tracing::error!(error = %e, "redemption failed");
                let _ = record(state, &partner, audit(&partner, AuditOutcome::Error, None), action).await;
                Err(HttpError::internal())
            }
        },
    }
}

/// Counts a failed authentication in its source's hourly row (a made-up code under no
/// partner, so the codes an attacker invents are never stored).
async fn count_failure(state: &AppState, call: &Call, partner: Option<&Partner>, now: i64) -> Result<(), HttpError> {
    let source = call.addr.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    state.store.count_auth_failure(&source, partner.map(|p| p.id), now).await.map_err(|e| {
        tracing::error!(error = %e, "counting a partner authentication failure failed");
        HttpError::internal()
    })
}

/// Audits an attempt; an attempt that cannot be audited is answered as a failure.
async fn record(state: &AppState, partner: &Partner, entry: AuditEntry, action: AuditAction) -> Result<(), HttpError> {
    if entry.outcome != AuditOutcome::Ok {
        tracing::info!(partner = %partner.partner_code, action = action.code(), outcome = entry.outcome.code(), "partner attempt refused");
    }
    state.store.audit_redemption(&entry).await.map_err(|e| {
        tracing::error!(error = %e, "auditing a partner attempt failed");
        HttpError::internal()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_digits_with_print_separators_dropped() {
        let ok = |s: &str| parse_pin(Ok(Bytes::from(s.to_owned())));
        assert_eq!(ok(r#"{"pin":"123456789012"}"#), Ok("123456789012".into()));
        assert_eq!(ok(r#"{"pin":"1234-5678 9012"}"#), Ok("123456789012".into()));
        assert_eq!(ok(r#"{"pin":"12ab"}"#), Err(Some("12ab".into())));
        assert_eq!(ok(r#"{"pin":""}"#), Err(Some(String::new())));
        assert_eq!(ok(r#"{"pin":123}"#), Err(None));
        assert_eq!(ok("pin=1"), Err(None));
    }

    #[test]
    fn the_limiter_refuses_past_the_burst_and_zero_means_no_limit() {
        let l = PartnerLimiter::new(3);
        for _ in 0..3 {
            assert!(l.check("PT1").is_ok());
        }
        let wait = l.check("PT1").unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(l.check("PT2").is_ok(), "per partner");
        let none = PartnerLimiter::new(0);
        assert!((0..100).all(|_| none.check("PT1").is_ok()));
    }
}
