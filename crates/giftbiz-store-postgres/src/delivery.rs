//! Message delivery (the outbox) on PostgreSQL, shared by any number of servers.
//!
//! - A claim is one statement: it picks due rows `FOR UPDATE SKIP LOCKED`, so concurrent
//!   claimers skip each other's rows instead of waiting or taking them twice, and marks them
//!   with its worker and lease.
//! - A finish and a resend lock the coupon row before any outbox row, the order a cancel uses
//!   (coupon, then its messages), so they never deadlock with it; a claim locks no coupon.

use giftbiz_core::coupon::{DeliveryStatus, PinStatus};
use giftbiz_core::delivery::{
    check_resendable, DeliveryOutcome, MessageKind, OutboxMessage, ResendError,
};
use giftbiz_core::send::Gubun;
use giftbiz_core::StoreError;

use crate::{backend, PgStore};

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    message_key: String,
    kind: String,
    attempts: i32,
    coupon_id: i64,
    account_id: i64,
    tr_id: String,
    order_no: String,
    phone_no: String,
    callback_no: String,
    mms_title: String,
    mms_msg: String,
    pin: String,
    goods_name: String,
    brand_name: String,
    valid_until_ms: i64,
    image_token: String,
}

impl MessageRow {
    fn into_message(self) -> Result<OutboxMessage, StoreError> {
        let kind = MessageKind::parse(&self.kind).ok_or_else(|| {
            StoreError::Corrupt(format!("outbox {}: kind {:?}", self.id, self.kind))
        })?;
        Ok(OutboxMessage {
            id: self.id,
            key: self.message_key,
            kind,
            attempts: self.attempts,
            coupon_id: self.coupon_id,
            account_id: self.account_id,
            tr_id: self.tr_id,
            order_no: self.order_no,
            phone_no: self.phone_no,
            callback_no: self.callback_no,
            title: self.mms_title,
            text: self.mms_msg,
            pin: self.pin,
            goods_name: self.goods_name,
            brand_name: self.brand_name,
            valid_until_ms: self.valid_until_ms,
            image_token: self.image_token,
        })
    }
}

impl PgStore {
    pub(crate) async fn claim_due_tx(
        &self,
        now_ms: i64,
        limit: u32,
        lease_ms: i64,
        worker: &str,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        // Autocommit: the row locks last only as long as this statement.
        let rows: Vec<MessageRow> = sqlx::query_as(
            "WITH due AS (
                 SELECT id FROM outbox
                 WHERE state = 'pending' AND next_attempt_at_ms <= $1
                   AND (claimed_until_ms IS NULL OR claimed_until_ms < $1)
                 ORDER BY next_attempt_at_ms, id
                 LIMIT $4
                 FOR UPDATE SKIP LOCKED
             ), claimed AS (
                 UPDATE outbox o SET claimed_by = $2, claimed_until_ms = $1 + $3,
                     attempts = o.attempts + 1,
                     message_key = COALESCE(o.message_key, replace(gen_random_uuid()::text, '-', ''))
                 FROM due WHERE o.id = due.id
                 RETURNING o.id, o.message_key, o.kind, o.attempts, o.coupon_id, o.next_attempt_at_ms
             )
             SELECT cl.id, cl.message_key, cl.kind, cl.attempts, cl.coupon_id,
                 c.account_id, c.tr_id, c.order_no, c.phone_no, c.callback_no, c.mms_title, c.mms_msg,
                 c.pin, c.goods_name, c.brand_name, c.valid_until_ms, c.image_token
             FROM claimed cl JOIN coupons c ON c.id = cl.coupon_id
             ORDER BY cl.next_attempt_at_ms, cl.id",
        )
        .bind(now_ms)
        .bind(worker)
        .bind(lease_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter().map(MessageRow::into_message).collect()
    }

    pub(crate) async fn finish_message_tx(
        &self,
        id: i64,
        worker: &str,
        outcome: &DeliveryOutcome,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (state, coupon_status, next_at, error, result) = match outcome {
            DeliveryOutcome::Delivered {
                result_code,
                result_message,
            } => (
                "sent",
                Some(DeliveryStatus::Delivered),
                None,
                None,
                Some((result_code, result_message)),
            ),
            DeliveryOutcome::Failed {
                result_code,
                result_message,
            } => (
                "failed",
                Some(DeliveryStatus::Failed),
                None,
                None,
                Some((result_code, result_message)),
            ),
            DeliveryOutcome::Retry {
                next_attempt_at_ms,
                error,
            } => (
                "pending",
                None,
                Some(*next_attempt_at_ms),
                Some(error),
                None,
            ),
        };
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // The coupon first (see the module comment); a message's coupon never changes.
        let coupon_id: Option<i64> = sqlx::query_scalar(
            "SELECT c.id FROM outbox o JOIN coupons c ON c.id = o.coupon_id WHERE o.id = $1 FOR UPDATE OF c",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some(coupon_id) = coupon_id else {
            return Ok(false);
        };
        // The guard: still this worker's claim, still pending (a cancel may have come first).
        let applied = sqlx::query(
            "UPDATE outbox SET state = $1, next_attempt_at_ms = COALESCE($2, next_attempt_at_ms),
                 last_error = COALESCE($3, last_error), result_code = $4, result_message = $5,
                 finished_at_ms = CASE WHEN $1 = 'pending' THEN NULL ELSE $6::BIGINT END,
                 claimed_by = NULL, claimed_until_ms = NULL
             WHERE id = $7 AND claimed_by = $8 AND state = 'pending'",
        )
        .bind(state)
        .bind(next_at)
        .bind(error)
        .bind(result.map(|r| r.0))
        .bind(result.map(|r| r.1))
        .bind(now_ms)
        .bind(id)
        .bind(worker)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected()
            == 1;
        if !applied {
            return Ok(false);
        }
        if let (Some(status), Some((code, message))) = (coupon_status, result) {
            sqlx::query("UPDATE coupons SET delivery_status = $1, delivery_rst_cd = $2, delivery_rst_msg = $3 WHERE id = $4")
                .bind(status.code())
                .bind(code)
                .bind(message)
                .bind(coupon_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    pub(crate) async fn enqueue_resend_tx(
        &self,
        account_id: i64,
        tr_id: &str,
        kind: MessageKind,
        now_ms: i64,
    ) -> Result<(), ResendError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Locked, so a concurrent cancel either comes after (and cancels this message too) or
        // before (and this sees the coupon cancelled).
        let row: Option<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, gubun, status, valid_until_ms FROM coupons WHERE account_id = $1 AND tr_id = $2 FOR UPDATE",
        )
        .bind(account_id)
        .bind(tr_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        // No coupon: unknown, or a tombstone left by a cancel.
        let Some((coupon_id, gubun, status, valid_until_ms)) = row else {
            return Err(ResendError::NotFound);
        };
        let corrupt =
            |what: &str, v: &str| StoreError::Corrupt(format!("coupon {coupon_id}: {what} {v:?}"));
        let gubun = Gubun::parse(&gubun).map_err(|_| corrupt("gubun", &gubun))?;
        let status = PinStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?;
        check_resendable(gubun, status, valid_until_ms, now_ms)?;
        sqlx::query(
            "INSERT INTO outbox (coupon_id, kind, due_at_ms, state, next_attempt_at_ms, created_at_ms)
             VALUES ($1, $2, $3, 'pending', $3, $3)",
        )
        .bind(coupon_id)
        .bind(kind.code())
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "UPDATE coupons SET delivery_status = $1, delivery_rst_cd = NULL, delivery_rst_msg = NULL WHERE id = $2",
        )
        .bind(DeliveryStatus::Pending.code())
        .bind(coupon_id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }
}
