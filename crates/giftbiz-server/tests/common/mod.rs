//! The test harness: the real server on a loopback port over a fresh database, SQLite (a file in
//! a temporary directory) or PostgreSQL (a schema of its own in GIFTBIZ_TEST_DATABASE_URL).
#![allow(dead_code)]

pub mod console;

use std::sync::Arc;

use giftbiz_core::time::ManualClock;
use giftbiz_core::{Grade, Store};
use giftbiz_server::delivery::{Gateway, LogGateway};
use giftbiz_server::jobs::delivery::DeliveryWorker;
use giftbiz_server::operator::{self, IssuedAccount};
use giftbiz_server::{RunningServer, Settings};
use serde_json::Value;

pub const PG_ENV: &str = "GIFTBIZ_TEST_DATABASE_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// What a test's database leaves behind: a temporary directory (SQLite, removed on drop) or a
/// schema (PostgreSQL, dropped by `TestApp::finish` when the test passes).
pub enum Scratch {
    Dir(tempfile::TempDir),
    Schema { url: String, schema: String },
}

/// A fresh, migrated, empty store. `None` only for PostgreSQL when GIFTBIZ_TEST_DATABASE_URL is
/// unset (the test then says it was skipped); set but unreachable is a failure.
pub async fn fresh_store(engine: Engine) -> Option<(Arc<dyn Store>, Scratch)> {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("giftbiz.db").display());
            let store = giftbiz_store_sqlite::connect(&url, pin_vault()).await.expect("open sqlite");
            Some((Arc::new(store), Scratch::Dir(dir)))
        }
        Engine::Postgres => {
            let Ok(url) = std::env::var(PG_ENV) else {
                eprintln!("skipped: {PG_ENV} is not set");
                return None;
            };
            let schema = unique_schema();
            let store = giftbiz_store_postgres::connect_in_schema(&url, &schema, pin_vault())
                .await
                .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unusable: {e}"));
            Some((Arc::new(store), Scratch::Schema { url, schema }))
        }
    }
}

/// The PIN key ring of every store a test process opens (stores on one database share it).
pub fn pin_vault() -> Arc<giftbiz_core::pin_vault::PinVault> {
    static VAULT: std::sync::OnceLock<Arc<giftbiz_core::pin_vault::PinVault>> = std::sync::OnceLock::new();
    VAULT.get_or_init(|| Arc::new(giftbiz_core::pin_vault::PinVault::ephemeral())).clone()
}

pub fn unique_schema() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("t_{}_{}_{}", std::process::id(), nanos, N.fetch_add(1, Ordering::Relaxed))
}

pub struct TestApp {
    pub server: RunningServer,
    /// The server's clock: tests move it instead of sleeping.
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    pub account: IssuedAccount,
    scratch: Scratch,
    /// Holds the log gateway's file.
    log_dir: tempfile::TempDir,
}

impl TestApp {
    /// The server over a fresh store seeded with the demo catalog, and a basic-grade account.
    pub async fn spawn(engine: Engine) -> Option<TestApp> {
        TestApp::spawn_with(engine, Settings::default()).await
    }

    /// Tests deliver messages themselves (`worker(..).run_once()`), so the server runs no
    /// delivery worker of its own.
    pub async fn spawn_with(engine: Engine, settings: Settings) -> Option<TestApp> {
        TestApp::spawn_with_worker(engine, Settings { delivery_interval_ms: 0, ..settings }).await
    }

    /// As `settings` say, the server's own delivery worker included (unless its interval is 0).
    pub async fn spawn_with_worker(engine: Engine, settings: Settings) -> Option<TestApp> {
        let (store, scratch) = fresh_store(engine).await?;
        operator::seed_demo(store.as_ref()).await.expect("seed demo");
        let account = operator::create_account(store.as_ref(), &user("acme"), Grade::Basic).await.expect("account");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let log_dir = tempfile::tempdir().expect("temp dir");
        let log_path = log_dir.path().join("messages.jsonl").display().to_string();
        let settings = Settings { public_url: None, gateway_log_path: log_path, ..settings };
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let server = RunningServer::start(store.clone(), settings, clock.clone(), listener).await.expect("start server");
        Some(TestApp { server, clock, store, client: reqwest::Client::new(), account, scratch, log_dir })
    }

    /// A delivery worker (with a fresh id) on the server's store, clock and settings.
    pub fn worker(&self, gateway: Arc<dyn Gateway>) -> DeliveryWorker {
        DeliveryWorker::new(self.store.clone(), gateway, self.clock.clone(), self.server.state.settings.clone())
    }

    /// The server's configured `log` gateway file.
    pub fn log_path(&self) -> std::path::PathBuf {
        self.log_dir.path().join("messages.jsonl")
    }

    pub fn log_gateway(&self) -> Arc<dyn Gateway> {
        Arc::new(LogGateway::new(self.log_path()))
    }

    /// The SQLite database's URL (`None` on PostgreSQL).
    pub fn sqlite_url(&self) -> Option<String> {
        match &self.scratch {
            Scratch::Dir(dir) => Some(format!("sqlite://{}", dir.path().join("giftbiz.db").display())),
            Scratch::Schema { .. } => None,
        }
    }

    /// The PostgreSQL test schema (`None` on SQLite).
    pub fn pg_schema(&self) -> Option<&str> {
        match &self.scratch {
            Scratch::Schema { schema, .. } => Some(schema),
            Scratch::Dir(_) => None,
        }
    }

    /// How many rows `table` of the server's database holds (to show what a refusal did not
    /// write).
    pub async fn rows_in(&self, table: &str) -> i64 {
        use sqlx::Connection;
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match &self.scratch {
            Scratch::Dir(_) => {
                let url = self.sqlite_url().unwrap();
                let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("open sqlite");
                sqlx::query_scalar(&sql).fetch_one(&mut conn).await.expect("count")
            }
            Scratch::Schema { url, schema } => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query(&format!("SET search_path TO \"{schema}\"")).execute(&mut conn).await.expect("schema");
                sqlx::query_scalar(&sql).fetch_one(&mut conn).await.expect("count")
            }
        }
    }

    /// Stops the server and drops a PostgreSQL test schema (a failed test keeps its schema for
    /// a look).
    pub async fn finish(self) {
        self.server.stop().await.expect("server stops cleanly");
        if let Scratch::Schema { url, schema } = &self.scratch {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect to drop the schema");
            sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(&mut conn).await.expect("drop schema");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// The four common fields for `api_code`, as the account's own.
    pub fn auth(&self, api_code: &str) -> Vec<(String, String)> {
        vec![
            ("api_code".into(), api_code.into()),
            ("custom_auth_code".into(), self.account.account.auth_code.clone()),
            ("custom_auth_token".into(), self.account.token.expose().to_owned()),
            ("dev_yn".into(), "N".into()),
        ]
    }

    /// POSTs an urlencoded form, checks the transport contract (HTTP 200, JSON UTF-8) and
    /// returns the body.
    pub async fn post_form(&self, path: &str, form: &[(String, String)]) -> Value {
        let resp = self.client.post(self.url(path)).form(form).send().await.expect("request");
        envelope_of(resp).await
    }

    /// Calls `path` with the common fields for `api_code` plus `extra`.
    pub async fn call(&self, path: &str, api_code: &str, extra: &[(&str, &str)]) -> Value {
        let mut form = self.auth(api_code);
        form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.post_form(path, &form).await
    }
}

/// Writes `request` on a fresh connection as raw bytes and reads the answer to its end: for
/// requests no well-behaved client library sends (a body that stops short of its declared
/// length), so the test controls exactly what reaches the server.
pub async fn raw_exchange(app: &TestApp, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(app.server.addr).await.expect("connect");
    conn.write_all(request).await.expect("write request");
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.expect("read answer");
    String::from_utf8(answer).expect("UTF-8 answer")
}

/// The JSON body of a raw HTTP/1.1 answer (see [`raw_exchange`]), after checking it is HTTP 200.
pub fn raw_envelope(answer: &str) -> Value {
    assert!(answer.starts_with("HTTP/1.1 200"), "API answers are always HTTP 200: {answer}");
    let (_, body) = answer.split_once("\r\n\r\n").expect("head and body");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON body ({e}) in {answer}"))
}

/// Every API answer is HTTP 200 with `application/json;charset=UTF-8` and the three envelope
/// keys.
pub async fn envelope_of(resp: reqwest::Response) -> Value {
    assert_eq!(resp.status(), 200, "API answers are always HTTP 200");
    let ct = resp.headers().get("content-type").expect("content-type").to_str().unwrap().to_owned();
    assert_eq!(ct, "application/json;charset=UTF-8");
    let v: Value = resp.json().await.expect("JSON body");
    assert!(v.get("code").is_some() && v.get("message").is_some(), "envelope keys in {v}");
    v
}

/// Asserts an error envelope with `code`.
#[track_caller]
pub fn assert_code(v: &Value, code: &str) {
    assert_eq!(v["code"], code, "expected {code} in {v}");
    if code != "0000" {
        assert!(v["message"].is_string(), "error message in {v}");
        assert!(v["result"].is_null(), "no result on error in {v}");
    }
}

/// Generates one `#[tokio::test]` per engine for each scenario function `async fn(&TestApp)`.
#[macro_export]
macro_rules! both_engines {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if let Some(app) = $crate::common::TestApp::spawn($crate::common::Engine::Sqlite).await {
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
                    if let Some(app) = $crate::common::TestApp::spawn($crate::common::Engine::Postgres).await {
                        super::$scenario(&app).await;
                        app.finish().await;
                    }
                }
            )*
        }
    };
}

/// A tr_id the tests know to be valid.
#[allow(dead_code)] // not every test binary asks a store for a coupon
pub fn tr(raw: &str) -> giftbiz_core::send::TrId {
    giftbiz_core::send::TrId::parse(raw, giftbiz_core::send::TrId::SPEC_MAX_LEN).expect("a valid tr_id")
}

/// The recipient every test send goes to.
#[allow(dead_code)]
pub const PHONE: &str = "01012345678";

/// The parameters of a 0204 send by `acme` (without the common fields); `extra` overrides or
/// adds parameters.
#[allow(dead_code)]
pub fn send_params<'a>(goods: &'a str, tr_id: &'a str, gubun: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("goods_code", goods),
        ("mms_msg", "감사합니다. 선물이 도착했습니다."),
        ("mms_title", "선물 도착"),
        ("callback_no", "15880108"),
        ("phone_no", PHONE),
        ("tr_id", tr_id),
        ("user_id", "acme"),
        ("gubun", gubun),
    ];
    for &(k, v) in extra {
        match params.iter_mut().find(|(name, _)| *name == k) {
            Some(slot) => slot.1 = v,
            None => params.push((k, v)),
        }
    }
    params
}

/// A user id known to be one.
pub fn user(raw: &str) -> giftbiz_core::UserId {
    giftbiz_core::UserId::parse(raw).expect("a user id")
}

/// Runs `sql` on a connection of its own to the app's database (another writer than the
/// server's store).
pub async fn run_sql(app: &TestApp, sql: &str) {
    use sqlx::Connection;
    match app.sqlite_url() {
        Some(url) => {
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        None => {
            let url = std::env::var(PG_ENV).unwrap();
            let search = app.pg_schema().unwrap();
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(&format!("SET search_path TO \"{search}\"")).execute(&mut conn).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
    }
}
