//! Goods and brands: upserts by code, their order, and what a broken row reads as.

use giftbiz_core::{Brand, Goods, GoodsState, Grade, StoreError};

use crate::harness::TestDb;
use crate::kit::{bc, brand, codes, gc, goods, new_account, user};

pub async fn catalog_upserts_replace_by_code(db: &TestDb) {
    let store = &*db.store;
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
        store.brand_by_code(&bc("BR000")).await.unwrap(),
        Some(brands[2].clone())
    );
    assert_eq!(
        store.goods_by_code(&gc("G300")).await.unwrap(),
        Some(goods_list[0].clone())
    );
    assert_eq!(store.goods_by_code(&gc("nope")).await.unwrap(), None);
    assert_eq!(store.brand_by_code(&bc("nope")).await.unwrap(), None);

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
        store.goods_by_code(&gc("G100")).await.unwrap(),
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

pub async fn a_later_duplicate_in_one_batch_wins(db: &TestDb) {
    let store = &*db.store;
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
    assert_eq!(store.goods_by_code(&gc("G1")).await.unwrap(), Some(second));
    assert_eq!(store.brand_by_code(&bc("B")).await.unwrap().unwrap().sort, 2);
}

/// More rows than one upsert statement takes (SQLite: bound parameters; PostgreSQL: rows).
pub async fn large_catalogs_are_written_in_chunks(db: &TestDb) {
    let store = &*db.store;
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

/// Another server or the operator CLI sees and makes changes in the same database.
pub async fn two_stores_share_everything(db: &TestDb) {
    let (a, b) = (db.store.clone(), db.open().await);

    a.create_account(&new_account("alice", "REALaaaa"))
        .await
        .unwrap();
    assert!(b.set_grade(&user("alice"), Grade::Gold).await.unwrap());
    assert_eq!(
        a.account_by_user_id(&user("alice")).await.unwrap().unwrap().grade,
        Grade::Gold
    );

    let rev = a.catalog_revision().await.unwrap();
    b.upsert_catalog(&[brand("B", 1)], &[goods("G1", 1, "B")])
        .await
        .unwrap();
    assert!(a.catalog_revision().await.unwrap() > rev);
    assert_eq!(codes(&a.all_goods().await.unwrap()), ["G1"]);

    // Concurrent writers from both wait for each other instead of failing with "locked", and
    // those upserting the same codes in opposite orders take turns instead of deadlocking.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let mut shared: Vec<Goods> = (0..100).map(|n| goods(&format!("G{n}"), n, "B")).collect();
            if i % 2 == 1 {
                shared.reverse();
            }
            let own = (0..100).map(|n| goods(&format!("G{i}-{n}"), n, "B"));
            let goods: Vec<Goods> = shared.into_iter().chain(own).collect();
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
    assert_eq!(a.all_goods().await.unwrap().len(), 100 + 16 * 100);

    // The data outlives the connections.
    a.close().await;
    b.close().await;
    let c = db.open().await;
    assert_eq!(c.all_goods().await.unwrap().len(), 100 + 16 * 100);
}

pub async fn unreadable_rows_are_corrupt(db: &TestDb) {
    let store = &*db.store;
    store
        .create_account(&new_account("alice", "REALaaaa"))
        .await
        .unwrap();
    store
        .upsert_catalog(&[brand("B", 1)], &[goods("G1", 1, "B")])
        .await
        .unwrap();

    let raw = db.raw().await;
    raw.execute("UPDATE accounts SET grade = 'diamond'").await.unwrap();
    raw.execute("UPDATE goods SET doc = '{\"goods_code\": 1}'").await.unwrap();
    raw.execute("UPDATE brands SET doc = 'not json'").await.unwrap();
    raw.close().await;

    assert!(matches!(
        store.account_by_user_id(&user("alice")).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.list_accounts().await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.goods_by_code(&gc("G1")).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.all_goods().await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.brand_by_code(&bc("B")).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.all_brands().await,
        Err(StoreError::Corrupt(_))
    ));
}
