//! Console logins and sessions: what the web console's login, logout and every page ask,
//! knowing nothing of HTTP (the console's handlers decode, call these, and encode).
//!
//! A session is a random token in the operator's cookie; the database keeps only its SHA-256,
//! so a dump opens no session. Its CSRF token is derived from it (nothing more to store, and it
//! dies with the session).

use giftbiz_core::account::TokenHash;
use giftbiz_core::console::{ConsoleSession, LockoutPolicy, Operator, Password, PasswordHash, Username};
use giftbiz_core::{Store, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long sessions live and when failed logins lock a username.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsolePolicy {
    pub lockout: LockoutPolicy,
    /// A session unused this long ends.
    pub idle_ms: i64,
    /// A session ends this long after its login, however much it is used.
    pub absolute_ms: i64,
}

/// A session's token, as its cookie carries it. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    fn generate() -> SessionToken {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        SessionToken(hex::encode(bytes))
    }

    /// A token presented in a cookie (any text: an unknown one names no session).
    pub fn presented(raw: &str) -> SessionToken {
        SessionToken(raw.to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }

    /// The CSRF token of the session: every state-changing request must carry it.
    pub fn csrf_token(&self) -> String {
        hex::encode(Sha256::digest(format!("giftbiz console csrf\0{}", self.0).as_bytes()))
    }

    /// Whether `presented` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        self.csrf_token().as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

/// Why a login was refused. The console shows one message for both of the first two, so a
/// guesser learns nothing about which usernames exist or are disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefusal {
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed logins: locked until {until_ms}")]
    Locked { until_ms: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(transparent)]
    Refused(#[from] LoginRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A hash to verify against when the username names no operator, so that an unknown username
/// costs the same argon2 work as a known one.
static DUMMY_HASH: std::sync::LazyLock<PasswordHash> =
    std::sync::LazyLock::new(|| PasswordHash::of(&Password::presented("no operator has this password")));

/// What a login form presents.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// The second factor's one-time code; asked only of an operator who has one.
    pub code: &'a str,
}

/// Checks the credentials and opens a session. While the username is locked even the right
/// password is refused; every refusal is recorded as a failure of the username tried. An
/// operator with a second factor needs its current code too, each code accepted once; a wrong
/// code is refused like a wrong password (a guesser does not learn the password was right).
pub async fn log_in(
    store: &dyn Store,
    policy: &ConsolePolicy,
    credentials: Credentials<'_>,
    source: &str,
    now_ms: i64,
) -> Result<(SessionToken, Operator), LoginError> {
    let Credentials { username, password, code } = credentials;
    // A name that cannot be one is no operator's; it is not recorded (it could not be locked).
    let Ok(username) = Username::parse(username) else {
        DUMMY_HASH.verify(&Password::presented(password));
        return Err(LoginRefusal::BadCredentials.into());
    };
    let failures = store.login_failures_since(&username, now_ms - policy.lockout.lookback_ms()).await?;
    if let Some(until_ms) = policy.lockout.locked_until(&failures, now_ms) {
        store.record_login_failure(&username, source, now_ms).await?;
        return Err(LoginRefusal::Locked { until_ms }.into());
    }
    let operator = store.operator_by_username(&username).await?;
    let hash = operator.as_ref().map_or(&*DUMMY_HASH, |o| &o.password_hash);
    let verified = hash.verify(&Password::presented(password));
    let second_factor_ok = match operator.as_ref().and_then(|o| o.totp.as_ref().map(|secret| (o.id, secret))) {
        // The step is taken only after the password verified: a wrong password spends no code.
        Some((id, secret)) if verified => match secret.matching_step(code, now_ms) {
            Some(step) => store.use_totp_step(id, step).await?,
            None => false,
        },
        _ => true,
    };
    match operator {
        Some(operator) if verified && second_factor_ok && !operator.is_disabled() => {
            let token = SessionToken::generate();
            store.create_session(&token.hash(), operator.id, source, now_ms).await?;
            tracing::info!(operator = %operator.username, source, "console login");
            Ok((token, operator))
        }
        _ => {
            store.record_login_failure(&username, source, now_ms).await?;
            tracing::info!(username = %username, source, "console login refused");
            Err(LoginRefusal::BadCredentials.into())
        }
    }
}

/// The live session this token opens, marked used now; `None` when there is none, it has
/// expired (it is then ended) or its operator was disabled.
pub async fn session(
    store: &dyn Store,
    policy: &ConsolePolicy,
    token: &SessionToken,
    now_ms: i64,
) -> Result<Option<ConsoleSession>, StoreError> {
    let hash = token.hash();
    let Some(session) = store.session(&hash).await? else {
        return Ok(None);
    };
    let idle = now_ms - session.last_seen_ms > policy.idle_ms;
    let old = now_ms - session.created_at_ms > policy.absolute_ms;
    if idle || old || session.operator.is_disabled() {
        store.end_session(&hash).await?;
        return Ok(None);
    }
    store.touch_session(&hash, now_ms).await?;
    Ok(Some(session))
}

pub async fn log_out(store: &dyn Store, token: &SessionToken) -> Result<(), StoreError> {
    store.end_session(&token.hash()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let (a, b) = (SessionToken::generate(), SessionToken::generate());
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 64);
        assert!(a.csrf_matches(&a.csrf_token()));
        assert!(!a.csrf_matches(&b.csrf_token()));
        assert!(!a.csrf_matches(""));
        assert_ne!(a.csrf_token(), a.expose(), "the CSRF token does not reveal the session token");
        assert_eq!(format!("{a:?}"), "SessionToken(…)");
    }
}
