//! `/console/partners`: partners (교환처) with their brands, a partner's page with its newest
//! redemption attempts, and creating one or rotating its token (the token shown once).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use giftbiz_core::console::Capability;
use giftbiz_core::partner::{brand_codes_to_stored, Partner};

use super::accounts::refused;
use super::pages::{kst, page, Me};
use super::session::{Posted, SignedIn};
use super::texts::Texts;
use crate::http::AppState;
use crate::operator::IssuedPartner;
use crate::usecases::console_partners;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/partners", get(list).post(create))
        .route("/console/partners/{code}", get(detail))
        .route("/console/partners/{code}/rotate-token", post(rotate_token))
}

struct Row {
    code: String,
    name: String,
    brands: String,
    created: String,
}

impl Row {
    fn of(p: &Partner) -> Row {
        Row { code: p.partner_code.clone(), name: p.name.clone(), brands: brand_codes_to_stored(&p.brand_codes), created: kst(p.created_at_ms) }
    }
}

#[derive(Template)]
#[template(path = "console/partners.html")]
struct ListPage {
    t: &'static Texts,
    me: Option<Me>,
    partners: Vec<Row>,
    may_create: bool,
    csrf_token: String,
}

async fn list(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    match console_partners::list(state.store.as_ref()).await {
        Ok(partners) => {
            let view = ListPage {
                t: signed_in.texts,
                me: Some(Me::of(&signed_in)),
                partners: partners.iter().map(Row::of).collect(),
                may_create: signed_in.operator.role.may(Capability::Partners),
                csrf_token: signed_in.token.csrf_token(),
            };
            page(StatusCode::OK, &view)
        }
        Err(e) => refused(&signed_in, e),
    }
}

struct Redemption {
    when: String,
    action: &'static str,
    outcome: &'static str,
    order_no: String,
}

#[derive(Template)]
#[template(path = "console/partner.html")]
struct DetailPage {
    t: &'static Texts,
    me: Option<Me>,
    code: String,
    name: String,
    brands: String,
    created: String,
    /// A new token, on the page that answers its creation or rotation only.
    token: Option<String>,
    may_rotate: bool,
    csrf_token: String,
    redemptions: Vec<Redemption>,
}

async fn detail(State(state): State<AppState>, signed_in: SignedIn, Path(code): Path<String>) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    show(&state, &signed_in, &code, None).await
}

async fn show(state: &AppState, signed_in: &SignedIn, code: &str, token: Option<String>) -> Response {
    let (partner, redemptions) = match console_partners::detail(state.store.as_ref(), code).await {
        Ok(found) => found,
        Err(e) => return refused(signed_in, e),
    };
    let row = Row::of(&partner);
    let view = DetailPage {
        t: signed_in.texts,
        me: Some(Me::of(signed_in)),
        code: row.code,
        name: row.name,
        brands: row.brands,
        created: row.created,
        token,
        may_rotate: signed_in.operator.role.may(Capability::Partners),
        csrf_token: signed_in.token.csrf_token(),
        redemptions: redemptions
            .into_iter()
            .map(|(r, order_no)| Redemption {
                when: kst(r.entry.at_ms),
                action: r.entry.action.code(),
                outcome: r.entry.outcome.code(),
                order_no: order_no.unwrap_or_default(),
            })
            .collect(),
    };
    page(StatusCode::OK, &view)
}

/// The partner's page with its new token, shown this once (the page is `no-store`).
async fn issued(state: &AppState, posted: &Posted, issued: IssuedPartner) -> Response {
    show(state, &posted.signed_in, &issued.partner.partner_code, Some(issued.token.expose().to_owned())).await
}

async fn create(State(state): State<AppState>, posted: Posted) -> Response {
    let actor = posted.actor(state.clock.now_ms());
    match console_partners::create(state.store.as_ref(), &actor, posted.field("name"), posted.field("brands")).await {
        Ok(p) => issued(&state, &posted, p).await,
        Err(e) => refused(&posted.signed_in, e),
    }
}

async fn rotate_token(State(state): State<AppState>, Path(code): Path<String>, posted: Posted) -> Response {
    let actor = posted.actor(state.clock.now_ms());
    match console_partners::rotate_token(state.store.as_ref(), &actor, &code, posted.field("reason")).await {
        Ok(p) => issued(&state, &posted, p).await,
        Err(e) => refused(&posted.signed_in, e),
    }
}
