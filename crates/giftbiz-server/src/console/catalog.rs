//! `/console/catalog`: goods with search and filters, a goods' page (state, grade prices and
//! the forms that change them), brands, and the import with a preview of what changes.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use giftbiz_core::catalog_import::ImportPreview;
use giftbiz_core::console::Capability;
use giftbiz_core::{Goods, GoodsState, Grade};

use super::accounts::refused;
use super::pages::{page, won, Me};
use super::session::{Posted, SignedIn};
use super::texts::Texts;
use crate::http::AppState;
use crate::usecases::console_catalog::{self, GoodsFilter};

/// A catalog dump may be a few megabytes (the live catalog's 0101 is about one per thousand
/// goods); the import's forms take up to this much.
const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/catalog", get(goods_list))
        .route("/console/catalog/brands", get(brands))
        .route("/console/catalog/goods/{code}", get(goods_page))
        .route("/console/catalog/goods/{code}/state", post(set_state))
        .route("/console/catalog/goods/{code}/price", post(set_price))
        .route("/console/catalog/import", get(import_page).post(import))
        .route("/console/catalog/import/preview", post(preview))
}

fn state_name(t: &'static Texts, state: GoodsState) -> &'static str {
    match state {
        GoodsState::Sale => t.state_sale,
        GoodsState::Suspended => t.state_suspended,
        GoodsState::Withdrawn => t.state_withdrawn,
    }
}

struct GoodsRow {
    code: String,
    name: String,
    brand: String,
    sale_price: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "console/catalog.html")]
struct GoodsListPage {
    t: &'static Texts,
    me: Option<Me>,
    notice: Option<&'static str>,
    q: String,
    brand: String,
    state: String,
    /// (code, name) of every brand, for the filter.
    brands: Vec<(String, String)>,
    goods: Vec<GoodsRow>,
    shown: usize,
    total: usize,
    may_change: bool,
}

#[derive(serde::Deserialize)]
struct GoodsListQuery {
    #[serde(flatten)]
    filter: GoodsFilter,
    done: Option<String>,
}

async fn goods_list(State(state): State<AppState>, signed_in: SignedIn, Query(query): Query<GoodsListQuery>) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    let t = signed_in.texts;
    let store = state.store.as_ref();
    let (goods, total) = match console_catalog::goods(store, &query.filter).await {
        Ok(found) => found,
        Err(e) => return refused(&signed_in, e),
    };
    let brands = match console_catalog::brand_choices(store).await {
        Ok(b) => b,
        Err(e) => return refused(&signed_in, e),
    };
    let rows: Vec<GoodsRow> = goods
        .iter()
        .map(|g| GoodsRow {
            code: g.goods_code.to_string(),
            name: g.goods_name.clone(),
            brand: g.brand_name.clone(),
            sale_price: won(g.sale_price.get()),
            state: state_name(t, g.state),
        })
        .collect();
    let f = &query.filter;
    let view = GoodsListPage {
        t,
        me: Some(Me::of(&signed_in)),
        notice: (query.done.as_deref() == Some("imported")).then_some(t.imported),
        q: f.q.clone().unwrap_or_default(),
        brand: f.brand.clone().unwrap_or_default(),
        state: f.state.clone().unwrap_or_default(),
        brands,
        shown: rows.len(),
        goods: rows,
        total,
        may_change: signed_in.operator.role.may(Capability::Catalog),
    };
    page(StatusCode::OK, &view)
}

struct BrandRow {
    code: String,
    name: String,
    category: String,
    goods: usize,
}

#[derive(Template)]
#[template(path = "console/brands.html")]
struct BrandsPage {
    t: &'static Texts,
    me: Option<Me>,
    q: String,
    brands: Vec<BrandRow>,
}

#[derive(serde::Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn brands(State(state): State<AppState>, signed_in: SignedIn, Query(query): Query<SearchQuery>) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    match console_catalog::brands(state.store.as_ref(), query.q.as_deref()).await {
        Ok(found) => {
            let brands = found
                .into_iter()
                .map(|(b, goods)| BrandRow { code: b.brand_code.to_string(), name: b.brand_name, category: b.category1_name, goods })
                .collect();
            let view = BrandsPage { t: signed_in.texts, me: Some(Me::of(&signed_in)), q: query.q.unwrap_or_default(), brands };
            page(StatusCode::OK, &view)
        }
        Err(e) => refused(&signed_in, e),
    }
}

#[derive(Template)]
#[template(path = "console/goods.html")]
struct GoodsPage {
    t: &'static Texts,
    me: Option<Me>,
    notice: Option<&'static str>,
    code: String,
    name: String,
    brand: String,
    sale_price: String,
    state: &'static str,
    on_sale: bool,
    /// (grade, price, rate) of each grade.
    prices: Vec<(&'static str, String, i64)>,
    may_change: bool,
    csrf_token: String,
}

#[derive(serde::Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn goods_page(State(state): State<AppState>, signed_in: SignedIn, Path(code): Path<String>, Query(query): Query<DoneQuery>) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    let t = signed_in.texts;
    let g: Goods = match console_catalog::goods_detail(state.store.as_ref(), &code).await {
        Ok(g) => g,
        Err(e) => return refused(&signed_in, e),
    };
    let view = GoodsPage {
        t,
        me: Some(Me::of(&signed_in)),
        notice: query.done.is_some().then_some(t.goods_changed),
        code: g.goods_code.to_string(),
        name: g.goods_name.clone(),
        brand: format!("{} ({})", g.brand_name, g.brand_code),
        sale_price: won(g.sale_price.get()),
        state: state_name(t, g.state),
        on_sale: g.state == GoodsState::Sale,
        prices: Grade::ALL.iter().map(|&grade| (grade.as_str(), won(g.prices.for_grade(grade).price.get()), g.prices.for_grade(grade).rate)).collect(),
        // A withdrawn goods stays as it is: its coupons point at it.
        may_change: signed_in.operator.role.may(Capability::Catalog) && g.is_listed(),
        csrf_token: signed_in.token.csrf_token(),
    };
    page(StatusCode::OK, &view)
}

fn back_to_goods(code: &str, posted: &Posted, result: Result<(), crate::usecases::console_accounts::ConsoleError>) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/console/catalog/goods/{code}?done=1")).into_response(),
        Err(e) => refused(&posted.signed_in, e),
    }
}

async fn set_state(State(state): State<AppState>, Path(code): Path<String>, posted: Posted) -> Response {
    let actor = posted.actor(state.clock.now_ms());
    let result = console_catalog::set_state(state.store.as_ref(), &actor, &code, posted.field("state"), posted.field("reason")).await;
    back_to_goods(&code, &posted, result)
}

async fn set_price(State(state): State<AppState>, Path(code): Path<String>, posted: Posted) -> Response {
    let actor = posted.actor(state.clock.now_ms());
    let (grade, price, reason) = (posted.field("grade"), posted.field("price"), posted.field("reason"));
    let result = console_catalog::set_grade_price(state.store.as_ref(), &actor, &code, grade, price, reason).await;
    back_to_goods(&code, &posted, result)
}

#[derive(Template)]
#[template(path = "console/catalog_import.html")]
struct ImportPage {
    t: &'static Texts,
    me: Option<Me>,
    csrf_token: String,
    text: String,
    preview: Option<PreviewView>,
}

struct PreviewView {
    nothing: bool,
    new_brands: Vec<(String, String)>,
    changed_brands: Vec<(String, String)>,
    new_goods: Vec<giftbiz_core::catalog_import::GoodsChange>,
    changed_goods: Vec<giftbiz_core::catalog_import::GoodsChange>,
    unchanged: usize,
}

impl From<ImportPreview> for PreviewView {
    fn from(p: ImportPreview) -> PreviewView {
        PreviewView {
            nothing: p.is_empty(),
            new_brands: p.new_brands,
            changed_brands: p.changed_brands,
            new_goods: p.new_goods,
            changed_goods: p.changed_goods,
            unchanged: p.unchanged,
        }
    }
}

async fn import_page(signed_in: SignedIn) -> Response {
    if let Err(r) = signed_in.require(Capability::Catalog) {
        return r.into_response();
    }
    let view = ImportPage { t: signed_in.texts, me: Some(Me::of(&signed_in)), csrf_token: signed_in.token.csrf_token(), text: String::new(), preview: None };
    page(StatusCode::OK, &view)
}

async fn preview(State(state): State<AppState>, posted: Posted<MAX_IMPORT_BYTES>) -> Response {
    let actor = posted.actor(state.clock.now_ms());
    let text = posted.field("catalog");
    match console_catalog::preview_import(state.store.as_ref(), &actor, text).await {
        Ok(p) => {
            let s = &posted.signed_in;
            let view = ImportPage { t: s.texts, me: Some(Me::of(s)), csrf_token: s.token.csrf_token(), text: text.to_owned(), preview: Some(p.into()) };
            page(StatusCode::OK, &view)
        }
        Err(e) => refused(&posted.signed_in, e),
    }
}

async fn import(State(state): State<AppState>, posted: Posted<MAX_IMPORT_BYTES>) -> Response {
    let actor = posted.actor(state.clock.now_ms());
    match console_catalog::import(state.store.as_ref(), &actor, posted.field("catalog"), posted.field("reason")).await {
        Ok(_) => Redirect::to("/console/catalog?done=imported").into_response(),
        Err(e) => refused(&posted.signed_in, e),
    }
}
