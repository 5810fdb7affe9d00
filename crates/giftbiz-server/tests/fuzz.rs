//! Random input against all ten endpoints: arbitrary bytes, forms and JSON of known and unknown
//! parameters with hostile values (control characters, Hangul, huge, empty), under every content
//! type. Whatever arrives, the answer is the envelope with HTTP 200, never a 5xx or a hang, and
//! nothing stored breaks: the ledger still balances. A fixed seed keeps a failure reproducible.

mod common;

use common::TestApp;
use giftbiz_core::Won;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const INPUTS_PER_ENDPOINT: usize = 300;

const ENDPOINTS: [(&str, &str); 10] = [
    ("/bizApi/goods", "0101"),
    ("/bizApi/goods/G00000280811", "0111"),
    ("/bizApi/brands", "0102"),
    ("/bizApi/brands/BR00001", "0112"),
    ("/bizApi/coupons", "0201"),
    ("/bizApi/cancel", "0202"),
    ("/bizApi/resend", "0203"),
    ("/bizApi/send", "0204"),
    ("/bizApi/sendFail/cancel", "0205"),
    ("/bizApi/bizmoney", "0301"),
];

const NAMES: [&str; 18] = [
    "api_code", "custom_auth_code", "custom_auth_token", "dev_yn", "user_id", "tr_id", "goods_code",
    "brand_code", "gubun", "mms_title", "mms_msg", "phone_no", "callback_no", "rev_info_yn",
    "rev_info_date", "rev_info_time", "sms_flag", "start",
];

fn hostile(rng: &mut StdRng) -> String {
    match rng.random_range(0..10) {
        0 => String::new(),
        1 => "\u{0}".repeat(rng.random_range(1..4)),
        2 => "가나다\r\n\u{1b}[2J\u{7}".to_owned(),
        3 => "a".repeat(rng.random_range(15..40)),
        4 => "9".repeat(rng.random_range(1..30)),
        5 => "-1".to_owned(),
        6 => "%zz%00+&=;".to_owned(),
        7 => "😀\u{202e}\u{feff}".to_owned(),
        8 => ["Y", "N", "I", "y", "n"][rng.random_range(0..5)].to_owned(),
        _ => (0..rng.random_range(0..64)).map(|_| char::from(rng.random_range(0x20u8..0x7f))).collect(),
    }
}

fn random_bytes(rng: &mut StdRng) -> Vec<u8> {
    (0..rng.random_range(0..512)).map(|_| rng.random()).collect()
}

/// One random request body and its content type.
fn random_request(rng: &mut StdRng, app: &TestApp, api_code: &str) -> (Option<&'static str>, Vec<u8>) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if rng.random_bool(0.7) {
        pairs.extend(app.auth(api_code));
    }
    for _ in 0..rng.random_range(0..10) {
        let name = if rng.random_bool(0.8) { NAMES[rng.random_range(0..NAMES.len())].to_owned() } else { hostile(rng) };
        pairs.push((name, hostile(rng)));
    }
    match rng.random_range(0..5) {
        0 => (Some("application/x-www-form-urlencoded"), form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish().into_bytes()),
        1 => {
            let obj: serde_json::Map<String, Value> = pairs.into_iter().map(|(k, v)| (k, json!(v))).collect();
            (Some("application/json"), Value::Object(obj).to_string().into_bytes())
        }
        2 => (Some("application/json"), random_bytes(rng)),
        3 => (Some("multipart/form-data; boundary=XyZ"), random_bytes(rng)),
        _ => (None, random_bytes(rng)),
    }
}

async fn random_input_gets_the_envelope(app: &TestApp) {
    giftbiz_server::operator::change_bizmoney(app.store.as_ref(), &common::user("acme"), Won::new(50_000), giftbiz_core::coupon::LedgerReason::Charge, "fuzz")
        .await
        .unwrap();
    let mut rng = StdRng::seed_from_u64(0x6769_6674);
    let mut inputs = 0;
    for (path, api_code) in ENDPOINTS {
        for _ in 0..INPUTS_PER_ENDPOINT {
            let (content_type, body) = random_request(&mut rng, app, api_code);
            let mut req = app.client.post(app.url(path)).body(body.clone());
            if let Some(ct) = content_type {
                req = req.header("content-type", ct);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let text = resp.text().await.unwrap();
            assert_eq!(status, 200, "{path} with {content_type:?} {:?}: {text}", String::from_utf8_lossy(&body));
            let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"));
            assert!(v["code"].is_string() && v.get("message").is_some(), "{path}: {text}");
            assert_ne!(v["code"], "E9999", "{path} with {content_type:?} {:?}: {text}", String::from_utf8_lossy(&body));
            inputs += 1;
        }
    }
    let entries = app.store.ledger(app.account.account.id).await.unwrap();
    let sum: Won = entries.iter().map(|e| e.amount).sum();
    assert_eq!(app.store.bizmoney_balance(app.account.account.id).await.unwrap(), sum);
    eprintln!("{inputs} random inputs over the ten endpoints: every one answered with the envelope, none E9999");
}

both_engines!(random_input_gets_the_envelope);
