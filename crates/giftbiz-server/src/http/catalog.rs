//! The catalog endpoints: 0101 goods list, 0111 goods detail, 0102 brands, 0112 brand detail.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;
use giftbiz_core::{Brand, Goods, Grade};
use giftbiz_wire::catalog::{
    Brand as WireBrand, BrandDetailResult, BrandListResult, GoodsDetail, GoodsDetailResult, GoodsListItem,
};
use giftbiz_wire::{params, ApiCode, Envelope, ResultCode};

use super::auth::authenticate;
use super::error::{envelope_response, json_bytes, ApiError, ApiResult, JSON_UTF8};
use super::params::Params;
use super::{api_route, AppState};
use crate::images::ImageKind;
use crate::usecases::Refusal;

pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = api_route(r, "/goods", goods_list);
    let r = api_route(r, "/goods/{goods_code}", goods_detail);
    let r = api_route(r, "/brands", brand_list);
    api_route(r, "/brands/{brand_code}", brand_detail)
}

/// Pages of at most this many goods go out in one buffer (with a Content-Length); larger ones
/// stream in chunks, so 5000-goods pages never sit whole in memory.
const ONE_BUFFER_MAX: u64 = 100;
const CHUNK_BYTES: usize = 64 * 1024;

async fn goods_list(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    let caller = authenticate(&state, &p, ApiCode::GoodsList).await?;
    let (start, size) = paging(&p, state.settings.page_size_cap)?;
    let snap = state.catalog.snapshot(caller.catalog_revision).await?;
    let skip = usize::try_from((start - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let page = snap.goods_page(caller.account.grade, skip, size as usize, CHUNK_BYTES);
    if size <= ONE_BUFFER_MAX {
        return Ok(json_bytes(page.collect::<Vec<_>>().concat()));
    }
    let stream = futures_util::stream::iter(page.map(Ok::<_, std::convert::Infallible>));
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    Ok(resp)
}

async fn goods_detail(
    State(state): State<AppState>,
    Path(goods_code): Path<String>,
    mut p: Params,
) -> ApiResult<Response> {
    p.set_from_path(params::GOODS_CODE, goods_code);
    let caller = authenticate(&state, &p, ApiCode::GoodsDetail).await?;
    let code = p.require(params::GOODS_CODE)?;
    let goods = state.store.goods_by_code(code).await?.filter(|g| g.is_listed()).ok_or(Refusal::NoSuchGoods)?;
    let result = GoodsDetailResult { goods_detail: goods_detail_view(&goods, caller.account.grade, &state.urls) };
    Ok(envelope_response(&Envelope::ok(result)))
}

async fn brand_list(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    let caller = authenticate(&state, &p, ApiCode::BrandList).await?;
    let snap = state.catalog.snapshot(caller.catalog_revision).await?;
    let brand_list: Vec<WireBrand> = snap.brands.iter().map(|b| brand_view(b, &state.urls)).collect();
    let result = BrandListResult { list_num: brand_list.len() as u64, brand_list };
    Ok(envelope_response(&Envelope::ok(result)))
}

async fn brand_detail(
    State(state): State<AppState>,
    Path(brand_code): Path<String>,
    mut p: Params,
) -> ApiResult<Response> {
    p.set_from_path(params::BRAND_CODE, brand_code);
    let caller = authenticate(&state, &p, ApiCode::BrandDetail).await?;
    let code = p.require(params::BRAND_CODE)?;
    let snap = state.catalog.snapshot(caller.catalog_revision).await?;
    let brand = snap.brand(code).ok_or(Refusal::NoSuchBrand)?;
    Ok(envelope_response(&Envelope::ok(BrandDetailResult { brand_detail: brand_view(brand, &state.urls) })))
}

/// `start` (1-based page) and `size`, defaults 1 and 20; PAG0001 unless positive integers and
/// `size` within the cap.
fn paging(p: &Params, cap: u32) -> ApiResult<(u64, u64)> {
    let positive = |name: &'static str, default: u64| -> ApiResult<u64> {
        match p.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ApiError::with(ResultCode::Paging, name)),
            },
        }
    };
    let start = positive(params::START, 1)?;
    let size = positive(params::SIZE, 20)?;
    if size > u64::from(cap) {
        return Err(ApiError::with(ResultCode::Paging, params::SIZE));
    }
    Ok((start, size))
}

/// Makes absolute image URLs: a stored absolute URL as-is, else the platform's rendered image.
pub struct ImageUrls {
    /// `None` writes platform-rendered images as empty strings (catalog export, so a dump
    /// does not pin one server's address).
    base: Option<String>,
}

impl ImageUrls {
    pub fn new(public_base: String) -> ImageUrls {
        ImageUrls { base: Some(public_base) }
    }

    pub fn for_export() -> ImageUrls {
        ImageUrls { base: None }
    }

    pub fn goods(&self, stored: &Option<String>, goods_code: &str, kind: ImageKind) -> String {
        self.url(stored, "goods", goods_code, kind)
    }

    pub fn brand(&self, stored: &Option<String>, brand_code: &str, kind: ImageKind) -> String {
        self.url(stored, "brands", brand_code, kind)
    }

    /// The coupon image a gubun I send returns: the URL carries a random token, never the PIN.
    pub fn coupon_image(&self, image_token: &str) -> String {
        format!("{}/coupon-images/{image_token}.png", self.base.as_deref().unwrap_or(""))
    }

    fn url(&self, stored: &Option<String>, what: &str, code: &str, kind: ImageKind) -> String {
        match (stored, &self.base) {
            (Some(url), _) => url.clone(),
            (None, Some(base)) => format!("{base}/images/{what}/{code}/{}.png", kind.slug()),
            (None, None) => String::new(),
        }
    }
}

pub(crate) fn goods_list_item(g: &Goods, grade: Grade, urls: &ImageUrls) -> GoodsListItem {
    let price = g.price_for(grade);
    let code = g.goods_code.as_str();
    GoodsListItem {
        goods_code: g.goods_code.clone(),
        goods_no: g.goods_no,
        goods_name: g.goods_name.clone(),
        brand_code: g.brand_code.clone(),
        brand_name: g.brand_name.clone(),
        content: g.content.clone(),
        content_add_desc: g.content_add_desc.clone(),
        discount_rate: price.rate,
        goods_type_nm: g.goods_type_nm.clone(),
        goods_img_s: urls.goods(&g.images.small, code, ImageKind::GoodsSmall),
        goods_img_b: urls.goods(&g.images.big, code, ImageKind::GoodsBig),
        goods_desc_img_web: urls.goods(&g.images.desc_web, code, ImageKind::GoodsDesc),
        brand_icon_img: urls.brand(&g.images.brand_icon, &g.brand_code, ImageKind::BrandIcon),
        mms_goods_img: urls.goods(&g.images.mms, code, ImageKind::GoodsMms),
        discount_price: price.price,
        real_price: g.real_price,
        sale_price: g.sale_price,
        srch_keyword: g.srch_keyword.clone(),
        valid_prd_type_cd: g.validity.type_cd().to_owned(),
        limit_day: g.limit_day(),
        valid_prd_day: g.valid_prd_day().to_owned(),
        end_date: g.end_date.clone(),
        goods_com_id: g.goods_com_id.clone(),
        goods_com_name: g.goods_com_name.clone(),
        affiliate_id: g.affiliate_id.clone(),
        affiliate: g.affiliate.clone(),
        exh_gender_cd: g.exh_gender_cd.clone(),
        exh_age_cd: g.exh_age_cd.clone(),
        mms_reserve_flag: g.mms_reserve_flag.clone(),
        goods_state_cd: g.state.code().to_owned(),
        mms_barcd_create_yn: g.mms_barcd_create_yn.clone(),
        rm_cnt_flag: g.rm_cnt_flag.clone(),
        sale_date_flag_cd: g.sale_date_flag_cd.clone(),
        goods_type_dtl_nm: g.goods_type_dtl_nm.clone(),
        category1_seq: g.category1_seq,
        sale_date_flag: g.sale_date_flag.clone(),
        rm_id_buy_cnt_flag_cd: g.rm_id_buy_cnt_flag_cd.clone(),
        md_code: g.md_code.clone(),
        popular: g.popular,
    }
}

fn goods_detail_view(g: &Goods, grade: Grade, urls: &ImageUrls) -> GoodsDetail {
    let own = g.price_for(grade);
    let code = g.goods_code.as_str();
    GoodsDetail {
        goods_no: g.goods_no,
        goods_code: g.goods_code.clone(),
        goods_name: g.goods_name.clone(),
        brand_code: g.brand_code.clone(),
        brand_name: g.brand_name.clone(),
        content: g.content.clone(),
        content_add_desc: g.content_add_desc.clone(),
        goods_type_cd: g.goods_type_cd.clone(),
        goods_type_nm: g.goods_type_nm.clone(),
        goods_img_s: urls.goods(&g.images.small, code, ImageKind::GoodsSmall),
        goods_img_b: urls.goods(&g.images.big, code, ImageKind::GoodsBig),
        goods_desc_img_web: urls.goods(&g.images.desc_web, code, ImageKind::GoodsDesc),
        brand_icon_img: urls.brand(&g.images.brand_icon, &g.brand_code, ImageKind::BrandIcon),
        mms_goods_img: urls.goods(&g.images.mms, code, ImageKind::GoodsMms),
        real_price: g.real_price,
        sale_price: g.sale_price,
        category_name1: g.category_name1.clone(),
        rm_id_buy_cnt_flag_cd: g.rm_id_buy_cnt_flag_cd.clone(),
        discount_rate: own.rate,
        discount_price: own.price,
        gold_price: g.prices.gold.price,
        vip_price: g.prices.vip.price,
        platinum_price: g.prices.platinum.price,
        gold_discount_rate: g.prices.gold.rate,
        vip_discount_rate: g.prices.vip.rate,
        platinum_discount_rate: g.prices.platinum.rate,
        goods_state_cd: g.state.code().to_owned(),
        rm_cnt_flag: g.rm_cnt_flag.clone(),
        goods_type_dtl_nm: g.goods_type_dtl_nm.clone(),
        sale_date_flag_cd: g.sale_date_flag_cd.clone(),
        sale_date_flag: g.sale_date_flag.clone(),
        mms_reserve_flag: g.mms_reserve_flag.clone(),
        category_seq1: g.category1_seq,
        limit_day: g.limit_day(),
        affiliate: g.affiliate.clone(),
        md_code: g.md_code.clone(),
    }
}

pub(crate) fn brand_view(b: &Brand, urls: &ImageUrls) -> WireBrand {
    let code = b.brand_code.as_str();
    WireBrand {
        brand_seq: b.brand_seq,
        brand_code: b.brand_code.clone(),
        brand_name: b.brand_name.clone(),
        brand_banner_img: urls.brand(&b.images.banner, code, ImageKind::BrandBanner),
        brand_icon_img: urls.brand(&b.images.icon, code, ImageKind::BrandIcon),
        mms_thum_img: urls.brand(&b.images.mms_thum, code, ImageKind::BrandThumb),
        content: b.content.clone(),
        category1_name: b.category1_name.clone(),
        category1_seq: b.category1_seq,
        category2_name: b.category2_name.clone(),
        category2_seq: b.category2_seq,
        sort: b.sort,
    }
}
