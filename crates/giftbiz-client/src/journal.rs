//! The send journal (feature `journal`): a local SQLite file where every safe send is written
//! before the call (`pending`) and again with its outcome, so a caller that crashes in between
//! can settle what it left behind (`giftbiz reconcile`, or [`Journal::unsettled`] and
//! [`Client::settle`]).
//!
//! It never holds a PIN or a full phone number: the recipient is stored masked.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use giftbiz_wire::params::mask_phone;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::client::Client;
use crate::error::Error;
use crate::now_ms;
use crate::safe_send::{ChasePolicy, SendOutcome};
use crate::send::SendRequest;

/// A journal entry's state before it is settled.
pub const PENDING: &str = "pending";

const SCHEMA_VERSION: i64 = 1;
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sends (
    tr_id        TEXT PRIMARY KEY,
    goods_code   TEXT NOT NULL,
    gubun        TEXT NOT NULL,
    phone_masked TEXT NOT NULL,
    -- pending | issued | not_issued | cancelled | kept
    state        TEXT NOT NULL,
    order_no     TEXT,
    -- the refusal, or why the send is still pending
    detail       TEXT,
    -- the price 0201 reports (sellPriceAmt), once reconcile has read it
    price        INTEGER,
    created_ms   INTEGER NOT NULL,
    settled_ms   INTEGER
);
CREATE INDEX IF NOT EXISTS sends_state ON sends (state);
CREATE TABLE IF NOT EXISTS balance_checks (
    id            INTEGER PRIMARY KEY,
    at_ms         INTEGER NOT NULL,
    balance       INTEGER NOT NULL,
    -- what the journal's sends had cost in all at that moment
    journal_spent INTEGER NOT NULL
);
";

/// One send as the journal knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    pub tr_id: String,
    pub goods_code: String,
    pub gubun: String,
    pub phone_masked: String,
    pub state: String,
    pub order_no: Option<String>,
    pub detail: Option<String>,
    pub price: Option<i64>,
    pub created_ms: i64,
    pub settled_ms: Option<i64>,
}

impl JournalEntry {
    /// Whether the send cost the account money in the end (issued, or kept when its cancel
    /// was refused).
    pub fn charged(&self) -> bool {
        matches!(self.state.as_str(), "issued" | "kept")
    }
}

/// The balance seen by a reconcile, beside what the journal's sends had cost by then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BalanceCheck {
    pub at_ms: i64,
    pub balance: i64,
    pub journal_spent: i64,
}

/// The journal file. Writes are durable (`synchronous=FULL`) before the call they precede.
pub struct Journal {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

fn journal_error(e: rusqlite::Error) -> Error {
    Error::Journal(e.to_string())
}

const COLUMNS: &str = "tr_id, goods_code, gubun, phone_masked, state, order_no, detail, price, created_ms, settled_ms";

fn entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<JournalEntry> {
    Ok(JournalEntry {
        tr_id: row.get(0)?,
        goods_code: row.get(1)?,
        gubun: row.get(2)?,
        phone_masked: row.get(3)?,
        state: row.get(4)?,
        order_no: row.get(5)?,
        detail: row.get(6)?,
        price: row.get(7)?,
        created_ms: row.get(8)?,
        settled_ms: row.get(9)?,
    })
}

impl Journal {
    /// Opens (creating it if needed) the journal at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, Error> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path).map_err(journal_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(journal_error)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(journal_error)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(journal_error)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(journal_error)?;
        if version > SCHEMA_VERSION {
            return Err(Error::Journal(format!("{} is from a newer giftbiz (schema {version})", path.display())));
        }
        conn.execute_batch(SCHEMA).map_err(journal_error)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(journal_error)?;
        Ok(Journal { conn: Mutex::new(conn), path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, Error> {
        let conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&conn).map_err(journal_error)
    }

    /// Records a send about to be made. A tr_id is used once: one already journaled is refused
    /// before anything reaches the service.
    pub fn record_pending(&self, req: &SendRequest) -> Result<(), Error> {
        let inserted = self.with(|c| {
            c.execute(
                "INSERT INTO sends (tr_id, goods_code, gubun, phone_masked, state, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (tr_id) DO NOTHING",
                params![req.tr_id, req.goods_code, req.gubun.code(), mask_phone(&req.phone_no), PENDING, now_ms()],
            )
        })?;
        if inserted == 0 {
            return Err(Error::Journal(format!("tr_id {} is already in the journal", req.tr_id)));
        }
        Ok(())
    }

    /// Records what became of a send.
    pub fn record_outcome(&self, tr_id: &str, outcome: &SendOutcome) -> Result<(), Error> {
        let (order_no, detail) = match outcome {
            SendOutcome::Issued(sent) => (Some(sent.order_no.clone()), None),
            SendOutcome::NotIssued { refusal: Some(e) } => (None, Some(e.to_string())),
            SendOutcome::Kept { cancel_refusal } => (None, Some(format!("cancel refused: {cancel_refusal}"))),
            SendOutcome::NotIssued { refusal: None } | SendOutcome::Cancelled => (None, None),
        };
        self.set_state(tr_id, outcome.state(), detail.as_deref(), order_no.as_deref())
    }

    /// Sets an entry's state (and, when given, its detail and order number).
    pub fn set_state(&self, tr_id: &str, state: &str, detail: Option<&str>, order_no: Option<&str>) -> Result<(), Error> {
        let settled = (state != PENDING).then(now_ms);
        self.with(|c| {
            c.execute(
                "UPDATE sends SET state = ?2, detail = coalesce(?3, detail), order_no = coalesce(?4, order_no),
                        settled_ms = ?5 WHERE tr_id = ?1",
                params![tr_id, state, detail, order_no, settled],
            )
        })?;
        Ok(())
    }

    /// Notes why a send is still pending (the chase gave up).
    pub fn record_unsettled(&self, tr_id: &str, why: &Error) -> Result<(), Error> {
        self.with(|c| c.execute("UPDATE sends SET detail = ?2 WHERE tr_id = ?1", params![tr_id, why.to_string()]))?;
        Ok(())
    }

    pub fn set_price(&self, tr_id: &str, price: i64) -> Result<(), Error> {
        self.with(|c| c.execute("UPDATE sends SET price = ?2 WHERE tr_id = ?1", params![tr_id, price]))?;
        Ok(())
    }

    pub fn entry(&self, tr_id: &str) -> Result<Option<JournalEntry>, Error> {
        let sql = format!("SELECT {COLUMNS} FROM sends WHERE tr_id = ?1");
        self.with(|c| c.query_row(&sql, [tr_id], entry).optional())
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Result<Vec<JournalEntry>, Error> {
        let sql = format!("SELECT {COLUMNS} FROM sends ORDER BY created_ms, tr_id");
        self.with(|c| c.prepare(&sql)?.query_map([], entry)?.collect())
    }

    /// The sends whose outcome is not known yet, oldest first.
    pub fn unsettled(&self) -> Result<Vec<JournalEntry>, Error> {
        let sql = format!("SELECT {COLUMNS} FROM sends WHERE state = ?1 ORDER BY created_ms, tr_id");
        self.with(|c| c.prepare(&sql)?.query_map([PENDING], entry)?.collect())
    }

    pub fn last_balance_check(&self) -> Result<Option<BalanceCheck>, Error> {
        self.with(|c| {
            c.query_row("SELECT at_ms, balance, journal_spent FROM balance_checks ORDER BY id DESC LIMIT 1", [], |r| {
                Ok(BalanceCheck { at_ms: r.get(0)?, balance: r.get(1)?, journal_spent: r.get(2)? })
            })
            .optional()
        })
    }

    pub fn record_balance_check(&self, balance: i64, journal_spent: i64) -> Result<BalanceCheck, Error> {
        let check = BalanceCheck { at_ms: now_ms(), balance, journal_spent };
        self.with(|c| {
            c.execute(
                "INSERT INTO balance_checks (at_ms, balance, journal_spent) VALUES (?1, ?2, ?3)",
                params![check.at_ms, check.balance, check.journal_spent],
            )
        })?;
        Ok(check)
    }
}

impl Client {
    /// [`Client::safe_send`] with the journal: the send is recorded before the call and its
    /// outcome after it; a send the chase could not settle stays `pending` with the reason.
    pub async fn journaled_send(
        &self,
        journal: &Journal,
        req: &SendRequest,
        policy: &ChasePolicy,
    ) -> Result<SendOutcome, Error> {
        journal.record_pending(req)?;
        // Should the outcome not reach the journal, the send is an error for the caller too:
        // the entry stays pending and reconcile cancels the coupon (refunded), which is safer
        // than a PIN handed out that a later reconcile would cancel under the recipient.
        match self.safe_send(req, policy).await {
            Ok(outcome) => {
                journal.record_outcome(&req.tr_id, &outcome)?;
                Ok(outcome)
            }
            Err(e) => {
                journal.record_unsettled(&req.tr_id, &e)?;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tr_id_is_journaled_once_and_outcomes_settle_it() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("j.db")).unwrap();
        let req = SendRequest::new("t1", "G1", crate::Gubun::Pin, "01012345678");
        journal.record_pending(&req).unwrap();
        assert!(matches!(journal.record_pending(&req), Err(Error::Journal(_))));
        assert_eq!(journal.unsettled().unwrap().len(), 1);
        journal.record_outcome("t1", &SendOutcome::Cancelled).unwrap();
        assert!(journal.unsettled().unwrap().is_empty());
        let e = journal.entry("t1").unwrap().unwrap();
        assert_eq!((e.state.as_str(), e.phone_masked.as_str()), ("cancelled", "010****5678"));
        assert!(e.settled_ms.is_some());
        // Reopening keeps everything.
        drop(journal);
        let journal = Journal::open(dir.path().join("j.db")).unwrap();
        assert_eq!(journal.entries().unwrap(), vec![e]);
    }
}
