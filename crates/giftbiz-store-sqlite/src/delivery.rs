//! Message delivery (the outbox) on SQLite.
//!
//! Claims, finishes and resends each run in one `BEGIN IMMEDIATE` transaction, so they take
//! turns with every other writer, in this process or another: a claim's selection still holds
//! when it commits, and two workers never hold the same message at once.

use giftbiz_core::coupon::{DeliveryStatus, PinStatus};
use giftbiz_core::delivery::{
    check_resendable, DeliveryOutcome, MessageKind, OutboxMessage, ResendError,
};
use giftbiz_core::send::Gubun;
use giftbiz_core::StoreError;
use sqlx::{QueryBuilder, Sqlite};

use crate::{backend, SqliteStore};

/// A claimed message joined with its coupon.
const MESSAGE_SELECT: &str = "SELECT o.id, o.message_key, o.kind, o.attempts, o.coupon_id, \
    c.account_id, c.tr_id, c.order_no, c.phone_no, c.callback_no, c.mms_title, c.mms_msg, c.pin, \
    c.goods_name, c.brand_name, c.valid_until_ms, c.image_token \
    FROM outbox o JOIN coupons c ON c.id = o.coupon_id";

/// Pending, due, and not held by a live claim (`?1` is now).
const DUE: &str = "state = 'pending' AND next_attempt_at_ms <= ?1 \
    AND (claimed_until_ms IS NULL OR claimed_until_ms < ?1)";

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

/// The outbox row's state, and the coupon's delivery status if the outcome settles it.
fn outcome_states(outcome: &DeliveryOutcome) -> (&'static str, Option<DeliveryStatus>) {
    match outcome {
        DeliveryOutcome::Delivered { .. } => ("sent", Some(DeliveryStatus::Delivered)),
        DeliveryOutcome::Retry { .. } => ("pending", None),
        DeliveryOutcome::Failed { .. } => ("failed", Some(DeliveryStatus::Failed)),
    }
}

impl SqliteStore {
    pub(crate) async fn claim_due_tx(
        &self,
        now_ms: i64,
        limit: u32,
        lease_ms: i64,
        worker: &str,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        // Most ticks find nothing: look without the write lock first, so an idle worker does
        // not make sends wait for it.
        let any: bool =
            sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM outbox WHERE {DUE})"))
                .bind(now_ms)
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
        if !any {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let ids: Vec<i64> = sqlx::query_scalar(&format!(
            "UPDATE outbox SET claimed_by = ?2, claimed_until_ms = ?1 + ?3, attempts = attempts + 1,
                 message_key = COALESCE(message_key, lower(hex(randomblob(16))))
             WHERE id IN (SELECT id FROM outbox WHERE {DUE} ORDER BY next_attempt_at_ms, id LIMIT ?4)
             RETURNING id"
        ))
        .bind(now_ms)
        .bind(worker)
        .bind(lease_ms)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut select = QueryBuilder::<Sqlite>::new(MESSAGE_SELECT);
        select.push(" WHERE o.id IN (");
        let mut list = select.separated(", ");
        for id in &ids {
            list.push_bind(id);
        }
        select.push(") ORDER BY o.next_attempt_at_ms, o.id");
        let rows: Vec<MessageRow> = select
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        rows.into_iter().map(MessageRow::into_message).collect()
    }

    pub(crate) async fn finish_message_tx(
        &self,
        id: i64,
        worker: &str,
        outcome: &DeliveryOutcome,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (state, coupon_status) = outcome_states(outcome);
        let (next_at, error, result) = match outcome {
            DeliveryOutcome::Delivered {
                result_code,
                result_message,
            }
            | DeliveryOutcome::Failed {
                result_code,
                result_message,
            } => (None, None, Some((result_code, result_message))),
            DeliveryOutcome::Retry {
                next_attempt_at_ms,
                error,
            } => (Some(*next_attempt_at_ms), Some(error), None),
        };
        let mut tx = self.write_tx().await?;
        // The guard: still this worker's claim, still pending (a cancel may have come first).
        let coupon_id: Option<i64> = sqlx::query_scalar(
            "UPDATE outbox SET state = ?1, next_attempt_at_ms = COALESCE(?2, next_attempt_at_ms),
                 last_error = COALESCE(?3, last_error), result_code = ?4, result_message = ?5,
                 finished_at_ms = CASE WHEN ?1 = 'pending' THEN NULL ELSE ?6 END,
                 claimed_by = NULL, claimed_until_ms = NULL
             WHERE id = ?7 AND claimed_by = ?8 AND state = 'pending'
             RETURNING coupon_id",
        )
        .bind(state)
        .bind(next_at)
        .bind(error)
        .bind(result.map(|r| r.0))
        .bind(result.map(|r| r.1))
        .bind(now_ms)
        .bind(id)
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some(coupon_id) = coupon_id else {
            return Ok(false);
        };
        if let (Some(status), Some((code, message))) = (coupon_status, result) {
            sqlx::query("UPDATE coupons SET delivery_status = ?, delivery_rst_cd = ?, delivery_rst_msg = ? WHERE id = ?")
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
        let mut tx = self.write_tx().await?;
        let row: Option<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, gubun, status, valid_until_ms FROM coupons WHERE account_id = ? AND tr_id = ?",
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
             VALUES (?1, ?2, ?3, 'pending', ?3, ?3)",
        )
        .bind(coupon_id)
        .bind(kind.code())
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "UPDATE coupons SET delivery_status = ?, delivery_rst_cd = NULL, delivery_rst_msg = NULL WHERE id = ?",
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
