//! PINs at rest: nothing a database holds (its file and WAL, every table's text) yields an
//! issued PIN; clear PINs of an older database are sealed when it is opened; a key rotation
//! re-seals every PIN and its audit hashes.

use std::sync::Arc;

use giftbiz_core::pin_vault::{legacy_audit_hash, PinVault};
use giftbiz_core::send::{Gubun, Pin};
use giftbiz_core::console::{NewOperator, OperatorRole, Password, PasswordHash, Username};
use giftbiz_core::totp::TotpSecret;
use giftbiz_core::Store;

use crate::harness::{pin_key_line, Place, Raw, TestDb};
use crate::kit::{charge, new_account, new_coupon};

/// Twelve random digits: a PIN no other bytes of the database spell by chance.
fn random_pin() -> Pin {
    Pin::new(format!("{:012}", rand_u64() % 1_000_000_000_000))
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64);
    h.finish()
}

/// Issues `n` coupons with random PINs (half MMS, so outbox rows hold them too) and returns
/// the PINs.
async fn issue_some(store: &dyn Store, user: &str, auth: &str, n: usize) -> Vec<Pin> {
    let account = store.create_account(&new_account(user, auth)).await.unwrap();
    charge(store, user, 100_000).await;
    let mut pins = Vec::new();
    for i in 0..n {
        let gubun = if i % 2 == 0 { Gubun::Mms } else { Gubun::Pin };
        let mut new = new_coupon(account.id, &format!("{user}{i}"), 100, gubun);
        new.pin = random_pin();
        store.issue_coupon(&new).await.unwrap();
        pins.push(new.pin);
    }
    pins
}

/// Every text the database holds: SQLite's file and WAL as bytes; PostgreSQL's rows of every
/// table as text.
async fn everything_stored(db: &TestDb, raw: &Raw) -> String {
    match &db.place {
        Place::Sqlite { url, .. } => {
            let path = url.strip_prefix("sqlite://").unwrap();
            let mut all = Vec::new();
            for suffix in ["", "-wal"] {
                if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                    all.extend(bytes);
                }
            }
            assert!(all.len() > 4096, "the file and WAL were read");
            String::from_utf8_lossy(&all).into_owned()
        }
        Place::Postgres { .. } => {
            let tables: Vec<(String,)> = raw
                .fetch("SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = current_schema()")
                .await;
            let mut all = String::new();
            for (table,) in tables {
                let rows: Vec<(String,)> = raw.fetch(&format!("SELECT CAST(t AS TEXT) FROM \"{table}\" t")).await;
                all.extend(rows.into_iter().map(|(r,)| r + "\n"));
            }
            all
        }
    }
}

pub async fn issued_pins_are_sealed_at_rest(db: &TestDb) {
    let store = &*db.store;
    let pins = issue_some(store, "alice", "REALaaaa", 20).await;
    for pin in &pins {
        let coupon = store.coupon_by_pin(pin).await.unwrap().expect("found by its PIN");
        assert_eq!(&coupon.new.pin, pin, "read back opened");
    }
    let claimed = store
        .claim_due_messages(&giftbiz_core::delivery::Claim { now_ms: i64::MAX / 2, limit: 100, lease_ms: 1000, worker: "w" })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 10);
    assert!(claimed.iter().all(|m| pins.contains(&m.pin)), "messages carry the opened PIN");

    let raw = db.raw().await;
    let stored = everything_stored(db, &raw).await;
    assert!(stored.contains("REALaaaa"), "the dump holds the rows");
    for pin in &pins {
        assert!(!stored.contains(pin.expose()), "PIN digits in the database");
    }
    let lookups: Vec<(String, Option<String>)> = raw.fetch("SELECT pin, pin_sealed FROM coupons").await;
    let key_id = PinVault::parse(pin_key_line()).unwrap().current_id().to_owned();
    assert!(lookups.iter().all(|(l, s)| l.starts_with(&format!("{key_id}:")) && s.as_ref().is_some_and(|s| s.starts_with(&format!("{key_id}:")))));
    raw.close().await;
}

pub async fn clear_pins_are_sealed_when_opened(db: &TestDb) {
    let pins = issue_some(&*db.store, "alice", "REALaaaa", 3).await;
    let raw = db.raw().await;
    // As a database from before sealing held them: the PIN in clear, the audit's unkeyed
    // hash as migration 0008 marked it, and an audit row of a PIN no coupon has.
    for pin in &pins {
        let p = pin.expose();
        raw.execute(&format!("UPDATE coupons SET pin = '{p}', pin_sealed = NULL WHERE pin_sealed IS NOT NULL AND id = (SELECT MIN(id) FROM coupons WHERE pin_sealed IS NOT NULL)")).await.unwrap();
    }
    raw.execute("INSERT INTO partners (partner_code, name, token_hash, brand_codes, created_at_ms) VALUES ('PT1', 'p', 'x', 'BR001', 0)").await.unwrap();
    let legacy = legacy_audit_hash(&pins[0]);
    raw.execute(&format!(
        "INSERT INTO redemption_audit (partner_id, pin_hash, action, outcome, at_ms) VALUES
         ((SELECT id FROM partners), '{legacy}', 'lookup', 'ok', 1), ((SELECT id FROM partners), 'legacy 00ff', 'lookup', 'not_found', 2)"
    ))
    .await
    .unwrap();

    let reopened = db.open().await;
    for pin in &pins {
        let coupon = reopened.coupon_by_pin(pin).await.unwrap().expect("found by its PIN after sealing");
        assert_eq!(&coupon.new.pin, pin);
    }
    let clear: Vec<(i64,)> = raw.fetch("SELECT COUNT(*) FROM coupons WHERE pin_sealed IS NULL OR pin NOT LIKE '%:%'").await;
    assert_eq!(clear, vec![(0,)], "every clear PIN sealed");
    let audit: Vec<(Option<String>,)> = raw.fetch("SELECT pin_hash FROM redemption_audit ORDER BY id").await;
    let keyed = reopened.pin_hash(&pins[0]);
    assert_eq!(audit, vec![(Some(keyed.as_str().to_owned()),), (None,)], "legacy hashes keyed or cleared");
    let stored = everything_stored(db, &raw).await;
    for pin in &pins {
        assert!(!stored.contains(pin.expose()), "a clear PIN left in the database after sealing");
    }
    raw.close().await;
}

pub async fn pin_keys_rotate(db: &TestDb) {
    let old = pin_key_line();
    let new = PinVault::generate_line();
    let pins = issue_some(&*db.store, "alice", "REALaaaa", 3).await;
    let raw = db.raw().await;
    raw.execute("INSERT INTO partners (partner_code, name, token_hash, brand_codes, created_at_ms) VALUES ('PT1', 'p', 'x', 'BR001', 0)").await.unwrap();
    let old_hash = db.store.pin_hash(&pins[0]);
    raw.execute(&format!(
        "INSERT INTO redemption_audit (partner_id, pin_hash, action, outcome, at_ms) VALUES ((SELECT id FROM partners), '{}', 'lookup', 'ok', 1)",
        old_hash.as_str()
    ))
    .await
    .unwrap();

    // The new key appended: it seals new PINs, the old one still opens and finds the rest.
    let both = db.place.open_with(Arc::new(PinVault::parse(&format!("{old}\n{new}")).unwrap())).await.unwrap();
    for pin in &pins {
        assert_eq!(&both.coupon_by_pin(pin).await.unwrap().expect("found by its old key").new.pin, pin);
    }
    let more = issue_some(&*both, "bob", "REALbbbb", 1).await;
    // An operator's TOTP key sealed under the old key is re-sealed with the PINs.
    let kim = Username::parse("kim").unwrap();
    let hash = PasswordHash::of(&Password::presented("correct horse battery"));
    db.store.create_operator(&NewOperator { username: kim.clone(), role: OperatorRole::Admin, password_hash: hash, created_at_ms: 0 }).await.unwrap();
    let totp = TotpSecret::generate();
    assert!(db.store.set_operator_totp(&kim, Some(&totp)).await.unwrap());
    assert_eq!(both.reseal_pins().await.unwrap(), 3, "the three under the old key");
    assert_eq!(both.reseal_pins().await.unwrap(), 0, "a second run has nothing to do");
    let audit: Vec<(Option<String>,)> = raw.fetch("SELECT pin_hash FROM redemption_audit").await;
    assert_eq!(audit, vec![(Some(both.pin_hash(&pins[0]).as_str().to_owned()),)], "the audit follows the key");
    drop(both);

    // The old key gone: everything still opens and is found under the new one alone.
    let only_new = db.place.open_with(Arc::new(PinVault::parse(&new).unwrap())).await.unwrap();
    for pin in pins.iter().chain(&more) {
        assert_eq!(&only_new.coupon_by_pin(pin).await.unwrap().expect("found under the new key").new.pin, pin);
    }
    let operator = only_new.operator_by_username(&kim).await.unwrap().expect("kim");
    assert_eq!(operator.totp.as_ref(), Some(&totp), "the TOTP key opens under the new key alone");
    drop(only_new);
    // A ring without the key that sealed them stops the open, naming the problem.
    let e = db.place.open_with(Arc::new(PinVault::parse(old).unwrap())).await.err().expect("the old ring is refused");
    assert!(e.to_string().contains("lacks"), "{e}");
    raw.close().await;
}
