//! Exercises every `Store` method of `SqliteStore` against a file in a temporary directory.

use std::path::Path;
use std::sync::Arc;

use giftbiz_core::account::TokenHash;
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::send::Gubun;
use giftbiz_core::testkit::{
    bizmoney_ledger, brand, cancel_coupons, codes, coupon_concurrency, goods, hot_paths,
    issue_coupons, new_account, new_coupon, send_fail_cancels, t0_ms,
};
use giftbiz_core::{Brand, Goods, GoodsState, Grade, Store, StoreError};
use giftbiz_store_sqlite::SqliteStore;

fn url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("giftbiz.db").display())
}

#[tokio::test]
async fn accounts() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
    assert_eq!(store.engine(), "sqlite");
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
}

#[tokio::test]
async fn catalog() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
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
}

#[tokio::test]
async fn a_later_duplicate_in_one_batch_wins() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
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
}

/// More goods than fit in one statement's bound parameters.
#[tokio::test]
async fn large_catalogs_are_written_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
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
}

/// Another process (the operator CLI) sees and makes changes on the same file.
#[tokio::test]
async fn two_stores_on_one_file_share_everything() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path());
    let (a, b) = tokio::join!(SqliteStore::connect(&url), SqliteStore::connect(&url));
    let (a, b) = (a.unwrap(), b.unwrap());

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

    // Concurrent writers from both wait for each other instead of failing with "locked".
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let goods: Vec<Goods> = (0..200)
                .map(|n| goods(&format!("G{i}-{n}"), n, "B"))
                .collect();
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
    a.close().await;

    // The data outlives the connections.
    b.close().await;
    let c = SqliteStore::connect(&url).await.unwrap();
    assert_eq!(c.all_goods().await.unwrap().len(), 1 + 16 * 200);
}

#[tokio::test]
async fn unreadable_rows_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
    store
        .create_account(&new_account("alice", "REALaaaa"))
        .await
        .unwrap();
    store
        .upsert_catalog(&[brand("B", 1)], &[goods("G1", 1, "B")])
        .await
        .unwrap();

    let pool = sqlx::SqlitePool::connect(&url(dir.path())).await.unwrap();
    sqlx::query("UPDATE accounts SET grade = 'diamond'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE goods SET doc = '{\"goods_code\": 1}'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE brands SET doc = 'not json'")
        .execute(&pool)
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
}

/// A server and a CLI may open a fresh file at the same moment; both must end up migrated.
#[tokio::test]
async fn concurrent_connects_to_a_fresh_file_all_succeed() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = url(dir.path());
        let connects = (0..6).map(|_| {
            let url = url.clone();
            tokio::spawn(async move { SqliteStore::connect(&url).await })
        });
        for connect in connects.collect::<Vec<_>>() {
            let store = connect.await.unwrap().unwrap();
            assert_eq!(store.catalog_revision().await.unwrap(), 0);
        }
    }
}

#[tokio::test]
async fn auth_lookup_and_goods_batches() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
    hot_paths(&store).await;
}

#[tokio::test]
async fn bizmoney_and_its_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
    bizmoney_ledger(&store).await;
}

#[tokio::test]
async fn sends_issue_coupons() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
    issue_coupons(&store).await;
}

#[tokio::test]
async fn cancels_refund_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
    cancel_coupons(&store).await;
}

#[tokio::test]
async fn send_fail_cancels_tombstone_unknown_tr_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
    send_fail_cancels(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_and_cancels() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
    coupon_concurrency(Arc::new(store)).await;
}

/// What the trait does not show: the outbox row of an MMS send, and the schema's own guards.
#[tokio::test]
async fn outbox_rows_and_schema_guards() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
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

    let pool = sqlx::SqlitePool::connect(&url(dir.path())).await.unwrap();
    type Outbox = (i64, String, i64, String, i64, i64, Option<i64>, i64);
    let outbox = || async {
        sqlx::query_as::<_, Outbox>(
            "SELECT coupon_id, kind, due_at_ms, state, attempts, next_attempt_at_ms, \
             claimed_until_ms, created_at_ms FROM outbox ORDER BY id",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
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
        outbox().await,
        [pending(mms.id, t + 60_000), pending(now.id, t)]
    );
    store.cancel_coupon(alice.id, "T1", t).await.unwrap();
    let mut cancelled = pending(mms.id, t + 60_000);
    cancelled.3 = "cancelled".to_owned();
    assert_eq!(outbox().await, [cancelled, pending(now.id, t)]);

    // The ledger is append-only and a balance cannot go below zero, whatever the SQL.
    for sql in [
        "UPDATE ledger SET amount = 0",
        "DELETE FROM ledger",
        "UPDATE accounts SET balance = -1",
    ] {
        assert!(sqlx::query(sql).execute(&pool).await.is_err(), "{sql}");
    }
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap(), 8_000);

    // Unknown codes are corrupt data.
    sqlx::query("UPDATE coupons SET status = '99' WHERE id = ?")
        .bind(now.id)
        .execute(&pool)
        .await
        .unwrap();
    assert!(matches!(
        store.coupon_by_tr_id(alice.id, "T2").await,
        Err(StoreError::Corrupt(_))
    ));
    sqlx::query(
        "INSERT INTO ledger (account_id, amount, balance_after, reason, created_at_ms) \
         VALUES (?, 0, 8000, 'gift', 0)",
    )
    .bind(alice.id)
    .execute(&pool)
    .await
    .unwrap();
    assert!(matches!(
        store.ledger(alice.id).await,
        Err(StoreError::Corrupt(_))
    ));
    pool.close().await;
}

#[tokio::test]
async fn outbox_claims_finishes_and_resends() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
    giftbiz_core::testkit::delivery::outbox_delivery(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_take_each_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(dir.path())).await.unwrap();
    giftbiz_core::testkit::delivery::concurrent_claims(Arc::new(store)).await;
}
