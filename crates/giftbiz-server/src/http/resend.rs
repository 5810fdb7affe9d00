//! 0203 쿠폰 재전송: queue the coupon's message again, for a recipient who deleted it. The
//! delivery worker sends it like any other message.

use axum::extract::State;
use axum::response::Response;
use axum::{Extension, Router};
use giftbiz_core::delivery::MessageKind;
use giftbiz_core::RequestId;
use giftbiz_wire::{params, ApiCode, Envelope};

use super::auth::{authenticate, require_own_user_id};
use super::error::{envelope_response, ApiResult};
use super::params::Params;
use super::{api_route, AppState};
use crate::usecases::coupons;

pub fn router() -> Router<AppState> {
    api_route(Router::new(), "/resend", resend)
}

async fn resend(State(state): State<AppState>, request_id: Option<Extension<RequestId>>, p: Params) -> ApiResult<Response> {
    let caller = authenticate(&state, &p, ApiCode::Resend).await?;
    require_own_user_id(&p, &caller)?;
    let tr_id = p.tr_id(state.settings.tr_id_max_chars)?;
    // `Y`: an SMS with the PIN. `N`, absent or anything else: the MMS again (the spec's default).
    let kind = match p.get(params::SMS_FLAG) {
        Some(flag) if flag.eq_ignore_ascii_case("Y") => MessageKind::Sms,
        _ => MessageKind::Mms,
    };
    let request_id = request_id.map(|Extension(id)| id);
    coupons::resend(&*state.store, &caller, &tr_id, kind, state.clock.now_ms(), request_id.as_ref()).await?;
    Ok(envelope_response(&Envelope::<()>::ok_empty()))
}
