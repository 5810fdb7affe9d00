//! The HTTP surface: the `/bizApi` endpoints, the images they link to, the partner API
//! (`/partner/v1`), `/health`, `/ready`, `/metrics` and the OpenAPI document (`/openapi.json`,
//! `/docs`). Each resource module owns its `router()`.

use std::sync::Arc;

use axum::handler::Handler;
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use giftbiz_core::Store;
use giftbiz_wire::ResultCode;
use std::time::Duration;

use axum::http::StatusCode;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::catalog_cache::CatalogCache;
use crate::coupon_image::CouponImageCache;
use giftbiz_core::time::Clock;
use crate::config::Settings;
use crate::images::ImageCache;

pub mod auth;
pub mod catalog;
pub(crate) mod coupons;
pub mod edge;
pub mod error;
pub(crate) mod image_routes;
pub mod observe;
pub mod params;
pub mod partner;
mod refusals;
pub mod request_id;
mod resend;
pub mod sandbox;
mod send;

use crate::catalog_view::ImageUrls;
use error::{ensure_envelope, ensure_json_errors, panic_response, ApiError, HttpError};

/// Everything a request handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub coupon_images: Arc<CouponImageCache>,
    pub settings: Arc<Settings>,
    pub catalog: Arc<CatalogCache>,
    /// Accounts that authenticated, served from memory while fresh.
    pub auth: Arc<crate::auth_cache::AuthCache>,
    pub images: Arc<ImageCache>,
    pub urls: Arc<ImageUrls>,
    /// Image renders allowed per client address (catalog and coupon images alike).
    pub renders: Arc<RenderLimiter>,
    /// Present when `sandbox` is on: `clock` is then its clock, which the operator advances.
    pub sandbox: Option<Arc<sandbox::Sandbox>>,
    /// The process's metrics recorder, unless `metrics` is off.
    pub metrics: Option<&'static metrics_exporter_prometheus::PrometheusHandle>,
    pub scrape: Arc<crate::metrics::ScrapeCache>,
    /// The background jobs' signs of life, for `/ready`.
    pub jobs: Arc<crate::jobs::beat::JobBeats>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: Settings, clock: Arc<dyn Clock>) -> AppState {
        let urls = Arc::new(ImageUrls::new(settings.public_base()));
        let sandbox = sandbox::Sandbox::new(settings.sandbox, clock.clone());
        let clock = sandbox.as_ref().map_or(clock, |s| s.clock.clone() as Arc<dyn Clock>);
        AppState {
            clock,
            sandbox,
            metrics: if settings.metrics { crate::metrics::install() } else { None },
            scrape: Arc::new(crate::metrics::ScrapeCache::new(
                Duration::from_millis(settings.metrics_cache_ms),
                settings.console_low_balance_won,
            )),
            jobs: Arc::default(),
            coupon_images: Arc::new(CouponImageCache::default()),
            catalog: Arc::new(CatalogCache::new(store.clone(), urls.clone())),
            auth: Arc::new(crate::auth_cache::AuthCache::new(
                store.clone(),
                (settings.cache_max_stale_ms > 0).then(|| Duration::from_millis(settings.cache_max_stale_ms)),
            )),
            images: Arc::new(ImageCache::new()),
            renders: Arc::new(RenderLimiter::new(settings.image_renders_per_minute)),
            urls,
            settings: Arc::new(settings),
            store,
        }
    }
}

pub fn router(state: AppState) -> Router {
    let deadline = Duration::from_millis(state.settings.request_timeout_ms);
    let api = with_api_layers(
        Router::new().merge(catalog::router()).merge(send::router()).merge(coupons::router()).merge(resend::router()),
        deadline,
    );
    // Sandbox faults (only when `sandbox` is on; otherwise `api` as it is), outside the
    // deadline: a sandbox delay is meant to outlast the client's own timeout.
    let api = sandbox::fault_layer(api, &state);
    // Our own routes outside /bizApi, each request within the same deadline (408 after).
    let outside = Router::new()
        .merge(image_routes::router())
        .merge(coupons::image_router())
        // Our own JSON API for partners (교환처), with HTTP statuses.
        .merge(partner::router(&state.settings))
        // The sandbox's admin calls (an empty router when `sandbox` is off).
        .merge(sandbox::admin_router(&state))
        .route("/health", get(health))
        .merge(observe::router(&state))
        .merge(crate::openapi::router())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, deadline));
    let app = Router::new()
        .nest("/bizApi", api)
        .merge(outside)
        .fallback(unknown_path)
        // Outside /bizApi every error is JSON too: our routes' error object (`/bizApi` keeps
        // its envelope, made inside). Protocol errors hyper writes itself stay bare.
        .method_not_allowed_fallback(|| async { HttpError::of_status(StatusCode::METHOD_NOT_ALLOWED) })
        .layer(map_response(ensure_json_errors))
        // The console answers HTML, its errors included: outside the JSON rewriting.
        .merge(crate::console::router(&state))
        // One span per request, so every log line of it carries its id: the path only, never the
        // query string, which may carry phone numbers and credentials, and a coupon image's
        // path without its token, which is as good as the PIN it shows.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<axum::body::Body>| {
            let id = req.extensions().get::<giftbiz_core::RequestId>().map(|id| id.as_str()).unwrap_or("");
            tracing::info_span!("request", request_id = id, method = %req.method(), path = %loggable_path(req.uri().path()))
        }))
        // gzip or zstd when the client asks (`Accept-Encoding`), at the fastest level: a 5000-goods
        // page is ~12 MB of JSON that shrinks ~10×. Never images (already compressed) or
        // bodies under 32 bytes; a client that asks for nothing gets the bytes as they are.
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest));
    // Outermost, so the span above and every layer under it see the id.
    let app = if state.settings.request_ids { app.layer(axum::middleware::from_fn(request_id::assign)) } else { app };
    app.with_state(state)
}

/// Whatever happens under `/bizApi` (an unknown path, a wrong method, a panic, a framework
/// rejection, a request past its `deadline`) leaves as the envelope.
fn with_api_layers<S: Clone + Send + Sync + 'static>(api: Router<S>, deadline: Duration) -> Router<S> {
    api.fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, deadline))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(map_response(ensure_envelope))
        // Outermost: counts the envelope that leaves, whatever made it.
        .layer(axum::middleware::from_fn(observe::record_api_call))
}

/// Registers an API endpoint (POST) with and without a trailing slash.
pub(crate) fn api_route<H, T>(router: Router<AppState>, path: &str, handler: H) -> Router<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    router.route(path, post(handler.clone())).route(&format!("{path}/"), post(handler))
}

async fn unknown_path() -> Response {
    ApiError::with(ResultCode::ApiCodeMissing, "no such API path").into_response()
}

async fn wrong_method() -> Response {
    ApiError::with(ResultCode::ApiCodeMissing, "POST only").into_response()
}

/// Renders (image cache misses) per client address: a render costs milliseconds of CPU and
/// needs no credentials, so a client cycling through every goods image is slowed, not served.
pub struct RenderLimiter(Option<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>);

impl RenderLimiter {
    pub fn new(per_minute: u32) -> RenderLimiter {
        RenderLimiter(std::num::NonZeroU32::new(per_minute).map(|n| governor::RateLimiter::keyed(governor::Quota::per_minute(n))))
    }

    /// `Err(429)` when the request's address is over its render budget.
    pub fn allow(&self, ext: &axum::http::Extensions) -> Result<(), HttpError> {
        let (Some(limiter), Some(info)) = (&self.0, ext.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()) else {
            return Ok(());
        };
        if check_bounded(limiter, &info.0.ip()) {
            Ok(())
        } else {
            Err(HttpError::rate_limited("too many image renders; retry later", 60))
        }
    }
}

/// Keys a keyed limiter holds before it forgets those whose budget is whole again, so keys an
/// attacker makes up (addresses, partner codes) cannot grow it without bound.
const MAX_LIMITER_KEYS: usize = 10_000;

/// One attempt of `key` against `limiter`; `false` when the key is over its quota.
pub(crate) fn check_bounded<K: Clone + Eq + std::hash::Hash>(limiter: &governor::DefaultKeyedRateLimiter<K>, key: &K) -> bool {
    let allowed = limiter.check_key(key).is_ok();
    if limiter.len() > MAX_LIMITER_KEYS {
        limiter.retain_recent();
    }
    allowed
}

/// `path` for a log line: a coupon image's token replaced by `***`.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix(coupons::COUPON_IMAGES_PREFIX) {
        Some(file) => {
            let ext = file.rfind('.').map_or("", |at| &file[at..]);
            format!("{}***{ext}", coupons::COUPON_IMAGES_PREFIX).into()
        }
        None => path.into(),
    }
}

/// 생존 확인 / liveness: the process serves. The trivial endpoint, also the benchmark's baseline.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "alive", body = crate::openapi::Health)))]
pub(crate) async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panic_leaves_as_e9999_without_its_text() {
        async fn boom() -> &'static str {
            panic!("secret internals")
        }
        let app = with_api_layers(Router::new().route("/x", post(boom)), Duration::from_secs(5));
        let req = axum::http::Request::post("/x").body(axum::body::Body::empty()).unwrap();
        let resp = app.oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["code"], "E9999");
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
    }
}
