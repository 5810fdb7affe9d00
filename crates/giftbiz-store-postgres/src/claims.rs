//! The outbox claim and expiry on PostgreSQL: each one autocommitted statement that picks its
//! rows `FOR UPDATE SKIP LOCKED`, so any number of servers' workers and jobs skip each other's
//! rows instead of waiting for them or taking them twice, and the row locks last only as long
//! as the statement. Expiry locks coupons before their outbox rows, the order cancel and the
//! delivery worker's finish use too.

use giftbiz_core::coupon::PinStatus;
use giftbiz_core::delivery::Claim;
use giftbiz_core::StoreError;
use giftbiz_store_sql::backend;
use giftbiz_store_sql::rows::{MessageRow, MESSAGE_COUPON_COLUMNS};
use sqlx::PgPool;

pub(crate) async fn claim_due(pool: &PgPool, claim: &Claim<'_>) -> Result<Vec<MessageRow>, StoreError> {
    let Claim { now_ms, limit, lease_ms, worker } = *claim;
    let rows: Vec<MessageRow> = sqlx::query_as(&format!(
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
             RETURNING o.id, o.message_key, o.kind, o.attempts, o.coupon_id, o.request_id, o.next_attempt_at_ms
         )
         SELECT cl.id, cl.message_key, cl.kind, cl.attempts, cl.coupon_id, cl.request_id, {MESSAGE_COUPON_COLUMNS}
         FROM claimed cl JOIN coupons c ON c.id = cl.coupon_id
         ORDER BY cl.next_attempt_at_ms, cl.id"
    ))
    .bind(now_ms)
    .bind(worker)
    .bind(lease_ms)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    Ok(rows)
}

pub(crate) async fn expire(pool: &PgPool, now_ms: i64, limit: u32) -> Result<u64, StoreError> {
    let expired: i64 = sqlx::query_scalar(
        "WITH due AS (
             SELECT id FROM coupons WHERE status = $2 AND valid_until_ms < $3
             ORDER BY valid_until_ms
             LIMIT $4
             FOR UPDATE SKIP LOCKED
         ), expired AS (
             UPDATE coupons c SET status = $1, status_changed_at_ms = $3,
                 delivery_status = CASE c.delivery_status WHEN 'pending' THEN 'cancelled'
                                   ELSE c.delivery_status END
             FROM due WHERE c.id = due.id AND c.status = $2
             RETURNING c.id
         ), cancelled AS (
             UPDATE outbox o SET state = 'cancelled'
             FROM expired e WHERE o.coupon_id = e.id AND o.state = 'pending'
         )
         SELECT count(*) FROM expired",
    )
    .bind(PinStatus::Expired.code())
    .bind(PinStatus::Issued.code())
    .bind(now_ms)
    .bind(i64::from(limit))
    .fetch_one(pool)
    .await
    .map_err(backend)?;
    Ok(expired as u64)
}
