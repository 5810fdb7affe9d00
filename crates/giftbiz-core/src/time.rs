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

/// Another clock moved forward by an offset that only grows: the sandbox clock. It follows its
/// base (real time in `serve`, a manual clock in tests) and an operator's advance moves it
/// ahead, so reservations and expiry fire on the jobs' next run.
pub struct OffsetClock {
    base: std::sync::Arc<dyn Clock>,
    offset_ms: std::sync::atomic::AtomicI64,
}

impl OffsetClock {
    pub fn new(base: std::sync::Arc<dyn Clock>) -> OffsetClock {
        OffsetClock { base, offset_ms: std::sync::atomic::AtomicI64::new(0) }
    }

    /// Moves the clock forward by `by` (a negative duration is ignored: time never runs back);
    /// returns the offset now in force.
    pub fn advance(&self, by: chrono::Duration) -> chrono::Duration {
        let add = by.num_milliseconds().max(0);
        let before = self
            .offset_ms
            .fetch_update(std::sync::atomic::Ordering::SeqCst, std::sync::atomic::Ordering::SeqCst, |o| {
                Some(o.saturating_add(add))
            })
            .unwrap_or_default();
        chrono::Duration::milliseconds(before.saturating_add(add))
    }

    /// How far ahead of its base the clock runs.
    pub fn offset(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(self.offset_ms.load(std::sync::atomic::Ordering::SeqCst))
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        let base = self.base.now_ms();
        from_millis(base.saturating_add(self.offset_ms.load(std::sync::atomic::Ordering::SeqCst)))
    }
}

#[cfg(test)]
mod offset_clock_tests {
    use super::*;

    #[test]
    fn follows_its_base_plus_the_advances() {
        let start = from_millis(1_800_000_000_000);
        let base = std::sync::Arc::new(ManualClock::new(start));
        let clock = OffsetClock::new(base.clone());
        assert_eq!(clock.now(), start);
        assert_eq!(clock.advance(chrono::Duration::hours(2)), chrono::Duration::hours(2));
        base.advance(chrono::Duration::seconds(5));
        assert_eq!(clock.now_ms(), start.timestamp_millis() + 7_200_000 + 5_000);
        clock.advance(chrono::Duration::seconds(-100));
        assert_eq!(clock.offset(), chrono::Duration::hours(2), "never backwards");
    }
}
