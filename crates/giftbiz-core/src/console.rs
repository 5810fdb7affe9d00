//! The console's operators: the platform's own staff (support, finance, admins), who are not
//! accounts (구매사) and never call the API. Each has a username, a role that decides what they
//! may do, and a password kept only as an argon2id hash.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;

use crate::totp::TotpSecret;
use crate::OperatorId;

/// What an operator's role lets them do; the console checks one of these on every route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Every page that only shows.
    Read,
    /// Charge and adjust bizmoney, read statements.
    Bizmoney,
    /// Approve another operator's large adjustment (four-eyes).
    ApproveAdjustment,
    /// Cancel and resend coupons, retry deliveries.
    Coupons,
    /// Create, suspend and reactivate accounts, rotate their tokens, change grades.
    Accounts,
    /// Change the catalog (goods states, imports).
    Catalog,
    /// Create partners, rotate their credentials.
    Partners,
}

/// An operator's role (`admin`, `finance`, `support`, `viewer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperatorRole {
    /// Everything.
    Admin,
    /// Bizmoney and statements.
    Finance,
    /// Coupons: search, timeline, resend, cancel; deliveries.
    Support,
    /// Read only.
    Viewer,
}

impl OperatorRole {
    pub const ALL: [OperatorRole; 4] = [OperatorRole::Admin, OperatorRole::Finance, OperatorRole::Support, OperatorRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            OperatorRole::Admin => "admin",
            OperatorRole::Finance => "finance",
            OperatorRole::Support => "support",
            OperatorRole::Viewer => "viewer",
        }
    }

    /// Whether this role may do `what`: the one table of who may do what.
    pub fn may(self, what: Capability) -> bool {
        use Capability as C;
        match self {
            OperatorRole::Admin => true,
            OperatorRole::Finance => matches!(what, C::Read | C::Bizmoney | C::ApproveAdjustment),
            OperatorRole::Support => matches!(what, C::Read | C::Coupons),
            OperatorRole::Viewer => matches!(what, C::Read),
        }
    }
}

impl fmt::Display for OperatorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?} (admin, finance, support or viewer)")]
pub struct UnknownRole(pub String);

impl FromStr for OperatorRole {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<OperatorRole, UnknownRole> {
        OperatorRole::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// An operator's login name: 3-32 characters of lowercase ASCII letters, digits, `.`, `_`, `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a username is 3-32 characters of lowercase letters, digits, '.', '_' and '-'")]
pub struct InvalidUsername;

impl Username {
    /// Case is folded first: `Kim` and `kim` are one operator.
    pub fn parse(raw: &str) -> Result<Username, InvalidUsername> {
        let name = raw.trim().to_ascii_lowercase();
        let ok = (3..=32).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_".contains(&b));
        if ok {
            Ok(Username(name))
        } else {
            Err(InvalidUsername)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed: 12-128 characters, no control characters. Its `Debug` hides it.
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPassword {
    #[error("a password has at least 12 characters")]
    TooShort,
    #[error("a password has at most 128 characters")]
    TooLong,
    #[error("a password has no control characters")]
    ControlCharacter,
}

impl Password {
    pub fn parse(raw: &str) -> Result<Password, InvalidPassword> {
        let n = raw.chars().count();
        if n < 12 {
            Err(InvalidPassword::TooShort)
        } else if n > 128 {
            Err(InvalidPassword::TooLong)
        } else if raw.chars().any(char::is_control) {
            Err(InvalidPassword::ControlCharacter)
        } else {
            Ok(Password(raw.to_owned()))
        }
    }

    /// A password presented at login: not checked against the rules above (a rule that
    /// changed must not lock anyone out), only against its hash.
    pub fn presented(raw: &str) -> Password {
        Password(raw.to_owned())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// A password's argon2id hash as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`):
/// the parameters travel with it, so stronger ones later still verify the old hashes.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// argon2id with the OWASP parameters (19 MiB, 2 passes, 1 lane) and a random salt.
    pub fn of(password: &Password) -> PasswordHash {
        // 16 random bytes from the thread's CSPRNG (argon2's own salt generator would pull in
        // a second rand_core).
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let salt = SaltString::encode_b64(&bytes).expect("16 bytes are a valid salt");
        let hash = Argon2::default()
            .hash_password(password.0.as_bytes(), &salt)
            .expect("argon2 with its default parameters and a generated salt does not fail");
        PasswordHash(hash.to_string())
    }

    /// Whether `presented` is the password (argon2 compares in constant time); a stored value
    /// that is not a PHC string verifies nothing.
    pub fn verify(&self, presented: &Password) -> bool {
        match argon2::password_hash::PasswordHash::new(&self.0) {
            Ok(parsed) => Argon2::default().verify_password(presented.0.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    }

    /// For the store, from the column it read.
    pub fn from_stored(stored: String) -> PasswordHash {
        PasswordHash(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

/// A console operator as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Operator {
    pub id: OperatorId,
    pub username: Username,
    pub role: OperatorRole,
    #[serde(skip)]
    pub password_hash: PasswordHash,
    /// When an admin disabled the operator: no login, no session.
    pub disabled_at_ms: Option<i64>,
    pub created_at_ms: i64,
    /// The second factor's key, when the operator has one: a login then needs its code too.
    #[serde(rename = "totp_enabled", serialize_with = "serialize_is_some")]
    pub totp: Option<TotpSecret>,
}

fn serialize_is_some<S: serde::Serializer, T>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(value.is_some())
}

impl Operator {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at_ms.is_some()
    }
}

/// An operator to create.
#[derive(Debug, Clone)]
pub struct NewOperator {
    pub username: Username,
    pub role: OperatorRole,
    pub password_hash: PasswordHash,
    pub created_at_ms: i64,
}

/// A console session as stored, with its operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub operator: Operator,
    pub created_at_ms: i64,
    pub last_seen_ms: i64,
}

/// An operator's action for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at_ms: i64,
    pub operator_id: OperatorId,
    pub operator_name: Username,
    /// What was done, e.g. `account.suspend`, `bizmoney.charge`.
    pub action: &'static str,
    /// What it was done to, e.g. `account:acme`.
    pub target: String,
    /// The state before and after, as JSON text.
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: String,
    /// The operator's address.
    pub source: String,
}

/// An audit log entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditLogEntry {
    pub id: i64,
    pub at_ms: i64,
    pub operator_name: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: String,
    pub source: String,
}

/// Which audit entries to read; each part that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct AuditFilter {
    /// Exactly this target (`account:acme`, `coupon:20261129000001`, `goods:…`, `catalog`).
    pub target: Option<String>,
    /// Exactly this operator's username.
    pub operator: Option<String>,
    /// This action (`bizmoney.charge`) or every action under it (`bizmoney`).
    pub action: Option<String>,
}

impl AuditFilter {
    pub fn target(target: impl Into<String>) -> AuditFilter {
        AuditFilter { target: Some(target.into()), ..AuditFilter::default() }
    }

    /// Blank parts dropped and the rest trimmed (a form's empty fields filter nothing).
    pub fn tidy(self) -> AuditFilter {
        let tidy = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        AuditFilter { target: tidy(self.target), operator: tidy(self.operator), action: tidy(self.action) }
    }
}

/// One KST day's sends: how many, and the won they charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailySends {
    /// Days since 1970-01-01 in KST.
    pub day: i64,
    pub sends: i64,
    pub won: i64,
}

/// The dashboard's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleFigures {
    /// Days with sends since the asked-for moment, oldest first.
    pub daily: Vec<DailySends>,
    pub pending_messages: i64,
    pub failed_messages: i64,
    /// Accounts below the low-balance mark, lowest first (at most 20): user id and balance.
    pub low_balances: Vec<(String, i64)>,
}

/// A bizmoney adjustment waiting for a second operator's approval (four-eyes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAdjustment {
    pub id: i64,
    pub user_id: String,
    /// Signed whole won.
    pub amount: i64,
    pub reason: String,
    pub requested_by: String,
    pub requested_at_ms: i64,
}

/// Why an adjustment could not be decided.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("no pending adjustment has that id")]
    NotPending,
    #[error("an operator cannot approve their own adjustment")]
    OwnRequest,
    #[error("the adjustment would take the balance below zero")]
    WouldGoNegative,
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

/// How failed logins lock a username: `max_failures` within `window_ms` lock it for
/// `lockout_ms` from the last of them (the right password included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: usize,
    pub window_ms: i64,
    pub lockout_ms: i64,
}

impl LockoutPolicy {
    /// How far back [`LockoutPolicy::locked_until`] needs the failures.
    pub fn lookback_ms(&self) -> i64 {
        self.window_ms + self.lockout_ms
    }

    /// Until when the username is locked at `now_ms`, given its failures' times (oldest first,
    /// at least since `now_ms - lookback_ms()`); `None` when it is not.
    pub fn locked_until(&self, failures: &[i64], now_ms: i64) -> Option<i64> {
        let n = self.max_failures.max(1);
        failures
            .windows(n)
            .filter(|w| w[n - 1] - w[0] <= self.window_ms)
            .map(|w| w[n - 1] + self.lockout_ms)
            .filter(|&until| until > now_ms)
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_what_the_console_promises() {
        use Capability as C;
        let all = [C::Read, C::Bizmoney, C::ApproveAdjustment, C::Coupons, C::Accounts, C::Catalog, C::Partners];
        let allowed = |role: OperatorRole| all.into_iter().filter(|&c| role.may(c)).collect::<Vec<_>>();
        assert_eq!(allowed(OperatorRole::Admin), all.to_vec());
        assert_eq!(allowed(OperatorRole::Finance), vec![C::Read, C::Bizmoney, C::ApproveAdjustment]);
        assert_eq!(allowed(OperatorRole::Support), vec![C::Read, C::Coupons]);
        assert_eq!(allowed(OperatorRole::Viewer), vec![C::Read]);
        for role in OperatorRole::ALL {
            assert_eq!(role.as_str().parse::<OperatorRole>(), Ok(role));
        }
        assert!("root".parse::<OperatorRole>().is_err());
    }

    #[test]
    fn five_failures_within_the_window_lock_for_the_lockout_from_the_last() {
        const MIN: i64 = 60_000;
        let policy = LockoutPolicy { max_failures: 5, window_ms: 15 * MIN, lockout_ms: 15 * MIN };
        let four = [0, MIN, 2 * MIN, 3 * MIN];
        assert_eq!(policy.locked_until(&four, 4 * MIN), None, "four are not enough");
        let five = [0, MIN, 2 * MIN, 3 * MIN, 4 * MIN];
        assert_eq!(policy.locked_until(&five, 4 * MIN), Some(19 * MIN));
        assert_eq!(policy.locked_until(&five, 19 * MIN - 1), Some(19 * MIN));
        assert_eq!(policy.locked_until(&five, 19 * MIN), None, "the lock ends");
        // Spread over more than the window: no five within 15 minutes.
        let spread = [0, 4 * MIN, 8 * MIN, 12 * MIN, 16 * MIN];
        assert_eq!(policy.locked_until(&spread, 16 * MIN), None);
        // Failures while locked extend it.
        let more = [0, MIN, 2 * MIN, 3 * MIN, 4 * MIN, 10 * MIN];
        assert_eq!(policy.locked_until(&more, 18 * MIN), Some(25 * MIN));
    }

    #[test]
    fn usernames_fold_case_and_refuse_the_rest() {
        assert_eq!(Username::parse(" Kim.Support ").unwrap().as_str(), "kim.support");
        for bad in ["ab", "a b c", "kim@corp", "", &"x".repeat(33), "김지원"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify_only_themselves() {
        assert_eq!(Password::parse("short").unwrap_err(), InvalidPassword::TooShort);
        assert_eq!(Password::parse("twelve chars\u{7}").unwrap_err(), InvalidPassword::ControlCharacter);
        let password = Password::parse("correct horse battery").unwrap();
        let hash = PasswordHash::of(&password);
        assert!(hash.as_str().starts_with("$argon2id$"), "{}", hash.as_str());
        assert!(!hash.as_str().contains("correct horse"));
        assert!(hash.verify(&Password::presented("correct horse battery")));
        assert!(!hash.verify(&Password::presented("correct horse batterz")));
        assert_ne!(PasswordHash::of(&password), hash, "a fresh salt each time");
        assert!(!PasswordHash::from_stored("not a hash".into()).verify(&password));
        assert_eq!(format!("{password:?} {hash:?}"), "Password(…) PasswordHash(…)");
    }
}
