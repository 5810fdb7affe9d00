//! Transaction ids (`tr_id`): the caller's key for a send, claimed once per account forever.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;

use crate::error::ConfigError;

/// The live service refuses tr_ids longer than this, although the spec allows 25 bytes.
pub const DEFAULT_MAX_LEN: usize = TrId::LIVE_MAX_LEN;
/// Characters of the time part: milliseconds since 1970 in base 36 (fixed width until 2059).
const TIME_LEN: usize = 8;
/// Fewest random characters a generator may use (62^6 ≈ 5.7·10^10 per millisecond).
pub const MIN_RANDOM: usize = 6;

const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A tr_id: the wire's own type, checked once. A caller's own is parsed against the spec's
/// limit (or the live service's, [`DEFAULT_MAX_LEN`]); [`TrIdGenerator`] makes fresh ones.
///
/// ```
/// use giftbiz_client::{TrId, TrIdGenerator};
///
/// let id = TrIdGenerator::default().generate();
/// assert!(id.as_str().len() <= 20);
/// assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
/// let mine = TrId::parse("shop_20261129_0001", TrId::SPEC_MAX_LEN).unwrap();
/// assert_eq!(mine.as_str(), "shop_20261129_0001");
/// assert!(TrId::parse("has space", TrId::SPEC_MAX_LEN).is_err());
/// ```
pub use giftbiz_wire::values::TrId;

/// Makes tr_ids `{prefix}{time}{random}`: the prefix, 8 base-36 characters of the current
/// millisecond (so ids sort roughly by time), then CSPRNG base-62 characters up to the length
/// limit. Unique in practice: at the default length 12 random characters (71 bits) follow the
/// millisecond.
///
/// ```
/// use giftbiz_client::TrIdGenerator;
///
/// let tr_ids = TrIdGenerator::new("shop_", 20).unwrap();
/// let id = tr_ids.generate();
/// assert!(id.as_str().starts_with("shop_") && id.as_str().len() == 20);
/// // A prefix that leaves fewer than 6 random characters is refused.
/// assert!(TrIdGenerator::new("much_too_long_", 20).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrIdGenerator {
    prefix: String,
    max_len: usize,
}

impl Default for TrIdGenerator {
    fn default() -> Self {
        TrIdGenerator { prefix: String::new(), max_len: DEFAULT_MAX_LEN }
    }
}

impl TrIdGenerator {
    /// `prefix` of `[A-Za-z0-9_]`; `max_len` leaves room for the time and at least
    /// [`MIN_RANDOM`] random characters.
    pub fn new(prefix: impl Into<String>, max_len: usize) -> Result<TrIdGenerator, ConfigError> {
        let prefix = prefix.into();
        if !prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            let why = "only letters, digits and '_' are allowed".to_owned();
            return Err(ConfigError::Invalid { what: "tr_id prefix", why });
        }
        let needed = prefix.len() + TIME_LEN + MIN_RANDOM;
        if max_len < needed {
            let why = format!("a length limit of {max_len} leaves too little room after {:?} (needs {needed})", prefix);
            return Err(ConfigError::Invalid { what: "tr_id length limit", why });
        }
        Ok(TrIdGenerator { prefix, max_len })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    pub fn generate(&self) -> TrId {
        let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let mut out = String::with_capacity(self.max_len);
        out.push_str(&self.prefix);
        let mut time = [b'0'; TIME_LEN];
        let mut rest = millis;
        for slot in time.iter_mut().rev() {
            *slot = BASE36[(rest % 36) as usize];
            rest /= 36;
        }
        out.extend(time.iter().map(|&b| b as char));
        let mut rng = rand::rng();
        while out.len() < self.max_len {
            out.push(BASE62[rng.random_range(0..BASE62.len())] as char);
        }
        // Built from the alphabet above and at most `max_len` long: it always parses.
        TrId::parse(&out, self.max_len).expect("a generated tr_id is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn generated_ids_are_unique_short_and_plain() {
        let generator = TrIdGenerator::default();
        let ids: HashSet<TrId> = (0..100_000).map(|_| generator.generate()).collect();
        assert_eq!(ids.len(), 100_000);
        for id in ids.iter().take(1000) {
            assert_eq!(id.as_str().len(), DEFAULT_MAX_LEN);
            assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{id}");
            assert!(TrId::parse(id.as_str(), TrId::SPEC_MAX_LEN).is_ok());
        }
    }

    #[test]
    fn prefix_and_limit_are_honoured() {
        let g = TrIdGenerator::new("acme_", 25).unwrap();
        let id = g.generate();
        assert!(id.as_str().starts_with("acme_"));
        assert_eq!(id.as_str().len(), 25);
        assert!(TrIdGenerator::new("a-b", 20).is_err(), "'-' stays out of generated ids");
        assert!(TrIdGenerator::new("", 13).is_err());
        assert_eq!(TrIdGenerator::new("", 14).unwrap().generate().as_str().len(), 14);
    }

    #[test]
    fn caller_ids_are_checked() {
        let parse = |raw: &str| TrId::parse(raw, TrId::SPEC_MAX_LEN);
        assert!(parse("").is_err());
        assert!(parse(&"a".repeat(26)).is_err());
        assert!(parse("a-b_C9").is_ok());
        assert!(parse("주문1").is_err());
    }
}
