//! The SQL core of giftbiz's stores: one implementation of every storage capability
//! (`giftbiz_core::store`), generic over the engine.
//!
//! Row types, their mapping to domain values and every query that reads the same in both
//! dialects live here once, written with `$1` placeholders (sqlx binds them on SQLite too). An
//! engine crate supplies a [`Dialect`]: how to open a write transaction, which row locks it
//! has, how it names a broken constraint, and the few operations whose SQL truly differs
//! (a send, the outbox claim, expiry) or that have a faster path of their own (SQLite's hot
//! reads). Its migrations stay with it; the contract suite checks that both schemas agree.

use std::future::Future;

use std::sync::Arc;

use giftbiz_core::coupon::{Coupon, IssueError, NewCoupon};
use giftbiz_core::delivery::Claim;
use giftbiz_core::freshness::{ChangeListener, LocalChanges, OnChange};
use giftbiz_core::pin_vault::{PinVault, ProtectedPin};
use giftbiz_core::{Store, StoreError};
use sqlx::{Database, Pool, Transaction};

mod accounts;
mod catalog;
mod changes;
mod issuance;
mod operators;
mod outbox;
mod partners;
mod pins;
mod probe;
pub mod rows;

use rows::{AuthRow, MessageRow};

/// What differs between engines. Everything else is [`SqlStore`]'s.
pub trait Dialect: Send + Sync + 'static {
    type DB: Database;

    /// `sqlite` or `postgres`.
    const ENGINE: &'static str;
    /// The engine's migrations, which `ProbeStore::schema_status` checks the database has.
    fn migrator() -> &'static sqlx::migrate::Migrator;
    /// Bound parameters one statement may carry.
    const MAX_BIND_PARAMS: usize;
    /// Appends the placeholder of the `n`th (1-based) parameter of a bulk statement: `$n` on
    /// PostgreSQL, a bare `?` on SQLite, where every numbered or named parameter costs a scan of
    /// the statement's parameter names when it is bound (quadratic in a 30,000-parameter upsert).
    fn push_bulk_placeholder(sql: &mut String, n: usize);

    /// `clause` (` FOR UPDATE`, ` FOR NO KEY UPDATE`, ` FOR UPDATE OF c`) on an engine with row
    /// locks, else nothing: SQLite's writers hold the whole database, so a row read in a write
    /// transaction cannot change before it commits.
    fn lock(clause: &'static str) -> &'static str;

    /// A transaction for a read-then-write: the one way every multi-statement write starts
    /// (SQLite's takes the write lock at its first statement: `BEGIN IMMEDIATE`).
    fn begin_write(
        pool: &Pool<Self::DB>,
    ) -> impl Future<Output = Result<Transaction<'static, Self::DB>, sqlx::Error>> + Send;

    /// Rows a statement changed (sqlx has no trait for it).
    fn rows_affected(done: &<Self::DB as Database>::QueryResult) -> u64;

    /// Whether `e` is the violation of the uniqueness of `column`, named `table.column`
    /// (`accounts.user_id`): SQLite's message names it so; PostgreSQL's constraint is
    /// `table_column_key`, the name it gives a column's `UNIQUE`.
    fn violates_unique(e: &sqlx::Error, column: &str) -> bool;

    /// The send: claim the tr_id, charge, create the coupon and its message, in one
    /// transaction (PostgreSQL: one function call; SQLite: group commit).
    fn issue_coupon(
        &self,
        pool: &Pool<Self::DB>,
        new: &NewCoupon,
        pin: &ProtectedPin,
    ) -> impl Future<Output = Result<Coupon, IssueError>> + Send;

    /// Makes a worker's claim on the outbox (see `OutboxStore::claim_due_messages`).
    fn claim_due_messages(
        &self,
        pool: &Pool<Self::DB>,
        claim: &Claim<'_>,
    ) -> impl Future<Output = Result<Vec<MessageRow>, StoreError>> + Send;

    /// Expires a batch (see `IssuanceStore::expire_coupons`); `limit` is above zero.
    fn expire_coupons(
        &self,
        pool: &Pool<Self::DB>,
        now_ms: i64,
        limit: u32,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// After clear PINs were sealed: removes the old row versions that still spell them where
    /// a copy of the database would show them (SQLite's free pages and WAL). PostgreSQL's dead
    /// row versions are in no dump and are vacuumed in time, so it does nothing.
    fn scrub_replaced_rows(_pool: &Pool<Self::DB>) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
        async { Ok(()) }
    }

    /// The auth lookup on a path of the engine's own, if it has one (else `None`, and the
    /// shared query runs).
    fn hot_auth_lookup(&self, _auth_code: &str) -> Option<Result<Option<AuthRow>, StoreError>> {
        None
    }

    /// A goods' stored document on a path of the engine's own, if it has one.
    fn hot_goods_doc(&self, _goods_code: &str) -> Option<Result<Option<String>, StoreError>> {
        None
    }

    /// See `ChangeFeed::listen_changes`: only an engine with notifications has one.
    fn listen_changes(_pool: &Pool<Self::DB>, _on_change: OnChange) -> Option<ChangeListener> {
        None
    }
}

/// One database, with every capability of [`Store`].
pub struct SqlStore<D: Dialect> {
    pool: Pool<D::DB>,
    dialect: D,
    /// Seals the PINs it writes and opens those it reads; only lookups reach the SQL.
    vault: Arc<PinVault>,
    /// Bumped after each of its writes of accounts or the catalog commits.
    changes: LocalChanges,
}

impl<D: Dialect> SqlStore<D> {
    /// A store over `pool`, whose schema the engine has migrated. Call [`SqlStore::open_pins`]
    /// before serving from it.
    pub fn new(pool: Pool<D::DB>, dialect: D, vault: Arc<PinVault>) -> SqlStore<D> {
        SqlStore { pool, dialect, vault, changes: LocalChanges::default() }
    }
}

impl<D: Dialect> std::fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore").field("engine", &D::ENGINE).finish_non_exhaustive()
    }
}

/// A generic `impl` block over every dialect: `sql_impl! { impl AccountStore { ... } }` for a
/// capability, `sql_impl! { impl { ... } }` for [`SqlStore`]'s own helpers. sqlx states what
/// an engine can do as bounds on other types (`i64: Encode<DB>`, `&mut Connection: Executor`),
/// and Rust does not carry a trait's where-clauses to its users, so the bounds every query here
/// needs are written once, in this macro, rather than on each block.
macro_rules! sql_impl {
    (impl $capability:ident { $($body:tt)* }) => {
        sql_impl! { @bounded [
            #[async_trait::async_trait]
            impl<D: $crate::Dialect> giftbiz_core::$capability for $crate::SqlStore<D>
        ] { $($body)* } }
    };
    (impl { $($body:tt)* }) => {
        sql_impl! { @bounded [impl<D: $crate::Dialect> $crate::SqlStore<D>] { $($body)* } }
    };
    (@bounded [$($head:tt)*] { $($body:tt)* }) => {
        $($head)*
        where
            for<'c> &'c mut <D::DB as sqlx::Database>::Connection: sqlx::Executor<'c, Database = D::DB>,
            for<'q> <D::DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, D::DB>,
            D::DB: sqlx::database::HasStatementCache,
            for<'q> i64: sqlx::Encode<'q, D::DB> + sqlx::Decode<'q, D::DB> + sqlx::Type<D::DB>,
            for<'q> Option<i64>: sqlx::Encode<'q, D::DB>,
            for<'q> i32: sqlx::Decode<'q, D::DB> + sqlx::Type<D::DB>,
            for<'q> bool: sqlx::Decode<'q, D::DB> + sqlx::Type<D::DB>,
            for<'q> String: sqlx::Encode<'q, D::DB> + sqlx::Decode<'q, D::DB> + sqlx::Type<D::DB>,
            for<'q> &'q str: sqlx::Encode<'q, D::DB> + sqlx::Type<D::DB>
                + sqlx::ColumnIndex<<D::DB as sqlx::Database>::Row>,
            for<'q> Option<&'q str>: sqlx::Encode<'q, D::DB>,
            usize: sqlx::ColumnIndex<<D::DB as sqlx::Database>::Row>,
        { $($body)* }
    };
}
pub(crate) use sql_impl;

/// A database failure, for [`StoreError`].
pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

#[async_trait::async_trait]
impl<D: Dialect> Store for SqlStore<D>
where
    SqlStore<D>: giftbiz_core::AccountStore
        + giftbiz_core::CatalogStore
        + giftbiz_core::IssuanceStore
        + giftbiz_core::OutboxStore
        + giftbiz_core::PartnerStore
        + giftbiz_core::OperatorStore
        + giftbiz_core::ProbeStore
        + giftbiz_core::ChangeFeed,
{
    fn engine(&self) -> &'static str {
        D::ENGINE
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
