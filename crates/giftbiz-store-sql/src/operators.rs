//! The console's operators, their sessions and failed logins.

use giftbiz_core::account::TokenHash;
use giftbiz_core::console::{AuditFilter, AuditEvent, AuditLogEntry, ConsoleFigures, ConsoleSession, DailySends, DecideError, PendingAdjustment, NewOperator, Operator, PasswordHash, Username};
use giftbiz_core::pin_vault::{SealedPin, SecretPurpose};
use giftbiz_core::totp::TotpSecret;
use giftbiz_core::{OperatorId, StoreError};

use crate::rows::{OperatorRow, OPERATOR_COLUMNS};
use crate::{backend, sql_impl};

sql_impl! { impl OperatorStore {
    async fn create_operator(&self, new: &NewOperator) -> Result<Operator, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO operators (username, role, password_hash, created_at_ms) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(new.username.as_str())
        .bind(new.role.as_str())
        .bind(new.password_hash.as_str())
        .bind(new.created_at_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| if D::violates_unique(&e, "operators.username") { StoreError::UsernameTaken(new.username.clone()) } else { backend(e) })?;
        Ok(Operator {
            id: OperatorId::from_stored(id),
            username: new.username.clone(),
            role: new.role,
            password_hash: new.password_hash.clone(),
            disabled_at_ms: None,
            created_at_ms: new.created_at_ms,
            totp: None,
        })
    }

    async fn operator_by_username(&self, username: &Username) -> Result<Option<Operator>, StoreError> {
        let sql = format!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE username = $1");
        let row: Option<OperatorRow> =
            sqlx::query_as(&sql).bind(username.as_str()).fetch_optional(&self.pool).await.map_err(backend)?;
        row.map(|r| r.into_operator(&self.vault)).transpose()
    }

    async fn list_operators(&self) -> Result<Vec<Operator>, StoreError> {
        let sql = format!("SELECT {OPERATOR_COLUMNS} FROM operators ORDER BY id");
        let rows: Vec<OperatorRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await.map_err(backend)?;
        rows.into_iter().map(|r| r.into_operator(&self.vault)).collect()
    }

    async fn set_operator_disabled(&self, username: &Username, at_ms: Option<i64>) -> Result<bool, StoreError> {
        let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
        let done = sqlx::query(
            "UPDATE operators SET disabled_at_ms = CASE WHEN $1 IS NULL THEN NULL ELSE COALESCE(disabled_at_ms, $1) END
             WHERE username = $2",
        )
        .bind(at_ms)
        .bind(username.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if at_ms.is_some() {
            Self::end_sessions_of(&mut tx, username).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn set_operator_password(&self, username: &Username, hash: &PasswordHash) -> Result<bool, StoreError> {
        self.set_credential("UPDATE operators SET password_hash = $1 WHERE username = $2", Some(hash.as_str()), username).await
    }

    async fn set_operator_totp(&self, username: &Username, secret: Option<&TotpSecret>) -> Result<bool, StoreError> {
        let sealed = secret.map(|s| self.vault.seal_secret(SecretPurpose::OperatorTotp, s.expose()));
        let sql = "UPDATE operators SET totp_sealed = $1, totp_last_step = NULL WHERE username = $2";
        self.set_credential(sql, sealed.as_ref().map(SealedPin::as_str), username).await
    }

    async fn use_totp_step(&self, operator: OperatorId, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE operators SET totp_last_step = $1
             WHERE id = $2 AND totp_sealed IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(operator.get())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn record_login_failure(&self, username: &Username, source: &str, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO console_login_failures (username, source, at_ms) VALUES ($1, $2, $3)")
            .bind(username.as_str())
            .bind(source)
            .bind(at_ms)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn login_failures_since(&self, username: &Username, since_ms: i64) -> Result<Vec<i64>, StoreError> {
        sqlx::query_scalar("SELECT at_ms FROM console_login_failures WHERE username = $1 AND at_ms >= $2 ORDER BY at_ms")
            .bind(username.as_str())
            .bind(since_ms)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)
    }

    async fn create_session(&self, token_hash: &TokenHash, operator: OperatorId, source: &str, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, operator_id, source, created_at_ms, last_seen_ms) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(token_hash.as_str())
        .bind(operator.get())
        .bind(source)
        .bind(at_ms)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn session(&self, token_hash: &TokenHash) -> Result<Option<ConsoleSession>, StoreError> {
        let sql = format!(
            "SELECT {}, s.created_at_ms AS session_created_at_ms, s.last_seen_ms
             FROM console_sessions AS s JOIN operators AS o ON o.id = s.operator_id WHERE s.token_hash = $1",
            OPERATOR_COLUMNS.split(", ").map(|c| format!("o.{c}")).collect::<Vec<_>>().join(", ")
        );
        let row: Option<SessionRow> =
            sqlx::query_as(&sql).bind(token_hash.as_str()).fetch_optional(&self.pool).await.map_err(backend)?;
        row.map(|r| {
            Ok(ConsoleSession { operator: r.operator.into_operator(&self.vault)?, created_at_ms: r.session_created_at_ms, last_seen_ms: r.last_seen_ms })
        })
        .transpose()
    }

    async fn touch_session(&self, token_hash: &TokenHash, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE console_sessions SET last_seen_ms = $1 WHERE token_hash = $2 AND last_seen_ms < $1")
            .bind(at_ms)
            .bind(token_hash.as_str())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn console_figures(&self, since_day: i64, low_balance: i64) -> Result<ConsoleFigures, StoreError> {
        // The rollup kept by a trigger on `coupons` (migration 0017), not the coupons.
        let daily: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT day, CAST(SUM(sends) AS BIGINT), CAST(SUM(won) AS BIGINT)
             FROM daily_sends WHERE day >= $1 GROUP BY day ORDER BY day",
        )
        .bind(since_day)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let count = |state: &'static str| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox WHERE state = $1").bind(state).fetch_one(&self.pool)
        };
        let pending = count("pending").await.map_err(backend)?;
        let failed = count("failed").await.map_err(backend)?;
        let low_balances: Vec<(String, i64)> = sqlx::query_as(
            "SELECT a.user_id, b.balance FROM accounts AS a JOIN account_balances AS b ON b.account_id = a.id
             WHERE b.balance < $1 ORDER BY b.balance, a.id LIMIT 20",
        )
        .bind(low_balance)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(ConsoleFigures {
            daily: daily.into_iter().map(|(day, sends, won)| DailySends { day, sends, won }).collect(),
            pending_messages: pending,
            failed_messages: failed,
            low_balances,
        })
    }

    async fn request_adjustment(&self, account_id: giftbiz_core::AccountId, amount: giftbiz_core::Won, reason: &str, by: OperatorId, at_ms: i64) -> Result<i64, StoreError> {
        self.request_adjustment_row(account_id, amount, reason, by, at_ms).await
    }

    async fn pending_adjustments(&self) -> Result<Vec<PendingAdjustment>, StoreError> {
        self.pending_adjustment_rows().await
    }

    async fn decide_adjustment(&self, id: i64, by: OperatorId, approve: bool, at_ms: i64) -> Result<giftbiz_core::Won, DecideError> {
        self.decide_adjustment_row(id, by, approve, at_ms).await
    }

    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO console_audit (at_ms, operator_id, operator_name, action, target, before_json, after_json, reason, source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(event.at_ms)
        .bind(event.operator_id.get())
        .bind(event.operator_name.as_str())
        .bind(event.action)
        .bind(event.target.as_str())
        .bind(event.before.as_deref())
        .bind(event.after.as_deref())
        .bind(event.reason.as_str())
        .bind(event.source.as_str())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn audit_log(&self, filter: &AuditFilter, before_id: Option<i64>, limit: u32) -> Result<Vec<AuditLogEntry>, StoreError> {
        // Keyset pages: newest first, each page below the last one's id. An action also
        // matches the actions under it (`bizmoney` → `bizmoney.charge`): a prefix compared
        // with substr, so no LIKE wildcard in the input counts.
        let under = filter.action.as_ref().map(|a| format!("{a}."));
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at_ms, operator_name, action, target, before_json, after_json, reason, source FROM console_audit
             WHERE ($1 IS NULL OR target = $1) AND ($2 IS NULL OR operator_name = $2)
               AND ($3 IS NULL OR action = $3 OR substr(action, 1, length($4)) = $4)
               AND id < $5 ORDER BY id DESC LIMIT $6",
        )
        .bind(filter.target.as_deref())
        .bind(filter.operator.as_deref())
        .bind(filter.action.as_deref())
        .bind(under.as_deref())
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(|r| AuditLogEntry {
                id: r.id,
                at_ms: r.at_ms,
                operator_name: r.operator_name,
                action: r.action,
                target: r.target,
                before: r.before_json,
                after: r.after_json,
                reason: r.reason,
                source: r.source,
            })
            .collect())
    }

    async fn end_session(&self, token_hash: &TokenHash) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(token_hash.as_str())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
} }

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at_ms: i64,
    operator_name: String,
    action: String,
    target: String,
    before_json: Option<String>,
    after_json: Option<String>,
    reason: String,
    source: String,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    operator: OperatorRow,
    session_created_at_ms: i64,
    last_seen_ms: i64,
}

sql_impl! { impl {
    /// A credential changed (`sql` binds the value, then the username) and the operator's
    /// sessions ended, in one transaction; false when there is no such operator.
    async fn set_credential(&self, sql: &str, value: Option<&str>, username: &Username) -> Result<bool, StoreError> {
        let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
        let done = sqlx::query(sql).bind(value).bind(username.as_str()).execute(&mut *tx).await.map_err(backend)?;
        Self::end_sessions_of(&mut tx, username).await?;
        tx.commit().await.map_err(backend)?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn end_sessions_of(
        tx: &mut sqlx::Transaction<'static, D::DB>,
        username: &Username,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM console_sessions WHERE operator_id IN (SELECT id FROM operators WHERE username = $1)")
            .bind(username.as_str())
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
        Ok(())
    }
} }
