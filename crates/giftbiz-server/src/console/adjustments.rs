//! `/console/adjustments`: large bizmoney adjustments waiting for a second operator (four-eyes);
//! approve or reject, never one's own.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use giftbiz_core::console::Capability;

use super::accounts::refused;
use super::pages::{kst, page, won, ErrorPage, Me};
use super::session::{Posted, SignedIn};
use super::texts::Texts;
use crate::http::AppState;
use crate::usecases::console_accounts::{self, ConsoleError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/adjustments", get(list))
        .route("/console/adjustments/{id}/{decision}", post(decide))
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

/// `approve` or `reject` a pending adjustment.
async fn decide(State(state): State<AppState>, Path((id, decision)): Path<(i64, String)>, posted: Posted) -> Response {
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return refused(&posted.signed_in, ConsoleError::Invalid("approve or reject")),
    };
    let actor = posted.actor(state.clock.now_ms());
    match console_accounts::decide(state.store.as_ref(), &actor, id, approve, posted.field("reason")).await {
        Ok(_) => Redirect::to("/console/adjustments?done=1").into_response(),
        Err(e) => refused(&posted.signed_in, e),
    }
}
