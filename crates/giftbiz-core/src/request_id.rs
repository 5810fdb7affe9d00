//! The id of one HTTP request, carried into every log line it causes, down to the delivery of
//! the message it queued (stored on the outbox row).

use rand::RngCore;

/// Longest id kept from a client's `X-Request-Id`.
pub const MAX_LEN: usize = 64;

/// 1 to [`MAX_LEN`] visible ASCII characters, so a client's id cannot break a log line, a
/// header or grow a row without bound.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// A client's id, when it is one we keep.
    pub fn parse(s: &str) -> Option<RequestId> {
        let ok = !s.is_empty() && s.len() <= MAX_LEN && s.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| RequestId(s.to_owned()))
    }

    /// A new id: 16 random bytes in hex.
    pub fn generate() -> RequestId {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        RequestId(hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_visible_ascii_up_to_64_and_makes_unique_hex_ids() {
        assert_eq!(RequestId::parse("req-1.A:b_2").unwrap().as_str(), "req-1.A:b_2");
        assert!(RequestId::parse(&"x".repeat(64)).is_some());
        for bad in ["", "has space", "탭", "a\nb", &"x".repeat(65)] {
            assert!(RequestId::parse(bad).is_none(), "{bad:?}");
        }
        let (a, b) = (RequestId::generate(), RequestId::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert!(RequestId::parse(a.as_str()).is_some());
    }
}
