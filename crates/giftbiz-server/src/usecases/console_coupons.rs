//! What the console does with coupons for support: find them (by tr_id, order number or the
//! phone's last four digits in a search link; by a PIN only in a posted form) and cancel one
//! through the same use case as 0202, with the reason in the audit log. A PIN is never shown
//! whole: the console shows its last four.

use std::collections::HashMap;

use giftbiz_core::console::{AuditEvent, AuditFilter, Capability};
use giftbiz_core::coupon::{Coupon, CouponSearch, PinStatus};
use giftbiz_core::send::{Pin, TrId};
use giftbiz_core::{AccountId, Store, StoreError, UserId};

use super::console_accounts::{Actor, ConsoleError};
use super::{coupons, Caller, Failure};

/// Coupons shown at most per search.
const LIMIT: u32 = 50;

/// A found coupon with its account's user id.
pub struct Found {
    pub coupon: Coupon,
    pub user_id: UserId,
}

/// The coupons `q` names, newest first: 4 digits are tried as the phone's last four, 14 or
/// more digits as an order number, and any `q` that can be a tr_id as one too. PINs are not
/// searched here (a search is a URL, and a PIN never goes into one): see [`by_pin`].
pub async fn search(store: &dyn Store, q: &str) -> Result<Vec<Found>, ConsoleError> {
    let q = q.trim();
    let digits = !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit());
    let mut coupons: Vec<Coupon> = Vec::new();
    if digits && q.len() == 4 {
        coupons.extend(store.find_coupons(&CouponSearch::PhoneLast4(q.to_owned()), LIMIT).await?);
    }
    if digits && q.len() >= 14 {
        coupons.extend(store.find_coupons(&CouponSearch::OrderNo(q.to_owned()), LIMIT).await?);
    }
    if let Ok(tr_id) = TrId::parse(q, TrId::SPEC_MAX_LEN) {
        coupons.extend(store.find_coupons(&CouponSearch::TrId(tr_id), LIMIT).await?);
    }
    with_owners(store, coupons).await
}

/// The coupon with this PIN (posted, never in a URL), if any.
pub async fn by_pin(store: &dyn Store, pin: &str) -> Result<Vec<Found>, ConsoleError> {
    let pin = pin.trim();
    if pin.len() != 12 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConsoleError::Invalid("a PIN is 12 digits"));
    }
    let coupons = store.coupon_by_pin(&Pin::new(pin.to_owned())).await?.into_iter().collect();
    with_owners(store, coupons).await
}

async fn with_owners(store: &dyn Store, mut coupons: Vec<Coupon>) -> Result<Vec<Found>, ConsoleError> {
    coupons.sort_by_key(|c| std::cmp::Reverse(c.id));
    coupons.dedup_by_key(|c| c.id);
    let owners = owners(store, coupons.iter().map(|c| c.new.account_id).collect()).await?;
    Ok(coupons
        .into_iter()
        .filter_map(|coupon| owners.get(&coupon.new.account_id).cloned().map(|user_id| Found { coupon, user_id }))
        .collect())
}

/// The user ids of these accounts (each read once).
pub async fn owners(store: &dyn Store, ids: Vec<AccountId>) -> Result<HashMap<AccountId, UserId>, StoreError> {
    let mut owners = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(slot) = owners.entry(id) {
            if let Some(account) = store.account_by_id(id).await? {
                slot.insert(account.user_id);
            }
        }
    }
    Ok(owners)
}

/// One moment of a coupon's life: when, what, and who (an operator, a partner, the platform).
pub struct TimelineEvent {
    pub at_ms: i64,
    pub what: String,
    pub who: String,
}

/// The coupon's life in order: issued; each message queued and where it stands; the partner
/// API's redemptions; the console's cancels and resends (by whom); a cancel or expiry that no
/// operator made (the API's, the expiry job's).
pub async fn timeline(store: &dyn Store, coupon: &Coupon) -> Result<Vec<TimelineEvent>, ConsoleError> {
    let mut events = vec![TimelineEvent { at_ms: coupon.new.issued_at_ms, what: "issued (01)".into(), who: "API 0204".into() }];
    for m in store.messages_of_coupon(coupon.id).await? {
        let mut what = format!("{} message: {} after {} attempt(s)", m.kind, m.state, m.attempts);
        if let Some(error) = m.last_error.filter(|e| !e.is_empty()) {
            what.push_str(&format!(" ({error})"));
        }
        events.push(TimelineEvent { at_ms: m.created_at_ms, what, who: "delivery".into() });
    }
    for (partner, r) in store.redemptions_of_coupon(coupon.id).await? {
        let what = format!("partner {}: {}", r.entry.action.code(), r.entry.outcome.code());
        events.push(TimelineEvent { at_ms: r.entry.at_ms, what, who: partner });
    }
    let operated = store.audit_log(&AuditFilter::target(format!("coupon:{}", coupon.order_no)), None, 100).await?;
    let cancelled_by_operator = operated.iter().any(|e| e.action == "coupon.cancel");
    for e in operated {
        let what = if e.reason.is_empty() { e.action } else { format!("{}: {}", e.action, e.reason) };
        events.push(TimelineEvent { at_ms: e.at_ms, what, who: e.operator_name });
    }
    match coupon.status {
        PinStatus::Cancelled if !cancelled_by_operator => {
            events.push(TimelineEvent { at_ms: coupon.status_changed_at_ms, what: "cancelled (07)".into(), who: "API 0202".into() });
        }
        PinStatus::Expired => {
            events.push(TimelineEvent { at_ms: coupon.status_changed_at_ms, what: "expired (08)".into(), who: "expiry".into() });
        }
        _ => {}
    }
    events.sort_by_key(|e| e.at_ms);
    Ok(events)
}

/// A PIN as the console shows it: its last four digits.
pub fn masked_pin(pin: &Pin) -> String {
    let digits = pin.expose();
    let tail = digits.get(digits.len().saturating_sub(4)..).unwrap_or("");
    format!("{}{tail}", "*".repeat(digits.len().saturating_sub(4)))
}

/// Queues the coupon's MMS again (0203's use case and rules), audited: support's resend, and
/// the deliveries page's retry of a failed message.
pub async fn resend(store: &dyn Store, actor: &Actor<'_>, order_no: &str) -> Result<(), ConsoleError> {
    if !actor.operator.role.may(Capability::Coupons) {
        return Err(ConsoleError::Forbidden);
    }
    let (coupon, caller) = coupon_and_caller(store, order_no).await?;
    match coupons::resend(store, &caller, &coupon.new.tr_id, giftbiz_core::delivery::MessageKind::Mms, actor.now_ms, actor.request_id).await {
        Ok(()) => {}
        Err(Failure::Refused(refusal)) => return Err(ConsoleError::Refused(refusal)),
        Err(Failure::Store(e)) => return Err(e.into()),
        Err(Failure::Internal(what)) => return Err(ConsoleError::Failed(what.to_owned())),
    }
    let event = AuditEvent {
        at_ms: actor.now_ms,
        operator_id: actor.operator.id,
        operator_name: actor.operator.username.clone(),
        action: "coupon.resend",
        target: format!("coupon:{}", coupon.order_no),
        before: None,
        after: None,
        reason: String::new(),
        source: actor.source.to_owned(),
    };
    Ok(store.append_audit(&event).await?)
}

/// The coupon with this order number and its account as the API's caller.
async fn coupon_and_caller(store: &dyn Store, order_no: &str) -> Result<(Coupon, Caller), ConsoleError> {
    let found = store.find_coupons(&CouponSearch::OrderNo(order_no.trim().to_owned()), 1).await?;
    let coupon = found.into_iter().next().ok_or(ConsoleError::Invalid("no coupon has that order number"))?;
    let account = store.account_by_id(coupon.new.account_id).await?.ok_or(ConsoleError::Invalid("the coupon's account is gone"))?;
    Ok((coupon, Caller { account, catalog_revision: 0 }))
}

/// Cancels and refunds the coupon with this order number (0202's rules: unused, within its
/// window), audited with the reason.
pub async fn cancel(store: &dyn Store, actor: &Actor<'_>, order_no: &str, reason: &str) -> Result<Coupon, ConsoleError> {
    if !actor.operator.role.may(Capability::Coupons) {
        return Err(ConsoleError::Forbidden);
    }
    let reason = super::console_accounts::reason_of(reason)?;
    let (coupon, caller) = coupon_and_caller(store, order_no).await?;
    let cancelled = match coupons::cancel(store, &caller, &coupon.new.tr_id, actor.now_ms).await {
        Ok(c) => c,
        Err(Failure::Refused(refusal)) => return Err(ConsoleError::Refused(refusal)),
        Err(Failure::Store(e)) => return Err(e.into()),
        Err(Failure::Internal(what)) => return Err(ConsoleError::Failed(what.to_owned())),
    };
    let state = |status: &str| Some(serde_json::json!({ "status": status, "price": coupon.new.price.get() }).to_string());
    let event = AuditEvent {
        at_ms: actor.now_ms,
        operator_id: actor.operator.id,
        operator_name: actor.operator.username.clone(),
        action: "coupon.cancel",
        target: format!("coupon:{}", coupon.order_no),
        before: state(coupon.status.code()),
        after: state(cancelled.status.code()),
        reason,
        source: actor.source.to_owned(),
    };
    store.append_audit(&event).await?;
    Ok(cancelled)
}
