//! `giftbiz bench send`: 0204 (gubun Y) over HTTP at 1, 4 and 16 connections, each beside the
//! commit rate of the transaction a send boils down to (claim a unique tr_id, append a ledger
//! row, update the balance), run directly against the same database in the same run. The raw
//! rate is the physical limit of one-transaction-per-send on this machine.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::Grade;
use giftbiz_server::demo::catalog::{demo_catalog, DEMO_GOODS};
use giftbiz_server::{db, operator};
use sqlx::{Connection, Executor};

use super::harness::{ChildServer, Summary};

const CONNECTIONS: [usize; 3] = [1, 4, 16];

pub async fn run(database: Option<String>, phase: Duration, rounds: usize, json: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = database.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let settings = super::harness::bench_settings(&url)?;
    let store = db::open_store(&settings).await?;
    if store.all_goods().await?.is_empty() {
        let (brands, goods) = demo_catalog(DEMO_GOODS);
        store.upsert_catalog(&brands, &goods).await?;
    }
    let goods_code = store.all_goods().await?.into_iter().find(|g| g.state == giftbiz_core::GoodsState::Sale).unwrap().goods_code;
    let user = giftbiz_core::UserId::parse(&format!("bench{}", std::process::id()))?;
    let issued = operator::create_account(store.as_ref(), &user, Grade::Basic).await?;
    operator::change_bizmoney(store.as_ref(), &user, giftbiz_core::Won::new(1_000_000_000_000), LedgerReason::Charge, "bench").await?;
    drop(store);

    let server = ChildServer::start(&settings).await?;
    let form = Arc::new(vec![
        ("api_code".to_owned(), "0204".to_owned()),
        ("custom_auth_code".to_owned(), issued.account.auth_code.clone()),
        ("custom_auth_token".to_owned(), issued.token.expose().to_owned()),
        ("dev_yn".to_owned(), "N".to_owned()),
        ("user_id".to_owned(), user.to_string()),
        ("goods_code".to_owned(), String::from(goods_code)),
        ("gubun".to_owned(), "Y".to_owned()),
        ("phone_no".to_owned(), "01012345678".to_owned()),
        ("callback_no".to_owned(), "15880108".to_owned()),
        ("mms_title".to_owned(), "선물 도착".to_owned()),
        ("mms_msg".to_owned(), "감사합니다".to_owned()),
    ]);
    let client = super::harness::plain_http(16)?;
    let raw = RawTx::prepare(&url).await?;

    let engine = super::harness::engine_of(&url);
    let mut figures = super::harness::Rounds::default();
    for round in 1..=rounds {
        let mut rows = Vec::new();
        for &c in &CONNECTIONS {
            let sends = drive_sends(&client, &server.base, &form, c, phase).await?;
            let raw_rate = raw.run(c, phase).await?;
            rows.push((c, sends, raw_rate));
        }
        println!("\n0204 send (gubun Y) on {engine}, {} s per phase, round {round}", phase.as_secs());
        println!("{:<6} {:>10} {:>9} {:>9} {:>14} {:>8}", "conns", "sends/s", "p50 ms", "p99 ms", "raw tx/s", "ratio");
        for (c, s, raw_rate) in rows {
            println!(
                "{c:<6} {:>10.0} {:>9.2} {:>9.2} {:>14.0} {:>7.0}%",
                s.rps,
                s.p50_ms,
                s.p99_ms,
                raw_rate,
                100.0 * s.rps / raw_rate
            );
            figures.add(format!("sends_rps_{c}"), s.rps);
            figures.add(format!("raw_tps_{c}"), raw_rate);
            figures.add(format!("sends_vs_raw_{c}"), s.rps / raw_rate);
            figures.add(format!("send_p99_ms_{c}"), s.p99_ms);
        }
    }
    server.stop();
    raw.cleanup().await?;
    figures.report("0204 send", "send", engine, json);
    Ok(())
}

/// `connections` workers send back to back, each tr_id new.
pub(super) async fn drive_sends(
    client: &reqwest::Client,
    base: &str,
    form: &Arc<Vec<(String, String)>>,
    connections: usize,
    phase: Duration,
) -> anyhow::Result<Summary> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let run = std::process::id();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, form) = (client.clone(), format!("{base}/bizApi/send"), form.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while started.elapsed() < phase {
                let tr_id = format!("b{run}_{}", SEQ.fetch_add(1, Ordering::Relaxed));
                let t = Instant::now();
                let body = client.post(&url).form(&*form).query(&[("tr_id", &tr_id)]).send().await?.bytes().await?;
                anyhow::ensure!(body.starts_with(b"{\"code\":\"0000\""), "send failed: {}", String::from_utf8_lossy(&body));
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(Summary::of(all, started.elapsed()))
}

/// The raw three-statement transaction on tables of its own in the same database.
enum RawTx {
    Sqlite(String),
    Postgres(String),
}

impl RawTx {
    async fn prepare(url: &str) -> anyhow::Result<RawTx> {
        let raw = if url.starts_with("sqlite:") { RawTx::Sqlite(url.to_owned()) } else { RawTx::Postgres(url.to_owned()) };
        let ddl = [
            "DROP TABLE IF EXISTS bench_tr",
            "DROP TABLE IF EXISTS bench_ledger",
            "DROP TABLE IF EXISTS bench_balance",
            "CREATE TABLE bench_tr (tr_id TEXT PRIMARY KEY)",
            "CREATE TABLE bench_ledger (id BIGINT, amount BIGINT NOT NULL)",
            "CREATE TABLE bench_balance (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)",
            "INSERT INTO bench_balance VALUES (1, 1000000000000)",
        ];
        raw.execute_all(&ddl).await?;
        Ok(raw)
    }

    async fn execute_all(&self, statements: &[&str]) -> anyhow::Result<()> {
        match self {
            RawTx::Sqlite(url) => {
                let mut c = sqlite_connect(url).await?;
                for s in statements {
                    c.execute(*s).await?;
                }
            }
            RawTx::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url).await?;
                for s in statements {
                    c.execute(*s).await?;
                }
            }
        }
        Ok(())
    }

    async fn cleanup(&self) -> anyhow::Result<()> {
        self.execute_all(&["DROP TABLE bench_tr", "DROP TABLE bench_ledger", "DROP TABLE bench_balance"]).await
    }

    /// Transactions per second with `workers` connections committing back to back.
    async fn run(&self, workers: usize, phase: Duration) -> anyhow::Result<f64> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..workers {
            let url = match self {
                RawTx::Sqlite(u) | RawTx::Postgres(u) => u.clone(),
            };
            let sqlite = matches!(self, RawTx::Sqlite(_));
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                if sqlite {
                    let mut c = sqlite_connect(&url).await?;
                    while started.elapsed() < phase {
                        let id = SEQ.fetch_add(1, Ordering::Relaxed) as i64;
                        let mut tx = c.begin_with("BEGIN IMMEDIATE").await?;
                        three_statements_sqlite(&mut tx, id).await?;
                        tx.commit().await?;
                        n += 1;
                    }
                } else {
                    let mut c = sqlx::PgConnection::connect(&url).await?;
                    while started.elapsed() < phase {
                        let id = SEQ.fetch_add(1, Ordering::Relaxed) as i64;
                        let mut tx = c.begin().await?;
                        sqlx::query("INSERT INTO bench_tr VALUES ($1)").bind(format!("raw{id}")).execute(&mut *tx).await?;
                        sqlx::query("INSERT INTO bench_ledger VALUES ($1, -1)").bind(id).execute(&mut *tx).await?;
                        sqlx::query("UPDATE bench_balance SET balance = balance - 1 WHERE id = 1").execute(&mut *tx).await?;
                        tx.commit().await?;
                        n += 1;
                    }
                }
                anyhow::Ok(n)
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await??;
        }
        Ok(total as f64 / started.elapsed().as_secs_f64())
    }
}

async fn three_statements_sqlite(tx: &mut sqlx::SqliteConnection, id: i64) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO bench_tr VALUES (?)").bind(format!("raw{id}")).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO bench_ledger VALUES (?, -1)").bind(id).execute(&mut *tx).await?;
    sqlx::query("UPDATE bench_balance SET balance = balance - 1 WHERE id = 1").execute(&mut *tx).await?;
    Ok(())
}

/// The same durability the store uses: WAL with synchronous=FULL (an fsync per commit).
async fn sqlite_connect(url: &str) -> anyhow::Result<sqlx::SqliteConnection> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(30));
    Ok(sqlx::SqliteConnection::connect_with(&options).await?)
}
