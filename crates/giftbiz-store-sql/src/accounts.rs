//! Accounts and their credentials.

use giftbiz_core::account::{AuthCode, TokenHash};
use giftbiz_core::{Account, AccountId, Grade, NewAccount, StoreError, UserId};

use crate::rows::{AccountRow, AuthRow, ACCOUNT_COLUMNS, AUTH_LOOKUP_SQL};
use crate::{backend, sql_impl};

sql_impl! { impl AccountStore {
    async fn create_account(&self, new: &NewAccount) -> Result<Account, StoreError> {
        // One statement, so autocommit is atomic (and on SQLite waits out a busy writer).
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (user_id, auth_code, token_hash, grade, created_at_ms)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(new.user_id.as_str())
        .bind(new.auth_code.as_str())
        .bind(new.token_hash.as_str())
        .bind(new.grade.as_str())
        .bind(new.created_at_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| if D::violates_unique(&e, "accounts.user_id") { StoreError::UserIdTaken(new.user_id.clone()) } else { backend(e) })?;
        self.changes.bump();
        Ok(Account {
            id: AccountId::from_stored(id),
            user_id: new.user_id.clone(),
            auth_code: new.auth_code.clone(),
            token_hash: new.token_hash.clone(),
            grade: new.grade,
            created_at_ms: new.created_at_ms,
            suspended_at_ms: None,
        })
    }

    async fn account_by_auth_code(&self, auth_code: &str) -> Result<Option<Account>, StoreError> {
        self.account_where("auth_code", auth_code).await
    }

    async fn auth_lookup(&self, auth_code: &AuthCode) -> Result<Option<(Account, i64)>, StoreError> {
        let row = match self.dialect.hot_auth_lookup(auth_code.as_str()) {
            Some(row) => row?,
            None => sqlx::query_as::<_, AuthRow>(&AUTH_LOOKUP_SQL)
                .bind(auth_code.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?,
        };
        row.map(|r| Ok((r.account.into_account()?, r.revision))).transpose()
    }

    async fn account_by_user_id(&self, user_id: &UserId) -> Result<Option<Account>, StoreError> {
        self.account_where("user_id", user_id.as_str()).await
    }

    async fn account_by_id(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        let row: Option<AccountRow> = sqlx::query_as(&sql).bind(id.get()).fetch_optional(&self.pool).await.map_err(backend)?;
        row.map(AccountRow::into_account).transpose()
    }

    async fn list_accounts(&self) -> Result<Vec<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id");
        let rows: Vec<AccountRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await.map_err(backend)?;
        rows.into_iter().map(AccountRow::into_account).collect()
    }

    async fn set_grade(&self, user_id: &UserId, grade: Grade) -> Result<bool, StoreError> {
        self.set_account_column("grade", user_id, grade.as_str()).await
    }

    async fn set_token_hash(&self, user_id: &UserId, hash: &TokenHash) -> Result<bool, StoreError> {
        self.set_account_column("token_hash", user_id, hash.as_str()).await
    }

    async fn set_suspended(&self, user_id: &UserId, at_ms: Option<i64>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE accounts SET suspended_at_ms = CASE WHEN $1 IS NULL THEN NULL ELSE COALESCE(suspended_at_ms, $1) END
             WHERE user_id = $2",
        )
        .bind(at_ms)
        .bind(user_id.as_str())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        self.changes.bump();
        Ok(D::rows_affected(&done) > 0)
    }
} }

sql_impl! { impl {
    /// The account whose unique `column` (a name from this file, never input) is `value`.
    async fn account_where(&self, column: &'static str, value: &str) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {column} = $1");
        let row: Option<AccountRow> =
            sqlx::query_as(&sql).bind(value).fetch_optional(&self.pool).await.map_err(backend)?;
        row.map(AccountRow::into_account).transpose()
    }

    /// Sets `column` (a name from this file) of the account; false when there is none.
    async fn set_account_column(&self, column: &'static str, user_id: &UserId, value: &str) -> Result<bool, StoreError> {
        let sql = format!("UPDATE accounts SET {column} = $1 WHERE user_id = $2");
        let done = sqlx::query(&sql).bind(value).bind(user_id.as_str()).execute(&self.pool).await.map_err(backend)?;
        self.changes.bump();
        Ok(D::rows_affected(&done) > 0)
    }
} }
