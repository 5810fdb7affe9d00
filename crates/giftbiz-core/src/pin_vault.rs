//! PINs at rest: sealed with an AEAD and found by a keyed hash, so a database dump (or its WAL)
//! yields no usable PIN.
//!
//! A key ring holds one or more 32-byte keys, each with an id; the newest (last) seals, every
//! one opens and finds. From each key two subkeys are derived: one for XChaCha20-Poly1305 (a
//! random 24-byte nonce per PIN, the key id as associated data), one for HMAC-SHA256, whose
//! output is the PIN's lookup value (unique, indexed, and what the partner audit records). Both
//! stored forms start with the key id, so a rotation (a new key appended, then every coupon
//! re-sealed) knows which rows it has still to do.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::send::Pin;

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const KEY_ID_MAX: usize = 16;

/// A PIN sealed under a key of the ring: `ID:BASE64URL(nonce ‖ ciphertext)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPin(String);

impl SealedPin {
    pub fn from_stored(s: String) -> SealedPin {
        SealedPin(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the key that sealed it.
    pub fn key_id(&self) -> &str {
        self.0.split_once(':').map_or("", |(id, _)| id)
    }
}

/// A PIN's keyed hash under one key: `ID:BASE64URL(HMAC-SHA256)`. Equal PINs under one key
/// have equal lookups; without the key, a lookup says nothing about its PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinLookup(String);

impl PinLookup {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// What a secret other than a PIN is sealed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretPurpose {
    OperatorTotp,
}

impl SecretPurpose {
    fn label(self) -> &'static str {
        match self {
            SecretPurpose::OperatorTotp => "giftbiz operator totp v1",
        }
    }
}

/// What the store writes for a new PIN: its lookup and its sealed form, both under the
/// current key.
#[derive(Debug, Clone)]
pub struct ProtectedPin {
    pub lookup: PinLookup,
    pub sealed: SealedPin,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinVaultError {
    #[error("pin key line {line}: {why} (want ID:BASE64, the id 1-{KEY_ID_MAX} of A-Z a-z 0-9 _ -, the key 32 bytes in URL-safe Base64)")]
    BadKeyLine { line: usize, why: &'static str },
    #[error("pin key id {0:?} appears twice")]
    DuplicateKeyId(String),
    #[error("the pin key ring holds no key")]
    Empty,
    #[error("a PIN sealed under key {0:?}, which the key ring lacks")]
    UnknownKey(String),
    #[error("a sealed PIN does not open under key {0:?} (damaged, or a different key with that id)")]
    Damaged(String),
}

struct PinKey {
    id: String,
    aead: XChaCha20Poly1305,
    mac: Hmac<Sha256>,
}

/// The key ring. `Debug` shows the key ids only.
pub struct PinVault {
    /// Oldest first; the last one seals.
    keys: Vec<PinKey>,
}

impl fmt::Debug for PinVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinVault").field("key_ids", &self.key_ids()).finish()
    }
}

impl PinVault {
    /// A ring from its text: one `ID:BASE64` key per line (or separated by commas, for an
    /// environment variable), blank lines and `#` comments ignored, the newest last.
    pub fn parse(text: &str) -> Result<PinVault, PinVaultError> {
        let mut keys: Vec<PinKey> = Vec::new();
        let entries = text.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with('#'));
        for (n, entry) in entries.flat_map(|(n, l)| l.split(',').map(move |e| (n, e))) {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let line = n + 1;
            let bad = |why| PinVaultError::BadKeyLine { line, why };
            let (id, key) = entry.split_once(':').ok_or(bad("no ':'"))?;
            let id_ok = !id.is_empty()
                && id.len() <= KEY_ID_MAX
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !id_ok {
                return Err(bad("a bad key id"));
            }
            let bytes = URL_SAFE_NO_PAD.decode(key.trim_end_matches('=')).map_err(|_| bad("the key is not Base64"))?;
            let bytes: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| bad("the key is not 32 bytes"))?;
            if keys.iter().any(|k| k.id == id) {
                return Err(PinVaultError::DuplicateKeyId(id.to_owned()));
            }
            keys.push(PinKey::derive(id, &bytes));
        }
        if keys.is_empty() {
            return Err(PinVaultError::Empty);
        }
        Ok(PinVault { keys })
    }

    /// A new random key line (`ID:BASE64`), for a key file or `pin_key`.
    pub fn generate_line() -> String {
        let id: [u8; 4] = rand::random();
        let key: [u8; KEY_BYTES] = rand::random();
        format!("k{}:{}", hex::encode(id), URL_SAFE_NO_PAD.encode(key))
    }

    /// A ring of one new random key, kept nowhere: for tests and in-memory databases.
    pub fn ephemeral() -> PinVault {
        PinVault::parse(&PinVault::generate_line()).expect("a generated key line parses")
    }

    /// The ids, oldest first.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.current().id
    }

    fn current(&self) -> &PinKey {
        self.keys.last().expect("a ring is never empty")
    }

    /// The lookup and sealed form of a new PIN, under the current key.
    pub fn protect(&self, pin: &Pin) -> ProtectedPin {
        ProtectedPin { lookup: self.current().lookup(pin), sealed: self.seal(pin) }
    }

    pub fn seal(&self, pin: &Pin) -> SealedPin {
        SealedPin(self.seal_bytes(None, pin.expose().as_bytes()))
    }

    pub fn open(&self, sealed: &SealedPin) -> Result<Pin, PinVaultError> {
        let clear = self.open_bytes(None, sealed.as_str())?;
        String::from_utf8(clear).map(Pin::new).map_err(|_| PinVaultError::Damaged(sealed.key_id().to_owned()))
    }

    /// Seals another secret than a PIN (an operator's TOTP key) in the same form, its purpose
    /// bound in as associated data: it opens only as what it was sealed for, never as a PIN.
    pub fn seal_secret(&self, purpose: SecretPurpose, clear: &[u8]) -> SealedPin {
        SealedPin(self.seal_bytes(Some(purpose), clear))
    }

    pub fn open_secret(&self, purpose: SecretPurpose, sealed: &SealedPin) -> Result<Vec<u8>, PinVaultError> {
        self.open_bytes(Some(purpose), sealed.as_str())
    }

    /// The associated data: a PIN's is its key id alone (as it was before other secrets).
    fn aad(purpose: Option<SecretPurpose>, key: &PinKey) -> Vec<u8> {
        match purpose {
            None => key.id.as_bytes().to_vec(),
            Some(purpose) => format!("{}\0{}", purpose.label(), key.id).into_bytes(),
        }
    }

    fn seal_bytes(&self, purpose: Option<SecretPurpose>, clear: &[u8]) -> String {
        let key = self.current();
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let aad = Self::aad(purpose, key);
        let payload = Payload { msg: clear, aad: &aad };
        let ciphertext = key.aead.encrypt(XNonce::from_slice(&nonce), payload).expect("XChaCha20-Poly1305 seals any message");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{}:{}", key.id, URL_SAFE_NO_PAD.encode(sealed))
    }

    fn open_bytes(&self, purpose: Option<SecretPurpose>, sealed: &str) -> Result<Vec<u8>, PinVaultError> {
        let (id, body) = sealed.split_once(':').unwrap_or(("", ""));
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| PinVaultError::UnknownKey(id.to_owned()))?;
        let damaged = || PinVaultError::Damaged(id.to_owned());
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| damaged())?;
        if bytes.len() < NONCE_BYTES {
            return Err(damaged());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let aad = Self::aad(purpose, key);
        let payload = Payload { msg: ciphertext, aad: &aad };
        key.aead.decrypt(XNonce::from_slice(nonce), payload).map_err(|_| damaged())
    }

    /// The PIN's lookup under the current key (what a new coupon stores, and the audit's hash).
    pub fn lookup(&self, pin: &Pin) -> PinLookup {
        self.current().lookup(pin)
    }

    /// The PIN's lookup under every key, the current one first: a coupon sealed before a
    /// rotation finished is found by its old key's lookup.
    pub fn lookups(&self, pin: &Pin) -> Vec<PinLookup> {
        self.keys.iter().rev().map(|k| k.lookup(pin)).collect()
    }
}

/// The audit hash a PIN had before PINs were keyed, as migration 0008 marked it: found by
/// it, an old audit row gets the PIN's lookup instead.
pub fn legacy_audit_hash(pin: &Pin) -> String {
    use sha2::Digest;
    format!("{LEGACY_AUDIT_PREFIX}{}", hex::encode(Sha256::digest(pin.expose().as_bytes())))
}

/// What marks a legacy audit hash (a key id has no space, so no lookup starts with it).
pub const LEGACY_AUDIT_PREFIX: &str = "legacy ";

impl PinKey {
    fn derive(id: &str, master: &[u8; KEY_BYTES]) -> PinKey {
        let subkey = |label: &[u8]| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("HMAC takes any key length");
            mac.update(label);
            mac.finalize().into_bytes()
        };
        let aead = XChaCha20Poly1305::new(&subkey(b"giftbiz pin seal v1"));
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&subkey(b"giftbiz pin lookup v1")).expect("HMAC takes any key length");
        PinKey { id: id.to_owned(), aead, mac }
    }

    fn lookup(&self, pin: &Pin) -> PinLookup {
        let mut mac = self.mac.clone();
        mac.update(pin.expose().as_bytes());
        PinLookup(format!("{}:{}", self.id, URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin() -> Pin {
        Pin::new("900343630367")
    }

    #[test]
    fn a_sealed_pin_opens_and_hides_its_digits() {
        let vault = PinVault::ephemeral();
        let a = vault.seal(&pin());
        let b = vault.seal(&pin());
        assert_ne!(a, b, "a fresh nonce per seal");
        assert!(!a.as_str().contains("900343630367"));
        assert_eq!(vault.open(&a).unwrap(), pin());
        assert_eq!(a.key_id(), vault.current_id());
    }

    #[test]
    fn lookups_are_keyed_and_stable() {
        let vault = PinVault::ephemeral();
        assert_eq!(vault.lookup(&pin()), vault.lookup(&pin()));
        assert_ne!(vault.lookup(&pin()), vault.lookup(&Pin::new("900343630368")));
        assert_ne!(vault.lookup(&pin()), PinVault::ephemeral().lookup(&pin()), "another key, another lookup");
    }

    #[test]
    fn a_tampered_or_foreign_seal_is_refused() {
        let vault = PinVault::ephemeral();
        let sealed = vault.seal(&pin());
        let mut s = sealed.as_str().to_owned();
        let last = s.pop().unwrap();
        s.push(if last == 'A' { 'B' } else { 'A' });
        assert!(matches!(vault.open(&SealedPin::from_stored(s)), Err(PinVaultError::Damaged(_))));
        let other = PinVault::ephemeral();
        assert!(matches!(other.open(&sealed), Err(PinVaultError::UnknownKey(_))));
        // The key id is bound as associated data: the same body under another id fails.
        let line = PinVault::generate_line();
        let key = line.split_once(':').unwrap().1;
        let twin = PinVault::parse(&format!("{}:{key}\nzz:{key}", "aa")).unwrap();
        let s = twin.seal(&pin());
        let moved = SealedPin::from_stored(s.as_str().replacen("zz:", "aa:", 1));
        assert!(matches!(twin.open(&moved), Err(PinVaultError::Damaged(_))));
    }

    #[test]
    fn a_secret_opens_only_as_what_it_was_sealed_for() {
        let vault = PinVault::ephemeral();
        let secret = vault.seal_secret(SecretPurpose::OperatorTotp, b"twenty bytes of key!");
        assert_eq!(secret.key_id(), vault.current_id());
        assert_eq!(vault.open_secret(SecretPurpose::OperatorTotp, &secret).unwrap(), b"twenty bytes of key!");
        assert!(matches!(vault.open(&secret), Err(PinVaultError::Damaged(_))), "a secret never opens as a PIN");
        let sealed_pin = vault.seal(&pin());
        assert!(matches!(vault.open_secret(SecretPurpose::OperatorTotp, &sealed_pin), Err(PinVaultError::Damaged(_))));
    }

    #[test]
    fn the_last_key_seals_and_every_key_opens() {
        let old = PinVault::generate_line();
        let new = PinVault::generate_line();
        let before = PinVault::parse(&old).unwrap();
        let sealed_before = before.seal(&pin());
        let ring = PinVault::parse(&format!("# rotated, kept: old, new\n{old}\n\n{new}\n")).unwrap();
        assert_eq!(ring.key_ids().len(), 2);
        assert_eq!(ring.current_id(), new.split_once(':').unwrap().0);
        assert_eq!(ring.open(&sealed_before).unwrap(), pin());
        assert_eq!(ring.seal(&pin()).key_id(), ring.current_id());
        let lookups = ring.lookups(&pin());
        assert_eq!(lookups[0], ring.lookup(&pin()));
        assert_eq!(lookups[1], before.lookup(&pin()));
        assert_eq!(PinVault::parse(&format!("{old},{new}")).unwrap().key_ids(), ring.key_ids());
    }

    #[test]
    fn bad_rings_are_refused() {
        assert_eq!(PinVault::parse("# nothing\n").unwrap_err(), PinVaultError::Empty);
        assert!(matches!(PinVault::parse("k1"), Err(PinVaultError::BadKeyLine { line: 1, .. })));
        assert!(matches!(PinVault::parse("k1:short"), Err(PinVaultError::BadKeyLine { .. })));
        assert!(matches!(PinVault::parse("bad id:AAAA"), Err(PinVaultError::BadKeyLine { .. })));
        let line = PinVault::generate_line();
        assert!(matches!(PinVault::parse(&format!("{line}\n{line}")), Err(PinVaultError::DuplicateKeyId(_))));
        assert!(!format!("{:?}", PinVault::parse(&line).unwrap()).contains(line.split_once(':').unwrap().1));
    }
}
