//! The SQLite dialect of giftbiz's store (`giftbiz-store-sql`), the embedded default.
//!
//! An operator CLI may write the same file while a server runs, so every piece of state lives in
//! the database (a server's caches learn of the CLI's changes from revisions its triggers bump,
//! migration 0020), the file runs in WAL mode so readers never block
//! the writer, and multi-statement writes start with `BEGIN IMMEDIATE`: a deferred transaction
//! that read first could not upgrade to a write lock once another process had committed, and
//! would fail at once instead of waiting out the busy timeout. What SQLite does its own way:
//! sends are group-committed ([`group_commit`]), the hot reads bypass sqlx ([`hot_read`]), and
//! the outbox claim and expiry select, then update, under that lock.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use giftbiz_core::coupon::{Coupon, IssueError, NewCoupon};
use giftbiz_core::delivery::Claim;
use giftbiz_core::pin_vault::{PinVault, ProtectedPin};
use giftbiz_core::StoreError;
use giftbiz_store_sql::rows::{AccountRow, AuthRow, MessageRow, AUTH_LOOKUP_SQL, GOODS_DOC_SQL};
use giftbiz_store_sql::{backend, Dialect, SqlStore};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteQueryResult, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

mod claims;
mod group_commit;
pub use group_commit::GROUP_COMMIT_BATCH_METRIC;
mod hot_read;

use group_commit::IssueWriter;
use hot_read::HotReader;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How often [`open`] tries before giving up; with its back-off, about the busy timeout.
const OPEN_ATTEMPTS: u32 = 20;

/// A store on one SQLite file.
pub type SqliteStore = SqlStore<SqliteDialect>;

/// What SQLite does its own way, and the state it needs for it.
pub struct SqliteDialect {
    hot: HotReader,
    issues: IssueWriter,
}

/// Opens (creating it if missing) the database at `url`, e.g. `sqlite://giftbiz.db`, brings
/// its schema up to date and seals any clear PIN with `vault`.
pub async fn connect(url: &str, vault: Arc<PinVault>) -> Result<SqliteStore, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(backend)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: under WAL, NORMAL may lose the latest commits on a power cut.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let hot = HotReader::new(options.get_filename().to_owned());
    let pool = open(options.clone()).await?;
    // After `open`: the writer's connection must find the file migrated.
    let issues = IssueWriter::start(options.get_filename())?;
    let store = SqlStore::new(pool, SqliteDialect { hot, issues }, vault);
    store.open_pins().await?;
    Ok(store)
}

/// Writes a consistent copy of the database at `url` to the new file `out` while it serves:
/// `VACUUM INTO` reads one snapshot (WAL mode lets writers go on meanwhile) and writes a
/// compact file, committed WAL content included. Refuses an existing `out`.
pub async fn backup(url: &str, out: &std::path::Path) -> Result<(), StoreError> {
    if out.exists() {
        return Err(StoreError::Corrupt(format!("{} exists; a backup goes to a new file", out.display())));
    }
    let options = SqliteConnectOptions::from_str(url).map_err(backend)?.busy_timeout(Duration::from_secs(10));
    let mut conn = sqlx::ConnectOptions::connect(&options).await.map_err(backend)?;
    let out = out.to_str().ok_or_else(|| StoreError::Corrupt("the backup path is not UTF-8".into()))?;
    sqlx::query("VACUUM INTO $1").bind(out).execute(&mut conn).await.map_err(backend)?;
    sqlx::Connection::close(conn).await.map_err(backend)?;
    Ok(())
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
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
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

impl Dialect for SqliteDialect {
    type DB = Sqlite;
    const ENGINE: &'static str = "sqlite";

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }
    /// `SQLITE_MAX_VARIABLE_NUMBER`'s default since 3.32.
    const MAX_BIND_PARAMS: usize = 32_766;

    fn lock(_clause: &'static str) -> &'static str {
        ""
    }

    async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    fn push_bulk_placeholder(sql: &mut String, _n: usize) {
        sql.push('?');
    }

    async fn scrub_replaced_rows(pool: &SqlitePool) -> Result<(), sqlx::Error> {
        // A rebuilt file has no free page left with an old row in it; the truncated WAL no
        // frame. Once, on the open that sealed an older database's clear PINs.
        sqlx::query("VACUUM").execute(pool).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
        Ok(())
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    fn violates_unique(e: &sqlx::Error, column: &str) -> bool {
        // SQLite names no constraint; its message does: "UNIQUE constraint failed: accounts.user_id".
        matches!(e, sqlx::Error::Database(db)
            if db.is_unique_violation() && db.message().strip_prefix("UNIQUE constraint failed: ") == Some(column))
    }

    async fn issue_coupon(&self, _pool: &SqlitePool, new: &NewCoupon, pin: &ProtectedPin) -> Result<Coupon, IssueError> {
        self.issues.issue(new, pin).await
    }

    async fn claim_due_messages(&self, pool: &SqlitePool, claim: &Claim<'_>) -> Result<Vec<MessageRow>, StoreError> {
        claims::claim_due(pool, claim).await
    }

    async fn expire_coupons(&self, pool: &SqlitePool, now_ms: i64, limit: u32) -> Result<u64, StoreError> {
        claims::expire(pool, now_ms, limit).await
    }

    fn hot_auth_lookup(&self, auth_code: &str) -> Option<Result<Option<AuthRow>, StoreError>> {
        // The shared text: SQLite binds `$1` by position.
        Some(self.hot.read(|conn| {
            let mut stmt = conn.prepare_cached(&AUTH_LOOKUP_SQL)?;
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
                suspended_at_ms: r.get(6)?,
            };
            Ok(Some(AuthRow { account, revision: r.get(7)? }))
        }))
    }

    fn hot_goods_doc(&self, goods_code: &str) -> Option<Result<Option<String>, StoreError>> {
        use rusqlite::OptionalExtension;
        Some(self.hot.read(|conn| {
            conn.prepare_cached(GOODS_DOC_SQL)?
                .query_row([goods_code], |r| r.get(0))
                .optional()
        }))
    }
}
