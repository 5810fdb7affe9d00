//! Accounts (구매사) and their API credentials.
//!
//! The auth code identifies the account (`REAL` + 32 hex, like the live service's); the token is
//! an opaque 24-character secret of 18 random bytes in URL-safe Base64 (letters, digits, `-`,
//! `_`: nothing a query string must encode). Only the token's SHA-256 is stored: a
//! token is high-entropy, so a fast hash cannot be brute-forced, and comparing hashes in constant
//! time leaks nothing about the stored value.

use base64::Engine;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{AccountId, Grade};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    /// The member id (`user_id`) that send, cancel, resend and bizmoney must carry.
    pub user_id: UserId,
    pub auth_code: String,
    #[serde(skip)]
    pub token_hash: TokenHash,
    pub grade: Grade,
    pub created_at_ms: i64,
    /// When an operator suspended it; its API calls are refused (`E0006`) until reactivated.
    pub suspended_at_ms: Option<i64>,
}

impl Account {
    pub fn is_suspended(&self) -> bool {
        self.suspended_at_ms.is_some()
    }

    /// Constant-time check of a presented token against the stored hash.
    pub fn token_matches(&self, presented: &str) -> bool {
        self.token_hash.matches(presented)
    }
}

/// What the store needs to create an account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub user_id: UserId,
    pub auth_code: String,
    pub token_hash: TokenHash,
    pub grade: Grade,
    pub created_at_ms: i64,
}

/// A freshly issued token, shown to the operator once and never stored.
#[derive(Clone)]
pub struct AuthToken(String);

impl AuthToken {
    pub fn generate() -> AuthToken {
        // 18 bytes: 24 characters without padding, like the live service's tokens in length,
        // from an alphabet no query string or form needs to encode.
        let mut bytes = [0u8; 18];
        rand::rng().fill_bytes(&mut bytes);
        AuthToken(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl std::fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthToken(..)")
    }
}

/// The hex SHA-256 of a token, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn of(token: &str) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(token.as_bytes())))
    }

    /// Wraps a hash read back from storage.
    pub fn from_stored(hex: String) -> TokenHash {
        TokenHash(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant time in the stored value. A token issued before the URL-safe alphabet may hold
    /// `+`, which a client that pastes it unencoded into a query string sends as a space: a
    /// space is taken for a `+` too.
    pub fn matches(&self, presented: &str) -> bool {
        let exact = self.matches_exactly(presented);
        let spaced = presented.contains(' ') && self.matches_exactly(&presented.replace(' ', "+"));
        exact | spaced
    }

    fn matches_exactly(&self, presented: &str) -> bool {
        TokenHash::of(presented).0.as_bytes().ct_eq(self.0.as_bytes()).into()
    }
}

/// A presented `custom_auth_code`: 1-64 visible ASCII characters (ours are `REAL` + 32 hex).
/// Any other text names no account and is never looked up (a NUL would even fail the query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode(String);

impl AuthCode {
    pub fn parse(raw: &str) -> Option<AuthCode> {
        ((1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic())).then(|| AuthCode(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new auth code: `REAL` + 32 lowercase hex characters.
pub fn generate_auth_code() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("REAL{}", hex::encode(bytes))
}

#[derive(Debug, thiserror::Error)]
#[error("user id must be 1-50 characters of letters, digits, '_', '-', '.' or '@'")]
pub struct InvalidUserId;

/// An account's member id (`user_id`): 1-50 characters of letters, digits, `_`, `-`, `.`, `@`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Result<UserId, InvalidUserId> {
        let ok = !raw.is_empty()
            && raw.len() <= 50
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || "_-.@".contains(c));
        if ok {
            Ok(UserId(raw.to_owned()))
        } else {
            Err(InvalidUserId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_24_url_safe_characters_and_verify_only_themselves() {
        let t = AuthToken::generate();
        assert_eq!(t.expose().len(), 24);
        assert!(t.expose().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{t:?}");
        let h = t.hash();
        assert!(h.matches(t.expose()));
        assert!(!h.matches("x"));
        assert_ne!(h.as_str(), t.expose());
    }

    #[test]
    fn a_space_stands_for_the_plus_of_an_older_token() {
        let old = TokenHash::of("ab+cd/ef+gh==");
        assert!(old.matches("ab+cd/ef+gh=="));
        assert!(old.matches("ab cd/ef gh=="), "as an unencoded query string delivers it");
        assert!(!old.matches("ab cd/ef gh= "));
    }

    #[test]
    fn auth_codes_look_like_live_ones() {
        let c = generate_auth_code();
        assert_eq!(c.len(), 36);
        assert!(c.starts_with("REAL"));
    }

    #[test]
    fn user_ids_are_parsed() {
        assert_eq!(UserId::parse("demo_user@corp").unwrap().as_str(), "demo_user@corp");
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a b").is_err());
        assert!(UserId::parse(&"a".repeat(51)).is_err());
    }
}
