//! What the console does to accounts (구매사) for an operator: list, detail with the ledger,
//! suspend and reactivate, charge bizmoney. The same operator functions as the CLI's
//! (`crate::operator`), each action recorded in the audit log with its reason.

use std::collections::HashMap;

use giftbiz_core::console::{AuditEvent, Capability, Operator};
use giftbiz_core::coupon::{LedgerEntry, LedgerReason};
use giftbiz_core::{Account, RequestId, Store, StoreError, UserId, Won};

use crate::operator;

/// Who acts, from where, when.
pub struct Actor<'a> {
    pub operator: &'a Operator,
    pub source: &'a str,
    pub now_ms: i64,
    /// The console request's id, stored on a message the action queues.
    pub request_id: Option<&'a RequestId>,
}

/// Why the console refused an action (the page says which).
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("the operator's role may not do this")]
    Forbidden,
    #[error("no such account")]
    NoSuchAccount,
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Invalid(&'static str),
    /// Input refused with a message of its own (e.g. where a catalog dump is wrong).
    #[error("{0}")]
    BadInput(String),
    /// Refused by the API's own rule (e.g. a coupon already used).
    #[error(transparent)]
    Refused(#[from] super::Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Failed(String),
}

impl From<anyhow::Error> for ConsoleError {
    fn from(e: anyhow::Error) -> ConsoleError {
        match e.downcast::<StoreError>() {
            Ok(e) => ConsoleError::Store(e),
            Err(e) => ConsoleError::Failed(format!("{e:#}")),
        }
    }
}

pub(crate) fn require(actor: &Actor<'_>, what: Capability) -> Result<(), ConsoleError> {
    if actor.operator.role.may(what) {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden)
    }
}

/// An account as the list shows it.
pub struct AccountSummary {
    pub account: Account,
    pub balance: Won,
}

/// Accounts whose user id contains `q` (all without one), oldest first.
pub async fn list(store: &dyn Store, q: Option<&str>) -> Result<Vec<AccountSummary>, ConsoleError> {
    let q = q.map(str::trim).filter(|q| !q.is_empty()).map(str::to_ascii_lowercase);
    let balances: HashMap<_, _> = store.bizmoney_balances().await?.into_iter().collect();
    Ok(store
        .list_accounts()
        .await?
        .into_iter()
        .filter(|a| q.as_ref().is_none_or(|q| a.user_id.as_str().to_ascii_lowercase().contains(q.as_str())))
        .map(|account| AccountSummary { balance: balances.get(&account.id).copied().unwrap_or(Won::ZERO), account })
        .collect())
}

/// An account with its balance and its newest ledger entries (at most `entries`).
pub struct AccountDetail {
    pub account: Account,
    pub balance: Won,
    pub ledger: Vec<LedgerEntry>,
}

pub async fn detail(store: &dyn Store, user_id: &str, entries: u32) -> Result<AccountDetail, ConsoleError> {
    let account = find(store, user_id).await?;
    let balance = store.bizmoney_balance(account.id).await?;
    let ledger = store.ledger_page(account.id, None, entries).await?;
    Ok(AccountDetail { account, balance, ledger })
}

/// The account's whole ledger, oldest first (the statement's CSV).
pub async fn statement(store: &dyn Store, user_id: &str) -> Result<(Account, Vec<LedgerEntry>), ConsoleError> {
    let account = find(store, user_id).await?;
    let ledger = store.ledger(account.id).await?;
    Ok((account, ledger))
}

async fn find(store: &dyn Store, user_id: &str) -> Result<Account, ConsoleError> {
    let user_id = UserId::parse(user_id).map_err(|_| ConsoleError::NoSuchAccount)?;
    store.account_by_user_id(&user_id).await?.ok_or(ConsoleError::NoSuchAccount)
}

pub(crate) fn reason_of(reason: &str) -> Result<String, ConsoleError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ConsoleError::Invalid("a reason is required"));
    }
    if reason.chars().count() > 500 || reason.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ConsoleError::Invalid("the reason is at most 500 characters, without control characters"));
    }
    Ok(reason.to_owned())
}

/// Suspends (`true`) or reactivates an account, with the reason in the audit log.
pub async fn set_suspended(store: &dyn Store, actor: &Actor<'_>, user_id: &str, suspended: bool, reason: &str) -> Result<(), ConsoleError> {
    require(actor, Capability::Accounts)?;
    let reason = reason_of(reason)?;
    let account = find(store, user_id).await?;
    operator::set_suspended(store, &account.user_id, suspended).await?;
    let state = |s: bool| Some(serde_json::json!({ "suspended": s }).to_string());
    audit(store, actor, if suspended { "account.suspend" } else { "account.reactivate" }, &account, state(account.is_suspended()), state(suspended), reason)
        .await
}

/// Charges an account `amount` whole won (positive), straight to the ledger, audited.
pub async fn charge(store: &dyn Store, actor: &Actor<'_>, user_id: &str, amount: &str, reason: &str) -> Result<Won, ConsoleError> {
    require(actor, Capability::Bizmoney)?;
    let reason = reason_of(reason)?;
    let amount: i64 = amount.trim().replace(',', "").parse().map_err(|_| ConsoleError::Invalid("the amount is a whole number of won"))?;
    if amount <= 0 {
        return Err(ConsoleError::Invalid("a charge is a positive amount"));
    }
    let account = find(store, user_id).await?;
    let before = store.bizmoney_balance(account.id).await?;
    let memo = format!("console {}: {reason}", actor.operator.username);
    let after = operator::change_bizmoney(store, &account.user_id, Won::new(amount), LedgerReason::Charge, &memo).await?;
    let balance = |w: Won| Some(serde_json::json!({ "balance": w.get(), "amount": amount }).to_string());
    audit(store, actor, "bizmoney.charge", &account, balance(before), balance(after), reason).await?;
    Ok(after)
}

/// Creates an account (admin); its token is in the answer, shown once and stored hashed.
pub async fn create(store: &dyn Store, actor: &Actor<'_>, user_id: &str, grade: &str) -> Result<operator::IssuedAccount, ConsoleError> {
    require(actor, Capability::Accounts)?;
    let user_id = UserId::parse(user_id.trim()).map_err(|_| ConsoleError::Invalid("a user id is 1-50 letters, digits, '_', '-', '.' or '@'"))?;
    let grade: giftbiz_core::Grade = grade.parse().map_err(|_| ConsoleError::Invalid("the grade is basic, gold, vip or platinum"))?;
    let issued = match operator::create_account(store, &user_id, grade).await {
        Ok(issued) => issued,
        Err(e) if matches!(e.downcast_ref::<StoreError>(), Some(StoreError::UserIdTaken(_))) => {
            return Err(ConsoleError::Invalid("that user id is taken"));
        }
        Err(e) => return Err(e.into()),
    };
    let after = Some(serde_json::json!({ "grade": grade.as_str(), "auth_code": issued.account.auth_code }).to_string());
    audit(store, actor, "account.create", &issued.account, None, after, String::new()).await?;
    Ok(issued)
}

/// A new API token for the account (admin); the old one stops working at once.
pub async fn rotate_token(store: &dyn Store, actor: &Actor<'_>, user_id: &str, reason: &str) -> Result<operator::IssuedAccount, ConsoleError> {
    require(actor, Capability::Accounts)?;
    let reason = reason_of(reason)?;
    let account = find(store, user_id).await?;
    let issued = operator::rotate_token(store, &account.user_id).await?;
    audit(store, actor, "account.rotate_token", &account, None, None, reason).await?;
    Ok(issued)
}

/// What an adjustment did.
pub enum Adjusted {
    /// Applied to the ledger: the new balance.
    Applied(Won),
    /// Above the threshold: waits for a second operator (its id).
    Pending(i64),
}

/// A signed adjustment (finance, admin): at most `threshold` won either way goes straight to
/// the ledger (never below zero); a larger one waits for another operator's approval.
pub async fn adjust(
    store: &dyn Store,
    actor: &Actor<'_>,
    user_id: &str,
    amount: &str,
    reason: &str,
    threshold: i64,
) -> Result<Adjusted, ConsoleError> {
    require(actor, Capability::Bizmoney)?;
    let reason = reason_of(reason)?;
    let amount: i64 = amount.trim().replace(',', "").parse().map_err(|_| ConsoleError::Invalid("the amount is a whole number of won"))?;
    if amount == 0 {
        return Err(ConsoleError::Invalid("an adjustment is not zero"));
    }
    let account = find(store, user_id).await?;
    let before = store.bizmoney_balance(account.id).await?;
    if amount.unsigned_abs() > threshold.unsigned_abs() {
        let id = store.request_adjustment(account.id, Won::new(amount), &reason, actor.operator.id, actor.now_ms).await?;
        let after = Some(serde_json::json!({ "adjustment": id, "amount": amount, "state": "pending" }).to_string());
        audit(store, actor, "bizmoney.adjust.request", &account, None, after, reason).await?;
        return Ok(Adjusted::Pending(id));
    }
    let memo = format!("console {}: {reason}", actor.operator.username);
    let after = match operator::change_bizmoney(store, &account.user_id, Won::new(amount), LedgerReason::Adjustment, &memo).await {
        Ok(after) => after,
        Err(e) if matches!(e.downcast_ref::<giftbiz_core::coupon::BizmoneyError>(), Some(giftbiz_core::coupon::BizmoneyError::WouldGoNegative)) => {
            return Err(ConsoleError::Invalid("the adjustment would take the balance below zero"));
        }
        Err(e) => return Err(e.into()),
    };
    let balance = |w: Won| Some(serde_json::json!({ "balance": w.get(), "amount": amount }).to_string());
    audit(store, actor, "bizmoney.adjust", &account, balance(before), balance(after), reason).await?;
    Ok(Adjusted::Applied(after))
}

/// A second operator approves (or rejects) a pending adjustment; never its requester.
pub async fn decide(store: &dyn Store, actor: &Actor<'_>, id: i64, approve: bool, reason: &str) -> Result<Won, ConsoleError> {
    require(actor, Capability::ApproveAdjustment)?;
    let pending = store.pending_adjustments().await?.into_iter().find(|p| p.id == id);
    let pending = pending.ok_or(ConsoleError::Invalid("no pending adjustment has that id"))?;
    let account = find(store, &pending.user_id).await?;
    let balance = store.decide_adjustment(id, actor.operator.id, approve, actor.now_ms).await.map_err(|e| match e {
        giftbiz_core::console::DecideError::NotPending => ConsoleError::Invalid("no pending adjustment has that id"),
        giftbiz_core::console::DecideError::OwnRequest => ConsoleError::Forbidden,
        giftbiz_core::console::DecideError::WouldGoNegative => ConsoleError::Invalid("the adjustment would take the balance below zero"),
        giftbiz_core::console::DecideError::Store(e) => ConsoleError::Store(e),
    })?;
    let state = if approve { "approved" } else { "rejected" };
    let after = Some(serde_json::json!({ "adjustment": id, "amount": pending.amount, "state": state, "balance": balance.get() }).to_string());
    let action = if approve { "bizmoney.adjust.approve" } else { "bizmoney.adjust.reject" };
    audit(store, actor, action, &account, None, after, reason.trim().to_owned()).await?;
    Ok(balance)
}

async fn audit(
    store: &dyn Store,
    actor: &Actor<'_>,
    action: &'static str,
    account: &Account,
    before: Option<String>,
    after: Option<String>,
    reason: String,
) -> Result<(), ConsoleError> {
    record(store, actor, action, format!("account:{}", account.user_id), before, after, reason).await
}

/// Appends the operator's action on `target` (`account:…`, `goods:…`, `partner:…`) to the
/// audit log.
pub(crate) async fn record(
    store: &dyn Store,
    actor: &Actor<'_>,
    action: &'static str,
    target: String,
    before: Option<String>,
    after: Option<String>,
    reason: String,
) -> Result<(), ConsoleError> {
    let event = AuditEvent {
        at_ms: actor.now_ms,
        operator_id: actor.operator.id,
        operator_name: actor.operator.username.clone(),
        action,
        target,
        before,
        after,
        reason,
        source: actor.source.to_owned(),
    };
    Ok(store.append_audit(&event).await?)
}
