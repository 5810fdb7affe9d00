//! A coupon's life after its send: expiry by the job (01 → 08) and redemption by partners over
//! the partner API (01 → 02), on SQLite and PostgreSQL over real HTTP on loopback.

mod common;

use common::{assert_code, Engine, TestApp};
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::delivery::Claim;
use giftbiz_core::partner::{AuditAction, AuditOutcome};
use giftbiz_core::send::Pin;
use giftbiz_core::time::Clock;
use giftbiz_server::jobs::expiry::ExpiryJob;
use giftbiz_server::operator::{self, IssuedPartner};
use giftbiz_server::Settings;
use serde_json::{json, Value};

both_engines!(
    expiry_turns_issued_coupons_past_their_validity_into_08,
    partners_look_up_and_redeem_their_brands_coupons_once,
    concurrent_redemptions_and_expiry_jobs_change_each_coupon_once,
    partner_authentication_floods_are_limited_before_any_write,
);

/// 1,000 wrong-token calls a second once wrote 1,000 audit rows. Past the failure limit of its
/// address or its code a call is refused with 429 before anything is written; the right token
/// still works, and made-up codes are limited by their address.
async fn partner_authentication_floods_are_limited_before_any_write(app: &TestApp) {
    let limit = Settings::default().partner_auth_failures_per_minute as usize;
    let p = create_partner(app, "BR00001").await;
    let code = p.partner.partner_code.clone();
    let mut statuses = Vec::new();
    for _ in 0..limit + 15 {
        statuses.push(partner_call(app, LOOKUP, &code, "wrong-token-wrong-token", json!({ "pin": "123456789012" })).await.0);
    }
    assert!(statuses[..limit].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[limit..].iter().all(|s| *s == 429), "{statuses:?}");
    let audit = app.store.redemption_audit(p.partner.id).await.unwrap();
    assert_eq!(audit.len(), limit, "one row per failure within the limit, none beyond");
    // The right token is not a failure: served (the PIN is unknown: 404, not 429).
    assert_error(&as_partner(app, &p, LOOKUP, "123456789012").await, 404, "not_found");

    // Made-up codes from another address: limited by that address, and never audited.
    let other = reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 2])).build().unwrap();
    let mut statuses = Vec::new();
    for i in 0..limit + 5 {
        let resp = other
            .post(app.url(LOOKUP))
            .header("X-Partner-Code", format!("PT{i:016x}"))
            .bearer_auth("whatever")
            .json(&json!({ "pin": "123456789012" }))
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert!(statuses[..limit].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[limit..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(app.store.redemption_audit(p.partner.id).await.unwrap().len(), limit + 1);

    // Every failure within the limits counted, in one row per address and partner (made-up
    // codes under none, and not kept), however many attempts.
    let counts = app.store.auth_failure_counts().await.unwrap();
    let rows: Vec<_> = counts.iter().map(|c| (c.source.as_str(), c.partner_id, c.failures)).collect();
    assert_eq!(rows, vec![("127.0.0.1", Some(p.partner.id), limit as u64), ("127.0.0.2", None, limit as u64)]);
    let hour = giftbiz_core::partner::failure_hour(counts[0].last_at_ms);
    assert!(counts.iter().all(|c| c.hour_ms == hour && c.last_at_ms >= hour), "{counts:?}");
}

const LOOKUP: &str = "/partner/v1/coupons/lookup";
const REDEEM: &str = "/partner/v1/coupons/redeem";

async fn charge(app: &TestApp, amount: i64) {
    operator::change_bizmoney(app.store.as_ref(), &common::user("acme"), giftbiz_core::Won::new(amount), LedgerReason::Charge, "test").await.unwrap();
}

/// Two goods on sale of two different brands, valid a number of days from issue (type 01, so
/// a coupon sent after the clock moved is valid anew): (goods code, brand code) each.
async fn goods_of_two_brands(app: &TestApp) -> [(String, String); 2] {
    let v = app.call("/bizApi/goods", "0101", &[("size", "500")]).await;
    let list = v["result"]["goodsList"].as_array().unwrap();
    let on_sale = |g: &&Value| g["goodsStateCd"] == "SALE" && g["validPrdTypeCd"] == "01";
    let first = list.iter().find(on_sale).unwrap();
    let other = list.iter().filter(on_sale).find(|g| g["brandCode"] != first["brandCode"]).unwrap();
    let pick = |g: &Value| (g["goodsCode"].as_str().unwrap().to_owned(), g["brandCode"].as_str().unwrap().to_owned());
    [pick(first), pick(other)]
}

/// A send (gubun Y returns the PIN, N queues an MMS); returns the PIN or the order number.
async fn send(app: &TestApp, goods: &str, tr_id: &str, gubun: &str) -> String {
    let v = app
        .call(
            "/bizApi/send",
            "0204",
            &[
                ("goods_code", goods),
                ("mms_msg", "감사합니다."),
                ("mms_title", "선물 도착"),
                ("callback_no", "15880108"),
                ("phone_no", "01012345678"),
                ("tr_id", tr_id),
                ("user_id", "acme"),
                ("gubun", gubun),
            ],
        )
        .await;
    assert_code(&v, "0000");
    let r = &v["result"]["result"];
    r["pinNo"].as_str().or(r["orderNo"].as_str()).unwrap().to_owned()
}

async fn coupon_info(app: &TestApp, tr_id: &str) -> Value {
    let v = app.call("/bizApi/coupons", "0201", &[("tr_id", tr_id)]).await;
    assert_code(&v, "0000");
    v["result"][0]["couponInfoList"][0].clone()
}

async fn cancel(app: &TestApp, tr_id: &str) -> Value {
    app.call("/bizApi/cancel", "0202", &[("tr_id", tr_id), ("user_id", "acme")]).await
}

/// Moves the server's clock to just past the coupon's last valid instant.
async fn advance_past_validity(app: &TestApp, tr_id: &str) {
    let c = app.store.coupon_by_tr_id(app.account.account.id, &common::tr(tr_id)).await.unwrap().unwrap();
    let by = c.new.valid_until_ms - app.clock.now_ms() + 1_000;
    assert!(by > 0);
    app.clock.advance(chrono::Duration::milliseconds(by));
}

async fn expiry_turns_issued_coupons_past_their_validity_into_08(app: &TestApp) {
    charge(app, 100_000).await;
    let [(goods, _), _] = goods_of_two_brands(app).await;
    send(app, &goods, "exp_pin", "Y").await;
    send(app, &goods, "exp_mms", "N").await;
    assert_eq!(coupon_info(app, "exp_mms").await["sendStatusCd"], "발송대기");
    let job = ExpiryJob { store: app.store.clone(), clock: app.clock.clone() };
    assert_eq!(job.run_once().await, 0, "nothing is due yet");

    advance_past_validity(app, "exp_pin").await;
    // Issued after the clock moved: valid for its own days, and never expired here.
    send(app, &goods, "exp_fresh", "Y").await;
    assert_eq!(coupon_info(app, "exp_pin").await["pinStatusCd"], "01", "the job has not run yet");

    assert_eq!(job.run_once().await, 2);
    let today = app.clock.now_kst().format("%Y%m%d").to_string();
    for tr_id in ["exp_pin", "exp_mms"] {
        let info = coupon_info(app, tr_id).await;
        assert_eq!(info["pinStatusCd"], "08", "{tr_id}: {info}");
        assert_eq!(info["pinStatusNm"], "기간만료");
        assert_eq!(info["correcDtm"], today.as_str(), "status_changed_at is the expiry");
        assert_code(&cancel(app, tr_id).await, "COUPON.0006");
    }
    // The pending MMS went with its coupon: shown cancelled, and no worker can claim it.
    assert_eq!(coupon_info(app, "exp_mms").await["sendStatusCd"], "발송취소");
    let claim = Claim { now_ms: app.clock.now_ms(), limit: 10, lease_ms: 60_000, worker: "test" };
    let due = app.store.claim_due_messages(&claim).await.unwrap();
    assert!(due.is_empty(), "the expired coupon's message is cancelled: {due:?}");

    assert_eq!(coupon_info(app, "exp_fresh").await["pinStatusCd"], "01");
    assert_eq!(job.run_once().await, 0, "expired once");
    // The never-expired coupon still cancels (and refunds).
    assert_code(&cancel(app, "exp_fresh").await, "0000");
}

async fn create_partner(app: &TestApp, brands: &str) -> IssuedPartner {
    let issued = operator::create_partner(app.store.as_ref(), "카페 본점", brands).await.unwrap();
    assert!(issued.unknown_brands.is_empty());
    issued
}

/// A partner API call with the partner's credentials: (HTTP status, JSON body).
async fn partner_call(app: &TestApp, path: &str, code: &str, token: &str, body: Value) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url(path))
        .header("X-Partner-Code", code)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    (status, resp.json().await.unwrap())
}

async fn as_partner(app: &TestApp, p: &IssuedPartner, path: &str, pin: &str) -> (u16, Value) {
    partner_call(app, path, &p.partner.partner_code, p.token.expose(), json!({ "pin": pin })).await
}

#[track_caller]
fn assert_error(answer: &(u16, Value), status: u16, error: &str) {
    assert_eq!(answer.0, status, "{answer:?}");
    assert_eq!(answer.1["error"], error, "{answer:?}");
    assert!(answer.1["message"].is_string(), "{answer:?}");
}

async fn partners_look_up_and_redeem_their_brands_coupons_once(app: &TestApp) {
    charge(app, 200_000).await;
    let [(goods, brand), (other_goods, _)] = goods_of_two_brands(app).await;
    let p = create_partner(app, &brand).await;
    assert!(p.partner.partner_code.starts_with("PT") && p.partner.partner_code.len() == 18);
    assert_eq!(p.token.expose().len(), 24);

    let pin = send(app, &goods, "use_1", "Y").await;
    let other_pin = send(app, &other_goods, "use_other", "Y").await;
    let cancelled_pin = send(app, &goods, "use_cancelled", "Y").await;
    let expiring_pin = send(app, &goods, "use_expiring", "Y").await;
    let mut expected = Vec::new();

    // Lookup: the coupon as the counter needs it, unchanged.
    let (status, v) = as_partner(app, &p, LOOKUP, &pin).await;
    assert_eq!(status, 200, "{v}");
    let info = coupon_info(app, "use_1").await;
    assert_eq!(v["goods_code"], goods.as_str());
    assert_eq!(v["goods_name"], info["goodsNm"]);
    assert_eq!(v["brand_code"], brand.as_str());
    assert_eq!(v["brand_name"], info["brandNm"]);
    assert_eq!((v["status_code"].as_str(), v["status_name"].as_str()), (Some("01"), Some("발행")));
    assert_eq!(v["valid_until"], info["validPrdEndDt"], "KST yyyyMMddHHmmss");
    expected.push((AuditAction::Lookup, AuditOutcome::Ok, Some(pin.clone())));

    // Redeem: 01 → 02, once.
    let (status, v) = as_partner(app, &p, REDEEM, &pin).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["status_code"].as_str(), v["status_name"].as_str()), (Some("02"), Some("교환(사용완료)")));
    expected.push((AuditAction::Redeem, AuditOutcome::Ok, Some(pin.clone())));
    let info = coupon_info(app, "use_1").await;
    assert_eq!((info["pinStatusCd"].as_str(), info["pinStatusNm"].as_str()), (Some("02"), Some("교환(사용완료)")));
    assert_error(&as_partner(app, &p, REDEEM, &pin).await, 409, "already_used");
    expected.push((AuditAction::Redeem, AuditOutcome::AlreadyUsed, Some(pin.clone())));
    let (status, v) = as_partner(app, &p, LOOKUP, &pin).await;
    assert_eq!((status, v["status_code"].as_str()), (200, Some("02")));
    expected.push((AuditAction::Lookup, AuditOutcome::Ok, Some(pin.clone())));
    // A used coupon cannot be cancelled.
    assert_code(&cancel(app, "use_1").await, "COUPON.0007");

    // Another brand's coupon, and a PIN that does not exist, look alike: not found.
    for path in [LOOKUP, REDEEM] {
        assert_error(&as_partner(app, &p, path, &other_pin).await, 404, "not_found");
        let action = if path == LOOKUP { AuditAction::Lookup } else { AuditAction::Redeem };
        expected.push((action, AuditOutcome::NotFound, Some(other_pin.clone())));
    }
    assert_eq!(coupon_info(app, "use_other").await["pinStatusCd"], "01", "untouched");
    assert_error(&as_partner(app, &p, REDEEM, "000000000000").await, 404, "not_found");
    expected.push((AuditAction::Redeem, AuditOutcome::NotFound, Some("000000000000".into())));

    // A cancelled coupon.
    assert_code(&cancel(app, "use_cancelled").await, "0000");
    assert_error(&as_partner(app, &p, REDEEM, &cancelled_pin).await, 409, "cancelled");
    expected.push((AuditAction::Redeem, AuditOutcome::Cancelled, Some(cancelled_pin.clone())));

    // Credentials: a wrong token is audited; an unknown code has no partner to audit under.
    let code = p.partner.partner_code.clone();
    let wrong = partner_call(app, REDEEM, &code, "AAAAAAAAAAAAAAAAAAAAAA==", json!({ "pin": pin })).await;
    assert_error(&wrong, 401, "unauthorized");
    expected.push((AuditAction::Redeem, AuditOutcome::Unauthorized, Some(pin.clone())));
    let unknown = partner_call(app, LOOKUP, "PT0000000000000000", p.token.expose(), json!({ "pin": pin })).await;
    assert_error(&unknown, 401, "unauthorized");
    let no_auth = app.client.post(app.url(LOOKUP)).header("X-Partner-Code", &code).json(&json!({ "pin": pin })).send().await.unwrap();
    assert_eq!(no_auth.status(), 401);
    expected.push((AuditAction::Lookup, AuditOutcome::Unauthorized, Some(pin.clone())));

    // Bodies without a PIN; the PIN never goes in the URL, and GET is not the API.
    assert_error(&partner_call(app, REDEEM, &code, p.token.expose(), json!({ "pin": 5 })).await, 400, "bad_request");
    expected.push((AuditAction::Redeem, AuditOutcome::BadRequest, None));
    let get = app.client.get(app.url(LOOKUP)).send().await.unwrap();
    assert_eq!(get.status(), 405);

    // Past its validity, before and after the job: expired.
    advance_past_validity(app, "use_expiring").await;
    let (status, v) = as_partner(app, &p, LOOKUP, &expiring_pin).await;
    assert_eq!((status, v["status_code"].as_str()), (200, Some("08")), "{v}");
    expected.push((AuditAction::Lookup, AuditOutcome::Ok, Some(expiring_pin.clone())));
    assert_error(&as_partner(app, &p, REDEEM, &expiring_pin).await, 409, "expired");
    expected.push((AuditAction::Redeem, AuditOutcome::Expired, Some(expiring_pin.clone())));
    ExpiryJob { store: app.store.clone(), clock: app.clock.clone() }.run_once().await;
    assert_error(&as_partner(app, &p, REDEEM, &expiring_pin).await, 409, "expired");
    expected.push((AuditAction::Redeem, AuditOutcome::Expired, Some(expiring_pin.clone())));
    assert_eq!(coupon_info(app, "use_1").await["pinStatusCd"], "02", "a used coupon never expires");

    // Every attempt of the partner, in order, with the PIN's hash and never the PIN.
    let audit = app.store.redemption_audit(p.partner.id).await.unwrap();
    let got: Vec<_> = audit.iter().map(|r| (r.entry.action, r.entry.outcome, r.entry.pin_hash.clone())).collect();
    let want: Vec<_> = expected.iter().map(|(a, o, pin)| (*a, *o, pin.as_deref().map(|p| app.store.pin_hash(&Pin::new(p))))).collect();
    assert_eq!(got, want);
    let used = app.store.coupon_by_pin(&giftbiz_core::send::Pin::new(pin.as_str())).await.unwrap().unwrap();
    assert_eq!(audit[1].entry.coupon_id, Some(used.id), "the redemption names its coupon");
    assert!(audit.iter().all(|r| r.entry.partner_id == p.partner.id));
    let other_brand = audit.iter().filter(|r| r.entry.pin_hash == Some(app.store.pin_hash(&Pin::new(other_pin.as_str()))));
    assert!(other_brand.clone().count() == 2 && other_brand.clone().all(|r| r.entry.coupon_id.is_none()));
    let text = format!("{audit:?}");
    for secret in [&pin, &other_pin, &cancelled_pin, &expiring_pin] {
        assert!(!text.contains(secret.as_str()), "no PIN in the audit");
    }
}

async fn concurrent_redemptions_and_expiry_jobs_change_each_coupon_once(app: &TestApp) {
    charge(app, 1_000_000).await;
    let [(goods, brand), _] = goods_of_two_brands(app).await;
    let p = create_partner(app, &brand).await;
    let mut pins = Vec::new();
    for i in 0..24 {
        pins.push(send(app, &goods, &format!("many_{i}"), "Y").await);
    }

    // Ten counters redeem the same PIN at once: one succeeds.
    let answers = futures_util::future::join_all((0..10).map(|_| as_partner(app, &p, REDEEM, &pins[0]))).await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{answers:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 409).count(), 9, "{answers:?}");

    // Two servers' jobs at once: every due coupon expires exactly once, the used one never.
    advance_past_validity(app, "many_0").await;
    let job = || ExpiryJob { store: app.store.clone(), clock: app.clock.clone() };
    let (one, two) = (job(), job());
    let (a, b) = tokio::join!(one.run_once(), two.run_once());
    assert_eq!(a + b, 23);
    assert_eq!(one.run_once().await, 0);
    assert_eq!(coupon_info(app, "many_0").await["pinStatusCd"], "02");
    assert_eq!(coupon_info(app, "many_23").await["pinStatusCd"], "08");
}

/// The rate limit: with 3 a minute, the 4th quick attempt is refused (and audited), for that
/// partner only. The limiter's window is a minute, so nothing here waits.
async fn the_fourth_quick_attempt_is_rate_limited(engine: Engine) {
    let settings = Settings { partner_rate_per_minute: 3, ..Settings::default() };
    let Some(app) = TestApp::spawn_with(engine, settings).await else { return };
    let [(_, brand), _] = goods_of_two_brands(&app).await;
    let p = create_partner(&app, &brand).await;
    let other = create_partner(&app, &brand).await;
    for _ in 0..3 {
        assert_error(&as_partner(&app, &p, LOOKUP, "123412341234").await, 404, "not_found");
    }
    let limited = app
        .client
        .post(app.url(REDEEM))
        .header("X-Partner-Code", &p.partner.partner_code)
        .bearer_auth(p.token.expose())
        .json(&json!({ "pin": "123412341234" }))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let v: Value = limited.json().await.unwrap();
    assert_eq!(v["error"], "rate_limited");
    assert_error(&as_partner(&app, &other, LOOKUP, "123412341234").await, 404, "not_found");

    let outcomes: Vec<_> = app.store.redemption_audit(p.partner.id).await.unwrap().iter().map(|r| r.entry.outcome).collect();
    assert_eq!(outcomes, [AuditOutcome::NotFound, AuditOutcome::NotFound, AuditOutcome::NotFound, AuditOutcome::RateLimited]);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_fourth_quick_attempt_is_rate_limited() {
    the_fourth_quick_attempt_is_rate_limited(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_fourth_quick_attempt_is_rate_limited() {
    the_fourth_quick_attempt_is_rate_limited(Engine::Postgres).await;
}
