//! Serves the images the catalog links to (`goodsImgS`, `brandIConImg`, …), rendered on first
//! request and cached.

use axum::extract::{Path, State};
use axum::http::{header, Extensions, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use giftbiz_core::{BrandCode, GoodsCode};

use super::error::HttpError;
use super::AppState;
use crate::images::ImageKind;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/images/goods/{goods_code}/{file}", get(goods_image))
        .route("/images/brands/{brand_code}/{file}", get(brand_image))
}

/// 상품 이미지 / a goods image the catalog links to (rendered on first request, then cached).
#[utoipa::path(get, path = "/images/goods/{goods_code}/{file}", tag = "images",
    params(("goods_code" = String, Path, description = "상품코드 / goods code"),
           ("file" = String, Path, description = "the image's file name, as the catalog links it")),
    responses((status = 200, description = "the image", content_type = "image/png"),
              (status = 404, description = "no such goods or image", body = crate::openapi::ErrorObject),
              (status = 429, description = "too many renders from this address", body = crate::openapi::ErrorObject)))]
pub(crate) async fn goods_image(State(state): State<AppState>, Path((code, file)): Path<(String, String)>, ext: Extensions) -> Response {
    let Some(kind) = file.strip_suffix(".png").and_then(ImageKind::parse_goods) else { return not_found() };
    let Ok(code) = GoodsCode::parse(&code) else { return not_found() };
    let Ok(goods) = state.store.goods_by_code(&code).await else { return unavailable() };
    let Some(goods) = goods.filter(|g| g.is_listed()) else { return not_found() };
    render(&state, &ext, format!("goods:{code}"), kind, goods.brand_name, Some(goods.goods_name)).await
}

/// 브랜드 이미지 / a brand image the catalog links to.
#[utoipa::path(get, path = "/images/brands/{brand_code}/{file}", tag = "images",
    params(("brand_code" = String, Path, description = "브랜드코드 / brand code"),
           ("file" = String, Path, description = "the image's file name, as the catalog links it")),
    responses((status = 200, description = "the image", content_type = "image/png"),
              (status = 404, description = "no such brand or image", body = crate::openapi::ErrorObject),
              (status = 429, description = "too many renders from this address", body = crate::openapi::ErrorObject)))]
pub(crate) async fn brand_image(State(state): State<AppState>, Path((code, file)): Path<(String, String)>, ext: Extensions) -> Response {
    let Some(kind) = file.strip_suffix(".png").and_then(ImageKind::parse_brand) else { return not_found() };
    let Ok(code) = BrandCode::parse(&code) else { return not_found() };
    let Ok(snap) = state.catalog.current().await else { return unavailable() };
    let Some(brand) = snap.brand(&code) else { return not_found() };
    render(&state, &ext, format!("brand:{code}"), kind, brand.brand_name.clone(), None).await
}

/// Rendering takes milliseconds of CPU: off the async workers, and limited per client address
/// (a cached image is not a render).
async fn render(state: &AppState, ext: &Extensions, key: String, kind: ImageKind, title: String, subtitle: Option<String>) -> Response {
    if let Some(png) = state.images.cached(&key, kind, &title, subtitle.as_deref()) {
        return png_response(png);
    }
    if let Err(refused) = state.renders.allow(ext) {
        return refused.into_response();
    }
    let images = state.images.clone();
    match tokio::task::spawn_blocking(move || images.png(&key, kind, &title, subtitle.as_deref())).await {
        Ok(png) => png_response(png),
        Err(_) => unavailable(),
    }
}

fn png_response(png: bytes::Bytes) -> Response {
    ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], png).into_response()
}

fn not_found() -> Response {
    HttpError::new(StatusCode::NOT_FOUND, "not_found", "no such image").into_response()
}

fn unavailable() -> Response {
    HttpError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "catalog unavailable").into_response()
}
