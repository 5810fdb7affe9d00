//! The API's values that both sides parse: a `TrId`, `Gubun` or `Pin` is valid by construction,
//! so the server (down to its SQL binds) and the client SDK share one definition of each; a
//! `Pin` or `Secret` never prints.

use std::fmt;

/// Why a tr_id did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrIdError {
    Empty,
    /// Longer than the limit in force, in characters.
    TooLong { max: usize },
    /// A character outside `[A-Za-z0-9_-]`.
    Alphabet,
}

impl fmt::Display for TrIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrIdError::Empty => f.write_str("the tr_id is empty"),
            TrIdError::TooLong { max } => write!(f, "the tr_id is longer than {max} characters"),
            TrIdError::Alphabet => f.write_str("the tr_id has characters other than letters, digits, '_' and '-'"),
        }
    }
}

impl std::error::Error for TrIdError {}

/// The caller's transaction id (`tr_id`): unique per account forever, 1 to `max` characters
/// of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrId(String);

impl TrId {
    /// The spec's length limit (its example format is 25 characters).
    pub const SPEC_MAX_LEN: usize = 25;
    /// The live service's limit ("TRID is longer than 20 characters").
    pub const LIVE_MAX_LEN: usize = 20;

    /// The length is checked first, as the live service does (`ERR0807` before `COUPON.0004`).
    pub fn parse(raw: &str, max_len: usize) -> Result<TrId, TrIdError> {
        // Characters, not bytes: seven Hangul syllables are too long for 20 only in bytes, and
        // are refused for their alphabet. (Bytes bound the count: no walk past the limit.)
        if raw.len() > max_len && raw.chars().nth(max_len).is_some() {
            return Err(TrIdError::TooLong { max: max_len });
        }
        if raw.is_empty() {
            return Err(TrIdError::Empty);
        }
        if !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(TrIdError::Alphabet);
        }
        Ok(TrId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for TrId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<TrId> for String {
    fn from(t: TrId) -> String {
        t.0
    }
}

/// How the coupon reaches the recipient (`gubun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gubun {
    /// `N`: the platform sends the MMS; the answer carries only the order number.
    Mms,
    /// `Y`: the PIN comes back to the caller, who delivers it.
    Pin,
    /// `I`: the PIN and a coupon image URL come back.
    Image,
}

impl Gubun {
    /// `N`, `Y` or `I`, either case.
    pub fn parse(raw: &str) -> Option<Gubun> {
        match raw {
            "N" | "n" => Some(Gubun::Mms),
            "Y" | "y" => Some(Gubun::Pin),
            "I" | "i" => Some(Gubun::Image),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Gubun::Mms => "N",
            Gubun::Pin => "Y",
            Gubun::Image => "I",
        }
    }
}

/// A string that never prints: `Debug` shows `Name(***)`, `Display` `***`; only `expose` gives
/// it, for the one place that must hand it on.
macro_rules! redacted {
    ($(#[$doc:meta])* $name:ident $(, $derive:path)*) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash $(, $derive)*)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> $name {
                $name(value.into())
            }

            /// The value itself; keep it out of logs.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(***)", stringify!($name))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("***")
            }
        }
    };
}

redacted!(
    /// A coupon PIN: a bearer value, for the recipient, a barcode or a hash only.
    Pin
);

redacted!(
    /// A credential or key (an API token, a webhook secret). Serializing it writes `***` too,
    /// so printing a configuration never leaks one; it is read as the plain string it is.
    Secret,
    serde::Deserialize
);

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tr_ids() {
        assert!(TrId::parse("service_20190814_1234567", 25).is_ok());
        assert!(TrId::parse("a-b_C9", 25).is_ok());
        assert_eq!(TrId::parse(&"a".repeat(26), 25), Err(TrIdError::TooLong { max: 25 }));
        assert_eq!(TrId::parse(&"a".repeat(21), 20), Err(TrIdError::TooLong { max: 20 }));
        assert_eq!(TrId::parse("", 20), Err(TrIdError::Empty));
        assert_eq!(TrId::parse("한글", 25), Err(TrIdError::Alphabet));
        assert_eq!(TrId::parse("a b", 25), Err(TrIdError::Alphabet));
        assert_eq!(TrId::parse("a\0b", 25), Err(TrIdError::Alphabet));
    }

    #[test]
    fn gubun_codes_parse_back() {
        for g in [Gubun::Mms, Gubun::Pin, Gubun::Image] {
            assert_eq!(Gubun::parse(g.code()), Some(g));
            assert_eq!(Gubun::parse(&g.code().to_ascii_lowercase()), Some(g));
        }
        assert_eq!(Gubun::parse("X"), None);
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("k3y");
        assert_eq!(format!("{s} {s:?} {}", serde_json::to_string(&s).unwrap()), "*** Secret(***) \"***\"");
        let read: Secret = serde_json::from_str("\"k3y\"").unwrap();
        assert_eq!(read.expose(), "k3y");
    }

    #[test]
    fn pins_never_print() {
        let pin = Pin::new("900343630367");
        assert_eq!(format!("{pin} {pin:?}"), "*** Pin(***)");
        assert_eq!(pin.expose(), "900343630367");
    }
}
