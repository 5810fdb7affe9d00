//! `/console/accounts`: the accounts list and search, an account's page (grade, status,
//! balance, ledger), and its actions: charge bizmoney, suspend, reactivate.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use giftbiz_core::console::Capability;

use super::audit::{csv_field, csv_response};
use super::pages::{kst, page, won, ErrorPage, Me};
use super::session::{Posted, SignedIn};
use super::texts::Texts;
use crate::http::AppState;
use crate::usecases::console_accounts::{self, ConsoleError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/accounts", get(list).post(create))
        .route("/console/accounts/{user_id}/rotate-token", post(rotate_token))
        .route("/console/accounts/{user_id}", get(detail))
        .route("/console/accounts/{user_id}/ledger.csv", get(ledger_csv))
        .route("/console/accounts/{user_id}/bizmoney", post(bizmoney))
        .route("/console/accounts/{user_id}/suspend", post(suspend))
        .route("/console/accounts/{user_id}/reactivate", post(reactivate))
}

pub struct Row {
    pub user_id: String,
    pub grade: String,
    pub status: &'static str,
    pub balance: String,
}

#[derive(Template)]
#[template(path = "console/accounts.html")]
struct ListPage {
    t: &'static Texts,
    me: Option<Me>,
    q: String,
    accounts: Vec<Row>,
    may_create: bool,
    csrf_token: String,
}

/// A new account's or a rotated token's credentials, shown this once.
#[derive(Template)]
#[template(path = "console/credentials.html")]
struct CredentialsPage {
    t: &'static Texts,
    me: Option<Me>,
    user_id: String,
    auth_code: String,
    token: String,
}

pub struct LedgerLine {
    pub when: String,
    pub reason: &'static str,
    pub tr_id: String,
    pub amount: String,
    pub balance_after: String,
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct DetailPage {
    t: &'static Texts,
    me: Option<Me>,
    notice: Option<&'static str>,
    user_id: String,
    grade: String,
    status: &'static str,
    suspended: bool,
    balance: String,
    may_charge: bool,
    may_suspend: bool,
    csrf_token: String,
    ledger: Vec<LedgerLine>,
}

#[derive(serde::Deserialize)]
struct ListQuery {
    q: Option<String>,
}

#[derive(serde::Deserialize)]
struct DetailQuery {
    done: Option<String>,
}

/// The page of a refusal or failure.
pub(super) fn refused(signed_in: &SignedIn, e: ConsoleError) -> Response {
    let t = signed_in.texts;
    match e {
        ConsoleError::Forbidden => ErrorPage::forbidden(signed_in).into_response(),
        ConsoleError::NoSuchAccount => ErrorPage::for_operator(signed_in, StatusCode::NOT_FOUND, t.no_account).into_response(),
        ConsoleError::NotFound(why) => ErrorPage::for_operator(signed_in, StatusCode::NOT_FOUND, why).into_response(),
        ConsoleError::Invalid(why) => ErrorPage::for_operator(signed_in, StatusCode::BAD_REQUEST, why).into_response(),
        ConsoleError::BadInput(why) => ErrorPage::for_operator(signed_in, StatusCode::BAD_REQUEST, why).into_response(),
        ConsoleError::Refused(_) => ErrorPage::for_operator(signed_in, StatusCode::CONFLICT, t.not_possible).into_response(),
        ConsoleError::Store(e) => ErrorPage::failed(t, e).into_response(),
        ConsoleError::Failed(e) => ErrorPage::failed(t, e).into_response(),
    }
}

async fn list(State(state): State<AppState>, signed_in: SignedIn, Query(query): Query<ListQuery>) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    let t = signed_in.texts;
    match console_accounts::list(state.store.as_ref(), query.q.as_deref()).await {
        Ok(accounts) => {
            let accounts = accounts
                .into_iter()
                .map(|a| Row {
                    user_id: a.account.user_id.to_string(),
                    grade: a.account.grade.to_string(),
                    status: if a.account.is_suspended() { t.suspended } else { t.active },
                    balance: won(a.balance.get()),
                })
                .collect();
            let view = ListPage {
                t,
                me: Some(Me::of(&signed_in)),
                q: query.q.unwrap_or_default(),
                accounts,
                may_create: signed_in.operator.role.may(Capability::Accounts),
                csrf_token: signed_in.token.csrf_token(),
            };
            page(StatusCode::OK, &view)
        }
        Err(e) => refused(&signed_in, e),
    }
}

async fn detail(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(user_id): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    let t = signed_in.texts;
    let detail = match console_accounts::detail(state.store.as_ref(), &user_id, 50).await {
        Ok(d) => d,
        Err(e) => return refused(&signed_in, e),
    };
    let notice = match query.done.as_deref() {
        Some("charged") => Some(t.charged),
        Some("status") => Some(t.status_changed),
        Some("adjusted") => Some(t.adjusted),
        Some("pending") => Some(t.awaiting_approval),
        _ => None,
    };
    let role = signed_in.operator.role;
    let a = &detail.account;
    let ledger = detail
        .ledger
        .iter()
        .map(|e| LedgerLine {
            when: kst(e.created_at_ms),
            reason: e.reason.code(),
            tr_id: e.tr_id.clone().unwrap_or_default(),
            amount: won(e.amount.get()),
            balance_after: won(e.balance_after.get()),
        })
        .collect();
    let view = DetailPage {
        t,
        me: Some(Me::of(&signed_in)),
        notice,
        user_id: a.user_id.to_string(),
        grade: a.grade.to_string(),
        status: if a.is_suspended() { t.suspended } else { t.active },
        suspended: a.is_suspended(),
        balance: won(detail.balance.get()),
        may_charge: role.may(Capability::Bizmoney),
        may_suspend: role.may(Capability::Accounts),
        csrf_token: signed_in.token.csrf_token(),
        ledger,
    };
    page(StatusCode::OK, &view)
}

fn credentials(signed_in: &SignedIn, issued: crate::operator::IssuedAccount) -> Response {
    let view = CredentialsPage {
        t: signed_in.texts,
        me: Some(Me::of(signed_in)),
        user_id: issued.account.user_id.to_string(),
        auth_code: issued.account.auth_code.clone(),
        token: issued.token.expose().to_owned(),
    };
    page(StatusCode::OK, &view)
}

async fn create(State(state): State<AppState>, posted: Posted) -> Response {
    let actor = posted.actor(state.clock.now_ms());
    let grade = Some(posted.field("grade")).filter(|g| !g.is_empty()).unwrap_or("basic");
    match console_accounts::create(state.store.as_ref(), &actor, posted.field("user_id"), grade).await {
        Ok(issued) => credentials(&posted.signed_in, issued),
        Err(e) => refused(&posted.signed_in, e),
    }
}

async fn rotate_token(State(state): State<AppState>, Path(user_id): Path<String>, posted: Posted) -> Response {
    let actor = posted.actor(state.clock.now_ms());
    match console_accounts::rotate_token(state.store.as_ref(), &actor, &user_id, posted.field("reason")).await {
        Ok(issued) => credentials(&posted.signed_in, issued),
        Err(e) => refused(&posted.signed_in, e),
    }
}

/// The whole ledger statement, oldest first, as CSV (finance's reconciliation).
async fn ledger_csv(State(state): State<AppState>, signed_in: SignedIn, Path(user_id): Path<String>) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    let (account, ledger) = match console_accounts::statement(state.store.as_ref(), &user_id).await {
        Ok(d) => d,
        Err(e) => return refused(&signed_in, e),
    };
    let mut out = String::from("id,at_kst,reason,tr_id,amount,balance_after,memo\r\n");
    for e in &ledger {
        let fields = [e.id.to_string(), kst(e.created_at_ms), e.reason.code().to_owned(), e.tr_id.clone().unwrap_or_default(), e.amount.get().to_string(), e.balance_after.get().to_string(), e.memo.clone()];
        out.push_str(&fields.map(|f| csv_field(&f)).join(","));
        out.push_str("\r\n");
    }
    csv_response(&format!("giftbiz-ledger-{}.csv", account.user_id), out)
}

/// Back to the account's page with a notice, or the refusal's page.
fn done(posted: &Posted, user_id: &str, result: Result<&'static str, ConsoleError>) -> Response {
    match result {
        Ok(done) => Redirect::to(&format!("/console/accounts/{user_id}?done={done}")).into_response(),
        Err(e) => refused(&posted.signed_in, e),
    }
}

async fn bizmoney(State(state): State<AppState>, Path(user_id): Path<String>, posted: Posted) -> Response {
    let actor = posted.actor(state.clock.now_ms());
    let (amount, reason) = (posted.field("amount"), posted.field("reason"));
    let result = match Some(posted.field("kind")).filter(|k| !k.is_empty()).unwrap_or("charge") {
        "charge" => console_accounts::charge(state.store.as_ref(), &actor, &user_id, amount, reason).await.map(|_| "charged"),
        "adjust" => {
            let threshold = state.settings.console_four_eyes_won;
            console_accounts::adjust(state.store.as_ref(), &actor, &user_id, amount, reason, threshold).await.map(|a| match a {
                console_accounts::Adjusted::Applied(_) => "adjusted",
                console_accounts::Adjusted::Pending(_) => "pending",
            })
        }
        _ => Err(ConsoleError::Invalid("kind is charge or adjust")),
    };
    done(&posted, &user_id, result)
}

async fn set_suspended(state: &AppState, user_id: &str, posted: &Posted, suspended: bool) -> Response {
    let actor = posted.actor(state.clock.now_ms());
    let result = console_accounts::set_suspended(state.store.as_ref(), &actor, user_id, suspended, posted.field("reason")).await;
    done(posted, user_id, result.map(|()| "status"))
}

async fn suspend(State(state): State<AppState>, Path(user_id): Path<String>, posted: Posted) -> Response {
    set_suspended(&state, &user_id, &posted, true).await
}

async fn reactivate(State(state): State<AppState>, Path(user_id): Path<String>, posted: Posted) -> Response {
    set_suspended(&state, &user_id, &posted, false).await
}
