//! Failure and recovery: a backup taken while sends, cancels and sendFail cancels run is a
//! consistent database (the money rules hold on it, every send acknowledged before it began is
//! in it), and the rules checker finds a broken rule.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{assert_code, Engine, TestApp};
use giftbiz_core::coupon::LedgerReason;
use giftbiz_server::{invariants, operator, Settings};
use sqlx::Connection;

const CHAINS: usize = 3;
const SENDS_PER_CHAIN: usize = 30;

async fn on_sale_goods(app: &TestApp) -> String {
    let v = app.call("/bizApi/goods", "0101", &[("size", "50")]).await;
    let g = v["result"]["goodsList"].as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SALE").unwrap();
    g["goodsCode"].as_str().unwrap().to_owned()
}

/// Sends, a cancel of every third, a sendFail cancel of a tr_id never sent now and then;
/// records each send acknowledged with 0000 and counts them in `done`.
async fn chain(app: &TestApp, goods: &str, c: usize, done: &AtomicUsize, acked: &std::sync::Mutex<Vec<String>>) {
    for i in 0..SENDS_PER_CHAIN {
        let tr_id = format!("bk{c}_{i}");
        let v = app.call("/bizApi/send", "0204", &common::send_params(goods, &tr_id, "Y", &[])).await;
        assert_code(&v, "0000");
        acked.lock().unwrap().push(tr_id.clone());
        done.fetch_add(1, Ordering::SeqCst);
        if i % 3 == 0 {
            assert_code(&app.call("/bizApi/cancel", "0202", &[("tr_id", &tr_id), ("user_id", "acme")]).await, "0000");
        }
        if i % 5 == 0 {
            let never = format!("bkf{c}_{i}");
            let v = app.call("/bizApi/sendFail/cancel", "0205", &[("tr_id", &never), ("user_id", "acme")]).await;
            assert!(v["code"] == "0000" || v["code"].as_str().is_some_and(|c| c.starts_with("ERR")), "{v}");
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_is_consistent_and_restores() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    operator::change_bizmoney(app.store.as_ref(), &common::user("acme"), giftbiz_core::Won::new(10_000_000), LedgerReason::Charge, "test")
        .await
        .unwrap();
    let goods = on_sale_goods(&app).await;
    let settings = Settings { database_url: app.sqlite_url().unwrap(), ..Settings::default() };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("backup.db");
    let (done, acked) = (AtomicUsize::new(0), std::sync::Mutex::new(Vec::new()));

    // The backup starts once a third of the sends are acknowledged, while the rest run.
    let backup = async {
        while done.load(Ordering::SeqCst) < CHAINS * SENDS_PER_CHAIN / 3 {
            tokio::task::yield_now().await;
        }
        let before: Vec<String> = acked.lock().unwrap().clone();
        giftbiz_server::db::backup(&settings, &out).await.expect("backup");
        before
    };
    let chains = futures_all(&app, &goods, &done, &acked);
    let (acked_before, ()) = tokio::join!(backup, chains);
    assert!(done.load(Ordering::SeqCst) > acked_before.len(), "sends went on during the backup");

    let again = giftbiz_server::db::backup(&settings, &out).await;
    assert!(again.unwrap_err().to_string().contains("backing"), "an existing file is refused");

    let url = format!("sqlite://{}", out.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.unwrap();
    assert_eq!(integrity, "ok");
    conn.close().await.unwrap();

    // Restored (opened where it lies, with the same PIN key): the rules hold, and every send
    // acknowledged before the backup began is there with its charge.
    let restored = giftbiz_store_sqlite::connect(&url, common::pin_vault()).await.unwrap();
    let report = invariants::check(&restored).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert!(report.charges >= acked_before.len() as u64 && report.refunds > 0, "{report:?}");
    for tr_id in &acked_before {
        let coupon = giftbiz_core::IssuanceStore::coupon_by_tr_id(&restored, app.account.account.id, &common::tr(tr_id)).await.unwrap();
        assert!(coupon.is_some(), "{tr_id} acknowledged before the backup and missing from it");
    }
    let live = invariants::check(app.store.as_ref()).await.unwrap();
    assert!(live.is_ok() && live.charges == (CHAINS * SENDS_PER_CHAIN) as u64, "{live:?}");
    assert!(report.charges <= live.charges);
    giftbiz_core::Store::close(&restored).await;

    // The checker is not blind: a charge with no coupon behind it (and a balance the ledger
    // no longer sums to) is reported.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("INSERT INTO ledger (account_id, amount, balance_after, reason, tr_id, memo, created_at_ms) VALUES ($1, -100, 0, 'send', 'ghost', '', 0)")
        .bind(app.account.account.id.get())
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let broken = giftbiz_store_sqlite::connect(&url, common::pin_vault()).await.unwrap();
    let report = invariants::check(&broken).await.unwrap();
    let text = report.violations.join("\n");
    assert!(text.contains("\"ghost\" charged 100 without a coupon") && text.contains("is not the ledger's sum"), "{text}");
    app.finish().await;
}

async fn futures_all(app: &TestApp, goods: &str, done: &AtomicUsize, acked: &std::sync::Mutex<Vec<String>>) {
    tokio::join!(chain(app, goods, 0, done, acked), chain(app, goods, 1, done, acked), chain(app, goods, 2, done, acked));
}

/// A size-limited tmpfs mounted for the test, unmounted on drop; `None` (the test says it
/// was skipped) where this process may not mount.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: the store's writer thread may still be closing its file.
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Fills the disk with a file until it refuses a byte more; returns the file.
fn fill(disk: &SmallDisk) -> std::path::PathBuf {
    use std::io::Write;
    let path = disk.path().join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 4096];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.flush();
    path
}

/// A full disk under SQLite: sends fail with E9999 (never a panic or a hang), nothing
/// acknowledged is lost, the file stays intact, and sends succeed again once space is freed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_sends_cleanly_and_they_resume_once_freed() {
    let Some(disk) = SmallDisk::mount("8m") else { return };
    let url = format!("sqlite://{}", disk.path().join("giftbiz.db").display());
    let store: std::sync::Arc<dyn giftbiz_core::Store> =
        std::sync::Arc::new(giftbiz_store_sqlite::connect(&url, common::pin_vault()).await.unwrap());
    operator::seed_demo(store.as_ref()).await.unwrap();
    let account = operator::create_account(store.as_ref(), &common::user("acme"), giftbiz_core::Grade::Basic).await.unwrap();
    operator::change_bizmoney(store.as_ref(), &common::user("acme"), giftbiz_core::Won::new(100_000_000), LedgerReason::Charge, "t")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = std::sync::Arc::new(giftbiz_core::time::ManualClock::new(chrono::Utc::now()));
    let settings = Settings { delivery_interval_ms: 0, expiry_interval_ms: 0, ..Settings::default() };
    let server = giftbiz_server::RunningServer::start(store.clone(), settings, clock, listener).await.unwrap();
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap();
    let send = |tr_id: String| {
        let (http, base) = (http.clone(), server.base_url());
        let (code, token) = (account.account.auth_code.clone(), account.token.expose().to_owned());
        async move {
            let form = [
                ("api_code", "0204"), ("custom_auth_code", code.as_str()), ("custom_auth_token", token.as_str()), ("dev_yn", "N"),
                ("goods_code", "G00000280009"), ("tr_id", tr_id.as_str()), ("gubun", "Y"), ("user_id", "acme"),
                ("phone_no", "01012345678"), ("callback_no", "15880108"), ("mms_title", "t"), ("mms_msg", "m"),
            ];
            let resp = http.post(format!("{base}/bizApi/send")).form(&form).send().await.expect("an answer, not a hang");
            assert_eq!(resp.status(), 200);
            let v: serde_json::Value = resp.json().await.expect("the envelope");
            match (v["code"].as_str(), v["result"]["code"].as_str()) {
                (Some("0000"), Some(inner)) => inner.to_owned(),
                (Some(c), _) => c.to_owned(),
                _ => panic!("{v}"),
            }
        }
    };
    let goods_ok = send("probe".into()).await;
    assert_eq!(goods_ok, "0000", "the demo goods sells");
    let mut acked = vec!["probe".to_owned()];

    let filler = fill(&disk);
    let mut refused = 0;
    for i in 0..2_000 {
        let tr_id = format!("full{i}");
        match send(tr_id.clone()).await.as_str() {
            "0000" => acked.push(tr_id),
            "E9999" => {
                refused += 1;
                if refused == 5 {
                    break;
                }
            }
            other => panic!("a full disk answered {other}"),
        }
    }
    assert_eq!(refused, 5, "sends fail once the disk is full");

    std::fs::remove_file(&filler).unwrap();
    let mut resumed = false;
    for i in 0..50 {
        let tr_id = format!("freed{i}");
        if send(tr_id.clone()).await == "0000" {
            acked.push(tr_id);
            resumed = true;
            break;
        }
    }
    assert!(resumed, "sends succeed again once space is freed");

    let report = invariants::check(store.as_ref()).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    for tr_id in &acked {
        let coupon = store.coupon_by_tr_id(account.account.id, &common::tr(tr_id)).await.unwrap();
        assert!(coupon.is_some(), "{tr_id} was acknowledged");
    }
    server.stop().await.unwrap();
    store.close().await;
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.unwrap();
    assert_eq!(integrity, "ok");
    conn.close().await.unwrap();
}
