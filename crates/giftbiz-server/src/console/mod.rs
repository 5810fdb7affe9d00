//! The operator console under `/console`: server-rendered pages for the platform's staff,
//! calling the same use cases as the API and the CLI. Sessions are database rows (every
//! instance shares them), roles are checked on the server for every route, and every
//! state-changing request carries the session's CSRF token.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use giftbiz_core::console::Capability;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::http::{check_bounded, AppState};
use crate::usecases::console_auth::{self, Credentials, LoginError, LoginRefusal};
use pages::{page, DashboardPage, ErrorPage, LoginPage, Me};
use session::{cleared_session_cookie, is_cross_origin, session_cookie, texts_of, Posted, SignedIn, LANG_COOKIE};

mod accounts;
mod adjustments;
mod audit;
mod catalog;
mod coupons;
mod pages;
mod partners;
mod session;
mod texts;

/// Failed logins per source address (before any password is checked past the limit).
#[derive(Clone)]
struct LoginLimiter(Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>);

pub fn router(state: &AppState) -> Router<AppState> {
    let limiter = LoginLimiter(
        NonZeroU32::new(state.settings.console_login_failures_per_minute).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
    );
    Router::new()
        .route("/console", get(dashboard))
        .route("/console/", get(dashboard))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/assets/console.js", get(script))
        .merge(accounts::router())
        .merge(coupons::router())
        .merge(audit::router())
        .merge(adjustments::router())
        .merge(catalog::router())
        .merge(partners::router())
        // Unknown console paths get the console's own page (the app has one fallback, for JSON).
        .route("/console/{*rest}", get(not_found).post(not_found))
        .layer(Extension(limiter))
}

/// The form fields of a console POST (urlencoded), by name.
pub(super) fn form(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

pub(super) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find_map(|(k, v)| (k == name).then_some(v.as_str()))
}

/// `?lang=` remembered for the next pages.
fn with_lang(parts: &Parts, resp: Response) -> Response {
    let lang = parts.uri.query().and_then(|q| form_urlencoded::parse(q.as_bytes()).find_map(|(k, v)| (k == "lang").then(|| v.into_owned())));
    match lang.as_deref() {
        Some(l @ ("ko" | "en")) => {
            let mut resp = resp;
            if let Ok(v) = format!("{LANG_COOKIE}={l}; Path=/console; SameSite=Strict; Max-Age=31536000").parse() {
                resp.headers_mut().append(SET_COOKIE, v);
            }
            resp
        }
        _ => resp,
    }
}

async fn login_page(parts: Parts) -> Response {
    let t = texts_of(&parts);
    with_lang(&parts, page(StatusCode::OK, &LoginPage { t, me: None, error: None }))
}

async fn login(
    State(state): State<AppState>,
    Extension(limiter): Extension<LoginLimiter>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    parts: Parts,
    body: Bytes,
) -> Response {
    let t = texts_of(&parts);
    if is_cross_origin(&parts.headers) {
        return ErrorPage::status(t, StatusCode::FORBIDDEN, t.forbidden).into_response();
    }
    let form = form(&body);
    let credentials = Credentials {
        username: field(&form, "username").unwrap_or(""),
        password: field(&form, "password").unwrap_or(""),
        code: field(&form, "code").unwrap_or(""),
    };
    let source = peer.ip().to_string();
    let now_ms = state.clock.now_ms();
    match console_auth::log_in(state.store.as_ref(), &state.settings.console_policy(), credentials, &source, now_ms).await {
        Ok((token, _)) => {
            let mut resp = Redirect::to("/console").into_response();
            if let Ok(v) = session_cookie(&state, &token).parse() {
                resp.headers_mut().insert(SET_COOKIE, v);
            }
            resp
        }
        Err(LoginError::Refused(refusal)) => {
            // Each failure spends the address's allowance; past it, 429 (its page says so).
            if let Some(limiter) = &limiter.0 {
                if !check_bounded(limiter, &peer.ip()) {
                    return ErrorPage::status(t, StatusCode::TOO_MANY_REQUESTS, t.too_many).into_response();
                }
            }
            let error = match refusal {
                LoginRefusal::BadCredentials => t.bad_credentials,
                LoginRefusal::Locked { .. } => t.locked,
            };
            page(StatusCode::UNAUTHORIZED, &LoginPage { t, me: None, error: Some(error) })
        }
        Err(LoginError::Store(e)) => ErrorPage::failed(t, e).into_response(),
    }
}

async fn logout(State(state): State<AppState>, posted: Posted) -> Response {
    if let Err(e) = console_auth::log_out(state.store.as_ref(), &posted.signed_in.token).await {
        return ErrorPage::failed(posted.signed_in.texts, e).into_response();
    }
    let mut resp = Redirect::to("/console/login").into_response();
    if let Ok(v) = cleared_session_cookie(&state).parse() {
        resp.headers_mut().insert(SET_COOKIE, v);
    }
    resp
}

/// KST is 9 hours ahead of UTC, all year.
const KST_MS: i64 = 9 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

async fn dashboard(State(state): State<AppState>, signed_in: SignedIn, parts: Parts) -> Response {
    if let Err(refused) = signed_in.require(Capability::Read) {
        return refused.into_response();
    }
    let today = (state.clock.now_ms() + KST_MS).div_euclid(DAY_MS);
    let figures = match state.store.console_figures(today - 29, state.settings.console_low_balance_won).await {
        Ok(f) => f,
        Err(e) => return ErrorPage::failed(signed_in.texts, e).into_response(),
    };
    with_lang(&parts, page(StatusCode::OK, &DashboardPage::new(signed_in.texts, Me::of(&signed_in), &figures, today)))
}

/// Embedded in the binary; cached a day (it changes only with the binary).
async fn stylesheet() -> Response {
    let css = include_str!("../../assets/console.css");
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=86400")], css).into_response()
}

async fn script() -> Response {
    let js = include_str!("../../assets/console.js");
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "public, max-age=86400")], js).into_response()
}

async fn not_found(parts: Parts) -> Response {
    let t = texts_of(&parts);
    ErrorPage::status(t, StatusCode::NOT_FOUND, t.not_found).into_response()
}
