//! One fresh database per test, on each engine: SQLite in a temporary directory always;
//! PostgreSQL in a schema of its own in the database `GIFTBIZ_TEST_DATABASE_URL` names, when it
//! is set (unset: the test says it was skipped and passes; set but unreachable: it fails).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use giftbiz_core::pin_vault::PinVault;
use giftbiz_core::{Store, StoreError};
use sqlx::{Executor, PgPool, SqlitePool};

const URL_VAR: &str = "GIFTBIZ_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Where a test's database lives.
pub enum Place {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Postgres { url: String, schema: String },
}

/// A test's database and a store open on it.
pub struct TestDb {
    pub engine: Engine,
    pub store: Arc<dyn Store>,
    pub place: Place,
}

impl TestDb {
    /// A fresh, migrated, empty database, or `None` (after saying so) for PostgreSQL when the
    /// variable is unset.
    pub async fn new(engine: Engine, test: &str) -> Option<TestDb> {
        let place = match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("giftbiz.db").display());
                Place::Sqlite { _dir: dir, url }
            }
            Engine::Postgres => {
                let Ok(url) = std::env::var(URL_VAR) else {
                    eprintln!("{test}: skipped, {URL_VAR} is not set");
                    return None;
                };
                Place::Postgres { url, schema: unique_schema() }
            }
        };
        let store = place.open().await;
        Some(TestDb { engine, store, place })
    }

    /// Another store on the same database (another server, or the operator CLI).
    pub async fn open(&self) -> Arc<dyn Store> {
        self.place.open().await
    }

    /// A plain connection pool on the database, to do what the store would not.
    pub async fn raw(&self) -> Raw {
        match &self.place {
            Place::Sqlite { url, .. } => Raw::Sqlite(SqlitePool::connect(url).await.unwrap()),
            Place::Postgres { url, schema } => {
                let set_path = format!("SET search_path TO \"{schema}\"");
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .after_connect(move |conn, _| {
                        let set_path = set_path.clone();
                        Box::pin(async move { conn.execute(set_path.as_str()).await.map(drop) })
                    })
                    .connect(url)
                    .await
                    .unwrap();
                Raw::Postgres(pool)
            }
        }
    }

    /// The PostgreSQL database's URL (a PostgreSQL test's only).
    pub fn pg_url(&self) -> &str {
        match &self.place {
            Place::Postgres { url, .. } => url,
            Place::Sqlite { .. } => panic!("not a PostgreSQL database"),
        }
    }

    /// Drops the PostgreSQL schema (left behind, for a look, when a test fails before this).
    pub async fn finish(self) {
        let TestDb { store, place, .. } = self;
        drop(store);
        if let Place::Postgres { url, schema } = place {
            let pool = PgPool::connect(&url).await.unwrap();
            pool.execute(format!("DROP SCHEMA \"{schema}\" CASCADE").as_str()).await.unwrap();
            pool.close().await;
        }
    }
}

impl Place {
    pub async fn open(&self) -> Arc<dyn Store> {
        self.open_with(pin_vault()).await.unwrap_or_else(|e| panic!("cannot open the test database: {e}"))
    }

    /// A store with a PIN key ring of the test's choosing.
    pub async fn open_with(&self, vault: Arc<PinVault>) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match self {
            Place::Sqlite { url, .. } => Arc::new(giftbiz_store_sqlite::connect(url, vault).await?),
            Place::Postgres { url, schema } => Arc::new(giftbiz_store_postgres::connect_in_schema(url, schema, vault).await?),
        })
    }
}

/// The key line of the PIN key ring every store a test process opens (stores on one database
/// share it).
pub fn pin_key_line() -> &'static str {
    static LINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LINE.get_or_init(PinVault::generate_line)
}

pub fn pin_vault() -> Arc<PinVault> {
    static VAULT: std::sync::OnceLock<Arc<PinVault>> = std::sync::OnceLock::new();
    VAULT.get_or_init(|| Arc::new(PinVault::parse(pin_key_line()).unwrap())).clone()
}

/// Unique across processes (pid) and within one (counter); the time tells runs apart.
pub fn unique_schema() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("t_{nanos:x}_{}_{n}", std::process::id())
}

/// Plain SQL on a test's database, beside the store.
pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Raw {
    pub async fn execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Raw::Sqlite(pool) => pool.execute(sql).await.map(drop),
            Raw::Postgres(pool) => pool.execute(sql).await.map(drop),
        }
    }

    pub async fn fetch<T>(&self, sql: &str) -> Vec<T>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        match self {
            Raw::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
            Raw::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        }
    }

    pub async fn close(self) {
        match self {
            Raw::Sqlite(pool) => pool.close().await,
            Raw::Postgres(pool) => pool.close().await,
        }
    }
}

/// `contract!(module::scenario, ...)`: a test per scenario and engine, named
/// `module::scenario::sqlite` and `::postgres`, each on a fresh database.
macro_rules! contract {
    ($($module:ident :: $scenario:ident),* $(,)?) => { $(
        mod $scenario {
            use crate::harness::{Engine, TestDb};

            async fn run(engine: Engine) {
                let Some(db) = TestDb::new(engine, stringify!($scenario)).await else {
                    return;
                };
                crate::$module::$scenario(&db).await;
                db.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                run(Engine::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                run(Engine::Postgres).await;
            }
        }
    )* };
}
pub(crate) use contract;
