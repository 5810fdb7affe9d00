//! 0204 쿠폰발송요청: validate in the order NOTES §4 lists, then charge and issue in one
//! store transaction.

use axum::extract::State;
use axum::response::Response;
use axum::Router;
use chrono::{DateTime, Utc};
use giftbiz_core::coupon::{Coupon, IssueError, NewCoupon};
use giftbiz_core::send::{parse_reservation, CallbackNo, Gubun, Invalid, MmsMsg, MmsTitle, PhoneNo, TrId};
use giftbiz_core::{Account, GoodsState};
use crate::catalog_cache::GoodsForSend;
use giftbiz_wire::coupon::SendResult;
use giftbiz_wire::{params, ApiCode, Envelope, ResultCode};
use rand::{Rng, RngCore};

use super::auth::{authenticate, require_own_user_id, Caller};
use super::error::{envelope_response, ApiError, ApiResult};
use super::params::Params;
use super::{api_route, AppState};

pub fn router() -> Router<AppState> {
    api_route(Router::new(), "/send", send)
}

/// Fresh PINs tried when one collides with an existing PIN (1 in 10^12 per pair).
const PIN_ATTEMPTS: usize = 5;

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> ApiError {
        ApiError::with(e.code, e.param)
    }
}

/// A send request that passed every check that needs no transaction.
struct SendOrder {
    tr_id: TrId,
    gubun: Gubun,
    goods_code: String,
    title: MmsTitle,
    msg: MmsMsg,
    phone: PhoneNo,
    callback: CallbackNo,
    reserved_at: Option<DateTime<Utc>>,
}

fn parse_order(state: &AppState, p: &Params, now: DateTime<Utc>) -> ApiResult<SendOrder> {
    // Every required parameter first, in the spec's order, so a missing one is ERR0201.
    for name in [params::GOODS_CODE, params::MMS_MSG, params::MMS_TITLE, params::CALLBACK_NO, params::PHONE_NO, params::TR_ID, params::GUBUN] {
        p.require(name)?;
    }
    let tr_id = TrId::parse(p.require(params::TR_ID)?, state.settings.tr_id_max_bytes)?;
    let gubun = Gubun::parse(p.require(params::GUBUN)?)?;
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
    let goods_code = p.require(params::GOODS_CODE)?.to_owned();
    Ok(SendOrder { tr_id, gubun, goods_code, title, msg, phone, callback, reserved_at })
}

async fn send(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    let caller = authenticate(&state, &p, ApiCode::Send).await?;
    require_own_user_id(&p, &caller.account)?;
    let now = state.clock.now();
    let order = parse_order(&state, &p, now)?;
    let coupon = issue(&state, &caller, order, now).await?;
    let result = SendResult {
        order_no: coupon.order_no.clone(),
        pin_no: (coupon.new.gubun != Gubun::Mms).then(|| coupon.new.pin.clone()),
        coupon_img_url: (coupon.new.gubun == Gubun::Image).then(|| state.urls.coupon_image(&coupon.new.image_token)),
    };
    Ok(envelope_response(&Envelope::ok(Envelope::ok(result))))
}

/// The goods to send, from the catalog snapshot when one as new as the caller's revision is
/// loaded (no database round trip), else from the store.
async fn find_goods(state: &AppState, caller: &Caller, goods_code: &str) -> ApiResult<Option<GoodsForSend>> {
    if let Some(snap) = state.catalog.snapshot_if_loaded(caller.catalog_revision) {
        return Ok(snap.goods_for_send(goods_code)?);
    }
    let goods = state.store.goods_by_code(goods_code).await?;
    Ok(goods.filter(|g| g.state != GoodsState::Withdrawn).map(GoodsForSend::from))
}

async fn issue(state: &AppState, caller: &Caller, order: SendOrder, now: DateTime<Utc>) -> ApiResult<Coupon> {
    let account: &Account = &caller.account;
    let goods = find_goods(state, caller, &order.goods_code)
        .await?
        .ok_or(ApiError::with(ResultCode::InvalidGoodsCode, "goods_code"))?;
    // Not on sale, or a fixed validity end already past: the coupon would be born expired.
    let valid_until = goods.valid_until(now);
    if !goods.is_on_sale(now) || valid_until <= now {
        return Err(ApiError::with(ResultCode::OrderError, "goods_code"));
    }
    let mut new = NewCoupon {
        account_id: account.id,
        tr_id: order.tr_id.as_str().to_owned(),
        pin: new_pin(),
        image_token: new_image_token(),
        goods_code: goods.goods_code().to_owned(),
        goods_name: goods.goods_name().to_owned(),
        brand_code: goods.brand_code().to_owned(),
        brand_name: goods.brand_name().to_owned(),
        sale_price: goods.sale_price(),
        price: goods.price_for(account.grade).price,
        gubun: order.gubun,
        phone_no: order.phone.as_str().to_owned(),
        callback_no: order.callback.as_str().to_owned(),
        mms_title: order.title.as_str().to_owned(),
        mms_msg: order.msg.as_str().to_owned(),
        issued_at_ms: now.timestamp_millis(),
        valid_until_ms: valid_until.timestamp_millis(),
        reserved_at_ms: order.reserved_at.map(|t| t.timestamp_millis()),
    };
    for _ in 0..PIN_ATTEMPTS {
        match state.store.issue_coupon(&new).await {
            Ok(coupon) => {
                tracing::info!(
                    tr_id = %new.tr_id, order_no = %coupon.order_no, gubun = new.gubun.code(),
                    phone = %order.phone.masked(), price = new.price, "coupon issued"
                );
                return Ok(coupon);
            }
            Err(IssueError::PinTaken) => {
                new.pin = new_pin();
                new.image_token = new_image_token();
            }
            Err(IssueError::DuplicateTrId) => return Err(ApiError::with(ResultCode::TrIdDuplicate, "tr_id")),
            Err(IssueError::InsufficientBizmoney) => return Err(ApiError::new(ResultCode::InsufficientBizmoney)),
            Err(IssueError::Store(e)) => return Err(e.into()),
        }
    }
    Err(ApiError::internal("no free PIN after several attempts"))
}

/// 12 digits from the thread's CSPRNG (ChaCha), uniformly: never sequential, never guessable.
fn new_pin() -> String {
    let n: u64 = rand::rng().random_range(0..1_000_000_000_000);
    format!("{n:012}")
}

/// 128 random bits for the coupon image URL.
fn new_image_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_12_digits_and_distinct() {
        let pins: std::collections::HashSet<String> = (0..1000).map(|_| new_pin()).collect();
        assert_eq!(pins.len(), 1000);
        assert!(pins.iter().all(|p| p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit())));
        assert_eq!(new_image_token().len(), 32);
    }
}
