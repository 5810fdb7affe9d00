//! Sandbox faults over real HTTP on loopback (README "Sandbox"): the tr_id prefixes and the
//! `X-Giftbiz-Fault` header, the gateway fault, the advanceable clock and its admin token, and
//! that none of it exists with `sandbox` off. Whatever commits runs on SQLite and PostgreSQL;
//! pure HTTP-layer behaviour on SQLite.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{assert_code, envelope_of, send_params, Engine, TestApp};
use giftbiz_core::coupon::LedgerReason;
use giftbiz_server::delivery::gateway_from_settings;
use giftbiz_server::jobs::delivery::DeliveryWorker;
use giftbiz_server::jobs::expiry::ExpiryJob;
use giftbiz_server::{operator, RunningServer, Settings};
use serde_json::{json, Value};

const ADMIN_TOKEN: &str = "sandbox-admin-token-for-tests";

fn sandbox_settings() -> Settings {
    Settings { sandbox: true, admin_token: Some(ADMIN_TOKEN.into()), ..Settings::default() }
}

/// One `#[tokio::test]` per engine for each scenario, on a server started with `sandbox = true`.
macro_rules! sandbox_engines {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if let Some(app) = $crate::common::TestApp::spawn_with($crate::common::Engine::Sqlite, super::sandbox_settings()).await {
                        super::$scenario(&app).await;
                        app.finish().await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if let Some(app) = $crate::common::TestApp::spawn_with($crate::common::Engine::Postgres, super::sandbox_settings()).await {
                        super::$scenario(&app).await;
                        app.finish().await;
                    }
                }
            )*
        }
    };
}

sandbox_engines!(
    e9999_prefix_commits_nothing,
    drop_prefix_commits_then_closes_without_an_answer,
    delay_prefix_commits_and_answers,
    gateway_prefix_fails_the_delivery,
    clock_advance_fires_reservations_and_expiry,
);

// --- helpers ---

async fn on_sale_goods(app: &TestApp) -> String {
    operator::change_bizmoney(app.store.as_ref(), &common::user("acme"), giftbiz_core::Won::new(10_000_000), LedgerReason::Charge, "test").await.unwrap();
    let v = app.call("/bizApi/goods", "0101", &[("size", "50")]).await;
    let g = v["result"]["goodsList"].as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SALE").unwrap();
    g["goodsCode"].as_str().unwrap().to_owned()
}

/// The full 0204 form (common fields included).
fn send_form(app: &TestApp, goods: &str, tr_id: &str, gubun: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form = app.auth("0204");
    form.extend(send_params(goods, tr_id, gubun, extra).iter().map(|(k, v)| (k.to_string(), v.to_string())));
    form
}

async fn send(app: &TestApp, goods: &str, tr_id: &str, gubun: &str, extra: &[(&str, &str)]) -> Value {
    app.post_form("/bizApi/send", &send_form(app, goods, tr_id, gubun, extra)).await
}

async fn coupon_detail(app: &TestApp, tr_id: &str) -> Value {
    app.call("/bizApi/coupons", "0201", &[("tr_id", tr_id)]).await
}

async fn coupon_info(app: &TestApp, tr_id: &str) -> Value {
    let v = coupon_detail(app, tr_id).await;
    assert_code(&v, "0000");
    v["result"][0]["couponInfoList"][0].clone()
}

async fn balance(app: &TestApp) -> String {
    let v = app.call("/bizApi/bizmoney", "0301", &[("user_id", "acme")]).await;
    assert_code(&v, "0000");
    v["balance"].as_str().map(str::to_owned).unwrap_or_else(|| v["result"]["balance"].to_string())
}

/// A client that gives up after 2 s, as an integrator's would.
fn impatient_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap()
}

/// POSTs `form` and expects no HTTP answer at all: a transport error or a timeout, before any
/// status line.
async fn expect_no_answer(app: &TestApp, path: &str, form: &[(String, String)], header: Option<&str>) {
    let mut req = impatient_client().post(app.url(path)).form(form);
    if let Some(h) = header {
        req = req.header("X-Giftbiz-Fault", h);
    }
    match req.send().await {
        Err(e) => assert!(e.is_timeout() || e.is_request() || e.is_connect() || e.is_body(), "transport error: {e:?}"),
        Ok(resp) => panic!("expected no answer, got HTTP {}", resp.status()),
    }
}

/// A delivery worker on the server's own (sandbox) clock and its configured gateway, which the
/// sandbox wraps.
fn server_worker(app: &TestApp) -> DeliveryWorker {
    let state = &app.server.state;
    let gateway = gateway_from_settings(&state.settings).expect("gateway");
    DeliveryWorker::new(app.store.clone(), gateway, state.clock.clone(), state.settings.clone())
}

async fn admin(app: &TestApp, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.header("X-Giftbiz-Admin-Token", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

// --- scenarios (sandbox on) ---

async fn e9999_prefix_commits_nothing(app: &TestApp) {
    let goods = on_sale_goods(app).await;
    let before = balance(app).await;

    let v = send(app, &goods, "FE_shop_0001", "Y", &[]).await;
    assert_code(&v, "E9999");
    assert_code(&coupon_detail(app, "FE_shop_0001").await, "ERR0214");

    // The tr_id counts wherever the merged parameters carry it: here in the query string.
    let mut form = send_form(app, &goods, "ignored", "Y", &[]);
    form.retain(|(k, _)| k != "tr_id");
    let resp = app.client.post(app.url("/bizApi/send?tr_id=FE_shop_0002")).form(&form).send().await.unwrap();
    assert_code(&envelope_of(resp).await, "E9999");
    assert_code(&coupon_detail(app, "FE_shop_0002").await, "ERR0214");

    // The header does it for any tr_id.
    let form = send_form(app, &goods, "hdr_e9999", "Y", &[]);
    let resp = app.client.post(app.url("/bizApi/send")).header("X-Giftbiz-Fault", "e9999").form(&form).send().await.unwrap();
    assert_code(&envelope_of(resp).await, "E9999");
    assert_code(&coupon_detail(app, "hdr_e9999").await, "ERR0214");

    assert_eq!(balance(app).await, before, "nothing charged");
    // Not even the tr_id was claimed: the same one sends fine once the fault is gone.
    assert_code(&send(app, &goods, "hdr_e9999", "Y", &[]).await, "0000");
}

async fn drop_prefix_commits_then_closes_without_an_answer(app: &TestApp) {
    let goods = on_sale_goods(app).await;
    let before = balance(app).await;

    expect_no_answer(app, "/bizApi/send", &send_form(app, &goods, "FD_shop_0001", "Y", &[]), None).await;
    let info = coupon_info(app, "FD_shop_0001").await;
    assert_eq!(info["pinStatusCd"], "01", "committed: {info}");
    assert_ne!(balance(app).await, before, "charged");
    // Other calls with that tr_id are not faulted: the client settles with 0205/0202.
    let v = app.call("/bizApi/sendFail/cancel", "0205", &[("tr_id", "FD_shop_0001"), ("user_id", "acme")]).await;
    assert_code(&v, "ERR0805");
    assert_code(&app.call("/bizApi/cancel", "0202", &[("tr_id", "FD_shop_0001"), ("user_id", "acme")]).await, "0000");
    assert_eq!(balance(app).await, before, "refunded");

    // By header, on any call.
    expect_no_answer(app, "/bizApi/send", &send_form(app, &goods, "hdr_drop", "Y", &[]), Some("drop")).await;
    assert_eq!(coupon_info(app, "hdr_drop").await["pinStatusCd"], "01");
    let mut form = app.auth("0301");
    form.push(("user_id".into(), "acme".into()));
    expect_no_answer(app, "/bizApi/bizmoney", &form, Some("drop")).await;
    // The server goes on answering.
    balance(app).await;
}

async fn delay_prefix_commits_and_answers(app: &TestApp) {
    let goods = on_sale_goods(app).await;
    let v = send(app, &goods, "FW1_shop_0001", "Y", &[]).await;
    assert_code(&v, "0000");
    assert_eq!(coupon_info(app, "FW1_shop_0001").await["pinStatusCd"], "01");

    let form = send_form(app, &goods, "hdr_delay", "Y", &[]);
    let resp = app.client.post(app.url("/bizApi/send")).header("X-Giftbiz-Fault", "delay=1").form(&form).send().await.unwrap();
    assert_code(&envelope_of(resp).await, "0000");
    assert_eq!(coupon_info(app, "hdr_delay").await["pinStatusCd"], "01");
}

async fn gateway_prefix_fails_the_delivery(app: &TestApp) {
    let goods = on_sale_goods(app).await;
    assert_code(&send(app, &goods, "FG_shop_0001", "N", &[]).await, "0000");
    assert_code(&send(app, &goods, "shop_0002", "N", &[]).await, "0000");
    assert_eq!(coupon_info(app, "FG_shop_0001").await["sendStatusCd"], "발송대기");

    let worker = server_worker(app);
    assert_eq!(worker.run_once().await, 2);
    let failed = coupon_info(app, "FG_shop_0001").await;
    assert_eq!(failed["sendStatusCd"], "발송실패", "{failed}");
    assert_eq!(failed["sendRstCd"], "9001");
    assert_eq!(failed["pinStatusCd"], "01", "the coupon itself stands");
    assert_eq!(coupon_info(app, "shop_0002").await["sendStatusCd"], "발송완료", "others go out");
    assert_eq!(worker.run_once().await, 0, "a permanent failure: no retry");
}

async fn clock_advance_fires_reservations_and_expiry(app: &TestApp) {
    use reqwest::Method;
    let advance = |s: i64| Some(json!({ "seconds": s }));

    // The admin token guards both calls.
    let (status, v) = admin(app, Method::POST, "/sandbox/clock/advance", None, advance(60)).await;
    assert_eq!((status, v["error"].as_str()), (401, Some("unauthorized")));
    let (status, _) = admin(app, Method::POST, "/sandbox/clock/advance", Some("wrong"), advance(60)).await;
    assert_eq!(status, 401);
    let (status, _) = admin(app, Method::GET, "/sandbox/clock", Some(&ADMIN_TOKEN[1..]), None).await;
    assert_eq!(status, 401);
    let (status, v) = admin(app, Method::POST, "/sandbox/clock/advance", Some(ADMIN_TOKEN), advance(-5)).await;
    assert_eq!((status, v["error"].as_str()), (400, Some("bad_request")));
    let (status, v) = admin(app, Method::GET, "/sandbox/clock", Some(ADMIN_TOKEN), None).await;
    assert_eq!(status, 200);
    assert_eq!(v["offset_seconds"], 0, "nothing advanced yet: {v}");
    assert!(v["now"].as_str().unwrap().ends_with("+09:00"), "KST: {v}");
    assert_eq!(v["now_kst"].as_str().unwrap().len(), 14);

    // A reservation one hour ahead, and a PIN coupon whose validity will run out.
    let goods = on_sale_goods(app).await;
    let at = app.server.state.clock.now_kst() + chrono::Duration::hours(1);
    let (date, time) = (at.format("%Y%m%d").to_string(), at.format("%H%M").to_string());
    let reserved = [("rev_info_yn", "Y"), ("rev_info_date", date.as_str()), ("rev_info_time", time.as_str())];
    assert_code(&send(app, &goods, "rsv_0001", "N", &reserved).await, "0000");
    assert_code(&send(app, &goods, "pin_0001", "Y", &[]).await, "0000");
    let worker = server_worker(app);
    assert_eq!(worker.run_once().await, 0, "not before its time");

    let before = app.server.state.clock.now_ms();
    let (status, v) = admin(app, Method::POST, "/sandbox/clock/advance", Some(ADMIN_TOKEN), advance(2 * 3600)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["offset_seconds"], 7200);
    assert!(app.server.state.clock.now_ms() >= before + 7_200_000, "the server's clock moved");
    assert_eq!(worker.run_once().await, 1, "the reservation is due on the sandbox clock");
    assert_eq!(coupon_info(app, "rsv_0001").await["sendStatusCd"], "발송완료");

    // Past the PIN coupon's validity: the expiry job on the same clock expires it.
    let c = app.store.coupon_by_tr_id(app.account.account.id, &common::tr("pin_0001")).await.unwrap().unwrap();
    let by = (c.new.valid_until_ms - app.server.state.clock.now_ms()) / 1000 + 60;
    let (status, _) = admin(app, Method::POST, "/sandbox/clock/advance", Some(ADMIN_TOKEN), advance(by)).await;
    assert_eq!(status, 200);
    let job = ExpiryJob::new(app.store.clone(), app.server.state.clock.clone());
    assert!(job.run_once().await >= 1);
    assert_eq!(coupon_info(app, "pin_0001").await["pinStatusCd"], "08");
}

// --- sandbox off, and the start checks (HTTP layer only: SQLite) ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_sandbox_off_prefixes_are_ordinary_tr_ids() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    assert!(app.server.state.sandbox.is_none());
    let goods = on_sale_goods(&app).await;
    for tr_id in ["FE_shop_0001", "FD_shop_0001", "FW30_shop_0001"] {
        // Would hang 30 s or drop if the sandbox were on; the client gives up after 2 s.
        let resp = impatient_client().post(app.url("/bizApi/send")).form(&send_form(&app, &goods, tr_id, "Y", &[])).send().await;
        assert_code(&envelope_of(resp.expect("an answer")).await, "0000");
        assert_eq!(coupon_info(&app, tr_id).await["pinStatusCd"], "01");
    }
    let form = send_form(&app, &goods, "hdr_0001", "Y", &[]);
    let resp = app.client.post(app.url("/bizApi/send")).header("X-Giftbiz-Fault", "e9999").form(&form).send().await.unwrap();
    assert_code(&envelope_of(resp).await, "0000");

    // The gateway is not wrapped: FG_ goes out like any other.
    assert_code(&send(&app, &goods, "FG_shop_0001", "N", &[]).await, "0000");
    assert_eq!(server_worker(&app).run_once().await, 1);
    assert_eq!(coupon_info(&app, "FG_shop_0001").await["sendStatusCd"], "발송완료");

    // No admin routes: unknown paths, even with a token.
    for (method, path) in [(reqwest::Method::GET, "/sandbox/clock"), (reqwest::Method::POST, "/sandbox/clock/advance")] {
        let resp = app.client.request(method, app.url(path)).header("X-Giftbiz-Admin-Token", "x").json(&json!({"seconds": 1})).send().await.unwrap();
        assert_code(&envelope_of(resp).await, "E0002");
    }
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_without_an_admin_token_refuses_to_start() {
    let (store, _scratch) = common::fresh_store(Engine::Sqlite).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = Settings { sandbox: true, admin_token: None, delivery_interval_ms: 0, ..Settings::default() };
    let err = RunningServer::start(store, settings, Arc::new(giftbiz_core::time::SystemClock), listener).await.err().expect("refused");
    assert!(err.to_string().contains("admin_token"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fault_headers_are_ignored_and_other_calls_keep_their_tr_id() {
    let app = TestApp::spawn_with(Engine::Sqlite, sandbox_settings()).await.unwrap();
    let goods = on_sale_goods(&app).await;
    let form = send_form(&app, &goods, "hdr_0001", "Y", &[]);
    let resp = app.client.post(app.url("/bizApi/send")).header("X-Giftbiz-Fault", "explode").form(&form).send().await.unwrap();
    assert_code(&envelope_of(resp).await, "0000");
    // tr_id prefixes act on sends only: 0202 of an FE_ tr_id is an ordinary cancel.
    assert_code(&send(&app, &goods, "FW0_shop_0001", "Y", &[]).await, "0000");
    assert_code(&app.call("/bizApi/cancel", "0202", &[("tr_id", "FE_shop_0009"), ("user_id", "acme")]).await, "ERR0214");
    assert_code(&app.call("/bizApi/cancel", "0202", &[("tr_id", "FW0_shop_0001"), ("user_id", "acme")]).await, "0000");
    app.finish().await;
}
