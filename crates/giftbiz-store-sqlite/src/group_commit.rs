//! Group commit for sends: one writer thread takes every send waiting at that moment and
//! issues them all in one transaction, one savepoint each, so a batch pays for one fsync
//! (`synchronous=FULL`) instead of one per send. Each send keeps its own outcome: a refused one
//! (duplicate tr_id, no bizmoney, PIN taken) rolls back to its savepoint and the others commit.
//! Nobody is answered before the batch's commit is durable.
//!
//! The writer uses rusqlite on its own thread: a send is seven statements, and through sqlx each
//! would hop to a worker thread and back while the batch holds SQLite's single write lock.

use std::sync::mpsc;

use giftbiz_core::coupon::{Coupon, IssueError, LedgerReason, NewCoupon, OrderNo, PinStatus};
use giftbiz_core::pin_vault::ProtectedPin;
use giftbiz_core::send::Gubun;
use giftbiz_core::StoreError;
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

/// The histogram of sends per commit.
pub const GROUP_COMMIT_BATCH_METRIC: &str = "giftbiz_sqlite_group_commit_batch_size";

/// Sends committed together at most; more wait for the next batch.
const MAX_BATCH: usize = 256;

struct Job {
    new: NewCoupon,
    pin: ProtectedPin,
    reply: oneshot::Sender<Result<Coupon, IssueError>>,
}

pub(crate) struct IssueWriter {
    jobs: mpsc::Sender<Job>,
}

impl IssueWriter {
    /// Starts the writer thread on its own connection to `path`; it ends when the store (the
    /// last sender) is dropped.
    pub(crate) fn start(path: &std::path::Path) -> Result<IssueWriter, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(backend)?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;").map_err(backend)?;
        let (jobs, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("giftbiz-sqlite-issue".into())
            .spawn(move || run(conn, rx))
            .map_err(backend)?;
        Ok(IssueWriter { jobs })
    }

    pub(crate) async fn issue(&self, new: &NewCoupon, pin: &ProtectedPin) -> Result<Coupon, IssueError> {
        let (reply, answer) = oneshot::channel();
        let gone = || IssueError::Store(StoreError::Corrupt("the issue writer stopped".into()));
        self.jobs.send(Job { new: new.clone(), pin: pin.clone(), reply }).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

fn run(conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!(GROUP_COMMIT_BATCH_METRIC).record(batch.len() as f64);
        let outcomes = issue_batch(&conn, &batch);
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            let _ = job.reply.send(outcome);
        }
    }
}

/// One transaction for the whole batch; on a failed commit every send in it fails.
fn issue_batch(conn: &Connection, batch: &[Job]) -> Vec<Result<Coupon, IssueError>> {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let msg = e.to_string();
        return batch.iter().map(|_| Err(IssueError::Store(StoreError::Corrupt(msg.clone())))).collect();
    }
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        let outcome = conn.execute_batch("SAVEPOINT send").map_err(|e| IssueError::Store(backend(e))).and_then(|()| {
            let outcome = issue_one(conn, &job.new, &job.pin);
            let end = if outcome.is_ok() { "RELEASE send" } else { "ROLLBACK TO send; RELEASE send" };
            conn.execute_batch(end).map_err(|e| IssueError::Store(backend(e)))?;
            outcome
        });
        outcomes.push(outcome);
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        let msg = e.to_string();
        return batch.iter().map(|_| Err(IssueError::Store(StoreError::Corrupt(format!("commit failed: {msg}"))))).collect();
    }
    outcomes
}

/// The send's statements, in the order the PostgreSQL store runs them.
fn issue_one(conn: &Connection, new: &NewCoupon, pin: &ProtectedPin) -> Result<Coupon, IssueError> {
    let store = |e: rusqlite::Error| IssueError::Store(backend(e));
    let claimed = conn
        .prepare_cached(
            "INSERT INTO tr_ids (account_id, tr_id, created_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (account_id, tr_id) DO NOTHING",
        )
        .and_then(|mut s| s.execute(params![new.account_id.get(), new.tr_id.as_str(), new.issued_at_ms]))
        .map_err(store)?;
    if claimed == 0 {
        return Err(IssueError::DuplicateTrId);
    }
    let balance: Option<i64> = conn
        .prepare_cached("UPDATE account_balances SET balance = balance - ?1 WHERE account_id = ?2 AND balance >= ?1 RETURNING balance")
        .and_then(|mut s| s.query_row(params![new.price.get(), new.account_id.get()], |r| r.get(0)).optional())
        .map_err(store)?;
    let Some(balance) = balance else { return Err(IssueError::InsufficientBizmoney) };
    // The id AUTOINCREMENT would pick; the write lock keeps it ours, and the order number
    // needs it before the insert.
    let id: i64 = conn
        .prepare_cached("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'coupons'), 0) + 1")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(store)?;
    let order_no = OrderNo::of(new.issued_at_ms, id);
    let delivery = new.initial_delivery();
    let inserted = conn
        .prepare_cached(
            "INSERT INTO coupons (id, order_no, account_id, tr_id, pin, image_token, goods_code, goods_name,
                 brand_code, brand_name, sale_price, price, gubun, phone_no, callback_no, mms_title, mms_msg,
                 issued_at_ms, valid_until_ms, reserved_at_ms, status, status_changed_at_ms, delivery_status,
                 pin_sealed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                 ?21, ?18, ?22, ?23)",
        )
        .and_then(|mut s| {
            s.execute(params![
                id,
                order_no.as_str(),
                new.account_id.get(),
                new.tr_id.as_str(),
                pin.lookup.as_str(),
                new.image_token,
                new.goods_code.as_str(),
                new.goods_name,
                new.brand_code.as_str(),
                new.brand_name,
                new.sale_price.get(),
                new.price.get(),
                new.gubun.code(),
                new.phone_no.as_str(),
                new.callback_no.as_str(),
                new.mms_title,
                new.mms_msg,
                new.issued_at_ms,
                new.valid_until_ms,
                new.reserved_at_ms,
                PinStatus::Issued.code(),
                delivery.code(),
                pin.sealed.as_str(),
            ])
        });
    match inserted {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, Some(msg)))
            if e.code == rusqlite::ErrorCode::ConstraintViolation
                && (msg.contains("coupons.pin") || msg.contains("coupons.image_token")) =>
        {
            return Err(IssueError::PinTaken);
        }
        Err(e) => return Err(store(e)),
    }
    conn.prepare_cached("UPDATE tr_ids SET coupon_id = ?1 WHERE account_id = ?2 AND tr_id = ?3")
        .and_then(|mut s| s.execute(params![id, new.account_id.get(), new.tr_id.as_str()]))
        .map_err(store)?;
    conn.prepare_cached(
        "INSERT INTO ledger (account_id, amount, balance_after, reason, tr_id, memo, created_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, '', ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![new.account_id.get(), -new.price.get(), balance, LedgerReason::Send.code(), new.tr_id.as_str(), new.issued_at_ms])
    })
    .map_err(store)?;
    if new.gubun == Gubun::Mms {
        let due_at_ms = new.reserved_at_ms.unwrap_or(new.issued_at_ms);
        conn.prepare_cached(
            "INSERT INTO outbox (coupon_id, kind, due_at_ms, state, next_attempt_at_ms, created_at_ms, request_id)
             VALUES (?1, 'mms', ?2, 'pending', ?2, ?3, ?4)",
        )
        .and_then(|mut s| s.execute(params![id, due_at_ms, new.issued_at_ms, new.request_id.as_ref().map(|r| r.as_str())]))
        .map_err(store)?;
    }
    Ok(new.issued(id, order_no))
}
