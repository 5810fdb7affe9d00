//! The console's optional second factor: RFC 6238 one-time codes as every authenticator app
//! makes them (HMAC-SHA-1, 6 digits, 30-second steps). A code of the step before or after now
//! is accepted too (a phone's clock drifts), and each step's code once only: the store keeps
//! the last step used and refuses any step not after it, so a code seen over a shoulder or in
//! a proxy log cannot open a second session.

use std::fmt;

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::console::Username;

const SECRET_BYTES: usize = 20;
const STEP_S: i64 = 30;
const DIGITS: usize = 6;
/// Steps either side of now whose code is accepted.
const SKEW: i64 = 1;

/// An operator's TOTP key. Stored sealed (`PinVault::seal_secret`); `Debug` hides it.
#[derive(Clone)]
pub struct TotpSecret(Vec<u8>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a TOTP secret of {0} bytes (want at least 16)")]
pub struct ShortTotpSecret(usize);

impl TotpSecret {
    /// A new random key of 160 bits (RFC 4226's recommendation).
    pub fn generate() -> TotpSecret {
        TotpSecret(rand::random::<[u8; SECRET_BYTES]>().to_vec())
    }

    /// A key as stored (opened) or given; RFC 4226 asks for at least 128 bits.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<TotpSecret, ShortTotpSecret> {
        if bytes.len() < 16 {
            return Err(ShortTotpSecret(bytes.len()));
        }
        Ok(TotpSecret(bytes))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The key in Base32, as an authenticator app asks for it when typed in.
    pub fn base32(&self) -> String {
        Secret::Raw(self.0.clone()).to_encoded().to_string()
    }

    /// The `otpauth://` URI an authenticator app reads (as a QR code or pasted). A username
    /// is letters, digits and `.-_` only, so it needs no escaping.
    pub fn otpauth_uri(&self, username: &Username) -> String {
        format!(
            "otpauth://totp/giftbiz:{username}?secret={}&issuer=giftbiz&algorithm=SHA1&digits={DIGITS}&period={STEP_S}",
            self.base32()
        )
    }

    fn totp(&self) -> TOTP {
        TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_S as u64, self.0.clone())
    }

    /// The step of a time.
    pub fn step_of(now_ms: i64) -> i64 {
        now_ms.div_euclid(1000 * STEP_S)
    }

    /// The code of a step.
    pub fn code_at_step(&self, step: i64) -> String {
        self.totp().generate((step.max(0) * STEP_S) as u64)
    }

    /// The step whose code `presented` is, among now's and its neighbours, if any. Spaces in
    /// the code (apps show `123 456`) are ignored; each candidate is compared in constant time.
    pub fn matching_step(&self, presented: &str, now_ms: i64) -> Option<i64> {
        let code: String = presented.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = Self::step_of(now_ms);
        let totp = self.totp();
        let mut found = None;
        for step in (now - SKEW)..=(now + SKEW) {
            let expected = totp.generate((step.max(0) * STEP_S) as u64);
            if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
                found = Some(step);
            }
        }
        found
    }
}

impl PartialEq for TotpSecret {
    fn eq(&self, other: &TotpSecret) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for TotpSecret {}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 vectors (8 digits there; the last 6 are ours).
    #[test]
    fn rfc_6238_vectors() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        for (unix_s, code8) in [(59_i64, "94287082"), (1_111_111_109, "07081804"), (1_234_567_890, "89005924"), (2_000_000_000, "69279037")] {
            let step = TotpSecret::step_of(unix_s * 1000);
            assert_eq!(secret.code_at_step(step), code8[2..], "at {unix_s}");
        }
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_only() {
        let secret = TotpSecret::generate();
        let now_ms = 1_800_000_000_000;
        let now = TotpSecret::step_of(now_ms);
        for step in [now - 1, now, now + 1] {
            assert_eq!(secret.matching_step(&secret.code_at_step(step), now_ms), Some(step));
        }
        for step in [now - 3, now - 2, now + 2] {
            let code = secret.code_at_step(step);
            // A far step's code may equal a near one's by chance (1 in 10^6 each).
            let near = [now - 1, now, now + 1].map(|s| secret.code_at_step(s));
            if !near.contains(&code) {
                assert_eq!(secret.matching_step(&code, now_ms), None);
            }
        }
        let code = secret.code_at_step(now);
        assert_eq!(secret.matching_step(&format!("{} {}", &code[..3], &code[3..]), now_ms), Some(now));
        for bad in ["", "12345", "1234567", "abcdef", "12345a"] {
            assert_eq!(secret.matching_step(bad, now_ms), None, "{bad:?}");
        }
    }

    #[test]
    fn secrets_are_long_enough_and_hidden() {
        assert_eq!(TotpSecret::from_bytes(vec![0; 15]), Err(ShortTotpSecret(15)));
        let secret = TotpSecret::generate();
        assert_eq!(secret.expose().len(), 20);
        assert_eq!(format!("{secret:?}"), "TotpSecret(…)");
        let uri = secret.otpauth_uri(&Username::parse("kim.support").unwrap());
        assert!(uri.starts_with("otpauth://totp/giftbiz:kim.support?secret="), "{uri}");
        assert!(uri.contains(&secret.base32()));
    }
}
