//! Many instances (PostgreSQL only): two servers, each with its own pool on one schema and its
//! own delivery worker and expiry job, share the work (claims are `FOR UPDATE SKIP LOCKED`), so
//! every message goes out exactly once and every coupon expires once. Time moves on one shared
//! manual clock; the test waits on the webhook receiver's signal, never on a fixed sleep.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use common::{assert_code, unique_schema, PG_ENV};
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::time::{Clock, ManualClock};
use giftbiz_core::{Grade, IssuanceStore, Store};
use giftbiz_server::operator::{self, IssuedAccount};
use giftbiz_server::{RunningServer, Settings};
use giftbiz_store_postgres::PgStore;
use serde_json::Value;

const SECRET: &str = "adapter-shared-secret";
const MESSAGES: usize = 40;
/// Every `RESERVED_EVERY`-th send is reserved an hour ahead.
const RESERVED_EVERY: usize = 8;
const GUARD: Duration = Duration::from_secs(30);

/// The SMS/MMS adapter: remembers every call's Idempotency-Key and coupon image URL, and
/// signals the number of calls so far.
#[derive(Clone)]
struct Receiver {
    calls: Arc<Mutex<Vec<(String, String)>>>,
    count: Arc<tokio::sync::watch::Sender<usize>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        async fn handle(State(r): State<Receiver>, headers: HeaderMap, body: axum::body::Bytes) -> &'static str {
            let key = headers["idempotency-key"].to_str().unwrap().to_owned();
            assert!(headers.contains_key("x-giftbiz-signature"));
            let body: Value = serde_json::from_slice(&body).unwrap();
            let image = body["coupon_image_url"].as_str().unwrap().to_owned();
            let n = {
                let mut calls = r.calls.lock().unwrap();
                calls.push((key, image));
                calls.len()
            };
            r.count.send_replace(n);
            r#"{"result_code":"1000","result_message":"Success"}"#
        }
        let r = Receiver { calls: Arc::default(), count: Arc::new(tokio::sync::watch::channel(0).0) };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/sms", axum::routing::post(handle)).with_state(r.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, url)
    }

    /// Waits for the receiver's signal that `n` calls have arrived.
    async fn wait_for(&self, n: usize) {
        let mut rx = self.count.subscribe();
        tokio::time::timeout(GUARD, rx.wait_for(|&c| c >= n)).await.expect("the adapter was called in time").unwrap();
    }

    fn calls(&self) -> Vec<(String, String)> {
        self.calls.lock().unwrap().clone()
    }
}

struct Instance {
    server: RunningServer,
    store: Arc<PgStore>,
}

impl Instance {
    async fn start(url: &str, schema: &str, clock: Arc<ManualClock>, webhook: &str) -> Instance {
        let store = Arc::new(giftbiz_store_postgres::connect_in_schema(url, schema, common::pin_vault()).await.expect("connect"));
        let settings = Settings {
            gateway: "webhook".into(),
            webhook_url: Some(webhook.to_owned()),
            webhook_secret: Some(SECRET.into()),
            delivery_interval_ms: 20,
            expiry_interval_ms: 20,
            ..Settings::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = RunningServer::start(store.clone(), settings, clock, listener).await.expect("start server");
        Instance { server, store }
    }

    async fn call(&self, acct: &IssuedAccount, path: &str, api_code: &str, extra: &[(&str, &str)]) -> Value {
        let mut form = vec![
            ("api_code", api_code),
            ("custom_auth_code", acct.account.auth_code.as_str()),
            ("custom_auth_token", acct.token.expose()),
            ("dev_yn", "N"),
        ];
        form.extend_from_slice(extra);
        let resp = reqwest::Client::new().post(format!("{}{path}", self.server.base_url())).form(&form).send().await;
        common::envelope_of(resp.expect("request")).await
    }

    async fn coupon_info(&self, acct: &IssuedAccount, tr_id: &str) -> Value {
        let v = self.call(acct, "/bizApi/coupons", "0201", &[("tr_id", tr_id)]).await;
        assert_code(&v, "0000");
        v["result"][0]["couponInfoList"][0].clone()
    }

    async fn balance(&self, acct: &IssuedAccount) -> i64 {
        let v = self.call(acct, "/bizApi/bizmoney", "0301", &[("user_id", "acme")]).await;
        assert_code(&v, "0000");
        v["balance"].as_str().unwrap().parse().unwrap()
    }
}

/// Polls 0201 (alternating instances) until every tr_id's `field` is `want`; fails after the
/// guard. The poll's pause only paces the polling; the condition is what is awaited.
async fn until_all(insts: &[Instance; 2], acct: &IssuedAccount, tr_ids: &[String], field: &str, want: &str) {
    let deadline = tokio::time::Instant::now() + GUARD;
    loop {
        let mut pending = Vec::new();
        for (i, t) in tr_ids.iter().enumerate() {
            let info = insts[i % 2].coupon_info(acct, t).await;
            if info[field] != want {
                pending.push(format!("{t}: {}", info[field]));
            }
        }
        if pending.is_empty() {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{field} never became {want} for {pending:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Which tr_id each adapter call was for (by its coupon image token), and how many calls each
/// instance made (the image URL's base is the delivering server's public URL).
async fn delivered(store: &PgStore, calls: &[(String, String)]) -> (BTreeMap<String, Vec<String>>, HashMap<String, usize>) {
    let mut by_tr: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut by_server: HashMap<String, usize> = HashMap::new();
    for (key, image) in calls {
        let (base, file) = image.split_once("/coupon-images/").expect("a coupon image URL");
        let token = file.split('.').next().unwrap();
        let c = store.coupon_by_image_token(token).await.unwrap().expect("the call's coupon");
        by_tr.entry(c.new.tr_id.into_string()).or_default().push(key.clone());
        *by_server.entry(base.to_owned()).or_default() += 1;
    }
    (by_tr, by_server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_delivery_reservations_and_expiry() {
    let Ok(url) = std::env::var(PG_ENV) else {
        eprintln!("skipped: {PG_ENV} is not set");
        return;
    };
    let schema = unique_schema();
    let (receiver, webhook) = Receiver::start().await;
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));

    // Seed through the first instance's store, before either server starts.
    let seed = giftbiz_store_postgres::connect_in_schema(&url, &schema, common::pin_vault())
        .await
        .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unusable: {e}"));
    operator::seed_demo(&seed).await.expect("seed demo");
    let acct = operator::create_account(&seed, &common::user("acme"), Grade::Basic).await.expect("account");
    operator::change_bizmoney(&seed, &common::user("acme"), giftbiz_core::Won::new(10_000_000), LedgerReason::Charge, "test").await.unwrap();
    seed.close().await;
    let insts = [
        Instance::start(&url, &schema, clock.clone(), &webhook).await,
        Instance::start(&url, &schema, clock.clone(), &webhook).await,
    ];
    let (a, b) = (&insts[0], &insts[1]);

    // Goods valid a number of days from issue, so the expiry below is a plain clock move.
    let v = a.call(&acct, "/bizApi/goods", "0101", &[("size", "500")]).await;
    let goods = v["result"]["goodsList"].as_array().unwrap().iter()
        .find(|g| g["goodsStateCd"] == "SALE" && g["validPrdTypeCd"] == "01")
        .expect("goods on sale with a validity in days")["goodsCode"].as_str().unwrap().to_owned();

    // 40 MMS, alternately through A and B; every 8th reserved an hour ahead (KST).
    let at = clock.now_kst() + chrono::Duration::hours(1);
    let (date, time) = (at.format("%Y%m%d").to_string(), at.format("%H%M").to_string());
    let tr_ids: Vec<String> = (0..MESSAGES).map(|i| format!("multi_{i:02}")).collect();
    let reserved: Vec<String> = tr_ids.iter().step_by(RESERVED_EVERY).cloned().collect();
    let immediate: Vec<String> = tr_ids.iter().filter(|t| !reserved.contains(t)).cloned().collect();
    for (i, t) in tr_ids.iter().enumerate() {
        let mut params = vec![
            ("goods_code", goods.as_str()),
            ("mms_msg", "감사합니다."),
            ("mms_title", "선물 도착"),
            ("callback_no", "15880108"),
            ("phone_no", "01012345678"),
            ("tr_id", t.as_str()),
            ("user_id", "acme"),
            ("gubun", "N"),
        ];
        if reserved.contains(t) {
            params.extend([("rev_info_yn", "Y"), ("rev_info_date", date.as_str()), ("rev_info_time", time.as_str())]);
        }
        assert_code(&insts[i % 2].call(&acct, "/bizApi/send", "0204", &params).await, "0000");
    }
    let balance_after_sends = a.balance(&acct).await;
    let ledger_after_sends = a.store.ledger(acct.account.id).await.unwrap();
    assert_eq!(ledger_after_sends.len(), 1 + MESSAGES, "the charge and one entry per send");
    assert_eq!(b.balance(&acct).await, balance_after_sends);

    // The immediate ones go out; their outcome is recorded before the clock moves on.
    receiver.wait_for(immediate.len()).await;
    until_all(&insts, &acct, &immediate, "sendStatusCd", "발송완료").await;
    let (by_tr, _) = delivered(&a.store, &receiver.calls()).await;
    assert_eq!(by_tr.keys().cloned().collect::<BTreeSet<_>>(), immediate.iter().cloned().collect(), "no reserved one yet");
    for t in &reserved {
        assert_eq!(a.coupon_info(&acct, t).await["sendStatusCd"], "발송대기", "{t} waits for its time");
    }

    // Past the reservation: the reserved ones go out too.
    clock.advance(chrono::Duration::minutes(61));
    receiver.wait_for(MESSAGES).await;
    until_all(&insts, &acct, &tr_ids, "sendStatusCd", "발송완료").await;
    for t in &tr_ids {
        for inst in &insts {
            let info = inst.coupon_info(&acct, t).await;
            assert_eq!((info["sendStatusCd"].as_str(), info["sendRstCd"].as_str()), (Some("발송완료"), Some("1000")), "{t}");
            assert_eq!(info["pinStatusCd"], "01", "{t}");
        }
    }

    // Expiry: past the latest validity, both instances' jobs run; every coupon becomes 08.
    let mut latest = 0;
    for t in &tr_ids {
        latest = latest.max(a.store.coupon_by_tr_id(acct.account.id, &common::tr(t)).await.unwrap().unwrap().new.valid_until_ms);
    }
    clock.advance(chrono::Duration::milliseconds(latest - clock.now_ms() + 1_000));
    until_all(&insts, &acct, &tr_ids, "pinStatusCd", "08").await;
    let today = clock.now_kst().format("%Y%m%d").to_string();
    for (i, t) in tr_ids.iter().enumerate() {
        let info = insts[i % 2].coupon_info(&acct, t).await;
        assert_eq!((info["pinStatusNm"].as_str(), info["correcDtm"].as_str()), (Some("기간만료"), Some(today.as_str())), "{t}");
        assert_eq!(info["sendStatusCd"], "발송완료", "{t}: a delivered message stays delivered");
    }
    assert_eq!(a.store.expire_coupons(clock.now_ms(), 500).await.unwrap(), 0, "nothing left to expire");
    // Expiry refunds nothing: the same ledger and balance, on both instances.
    assert_eq!(a.store.ledger(acct.account.id).await.unwrap(), ledger_after_sends);
    assert_eq!((a.balance(&acct).await, b.balance(&acct).await), (balance_after_sends, balance_after_sends));

    // Stop both; only then count: every message reached the adapter exactly once.
    let bases = [a.server.base_url(), b.server.base_url()];
    let [a, b] = insts;
    a.server.stop().await.expect("A stops cleanly");
    b.server.stop().await.expect("B stops cleanly");
    let calls = receiver.calls();
    let (by_tr, by_server) = delivered(&a.store, &calls).await;
    let keys: BTreeSet<&String> = calls.iter().map(|(k, _)| k).collect();
    assert_eq!(calls.len(), MESSAGES, "one adapter call per message");
    assert_eq!(keys.len(), MESSAGES, "no Idempotency-Key twice");
    assert_eq!(by_tr.len(), MESSAGES, "every tr_id delivered");
    assert!(by_tr.values().all(|k| k.len() == 1), "each exactly once: {by_tr:?}");
    assert!(by_server.keys().all(|s| bases.contains(s)), "{by_server:?}");
    eprintln!("deliveries per instance: {by_server:?}");

    a.store.close().await;
    b.store.close().await;
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect to drop the schema");
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(&mut conn).await.expect("drop schema");
}
