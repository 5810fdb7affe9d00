//! Message delivery and resend (0203), on SQLite and PostgreSQL: the worker driven by hand
//! (`run_once`) against a webhook receiver on loopback or an in-memory gateway, time moved on
//! the manual clock, never slept.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::{assert_code, send_params, Engine, TestApp, PHONE};
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::delivery::{Claim, DeliveryOutcome, MessageKind};
use giftbiz_core::time::Clock;
use giftbiz_server::delivery::{compose, Gateway, GatewayAnswer, Message, WebhookGateway};
use giftbiz_server::catalog_view::ImageUrls;
use giftbiz_server::{operator, Settings};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

both_engines!(
    webhook_retries_with_backoff_under_one_key,
    adapter_rejection_fails_the_message,
    reserved_send_waits_for_its_time,
    a_dead_workers_message_is_taken_over_after_its_lease,
    cancelled_mms_is_never_delivered,
    resend_by_mms_and_sms,
);

const SECRET: &[u8] = b"adapter-shared-secret";

// --- a webhook receiver on loopback ---

#[derive(Clone)]
struct Call {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Call {
    fn header(&self, name: &str) -> String {
        self.headers.get(name).unwrap_or_else(|| panic!("{name} header")).to_str().unwrap().to_owned()
    }

    fn key(&self) -> String {
        self.header("idempotency-key")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// Answers the n-th call (0-based) with a status and a body.
type Script = Arc<dyn Fn(usize) -> (u16, &'static str) + Send + Sync>;

#[derive(Clone)]
struct ReceiverState {
    calls: Arc<Mutex<Vec<Call>>>,
    count: Arc<tokio::sync::watch::Sender<usize>>,
    script: Script,
}

struct Receiver {
    url: String,
    state: ReceiverState,
}

impl Receiver {
    async fn start(script: impl Fn(usize) -> (u16, &'static str) + Send + Sync + 'static) -> Receiver {
        async fn handle(State(s): State<ReceiverState>, headers: HeaderMap, body: axum::body::Bytes) -> (StatusCode, String) {
            let n = {
                let mut calls = s.calls.lock().unwrap();
                calls.push(Call { headers, body: body.to_vec() });
                calls.len() - 1
            };
            s.count.send_replace(n + 1);
            let (status, body) = (s.script)(n);
            (StatusCode::from_u16(status).unwrap(), body.to_owned())
        }
        let state = ReceiverState {
            calls: Arc::default(),
            count: Arc::new(tokio::sync::watch::channel(0).0),
            script: Arc::new(script),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/sms", axum::routing::post(handle)).with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, state }
    }

    fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    fn gateway(&self) -> Arc<dyn Gateway> {
        Arc::new(WebhookGateway::new(&self.url, SECRET).unwrap())
    }

    /// Waits (an event, not a sleep) until `n` calls arrived.
    async fn wait_for(&self, n: usize) {
        let mut rx = self.state.count.subscribe();
        tokio::time::timeout(std::time::Duration::from_secs(20), rx.wait_for(|&c| c >= n))
            .await
            .expect("the receiver was called in time")
            .unwrap();
    }
}

const OK_BODY: &str = r#"{"result_code":"1000","result_message":"Success"}"#;

/// Delivers everything, remembering each message; passes it on to `inner` if given.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Message>>,
    inner: Option<Arc<dyn Gateway>>,
}

impl Recorder {
    fn seen(&self) -> Vec<Message> {
        self.seen.lock().unwrap().clone()
    }
}

#[async_trait]
impl Gateway for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }

    async fn deliver(&self, m: &Message) -> GatewayAnswer {
        self.seen.lock().unwrap().push(m.clone());
        match &self.inner {
            Some(g) => g.deliver(m).await,
            None => GatewayAnswer::Delivered { code: "1000".into(), msg: "Success".into() },
        }
    }
}

// --- API helpers ---

async fn on_sale_goods(app: &TestApp) -> String {
    operator::change_bizmoney(app.store.as_ref(), &common::user("acme"), giftbiz_core::Won::new(10_000_000), LedgerReason::Charge, "test").await.unwrap();
    let v = app.call("/bizApi/goods", "0101", &[("size", "50")]).await;
    let g = v["result"]["goodsList"].as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SALE").unwrap();
    g["goodsCode"].as_str().unwrap().to_owned()
}

async fn send(app: &TestApp, goods: &str, tr_id: &str, gubun: &str, extra: &[(&str, &str)]) {
    assert_code(&app.call("/bizApi/send", "0204", &send_params(goods, tr_id, gubun, extra)).await, "0000");
}

async fn resend(app: &TestApp, tr_id: &str, sms_flag: Option<&str>) -> Value {
    let mut params = vec![("tr_id", tr_id), ("user_id", "acme")];
    params.extend(sms_flag.map(|f| ("sms_flag", f)));
    app.call("/bizApi/resend", "0203", &params).await
}

async fn cancel(app: &TestApp, tr_id: &str) {
    assert_code(&app.call("/bizApi/cancel", "0202", &[("tr_id", tr_id), ("user_id", "acme")]).await, "0000");
}

async fn coupon_info(app: &TestApp, tr_id: &str) -> Value {
    let v = app.call("/bizApi/coupons", "0201", &[("tr_id", tr_id)]).await;
    assert_code(&v, "0000");
    assert_eq!(v["result"][0]["couponInfoList"].as_array().unwrap().len(), 1);
    v["result"][0]["couponInfoList"][0].clone()
}

async fn pin_of(app: &TestApp, tr_id: &str) -> String {
    app.store.coupon_by_tr_id(app.account.account.id, &common::tr(tr_id)).await.unwrap().unwrap().new.pin.expose().to_owned()
}

fn ms(n: i64) -> chrono::Duration {
    chrono::Duration::milliseconds(n)
}

// --- scenarios ---

async fn webhook_retries_with_backoff_under_one_key(app: &TestApp) {
    let goods = on_sale_goods(app).await;
    send(app, &goods, "w1", "N", &[]).await;
    let receiver = Receiver::start(|n| if n < 2 { (500, "down") } else { (200, OK_BODY) }).await;
    let worker = app.worker(receiver.gateway());

    assert_eq!(worker.run_once().await, 1, "first attempt");
    assert_eq!(worker.run_once().await, 0, "the 1 s backoff has not elapsed");
    app.clock.advance(ms(999));
    assert_eq!(worker.run_once().await, 0);
    assert_eq!(coupon_info(app, "w1").await["sendStatusCd"], "발송대기");
    app.clock.advance(ms(1));
    assert_eq!(worker.run_once().await, 1, "second attempt after 1 s");
    app.clock.advance(ms(1_999));
    assert_eq!(worker.run_once().await, 0, "then 2 s");
    app.clock.advance(ms(1));
    assert_eq!(worker.run_once().await, 1, "third attempt");
    app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(worker.run_once().await, 0, "delivered, nothing left");

    let calls = receiver.calls();
    assert_eq!(calls.len(), 3);
    let key = calls[0].key();
    assert_eq!(key.len(), 32);
    let pin = pin_of(app, "w1").await;
    for call in &calls {
        assert_eq!(call.key(), key, "one idempotency key on every attempt");
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET).unwrap();
        mac.update(&call.body);
        assert_eq!(call.header("x-giftbiz-signature"), format!("sha256={}", hex::encode(mac.finalize().into_bytes())));
        assert!(call.header("content-type").starts_with("application/json"));
        let body = call.json();
        let image = body["coupon_image_url"].as_str().unwrap();
        assert!(image.starts_with(&format!("{}/coupon-images/", app.server.base_url())) && image.ends_with(".png"));
        assert_eq!(
            body,
            json!({
                "message_id": key, "kind": "mms", "recipient": PHONE, "callback": "15880108",
                "title": "선물 도착", "text": format!("감사합니다. 선물이 도착했습니다.\n\n{image}"),
                "coupon_image_url": image,
            })
        );
        assert!(!String::from_utf8_lossy(&call.body).contains(&pin), "an MMS carries the image, not the PIN");
    }
    let info = coupon_info(app, "w1").await;
    assert_eq!((&info["sendRstCd"], &info["sendRstMsg"], &info["sendStatusCd"]), (&json!("1000"), &json!("Success"), &json!("발송완료")));
}

async fn adapter_rejection_fails_the_message(app: &TestApp) {
    let goods = on_sale_goods(app).await;
    send(app, &goods, "x1", "N", &[]).await;
    let receiver = Receiver::start(|n| match n {
        0 => (400, r#"{"result_code":"4001","result_message":"수신거부 번호"}"#),
        _ => (422, ""),
    })
    .await;
    let worker = app.worker(receiver.gateway());
    assert_eq!(worker.run_once().await, 1);
    let info = coupon_info(app, "x1").await;
    assert_eq!((&info["sendStatusCd"], &info["sendRstCd"], &info["sendRstMsg"]), (&json!("발송실패"), &json!("4001"), &json!("수신거부 번호")));
    app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(worker.run_once().await, 0, "a rejection is not retried");

    // No adapter code: the HTTP status stands in.
    send(app, &goods, "x2", "N", &[]).await;
    assert_eq!(worker.run_once().await, 1);
    let info = coupon_info(app, "x2").await;
    assert_eq!((&info["sendStatusCd"], &info["sendRstCd"]), (&json!("발송실패"), &json!("422")));
    assert_eq!(receiver.calls().len(), 2);
}

async fn reserved_send_waits_for_its_time(app: &TestApp) {
    let goods = on_sale_goods(app).await;
    let at = app.clock.now_kst() + chrono::Duration::hours(1);
    let (date, time) = (at.format("%Y%m%d").to_string(), at.format("%H%M").to_string());
    send(app, &goods, "rv1", "N", &[("rev_info_yn", "Y"), ("rev_info_date", &date), ("rev_info_time", &time)]).await;
    let gateway = Arc::new(Recorder::default());
    let worker = app.worker(gateway.clone());
    assert_eq!(worker.run_once().await, 0, "not before its time");
    app.clock.advance(chrono::Duration::minutes(58));
    assert_eq!(worker.run_once().await, 0, "the reservation is at minute precision, 59-60 min ahead");
    assert_eq!(coupon_info(app, "rv1").await["sendStatusCd"], "발송대기");
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(worker.run_once().await, 1, "due now");
    assert_eq!(gateway.seen().len(), 1);
    assert_eq!(coupon_info(app, "rv1").await["sendStatusCd"], "발송완료");
}

async fn a_dead_workers_message_is_taken_over_after_its_lease(app: &TestApp) {
    let goods = on_sale_goods(app).await;
    send(app, &goods, "d1", "N", &[]).await;
    let receiver = Receiver::start(|_| (200, OK_BODY)).await;
    let lease = app.server.state.settings.delivery_lease_ms as i64;

    // A worker claims, reaches the adapter, and dies before recording the outcome.
    let claim = Claim { now_ms: app.clock.now_ms(), limit: 10, lease_ms: lease, worker: "dead-worker" };
    let claimed = app.store.claim_due_messages(&claim).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let dead = &claimed[0];
    let urls = ImageUrls::new(app.server.base_url());
    let answer = receiver.gateway().deliver(&compose(dead, &urls)).await;
    assert!(matches!(answer, GatewayAnswer::Delivered { .. }));

    let survivor = app.worker(receiver.gateway());
    assert_eq!(survivor.run_once().await, 0, "the claim holds during its lease");
    app.clock.advance(ms(lease - 1));
    assert_eq!(survivor.run_once().await, 0);
    app.clock.advance(ms(2));
    assert_eq!(survivor.run_once().await, 1, "taken over once the lease ran out");
    assert_eq!(survivor.run_once().await, 0);

    let keys: Vec<String> = receiver.calls().iter().map(Call::key).collect();
    assert_eq!(keys, [dead.key.clone(), dead.key.clone()], "the adapter can tell the repeat");
    // The dead worker's late report changes nothing.
    let late = DeliveryOutcome::Failed { result_code: "9".into(), result_message: "late".into() };
    assert!(!app.store.finish_message(dead.id, "dead-worker", &late, app.clock.now_ms()).await.unwrap());
    assert_eq!(coupon_info(app, "d1").await["sendStatusCd"], "발송완료");
    // One coupon, one PIN, one charge for the tr_id.
    let ledger = app.store.ledger(app.account.account.id).await.unwrap();
    assert_eq!(ledger.iter().filter(|e| e.tr_id.as_deref() == Some("d1")).count(), 1);
    assert_eq!(dead.pin.expose(), pin_of(app, "d1").await);
}

async fn cancelled_mms_is_never_delivered(app: &TestApp) {
    let goods = on_sale_goods(app).await;
    let gateway = Arc::new(Recorder::default());
    let worker = app.worker(gateway.clone());
    send(app, &goods, "k1", "N", &[]).await;
    cancel(app, "k1").await;
    assert_eq!(worker.run_once().await, 0);
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(worker.run_once().await, 0);
    assert!(gateway.seen().is_empty());
    assert_eq!(coupon_info(app, "k1").await["sendStatusCd"], "발송취소");

    // Cancelled while a worker holds it: the worker's outcome is dropped.
    send(app, &goods, "k2", "N", &[]).await;
    let claim = Claim { now_ms: app.clock.now_ms(), limit: 10, lease_ms: 60_000, worker: "w" };
    let claimed = app.store.claim_due_messages(&claim).await.unwrap();
    assert_eq!(claimed.len(), 1);
    cancel(app, "k2").await;
    let delivered = DeliveryOutcome::Delivered { result_code: "1000".into(), result_message: "Success".into() };
    assert!(!app.store.finish_message(claimed[0].id, "w", &delivered, app.clock.now_ms()).await.unwrap());
    assert_eq!(coupon_info(app, "k2").await["sendStatusCd"], "발송취소");
}

async fn resend_by_mms_and_sms(app: &TestApp) {
    let goods = on_sale_goods(app).await;
    let gateway = Arc::new(Recorder { inner: Some(app.log_gateway()), ..Recorder::default() });
    let worker = app.worker(gateway.clone());
    send(app, &goods, "r1", "N", &[]).await;
    assert_eq!(worker.run_once().await, 1);

    assert_eq!(resend(app, "r1", None).await, json!({"code":"0000","message":null,"result":null}));
    assert_eq!(coupon_info(app, "r1").await["sendStatusCd"], "발송대기");
    assert_eq!(worker.run_once().await, 1, "one more MMS");
    assert_eq!(coupon_info(app, "r1").await["sendStatusCd"], "발송완료");
    assert_code(&resend(app, "r1", Some("N")).await, "0000");
    assert_eq!(worker.run_once().await, 1);
    assert_code(&resend(app, "r1", Some("Y")).await, "0000");
    assert_eq!(worker.run_once().await, 1);
    assert_eq!(worker.run_once().await, 0);

    let seen = gateway.seen();
    let kinds: Vec<MessageKind> = seen.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, [MessageKind::Mms, MessageKind::Mms, MessageKind::Mms, MessageKind::Sms]);
    let keys: std::collections::HashSet<&str> = seen.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys.len(), 4, "each resend is a message of its own");
    let pin = pin_of(app, "r1").await;
    let sms = &seen[3];
    assert!(sms.text.replace(' ', "").contains(&pin), "the SMS carries the PIN: {}", sms.text);
    assert_eq!((sms.title.as_deref(), sms.coupon_image_url.as_deref()), (None, None));
    assert_eq!(coupon_info(app, "r1").await["sendStatusCd"], "발송완료");

    // The log gateway's file: a line per message, phone masked, no PIN in any form.
    let log = std::fs::read_to_string(app.log_path()).unwrap();
    let lines: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|l| l["recipient"] == "010****5678" && l["tr_id"] == "r1"));
    assert_eq!(lines[3]["kind"], "sms");
    assert!(lines[3]["text"].as_str().unwrap().contains("**** **** ****"));
    assert!(!log.contains(PHONE) && !log.contains(&pin) && !log.replace(' ', "").contains(&pin));

    // Refusals.
    send(app, &goods, "r2", "Y", &[]).await;
    assert_code(&resend(app, "r2", None).await, "ERR0212");
    assert_code(&resend(app, "nope", None).await, "ERR0212");
    send(app, &goods, "r3", "N", &[]).await;
    cancel(app, "r3").await;
    assert_code(&resend(app, "r3", Some("Y")).await, "COUPON.0009");
    assert_code(&app.call("/bizApi/resend", "0203", &[("user_id", "acme")]).await, "ERR0201");
    assert_code(&app.call("/bizApi/resend/", "0203", &[("tr_id", "r1"), ("user_id", "demo")]).await, "ERR0300");
    assert_code(&app.call("/bizApi/resend", "0202", &[("tr_id", "r1"), ("user_id", "acme")]).await, "E0007");
    assert_eq!(worker.run_once().await, 0, "a refused resend queues nothing");
}

/// PostgreSQL: two workers (any number of servers) share the outbox; each message goes out
/// exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_workers_share_the_outbox() {
    let Some(app) = TestApp::spawn(Engine::Postgres).await else { return };
    let goods = on_sale_goods(&app).await;
    let tr_ids: Vec<String> = (0..40).map(|i| format!("p{i}")).collect();
    futures_util::future::join_all(tr_ids.iter().map(|t| send(&app, &goods, t, "N", &[]))).await;
    // Every third first attempt fails, so rounds overlap retries with first attempts.
    let receiver = Receiver::start(|n| if n % 3 == 0 && n < 30 { (503, "busy") } else { (200, OK_BODY) }).await;
    let seen_a = Arc::new(Recorder { inner: Some(receiver.gateway()), ..Recorder::default() });
    let seen_b = Arc::new(Recorder { inner: Some(receiver.gateway()), ..Recorder::default() });
    let a = Arc::new(app.worker(seen_a.clone()));
    let b = Arc::new(app.worker(seen_b.clone()));
    assert_ne!(a.worker_id(), b.worker_id());
    let mut rounds = 0;
    loop {
        let (x, y) = (a.clone(), b.clone());
        let (na, nb) = tokio::join!(tokio::spawn(async move { x.run_once().await }), tokio::spawn(async move { y.run_once().await }));
        rounds += 1;
        if na.unwrap() + nb.unwrap() == 0 {
            app.clock.advance(chrono::Duration::seconds(2));
            let (na, nb) = tokio::join!(a.run_once(), b.run_once());
            if na + nb == 0 {
                break;
            }
        }
        assert!(rounds < 50, "delivery converges");
    }
    let mut delivered: std::collections::HashMap<String, usize> = Default::default();
    for (i, call) in receiver.calls().iter().enumerate() {
        // The script answered 2xx to every call but the failing ones.
        if !(i % 3 == 0 && i < 30) {
            *delivered.entry(call.key()).or_default() += 1;
        }
    }
    assert_eq!(delivered.len(), 40, "every message delivered");
    // 40 messages, 32 a claim: both workers had a share.
    assert!(!seen_a.seen().is_empty() && !seen_b.seen().is_empty(), "both workers delivered");
    assert!(delivered.values().all(|&n| n == 1), "and exactly once: {delivered:?}");
    for t in &tr_ids {
        assert_eq!(coupon_info(&app, t).await["sendStatusCd"], "발송완료");
    }
    app.finish().await;
}

/// The server's own worker delivers without being driven, and stops with the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_delivers_on_its_own() {
    let receiver = Receiver::start(|_| (200, OK_BODY)).await;
    let settings = Settings {
        gateway: "webhook".into(),
        webhook_url: Some(receiver.url.clone()),
        webhook_secret: Some(std::str::from_utf8(SECRET).unwrap().into()),
        delivery_interval_ms: 10,
        ..Settings::default()
    };
    let app = TestApp::spawn_with_worker(Engine::Sqlite, settings).await.unwrap();
    let goods = on_sale_goods(&app).await;
    send(&app, &goods, "bg1", "N", &[]).await;
    receiver.wait_for(1).await;
    assert_eq!(receiver.calls()[0].json()["recipient"], PHONE);
    app.finish().await;
}

/// A webhook gateway without its URL or secret refuses to start.
#[tokio::test]
async fn a_webhook_without_url_or_secret_refuses_to_start() {
    let (store, _scratch) = common::fresh_store(Engine::Sqlite).await.unwrap();
    for settings in [
        Settings { gateway: "webhook".into(), ..Settings::default() },
        Settings { gateway: "webhook".into(), webhook_url: Some("http://127.0.0.1:9/sms".into()), ..Settings::default() },
    ] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let clock = Arc::new(giftbiz_core::time::SystemClock);
        let started = giftbiz_server::RunningServer::start(store.clone(), settings, clock, listener).await;
        assert!(started.is_err(), "refused");
    }
}
