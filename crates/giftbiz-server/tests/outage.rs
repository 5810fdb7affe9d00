//! PostgreSQL going away under the server: the database is reached through the fault proxy
//! (`giftbiz_server::fault`), which forwards, refuses (every connection cut, new ones closed at
//! once: the database down or its backends terminated) or stalls (bytes held, nothing answered). While it
//! is away every call is answered `E9999` and `/health` stays up; once it is back the server
//! recovers by itself, and the money rules hold with every `0000` send in place.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::PG_ENV;
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::time::ManualClock;
use giftbiz_core::Store;
use giftbiz_server::{invariants, operator, RunningServer, Settings};
use serde_json::Value;
use giftbiz_server::fault::{FaultProxy, ProxyMode};
use tokio::net::TcpListener;

struct App {
    server: RunningServer,
    store: Arc<dyn Store>,
    account: operator::IssuedAccount,
    http: reqwest::Client,
}

impl App {
    async fn call(&self, path: &str, api_code: &str, extra: &[(&str, &str)]) -> Value {
        let mut form = vec![
            ("api_code", api_code),
            ("custom_auth_code", self.account.account.auth_code.as_str()),
            ("custom_auth_token", self.account.token.expose()),
            ("dev_yn", "N"),
        ];
        form.extend_from_slice(extra);
        let resp = self.http.post(format!("{}{path}", self.server.base_url())).form(&form).send().await;
        let resp = resp.expect("an answer within the request deadline");
        common::envelope_of(resp).await
    }

    async fn send(&self, goods: &str, tr_id: &str) -> String {
        let v = self.call("/bizApi/send", "0204", &common::send_params(goods, tr_id, "Y", &[("user_id", "acme")])).await;
        match (v["code"].as_str(), v["result"]["code"].as_str()) {
            (Some("0000"), Some(inner)) => inner.to_owned(),
            (Some(code), _) => code.to_owned(),
            _ => panic!("not an envelope: {v}"),
        }
    }

    async fn health(&self) -> u16 {
        self.http.get(format!("{}/health", self.server.base_url())).send().await.expect("health answers").status().as_u16()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_rides_out_a_postgres_outage_and_a_stall() {
    let Ok(url) = std::env::var(PG_ENV) else {
        eprintln!("skipped: {PG_ENV} is not set");
        return;
    };
    let upstream = giftbiz_server::fault::url_host_port(&url).unwrap().to_owned();
    let proxy = FaultProxy::start(upstream).await.unwrap();
    let proxied = proxy.url_through(&url).unwrap();
    let schema = common::unique_schema();
    let store: Arc<dyn Store> =
        Arc::new(giftbiz_store_postgres::connect_in_schema(&proxied, &schema, common::pin_vault()).await.expect("connect"));
    operator::seed_demo(store.as_ref()).await.unwrap();
    let account = operator::create_account(store.as_ref(), &common::user("acme"), giftbiz_core::Grade::Basic).await.unwrap();
    operator::change_bizmoney(store.as_ref(), &common::user("acme"), giftbiz_core::Won::new(1_000_000), LedgerReason::Charge, "t")
        .await
        .unwrap();
    // A short request deadline: a stalled database is answered at it.
    let settings = Settings { request_timeout_ms: 3_000, delivery_interval_ms: 0, expiry_interval_ms: 0, ..Settings::default() };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let server = RunningServer::start(store.clone(), settings, clock, listener).await.unwrap();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let app = App { server, store: store.clone(), account, http };
    let goods = {
        let v = app.call("/bizApi/goods", "0101", &[("size", "50")]).await;
        let g = v["result"]["goodsList"].as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SALE").unwrap().clone();
        g["goodsCode"].as_str().unwrap().to_owned()
    };

    let mut acked = Vec::new();
    for i in 0..5 {
        let tr_id = format!("ok{i}");
        assert_eq!(app.send(&goods, &tr_id).await, "0000");
        acked.push(tr_id);
    }
    for (round, outage) in [ProxyMode::Refuse, ProxyMode::Stall, ProxyMode::Refuse].into_iter().enumerate() {
        proxy.set(outage);
        for i in 0..3 {
            let tr_id = format!("out{round}_{i}");
            let code = app.send(&goods, &tr_id).await;
            assert_eq!(code, "E9999", "{outage:?}: a send while the database is away");
        }
        assert_eq!(app.health().await, 200, "{outage:?}: /health stays up");
        proxy.set(ProxyMode::Forward);
        // Back by itself: the first sends may still meet a cut connection; a later one passes.
        let mut recovered = false;
        for i in 0..50 {
            let tr_id = format!("back{round}_{i}");
            if app.send(&goods, &tr_id).await == "0000" {
                acked.push(tr_id);
                recovered = true;
                break;
            }
        }
        assert!(recovered, "{outage:?}: sends succeed again without a restart");
    }

    let report = invariants::check(app.store.as_ref()).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    for tr_id in &acked {
        let coupon = app.store.coupon_by_tr_id(app.account.account.id, &common::tr(tr_id)).await.unwrap();
        assert!(coupon.is_some(), "{tr_id} was answered 0000");
    }
    app.server.stop().await.unwrap();
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(&mut conn).await.unwrap();
}
