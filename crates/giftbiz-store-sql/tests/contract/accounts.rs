//! Accounts, their credentials, and the auth lookup on every call's path.

use giftbiz_core::account::{AuthCode, TokenHash};
use giftbiz_core::{Goods, Grade, StoreError};

use crate::harness::{Engine, TestDb};
use crate::kit::{user, goods, new_account};

pub async fn accounts_are_created_found_and_changed(db: &TestDb) {
    let store = &*db.store;
    let engine = match db.engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    assert_eq!(store.engine(), engine);
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
        Err(StoreError::UserIdTaken(id)) => assert_eq!(id.as_str(), "alice"),
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
        store.account_by_user_id(&user("alice")).await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(store.account_by_auth_code("REALzzzz").await.unwrap(), None);
    assert_eq!(store.account_by_user_id(&user("nobody")).await.unwrap(), None);
    assert_eq!(store.account_by_id(bob.id).await.unwrap(), Some(bob.clone()));
    assert_eq!(
        store.list_accounts().await.unwrap(),
        vec![alice.clone(), bob.clone()]
    );

    assert!(store.set_grade(&user("alice"), Grade::Vip).await.unwrap());
    assert!(!store.set_grade(&user("nobody"), Grade::Vip).await.unwrap());
    let new_hash = TokenHash::of("new token");
    assert!(store.set_token_hash(&user("bob"), &new_hash).await.unwrap());
    assert!(!store.set_token_hash(&user("nobody"), &new_hash).await.unwrap());

    let alice = store.account_by_user_id(&user("alice")).await.unwrap().unwrap();
    let bob = store
        .account_by_auth_code("REALbbbb")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.grade, Grade::Vip);
    assert!(bob.token_matches("new token") && !bob.token_matches("token of bob"));
    assert_eq!(bob.grade, Grade::Basic);

    // Suspension: kept from its first moment, seen by the auth lookup (SQLite's hot path
    // too), and lifted whole; nothing else of the account changes.
    assert!(!alice.is_suspended());
    assert!(store.set_suspended(&user("alice"), Some(1_000)).await.unwrap());
    assert!(store.set_suspended(&user("alice"), Some(2_000)).await.unwrap());
    assert!(!store.set_suspended(&user("nobody"), Some(1_000)).await.unwrap());
    let (suspended, _) = store.auth_lookup(&AuthCode::parse(&alice.auth_code).unwrap()).await.unwrap().unwrap();
    assert_eq!(suspended.suspended_at_ms, Some(1_000));
    assert_eq!(suspended, giftbiz_core::Account { suspended_at_ms: Some(1_000), ..alice.clone() });
    assert!(store.set_suspended(&user("alice"), None).await.unwrap());
    assert_eq!(store.account_by_user_id(&user("alice")).await.unwrap().unwrap(), alice);
}

/// The two reads on the API's hot path: auth with the catalog revision, and walking the
/// catalog in batches in `all_goods` order.
pub async fn hot_paths(db: &TestDb) {
    let store = &*db.store;
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    let (found, rev0) = store.auth_lookup(&AuthCode::parse("REALaaaa").unwrap()).await.unwrap().unwrap();
    assert_eq!(found, alice);
    assert!(store.auth_lookup(&AuthCode::parse("REALnope").unwrap()).await.unwrap().is_none());
    let many: Vec<Goods> = (0..50).map(|i| goods(&format!("G{:03}", 97 * i % 50), i % 9, "B1")).collect();
    store.upsert_catalog(&[], &many).await.unwrap();
    let (_, rev1) = store.auth_lookup(&AuthCode::parse("REALaaaa").unwrap()).await.unwrap().unwrap();
    assert!(rev1 > rev0);
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let batch = store.goods_batch(after.take(), 7).await.unwrap();
        let Some(last) = batch.last() else { break };
        assert!(batch.len() <= 7);
        after = Some((last.goods_no, last.goods_code.clone()));
        walked.extend(batch);
    }
    assert_eq!(walked, store.all_goods().await.unwrap());
}
