//! The in-memory authentication (`auth_cache`): served without a database read while fresh;
//! this server's own changes show on the very next call; another writer's (plain SQL, as the
//! operator CLI in another process or another instance would write) within
//! `cache_max_stale_ms` of its commit; on PostgreSQL another instance's as soon as its
//! notification arrives, long before a poll would see it.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{assert_code, user, Engine, TestApp, PG_ENV};
use giftbiz_core::account::TokenHash;
use giftbiz_core::{Grade, GoodsCode, Won};
use giftbiz_server::auth_cache::{AuthCache, Heard};
use giftbiz_server::{operator, Settings};

/// Guards against a hang only: every wait here ends on an event long before it.
const HANG: Duration = Duration::from_secs(30);

async fn wait_for(cache: &AuthCache, what: impl Fn(&Heard) -> bool) {
    let mut heard = cache.subscribe();
    tokio::time::timeout(HANG, heard.wait_for(|h| what(h))).await.expect("the watcher never told").expect("watcher gone");
}

/// The 0111 detail's basic price of `goods` as `app`'s account sees it, with `token`.
async fn detail(app: &TestApp, goods: &str, token: &str) -> serde_json::Value {
    let mut form = app.auth("0111");
    form[2].1 = token.to_owned();
    app.post_form(&format!("/bizApi/goods/{goods}"), &form).await
}

async fn own_changes_show_at_once(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else { return };
    let cache = app.server.state.auth.clone();
    wait_for(&cache, |h| h.polls >= 1).await;
    let goods = first_goods(&app).await;
    let token = app.account.token.expose().to_owned();

    assert_code(&detail(&app, &goods, &token).await, "0000");
    let reads = cache.database_reads();
    for _ in 0..5 {
        assert_code(&detail(&app, &goods, &token).await, "0000");
    }
    assert_eq!(cache.database_reads(), reads, "fresh calls read no account from the database");

    // A rotation: the old token is refused on the very next call, the new one works.
    let rotated = operator::rotate_token(app.store.as_ref(), &user("acme")).await.unwrap();
    assert_code(&detail(&app, &goods, &token).await, "E0009");
    let token = rotated.token.expose().to_owned();
    assert_code(&detail(&app, &goods, &token).await, "0000");

    // A suspension, and back.
    operator::set_suspended(app.store.as_ref(), &user("acme"), true).await.unwrap();
    assert_code(&detail(&app, &goods, &token).await, "E0006");
    operator::set_suspended(app.store.as_ref(), &user("acme"), false).await.unwrap();
    assert_code(&detail(&app, &goods, &token).await, "0000");

    // A grade and a price: the next page is priced by them.
    let code = GoodsCode::parse(&goods).unwrap();
    operator::set_grade_price(app.store.as_ref(), &code, Grade::Gold, Won::new(100)).await.unwrap();
    operator::set_grade(app.store.as_ref(), &user("acme"), Grade::Gold).await.unwrap();
    let v = detail(&app, &goods, &token).await;
    assert_eq!(v["result"]["goodsDetail"]["goldPrice"], 100, "{v}");
    assert_eq!(list_price(&app, &token, &goods).await, Some(100));
    app.finish().await;
}

/// The goods list's price of `goods` for the caller.
async fn list_price(app: &TestApp, token: &str, goods: &str) -> Option<i64> {
    let mut form = app.auth("0101");
    form[2].1 = token.to_owned();
    form.push(("size".into(), "5000".into()));
    let v = app.post_form("/bizApi/goods", &form).await;
    v["result"]["goodsList"].as_array()?.iter().find(|g| g["goodsCode"] == goods)?["discountPrice"].as_i64()
}

async fn first_goods(app: &TestApp) -> String {
    let v = app.call("/bizApi/goods", "0101", &[("size", "1")]).await;
    v["result"]["goodsList"][0]["goodsCode"].as_str().expect("a goods").to_owned()
}

/// A change by plain SQL on another connection: no notification from this process, none of its
/// writes.
async fn other_writers_show_within_the_bound(engine: Engine) {
    let max_stale = Duration::from_millis(300);
    let settings = Settings { cache_max_stale_ms: max_stale.as_millis() as u64, ..Settings::default() };
    let Some(app) = TestApp::spawn_with(engine, settings).await else { return };
    let cache = app.server.state.auth.clone();
    wait_for(&cache, |h| h.polls >= 1).await;
    let goods = first_goods(&app).await;
    let old = app.account.token.expose().to_owned();
    assert_code(&detail(&app, &goods, &old).await, "0000");

    let new = giftbiz_core::AuthToken::generate();
    let sql = format!("UPDATE accounts SET token_hash = '{}' WHERE user_id = 'acme'", TokenHash::of(new.expose()).as_str());
    common::run_sql(&app, &sql).await;
    let committed = Instant::now();
    // Every call the old token passes was sent within the bound of the commit; then it fails.
    let mut accepted = 0;
    loop {
        let sent = Instant::now();
        assert!(sent < committed + HANG, "the old token still works");
        let v = detail(&app, &goods, &old).await;
        if v["code"] == "E0009" {
            break;
        }
        assert_code(&v, "0000");
        assert!(sent < committed + max_stale, "the old token passed {:?} after the change", sent - committed);
        accepted += 1;
    }
    assert_code(&detail(&app, &goods, new.expose()).await, "0000");
    eprintln!("old token passed {accepted} calls after the change");
    app.finish().await;
}

/// Two instances on one PostgreSQL schema, polling once an hour: the second's change reaches
/// the first by its notification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notifications_reach_the_other_instance() {
    let hour = Settings { cache_max_stale_ms: 3_600_000, ..Settings::default() };
    let Some(app) = TestApp::spawn_with(Engine::Postgres, hour).await else { return };
    let url = std::env::var(PG_ENV).unwrap();
    let other = giftbiz_store_postgres::connect_in_schema(&url, app.pg_schema().unwrap(), common::pin_vault()).await.unwrap();
    let other: Arc<dyn giftbiz_core::Store> = Arc::new(other);
    let cache = app.server.state.auth.clone();
    wait_for(&cache, |h| h.polls >= 1).await;
    let goods = first_goods(&app).await;
    let old = app.account.token.expose().to_owned();
    assert_code(&detail(&app, &goods, &old).await, "0000");

    let before = *cache.subscribe().borrow();
    let rotated = operator::rotate_token(other.as_ref(), &user("acme")).await.unwrap();
    wait_for(&cache, |h| h.changes > before.changes).await;
    assert_eq!(cache.subscribe().borrow().polls, before.polls, "no poll in between: the notification told");
    assert_code(&detail(&app, &goods, &old).await, "E0009");
    let token = rotated.token.expose().to_owned();
    assert_code(&detail(&app, &goods, &token).await, "0000");

    // The catalog too: a price set by the other instance.
    let before = *cache.subscribe().borrow();
    let code = GoodsCode::parse(&goods).unwrap();
    operator::set_grade_price(other.as_ref(), &code, Grade::Basic, Won::new(120)).await.unwrap();
    wait_for(&cache, |h| h.changes > before.changes).await;
    assert_eq!(list_price(&app, &token, &goods).await, Some(120));
    other.close().await;
    app.finish().await;
}

/// Off: every call reads the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_cache_off_reads_every_call() {
    let off = Settings { cache_max_stale_ms: 0, ..Settings::default() };
    let Some(app) = TestApp::spawn_with(Engine::Sqlite, off).await else { return };
    let cache = app.server.state.auth.clone();
    let goods = first_goods(&app).await;
    let token = app.account.token.expose().to_owned();
    let reads = cache.database_reads();
    for _ in 0..3 {
        assert_code(&detail(&app, &goods, &token).await, "0000");
    }
    assert_eq!(cache.database_reads(), reads + 3);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_own_changes_show_at_once() {
    own_changes_show_at_once(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_own_changes_show_at_once() {
    own_changes_show_at_once(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_other_writers_show_within_the_bound() {
    other_writers_show_within_the_bound(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_other_writers_show_within_the_bound() {
    other_writers_show_within_the_bound(Engine::Postgres).await;
}
