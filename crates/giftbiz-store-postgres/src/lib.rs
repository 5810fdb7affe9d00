//! The PostgreSQL implementation of [`giftbiz_core::Store`].
//!
//! Every piece of state lives in the database (nothing is cached in-process), so several servers
//! and the operator CLI can share one database.

use std::collections::HashMap;
use std::sync::Arc;

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
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Executor;

mod coupons;
mod delivery;
mod lifecycle;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Rows per bulk upsert statement. The rows travel as arrays (one bind parameter per column),
/// so PostgreSQL's 65535-parameter limit does not apply; the chunk only bounds one message (a
/// goods doc is about 1 KB) while keeping round trips few.
const UPSERT_CHUNK_ROWS: usize = 5_000;

/// The constraint whose violation means "user id taken" (named in the migration).
const USER_ID_UNIQUE: &str = "accounts_user_id_key";

/// A pool of connections to one PostgreSQL database (and schema).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Admission to the send transaction, per account (see [`coupons::SendGates`]).
    send_gates: Arc<coupons::SendGates>,
}

impl PgStore {
    /// Connects to `url`, e.g. `postgres://giftbiz@db/giftbiz`, and brings the schema up to
    /// date. The tables live in the connection's default schema (normally `public`).
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let pool = pool_options().connect(url).await.map_err(backend)?;
        PgStore::migrated(pool).await
    }

    /// Like [`PgStore::connect`], but keeps everything, the migrations table included, in
    /// `schema`, created if missing. Lets tests (or tenants) share one database.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<PgStore, StoreError> {
        let schema = quote_ident(schema);
        // A session setting, so every pooled connection needs it, not only the first.
        let set_path: Arc<str> = format!("SET search_path TO {schema}").into();
        let pool = pool_options()
            .after_connect(move |conn, _meta| {
                let set_path = Arc::clone(&set_path);
                Box::pin(async move { conn.execute(&*set_path).await.map(drop) })
            })
            .connect(url)
            .await
            .map_err(backend)?;
        create_schema(&pool, &schema).await?;
        PgStore::migrated(pool).await
    }

    /// Closes every connection, waiting for those in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// sqlx holds a database-wide advisory lock while migrating, so concurrent connects (to
    /// different schemas too) take turns instead of failing.
    async fn migrated(pool: PgPool) -> Result<PgStore, StoreError> {
        MIGRATOR.run(&pool).await.map_err(backend)?;
        Ok(PgStore { pool, send_gates: Arc::new(coupons::SendGates::new()) })
    }
}

/// A connection idle for longer than this is pinged before use (see [`pool_options`]).
const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// sqlx pings every pooled connection on every acquire by default: one extra round trip per
/// statement, which doubled a send's round trips (three statements, three pings). A connection
/// that was just in use is known to be alive; only one that sat idle for a while (a server
/// restart, a firewall dropping idle sockets) is worth a ping.
fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(16)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// `name` as a quoted identifier, so any schema name is safe to splice into SQL.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `IF NOT EXISTS` is no lock: two sessions creating the same schema at once can both pass the
/// check, and the loser then fails on the catalog's unique index. Both errors mean "it exists".
async fn create_schema(pool: &PgPool, quoted: &str) -> Result<(), StoreError> {
    match pool
        .execute(format!("CREATE SCHEMA IF NOT EXISTS {quoted}").as_str())
        .await
    {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db))
            if matches!(db.code().as_deref(), Some("23505" | "42P06")) =>
        {
            Ok(())
        }
        Err(e) => Err(backend(e)),
    }
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
/// upserting its items one by one, where a later duplicate replaces an earlier one (and
/// PostgreSQL refuses to let one statement's `ON CONFLICT DO UPDATE` touch a row twice).
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
impl Store for PgStore {
    fn engine(&self) -> &'static str {
        "postgres"
    }

    async fn create_account(&self, new: &NewAccount) -> Result<Account, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (user_id, auth_code, token_hash, grade, created_at_ms)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&new.user_id)
        .bind(&new.auth_code)
        .bind(new.token_hash.as_str())
        .bind(new.grade.as_str())
        .bind(new.created_at_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.constraint() == Some(USER_ID_UNIQUE) => {
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
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE auth_code = $1");
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
             FROM accounts WHERE auth_code = $1"
        );
        let row: Option<AuthRow> = sqlx::query_as(&sql)
            .bind(auth_code)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|r| Ok((r.account.into_account()?, r.revision)))
            .transpose()
    }

    async fn account_by_user_id(&self, user_id: &str) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE user_id = $1");
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
        let done = sqlx::query("UPDATE accounts SET grade = $1 WHERE user_id = $2")
            .bind(grade.as_str())
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_token_hash(&self, user_id: &str, hash: &TokenHash) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE accounts SET token_hash = $1 WHERE user_id = $2")
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

        let mut tx = self.pool.begin().await.map_err(backend)?;
        // First, so that its row lock queues concurrent catalog writers: two of them upserting
        // the same codes in different orders would otherwise deadlock.
        sqlx::query("UPDATE catalog_meta SET revision = revision + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;

        for chunk in brands.chunks(UPSERT_CHUNK_ROWS) {
            let codes: Vec<&str> = chunk.iter().map(|(b, _)| b.brand_code.as_str()).collect();
            let seqs: Vec<i64> = chunk.iter().map(|(b, _)| b.brand_seq).collect();
            let sorts: Vec<i64> = chunk.iter().map(|(b, _)| b.sort).collect();
            let docs: Vec<&str> = chunk.iter().map(|(_, doc)| doc.as_str()).collect();
            sqlx::query(
                "INSERT INTO brands (brand_code, brand_seq, sort, doc)
                 SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[])
                 ON CONFLICT (brand_code) DO UPDATE SET
                 brand_seq = EXCLUDED.brand_seq, sort = EXCLUDED.sort, doc = EXCLUDED.doc",
            )
            .bind(codes)
            .bind(seqs)
            .bind(sorts)
            .bind(docs)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }

        for chunk in goods.chunks(UPSERT_CHUNK_ROWS) {
            let codes: Vec<&str> = chunk.iter().map(|(g, _)| g.goods_code.as_str()).collect();
            let numbers: Vec<i64> = chunk.iter().map(|(g, _)| g.goods_no).collect();
            let brand_codes: Vec<&str> = chunk.iter().map(|(g, _)| g.brand_code.as_str()).collect();
            let states: Vec<&str> = chunk.iter().map(|(g, _)| g.state.code()).collect();
            let docs: Vec<&str> = chunk.iter().map(|(_, doc)| doc.as_str()).collect();
            sqlx::query(
                "INSERT INTO goods (goods_code, goods_no, brand_code, state, doc)
                 SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[])
                 ON CONFLICT (goods_code) DO UPDATE SET goods_no = EXCLUDED.goods_no,
                 brand_code = EXCLUDED.brand_code, state = EXCLUDED.state, doc = EXCLUDED.doc",
            )
            .bind(codes)
            .bind(numbers)
            .bind(brand_codes)
            .bind(states)
            .bind(docs)
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
            "SELECT goods_code, doc FROM goods WHERE (goods_no, goods_code) > ($1, $2) \
             ORDER BY goods_no, goods_code LIMIT $3",
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
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM goods WHERE goods_code = $1")
            .bind(goods_code)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
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
        let doc: Option<String> =
            sqlx::query_scalar("SELECT doc FROM brands WHERE brand_code = $1")
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
        self.issue_coupon_tx(new).await
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
