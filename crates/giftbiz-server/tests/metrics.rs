//! `/metrics` after a known sequence of calls: every counter and histogram moves by exactly
//! what the calls did, the ledger's won included, and label sets stay bounded whatever tr_ids
//! clients use. One test runs both engines in turn: the recorder is the process's, so nothing
//! else in this binary may record at the same time.

mod common;

use std::collections::BTreeMap;

use common::{Engine, TestApp};
use giftbiz_core::coupon::LedgerReason;
use giftbiz_server::{operator, Settings};
use serde_json::{json, Value};

/// The exposition as series (`name{labels}`, labels as rendered) → value.
fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("a sample line: {l}"));
            (series.to_owned(), value.parse().unwrap_or_else(|_| panic!("a number in {l}")))
        })
        .collect()
}

struct Scrape(BTreeMap<String, f64>);

impl Scrape {
    async fn of(app: &TestApp) -> Scrape {
        let resp = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        Scrape(parse(&resp.text().await.unwrap()))
    }

    /// The sample of `name` with exactly these labels (in any order), 0 when absent.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut want: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        want.sort();
        self.0
            .iter()
            .find(|(series, _)| {
                let (n, rest) = series.split_once('{').map_or((series.as_str(), ""), |(n, r)| (n, r.trim_end_matches('}')));
                let mut have: Vec<String> = if rest.is_empty() { Vec::new() } else { rest.split(',').map(str::to_owned).collect() };
                have.sort();
                n == name && have == want
            })
            .map_or(0.0, |(_, v)| *v)
    }
}

/// A series (name and labels) and how much it must have moved.
type Moved<'a> = (&'a str, &'a [(&'a str, &'a str)], f64);

/// How much each series of `expect` moved from `before` to `after`, checked exactly.
#[track_caller]
fn assert_moved(before: &Scrape, after: &Scrape, expect: &[Moved<'_>]) {
    for (name, labels, delta) in expect {
        let moved = after.get(name, labels) - before.get(name, labels);
        assert_eq!(moved, *delta, "{name}{labels:?} moved by {moved}, not {delta}");
    }
}

async fn goods_on_sale(app: &TestApp) -> (String, String, i64) {
    let v = app.call("/bizApi/goods", "0101", &[("size", "500")]).await;
    let g = v["result"]["goodsList"].as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SALE").unwrap().clone();
    (g["goodsCode"].as_str().unwrap().to_owned(), g["brandCode"].as_str().unwrap().to_owned(), g["discountPrice"].as_i64().unwrap())
}

async fn send(app: &TestApp, goods: &str, tr_id: &str, gubun: &str) -> Value {
    let v = app.call("/bizApi/send", "0204", &common::send_params(goods, tr_id, gubun, &[])).await;
    assert_eq!(v["result"]["code"], "0000", "{v}");
    v
}

async fn known_sequence(engine: Engine) {
    let settings = Settings { metrics_cache_ms: 0, expiry_interval_ms: 0, ..Settings::default() };
    let Some(app) = TestApp::spawn_with(engine, settings).await else { return };
    let (goods, brand, price) = goods_on_sale(&app).await;
    let before = Scrape::of(&app).await;

    for _ in 0..3 {
        assert_eq!(app.call("/bizApi/goods", "0101", &[("size", "5")]).await["code"], "0000");
    }
    let mut wrong = app.auth("0301");
    wrong[2].1 = "not-the-token".into();
    let refused = app.post_form("/bizApi/bizmoney", &wrong).await;
    let refused_code = refused["code"].as_str().unwrap().to_owned();
    assert_ne!(refused_code, "0000");
    let nowhere = app.call("/bizApi/nowhere", "0101", &[]).await;
    let nowhere_code = nowhere["code"].as_str().unwrap().to_owned();

    operator::change_bizmoney(app.store.as_ref(), &common::user("acme"), giftbiz_core::Won::new(100_000), LedgerReason::Charge, "t")
        .await
        .unwrap();
    let pin = send(&app, &goods, "m_1", "Y").await["result"]["result"]["pinNo"].as_str().unwrap().to_owned();
    send(&app, &goods, "m_2", "Y").await;
    send(&app, &goods, "m_3", "N").await;
    assert_eq!(app.call("/bizApi/cancel", "0202", &[("tr_id", "m_2"), ("user_id", "acme")]).await["code"], "0000");
    let mid = Scrape::of(&app).await;
    assert_eq!(mid.get("giftbiz_outbox_pending", &[]), 1.0, "the MMS waits for delivery");
    assert!(app.worker(app.log_gateway()).run_once().await == 1);

    let partner = operator::create_partner(app.store.as_ref(), "카페 본점", &brand).await.unwrap();
    let redeem = |token: String| {
        app.client
            .post(app.url("/partner/v1/coupons/redeem"))
            .header("X-Partner-Code", partner.partner.partner_code.clone())
            .bearer_auth(token)
            .json(&json!({ "pin": pin }))
            .send()
    };
    assert_eq!(redeem(partner.token.expose().to_owned()).await.unwrap().status(), 200);
    assert_eq!(redeem("wrong-token-wrong-token".into()).await.unwrap().status(), 401);

    let after = Scrape::of(&app).await;
    let sqlite = if engine == Engine::Sqlite { 1.0 } else { 0.0 };
    assert_moved(
        &before,
        &after,
        &[
            ("giftbiz_api_requests_total", &[("api_code", "0101"), ("code", "0000")], 3.0),
            ("giftbiz_api_requests_total", &[("api_code", "0301"), ("code", &refused_code)], 1.0),
            ("giftbiz_api_requests_total", &[("api_code", "unknown"), ("code", &nowhere_code)], 1.0),
            ("giftbiz_api_requests_total", &[("api_code", "0204"), ("code", "0000")], 3.0),
            ("giftbiz_api_requests_total", &[("api_code", "0202"), ("code", "0000")], 1.0),
            ("giftbiz_api_request_duration_seconds_count", &[("api_code", "0204")], 3.0),
            ("giftbiz_api_request_duration_seconds_count", &[("api_code", "0101")], 3.0),
            ("giftbiz_coupons_issued_total", &[("gubun", "Y")], 2.0),
            ("giftbiz_coupons_issued_total", &[("gubun", "N")], 1.0),
            ("giftbiz_coupons_cancelled_total", &[("kind", "0202")], 1.0),
            ("giftbiz_bizmoney_won_total", &[("direction", "charged_by_operators")], 100_000.0),
            ("giftbiz_bizmoney_won_total", &[("direction", "charged_by_sends")], 3.0 * price as f64),
            ("giftbiz_bizmoney_won_total", &[("direction", "refunded")], price as f64),
            ("giftbiz_bizmoney_won_total", &[("direction", "taken_by_operators")], 0.0),
            ("giftbiz_delivery_attempts_total", &[("outcome", "delivered")], 1.0),
            ("giftbiz_delivery_attempts_total", &[("outcome", "retry")], 0.0),
            ("giftbiz_partner_requests_total", &[("action", "redeem"), ("outcome", "ok")], 1.0),
            ("giftbiz_partner_requests_total", &[("action", "redeem"), ("outcome", "unauthorized")], 1.0),
            ("giftbiz_db_query_duration_seconds_count", &[("op", "issue")], 3.0),
            ("giftbiz_db_query_duration_seconds_count", &[("op", "cancel")], 1.0),
            // One send at a time: one commit each.
            ("giftbiz_sqlite_group_commit_batch_size_count", &[], 3.0 * sqlite),
            ("giftbiz_sqlite_group_commit_batch_size_sum", &[], 3.0 * sqlite),
        ],
    );
    assert_eq!(after.get("giftbiz_outbox_pending", &[]), 0.0);
    assert_eq!(after.get("giftbiz_outbox_oldest_pending_seconds", &[]), 0.0);
    // acme, under 100,000 won after its sends; the demo account is not.
    assert_eq!(after.get("giftbiz_accounts_low_balance", &[]), 1.0);
    assert!(after.get("giftbiz_db_pool_connections", &[("state", "max")]) >= 1.0);
    assert_eq!(after.get("giftbiz_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), 1.0);

    // The dashboard and the alert rules name only metrics the server exposes.
    if engine == Engine::Sqlite {
        let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        let families: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).filter_map(|l| l.split(' ').next()).collect();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ops");
        for file in ["grafana/giftbiz-dashboard.json", "prometheus/alerts.yml"] {
            let source = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
            for (at, _) in source.match_indices("giftbiz_") {
                let name: String = source[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                let family = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(&name);
                if name.starts_with("giftbiz_") && name != "giftbiz_" && !name.starts_with("giftbiz-") {
                    assert!(families.contains(&family), "{file} names {name}, which /metrics does not expose");
                }
            }
        }
    }

    // 1,000 distinct tr_ids add no series: labels name operations and codes, never a value a
    // client chose, nor a phone number or a PIN.
    let app_ref = &app;
    let lookup = |i: usize| async move {
        let tr_id = format!("unknown_{i}");
        app_ref.call("/bizApi/coupons", "0201", &[("tr_id", tr_id.as_str()), ("user_id", "acme")]).await
    };
    let unknown_code = lookup(0).await["code"].as_str().unwrap().to_owned();
    let settled = Scrape::of(&app).await;
    for i in 1..1000 {
        lookup(i).await;
    }
    let wide = Scrape::of(&app).await;
    let series = |s: &Scrape| s.0.keys().cloned().collect::<Vec<_>>();
    assert_eq!(series(&wide), series(&settled), "no new series");
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for secret in ["unknown_", "m_1", common::PHONE, pin.as_str(), "acme"] {
        assert!(!text.contains(secret), "{secret} in the exposition");
    }
    let counted = wide.get("giftbiz_api_requests_total", &[("api_code", "0201"), ("code", &unknown_code)])
        - before.get("giftbiz_api_requests_total", &[("api_code", "0201"), ("code", &unknown_code)]);
    assert_eq!(counted, 1000.0, "every lookup counted under its code");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_by_exactly_what_the_calls_did_on_both_engines() {
    known_sequence(Engine::Sqlite).await;
    known_sequence(Engine::Postgres).await;
}
