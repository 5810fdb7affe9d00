//! The real giftbiz server on a loopback port over a fresh SQLite file, seeded with the demo
//! catalog, and an SDK client for one of its accounts.
#![allow(dead_code)]

use std::sync::Arc;

use giftbiz_client::{Client, Config, Credentials};
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::time::SystemClock;
use giftbiz_core::{Grade, Store};
use giftbiz_server::operator::{self, IssuedAccount};
use giftbiz_server::{RunningServer, Settings};

pub const USER_ID: &str = "acme";

pub struct Server {
    pub server: RunningServer,
    pub store: Arc<dyn Store>,
    pub account: IssuedAccount,
    /// The database and the log gateway's file.
    _dir: tempfile::TempDir,
}

impl Server {
    /// The server with its own delivery worker (every 50 ms, into a log file), and an account
    /// `acme` of `grade` holding `bizmoney` KRW.
    pub async fn start(grade: Grade, bizmoney: i64) -> Server {
        Server::start_with(grade, bizmoney, false, "127.0.0.1:0").await
    }

    /// [`Server::start`] on a given address (a port the test kept free until now).
    pub async fn start_at(grade: Grade, bizmoney: i64, addr: &str) -> Server {
        Server::start_with(grade, bizmoney, false, addr).await
    }

    /// [`Server::start`] with the sandbox's faults on (tr_id prefixes `FD_`, `FW<N>_`, `FE_`,
    /// `FG_`).
    pub async fn start_sandbox(grade: Grade, bizmoney: i64) -> Server {
        Server::start_with(grade, bizmoney, true, "127.0.0.1:0").await
    }

    async fn start_with(grade: Grade, bizmoney: i64, sandbox: bool, addr: &str) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("giftbiz.db").display());
        let store: Arc<dyn Store> = Arc::new(giftbiz_store_sqlite::connect(&url, Arc::new(giftbiz_core::pin_vault::PinVault::ephemeral())).await.expect("open sqlite"));
        operator::seed_demo(store.as_ref()).await.expect("seed demo");
        let account = operator::create_account(store.as_ref(), &user(USER_ID), grade).await.expect("account");
        if bizmoney > 0 {
            operator::change_bizmoney(store.as_ref(), &user(USER_ID), giftbiz_core::Won::new(bizmoney), LedgerReason::Charge, "test").await.unwrap();
        }
        let settings = Settings {
            public_url: None,
            gateway_log_path: dir.path().join("messages.jsonl").display().to_string(),
            delivery_interval_ms: 50,
            expiry_interval_ms: 0,
            sandbox,
            admin_token: sandbox.then(|| "test-admin-token".into()),
            ..Settings::default()
        };
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let server = RunningServer::start(store.clone(), settings, Arc::new(SystemClock), listener).await.expect("start");
        Server { server, store, account, _dir: dir }
    }

    pub fn base_url(&self) -> String {
        format!("{}/bizApi", self.server.base_url())
    }

    pub fn credentials(&self) -> Credentials {
        Credentials::new(self.account.account.auth_code.clone(), self.account.token.expose(), USER_ID)
    }

    pub fn config(&self) -> Config {
        Config::new(self.credentials()).with_base_url(self.base_url())
    }

    pub fn client(&self) -> Client {
        Client::new(self.config()).expect("client")
    }

    /// A client of this server with other credentials.
    pub fn client_as(&self, credentials: Credentials) -> Client {
        Client::new(Config { credentials, ..self.config() }).expect("client")
    }

    pub async fn stop(self) {
        self.server.stop().await.expect("server stops cleanly");
    }
}

/// A user id known to be one.
pub fn user(raw: &str) -> giftbiz_core::UserId {
    giftbiz_core::UserId::parse(raw).expect("a user id")
}
