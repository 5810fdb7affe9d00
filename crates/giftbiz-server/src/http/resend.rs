//! 0203 쿠폰 재전송: queue the coupon's message again, for a recipient who deleted it. The
//! delivery worker sends it like any other message.

use axum::extract::State;
use axum::response::Response;
use axum::Router;
use giftbiz_core::delivery::{MessageKind, ResendError};
use giftbiz_wire::{params, ApiCode, Envelope, ResultCode};

use super::auth::{authenticate, require_own_user_id};
use super::error::{envelope_response, ApiError, ApiResult};
use super::params::Params;
use super::{api_route, AppState};

pub fn router() -> Router<AppState> {
    api_route(Router::new(), "/resend", resend)
}

async fn resend(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    let caller = authenticate(&state, &p, ApiCode::Resend).await?;
    require_own_user_id(&p, &caller.account)?;
    let tr_id = p.require(params::TR_ID)?;
    // `Y`: an SMS with the PIN. `N`, absent or anything else: the MMS again (the spec's default).
    let kind = match p.get(params::SMS_FLAG) {
        Some(flag) if flag.eq_ignore_ascii_case("Y") => MessageKind::Sms,
        _ => MessageKind::Mms,
    };
    let now = state.clock.now_ms();
    match state.store.enqueue_resend(caller.account.id, tr_id, kind, now).await {
        Ok(()) => {
            tracing::info!(tr_id, kind = kind.code(), "resend queued");
            Ok(envelope_response(&Envelope::<()>::ok_empty()))
        }
        Err(ResendError::NotFound) => Err(ApiError::with(ResultCode::ResendTargetNotFound, "tr_id")),
        Err(ResendError::NotResendable) => Err(ApiError::with(ResultCode::ResendFailed, "tr_id")),
        Err(ResendError::Store(e)) => Err(e.into()),
    }
}
