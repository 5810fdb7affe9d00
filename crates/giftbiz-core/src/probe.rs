//! What the operator's probes read from the database: readiness (`/ready`) and the figures a
//! metrics scrape reports from the database rather than from one process's memory (money
//! moved by every instance and by operators' commands, the outbox's backlog).

use crate::coupon::LedgerReason;

/// The schema as this binary sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Migrations this binary knows that the database has not applied (empty: current).
    /// Migrations of a newer binary the database has are fine: they only add.
    pub missing: Vec<i64>,
}

/// The connection pool right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

/// Won moved per ledger reason since the beginning: `credit` the sum of its positive entries,
/// `debit` of its negative ones (as a positive number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerTotal {
    pub reason: LedgerReason,
    pub credit: i64,
    pub debit: i64,
}

/// The figures of a scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeFigures {
    pub ledger: Vec<LedgerTotal>,
    /// Pending messages due by now (a reserved one is not late before its time).
    pub outbox_due: i64,
    /// When the oldest of them fell due.
    pub oldest_due_at_ms: Option<i64>,
    /// Accounts whose bizmoney is below the scrape's threshold.
    pub low_balance_accounts: i64,
}
