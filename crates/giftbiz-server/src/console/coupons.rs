//! `/console/coupons?q=…`: support's "where is my coupon?" (a link that works when pasted), and
//! a coupon's cancel with a confirmation and a reason.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use giftbiz_core::console::Capability;
use giftbiz_core::coupon::PinStatus;

use super::accounts::refused;
use super::pages::{kst, page, won, Me};
use super::session::{Posted, SignedIn};
use super::texts::Texts;
use crate::http::AppState;
use crate::usecases::console_accounts::ConsoleError;
use crate::usecases::console_coupons::{self, masked_pin};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/coupons", get(search))
        .route("/console/coupons/pin", post(pin_search))
        .route("/console/coupons/cancel", post(cancel))
        .route("/console/coupons/resend", post(resend))
        .route("/console/deliveries", get(deliveries))
}

pub struct CouponLine {
    pub order_no: String,
    pub user_id: String,
    pub tr_id: String,
    pub goods_name: String,
    pub status_code: &'static str,
    pub status_name: &'static str,
    pub pin: String,
    pub phone: String,
    pub price: String,
    pub issued_at: String,
    pub delivery: &'static str,
    pub cancellable: bool,
    /// An MMS send still issued: its message can be queued again.
    pub resendable: bool,
    /// Its life, oldest first (for the first few results).
    pub timeline: Vec<(String, String, String)>,
}

/// Results whose timeline is shown (each costs a few queries).
const TIMELINES: usize = 10;

#[derive(Template)]
#[template(path = "console/coupons.html")]
struct SearchPage {
    t: &'static Texts,
    me: Option<Me>,
    notice: Option<&'static str>,
    q: String,
    /// Whether a search ran (an empty result then says so).
    searched: bool,
    coupons: Vec<CouponLine>,
    may_cancel: bool,
    csrf_token: String,
}

#[derive(serde::Deserialize)]
struct SearchQuery {
    q: Option<String>,
    done: Option<String>,
}

async fn search(State(state): State<AppState>, signed_in: SignedIn, Query(query): Query<SearchQuery>) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    let q = query.q.unwrap_or_default();
    let found = if q.trim().is_empty() { Ok(Vec::new()) } else { console_coupons::search(state.store.as_ref(), &q).await };
    let notice = match query.done.as_deref() {
        Some("cancelled") => Some(signed_in.texts.cancelled),
        Some("resent") => Some(signed_in.texts.resent),
        _ => None,
    };
    let searched = !q.trim().is_empty();
    results(state.store.as_ref(), &signed_in, q, searched, found, notice).await
}

/// A PIN lookup: posted with the session's CSRF token, and the page does not repeat the PIN.
async fn pin_search(State(state): State<AppState>, posted: Posted) -> Response {
    if let Err(r) = posted.signed_in.require(Capability::Read) {
        return r.into_response();
    }
    let found = console_coupons::by_pin(state.store.as_ref(), posted.field("pin")).await;
    results(state.store.as_ref(), &posted.signed_in, String::new(), true, found, None).await
}

async fn results(
    store: &dyn giftbiz_core::Store,
    signed_in: &SignedIn,
    q: String,
    searched: bool,
    found: Result<Vec<console_coupons::Found>, ConsoleError>,
    notice: Option<&'static str>,
) -> Response {
    let t = signed_in.texts;
    let found = match found {
        Ok(found) => found,
        Err(e) => return refused(signed_in, e),
    };
    let mut coupons = Vec::new();
    for (n, f) in found.into_iter().enumerate() {
        let c = &f.coupon;
        let timeline = if n < TIMELINES {
            match console_coupons::timeline(store, c).await {
                Ok(events) => events.into_iter().map(|e| (kst(e.at_ms), e.what, e.who)).collect(),
                Err(e) => return refused(signed_in, e),
            }
        } else {
            Vec::new()
        };
        coupons.push(CouponLine {
            order_no: c.order_no.to_string(),
            user_id: f.user_id.to_string(),
            tr_id: c.new.tr_id.as_str().to_owned(),
            goods_name: c.new.goods_name.clone(),
            status_code: c.status.code(),
            status_name: c.status.name(),
            pin: masked_pin(&c.new.pin),
            phone: c.new.phone_no.masked(),
            price: won(c.new.price.get()),
            issued_at: kst(c.new.issued_at_ms),
            delivery: c.delivery.code(),
            cancellable: c.status == PinStatus::Issued,
            resendable: c.status == PinStatus::Issued && c.new.gubun == giftbiz_core::send::Gubun::Mms,
            timeline,
        });
    }
    let view = SearchPage {
        t,
        me: Some(Me::of(signed_in)),
        notice,
        q,
        searched,
        coupons,
        may_cancel: signed_in.operator.role.may(Capability::Coupons),
        csrf_token: signed_in.token.csrf_token(),
    };
    page(StatusCode::OK, &view)
}

async fn cancel(State(state): State<AppState>, posted: Posted) -> Response {
    if posted.field("confirm") != "yes" {
        return refused(&posted.signed_in, ConsoleError::Invalid("confirm the cancel (confirm=yes)"));
    }
    let actor = posted.actor(state.clock.now_ms());
    match console_coupons::cancel(state.store.as_ref(), &actor, posted.field("order_no"), posted.field("reason")).await {
        Ok(c) => Redirect::to(&format!("/console/coupons?q={}&done=cancelled", c.order_no)).into_response(),
        Err(e) => refused(&posted.signed_in, e),
    }
}

async fn resend(State(state): State<AppState>, posted: Posted) -> Response {
    let actor = posted.actor(state.clock.now_ms());
    let order_no = posted.field("order_no");
    match console_coupons::resend(state.store.as_ref(), &actor, order_no).await {
        Ok(()) => Redirect::to(&format!("/console/coupons?q={}&done=resent", order_no.trim())).into_response(),
        Err(e) => refused(&posted.signed_in, e),
    }
}

pub struct MessageRow {
    pub order_no: String,
    pub user_id: String,
    pub tr_id: String,
    pub attempts: i32,
    pub last_error: String,
    pub next_attempt: String,
}

#[derive(Template)]
#[template(path = "console/deliveries.html")]
struct DeliveriesPage {
    t: &'static Texts,
    me: Option<Me>,
    heading: &'static str,
    messages: Vec<MessageRow>,
    may_retry: bool,
    csrf_token: String,
}

#[derive(serde::Deserialize)]
struct DeliveriesQuery {
    state: Option<String>,
}

/// Failed (the default) or pending messages, newest first, each with a retry (0203's resend).
async fn deliveries(State(state): State<AppState>, signed_in: SignedIn, Query(query): Query<DeliveriesQuery>) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    let t = signed_in.texts;
    let (wanted, heading) = match query.state.as_deref() {
        Some("pending") => ("pending", t.pending_messages),
        _ => ("failed", t.failed_messages),
    };
    let listed = async {
        let messages = state.store.messages_in_state(wanted, 100).await?;
        let owners = console_coupons::owners(state.store.as_ref(), messages.iter().map(|m| m.account_id).collect()).await?;
        Ok::<_, giftbiz_core::StoreError>((messages, owners))
    };
    let (messages, owners) = match listed.await {
        Ok(v) => v,
        Err(e) => return refused(&signed_in, e.into()),
    };
    let messages = messages
        .into_iter()
        .map(|m| MessageRow {
            user_id: owners.get(&m.account_id).map(ToString::to_string).unwrap_or_default(),
            order_no: m.order_no,
            tr_id: m.tr_id,
            attempts: m.attempts,
            last_error: m.last_error.unwrap_or_default(),
            next_attempt: kst(m.next_attempt_at_ms),
        })
        .collect();
    let view = DeliveriesPage {
        t,
        me: Some(Me::of(&signed_in)),
        heading,
        messages,
        may_retry: signed_in.operator.role.may(Capability::Coupons),
        csrf_token: signed_in.token.csrf_token(),
    };
    page(StatusCode::OK, &view)
}
