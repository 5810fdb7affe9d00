//! The money rules, checked over a whole database: what `giftbiz check` reports, and what the
//! fault tests and a restored backup must pass. Read-only.
//!
//! For every account: the balance is the sum of its ledger, every running balance is the sum
//! so far and never negative; every send's charge has its coupon, at the charged price, and the
//! account has no coupon beyond those charges; a tr_id is charged at most once and refunded at
//! most once, a refund matches its charge (a cancel's coupon is cancelled, a sendFail refund's
//! tr_id has a charge).

use std::collections::HashMap;

use giftbiz_core::coupon::{CouponCharge, LedgerReason, PinStatus};
use giftbiz_core::{Store, StoreError, Won};

/// What a check found.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub accounts: u64,
    pub ledger_entries: u64,
    pub coupons: u64,
    /// Sends charged, and of them refunded (by 0202 or 0205).
    pub charges: u64,
    pub refunds: u64,
    /// Each broken rule, with the account and tr_id it concerns.
    pub violations: Vec<String>,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }
}

pub async fn check(store: &dyn Store) -> Result<Report, StoreError> {
    let mut report = Report::default();
    for account in store.list_accounts().await? {
        report.accounts += 1;
        let who = account.user_id.to_string();
        let mut bad = |what: String| report_violation(&mut report.violations, &who, what);
        let ledger = store.ledger(account.id).await?;
        let mut sum = Won::ZERO;
        let mut charged: HashMap<String, Won> = HashMap::new();
        let mut refunded: HashMap<String, (LedgerReason, Won)> = HashMap::new();
        for e in &ledger {
            sum = sum + e.amount;
            if e.balance_after != sum || e.balance_after < Won::ZERO {
                bad(format!("ledger entry {}: balance_after {} where the running sum is {}", e.id, e.balance_after.get(), sum.get()));
            }
            let tr_id = e.tr_id.clone().unwrap_or_default();
            match e.reason {
                LedgerReason::Send => {
                    if charged.insert(tr_id.clone(), -e.amount).is_some() {
                        bad(format!("tr_id {tr_id:?} charged twice"));
                    }
                }
                LedgerReason::CancelRefund | LedgerReason::SendFailRefund => {
                    if refunded.insert(tr_id.clone(), (e.reason, e.amount)).is_some() {
                        bad(format!("tr_id {tr_id:?} refunded twice"));
                    }
                }
                LedgerReason::Charge | LedgerReason::Adjustment => {}
            }
        }
        report.ledger_entries += ledger.len() as u64;
        let balance = store.bizmoney_balance(account.id).await?;
        if balance != sum {
            bad(format!("balance {} is not the ledger's sum {}", balance.get(), sum.get()));
        }
        let coupons: HashMap<String, CouponCharge> =
            store.coupon_charges(account.id).await?.into_iter().map(|c| (c.tr_id.clone(), c)).collect();
        for (tr_id, price) in &charged {
            match coupons.get(tr_id) {
                None => bad(format!("tr_id {tr_id:?} charged {} without a coupon", price.get())),
                Some(c) if c.price != *price => {
                    bad(format!("tr_id {tr_id:?} charged {} for a coupon of {}", price.get(), c.price.get()))
                }
                Some(c) => {
                    if let Some((LedgerReason::CancelRefund, _)) = refunded.get(tr_id) {
                        if c.status != PinStatus::Cancelled {
                            bad(format!("tr_id {tr_id:?} refunded by a cancel but its coupon is {}", c.status.code()));
                        }
                    }
                }
            }
        }
        for (tr_id, (_, amount)) in &refunded {
            match charged.get(tr_id) {
                Some(price) if price == amount => {}
                Some(price) => bad(format!("tr_id {tr_id:?} refunded {} of a charge of {}", amount.get(), price.get())),
                None => bad(format!("tr_id {tr_id:?} refunded without a charge")),
            }
        }
        if coupons.len() != charged.len() {
            bad(format!("{} coupons for {} charged sends", coupons.len(), charged.len()));
        }
        report.coupons += coupons.len() as u64;
        report.charges += charged.len() as u64;
        report.refunds += refunded.len() as u64;
    }
    Ok(report)
}

fn report_violation(violations: &mut Vec<String>, who: &str, what: String) {
    violations.push(format!("account {who}: {what}"));
}
