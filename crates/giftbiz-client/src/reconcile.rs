//! Reconcile (feature `journal`): settles the journal's pending sends, then compares every
//! entry with the service's own view (0201) and the balance (0301) with what the journal's
//! sends explain.

use serde::Serialize;

use crate::client::Client;
use crate::error::Error;
use crate::journal::{BalanceCheck, Journal, JournalEntry};
use crate::safe_send::ChasePolicy;
use crate::ResultCode;

/// PIN statuses (0201 `pinStatusCd`) after which the charge was given back: 03 반품, 05 환불,
/// 07 구매취소(폐기).
const REFUNDED_PIN_STATUSES: [&str; 3] = ["03", "05", "07"];

/// A coupon can be cancelled for 7 days after issue, so only a send of the last 8 days can
/// still drift; older ones are checked once, for their price.
const DRIFT_WINDOW_MS: i64 = 8 * 86_400_000;

/// A send the journal and the service disagree about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CouponDrift {
    pub tr_id: String,
    /// The journal's state.
    pub journal: String,
    /// What 0201 says: the PIN status (`07 구매취소(폐기)`) or `unknown tr_id`.
    pub service: String,
}

/// What a reconcile did and found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReconcileReport {
    /// Pending sends it settled, with their new state.
    pub settled: Vec<(String, String)>,
    /// Pending sends it could not settle (service unreachable), with the reason.
    pub still_pending: Vec<(String, String)>,
    /// Entries whose state the service contradicts.
    pub coupon_drift: Vec<CouponDrift>,
    /// Entries compared with 0201 (those of the last 8 days, and older charged ones whose
    /// price is not known yet).
    pub checked: usize,
    /// The 0301 balance now.
    pub balance: i64,
    /// What the journal's charged sends cost in all (0201 `sellPriceAmt`).
    pub journal_spent: i64,
    /// The previous reconcile's balance check; `None` the first time.
    pub previous: Option<BalanceCheck>,
    /// How much more the balance fell since the previous reconcile than the journal's sends
    /// explain (negative: it fell less, e.g. a charge by the operator). `None` the first time.
    pub balance_drift: Option<i64>,
}

impl ReconcileReport {
    /// Nothing contradicts the journal (balance drift aside: charges and other senders on the
    /// same account explain it).
    pub fn is_consistent(&self) -> bool {
        self.coupon_drift.is_empty() && self.still_pending.is_empty()
    }
}

impl Client {
    /// Settles the journal's pending sends (as [`Client::settle`] does: a send whose answer
    /// the caller never saw is cancelled), then compares each entry with 0201 and the 0301
    /// balance with the previous reconcile's, and records this balance check.
    pub async fn reconcile(&self, journal: &Journal, policy: &ChasePolicy) -> Result<ReconcileReport, Error> {
        let mut report = ReconcileReport::default();
        for entry in journal.unsettled()? {
            match self.settle(&entry.tr_id, policy).await {
                Ok(outcome) => {
                    journal.record_outcome(&entry.tr_id, &outcome)?;
                    report.settled.push((entry.tr_id, outcome.state().to_owned()));
                }
                Err(e @ Error::Unsettled { .. }) => {
                    journal.record_unsettled(&entry.tr_id, &e)?;
                    report.still_pending.push((entry.tr_id, e.to_string()));
                }
                Err(e) => return Err(e),
            }
        }
        let window_start = crate::now_ms() - DRIFT_WINDOW_MS;
        for entry in journal.entries()? {
            let mut price = entry.price;
            let settled_long_ago = entry.created_ms < window_start && (price.is_some() || !entry.charged());
            if entry.state != crate::journal::PENDING && !settled_long_ago {
                report.checked += 1;
                let coupons = match self.coupon_detail(&entry.tr_id).await {
                    Ok(list) => list,
                    Err(e) if e.is(ResultCode::TrIdNotFound) => Vec::new(),
                    Err(e) => return Err(e),
                };
                let service = coupons.first().map(|c| {
                    let status = c.pin_status_cd.clone().unwrap_or_default();
                    (status, c.pin_status_nm.clone().unwrap_or_default())
                });
                let reported = coupons.first().and_then(|c| c.sell_price_amt.as_deref()?.trim().parse::<i64>().ok());
                if let Some(p) = reported.filter(|&p| Some(p) != price) {
                    journal.set_price(&entry.tr_id, p)?;
                    price = Some(p);
                }
                if let Some(drift) = drift(&entry, service.as_ref().map(|(code, name)| (code.as_str(), name.as_str()))) {
                    report.coupon_drift.push(drift);
                }
            }
            if entry.charged() {
                report.journal_spent += price.unwrap_or(0);
            }
        }
        report.balance = self.bizmoney().await?;
        report.previous = journal.last_balance_check()?;
        report.balance_drift = report
            .previous
            .map(|p| (p.balance - report.balance) - (report.journal_spent - p.journal_spent));
        journal.record_balance_check(report.balance, report.journal_spent)?;
        Ok(report)
    }
}

/// Whether 0201's view (`None`: unknown tr_id) contradicts the journal's state.
fn drift(entry: &JournalEntry, service: Option<(&str, &str)>) -> Option<CouponDrift> {
    let refunded = service.is_some_and(|(code, _)| REFUNDED_PIN_STATUSES.contains(&code));
    let agrees = match entry.state.as_str() {
        _ if entry.charged() => service.is_some() && !refunded,
        "cancelled" => refunded,
        // A refusal for a duplicate tr_id: the coupon 0201 shows is the earlier send's.
        "not_issued" if entry.detail.as_deref().is_some_and(|d| d.starts_with("ERR0215")) => true,
        "not_issued" => service.is_none() || refunded,
        _ => true,
    };
    (!agrees).then(|| CouponDrift {
        tr_id: entry.tr_id.clone(),
        journal: entry.state.clone(),
        service: service.map_or_else(|| "unknown tr_id".to_owned(), |(code, name)| format!("{code} {name}")),
    })
}
