//! Sends on PostgreSQL: one round trip to the `giftbiz_issue_coupon` function (migrations
//! 0004, 0006, 0008), which claims the tr_id, creates the coupon and its message and charges the
//! balance as one transaction on the server, behind a per-account admission gate.

use giftbiz_core::coupon::{order_date, Coupon, IssueError, NewCoupon, OrderNo, PinStatus};
use giftbiz_core::pin_vault::ProtectedPin;
use giftbiz_core::{AccountId, StoreError};
use giftbiz_store_sql::backend;
use sqlx::PgPool;

/// Sends of one account take turns on its balance row, each holding it until its commit is
/// durable; a send waiting for the row holds a connection and a backend, and when the row is
/// released every waiter wakes to compete for it again. With 16 sends of one account in flight
/// that contention, not the work, was most of the database's time. So at most
/// [`SEND_GATE_PERMITS`] sends per account run in the database at once (enough for the next
/// ones to have done their inserts by the time the row is free); the rest queue here, in
/// arrival order, holding nothing. Accounts map onto a fixed set of gates; two accounts that
/// share one only share its permits. Other servers on the same database are not counted.
#[derive(Debug)]
pub(crate) struct SendGates {
    gates: Vec<tokio::sync::Semaphore>,
}

const SEND_GATES: usize = 64;
const SEND_GATE_PERMITS: usize = 3;

impl SendGates {
    pub(crate) fn new() -> SendGates {
        SendGates { gates: (0..SEND_GATES).map(|_| tokio::sync::Semaphore::new(SEND_GATE_PERMITS)).collect() }
    }

    async fn enter(&self, account_id: AccountId) -> tokio::sync::SemaphorePermit<'_> {
        let gate = &self.gates[account_id.get().rem_euclid(SEND_GATES as i64) as usize];
        gate.acquire().await.expect("send gates are never closed")
    }
}

/// The function's refusal for want of bizmoney (raised so the whole send rolls back).
fn is_insufficient(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("P0001")
        && db.message().contains("insufficient bizmoney"))
}

/// The unique constraints (named in the migration) whose violation means "PIN taken".
fn is_pin_taken(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db)
        if matches!(db.constraint(), Some("coupons_pin_key" | "coupons_image_token_key")))
}

/// One round trip: the `giftbiz_issue_coupon` function (migrations 0004, 0006, 0008, 0019) runs the send's
/// statements as one transaction on the server.
pub(crate) async fn issue(pool: &PgPool, gates: &SendGates, new: &NewCoupon, pin: &ProtectedPin) -> Result<Coupon, IssueError> {
    let delivery = new.initial_delivery();
    let _turn = gates.enter(new.account_id).await;
    let row: (String, Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT * FROM giftbiz_issue_coupon($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
             $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
    )
    .bind(new.account_id.get())
    .bind(new.tr_id.as_str())
    .bind(pin.lookup.as_str())
    .bind(pin.sealed.as_str())
    .bind(&new.image_token)
    .bind(new.goods_code.as_str())
    .bind(&new.goods_name)
    .bind(new.brand_code.as_str())
    .bind(&new.brand_name)
    .bind(new.sale_price.get())
    .bind(new.price.get())
    .bind(new.gubun.code())
    .bind(new.phone_no.as_str())
    .bind(new.callback_no.as_str())
    .bind(&new.mms_title)
    .bind(&new.mms_msg)
    .bind(new.issued_at_ms)
    .bind(new.valid_until_ms)
    .bind(new.reserved_at_ms)
    .bind(order_date(new.issued_at_ms))
    .bind(PinStatus::Issued.code())
    .bind(delivery.code())
    .bind(new.request_id.as_ref().map(|r| r.as_str()))
    .fetch_one(pool)
    .await
    .map_err(|e| {
        if is_pin_taken(&e) {
            IssueError::PinTaken
        } else if is_insufficient(&e) {
            IssueError::InsufficientBizmoney
        } else {
            IssueError::Store(backend(e))
        }
    })?;
    let (id, order_no) = match row {
        (outcome, Some(id), Some(order_no)) if outcome == "issued" => (id, order_no),
        (outcome, ..) if outcome == "duplicate" => return Err(IssueError::DuplicateTrId),
        (outcome, ..) => return Err(IssueError::Store(StoreError::Corrupt(format!("issue outcome {outcome:?}")))),
    };
    Ok(new.issued(id, OrderNo::from_stored(order_no)))
}
