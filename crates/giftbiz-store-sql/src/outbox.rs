//! Message delivery (the outbox), shared by any number of servers.
//!
//! The claim is the engine's ([`Dialect::claim_due_messages`]). A finish and a resend lock the
//! coupon row before any outbox row, the order a cancel uses (coupon, then its messages), so on
//! PostgreSQL they never deadlock with it; SQLite's writers take turns.

use giftbiz_core::coupon::{DeliveryStatus, PinStatus};
use giftbiz_core::delivery::{check_resendable, Claim, DeliveryOutcome, MessageKind, MessageLine, OutboxMessage, ResendError};
use giftbiz_core::send::{Gubun, TrId};
use giftbiz_core::{AccountId, RequestId, StoreError};

use crate::{backend, sql_impl};

sql_impl! { impl OutboxStore {
    async fn claim_due_messages(&self, claim: &Claim<'_>) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = self.dialect.claim_due_messages(&self.pool, claim).await?;
        rows.into_iter().map(|r| r.into_message(&self.vault)).collect()
    }

    async fn finish_message(
        &self,
        id: i64,
        worker: &str,
        outcome: &DeliveryOutcome,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        // The outbox row's state, the coupon's delivery status if the outcome settles it.
        let (state, coupon_status, next_at, error, result) = match outcome {
            DeliveryOutcome::Delivered { result_code, result_message } => {
                ("sent", Some(DeliveryStatus::Delivered), None, None, Some((result_code, result_message)))
            }
            DeliveryOutcome::Failed { result_code, result_message } => {
                ("failed", Some(DeliveryStatus::Failed), None, None, Some((result_code, result_message)))
            }
            DeliveryOutcome::Retry { next_attempt_at_ms, error } => {
                ("pending", None, Some(*next_attempt_at_ms), Some(error), None)
            }
        };
        let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
        // The coupon first (see the module comment); a message's coupon never changes.
        let sql = format!(
            "SELECT c.id FROM outbox o JOIN coupons c ON c.id = o.coupon_id WHERE o.id = $1{}",
            D::lock(" FOR UPDATE OF c")
        );
        let coupon_id: Option<i64> =
            sqlx::query_scalar(&sql).bind(id).fetch_optional(&mut *tx).await.map_err(backend)?;
        let Some(coupon_id) = coupon_id else {
            return Ok(false);
        };
        // The guard: still this worker's claim, still pending (a cancel may have come first).
        let done = sqlx::query(
            "UPDATE outbox SET state = $1, next_attempt_at_ms = COALESCE($2, next_attempt_at_ms),
                 last_error = COALESCE($3, last_error), result_code = $4, result_message = $5,
                 finished_at_ms = CASE WHEN $1 = 'pending' THEN NULL ELSE CAST($6 AS BIGINT) END,
                 claimed_by = NULL, claimed_until_ms = NULL
             WHERE id = $7 AND claimed_by = $8 AND state = 'pending'",
        )
        .bind(state)
        .bind(next_at)
        .bind(error.map(String::as_str))
        .bind(result.map(|r| r.0.as_str()))
        .bind(result.map(|r| r.1.as_str()))
        .bind(now_ms)
        .bind(id)
        .bind(worker)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if D::rows_affected(&done) != 1 {
            return Ok(false);
        }
        if let (Some(status), Some((code, message))) = (coupon_status, result) {
            sqlx::query(
                "UPDATE coupons SET delivery_status = $1, delivery_rst_cd = $2, delivery_rst_msg = $3 WHERE id = $4",
            )
            .bind(status.code())
            .bind(code.as_str())
            .bind(message.as_str())
            .bind(coupon_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn messages_in_state(&self, state: &str, limit: u32) -> Result<Vec<MessageLine>, StoreError> {
        let sql = format!("{MESSAGE_LINE_SQL} WHERE m.state = $1 ORDER BY m.id DESC LIMIT $2");
        let rows: Vec<MessageLineRow> =
            sqlx::query_as(&sql).bind(state).bind(i64::from(limit)).fetch_all(&self.pool).await.map_err(backend)?;
        Ok(rows.into_iter().map(MessageLineRow::into_line).collect())
    }

    async fn messages_of_coupon(&self, coupon_id: i64) -> Result<Vec<MessageLine>, StoreError> {
        let sql = format!("{MESSAGE_LINE_SQL} WHERE m.coupon_id = $1 ORDER BY m.id");
        let rows: Vec<MessageLineRow> = sqlx::query_as(&sql).bind(coupon_id).fetch_all(&self.pool).await.map_err(backend)?;
        Ok(rows.into_iter().map(MessageLineRow::into_line).collect())
    }

    async fn enqueue_resend(
        &self,
        account_id: AccountId,
        tr_id: &TrId,
        kind: MessageKind,
        now_ms: i64,
        request_id: Option<&RequestId>,
    ) -> Result<(), ResendError> {
        let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
        // Locked, so a concurrent cancel either comes after (and cancels this message too) or
        // before (and this sees the coupon cancelled).
        let sql = format!(
            "SELECT id, gubun, status, valid_until_ms FROM coupons WHERE account_id = $1 AND tr_id = $2{}",
            D::lock(" FOR UPDATE")
        );
        let row: Option<(i64, String, String, i64)> =
            sqlx::query_as(&sql).bind(account_id.get()).bind(tr_id.as_str()).fetch_optional(&mut *tx).await.map_err(backend)?;
        // No coupon: unknown, or a tombstone left by a cancel.
        let Some((coupon_id, gubun, status, valid_until_ms)) = row else {
            return Err(ResendError::NotFound);
        };
        let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("coupon {coupon_id}: {what} {v:?}"));
        let gubun = Gubun::parse(&gubun).ok_or_else(|| corrupt("gubun", &gubun))?;
        let status = PinStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?;
        check_resendable(gubun, status, valid_until_ms, now_ms)?;
        sqlx::query(
            "INSERT INTO outbox (coupon_id, kind, due_at_ms, state, next_attempt_at_ms, created_at_ms, request_id)
             VALUES ($1, $2, $3, 'pending', $3, $3, $4)",
        )
        .bind(coupon_id)
        .bind(kind.code())
        .bind(now_ms)
        .bind(request_id.map(|r| r.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query("UPDATE coupons SET delivery_status = $1, delivery_rst_cd = NULL, delivery_rst_msg = NULL WHERE id = $2")
            .bind(DeliveryStatus::Pending.code())
            .bind(coupon_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }
} }

/// The console's view of messages, with their coupon's tr_id and order number.
const MESSAGE_LINE_SQL: &str = "SELECT m.id, m.kind, m.state, m.attempts, m.last_error, m.next_attempt_at_ms, m.created_at_ms,
     c.account_id, c.tr_id, c.order_no FROM outbox AS m JOIN coupons AS c ON c.id = m.coupon_id";

#[derive(sqlx::FromRow)]
struct MessageLineRow {
    id: i64,
    kind: String,
    state: String,
    attempts: i32,
    last_error: Option<String>,
    next_attempt_at_ms: i64,
    created_at_ms: i64,
    account_id: i64,
    tr_id: String,
    order_no: String,
}

impl MessageLineRow {
    fn into_line(self) -> MessageLine {
        MessageLine {
            id: self.id,
            kind: self.kind,
            state: self.state,
            attempts: self.attempts,
            last_error: self.last_error,
            next_attempt_at_ms: self.next_attempt_at_ms,
            created_at_ms: self.created_at_ms,
            account_id: AccountId::from_stored(self.account_id),
            tr_id: self.tr_id,
            order_no: self.order_no,
        }
    }
}
