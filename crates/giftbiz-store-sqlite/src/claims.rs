//! The outbox claim and expiry on SQLite: each a `BEGIN IMMEDIATE` transaction that selects,
//! then updates, under the write lock, so it takes turns with every other writer (a send, a
//! cancel, a redemption, another server's worker or job), in this process or another: its
//! selection still holds when it commits, two workers never hold the same message at once and a
//! coupon read as issued is still issued when it expires. Most runs find nothing, so each looks
//! without the lock first: an idle worker or job does not make sends wait.

use giftbiz_core::coupon::PinStatus;
use giftbiz_core::delivery::Claim;
use giftbiz_core::StoreError;
use giftbiz_store_sql::rows::{MessageRow, MESSAGE_COUPON_COLUMNS};
use giftbiz_store_sql::{backend, Dialect};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::SqliteDialect;

/// Pending, due, and not held by a live claim (`$1` is now).
const DUE: &str = "state = 'pending' AND next_attempt_at_ms <= $1 \
    AND (claimed_until_ms IS NULL OR claimed_until_ms < $1)";

pub(crate) async fn claim_due(pool: &SqlitePool, claim: &Claim<'_>) -> Result<Vec<MessageRow>, StoreError> {
    let Claim { now_ms, limit, lease_ms, worker } = *claim;
    let any: bool = sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM outbox WHERE {DUE})"))
        .bind(now_ms)
        .fetch_one(pool)
        .await
        .map_err(backend)?;
    if !any {
        return Ok(Vec::new());
    }
    let mut tx = SqliteDialect::begin_write(pool).await.map_err(backend)?;
    let ids: Vec<i64> = sqlx::query_scalar(&format!(
        "UPDATE outbox SET claimed_by = $2, claimed_until_ms = $1 + $3, attempts = attempts + 1,
             message_key = COALESCE(message_key, lower(hex(randomblob(16))))
         WHERE id IN (SELECT id FROM outbox WHERE {DUE} ORDER BY next_attempt_at_ms, id LIMIT $4)
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
    let mut select = QueryBuilder::<Sqlite>::new(format!(
        "SELECT o.id, o.message_key, o.kind, o.attempts, o.coupon_id, o.request_id, {MESSAGE_COUPON_COLUMNS} \
         FROM outbox o JOIN coupons c ON c.id = o.coupon_id WHERE o.id IN ("
    ));
    let mut list = select.separated(", ");
    for id in &ids {
        list.push_bind(id);
    }
    select.push(") ORDER BY o.next_attempt_at_ms, o.id");
    let rows: Vec<MessageRow> = select.build_query_as().fetch_all(&mut *tx).await.map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    Ok(rows)
}

pub(crate) async fn expire(pool: &SqlitePool, now_ms: i64, limit: u32) -> Result<u64, StoreError> {
    // The index on (status, valid_until_ms) answers the look.
    let any: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM coupons WHERE status = $1 AND valid_until_ms < $2)")
            .bind(PinStatus::Issued.code())
            .bind(now_ms)
            .fetch_one(pool)
            .await
            .map_err(backend)?;
    if !any {
        return Ok(0);
    }
    let mut tx = SqliteDialect::begin_write(pool).await.map_err(backend)?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE coupons SET status = $1, status_changed_at_ms = $3,
             delivery_status = CASE delivery_status WHEN 'pending' THEN 'cancelled' ELSE delivery_status END
         WHERE id IN (SELECT id FROM coupons WHERE status = $2 AND valid_until_ms < $3
                      ORDER BY valid_until_ms LIMIT $4)
         RETURNING id",
    )
    .bind(PinStatus::Expired.code())
    .bind(PinStatus::Issued.code())
    .bind(now_ms)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    // At most `limit` ids per statement; SQLite's parameter limit is far above a batch.
    for chunk in ids.chunks(1_000) {
        let mut cancel =
            QueryBuilder::<Sqlite>::new("UPDATE outbox SET state = 'cancelled' WHERE state = 'pending' AND coupon_id IN (");
        let mut list = cancel.separated(", ");
        for id in chunk {
            list.push_bind(id);
        }
        cancel.push(")");
        cancel.build().persistent(false).execute(&mut *tx).await.map_err(backend)?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(ids.len() as u64)
}
