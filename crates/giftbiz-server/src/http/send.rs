//! 0204 쿠폰발송요청: the parameters are parsed in the order NOTES §4 lists, then
//! `usecases::send` charges and issues.

use axum::extract::State;
use axum::response::Response;
use axum::{Extension, Router};
use chrono::{DateTime, Utc};
use giftbiz_core::{GoodsCode, RequestId};
use giftbiz_core::send::{parse_gubun, parse_reservation, CallbackNo, Gubun, MmsMsg, MmsTitle, PhoneNo};
use giftbiz_wire::coupon::SendResult;
use giftbiz_wire::{params, ApiCode, Envelope, ResultCode};

use super::auth::{authenticate, require_own_user_id};
use super::error::{envelope_response, ApiError, ApiResult};
use super::params::Params;
use super::{api_route, AppState};
use crate::usecases::send::{send as issue, SendOrder};
use crate::usecases::Refusal;

pub fn router() -> Router<AppState> {
    api_route(Router::new(), "/send", send)
}

fn parse_order(state: &AppState, p: &Params, now: DateTime<Utc>) -> ApiResult<SendOrder> {
    // Every required parameter first, in the spec's order, so a missing one is ERR0201.
    for name in [params::GOODS_CODE, params::MMS_MSG, params::MMS_TITLE, params::CALLBACK_NO, params::PHONE_NO, params::TR_ID, params::GUBUN] {
        p.require(name)?;
    }
    let tr_id = p.tr_id(state.settings.tr_id_max_chars)?;
    let gubun = parse_gubun(p.require(params::GUBUN)?)?;
    let title = MmsTitle::parse(p.require(params::MMS_TITLE)?, state.settings.title_max_chars)?;
    let msg = MmsMsg::parse(p.require(params::MMS_MSG)?)?;
    let phone = PhoneNo::parse(p.require(params::PHONE_NO)?)?;
    let callback = CallbackNo::parse(p.require(params::CALLBACK_NO)?)?;
    let reserved_at = match p.get(params::REV_INFO_YN).map(str::to_ascii_uppercase).as_deref() {
        Some("Y") => {
            let date = p.get(params::REV_INFO_DATE).ok_or(ApiError::with(ResultCode::InvalidReserveDate, "rev_info_date"))?;
            let time = p.get(params::REV_INFO_TIME).ok_or(ApiError::with(ResultCode::InvalidReserveTime, "rev_info_time"))?;
            Some(parse_reservation(date, time, now)?)
        }
        _ => None,
    };
    // Last, as NOTES §4 orders it: an unparsable code is an unknown goods (COUPON.0011).
    let goods_code = GoodsCode::parse(p.require(params::GOODS_CODE)?).map_err(|_| Refusal::UnknownSendGoods)?;
    Ok(SendOrder { tr_id, gubun, goods_code, title, msg, phone, callback, reserved_at, request_id: None })
}

async fn send(State(state): State<AppState>, request_id: Option<Extension<RequestId>>, p: Params) -> ApiResult<Response> {
    let caller = authenticate(&state, &p, ApiCode::Send).await?;
    require_own_user_id(&p, &caller)?;
    let now = state.clock.now();
    let order = SendOrder { request_id: request_id.map(|Extension(id)| id), ..parse_order(&state, &p, now)? };
    let coupon = issue(&*state.store, &state.catalog, &caller, order, now).await?;
    let result = SendResult {
        order_no: coupon.order_no.as_str().to_owned(),
        pin_no: (coupon.new.gubun != Gubun::Mms).then(|| coupon.new.pin.expose().to_owned()),
        coupon_img_url: (coupon.new.gubun == Gubun::Image).then(|| state.urls.coupon_image(&coupon.new.image_token)),
    };
    Ok(envelope_response(&Envelope::ok(Envelope::ok(result))))
}
