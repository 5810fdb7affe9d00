//! The SQLite implementation of [`giftbiz_core::Store`], the embedded default.
//!
//! An operator CLI may write the same file while a server runs, so every piece of state lives in
//! the database (nothing is cached in-process), the file runs in WAL mode so readers never block
//! the writer, and multi-statement writes start with `BEGIN IMMEDIATE`: a deferred transaction
//! that read first could not upgrade to a write lock once another process had committed, and
//! would fail at once instead of waiting out the busy timeout.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use giftbiz_core::account::TokenHash;
use giftbiz_core::coupon::{
    BizmoneyError, CancelError, Coupon, IssueError, LedgerEntry, LedgerReason, NewCoupon,
    SendFailError,
};
use giftbiz_core::delivery::{DeliveryOutcome, MessageKind, OutboxMessage, ResendError};
use giftbiz_core::partner::{AuditEntry, AuditRecord, NewPartner, Partner, RedeemError};
use giftbiz_core::grade::UnknownGrade;
use giftbiz_core::{Account, Brand, CatalogCounts, Goods, Grade, NewAccount, Store, StoreError};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, Transaction};

mod coupons;
mod delivery;
mod lifecycle;
mod group_commit;
mod hot_read;

use group_commit::IssueWriter;
use hot_read::HotReader;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// SQLite's default bound-parameter limit (`SQLITE_MAX_VARIABLE_NUMBER`, since 3.32).
const MAX_BIND_PARAMS: usize = 32_766;

/// How often [`open`] tries before giving up; with its back-off, about the busy timeout.
const OPEN_ATTEMPTS: u32 = 20;

/// A pool of connections to one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    hot: std::sync::Arc<HotReader>,
    issues: std::sync::Arc<IssueWriter>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `url`, e.g. `sqlite://giftbiz.db`, and
    /// brings its schema up to date.
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: under WAL, NORMAL may lose the latest commits on a power cut.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let hot = std::sync::Arc::new(HotReader::new(options.get_filename().to_owned()));
        let pool = open(options.clone()).await?;
        // After `open`: the writer's connection must find the file migrated.
        let issues = std::sync::Arc::new(IssueWriter::start(options.get_filename())?);
        Ok(SqliteStore { pool, hot, issues })
    }

    /// Closes every connection, waiting for those in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction holding the write lock from its first statement on.
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend)
    }
}

/// Opens the pool and runs the migrations, retrying two races that fail at once instead of
/// waiting out the busy timeout, both of which a CLI and a server opening a fresh file together
/// can hit: turning the file to WAL takes an exclusive lock without calling the busy handler,
/// and sqlx takes no lock around migrations on SQLite, so both may apply the same migration
/// (the loser fails and, on a retry, finds it applied).
async fn open(options: SqliteConnectOptions) -> Result<SqlitePool, StoreError> {
    let mut attempt = 1;
    loop {
        let e = match try_open(options.clone()).await {
            Ok(pool) => return Ok(pool),
            Err(e) => e,
        };
        let transient = match &e {
            MigrateError::Execute(e) => is_busy(e),
            MigrateError::ExecuteMigration(..) => true,
            _ => false,
        };
        if !transient || attempt == OPEN_ATTEMPTS {
            return Err(backend(e));
        }
        tracing::debug!(error = %e, attempt, "opening the sqlite store failed, retrying");
        tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt.min(10)))).await;
        attempt += 1;
    }
}

async fn try_open(options: SqliteConnectOptions) -> Result<SqlitePool, MigrateError> {
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    if let Err(e) = MIGRATOR.run(&pool).await {
        pool.close().await;
        return Err(e);
    }
    Ok(pool)
}

/// `SQLITE_BUSY` or `SQLITE_LOCKED`, extended codes included.
fn is_busy(e: &sqlx::Error) -> bool {
    let code = match e {
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse::<i32>().ok()),
        _ => None,
    };
    matches!(code.map(|c| c & 0xff), Some(5 | 6))
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    user_id: String,
    auth_code: String,
    token_hash: String,
    grade: String,
    created_at_ms: i64,
}

impl AccountRow {
    fn into_account(self) -> Result<Account, StoreError> {
        let grade = self.grade.parse().map_err(|e: UnknownGrade| {
            StoreError::Corrupt(format!("account {:?}: {e}", self.user_id))
        })?;
        Ok(Account {
            id: self.id,
            user_id: self.user_id,
            auth_code: self.auth_code,
            token_hash: TokenHash::from_stored(self.token_hash),
            grade,
            created_at_ms: self.created_at_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AuthRow {
    #[sqlx(flatten)]
    account: AccountRow,
    revision: i64,
}

const ACCOUNT_COLUMNS: &str = "id, user_id, auth_code, token_hash, grade, created_at_ms";

fn decode_doc<T: serde::de::DeserializeOwned>(
    what: &str,
    key: &str,
    doc: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("{what} {key:?}: {e}")))
}

fn decode_docs<T: serde::de::DeserializeOwned>(
    what: &str,
    rows: Vec<(String, String)>,
) -> Result<Vec<T>, StoreError> {
    rows.iter()
        .map(|(key, doc)| decode_doc(what, key, doc))
        .collect()
}

/// Keeps the last item of each key, in input order. Upserting a batch must behave like
/// upserting its items one by one, where a later duplicate replaces an earlier one.
fn last_per_key<T>(items: &[T], key: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(key(item), i);
    }
    items
        .iter()
        .enumerate()
        .filter(|&(i, item)| last[key(item)] == i)
        .map(|(_, item)| item)
        .collect()
}

/// Serializes each item to its `doc`.
fn with_docs<T: serde::Serialize>(items: Vec<&T>) -> Result<Vec<(&T, String)>, StoreError> {
    items
        .into_iter()
        .map(|item| Ok((item, serde_json::to_string(item).map_err(backend)?)))
        .collect()
}

#[async_trait]
impl Store for SqliteStore {
    fn engine(&self) -> &'static str {
        "sqlite"
    }

    async fn create_account(&self, new: &NewAccount) -> Result<Account, StoreError> {
        // One statement, so autocommit is atomic and waits out a busy writer by itself.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (user_id, auth_code, token_hash, grade, created_at_ms)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&new.user_id)
        .bind(&new.auth_code)
        .bind(new.token_hash.as_str())
        .bind(new.grade.as_str())
        .bind(new.created_at_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match &e {
            // SQLite names no constraint; its message does: "UNIQUE constraint failed: accounts.user_id".
            sqlx::Error::Database(db)
                if db.is_unique_violation() && db.message().contains("accounts.user_id") =>
            {
                StoreError::UserIdTaken(new.user_id.clone())
            }
            _ => backend(e),
        })?;
        Ok(Account {
            id,
            user_id: new.user_id.clone(),
            auth_code: new.auth_code.clone(),
            token_hash: new.token_hash.clone(),
            grade: new.grade,
            created_at_ms: new.created_at_ms,
        })
    }

    async fn account_by_auth_code(&self, auth_code: &str) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE auth_code = ?");
        let row: Option<AccountRow> = sqlx::query_as(&sql)
            .bind(auth_code)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(AccountRow::into_account).transpose()
    }

    async fn auth_lookup(&self, auth_code: &str) -> Result<Option<(Account, i64)>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS}, (SELECT revision FROM catalog_meta WHERE id = 1) AS revision \
             FROM accounts WHERE auth_code = ?1"
        );
        let row = self.hot.read(|conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query([auth_code])?;
            let Some(r) = rows.next()? else {
                return Ok(None);
            };
            let account = AccountRow {
                id: r.get(0)?,
                user_id: r.get(1)?,
                auth_code: r.get(2)?,
                token_hash: r.get(3)?,
                grade: r.get(4)?,
                created_at_ms: r.get(5)?,
            };
            Ok(Some(AuthRow {
                account,
                revision: r.get(6)?,
            }))
        })?;
        row.map(|r| Ok((r.account.into_account()?, r.revision)))
            .transpose()
    }

    async fn account_by_user_id(&self, user_id: &str) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE user_id = ?");
        let row: Option<AccountRow> = sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(AccountRow::into_account).transpose()
    }

    async fn list_accounts(&self) -> Result<Vec<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id");
        let rows: Vec<AccountRow> = sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter().map(AccountRow::into_account).collect()
    }

    async fn set_grade(&self, user_id: &str, grade: Grade) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE accounts SET grade = ? WHERE user_id = ?")
            .bind(grade.as_str())
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_token_hash(&self, user_id: &str, hash: &TokenHash) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE accounts SET token_hash = ? WHERE user_id = ?")
            .bind(hash.as_str())
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn catalog_revision(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT revision FROM catalog_meta WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn upsert_catalog(
        &self,
        brands: &[Brand],
        goods: &[Goods],
    ) -> Result<CatalogCounts, StoreError> {
        let brands = with_docs(last_per_key(brands, |b| &b.brand_code))?;
        let goods = with_docs(last_per_key(goods, |g| &g.goods_code))?;

        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE catalog_meta SET revision = revision + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;

        for chunk in brands.chunks(MAX_BIND_PARAMS / 4) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO brands (brand_code, brand_seq, sort, doc) ",
            );
            insert.push_values(chunk, |mut row, (brand, doc)| {
                row.push_bind(&brand.brand_code)
                    .push_bind(brand.brand_seq)
                    .push_bind(brand.sort)
                    .push_bind(doc);
            });
            insert.push(
                " ON CONFLICT (brand_code) DO UPDATE SET
                 brand_seq = excluded.brand_seq, sort = excluded.sort, doc = excluded.doc",
            );
            // Not persistent: caching statements this large in every connection buys nothing.
            insert
                .build()
                .persistent(false)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }

        for chunk in goods.chunks(MAX_BIND_PARAMS / 5) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO goods (goods_code, goods_no, brand_code, state, doc) ",
            );
            insert.push_values(chunk, |mut row, (g, doc)| {
                row.push_bind(&g.goods_code)
                    .push_bind(g.goods_no)
                    .push_bind(&g.brand_code)
                    .push_bind(g.state.code())
                    .push_bind(doc);
            });
            insert.push(
                " ON CONFLICT (goods_code) DO UPDATE SET goods_no = excluded.goods_no,
                 brand_code = excluded.brand_code, state = excluded.state, doc = excluded.doc",
            );
            insert
                .build()
                .persistent(false)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }

        tx.commit().await.map_err(backend)?;
        Ok(CatalogCounts {
            brands: brands.len(),
            goods: goods.len(),
        })
    }

    async fn all_goods(&self) -> Result<Vec<Goods>, StoreError> {
        let rows =
            sqlx::query_as("SELECT goods_code, doc FROM goods ORDER BY goods_no, goods_code")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        decode_docs("goods", rows)
    }

    async fn goods_batch(
        &self,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<Goods>, StoreError> {
        let (no, code) = after.unwrap_or((i64::MIN, String::new()));
        let rows = sqlx::query_as(
            "SELECT goods_code, doc FROM goods WHERE (goods_no, goods_code) > (?, ?) \
             ORDER BY goods_no, goods_code LIMIT ?",
        )
        .bind(no)
        .bind(code)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        decode_docs("goods", rows)
    }

    async fn goods_by_code(&self, goods_code: &str) -> Result<Option<Goods>, StoreError> {
        // On every send's path: read on the calling thread, like the auth lookup.
        let doc: Option<String> = self.hot.read(|conn| {
            use rusqlite::OptionalExtension;
            conn.prepare_cached("SELECT doc FROM goods WHERE goods_code = ?1")?
                .query_row([goods_code], |r| r.get(0))
                .optional()
        })?;
        doc.map(|doc| decode_doc("goods", goods_code, &doc))
            .transpose()
    }

    async fn all_brands(&self) -> Result<Vec<Brand>, StoreError> {
        let rows = sqlx::query_as("SELECT brand_code, doc FROM brands ORDER BY sort, brand_code")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        decode_docs("brand", rows)
    }

    async fn brand_by_code(&self, brand_code: &str) -> Result<Option<Brand>, StoreError> {
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM brands WHERE brand_code = ?")
            .bind(brand_code)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        doc.map(|doc| decode_doc("brand", brand_code, &doc))
            .transpose()
    }

    async fn change_bizmoney(
        &self,
        user_id: &str,
        amount: i64,
        reason: LedgerReason,
        memo: &str,
        now_ms: i64,
    ) -> Result<i64, BizmoneyError> {
        self.change_bizmoney_tx(user_id, amount, reason, memo, now_ms)
            .await
    }

    async fn bizmoney_balance(&self, account_id: i64) -> Result<i64, StoreError> {
        self.balance_of(account_id).await
    }

    async fn ledger(&self, account_id: i64) -> Result<Vec<LedgerEntry>, StoreError> {
        self.ledger_of(account_id).await
    }

    async fn issue_coupon(&self, new: &NewCoupon) -> Result<Coupon, IssueError> {
        self.issues.issue(new).await
    }

    async fn coupon_by_tr_id(
        &self,
        account_id: i64,
        tr_id: &str,
    ) -> Result<Option<Coupon>, StoreError> {
        self.coupon_by_tr_id_in(account_id, tr_id).await
    }

    async fn coupon_by_image_token(&self, image_token: &str) -> Result<Option<Coupon>, StoreError> {
        self.coupon_by_image_token_in(image_token).await
    }

    async fn cancel_coupon(
        &self,
        account_id: i64,
        tr_id: &str,
        now_ms: i64,
    ) -> Result<Coupon, CancelError> {
        self.cancel_coupon_tx(account_id, tr_id, now_ms).await
    }

    async fn send_fail_cancel(
        &self,
        account_id: i64,
        tr_id: &str,
        now_ms: i64,
    ) -> Result<(), SendFailError> {
        self.send_fail_cancel_tx(account_id, tr_id, now_ms).await
    }

    async fn claim_due_messages(
        &self,
        now_ms: i64,
        limit: u32,
        lease_ms: i64,
        worker: &str,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.claim_due_tx(now_ms, limit, lease_ms, worker).await
    }

    async fn finish_message(
        &self,
        id: i64,
        worker: &str,
        outcome: &DeliveryOutcome,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.finish_message_tx(id, worker, outcome, now_ms).await
    }

    async fn enqueue_resend(
        &self,
        account_id: i64,
        tr_id: &str,
        kind: MessageKind,
        now_ms: i64,
    ) -> Result<(), ResendError> {
        self.enqueue_resend_tx(account_id, tr_id, kind, now_ms).await
    }

    async fn expire_coupons(&self, now_ms: i64, limit: u32) -> Result<u64, StoreError> {
        self.expire_coupons_tx(now_ms, limit).await
    }

    async fn create_partner(&self, new: &NewPartner) -> Result<Partner, StoreError> {
        self.create_partner_in(new).await
    }

    async fn partner_by_code(&self, partner_code: &str) -> Result<Option<Partner>, StoreError> {
        self.partner_by_code_in(partner_code).await
    }

    async fn list_partners(&self) -> Result<Vec<Partner>, StoreError> {
        self.list_partners_in().await
    }

    async fn coupon_by_pin(&self, pin: &str) -> Result<Option<Coupon>, StoreError> {
        self.coupon_by_pin_in(pin).await
    }

    async fn redeem(
        &self,
        partner_id: i64,
        pin: &str,
        brand_codes: &[String],
        now_ms: i64,
    ) -> Result<Coupon, RedeemError> {
        self.redeem_tx(partner_id, pin, brand_codes, now_ms).await
    }

    async fn audit_redemption(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.audit_redemption_in(entry).await
    }

    async fn redemption_audit(&self, partner_id: i64) -> Result<Vec<AuditRecord>, StoreError> {
        self.redemption_audit_of(partner_id).await
    }
}
