//! The OpenAPI 3.1 document (`GET /openapi.json`) and its human page (`GET /docs`), made from
//! the code: the `/bizApi` operations from the server's own tables (`biz_api`), our other
//! routes from the `#[utoipa::path]` on their handlers, every schema derived from the types
//! that are serialized. Built once per process.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::AppState;

mod biz_api;
mod page;

/// `{"error": slug, "message": text}`: the error object of every route outside `/bizApi`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents `HttpError`'s body
pub struct ErrorObject {
    /// A stable slug: `not_found`, `unauthorized`, `rate_limited`, `bad_request`, …
    error: String,
    message: String,
}

/// `/health`'s answer.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Health {
    #[schema(example = "ok")]
    status: String,
}

/// `/ready`'s answer (README "Observability").
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    status: String,
    /// What fails: `database`, `migrations`, `delivery`, `expiry`.
    failing: Vec<String>,
    database: serde_json::Value,
    migrations: serde_json::Value,
    /// Each job `running`, `stalled`, `stopped` or `off`.
    jobs: serde_json::Value,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "giftbiz",
        description = "기프티쇼 비즈 API (v0.0.95) 호환 서버와 그 운영 API / The Giftishow Biz API (v0.0.95) as giftbiz serves it, wire-compatible with the live service, and giftbiz's own routes: images, the partner API, the sandbox, health, readiness and metrics. Behaviour where the live service differs from the spec: NOTES.md.",
        license(name = "Apache-2.0")
    ),
    paths(
        crate::http::partner::lookup,
        crate::http::partner::redeem,
        crate::http::sandbox::show_clock,
        crate::http::sandbox::advance_clock,
        crate::http::image_routes::goods_image,
        crate::http::image_routes::brand_image,
        crate::http::coupons::coupon_image,
        crate::http::health,
        crate::http::observe::ready,
        crate::http::observe::metrics,
        openapi_json,
        page::docs,
    ),
    components(schemas(
        giftbiz_wire::catalog::GoodsListResult,
        giftbiz_wire::catalog::GoodsListItem,
        giftbiz_wire::catalog::GoodsDetailResult,
        giftbiz_wire::catalog::GoodsDetail,
        giftbiz_wire::catalog::BrandListResult,
        giftbiz_wire::catalog::BrandDetailResult,
        giftbiz_wire::catalog::Brand,
        giftbiz_wire::coupon::SendResult,
        giftbiz_wire::coupon::CouponDetailResult,
        giftbiz_wire::coupon::CouponInfo,
        giftbiz_wire::coupon::BizmoneyResult,
    )),
    tags(
        (name = "bizApi", description = "기프티쇼 비즈 API: 상품, 브랜드, 쿠폰 발송·조회·취소·재전송, 비즈머니 / the ten operations of the spec, POST, HTTP 200 with the envelope"),
        (name = "partner", description = "교환처 API / giftbiz's partner API: look up and redeem coupons (JSON, HTTP statuses)"),
        (name = "images", description = "상품·브랜드·쿠폰 이미지 / the images the catalog and gubun I sends link to"),
        (name = "sandbox", description = "샌드박스 (sandbox = true 일 때만) / only when `sandbox` is on: never in production"),
        (name = "operations", description = "운영 / liveness, readiness, metrics and this document"),
    ),
    modifiers(&BizApi)
)]
struct Document;

/// Adds the `/bizApi` operations, the error envelope and the security schemes.
struct BizApi;

impl Modify for BizApi {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        doc.paths.paths.extend(biz_api::paths().paths);
        let components = doc.components.get_or_insert_with(Default::default);
        components.schemas.insert("ErrorEnvelope".into(), biz_api::error_envelope().into());
        components.add_security_scheme(
            "partner_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("교환처 토큰 / the partner's token")).build()),
        );
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description("X-Giftbiz-Admin-Token", "the sandbox admin token"))),
        );
    }
}

/// The document, built on first use.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = Document::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        doc
    })
}

fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| document().to_pretty_json().expect("the document serializes"))
}

/// `/openapi.json` and `/docs`.
pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json)).route("/docs", get(page::docs)).route("/docs/docs.css", get(page::stylesheet))
}

/// 이 문서 / this document (OpenAPI 3.1).
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "the OpenAPI document", content_type = "application/json", body = serde_json::Value)))]
pub(crate) async fn openapi_json() -> Response {
    let mut resp = document_json().into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}
