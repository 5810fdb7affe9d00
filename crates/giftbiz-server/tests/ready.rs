//! `GET /ready`: 200 with its detail while the database answers, has every migration and the
//! jobs run; 503 naming the failing part otherwise (`/health` stays 200: the process lives).

mod common;

use std::sync::Arc;

use common::{run_sql, Engine, TestApp, PG_ENV};
use giftbiz_core::time::ManualClock;
use giftbiz_core::Store;
use giftbiz_server::fault::{FaultProxy, ProxyMode};
use giftbiz_server::{RunningServer, Settings};
use serde_json::Value;

async fn ready(client: &reqwest::Client, base: &str) -> (u16, Value) {
    let resp = client.get(format!("{base}/ready")).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn migrations_and_jobs(engine: Engine) {
    let settings = Settings { delivery_interval_ms: 50, expiry_interval_ms: 60_000, ..Settings::default() };
    let Some(app) = TestApp::spawn_with_worker(engine, settings).await else { return };
    let base = app.server.base_url();
    let (status, v) = ready(&app.client, &base).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "ready");
    assert_eq!(v["failing"], serde_json::json!([]));
    assert_eq!((v["database"]["ok"].as_bool(), v["migrations"]["ok"].as_bool()), (Some(true), Some(true)), "{v}");
    assert_eq!((v["jobs"]["delivery"].as_str(), v["jobs"]["expiry"].as_str()), (Some("running"), Some("running")), "{v}");

    // A migration of this binary's not applied (as after a failed one): not ready, and named.
    run_sql(&app, "UPDATE _sqlx_migrations SET success = false WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)").await;
    let (status, v) = ready(&app.client, &base).await;
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["failing"], serde_json::json!(["migrations"]));
    let latest = v["migrations"]["missing"][0].as_i64().unwrap();
    assert!(latest >= 19, "{v}");
    assert_eq!(app.client.get(format!("{base}/health")).send().await.unwrap().status(), 200);
    run_sql(&app, "UPDATE _sqlx_migrations SET success = true").await;
    assert_eq!(ready(&app.client, &base).await.0, 200);
    app.finish().await;

    // Jobs turned off are not failing: another instance runs them.
    let off = Settings { delivery_interval_ms: 0, expiry_interval_ms: 0, ..Settings::default() };
    let Some(app) = TestApp::spawn_with_worker(engine, off).await else { return };
    let (status, v) = ready(&app.client, &app.server.base_url()).await;
    assert_eq!((status, v["jobs"]["delivery"].as_str(), v["jobs"]["expiry"].as_str()), (200, Some("off"), Some("off")), "{v}");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_ready_names_missing_migrations_and_jobs() {
    migrations_and_jobs(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_ready_names_missing_migrations_and_jobs() {
    migrations_and_jobs(Engine::Postgres).await;
}

/// The database gone (every connection cut, new ones refused): 503 naming it; back: 200
/// again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_is_503_while_postgres_is_gone_and_200_once_it_is_back() {
    let Ok(url) = std::env::var(PG_ENV) else {
        eprintln!("skipped: {PG_ENV} is not set");
        return;
    };
    let proxy = FaultProxy::start(giftbiz_server::fault::url_host_port(&url).unwrap().to_owned()).await.unwrap();
    let schema = common::unique_schema();
    let store: Arc<dyn Store> = Arc::new(
        giftbiz_store_postgres::connect_in_schema(&proxy.url_through(&url).unwrap(), &schema, common::pin_vault()).await.unwrap(),
    );
    let settings = Settings { request_timeout_ms: 3_000, delivery_interval_ms: 0, expiry_interval_ms: 0, ..Settings::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let server = RunningServer::start(store, settings, clock, listener).await.unwrap();
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(20)).build().unwrap();
    let base = server.base_url();
    assert_eq!(ready(&client, &base).await.0, 200);

    proxy.set(ProxyMode::Refuse);
    let (status, v) = ready(&client, &base).await;
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["failing"], serde_json::json!(["database", "migrations"]), "{v}");
    assert_eq!(v["database"]["ok"], false);
    assert_eq!(client.get(format!("{base}/health")).send().await.unwrap().status(), 200);

    proxy.set(ProxyMode::Forward);
    // The first probes may still meet a cut connection; a later one is ready.
    let mut back = false;
    for _ in 0..50 {
        if ready(&client, &base).await.0 == 200 {
            back = true;
            break;
        }
    }
    assert!(back, "ready again once the database is back");
    server.stop().await.unwrap();
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(&mut conn).await.unwrap();
}

/// `metrics_listen`: `/metrics` moves to the admin listener (with `/ready` and `/health`);
/// the main listener no longer serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_listen_moves_metrics_to_the_admin_listener() {
    let settings = Settings { metrics_listen: Some("127.0.0.1:0".into()), ..Settings::default() };
    let app = TestApp::spawn_with(Engine::Sqlite, settings).await.unwrap();
    let admin = format!("http://{}", app.server.admin.as_ref().expect("the admin listener").addr);
    let scraped = app.client.get(format!("{admin}/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("giftbiz_build_info"));
    assert_eq!(ready(&app.client, &admin).await.0, 200);
    // An unknown path there (answered as such, like any other).
    let main = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!main.contains("giftbiz_build_info"), "{main}");
    app.finish().await;
}
