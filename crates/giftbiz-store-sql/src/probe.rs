//! Readiness and the scrape's figures (`ProbeStore`), the same SQL on both engines.

use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::probe::{LedgerTotal, PoolStatus, SchemaStatus, ScrapeFigures};
use giftbiz_core::StoreError;

use crate::{backend, sql_impl};

sql_impl! { impl ProbeStore {
    async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let missing = D::migrator().iter().map(|m| m.version).filter(|v| !applied.contains(v)).collect();
        Ok(SchemaStatus { missing })
    }

    fn pool_status(&self) -> PoolStatus {
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        let size = self.pool.size();
        PoolStatus { in_use: size.saturating_sub(idle), idle, max: self.pool.options().get_max_connections() }
    }

    async fn scrape_figures(&self, now_ms: i64, low_balance: i64) -> Result<ScrapeFigures, StoreError> {
        let sums: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT reason, CAST(COALESCE(SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END), 0) AS BIGINT)
             FROM ledger GROUP BY reason",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let ledger = sums
            .into_iter()
            .map(|(reason, credit, debit)| {
                let reason = LedgerReason::parse(&reason).ok_or_else(|| StoreError::Corrupt(format!("ledger reason {reason:?}")))?;
                Ok(LedgerTotal { reason, credit, debit })
            })
            .collect::<Result<_, StoreError>>()?;
        let (outbox_due, oldest_due_at_ms): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(next_attempt_at_ms) FROM outbox WHERE state = 'pending' AND next_attempt_at_ms <= $1",
        )
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let low_balance_accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account_balances WHERE balance < $1")
            .bind(low_balance)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(ScrapeFigures { ledger, outbox_due, oldest_due_at_ms, low_balance_accounts })
    }
} }
