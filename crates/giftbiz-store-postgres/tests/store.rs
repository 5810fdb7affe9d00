//! Exercises every `Store` method of `PgStore`, each test in a fresh schema of the database
//! named by `GIFTBIZ_TEST_DATABASE_URL`. Without that variable the tests say so and pass; with
//! it, an unreachable server fails them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use giftbiz_core::account::TokenHash;
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::send::Gubun;
use giftbiz_core::testkit::{
    bizmoney_ledger, brand, cancel_coupons, codes, coupon_concurrency, goods, hot_paths,
    issue_coupons, new_account, new_coupon, send_fail_cancels, t0_ms,
};
use giftbiz_core::{Brand, Goods, GoodsState, Grade, Store, StoreError};
use giftbiz_store_postgres::PgStore;
use sqlx::{Connection, Executor, PgConnection};

const URL_VAR: &str = "GIFTBIZ_TEST_DATABASE_URL";

/// One test's schema in the test database.
struct TestDb {
    url: String,
    schema: String,
}

/// The test's database, or `None` (after saying so) when the variable is unset.
fn test_db(test: &str) -> Option<TestDb> {
    let Ok(url) = std::env::var(URL_VAR) else {
        eprintln!("{test}: skipped, {URL_VAR} is not set");
        return None;
    };
    Some(TestDb {
        url,
        schema: unique_schema(),
    })
}

/// Unique across processes (pid) and within one (counter); the time tells runs apart.
fn unique_schema() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("t_{nanos:x}_{}_{n}", std::process::id())
}

impl TestDb {
    async fn store(&self) -> PgStore {
        PgStore::connect_in_schema(&self.url, &self.schema)
            .await
            .unwrap_or_else(|e| panic!("cannot use the database in {URL_VAR}: {e}"))
    }

    /// A plain connection in the schema, to do what the store would not.
    async fn raw(&self) -> PgConnection {
        let mut conn = PgConnection::connect(&self.url).await.unwrap();
        conn.execute(format!("SET search_path TO \"{}\"", self.schema).as_str())
            .await
            .unwrap();
        conn
    }

    /// Drops the schema (left behind, for a look, when a test fails before this).
    async fn drop_schema(self) {
        let mut conn = PgConnection::connect(&self.url).await.unwrap();
        conn.execute(format!("DROP SCHEMA \"{}\" CASCADE", self.schema).as_str())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn accounts() {
    let Some(db) = test_db("accounts") else {
        return;
    };
    let store = db.store().await;
    assert_eq!(store.engine(), "postgres");
    assert!(store.list_accounts().await.unwrap().is_empty());

    let alice = store
        .create_account(&new_account("alice", "REALaaaa"))
        .await
        .unwrap();
    let bob = store
        .create_account(&new_account("bob", "REALbbbb"))
        .await
        .unwrap();
    assert_eq!(
        (alice.user_id.as_str(), alice.grade),
        ("alice", Grade::Basic)
    );
    assert!(bob.id > alice.id);
    assert!(alice.token_matches("token of alice"));

    match store
        .create_account(&new_account("alice", "REALcccc"))
        .await
    {
        Err(StoreError::UserIdTaken(id)) => assert_eq!(id, "alice"),
        other => panic!("expected UserIdTaken, got {other:?}"),
    }
    // A taken auth code is not a taken user id.
    assert!(matches!(
        store
            .create_account(&new_account("carol", "REALaaaa"))
            .await,
        Err(StoreError::Backend(_))
    ));

    assert_eq!(
        store.account_by_auth_code("REALbbbb").await.unwrap(),
        Some(bob.clone())
    );
    assert_eq!(
        store.account_by_user_id("alice").await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(store.account_by_auth_code("REALzzzz").await.unwrap(), None);
    assert_eq!(store.account_by_user_id("nobody").await.unwrap(), None);
    assert_eq!(
        store.list_accounts().await.unwrap(),
        vec![alice.clone(), bob.clone()]
    );

    assert!(store.set_grade("alice", Grade::Vip).await.unwrap());
    assert!(!store.set_grade("nobody", Grade::Vip).await.unwrap());
    let new_hash = TokenHash::of("new token");
    assert!(store.set_token_hash("bob", &new_hash).await.unwrap());
    assert!(!store.set_token_hash("nobody", &new_hash).await.unwrap());

    let alice = store.account_by_user_id("alice").await.unwrap().unwrap();
    let bob = store
        .account_by_auth_code("REALbbbb")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.grade, Grade::Vip);
    assert!(bob.token_matches("new token") && !bob.token_matches("token of bob"));
    assert_eq!(bob.grade, Grade::Basic);

    store.close().await;
    db.drop_schema().await;
}

#[tokio::test]
async fn catalog() {
    let Some(db) = test_db("catalog") else {
        return;
    };
    let store = db.store().await;
    assert_eq!(store.catalog_revision().await.unwrap(), 0);
    assert!(store.all_goods().await.unwrap().is_empty());
    assert!(store.all_brands().await.unwrap().is_empty());

    let brands = vec![brand("BR002", 2), brand("BR001", 2), brand("BR000", 5)];
    let goods_list = vec![
        goods("G300", 3, "BR001"),
        goods("G100", 1, "BR001"),
        goods("G2b", 2, "BR002"),
        goods("G2a", 2, "BR000"),
        goods("G2B", 2, "BR000"),
    ];
    let counts = store.upsert_catalog(&brands, &goods_list).await.unwrap();
    assert_eq!((counts.brands, counts.goods), (3, 5));
    let rev1 = store.catalog_revision().await.unwrap();
    assert!(rev1 > 0);

    let all = store.all_goods().await.unwrap();
    // Codes compare byte-wise: upper case first.
    assert_eq!(codes(&all), ["G100", "G2B", "G2a", "G2b", "G300"]);
    assert_eq!(all[0], goods_list[1]);
    let all_brands = store.all_brands().await.unwrap();
    let brand_codes: Vec<&str> = all_brands.iter().map(|b| b.brand_code.as_str()).collect();
    assert_eq!(brand_codes, ["BR001", "BR002", "BR000"]);
    assert_eq!(
        store.brand_by_code("BR000").await.unwrap(),
        Some(brands[2].clone())
    );
    assert_eq!(
        store.goods_by_code("G300").await.unwrap(),
        Some(goods_list[0].clone())
    );
    assert_eq!(store.goods_by_code("nope").await.unwrap(), None);
    assert_eq!(store.brand_by_code("nope").await.unwrap(), None);

    // Upserting again replaces by code: the name, state and number change, the rest stays.
    let mut changed = goods("G100", 9, "BR001");
    changed.goods_name = "새 이름".to_owned();
    changed.state = GoodsState::Withdrawn;
    let mut renamed = brand("BR000", 0);
    renamed.brand_name = "새 브랜드".to_owned();
    let counts = store
        .upsert_catalog(&[renamed.clone()], &[changed.clone()])
        .await
        .unwrap();
    assert_eq!((counts.brands, counts.goods), (1, 1));
    let rev2 = store.catalog_revision().await.unwrap();
    assert!(rev2 > rev1);

    assert_eq!(
        store.goods_by_code("G100").await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        codes(&store.all_goods().await.unwrap()),
        ["G2B", "G2a", "G2b", "G300", "G100"]
    );
    let all_brands = store.all_brands().await.unwrap();
    assert_eq!(all_brands[0], renamed);
    assert_eq!(all_brands.len(), 3);

    // Even an empty write is a catalog write.
    store.upsert_catalog(&[], &[]).await.unwrap();
    assert!(store.catalog_revision().await.unwrap() > rev2);

    store.close().await;
    db.drop_schema().await;
}

#[tokio::test]
async fn a_later_duplicate_in_one_batch_wins() {
    let Some(db) = test_db("a_later_duplicate_in_one_batch_wins") else {
        return;
    };
    let store = db.store().await;
    let mut second = goods("G1", 1, "B");
    second.goods_name = "second".to_owned();
    let counts = store
        .upsert_catalog(
            &[brand("B", 1), brand("B", 2)],
            &[goods("G1", 1, "B"), goods("G2", 2, "B"), second.clone()],
        )
        .await
        .unwrap();
    assert_eq!((counts.brands, counts.goods), (1, 2));
    assert_eq!(store.goods_by_code("G1").await.unwrap(), Some(second));
    assert_eq!(store.brand_by_code("B").await.unwrap().unwrap().sort, 2);

    store.close().await;
    db.drop_schema().await;
}

/// More rows than one upsert statement takes.
#[tokio::test]
async fn large_catalogs_are_written_in_chunks() {
    let Some(db) = test_db("large_catalogs_are_written_in_chunks") else {
        return;
    };
    let store = db.store().await;
    let brands: Vec<Brand> = (0..9_000)
        .map(|i| brand(&format!("B{i:05}"), i % 7))
        .collect();
    let mut many: Vec<Goods> = (0..15_000)
        .rev()
        .map(|i| goods(&format!("G{i:05}"), i, "B00001"))
        .collect();
    let counts = store.upsert_catalog(&brands, &many).await.unwrap();
    assert_eq!((counts.brands, counts.goods), (9_000, 15_000));

    for g in &mut many {
        g.popular = 1;
    }
    store.upsert_catalog(&[], &many).await.unwrap();
    let all = store.all_goods().await.unwrap();
    assert_eq!(all.len(), 15_000);
    assert!(all.iter().all(|g| g.popular == 1));
    assert!(all.windows(2).all(|w| w[0].goods_no < w[1].goods_no));
    assert_eq!(store.all_brands().await.unwrap().len(), 9_000);

    store.close().await;
    db.drop_schema().await;
}

/// Another server or the operator CLI sees and makes changes in the same database.
#[tokio::test]
async fn two_stores_on_one_schema_share_everything() {
    let Some(db) = test_db("two_stores_on_one_schema_share_everything") else {
        return;
    };
    let (a, b) = tokio::join!(db.store(), db.store());

    a.create_account(&new_account("alice", "REALaaaa"))
        .await
        .unwrap();
    assert!(b.set_grade("alice", Grade::Gold).await.unwrap());
    assert_eq!(
        a.account_by_user_id("alice").await.unwrap().unwrap().grade,
        Grade::Gold
    );

    let rev = a.catalog_revision().await.unwrap();
    b.upsert_catalog(&[brand("B", 1)], &[goods("G1", 1, "B")])
        .await
        .unwrap();
    assert!(a.catalog_revision().await.unwrap() > rev);
    assert_eq!(codes(&a.all_goods().await.unwrap()), ["G1"]);

    // Concurrent catalog writers upserting the same codes in opposite orders take turns
    // instead of deadlocking.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let mut goods: Vec<Goods> = (0..200).map(|n| goods(&format!("G{n}"), n, "B")).collect();
            if i % 2 == 1 {
                goods.reverse();
            }
            store
                .upsert_catalog(&[brand("B", i)], &goods)
                .await
                .unwrap();
            store
                .create_account(&new_account(&format!("user{i}"), &format!("REAL{i}")))
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(a.catalog_revision().await.unwrap(), rev + 17);
    assert_eq!(b.list_accounts().await.unwrap().len(), 17);
    // "G1" was there already.
    assert_eq!(a.all_goods().await.unwrap().len(), 200);

    a.close().await;
    b.close().await;
    db.drop_schema().await;
}

#[tokio::test]
async fn unreadable_rows_are_corrupt() {
    let Some(db) = test_db("unreadable_rows_are_corrupt") else {
        return;
    };
    let store = db.store().await;
    store
        .create_account(&new_account("alice", "REALaaaa"))
        .await
        .unwrap();
    store
        .upsert_catalog(&[brand("B", 1)], &[goods("G1", 1, "B")])
        .await
        .unwrap();

    let mut raw = db.raw().await;
    raw.execute("UPDATE accounts SET grade = 'diamond'")
        .await
        .unwrap();
    raw.execute("UPDATE goods SET doc = '{\"goods_code\": 1}'")
        .await
        .unwrap();
    raw.execute("UPDATE brands SET doc = 'not json'")
        .await
        .unwrap();

    assert!(matches!(
        store.account_by_user_id("alice").await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.list_accounts().await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.goods_by_code("G1").await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.all_goods().await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.brand_by_code("B").await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.all_brands().await,
        Err(StoreError::Corrupt(_))
    ));

    raw.close().await.unwrap();
    store.close().await;
    db.drop_schema().await;
}

/// Tests connect at once, each to its own schema (and sometimes two to the same one).
#[tokio::test]
async fn concurrent_connects_in_schemas_all_succeed() {
    let Some(first) = test_db("concurrent_connects_in_schemas_all_succeed") else {
        return;
    };
    let mut dbs = vec![first];
    let url = dbs[0].url.clone();
    dbs.extend((0..5).map(|_| TestDb {
        url: url.clone(),
        schema: unique_schema(),
    }));
    let connects = dbs.iter().chain(&dbs[..2]).map(|db| {
        let (url, schema) = (db.url.clone(), db.schema.clone());
        tokio::spawn(async move { PgStore::connect_in_schema(&url, &schema).await })
    });
    for connect in connects.collect::<Vec<_>>() {
        let store = connect.await.unwrap().unwrap();
        assert_eq!(store.catalog_revision().await.unwrap(), 0);
        store.close().await;
    }
    for db in dbs {
        db.drop_schema().await;
    }
}

/// `connect` migrates whatever schema the connection starts in, here one chosen by the URL.
#[tokio::test]
async fn connect_uses_the_connections_schema() {
    let Some(db) = test_db("connect_uses_the_connections_schema") else {
        return;
    };
    let mut raw = PgConnection::connect(&db.url).await.unwrap();
    raw.execute(format!("CREATE SCHEMA \"{}\"", db.schema).as_str())
        .await
        .unwrap();
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}options[search_path]={}", db.url, db.schema);

    let store = PgStore::connect(&url).await.unwrap();
    assert_eq!(store.engine(), "postgres");
    store
        .create_account(&new_account("alice", "REALaaaa"))
        .await
        .unwrap();
    store.close().await;

    let in_schema = db.store().await;
    assert!(in_schema
        .account_by_user_id("alice")
        .await
        .unwrap()
        .is_some());
    in_schema.close().await;
    raw.close().await.unwrap();
    db.drop_schema().await;
}

#[tokio::test]
async fn auth_lookup_and_goods_batches() {
    let Some(db) = test_db("auth_lookup_and_goods_batches") else {
        return;
    };
    let store = db.store().await;
    hot_paths(&store).await;
}

/// Runs a shared scenario on a fresh schema, then drops it.
macro_rules! scenario {
    ($name:ident, $run:ident) => {
        #[tokio::test]
        async fn $name() {
            let Some(db) = test_db(stringify!($name)) else {
                return;
            };
            let store = db.store().await;
            $run(&store).await;
            store.close().await;
            db.drop_schema().await;
        }
    };
}

scenario!(bizmoney_and_its_ledger, bizmoney_ledger);
scenario!(sends_issue_coupons, issue_coupons);
scenario!(cancels_refund_once, cancel_coupons);
scenario!(
    send_fail_cancels_tombstone_unknown_tr_ids,
    send_fail_cancels
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_and_cancels() {
    let Some(db) = test_db("concurrent_sends_and_cancels") else {
        return;
    };
    let store = db.store().await;
    coupon_concurrency(Arc::new(store.clone())).await;
    store.close().await;
    db.drop_schema().await;
}

/// What the trait does not show: the outbox row of an MMS send, and the schema's own guards.
#[tokio::test]
async fn outbox_rows_and_schema_guards() {
    let Some(db) = test_db("outbox_rows_and_schema_guards") else {
        return;
    };
    let store = db.store().await;
    let alice = store
        .create_account(&new_account("alice", "REALaaaa"))
        .await
        .unwrap();
    store
        .change_bizmoney("alice", 10_000, LedgerReason::Charge, "", t0_ms())
        .await
        .unwrap();
    let mut mms = new_coupon(alice.id, "T1", 1_000, Gubun::Mms);
    mms.reserved_at_ms = Some(t0_ms() + 60_000);
    let mms = store.issue_coupon(&mms).await.unwrap();
    let now = store
        .issue_coupon(&new_coupon(alice.id, "T2", 1_000, Gubun::Mms))
        .await
        .unwrap();
    store
        .issue_coupon(&new_coupon(alice.id, "T3", 1_000, Gubun::Pin))
        .await
        .unwrap();

    let mut raw = db.raw().await;
    type Outbox = (i64, String, i64, String, i32, i64, Option<i64>, i64);
    async fn outbox(raw: &mut PgConnection) -> Vec<Outbox> {
        sqlx::query_as::<_, Outbox>(
            "SELECT coupon_id, kind, due_at_ms, state, attempts, next_attempt_at_ms, \
             claimed_until_ms, created_at_ms FROM outbox ORDER BY id",
        )
        .fetch_all(raw)
        .await
        .unwrap()
    }
    let t = t0_ms();
    let pending = |id, due| {
        (
            id,
            "mms".to_owned(),
            due,
            "pending".to_owned(),
            0,
            due,
            None,
            t,
        )
    };
    assert_eq!(
        outbox(&mut raw).await,
        [pending(mms.id, t + 60_000), pending(now.id, t)]
    );
    store.cancel_coupon(alice.id, "T1", t).await.unwrap();
    let mut cancelled = pending(mms.id, t + 60_000);
    cancelled.3 = "cancelled".to_owned();
    assert_eq!(outbox(&mut raw).await, [cancelled, pending(now.id, t)]);

    // The ledger is append-only and a balance cannot go below zero, whatever the SQL.
    for sql in [
        "UPDATE ledger SET amount = 0",
        "DELETE FROM ledger",
        "UPDATE account_balances SET balance = -1",
    ] {
        assert!(raw.execute(sql).await.is_err(), "{sql}");
    }
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap(), 8_000);

    // Unknown codes are corrupt data.
    sqlx::query("UPDATE coupons SET status = '99' WHERE id = $1")
        .bind(now.id)
        .execute(&mut raw)
        .await
        .unwrap();
    assert!(matches!(
        store.coupon_by_tr_id(alice.id, "T2").await,
        Err(StoreError::Corrupt(_))
    ));
    sqlx::query(
        "INSERT INTO ledger (account_id, amount, balance_after, reason, created_at_ms) \
         VALUES ($1, 0, 8000, 'gift', 0)",
    )
    .bind(alice.id)
    .execute(&mut raw)
    .await
    .unwrap();
    assert!(matches!(
        store.ledger(alice.id).await,
        Err(StoreError::Corrupt(_))
    ));

    raw.close().await.unwrap();
    store.close().await;
    db.drop_schema().await;
}

use giftbiz_core::testkit::delivery::{concurrent_claims, outbox_delivery};

scenario!(outbox_claims_finishes_and_resends, outbox_delivery);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_take_each_message_once() {
    let Some(db) = test_db("concurrent_claimers_take_each_message_once") else {
        return;
    };
    let store = db.store().await;
    concurrent_claims(Arc::new(store.clone())).await;
    store.close().await;
    db.drop_schema().await;
}
