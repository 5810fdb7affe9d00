//! What an operator's monitoring reads: `GET /metrics` (Prometheus text), `GET /ready`
//! (readiness, with what is failing), and the metrics of every `/bizApi` call.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use giftbiz_wire::{ApiCode, ResultCode};
use serde_json::json;

use super::AppState;
use crate::jobs::beat::{Beat, JobState};
use crate::metrics::names;

/// `/metrics` and `/ready` on the main listener (`/metrics` only when metrics are on and no
/// `metrics_listen` takes it).
pub fn router(state: &AppState) -> Router<AppState> {
    let r = Router::new().route("/ready", get(ready));
    if state.metrics.is_some() && state.settings.metrics_listen.is_none() {
        r.route("/metrics", get(metrics))
    } else {
        r
    }
}

/// The `metrics_listen` listener's routes.
pub fn admin_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/ready", get(ready))
        .route("/health", get(super::health))
        .with_state(state)
}

/// 메트릭 / Prometheus metrics (README "Observability" lists them).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "the Prometheus text format", content_type = "text/plain; version=0.0.4; charset=utf-8", body = String)))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let Some(handle) = state.metrics else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let text = state.scrape.render(handle, state.store.as_ref(), state.clock.now_ms()).await;
    let mut resp = text.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    resp
}

/// `200` when the database answers, has every migration this binary knows, and the jobs this
/// server runs are running; else `503`, naming what fails in `failing`.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "준비됨 / ready", body = crate::openapi::Readiness),
              (status = 503, description = "준비 안 됨 / not ready: `failing` names why", body = crate::openapi::Readiness)))]
pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    let mut failing = Vec::new();
    let (database, migrations) = match state.store.schema_status().await {
        Ok(schema) => {
            if !schema.missing.is_empty() {
                failing.push("migrations");
            }
            (json!({"ok": true, "engine": state.store.engine()}), json!({"ok": schema.missing.is_empty(), "missing": schema.missing}))
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            failing.extend(["database", "migrations"]);
            (json!({"ok": false, "engine": state.store.engine()}), json!({"ok": false, "missing": null}))
        }
    };
    let mut job = |name: &'static str, beat: &Option<std::sync::Arc<Beat>>| match beat {
        None => "off",
        Some(beat) => {
            let s = beat.state();
            if s != JobState::Running {
                failing.push(name);
            }
            s.name()
        }
    };
    let jobs = json!({"delivery": job("delivery", &state.jobs.delivery), "expiry": job("expiry", &state.jobs.expiry)});
    let status = if failing.is_empty() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if failing.is_empty() { "ready" } else { "unavailable" },
        "failing": failing,
        "database": database,
        "migrations": migrations,
        "jobs": jobs,
    });
    (status, Json(body)).into_response()
}

/// Counts a `/bizApi` call under its operation (from the path, so a label never carries what a
/// client typed) and the answer's result code, and times it.
pub async fn record_api_call(req: Request, next: Next) -> Response {
    let api_code = ApiCode::of_path(req.uri().path()).map_or("unknown", ApiCode::code);
    let started = Instant::now();
    let resp = next.run(req).await;
    let code = resp.extensions().get::<ResultCode>().copied().unwrap_or(ResultCode::Ok).code();
    metrics::counter!(names::API_REQUESTS, "api_code" => api_code, "code" => code).increment(1);
    metrics::histogram!(names::API_DURATION, "api_code" => api_code).record(started.elapsed().as_secs_f64());
    resp
}
