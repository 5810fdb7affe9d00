//! Time on the wire is Korea Standard Time (UTC+9, no DST); storage keeps UTC milliseconds.

use chrono::{DateTime, FixedOffset, Utc};

pub fn kst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

pub fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Where "now" comes from: the system clock in production, a clock the test (or the sandbox
/// operator) moves by hand elsewhere, so reservations and expiry are tested without sleeping.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    fn now_kst(&self) -> DateTime<FixedOffset> {
        self.now().with_timezone(&kst())
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move.
pub struct ManualClock {
    now_ms: std::sync::atomic::AtomicI64,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock { now_ms: std::sync::atomic::AtomicI64::new(start.timestamp_millis()) }
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.now_ms.fetch_add(by.num_milliseconds(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        from_millis(self.now_ms.load(std::sync::atomic::Ordering::SeqCst))
    }
}
