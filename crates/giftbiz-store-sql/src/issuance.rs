//! Bizmoney, the ledger and coupons (NOTES §5).
//!
//! Each operation is one transaction whose statements stay correct under concurrent calls from
//! any number of servers, without retries:
//! - a tr_id is claimed with `INSERT ... ON CONFLICT DO NOTHING` on its primary key. On
//!   PostgreSQL that waits for a concurrent transaction that inserted the same key and then sees
//!   its outcome (of two sends, or a send and a cancel, of one tr_id, the second waits for the
//!   first); on SQLite writers take turns (`BEGIN IMMEDIATE`), so it never races;
//! - money moves only through guarded `UPDATE ... WHERE balance ... RETURNING`, which re-checks
//!   the guard against the latest committed balance (the balance's CHECK is the backstop);
//! - a cancel locks the coupon row before it reads the status it decides on.
//!
//! A send waits only on its tr_id, then its account; a cancel on its tr_id, its coupon, then its
//! account, which it locks last and keeps only to append its ledger entry: no cycle, so no
//! deadlock.

use giftbiz_core::coupon::{
    BizmoneyError, CancelError, CancelRefusal, Coupon, CouponCharge, CouponSearch, DeliveryStatus, IssueError, LedgerEntry, LedgerReason,
    NewCoupon, PinStatus, SendFailOutcome,
};
use giftbiz_core::send::{Pin, TrId};
use giftbiz_core::console::{DecideError, PendingAdjustment};
use giftbiz_core::{AccountId, OperatorId, StoreError, UserId, Won};

use crate::rows::{CouponRow, LedgerRow, COUPON_COLUMNS, LEDGER_COLUMNS};
use crate::{backend, sql_impl};

/// A ledger entry to append.
struct Entry<'a> {
    account_id: AccountId,
    amount: Won,
    balance_after: Won,
    reason: LedgerReason,
    tr_id: Option<&'a str>,
    memo: &'a str,
    at_ms: i64,
}

sql_impl! { impl IssuanceStore {
    async fn change_bizmoney(
        &self,
        user_id: &UserId,
        amount: Won,
        reason: LedgerReason,
        memo: &str,
        now_ms: i64,
    ) -> Result<Won, BizmoneyError> {
        let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
        let changed: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE account_balances AS b SET balance = b.balance + $1 FROM accounts AS a
             WHERE a.user_id = $2 AND b.account_id = a.id AND b.balance + $1 >= 0
             RETURNING account_id, balance",
        )
        .bind(amount.get())
        .bind(user_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some((account_id, balance)) = changed else {
            let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE user_id = $1)")
                .bind(user_id.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            return Err(if exists { BizmoneyError::WouldGoNegative } else { BizmoneyError::UnknownAccount });
        };
        let (account_id, balance) = (AccountId::from_stored(account_id), Won::new(balance));
        let entry = Entry { account_id, amount, balance_after: balance, reason, tr_id: None, memo, at_ms: now_ms };
        Self::append_ledger(&mut tx, entry).await?;
        tx.commit().await.map_err(backend)?;
        Ok(balance)
    }

    async fn bizmoney_balance(&self, account_id: AccountId) -> Result<Won, StoreError> {
        // No account: nothing in its (empty) ledger.
        let balance: Option<i64> = sqlx::query_scalar("SELECT balance FROM account_balances WHERE account_id = $1")
            .bind(account_id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(Won::new(balance.unwrap_or(0)))
    }

    async fn bizmoney_balances(&self) -> Result<Vec<(AccountId, Won)>, StoreError> {
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT account_id, balance FROM account_balances").fetch_all(&self.pool).await.map_err(backend)?;
        Ok(rows.into_iter().map(|(id, balance)| (AccountId::from_stored(id), Won::new(balance))).collect())
    }

    async fn ledger(&self, account_id: AccountId) -> Result<Vec<LedgerEntry>, StoreError> {
        let sql = format!("SELECT {LEDGER_COLUMNS} FROM ledger WHERE account_id = $1 ORDER BY id");
        let rows: Vec<LedgerRow> =
            sqlx::query_as(&sql).bind(account_id.get()).fetch_all(&self.pool).await.map_err(backend)?;
        rows.into_iter().map(LedgerRow::into_entry).collect()
    }

    async fn ledger_page(&self, account_id: AccountId, before_id: Option<i64>, limit: u32) -> Result<Vec<LedgerEntry>, StoreError> {
        // Keyset on (account_id, id), the ledger's index: the same cost at any length.
        let sql = format!("SELECT {LEDGER_COLUMNS} FROM ledger WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
        let rows: Vec<LedgerRow> = sqlx::query_as(&sql)
            .bind(account_id.get())
            .bind(before_id.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter().map(LedgerRow::into_entry).collect()
    }

    async fn issue_coupon(&self, new: &NewCoupon) -> Result<Coupon, IssueError> {
        let pin = self.vault.protect(&new.pin);
        self.dialect.issue_coupon(&self.pool, new, &pin).await
    }

    async fn coupon_by_tr_id(&self, account_id: AccountId, tr_id: &TrId) -> Result<Option<Coupon>, StoreError> {
        let sql = format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE account_id = $1 AND tr_id = $2");
        let row: Option<CouponRow> =
            sqlx::query_as(&sql).bind(account_id.get()).bind(tr_id.as_str()).fetch_optional(&self.pool).await.map_err(backend)?;
        row.map(|r| r.into_coupon(&self.vault)).transpose()
    }

    async fn coupon_charges(&self, account_id: AccountId) -> Result<Vec<CouponCharge>, StoreError> {
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT tr_id, price, status FROM coupons WHERE account_id = $1 ORDER BY id")
                .bind(account_id.get())
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.into_iter()
            .map(|(tr_id, price, status)| {
                let status = PinStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("coupon {tr_id}: pin status {status:?}")))?;
                Ok(CouponCharge { tr_id, price: Won::new(price), status })
            })
            .collect()
    }

    async fn coupon_by_image_token(&self, image_token: &str) -> Result<Option<Coupon>, StoreError> {
        let sql = format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE image_token = $1");
        let row: Option<CouponRow> =
            sqlx::query_as(&sql).bind(image_token).fetch_optional(&self.pool).await.map_err(backend)?;
        row.map(|r| r.into_coupon(&self.vault)).transpose()
    }

    async fn find_coupons(&self, search: &CouponSearch, limit: u32) -> Result<Vec<Coupon>, StoreError> {
        // Each form is one of migration 0014's indexes (or order_no's unique one).
        let (filter, value) = match search {
            CouponSearch::TrId(tr_id) => ("tr_id = $1", tr_id.as_str()),
            CouponSearch::OrderNo(order_no) => ("order_no = $1", order_no.as_str()),
            CouponSearch::PhoneLast4(last4) => ("substr(phone_no, length(phone_no) - 3) = $1", last4.as_str()),
        };
        let sql = format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE {filter} ORDER BY id DESC LIMIT $2");
        let rows: Vec<CouponRow> =
            sqlx::query_as(&sql).bind(value).bind(i64::from(limit)).fetch_all(&self.pool).await.map_err(backend)?;
        rows.into_iter().map(|r| r.into_coupon(&self.vault)).collect()
    }

    async fn coupon_by_pin(&self, pin: &Pin) -> Result<Option<Coupon>, StoreError> {
        let sql = format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE pin = $1");
        // Under the current key first; older keys find a coupon a rotation has not reached.
        for lookup in self.vault.lookups(pin) {
            let row: Option<CouponRow> =
                sqlx::query_as(&sql).bind(lookup.as_str()).fetch_optional(&self.pool).await.map_err(backend)?;
            if let Some(row) = row {
                return row.into_coupon(&self.vault).map(Some);
            }
        }
        Ok(None)
    }

    async fn cancel_coupon(&self, account_id: AccountId, tr_id: &TrId, now_ms: i64) -> Result<Coupon, CancelError> {
        let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
        if Self::claim_tr_id(&mut tx, account_id, tr_id, now_ms).await? {
            // The tombstone stays, so a send arriving after its cancel is refused.
            tx.commit().await.map_err(backend)?;
            return Err(CancelRefusal::UnknownTrId.into());
        }
        // The tr_id was claimed (by a send that has committed: the claim waited for it). Lock its
        // coupon, so a concurrent cancel of it waits here and then sees it cancelled; `NO KEY`:
        // the lock an UPDATE of non-key columns takes, which holds up no foreign-key check. No
        // coupon: the tr_id is an earlier tombstone.
        let sql = format!(
            "SELECT {COUPON_COLUMNS} FROM coupons WHERE account_id = $1 AND tr_id = $2{}",
            D::lock(" FOR NO KEY UPDATE")
        );
        let row: Option<CouponRow> =
            sqlx::query_as(&sql).bind(account_id.get()).bind(tr_id.as_str()).fetch_optional(&mut *tx).await.map_err(backend)?;
        let Some(mut coupon) = row.map(|r| r.into_coupon(&self.vault)).transpose()? else {
            return Err(CancelRefusal::UnknownTrId.into());
        };
        coupon.check_cancellable(now_ms)?;

        coupon.status = PinStatus::Cancelled;
        coupon.status_changed_at_ms = now_ms;
        if coupon.delivery == DeliveryStatus::Pending {
            coupon.delivery = DeliveryStatus::Cancelled;
        }
        sqlx::query("UPDATE coupons SET status = $1, status_changed_at_ms = $2, delivery_status = $3 WHERE id = $4")
            .bind(coupon.status.code())
            .bind(now_ms)
            .bind(coupon.delivery.code())
            .bind(coupon.id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query("UPDATE outbox SET state = 'cancelled' WHERE coupon_id = $1 AND state = 'pending'")
            .bind(coupon.id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;

        let balance: i64 = sqlx::query_scalar(
            "UPDATE account_balances SET balance = balance + $1
             WHERE account_id = $2 AND balance + $1 >= 0 RETURNING balance",
        )
        .bind(coupon.new.price.get())
        .bind(account_id.get())
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        let entry = Entry {
            account_id,
            amount: coupon.new.price,
            balance_after: Won::new(balance),
            reason: LedgerReason::CancelRefund,
            tr_id: Some(tr_id.as_str()),
            memo: "",
            at_ms: now_ms,
        };
        Self::append_ledger(&mut tx, entry).await?;
        tx.commit().await.map_err(backend)?;
        Ok(coupon)
    }

    async fn send_fail_cancel(&self, account_id: AccountId, tr_id: &TrId, now_ms: i64) -> Result<SendFailOutcome, StoreError> {
        let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
        if Self::claim_tr_id(&mut tx, account_id, tr_id, now_ms).await? {
            tx.commit().await.map_err(backend)?;
            return Ok(SendFailOutcome::Tombstoned);
        }
        // Sends charge and issue together, so a claimed tr_id has a PIN or is a tombstone.
        let issued: bool =
            sqlx::query_scalar("SELECT coupon_id IS NOT NULL FROM tr_ids WHERE account_id = $1 AND tr_id = $2")
                .bind(account_id.get())
                .bind(tr_id.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
        Ok(if issued { SendFailOutcome::IssuedPin } else { SendFailOutcome::AlreadyTombstoned })
    }

    async fn reseal_pins(&self) -> Result<u64, StoreError> {
        let pins = self.seal_pins(true).await?;
        self.reseal_operator_secrets().await?;
        Ok(pins)
    }

    async fn expire_coupons(&self, now_ms: i64, limit: u32) -> Result<u64, StoreError> {
        if limit == 0 {
            return Ok(0);
        }
        self.dialect.expire_coupons(&self.pool, now_ms, limit).await
    }
} }

sql_impl! { impl {
    async fn append_ledger(conn: &mut <D::DB as sqlx::Database>::Connection, e: Entry<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ledger (account_id, amount, balance_after, reason, tr_id, memo, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(e.account_id.get())
        .bind(e.amount.get())
        .bind(e.balance_after.get())
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
        conn: &mut <D::DB as sqlx::Database>::Connection,
        account_id: AccountId,
        tr_id: &TrId,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO tr_ids (account_id, tr_id, created_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (account_id, tr_id) DO NOTHING",
        )
        .bind(account_id.get())
        .bind(tr_id.as_str())
        .bind(now_ms)
        .execute(conn)
        .await
        .map_err(backend)?;
        Ok(D::rows_affected(&done) == 1)
    }
} }

// The console's four-eyes adjustments: here, beside the ledger they write to.
sql_impl! { impl {
    pub(crate) async fn request_adjustment_row(
        &self,
        account_id: AccountId,
        amount: Won,
        reason: &str,
        by: OperatorId,
        at_ms: i64,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO bizmoney_adjustments (account_id, amount, reason, requested_by, requested_at_ms)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(account_id.get())
        .bind(amount.get())
        .bind(reason)
        .bind(by.get())
        .bind(at_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)
    }

    pub(crate) async fn pending_adjustment_rows(&self) -> Result<Vec<PendingAdjustment>, StoreError> {
        let rows: Vec<(i64, String, i64, String, String, i64)> = sqlx::query_as(
            "SELECT j.id, a.user_id, j.amount, j.reason, o.username, j.requested_at_ms
             FROM bizmoney_adjustments AS j JOIN accounts AS a ON a.id = j.account_id JOIN operators AS o ON o.id = j.requested_by
             WHERE j.state = 'pending' ORDER BY j.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(|(id, user_id, amount, reason, requested_by, requested_at_ms)| PendingAdjustment {
                id,
                user_id,
                amount,
                reason,
                requested_by,
                requested_at_ms,
            })
            .collect())
    }

    pub(crate) async fn decide_adjustment_row(&self, id: i64, by: OperatorId, approve: bool, at_ms: i64) -> Result<Won, DecideError> {
        let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
        let row: Option<(i64, i64, i64, String)> = sqlx::query_as(&format!(
            "SELECT account_id, amount, requested_by, reason FROM bizmoney_adjustments WHERE id = $1 AND state = 'pending'{}",
            D::lock(" FOR UPDATE")
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some((account_id, amount, requested_by, reason)) = row else { return Err(DecideError::NotPending) };
        if requested_by == by.get() {
            return Err(DecideError::OwnRequest);
        }
        sqlx::query("UPDATE bizmoney_adjustments SET state = $1, decided_by = $2, decided_at_ms = $3 WHERE id = $4")
            .bind(if approve { "approved" } else { "rejected" })
            .bind(by.get())
            .bind(at_ms)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let account_id = AccountId::from_stored(account_id);
        let balance = if approve {
            let balance: Option<i64> = sqlx::query_scalar(
                "UPDATE account_balances SET balance = balance + $1 WHERE account_id = $2 AND balance + $1 >= 0 RETURNING balance",
            )
            .bind(amount)
            .bind(account_id.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
            let balance = Won::new(balance.ok_or(DecideError::WouldGoNegative)?);
            let memo = format!("adjustment {id}: {reason}");
            let entry = Entry {
                account_id,
                amount: Won::new(amount),
                balance_after: balance,
                reason: LedgerReason::Adjustment,
                tr_id: None,
                memo: &memo,
                at_ms,
            };
            Self::append_ledger(&mut tx, entry).await?;
            balance
        } else {
            let balance: i64 = sqlx::query_scalar("SELECT balance FROM account_balances WHERE account_id = $1")
                .bind(account_id.get())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            Won::new(balance)
        };
        tx.commit().await.map_err(backend)?;
        Ok(balance)
    }
} }
