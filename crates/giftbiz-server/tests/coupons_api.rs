//! The shared transaction scenario (0204 send, 0201 coupon detail, 0202 cancel, 0205 sendFail
//! cancel, 0301 bizmoney), run against SQLite and PostgreSQL over real HTTP on loopback.

mod common;

use common::{assert_code, send_params, TestApp, PHONE};
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::Won;
use giftbiz_core::time::Clock;
use giftbiz_server::operator;
use serde_json::Value;

both_engines!(
    send_with_pin_charges_the_grade_price_once,
    send_with_image_links_a_barcode_that_scans_to_the_pin,
    send_by_mms_returns_only_the_order_number,
    send_validation_codes,
    cancel_refunds_once_and_tombstones_unknown_tr_ids,
    send_fail_cancel_answers,
    every_endpoint_parses_the_tr_id_as_send_does,
    bizmoney_shows_the_balance_in_both_places,
    one_tr_id_sent_fifty_times_at_once_charges_once,
    concurrent_sends_spend_exactly_the_balance,
    random_send_cancel_interleavings_keep_the_ledger_whole,
);


async fn charge(app: &TestApp, amount: i64) {
    operator::change_bizmoney(app.store.as_ref(), &common::user("acme"), giftbiz_core::Won::new(amount), LedgerReason::Charge, "test").await.unwrap();
}

/// A goods on sale (the first listed one with state SALE) and its price for the caller.
async fn on_sale_goods(app: &TestApp) -> (String, i64) {
    let v = app.call("/bizApi/goods", "0101", &[("size", "50")]).await;
    let g = v["result"]["goodsList"].as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SALE").unwrap();
    (g["goodsCode"].as_str().unwrap().to_owned(), g["discountPrice"].as_i64().unwrap())
}

async fn send(app: &TestApp, goods: &str, tr_id: &str, gubun: &str, extra: &[(&str, &str)]) -> Value {
    app.call("/bizApi/send", "0204", &send_params(goods, tr_id, gubun, extra)).await
}

async fn balance(app: &TestApp) -> i64 {
    let v = app.call("/bizApi/bizmoney", "0301", &[("user_id", "acme")]).await;
    assert_code(&v, "0000");
    v["balance"].as_str().unwrap().parse().unwrap()
}

async fn coupon_info(app: &TestApp, tr_id: &str) -> Value {
    let v = app.call("/bizApi/coupons", "0201", &[("tr_id", tr_id)]).await;
    assert_code(&v, "0000");
    let r = &v["result"][0];
    assert_eq!(r["resCode"], "0000");
    r["couponInfoList"][0].clone()
}

/// The ledger invariant: the balance is the sum of the entries, never negative.
async fn assert_ledger_balances(app: &TestApp) {
    let entries = app.store.ledger(app.account.account.id).await.unwrap();
    let sum: Won = entries.iter().map(|e| e.amount).sum();
    let bal = app.store.bizmoney_balance(app.account.account.id).await.unwrap();
    assert_eq!(bal, sum, "balance equals the sum of the ledger");
    assert!(bal >= Won::ZERO);
    assert!(entries.iter().all(|e| e.balance_after >= Won::ZERO));
}

async fn send_with_pin_charges_the_grade_price_once(app: &TestApp) {
    charge(app, 100_000).await;
    let (goods, price) = on_sale_goods(app).await;
    let v = send(app, &goods, "acme_0001", "Y", &[]).await;
    assert_code(&v, "0000");
    assert!(v["message"].is_null());
    let inner = &v["result"];
    assert_eq!(inner["code"], "0000");
    assert!(inner["message"].is_null());
    let r = &inner["result"];
    let order_no = r["orderNo"].as_str().expect("orderNo is a string");
    assert_eq!(order_no.len(), 14);
    assert!(order_no.bytes().all(|b| b.is_ascii_digit()));
    let pin = r["pinNo"].as_str().unwrap();
    assert_eq!(pin.len(), 12);
    assert!(r.get("couponImgUrl").is_none());
    assert_eq!(balance(app).await, 100_000 - price);

    let info = coupon_info(app, "acme_0001").await;
    let obj = info.as_object().unwrap();
    assert_eq!(obj.len(), 17, "exactly the 17 keys: {info}");
    assert!(obj.values().all(|v| v.is_string() || v.is_null()), "all strings or null: {info}");
    assert_eq!(info["goodsCd"], goods.as_str());
    assert_eq!(info["pinStatusCd"], "01");
    assert_eq!(info["pinStatusNm"], "발행");
    assert_eq!(info["sellPriceAmt"], price.to_string());
    assert_eq!(info["recverTelNo"], PHONE);
    assert_eq!(info["senderTelNo"], "15880108");
    assert_eq!(info["validPrdEndDt"].as_str().unwrap().len(), 14);
    assert_eq!(info["correcDtm"].as_str().unwrap().len(), 8);
    assert_eq!(&info["sendBasicCd"].as_str().unwrap()[..8], &order_no[..8]);

    // The same tr_id again: refused, not charged again.
    assert_code(&send(app, &goods, "acme_0001", "Y", &[]).await, "ERR0215");
    assert_eq!(balance(app).await, 100_000 - price);
    assert_ledger_balances(app).await;
}

async fn send_with_image_links_a_barcode_that_scans_to_the_pin(app: &TestApp) {
    charge(app, 100_000).await;
    let (goods, _) = on_sale_goods(app).await;
    let v = send(app, &goods, "acme_img", "I", &[]).await;
    assert_code(&v, "0000");
    let r = &v["result"]["result"];
    let pin = r["pinNo"].as_str().unwrap();
    let url = r["couponImgUrl"].as_str().unwrap();
    assert!(url.starts_with(&app.server.base_url()));
    assert!(!url.contains(pin), "the PIN never appears in a URL");
    for url in [url.to_owned(), url.replace(".png", ".jpg")] {
        let resp = app.client.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let bytes = resp.bytes().await.unwrap();
        let img = image::load_from_memory(&bytes).expect("an image").to_luma8();
        let (w, h) = img.dimensions();
        let found = rxing::helpers::detect_in_luma(img.into_raw(), w, h, Some(rxing::BarcodeFormat::CODE_128))
            .expect("a Code128 barcode");
        assert_eq!(found.getText(), pin, "the barcode in {url} is the PIN");
    }
    let missing = app.client.get(app.url("/coupon-images/00000000000000000000000000000000.png")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    // Cancelled, the coupon shows its PIN no more: 410 Gone, as JSON.
    assert_code(&app.call("/bizApi/cancel", "0202", &[("tr_id", "acme_img"), ("user_id", "acme")]).await, "0000");
    let gone = app.client.get(url).send().await.unwrap();
    assert_eq!(gone.status(), 410);
    assert_eq!(gone.json::<Value>().await.unwrap()["error"], "gone");
}

async fn send_by_mms_returns_only_the_order_number(app: &TestApp) {
    charge(app, 100_000).await;
    let (goods, _) = on_sale_goods(app).await;
    let v = send(app, &goods, "acme_mms", "N", &[]).await;
    assert_code(&v, "0000");
    let r = v["result"]["result"].as_object().unwrap();
    assert_eq!(r.keys().collect::<Vec<_>>(), vec!["orderNo"]);
    let info = coupon_info(app, "acme_mms").await;
    assert_eq!(info["sendStatusCd"], "발송대기");
}

async fn send_validation_codes(app: &TestApp) {
    charge(app, 1_000).await;
    let (goods, _) = on_sale_goods(app).await;
    let list = app.call("/bizApi/goods", "0101", &[("size", "5000")]).await;
    let suspended = list["result"]["goodsList"].as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SUS").unwrap();
    let suspended = suspended["goodsCode"].as_str().unwrap();
    let expensive = list["result"]["goodsList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["goodsStateCd"] == "SALE" && g["discountPrice"].as_i64().unwrap() > 1_000)
        .unwrap()["goodsCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let kst_in = |minutes: i64| {
        let t = app.clock.now_kst() + chrono::Duration::minutes(minutes);
        (t.format("%Y%m%d").to_string(), t.format("%H%M").to_string())
    };
    let (soon_d, soon_t) = kst_in(3);
    let (far_d, far_t) = kst_in(91 * 24 * 60);
    let (ok_d, ok_t) = kst_in(60);
    let long_tr = "a".repeat(26);
    let long_code = "G".repeat(51);
    let title21 = "가".repeat(21);
    let msg2001 = "가".repeat(2001);
    // (goods_code, tr_id, parameters overridden, the code expected)
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (&goods, "v1", vec![("user_id", "someone_else")], "ERR0300"),
        (&goods, "v2", vec![("phone_no", "")], "ERR0201"),
        (&goods, &long_tr, vec![], "ERR0807"),
        (&goods, "v 3", vec![], "COUPON.0004"),
        (&goods, "v4", vec![("gubun", "X")], "ERR0208"),
        ("G99999999999", "v5", vec![], "COUPON.0011"),
        // A code no goods can have (GoodsCode refuses it) is as unknown, and checked as late.
        ("G 1'; --", "v5a", vec![], "COUPON.0011"),
        (&long_code, "v5b", vec![], "COUPON.0011"),
        (suspended, "v6", vec![], "ERR0208"),
        (&goods, "v7", vec![("mms_title", "   ")], "COUPON.0001"),
        // Control characters: never stored, never passed on to a phone.
        (&goods, "v7a", vec![("mms_title", "선물\u{0}도착")], "COUPON.0001"),
        (&goods, "v7b", vec![("mms_title", "선물\r\n도착")], "COUPON.0001"),
        (&goods, "v7c", vec![("mms_msg", "감사\u{1b}[2J합니다")], "COUPON.0002"),
        (&goods, "v7d", vec![("mms_msg", "감사\u{7}합니다")], "COUPON.0002"),
        (&goods, "v7e", vec![("user_id", "acme\u{0}")], "ERR0300"),
        (&goods, "v7f", vec![("phone_no", "010\u{0}1234567")], "ERR0817"),
        (&goods, "v8", vec![("mms_title", &title21)], "ERR0806"),
        (&goods, "v9", vec![("mms_msg", " ")], "COUPON.0002"),
        (&goods, "v10", vec![("mms_msg", &msg2001)], "COUPON.0002"),
        (&goods, "v11", vec![("phone_no", "0212345678")], "ERR0817"),
        (&goods, "v12", vec![("callback_no", "1588")], "COUPON.0010"),
        (&goods, "v13", vec![("rev_info_yn", "Y"), ("rev_info_date", "2026-12-01"), ("rev_info_time", "1200")], "COUPON.0012"),
        (&goods, "v14", vec![("rev_info_yn", "Y"), ("rev_info_date", &ok_d), ("rev_info_time", "2575")], "COUPON.0013"),
        (&goods, "v15", vec![("rev_info_yn", "Y"), ("rev_info_date", &soon_d), ("rev_info_time", &soon_t)], "COUPON.0014"),
        (&goods, "v16", vec![("rev_info_yn", "Y"), ("rev_info_date", &far_d), ("rev_info_time", &far_t)], "COUPON.0014"),
        (&expensive, "v17", vec![], "E0010"),
    ];
    for (goods_code, tr_id, extra, code) in cases {
        let v = send(app, goods_code, tr_id, "Y", &extra).await;
        assert_code(&v, code);
    }
    // Goods whose fixed validity end has passed are not sold (the coupon would be born expired).
    let fixed = list["result"]["goodsList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["goodsStateCd"] == "SALE" && g["validPrdTypeCd"] == "02")
        .unwrap();
    let fixed_code = fixed["goodsCode"].as_str().unwrap().to_owned();
    let end = chrono::NaiveDate::parse_from_str(fixed["validPrdDay"].as_str().unwrap(), "%Y%m%d").unwrap();
    let days_past = (end - app.clock.now_kst().date_naive()).num_days() + 1;
    app.clock.advance(chrono::Duration::days(days_past));
    assert_code(&send(app, &fixed_code, "v19", "Y", &[]).await, "ERR0208");
    app.clock.advance(-chrono::Duration::days(days_past));

    // A refused send claims nothing: the tr_id of the unaffordable one works once paid for.
    assert_eq!(balance(app).await, 1_000);
    charge(app, 1_000_000).await;
    assert_code(&send(app, &expensive, "v17", "Y", &[]).await, "0000");
    // A reserved MMS within range is accepted.
    let v = send(app, &goods, "v18", "N", &[("rev_info_yn", "Y"), ("rev_info_date", &ok_d), ("rev_info_time", &ok_t)]).await;
    assert_code(&v, "0000");
    assert_ledger_balances(app).await;
}

async fn cancel_refunds_once_and_tombstones_unknown_tr_ids(app: &TestApp) {
    charge(app, 100_000).await;
    let (goods, price) = on_sale_goods(app).await;
    assert_code(&send(app, &goods, "c1", "Y", &[]).await, "0000");
    assert_eq!(balance(app).await, 100_000 - price);
    let cancel = |tr_id: &'static str, user: &'static str| async move {
        app.call("/bizApi/cancel", "0202", &[("tr_id", tr_id), ("user_id", user)]).await
    };
    assert_code(&cancel("c1", "someone_else").await, "ERR0300");
    let v = cancel("c1", "acme").await;
    assert_eq!(v, serde_json::json!({"code":"0000","message":null,"result":null}));
    assert_eq!(balance(app).await, 100_000, "refunded");
    let info = coupon_info(app, "c1").await;
    assert_eq!(info["pinStatusCd"], "07");
    assert_eq!(info["pinStatusNm"], "구매취소(폐기)");
    assert_code(&cancel("c1", "acme").await, "ERR0808");
    assert_eq!(balance(app).await, 100_000, "refunded once");

    // A cancel that arrives before its send leaves a tombstone: the late send is refused.
    assert_code(&cancel("c2", "acme").await, "ERR0214");
    assert_code(&send(app, &goods, "c2", "Y", &[]).await, "ERR0215");
    assert_code(&app.call("/bizApi/coupons", "0201", &[("tr_id", "c2")]).await, "ERR0214");

    // Seven days after issue a coupon can no longer be cancelled.
    assert_code(&send(app, &goods, "c3", "Y", &[]).await, "0000");
    app.clock.advance(chrono::Duration::days(7) + chrono::Duration::minutes(1));
    assert_code(&cancel("c3", "acme").await, "COUPON.0006");
    assert_ledger_balances(app).await;
}

async fn send_fail_cancel_answers(app: &TestApp) {
    charge(app, 100_000).await;
    let (goods, _) = on_sale_goods(app).await;
    let fail_cancel = |tr_id: &'static str| async move {
        app.call("/bizApi/sendFail/cancel", "0205", &[("tr_id", tr_id), ("user_id", "acme")]).await
    };
    assert_code(&fail_cancel("f1").await, "ERR0214");
    assert_code(&send(app, &goods, "f1", "Y", &[]).await, "ERR0215");
    assert_code(&send(app, &goods, "f2", "Y", &[]).await, "0000");
    assert_code(&fail_cancel("f2").await, "ERR0805");
    assert_code(&app.call("/bizApi/sendFail/cancel/", "0205", &[("tr_id", "f2"), ("user_id", "x")]).await, "ERR0300");
}

/// 0201, 0202, 0203 and 0205 refuse a tr_id 0204 would refuse, with its codes, before
/// looking it up; one at the limit is a tr_id like any other (here unknown).
async fn every_endpoint_parses_the_tr_id_as_send_does(app: &TestApp) {
    let limit = giftbiz_server::Settings::default().tr_id_max_chars;
    assert_eq!(limit, 20, "the live service's limit is the default");
    let (goods, _) = on_sale_goods(app).await;
    let long = "a".repeat(limit + 1);
    // Large, but inside the body limit: refused for its length, not its body.
    let huge = "a".repeat(50_000);
    let endpoints = [
        ("/bizApi/send", "0204", "E0010"),
        ("/bizApi/coupons", "0201", "ERR0214"),
        ("/bizApi/cancel", "0202", "ERR0214"),
        ("/bizApi/resend", "0203", "ERR0212"),
        ("/bizApi/sendFail/cancel", "0205", "ERR0214"),
    ];
    let refused = [
        (long.as_str(), "ERR0807"),
        (huge.as_str(), "ERR0807"),
        ("a b", "COUPON.0004"),
        ("주문1", "COUPON.0004"),
        ("한글한글한글한", "COUPON.0004"),
        ("a\nb", "COUPON.0004"),
        ("a\r\nb", "COUPON.0004"),
        ("a\u{0}b", "COUPON.0004"),
        ("a\u{1b}b", "COUPON.0004"),
    ];
    let claims = app.rows_in("tr_ids").await;
    for (i, (path, api_code, unknown)) in endpoints.into_iter().enumerate() {
        let call = |tr_id: &str| {
            let params = if api_code == "0204" { send_params(&goods, tr_id, "Y", &[]) } else { vec![("tr_id", tr_id), ("user_id", "acme")] };
            let mut form = app.auth(api_code);
            form.extend(params.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.to_owned(), v.to_owned())));
            async move { app.post_form(path, &form).await }
        };
        for (tr_id, code) in refused {
            let v = call(tr_id).await;
            assert_code(&v, code);
            if code == "ERR0807" {
                let message = v["message"].as_str().unwrap();
                assert!(message.contains("longer than 20 characters"), "the limit in force is named: {message}");
            }
        }
        assert_code(&call("").await, "ERR0201");
        // At the limit: valid, so the endpoint's own answer (a send with no bizmoney: E0010).
        let at_limit = format!("{i}{}", "b".repeat(limit - 1));
        assert_code(&call(&at_limit).await, unknown);
    }
    // Of the valid tr_ids, the cancels' tombstones (0202, 0205) are the only claims written (a
    // send refused for its balance keeps none); none of the refused ones, in any form.
    assert_eq!(app.rows_in("tr_ids").await - claims, 2);
    assert_eq!(app.rows_in("coupons").await, 0);
}

async fn bizmoney_shows_the_balance_in_both_places(app: &TestApp) {
    charge(app, 250_000).await;
    let v = app.call("/bizApi/bizmoney", "0301", &[("user_id", "acme")]).await;
    assert_eq!(v, serde_json::json!({"code":"0000","message":null,"balance":"250000","result":{"balance":"250000"}}));
    assert_code(&app.call("/bizApi/bizmoney", "0301", &[]).await, "ERR0201");
    assert_code(&app.call("/bizApi/bizmoney", "0301", &[("user_id", "demo")]).await, "ERR0300");
}

async fn one_tr_id_sent_fifty_times_at_once_charges_once(app: &TestApp) {
    charge(app, 1_000_000).await;
    let (goods, price) = on_sale_goods(app).await;
    let results = futures_util::future::join_all((0..50).map(|_| send(app, &goods, "same_tr", "Y", &[]))).await;
    let ok = results.iter().filter(|v| v["code"] == "0000").count();
    let dup = results.iter().filter(|v| v["code"] == "ERR0215").count();
    assert_eq!((ok, dup), (1, 49), "exactly one wins");
    assert_eq!(balance(app).await, 1_000_000 - price, "charged once");
    let sends = app.store.ledger(app.account.account.id).await.unwrap();
    assert_eq!(sends.iter().filter(|e| e.reason == LedgerReason::Send).count(), 1);
}

async fn concurrent_sends_spend_exactly_the_balance(app: &TestApp) {
    let (goods, price) = on_sale_goods(app).await;
    charge(app, price * 7 + price / 2).await;
    let tr_ids: Vec<String> = (0..20).map(|i| format!("race_{i}")).collect();
    let results = futures_util::future::join_all(tr_ids.iter().map(|t| send(app, &goods, t, "Y", &[]))).await;
    let ok = results.iter().filter(|v| v["code"] == "0000").count();
    let poor = results.iter().filter(|v| v["code"] == "E0010").count();
    assert_eq!((ok, poor), (7, 13), "exactly the affordable number succeed");
    assert_eq!(balance(app).await, price / 2, "the remainder, exactly");
    assert_ledger_balances(app).await;
}

/// Sends, cancels (0202) and sendFail cancels (0205) racing over a few tr_ids, in a seeded
/// random order: whatever wins, every tr_id ends with nothing charged and nothing issued, or one
/// coupon charged once (and, if cancelled, refunded once), and the ledger adds up.
async fn random_send_cancel_interleavings_keep_the_ledger_whole(app: &TestApp) {
    charge(app, 10_000_000).await;
    let (goods, price) = on_sale_goods(app).await;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let tr_ids: Vec<String> = (0..8).map(|i| format!("mix_{i}")).collect();
    let mut calls = Vec::new();
    for _ in 0..60 {
        let tr_id = tr_ids[(next() % 8) as usize].clone();
        calls.push((next() % 3, tr_id));
    }
    let goods = goods.as_str();
    let outcomes = futures_util::future::join_all(calls.iter().map(|(op, tr_id)| async move {
        match op {
            0 => send(app, goods, tr_id, "Y", &[]).await,
            1 => app.call("/bizApi/cancel", "0202", &[("tr_id", tr_id), ("user_id", "acme")]).await,
            _ => app.call("/bizApi/sendFail/cancel", "0205", &[("tr_id", tr_id), ("user_id", "acme")]).await,
        }
    }))
    .await;
    let allowed = ["0000", "ERR0215", "ERR0214", "ERR0808", "ERR0805"];
    for v in &outcomes {
        assert!(allowed.contains(&v["code"].as_str().unwrap()), "unexpected answer {v}");
    }
    let ledger = app.store.ledger(app.account.account.id).await.unwrap();
    let mut spent = 0;
    for tr_id in &tr_ids {
        let sends = ledger.iter().filter(|e| e.reason == LedgerReason::Send && e.tr_id.as_deref() == Some(tr_id.as_str())).count();
        let refunds = ledger.iter().filter(|e| e.reason == LedgerReason::CancelRefund && e.tr_id.as_deref() == Some(tr_id.as_str())).count();
        let coupon = app.store.coupon_by_tr_id(app.account.account.id, &common::tr(tr_id)).await.unwrap();
        match coupon {
            None => assert_eq!((sends, refunds), (0, 0), "{tr_id}: no coupon, no charge"),
            Some(c) if c.status == giftbiz_core::coupon::PinStatus::Cancelled => {
                assert_eq!((sends, refunds), (1, 1), "{tr_id}: charged once, refunded once")
            }
            Some(_) => {
                assert_eq!((sends, refunds), (1, 0), "{tr_id}: charged once");
                spent += price;
            }
        }
    }
    assert_eq!(balance(app).await, 10_000_000 - spent);
    assert_ledger_balances(app).await;
}
