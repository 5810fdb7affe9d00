//! The PostgreSQL dialect of giftbiz's store (`giftbiz-store-sql`).
//!
//! Every piece of state lives in the database, so several servers and the operator CLI can share
//! one; what a server caches of accounts and the catalog it hears of changes to by `LISTEN`
//! ([`notify`]). What PostgreSQL does its own way: row locks
//! (`FOR UPDATE`), a send as one call of a server-side function ([`coupons`]), and the outbox
//! claim and expiry as single statements that skip each other's rows ([`claims`]).

use std::sync::Arc;

use giftbiz_core::coupon::{Coupon, IssueError, NewCoupon};
use giftbiz_core::delivery::Claim;
use giftbiz_core::freshness::{ChangeListener, OnChange};
use giftbiz_core::pin_vault::{PinVault, ProtectedPin};
use giftbiz_core::StoreError;
use giftbiz_store_sql::rows::MessageRow;
use giftbiz_store_sql::{backend, Dialect, SqlStore};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions, PgQueryResult};
use sqlx::{Executor, Postgres, Transaction};

mod claims;
mod coupons;
mod notify;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// A store on one PostgreSQL database (and schema).
pub type PgStore = SqlStore<PgDialect>;

/// What PostgreSQL does its own way, and the state it needs for it.
#[derive(Debug)]
pub struct PgDialect {
    /// Admission to the send transaction, per account (see [`coupons::SendGates`]).
    send_gates: coupons::SendGates,
}

/// Connects to `url`, e.g. `postgres://giftbiz@db/giftbiz`, and brings the schema up to date.
/// The tables live in the connection's default schema (normally `public`).
pub async fn connect(url: &str, vault: Arc<PinVault>) -> Result<PgStore, StoreError> {
    let pool = pool_options().connect(url).await.map_err(backend)?;
    migrated(pool, vault).await
}

/// Like [`connect`], but keeps everything, the migrations table included, in `schema`, created
/// if missing. Lets tests (or tenants) share one database.
pub async fn connect_in_schema(url: &str, schema: &str, vault: Arc<PinVault>) -> Result<PgStore, StoreError> {
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
    migrated(pool, vault).await
}

/// sqlx holds a database-wide advisory lock while migrating, so concurrent connects (to
/// different schemas too) take turns instead of failing.
async fn migrated(pool: PgPool, vault: Arc<PinVault>) -> Result<PgStore, StoreError> {
    MIGRATOR.run(&pool).await.map_err(backend)?;
    let store = SqlStore::new(pool, PgDialect { send_gates: coupons::SendGates::new() }, vault);
    store.open_pins().await?;
    Ok(store)
}

/// How long a statement waits for a pooled connection (see [`pool_options`]).
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A connection idle for longer than this is pinged before use (see [`pool_options`]).
const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// sqlx pings every pooled connection on every acquire by default: one extra round trip per
/// statement, which doubled a send's round trips (three statements, three pings). A connection
/// that was just in use is known to be alive; only one that sat idle for a while (a server
/// restart, a firewall dropping idle sockets) is worth a ping.
///
/// A request waits at most [`ACQUIRE_TIMEOUT`] for a connection (while the database is down,
/// opening one fails over and over until then), so an outage is answered `E9999` within it
/// rather than at the request deadline.
fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(ACQUIRE_TIMEOUT)
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
    match pool.execute(format!("CREATE SCHEMA IF NOT EXISTS {quoted}").as_str()).await {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db)) if matches!(db.code().as_deref(), Some("23505" | "42P06")) => Ok(()),
        Err(e) => Err(backend(e)),
    }
}

impl Dialect for PgDialect {
    type DB = Postgres;
    const ENGINE: &'static str = "postgres";

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }
    const MAX_BIND_PARAMS: usize = 65_535;

    fn lock(clause: &'static str) -> &'static str {
        clause
    }

    async fn begin_write(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        pool.begin().await
    }

    fn push_bulk_placeholder(sql: &mut String, n: usize) {
        use std::fmt::Write;
        let _ = write!(sql, "${n}");
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    fn violates_unique(e: &sqlx::Error, column: &str) -> bool {
        let constraint = format!("{}_key", column.replace('.', "_"));
        matches!(e, sqlx::Error::Database(db) if db.constraint() == Some(constraint.as_str()))
    }

    async fn issue_coupon(&self, pool: &PgPool, new: &NewCoupon, pin: &ProtectedPin) -> Result<Coupon, IssueError> {
        coupons::issue(pool, &self.send_gates, new, pin).await
    }

    async fn claim_due_messages(&self, pool: &PgPool, claim: &Claim<'_>) -> Result<Vec<MessageRow>, StoreError> {
        claims::claim_due(pool, claim).await
    }

    async fn expire_coupons(&self, pool: &PgPool, now_ms: i64, limit: u32) -> Result<u64, StoreError> {
        claims::expire(pool, now_ms, limit).await
    }

    fn listen_changes(pool: &PgPool, on_change: OnChange) -> Option<ChangeListener> {
        Some(notify::listener(pool, on_change))
    }
}
