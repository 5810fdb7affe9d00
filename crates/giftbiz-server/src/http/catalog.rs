//! The catalog endpoints: 0101 goods list, 0111 goods detail, 0102 brands, 0112 brand detail.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use giftbiz_core::{BrandCode, GoodsCode, Grade};
use giftbiz_wire::catalog::{Brand as WireBrand, BrandDetailResult, BrandListResult, GoodsDetailResult};
use giftbiz_wire::{params, ApiCode, Envelope, ResultCode};

use super::auth::authenticate;
use super::error::{envelope_response, json_bytes, ApiError, ApiResult, JSON_UTF8};
use super::params::Params;
use super::{api_route, AppState};
use crate::catalog_view::{self, brand_view};
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

async fn goods_list(State(state): State<AppState>, headers: HeaderMap, p: Params) -> ApiResult<Response> {
    let caller = authenticate(&state, &p, ApiCode::GoodsList).await?;
    let (start, size) = paging(&p, state.settings.page_size_cap)?;
    let etag = page_etag(&state, caller.catalog_revision, caller.account.grade, start, size);
    if if_none_match(&headers, &etag) {
        return Ok(unchanged(etag));
    }
    let snap = state.catalog.snapshot(caller.catalog_revision).await?;
    let skip = usize::try_from((start - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let page = snap.goods_page(caller.account.grade, skip, size as usize, CHUNK_BYTES);
    let mut resp = if size <= ONE_BUFFER_MAX {
        json_bytes(page.collect::<Vec<_>>().concat())
    } else {
        let stream = futures_util::stream::iter(page.map(Ok::<_, std::convert::Infallible>));
        let mut resp = Response::new(Body::from_stream(stream));
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
        resp
    };
    resp.headers_mut().insert(header::ETAG, etag);
    Ok(resp)
}

/// A page's validator: the same catalog revision, grade, page and server (its image URLs) make
/// the same bytes. A client that kept it sends it back as `If-None-Match`; the catalog
/// unchanged, one round trip with no body tells it so.
fn page_etag(state: &AppState, revision: i64, grade: Grade, start: u64, size: u64) -> HeaderValue {
    let tag = format!("\"r{revision}-{}-{start}-{size}-{:08x}\"", grade.as_str(), state.urls.fingerprint());
    HeaderValue::from_str(&tag).expect("an ETag of visible ASCII")
}

/// Whether `If-None-Match` names `etag` (or is `*`), weak or strong alike (RFC 9110 §13.1.2).
fn if_none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    headers.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.as_bytes().split(|b| *b == b',').map(|t| t.trim_ascii()).any(|t| t == b"*" || t.strip_prefix(b"W/").unwrap_or(t) == ours)
    })
}

/// The answer to a matching `If-None-Match`: for a POST, RFC 9110 says `412`, not `304`; no
/// body, the ETag again.
fn unchanged(etag: HeaderValue) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::PRECONDITION_FAILED;
    resp.headers_mut().insert(header::ETAG, etag);
    resp
}

async fn goods_detail(
    State(state): State<AppState>,
    Path(goods_code): Path<String>,
    mut p: Params,
) -> ApiResult<Response> {
    p.set_from_path(params::GOODS_CODE, goods_code);
    let caller = authenticate(&state, &p, ApiCode::GoodsDetail).await?;
    // No goods has a code that does not parse: it is as unknown as any other.
    let code = GoodsCode::parse(p.require(params::GOODS_CODE)?).map_err(|_| Refusal::NoSuchGoods)?;
    let goods = state.store.goods_by_code(&code).await?.filter(|g| g.is_listed()).ok_or(Refusal::NoSuchGoods)?;
    let result = GoodsDetailResult { goods_detail: catalog_view::goods_detail(&goods, caller.account.grade, &state.urls) };
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
    let code = BrandCode::parse(p.require(params::BRAND_CODE)?).map_err(|_| Refusal::NoSuchBrand)?;
    let snap = state.catalog.snapshot(caller.catalog_revision).await?;
    let brand = snap.brand(&code).ok_or(Refusal::NoSuchBrand)?;
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
