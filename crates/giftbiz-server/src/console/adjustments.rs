//! `/console/adjustments`: large bizmoney adjustments waiting for a second operator (four-eyes);
//! approve or reject, never one's own.

use std::net::SocketAddr;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use giftbiz_core::console::Capability;

use super::accounts::refused;
use super::pages::{kst, page, won, ErrorPage, Me};
use super::session::SignedIn;
use super::texts::Texts;
use super::{csrf, form};
use crate::http::AppState;
use crate::usecases::console_accounts::{self, Actor};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/adjustments", get(list))
        .route("/console/adjustments/{id}/approve", post(approve))
        .route("/console/adjustments/{id}/reject", post(reject))
}

pub struct Line {
    pub id: i64,
    pub user_id: String,
    pub amount: String,
    pub reason: String,
    pub requested_by: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "console/adjustments.html")]
struct ListPage {
    t: &'static Texts,
    me: Option<Me>,
    notice: Option<&'static str>,
    adjustments: Vec<Line>,
    may_decide: bool,
    csrf_token: String,
}

#[derive(serde::Deserialize)]
struct ListQuery {
    done: Option<String>,
}

async fn list(State(state): State<AppState>, signed_in: SignedIn, Query(query): Query<ListQuery>) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    let pending = match state.store.pending_adjustments().await {
        Ok(p) => p,
        Err(e) => return ErrorPage::failed(signed_in.texts, e).into_response(),
    };
    let adjustments = pending
        .into_iter()
        .map(|p| Line {
            id: p.id,
            user_id: p.user_id,
            amount: format!("{}{}", if p.amount > 0 { "+" } else { "" }, won(p.amount)),
            reason: p.reason,
            requested_by: p.requested_by,
            when: kst(p.requested_at_ms),
        })
        .collect();
    let view = ListPage {
        t: signed_in.texts,
        me: Some(Me::of(&signed_in)),
        notice: query.done.is_some().then_some(signed_in.texts.decided),
        adjustments,
        may_decide: signed_in.operator.role.may(Capability::ApproveAdjustment),
        csrf_token: signed_in.token.csrf_token(),
    };
    page(StatusCode::OK, &view)
}

async fn decide(state: AppState, peer: SocketAddr, signed_in: SignedIn, id: i64, headers: HeaderMap, body: Bytes, approve: bool) -> Response {
    let form = form(&body);
    if let Err(r) = signed_in.require_csrf(csrf(&form, &headers)) {
        return r.into_response();
    }
    let source = peer.ip().to_string();
    let actor = Actor { operator: &signed_in.operator, source: &source, now_ms: state.clock.now_ms() };
    match console_accounts::decide(state.store.as_ref(), &actor, id, approve, super::field(&form, "reason").unwrap_or("")).await {
        Ok(_) => Redirect::to("/console/adjustments?done=1").into_response(),
        Err(e) => refused(&signed_in, e),
    }
}

async fn approve(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    decide(state, peer, signed_in, id, headers, body, true).await
}

async fn reject(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    decide(state, peer, signed_in, id, headers, body, false).await
}
