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
