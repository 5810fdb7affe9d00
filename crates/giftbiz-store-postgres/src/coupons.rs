//! Bizmoney, the ledger and coupons (NOTES §5) on PostgreSQL.
//!
//! Each operation is one READ COMMITTED transaction whose statements are chosen so that
//! concurrent calls, from any number of servers, stay correct without retries:
//! - a tr_id is claimed with `INSERT ... ON CONFLICT DO NOTHING` on its primary key, which waits
//!   for a concurrent transaction that inserted the same key and then sees its outcome: of two
//!   sends, or a send and a cancel, of one tr_id, the second waits for the first to commit or
//!   roll back;
//! - money moves only through guarded `UPDATE ... WHERE balance ... RETURNING`, which re-checks
//!   the guard against the latest committed balance after waiting for the row lock (the
//!   balance's CHECK is the backstop);
//! - a cancel locks the coupon row before it reads the status it decides on.
//!
//! A send waits only on its tr_id, then its account; a cancel on its tr_id, its coupon, then its
//! account, which it locks last and keeps only to append its ledger entry: no cycle, so no
//! deadlock.

use giftbiz_core::coupon::{
    order_date, BizmoneyError, CancelError, CancelRefusal, Coupon, DeliveryStatus, IssueError,
    LedgerEntry, LedgerReason, NewCoupon, PinStatus, SendFailError,
};
use giftbiz_core::send::Gubun;
use giftbiz_core::StoreError;
use sqlx::PgConnection;

use crate::{backend, PgStore};

const COUPON_COLUMNS: &str = "id, order_no, account_id, tr_id, pin, image_token, goods_code, \
    goods_name, brand_code, brand_name, sale_price, price, gubun, phone_no, callback_no, \
    mms_title, mms_msg, issued_at_ms, valid_until_ms, reserved_at_ms, status, \
    status_changed_at_ms, delivery_status, delivery_rst_cd, delivery_rst_msg";

const LEDGER_COLUMNS: &str =
    "id, account_id, amount, balance_after, reason, tr_id, memo, created_at_ms";

#[derive(sqlx::FromRow)]
struct CouponRow {
    id: i64,
    order_no: String,
    account_id: i64,
    tr_id: String,
    pin: String,
    image_token: String,
    goods_code: String,
    goods_name: String,
    brand_code: String,
    brand_name: String,
    sale_price: i64,
    price: i64,
    gubun: String,
    phone_no: String,
    callback_no: String,
    mms_title: String,
    mms_msg: String,
    issued_at_ms: i64,
    valid_until_ms: i64,
    reserved_at_ms: Option<i64>,
    status: String,
    status_changed_at_ms: i64,
    delivery_status: String,
    delivery_rst_cd: Option<String>,
    delivery_rst_msg: Option<String>,
}

impl CouponRow {
    fn into_coupon(self) -> Result<Coupon, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("coupon {}: {what} {value:?}", self.id))
        };
        let gubun = Gubun::parse(&self.gubun).map_err(|_| corrupt("gubun", &self.gubun))?;
        let status =
            PinStatus::parse(&self.status).ok_or_else(|| corrupt("status", &self.status))?;
        let delivery = DeliveryStatus::parse(&self.delivery_status)
            .ok_or_else(|| corrupt("delivery status", &self.delivery_status))?;
        let delivery_result = self
            .delivery_rst_cd
            .map(|cd| (cd, self.delivery_rst_msg.unwrap_or_default()));
        Ok(Coupon {
            id: self.id,
            order_no: self.order_no,
            new: NewCoupon {
                account_id: self.account_id,
                tr_id: self.tr_id,
                pin: self.pin,
                image_token: self.image_token,
                goods_code: self.goods_code,
                goods_name: self.goods_name,
                brand_code: self.brand_code,
                brand_name: self.brand_name,
                sale_price: self.sale_price,
                price: self.price,
                gubun,
                phone_no: self.phone_no,
                callback_no: self.callback_no,
                mms_title: self.mms_title,
                mms_msg: self.mms_msg,
                issued_at_ms: self.issued_at_ms,
                valid_until_ms: self.valid_until_ms,
                reserved_at_ms: self.reserved_at_ms,
            },
            status,
            status_changed_at_ms: self.status_changed_at_ms,
            delivery,
            delivery_result,
        })
    }
}

#[derive(sqlx::FromRow)]
struct LedgerRow {
    id: i64,
    account_id: i64,
    amount: i64,
    balance_after: i64,
    reason: String,
    tr_id: Option<String>,
    memo: String,
    created_at_ms: i64,
}

impl LedgerRow {
    fn into_entry(self) -> Result<LedgerEntry, StoreError> {
        let reason = LedgerReason::parse(&self.reason).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "ledger entry {}: reason {:?}",
                self.id, self.reason
            ))
        })?;
        Ok(LedgerEntry {
            id: self.id,
            account_id: self.account_id,
            amount: self.amount,
            balance_after: self.balance_after,
            reason,
            tr_id: self.tr_id,
            memo: self.memo,
            created_at_ms: self.created_at_ms,
        })
    }
}

/// A ledger entry to append.
struct Entry<'a> {
    account_id: i64,
    amount: i64,
    balance_after: i64,
    reason: LedgerReason,
    tr_id: Option<&'a str>,
    memo: &'a str,
    at_ms: i64,
}

async fn append_ledger(conn: &mut PgConnection, e: Entry<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ledger (account_id, amount, balance_after, reason, tr_id, memo, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.account_id)
    .bind(e.amount)
    .bind(e.balance_after)
    .bind(e.reason.code())
    .bind(e.tr_id)
    .bind(e.memo)
    .bind(e.at_ms)
    .execute(conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Claims `tr_id` for the account with no coupon (a tombstone); false if it was claimed before.
async fn claim_tr_id(
    conn: &mut PgConnection,
    account_id: i64,
    tr_id: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO tr_ids (account_id, tr_id, created_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, tr_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(tr_id)
    .bind(now_ms)
    .execute(conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected() == 1)
}

/// `lock` adds `FOR NO KEY UPDATE`: the row lock an `UPDATE` of non-key columns takes, which
/// does not hold up foreign-key checks against the row.
async fn find_coupon<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    account_id: i64,
    tr_id: &str,
    lock: bool,
) -> Result<Option<Coupon>, StoreError> {
    let lock = if lock { " FOR NO KEY UPDATE" } else { "" };
    let sql =
        format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE account_id = $1 AND tr_id = $2{lock}");
    let row: Option<CouponRow> = sqlx::query_as(&sql)
        .bind(account_id)
        .bind(tr_id)
        .fetch_optional(conn)
        .await
        .map_err(backend)?;
    row.map(CouponRow::into_coupon).transpose()
}

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

    async fn enter(&self, account_id: i64) -> tokio::sync::SemaphorePermit<'_> {
        let gate = &self.gates[account_id.rem_euclid(SEND_GATES as i64) as usize];
        gate.acquire().await.expect("send gates are never closed")
    }
}

/// The unique constraints (named in the migration) whose violation means "PIN taken".
/// The function's refusal for want of bizmoney (raised so the whole send rolls back).
fn is_insufficient(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("P0001")
        && db.message().contains("insufficient bizmoney"))
}

fn is_pin_taken(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db)
        if matches!(db.constraint(), Some("coupons_pin_key" | "coupons_image_token_key")))
}

impl PgStore {
    pub(crate) async fn change_bizmoney_tx(
        &self,
        user_id: &str,
        amount: i64,
        reason: LedgerReason,
        memo: &str,
        now_ms: i64,
    ) -> Result<i64, BizmoneyError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let changed: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE account_balances b SET balance = b.balance + $1 FROM accounts a
             WHERE a.user_id = $2 AND b.account_id = a.id AND b.balance + $1 >= 0
             RETURNING a.id, b.balance",
        )
        .bind(amount)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some((account_id, balance)) = changed else {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE user_id = $1)")
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?;
            return Err(if exists {
                BizmoneyError::WouldGoNegative
            } else {
                BizmoneyError::UnknownAccount
            });
        };
        let entry = Entry {
            account_id,
            amount,
            balance_after: balance,
            reason,
            tr_id: None,
            memo,
            at_ms: now_ms,
        };
        append_ledger(&mut tx, entry).await?;
        tx.commit().await.map_err(backend)?;
        Ok(balance)
    }

    pub(crate) async fn balance_of(&self, account_id: i64) -> Result<i64, StoreError> {
        // No account: nothing in its (empty) ledger.
        let balance: Option<i64> = sqlx::query_scalar("SELECT balance FROM account_balances WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(balance.unwrap_or(0))
    }

    pub(crate) async fn ledger_of(&self, account_id: i64) -> Result<Vec<LedgerEntry>, StoreError> {
        let sql = format!("SELECT {LEDGER_COLUMNS} FROM ledger WHERE account_id = $1 ORDER BY id");
        let rows: Vec<LedgerRow> = sqlx::query_as(&sql)
            .bind(account_id)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter().map(LedgerRow::into_entry).collect()
    }

    /// One round trip: the `giftbiz_issue_coupon` function (migrations 0004, 0006) runs the send's
    /// statements as one transaction on the server.
    pub(crate) async fn issue_coupon_tx(&self, new: &NewCoupon) -> Result<Coupon, IssueError> {
        let delivery = match new.gubun {
            Gubun::Mms => DeliveryStatus::Pending,
            Gubun::Pin | Gubun::Image => DeliveryStatus::NotSent,
        };
        let _turn = self.send_gates.enter(new.account_id).await;
        let row: (String, Option<i64>, Option<String>) = sqlx::query_as(
            "SELECT * FROM giftbiz_issue_coupon($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                 $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        )
        .bind(new.account_id)
        .bind(&new.tr_id)
        .bind(&new.pin)
        .bind(&new.image_token)
        .bind(&new.goods_code)
        .bind(&new.goods_name)
        .bind(&new.brand_code)
        .bind(&new.brand_name)
        .bind(new.sale_price)
        .bind(new.price)
        .bind(new.gubun.code())
        .bind(&new.phone_no)
        .bind(&new.callback_no)
        .bind(&new.mms_title)
        .bind(&new.mms_msg)
        .bind(new.issued_at_ms)
        .bind(new.valid_until_ms)
        .bind(new.reserved_at_ms)
        .bind(order_date(new.issued_at_ms))
        .bind(PinStatus::Issued.code())
        .bind(delivery.code())
        .fetch_one(&self.pool)
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
        Ok(Coupon {
            id,
            order_no,
            new: new.clone(),
            status: PinStatus::Issued,
            status_changed_at_ms: new.issued_at_ms,
            delivery,
            delivery_result: None,
        })
    }

    pub(crate) async fn coupon_by_tr_id_in(
        &self,
        account_id: i64,
        tr_id: &str,
    ) -> Result<Option<Coupon>, StoreError> {
        find_coupon(&self.pool, account_id, tr_id, false).await
    }

    pub(crate) async fn coupon_by_image_token_in(
        &self,
        image_token: &str,
    ) -> Result<Option<Coupon>, StoreError> {
        let sql = format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE image_token = $1");
        let row: Option<CouponRow> = sqlx::query_as(&sql)
            .bind(image_token)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(CouponRow::into_coupon).transpose()
    }

    pub(crate) async fn cancel_coupon_tx(
        &self,
        account_id: i64,
        tr_id: &str,
        now_ms: i64,
    ) -> Result<Coupon, CancelError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        if claim_tr_id(&mut tx, account_id, tr_id, now_ms).await? {
            // The tombstone stays, so a send arriving after its cancel is refused.
            tx.commit().await.map_err(backend)?;
            return Err(CancelRefusal::UnknownTrId.into());
        }
        // The tr_id was claimed (by a send that has committed, the claim waited for it): lock
        // its coupon, so a concurrent cancel of it waits here and then sees it cancelled. No
        // coupon: the tr_id is an earlier tombstone.
        let Some(mut coupon) = find_coupon(&mut *tx, account_id, tr_id, true).await? else {
            return Err(CancelRefusal::UnknownTrId.into());
        };
        coupon.check_cancellable(now_ms)?;

        coupon.status = PinStatus::Cancelled;
        coupon.status_changed_at_ms = now_ms;
        if coupon.delivery == DeliveryStatus::Pending {
            coupon.delivery = DeliveryStatus::Cancelled;
        }
        sqlx::query(
            "UPDATE coupons SET status = $1, status_changed_at_ms = $2, delivery_status = $3 WHERE id = $4",
        )
        .bind(coupon.status.code())
        .bind(now_ms)
        .bind(coupon.delivery.code())
        .bind(coupon.id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "UPDATE outbox SET state = 'cancelled' WHERE coupon_id = $1 AND state = 'pending'",
        )
        .bind(coupon.id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;

        let balance: i64 = sqlx::query_scalar(
            "UPDATE account_balances SET balance = balance + $1
             WHERE account_id = $2 AND balance + $1 >= 0 RETURNING balance",
        )
        .bind(coupon.new.price)
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        let entry = Entry {
            account_id,
            amount: coupon.new.price,
            balance_after: balance,
            reason: LedgerReason::CancelRefund,
            tr_id: Some(tr_id),
            memo: "",
            at_ms: now_ms,
        };
        append_ledger(&mut tx, entry).await?;
        tx.commit().await.map_err(backend)?;
        Ok(coupon)
    }

    pub(crate) async fn send_fail_cancel_tx(
        &self,
        account_id: i64,
        tr_id: &str,
        now_ms: i64,
    ) -> Result<(), SendFailError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        if claim_tr_id(&mut tx, account_id, tr_id, now_ms).await? {
            tx.commit().await.map_err(backend)?;
            return Err(SendFailError::UnknownTrId);
        }
        // Sends charge and issue together, so a claimed tr_id has a PIN or is a tombstone.
        let issued: bool = sqlx::query_scalar(
            "SELECT coupon_id IS NOT NULL FROM tr_ids WHERE account_id = $1 AND tr_id = $2",
        )
        .bind(account_id)
        .bind(tr_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        Err(if issued {
            SendFailError::IssuedPin
        } else {
            SendFailError::UnknownTrId
        })
    }
}
