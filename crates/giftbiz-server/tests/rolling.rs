//! A rolling restart (PostgreSQL only): two instances on one database, each restarted in turn
//! (graceful stop, then a new server on the same port) while clients send through either. A
//! client whose connection is refused tries the other instance; every other call gets its
//! answer, so no request is lost that was not refused at connect time, and every `0000` send is
//! in the database with the money rules holding.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{unique_schema, PG_ENV};
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::time::ManualClock;
use giftbiz_core::{Grade, Store};
use giftbiz_server::operator::{self, IssuedAccount};
use giftbiz_server::{invariants, RunningServer, Settings};

async fn start(store: Arc<dyn Store>, clock: Arc<ManualClock>, addr: Option<SocketAddr>) -> RunningServer {
    let settings = Settings { delivery_interval_ms: 0, expiry_interval_ms: 0, ..Settings::default() };
    let listener = tokio::net::TcpListener::bind(addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap())).await.unwrap();
    RunningServer::start(store, settings, clock, listener).await.expect("start")
}

/// Sends until `stop`, starting at instance `first`; a refused connection moves to the other
/// instance. Returns the tr_ids answered 0000; any other failure fails the test.
async fn client(n: usize, bases: Arc<[String; 2]>, acct: Arc<IssuedAccount>, goods: String, stop: Arc<AtomicBool>, refused: Arc<AtomicUsize>, done: Arc<AtomicUsize>) -> Vec<String> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let mut acked = Vec::new();
    let mut at = n % 2;
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let tr_id = format!("r{n}_{i}");
        let mut form = vec![
            ("api_code", "0204"),
            ("custom_auth_code", acct.account.auth_code.as_str()),
            ("custom_auth_token", acct.token.expose()),
            ("dev_yn", "N"),
        ];
        form.extend(common::send_params(&goods, &tr_id, "Y", &[("user_id", "acme")]));
        let answer = loop {
            match http.post(format!("{}/bizApi/send", bases[at])).form(&form).send().await {
                Ok(resp) => break resp,
                Err(e) if e.is_connect() => {
                    refused.fetch_add(1, Ordering::SeqCst);
                    at = 1 - at;
                }
                Err(e) => panic!("{tr_id}: a request lost after it was accepted: {e:?}"),
            }
        };
        let v = common::envelope_of(answer).await;
        assert_eq!(v["code"], "0000", "{tr_id}: {v}");
        assert_eq!(v["result"]["code"], "0000", "{tr_id}: {v}");
        acked.push(tr_id);
        done.fetch_add(1, Ordering::SeqCst);
        at = 1 - at;
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_restarted_in_turn_lose_no_accepted_request() {
    let Ok(url) = std::env::var(PG_ENV) else {
        eprintln!("skipped: {PG_ENV} is not set");
        return;
    };
    let schema = unique_schema();
    let open = || async { Arc::new(giftbiz_store_postgres::connect_in_schema(&url, &schema, common::pin_vault()).await.unwrap()) as Arc<dyn Store> };
    let seed = open().await;
    operator::seed_demo(seed.as_ref()).await.unwrap();
    let acct = Arc::new(operator::create_account(seed.as_ref(), &common::user("acme"), Grade::Basic).await.unwrap());
    operator::change_bizmoney(seed.as_ref(), &common::user("acme"), giftbiz_core::Won::new(100_000_000), LedgerReason::Charge, "t")
        .await
        .unwrap();
    let goods = seed.all_goods().await.unwrap().into_iter().find(|g| g.state == giftbiz_core::GoodsState::Sale).unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let mut servers = vec![start(open().await, clock.clone(), None).await, start(open().await, clock.clone(), None).await];
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
    let bases = Arc::new([servers[0].base_url(), servers[1].base_url()]);

    let (stop, refused, done) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let clients: Vec<_> = (0..4)
        .map(|n| {
            let (bases, acct, goods) = (bases.clone(), acct.clone(), goods.goods_code.to_string());
            tokio::spawn(client(n, bases, acct, goods, stop.clone(), refused.clone(), done.clone()))
        })
        .collect();
    // Each instance in turn, once sends have gone through since the last restart: a graceful
    // stop under load, then a new server on its address.
    for which in [0, 1, 0, 1] {
        let target = done.load(Ordering::SeqCst) + 40;
        while done.load(Ordering::SeqCst) < target {
            tokio::task::yield_now().await;
        }
        let old = servers.remove(which);
        old.stop().await.expect("a graceful stop");
        let new = start(open().await, clock.clone(), Some(addrs[which])).await;
        servers.insert(which, new);
    }
    let target = done.load(Ordering::SeqCst) + 40;
    while done.load(Ordering::SeqCst) < target {
        tokio::task::yield_now().await;
    }
    stop.store(true, Ordering::SeqCst);
    let mut acked = Vec::new();
    for c in clients {
        acked.extend(c.await.expect("no client lost a request"));
    }
    assert!(!acked.is_empty());

    let report = invariants::check(seed.as_ref()).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.charges as usize, acked.len(), "exactly the acknowledged sends charged: {report:?}");
    for server in servers {
        server.stop().await.unwrap();
    }
    eprintln!("{} sends acknowledged, {} connections refused and retried", acked.len(), refused.load(Ordering::SeqCst));
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(&mut conn).await.unwrap();
}
