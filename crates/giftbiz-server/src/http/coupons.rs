//! 0201 coupon detail, 0202 cancel, 0205 sendFail cancel, 0301 bizmoney, and the coupon image
//! that a gubun I send links to.

use axum::extract::{Path, State};
use axum::http::{header, Extensions, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use giftbiz_core::coupon::{Coupon, PinStatus};
use giftbiz_core::time::{from_millis, kst};
use giftbiz_wire::coupon::{BizmoneyResult, CouponDetailResult, CouponInfo};
use giftbiz_wire::{ApiCode, Envelope, ResultCode};
use serde::Serialize;

use super::auth::{authenticate, require_own_user_id};
use super::error::{envelope_response, ApiResult, HttpError};
use super::params::Params;
use super::{api_route, AppState};
use crate::usecases::coupons;
use crate::coupon_image::{render_coupon, CouponCard, CouponFormat};
use crate::images::ImageKind;

pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = api_route(r, "/coupons", coupon_detail);
    let r = api_route(r, "/cancel", cancel);
    let r = api_route(r, "/sendFail/cancel", send_fail_cancel);
    api_route(r, "/bizmoney", bizmoney)
}

/// Outside `/bizApi`: the image URL a gubun I send returns.
/// Where coupon images are served; the rest of the path is the token (a secret).
pub(super) const COUPON_IMAGES_PREFIX: &str = "/coupon-images/";

pub fn image_router() -> Router<AppState> {
    Router::new().route(&format!("{COUPON_IMAGES_PREFIX}{{file}}"), get(coupon_image))
}

async fn coupon_detail(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    let caller = authenticate(&state, &p, ApiCode::CouponDetail).await?;
    let tr_id = p.tr_id(state.settings.tr_id_max_chars)?;
    let coupon = coupons::coupon(&*state.store, &caller, &tr_id).await?;
    let snap = state.catalog.snapshot(caller.catalog_revision).await?;
    let thumb = snap.brand(&coupon.new.brand_code).map(|b| state.urls.brand(&b.images.mms_thum, &b.brand_code, ImageKind::BrandThumb));
    let detail = CouponDetailResult {
        coupon_info_list: vec![coupon_info(&coupon, thumb)],
        res_code: ResultCode::Ok.code().to_owned(),
        res_msg: ResultCode::Ok.message().to_owned(),
    };
    Ok(envelope_response(&Envelope::ok(vec![detail])))
}

/// The 17 keys of a 0201 entry, all strings (or null).
fn coupon_info(c: &Coupon, brand_thumb: Option<String>) -> CouponInfo {
    let kst_time = |ms: i64, fmt: &str| from_millis(ms).with_timezone(&kst()).format(fmt).to_string();
    let (rst_cd, rst_msg) = match &c.delivery_result {
        Some((cd, msg)) => (Some(cd.clone()), Some(msg.clone())),
        None => (None, None),
    };
    CouponInfo {
        goods_cd: Some(c.new.goods_code.as_str().to_owned()),
        pin_status_cd: Some(c.status.code().to_owned()),
        goods_nm: Some(c.new.goods_name.clone()),
        sell_price_amt: Some(c.new.price.to_string()),
        sender_tel_no: Some(c.new.callback_no.as_str().to_owned()),
        cnsm_price_amt: Some(c.new.sale_price.to_string()),
        send_rst_cd: rst_cd,
        pin_status_nm: Some(c.status.name().to_owned()),
        mms_brand_thum_img: brand_thumb,
        brand_nm: Some(c.new.brand_name.clone()),
        send_rst_msg: rst_msg,
        correc_dtm: Some(kst_time(c.status_changed_at_ms, "%Y%m%d")),
        recver_tel_no: Some(c.new.phone_no.as_str().to_owned()),
        valid_prd_end_dt: Some(kst_time(c.new.valid_until_ms, "%Y%m%d%H%M%S")),
        send_basic_cd: Some(format!("{}{:014}", kst_time(c.new.issued_at_ms, "%Y%m%d"), c.id)),
        send_status_cd: c.delivery.label().map(str::to_owned),
        remain_amt: None,
    }
}

async fn cancel(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    let caller = authenticate(&state, &p, ApiCode::Cancel).await?;
    require_own_user_id(&p, &caller)?;
    let tr_id = p.tr_id(state.settings.tr_id_max_chars)?;
    coupons::cancel(&*state.store, &caller, &tr_id, state.clock.now_ms()).await?;
    Ok(envelope_response(&Envelope::<()>::ok_empty()))
}

async fn send_fail_cancel(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    let caller = authenticate(&state, &p, ApiCode::SendFailCancel).await?;
    require_own_user_id(&p, &caller)?;
    let tr_id = p.tr_id(state.settings.tr_id_max_chars)?;
    coupons::send_fail_cancel(&*state.store, &caller, &tr_id, state.clock.now_ms()).await?;
    Ok(envelope_response(&Envelope::<()>::ok_empty()))
}

/// 0301: clients disagree where the balance sits, so it is in both places (NOTES §2).
#[derive(Serialize)]
struct BizmoneyResponse {
    code: &'static str,
    message: Option<String>,
    balance: String,
    result: BizmoneyResult,
}

async fn bizmoney(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    let caller = authenticate(&state, &p, ApiCode::Bizmoney).await?;
    require_own_user_id(&p, &caller)?;
    let balance = coupons::bizmoney(&*state.store, &caller).await?.to_string();
    Ok(envelope_response(&BizmoneyResponse {
        code: ResultCode::Ok.code(),
        message: None,
        result: BizmoneyResult { balance: balance.clone() },
        balance,
    }))
}

/// `/coupon-images/{token}.png` or `.jpg`: the token is 128 random bits, never the PIN.
/// 쿠폰 이미지 / a gubun I coupon's image (barcode and PIN); the token is 128 random bits.
#[utoipa::path(get, path = "/coupon-images/{file}", tag = "images",
    params(("file" = String, Path, description = "`TOKEN.png` or `TOKEN.jpg`")),
    responses((status = 200, description = "the coupon image", content_type = "image/png"),
              (status = 404, description = "no such image", body = crate::openapi::ErrorObject),
              (status = 410, description = "the coupon was cancelled or has expired", body = crate::openapi::ErrorObject),
              (status = 429, description = "too many renders from this address", body = crate::openapi::ErrorObject)))]
pub(crate) async fn coupon_image(State(state): State<AppState>, Path(file): Path<String>, ext: Extensions) -> Response {
    let (token, format, mime) = if let Some(t) = file.strip_suffix(".png") {
        (t, CouponFormat::Png, "image/png")
    } else if let Some(t) = file.strip_suffix(".jpg") {
        (t, CouponFormat::Jpeg, "image/jpeg")
    } else {
        return no_such_image();
    };
    let coupon = match state.store.coupon_by_image_token(token).await {
        Ok(Some(c)) => c,
        Ok(None) => return no_such_image(),
        Err(e) => {
            tracing::error!(error = %e, "coupon image lookup failed");
            return HttpError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "coupon images are unavailable").into_response();
        }
    };
    // A coupon that can no longer be used shows no PIN any more.
    let expired = coupon.new.valid_until_ms < state.clock.now_ms();
    if expired || matches!(coupon.status, PinStatus::Cancelled | PinStatus::Expired) {
        return HttpError::new(StatusCode::GONE, "gone", "the coupon was cancelled or has expired").into_response();
    }
    let key = format!("coupon:{token}:{mime}");
    if state.coupon_images.cached(&key).is_none() {
        if let Err(refused) = state.renders.allow(&ext) {
            return refused.into_response();
        }
    }
    let rendered = state.coupon_images.get_or_render(key, move || {
        let valid_until = from_millis(coupon.new.valid_until_ms).with_timezone(&kst()).format("%Y.%m.%d").to_string();
        let card = CouponCard {
            brand_name: &coupon.new.brand_name,
            goods_name: &coupon.new.goods_name,
            pin: coupon.new.pin.expose(),
            valid_until: &valid_until,
            order_no: coupon.order_no.as_str(),
        };
        render_coupon(&card, format)
    });
    match rendered.await {
        Ok(bytes) => ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "private, max-age=3600")], bytes).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "coupon image rendering failed");
            HttpError::internal().into_response()
        }
    }
}

fn no_such_image() -> Response {
    HttpError::new(StatusCode::NOT_FOUND, "not_found", "no such image").into_response()
}
