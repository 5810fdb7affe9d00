//! The wire protocol around every endpoint (NOTES §1-§4): where parameters may come from,
//! authentication in its order, and errors that always leave as the envelope.

mod common;

use common::{assert_code, envelope_of, raw_envelope, raw_exchange, Engine, TestApp};
use giftbiz_server::{operator, Settings};

both_engines!(
    auth_errors_in_the_order_of_notes,
    parameters_come_from_query_json_multipart_and_headers,
    rotated_tokens_and_grades_apply_at_once,
    transport_errors_leave_as_the_envelope,
    a_token_pasted_unencoded_into_a_query_string_still_works,
    a_suspended_account_is_refused_e0006_until_reactivated,
);

/// Suspension refuses every call of the account with the live service's `E0006` and its
/// message, after the token check (a wrong token is still `E0009`); sends write nothing;
/// reactivation lets it through with its balance as it was.
async fn a_suspended_account_is_refused_e0006_until_reactivated(app: &TestApp) {
    let charge = giftbiz_core::Won::new(100_000);
    operator::change_bizmoney(app.store.as_ref(), &common::user("acme"), charge, giftbiz_core::coupon::LedgerReason::Charge, "t").await.unwrap();
    let before = app.call("/bizApi/bizmoney", "0301", &[("user_id", "acme")]).await;
    assert_code(&before, "0000");
    let v = app.call("/bizApi/goods", "0101", &[("size", "50")]).await;
    let goods = v["result"]["goodsList"].as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SALE").unwrap()["goodsCode"]
        .as_str()
        .unwrap()
        .to_owned();
    operator::set_suspended(app.store.as_ref(), &common::user("acme"), true).await.unwrap();
    let send = common::send_params(&goods, "susp_1", "Y", &[]);
    for (path, api_code, extra) in [
        ("/bizApi/bizmoney", "0301", vec![("user_id", "acme")]),
        ("/bizApi/goods", "0101", vec![]),
        ("/bizApi/send", "0204", send.clone()),
        ("/bizApi/cancel", "0202", vec![("tr_id", "susp_1"), ("user_id", "acme")]),
    ] {
        let v = app.call(path, api_code, &extra).await;
        assert_code(&v, "E0006");
        assert_eq!(v["message"], "invalid authorization", "{path}: {v}");
    }
    let mut wrong = app.auth("0101");
    wrong[2].1 = "AAAAAAAAAAAAAAAAAAAAAA==".into();
    assert_code(&app.post_form("/bizApi/goods", &wrong).await, "E0009");
    assert_eq!(app.rows_in("tr_ids").await, 0, "a refused call claims no tr_id");

    operator::set_suspended(app.store.as_ref(), &common::user("acme"), false).await.unwrap();
    assert_eq!(app.call("/bizApi/bizmoney", "0301", &[("user_id", "acme")]).await, before);
    assert_code(&app.call("/bizApi/send", "0204", &send).await, "0000");
}

/// New tokens need no encoding; an older one with `+`, pasted raw into a query string (where
/// `+` means a space), still authenticates, and a wrong token still does not.
async fn a_token_pasted_unencoded_into_a_query_string_still_works(app: &TestApp) {
    let fresh = app.account.token.expose();
    assert!(fresh.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{fresh}");
    let legacy = "lEgAcy+t0ken/w1th+plus==";
    let hash = giftbiz_core::account::TokenHash::of(legacy);
    assert!(app.store.set_token_hash(&common::user("acme"), &hash).await.unwrap());
    let code = &app.account.account.auth_code;
    for (token, expected) in [(legacy, "0000"), ("lEgAcy+t0ken/w1th+pluz==", "E0009")] {
        let url = app.url(&format!("/bizApi/brands?api_code=0102&custom_auth_code={code}&custom_auth_token={token}&dev_yn=N"));
        let v = envelope_of(app.client.post(url).send().await.unwrap()).await;
        assert_code(&v, expected);
    }
}

async fn auth_errors_in_the_order_of_notes(app: &TestApp) {
    let code = app.account.account.auth_code.clone();
    let token = app.account.token.expose().to_owned();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("custom_auth_code", &code), ("custom_auth_token", &token), ("dev_yn", "N")], "E0002"),
        (vec![("api_code", "9999"), ("custom_auth_code", &code), ("custom_auth_token", &token), ("dev_yn", "N")], "E0002"),
        (vec![("api_code", "0102"), ("custom_auth_code", &code), ("custom_auth_token", &token), ("dev_yn", "N")], "E0007"),
        (vec![("api_code", "0101"), ("custom_auth_token", &token), ("dev_yn", "N")], "E0011"),
        (vec![("api_code", "0101"), ("custom_auth_code", "REALnope"), ("custom_auth_token", &token), ("dev_yn", "N")], "E0008"),
        // A NUL or a space in the auth code names no account (and reaches no query).
        (vec![("api_code", "0101"), ("custom_auth_code", "REAL\u{0}x"), ("custom_auth_token", &token), ("dev_yn", "N")], "E0008"),
        (vec![("api_code", "0101"), ("custom_auth_code", "REAL x"), ("custom_auth_token", &token), ("dev_yn", "N")], "E0008"),
        (vec![("api_code", "0101"), ("custom_auth_code", &code), ("dev_yn", "N")], "E0012"),
        (vec![("api_code", "0101"), ("custom_auth_code", &code), ("custom_auth_token", "AAAAAAAAAAAAAAAAAAAAAA=="), ("dev_yn", "N")], "E0009"),
        (vec![("api_code", "0101"), ("custom_auth_code", &code), ("custom_auth_token", &token)], "E0013"),
        (vec![("api_code", "0101"), ("custom_auth_code", &code), ("custom_auth_token", &token), ("dev_yn", "Y")], "ERR0100"),
        (vec![("api_code", "0101"), ("custom_auth_code", &code), ("custom_auth_token", &token), ("dev_yn", "N")], "0000"),
    ];
    for (form, expected) in cases {
        let form: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let v = app.post_form("/bizApi/goods", &form).await;
        assert_code(&v, expected);
    }
    // One account's credentials are not another's: a token of the demo account fails here.
    let other = operator::create_account(app.store.as_ref(), &common::user("other"), giftbiz_core::Grade::Basic).await.unwrap();
    let form = vec![
        ("api_code".to_owned(), "0102".to_owned()),
        ("custom_auth_code".to_owned(), code.clone()),
        ("custom_auth_token".to_owned(), other.token.expose().to_owned()),
        ("dev_yn".to_owned(), "N".to_owned()),
    ];
    assert_code(&app.post_form("/bizApi/brands", &form).await, "E0009");
}

#[tokio::test]
async fn dev_yn_y_is_accepted_when_the_sandbox_setting_is_on() {
    let settings = Settings { accept_dev: true, ..Settings::default() };
    let app = TestApp::spawn_with(Engine::Sqlite, settings).await.unwrap();
    let mut form = app.auth("0102");
    form[3].1 = "Y".into();
    assert_code(&app.post_form("/bizApi/brands", &form).await, "0000");
}

#[tokio::test]
async fn the_page_size_cap_is_a_setting() {
    let settings = Settings { page_size_cap: 50, ..Settings::default() };
    let app = TestApp::spawn_with(Engine::Sqlite, settings).await.unwrap();
    assert_code(&app.call("/bizApi/goods", "0101", &[("size", "50")]).await, "0000");
    assert_code(&app.call("/bizApi/goods", "0101", &[("size", "51")]).await, "PAG0001");
}

async fn parameters_come_from_query_json_multipart_and_headers(app: &TestApp) {
    let auth = app.auth("0101");
    let get = |k: &str| auth.iter().find(|(n, _)| n == k).unwrap().1.clone();

    // Everything in the query string, empty body.
    let resp = app.client.post(app.url("/bizApi/goods")).query(&auth).query(&[("size", "3")]).send().await.unwrap();
    let v = envelope_of(resp).await;
    assert_code(&v, "0000");
    assert_eq!(v["result"]["goodsList"].as_array().unwrap().len(), 3);

    // A JSON body, numbers as numbers, unknown extras ignored.
    let mut body = serde_json::Map::new();
    for (k, val) in &auth {
        body.insert(k.clone(), val.clone().into());
    }
    body.insert("size".into(), 4.into());
    body.insert("trId".into(), "ignored".into());
    let resp = app.client.post(app.url("/bizApi/goods")).json(&body).send().await.unwrap();
    let v = envelope_of(resp).await;
    assert_code(&v, "0000");
    assert_eq!(v["result"]["goodsList"].as_array().unwrap().len(), 4);

    // multipart/form-data.
    let mut form = reqwest::multipart::Form::new().text("size", "2");
    for (k, val) in &auth {
        form = form.text(k.clone(), val.clone());
    }
    let v = envelope_of(app.client.post(app.url("/bizApi/goods")).multipart(form).send().await.unwrap()).await;
    assert_code(&v, "0000");
    assert_eq!(v["result"]["goodsList"].as_array().unwrap().len(), 2);

    // The four common fields as headers, dev_flag as dev_yn's alias; the body wins over them.
    let resp = app
        .client
        .post(app.url("/bizApi/brands"))
        .header("api_code", "0101")
        .header("custom_auth_code", get("custom_auth_code"))
        .header("custom_auth_token", get("custom_auth_token"))
        .header("dev_flag", "N")
        .form(&[("api_code", "0102")])
        .send()
        .await
        .unwrap();
    assert_code(&envelope_of(resp).await, "0000");

    // An empty value counts as missing.
    let mut form = app.auth("0101");
    form[2].1 = String::new();
    assert_code(&app.post_form("/bizApi/goods", &form).await, "E0012");
}

async fn rotated_tokens_and_grades_apply_at_once(app: &TestApp) {
    assert_code(&app.call("/bizApi/brands", "0102", &[]).await, "0000");
    // As `giftbiz account rotate-token` does, through the database, while the server runs.
    let rotated = operator::rotate_token(app.store.as_ref(), &common::user("acme")).await.unwrap();
    assert_code(&app.call("/bizApi/brands", "0102", &[]).await, "E0009");
    let mut form = app.auth("0102");
    form[2].1 = rotated.token.expose().to_owned();
    assert_code(&app.post_form("/bizApi/brands", &form).await, "0000");
}

async fn transport_errors_leave_as_the_envelope(app: &TestApp) {
    // Unknown path, wrong method, oversized and undecodable bodies: all the envelope, HTTP 200.
    let v = envelope_of(app.client.post(app.url("/bizApi/nope")).send().await.unwrap()).await;
    assert_code(&v, "E0002");
    let v = envelope_of(app.client.post(app.url("/elsewhere")).send().await.unwrap()).await;
    assert_code(&v, "E0002");
    let v = envelope_of(app.client.get(app.url("/bizApi/goods")).send().await.unwrap()).await;
    assert_code(&v, "E0002");
    // A body declared larger than the limit is refused before a byte of it is read ...
    let head = "POST /bizApi/goods HTTP/1.1\r\nhost: t\r\ncontent-type: application/x-www-form-urlencoded\r\n";
    let declared = format!("{head}content-length: {}\r\n\r\n", 2 << 20);
    assert_code(&raw_envelope(&raw_exchange(app, declared.as_bytes()).await), "ERR0201");
    // ... and a chunked one that grows past it is refused once it does. Neither test sends a
    // byte the server will not read: unread bytes at close reset the connection, and a reset
    // can beat the answer to the client.
    let limit = Settings::default().max_body_bytes;
    let mut chunked = format!("{head}transfer-encoding: chunked\r\n\r\n{:x}\r\n", limit + 1).into_bytes();
    chunked.extend(std::iter::repeat_n(b'x', limit + 1));
    assert_code(&raw_envelope(&raw_exchange(app, &chunked).await), "ERR0201");
    let resp = app
        .client
        .post(app.url("/bizApi/goods"))
        .header("content-type", "application/json")
        .body("{\"api_code\": ")
        .send()
        .await
        .unwrap();
    assert_code(&envelope_of(resp).await, "ERR0201");
    let resp = app
        .client
        .post(app.url("/bizApi/goods"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a', b'=', 0xff, 0xfe])
        .send()
        .await
        .unwrap();
    assert_code(&envelope_of(resp).await, "ERR0201");
}
