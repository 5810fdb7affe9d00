//! Benchmarks that print figures (nothing here asserts a speed). Each runs the real server as a
//! child process and drives it over HTTP on loopback, reporting each figure beside a baseline
//! measured in the same run.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use giftbiz_core::Grade;
use giftbiz_server::demo::catalog::demo_catalog;
use giftbiz_server::{db, operator};

// Declared here rather than in main.rs, which the bench commands otherwise leave alone.
#[path = "bench_sync.rs"]
mod catalog_sync;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// 0101 goods list over HTTP (size=20 and size=5000) beside a trivial endpoint, and the
    /// server's peak RSS.
    Catalog {
        /// Database for the run [default: a fresh SQLite file in a temporary directory]
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 50_000)]
        goods: usize,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Seconds per measured phase.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// 0204 send (gubun Y) over HTTP at 1, 4 and 16 connections, each beside the raw commit rate
    /// of an equivalent three-statement transaction on the same database.
    Send {
        /// Database for the run [default: a fresh SQLite file in a temporary directory]; a
        /// PostgreSQL database given here gets tables of its own (use an empty one).
        #[arg(long)]
        database: Option<String>,
        /// Seconds per measured phase.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// `giftbiz catalog sync` of a large catalog into a fresh file (wall time, peak RSS), beside
    /// fetching the same 0101 pages with plain HTTP calls and discarding them.
    CatalogSync {
        #[arg(long, default_value_t = 50_000)]
        goods: usize,
        /// Goods per 0101 page, for the sync and the plain fetch alike.
        #[arg(long, default_value_t = 1000)]
        page_size: u32,
        /// Measured rounds (each a plain fetch and a fresh sync); the median is reported.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// One measured sync, run by `catalog-sync` as a child process so its memory is its own.
    #[command(hide = true)]
    CatalogSyncWorker {
        #[arg(long)]
        catalog: std::path::PathBuf,
        #[arg(long)]
        page_size: u32,
    },
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Catalog { database, goods, connections, seconds } => {
            catalog(database, goods, connections, Duration::from_secs(seconds)).await
        }
        BenchCommand::Send { database, seconds } => crate::bench_send::run(database, Duration::from_secs(seconds)).await,
        BenchCommand::CatalogSync { goods, page_size, rounds } => catalog_sync::run(goods, page_size, rounds).await,
        BenchCommand::CatalogSyncWorker { catalog, page_size } => catalog_sync::worker(&catalog, page_size).await,
    }
}

/// A database holding the `goods`-goods demo catalog and a fresh basic account, served by a
/// `giftbiz serve` child process.
pub(crate) struct CatalogServer {
    pub(crate) server: ChildServer,
    pub(crate) user_id: String,
    pub(crate) auth_code: String,
    pub(crate) auth_token: String,
    /// The SQLite file's directory, unless the caller named a database.
    _dir: tempfile::TempDir,
}

impl CatalogServer {
    pub(crate) async fn start(database: Option<String>, goods: usize) -> anyhow::Result<CatalogServer> {
        let dir = tempfile::tempdir()?;
        let url = database.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
        let store = db::open_store(&url).await?;
        let (brands, catalog) = demo_catalog(goods);
        let t = Instant::now();
        store.upsert_catalog(&brands, &catalog).await?;
        println!("loaded {} goods, {} brands in {:.2} s", catalog.len(), brands.len(), t.elapsed().as_secs_f64());
        let user_id = format!("bench{}", std::process::id());
        let issued = operator::create_account(store.as_ref(), &user_id, Grade::Basic).await?;
        drop(store);
        let server = ChildServer::start(&url).await?;
        let (auth_code, auth_token) = (issued.account.auth_code.clone(), issued.token.expose().to_owned());
        Ok(CatalogServer { server, user_id, auth_code, auth_token, _dir: dir })
    }

    /// The common fields of a 0101 call.
    pub(crate) fn goods_form(&self) -> Vec<(String, String)> {
        vec![
            ("api_code".to_owned(), "0101".to_owned()),
            ("custom_auth_code".to_owned(), self.auth_code.clone()),
            ("custom_auth_token".to_owned(), self.auth_token.clone()),
            ("dev_yn".to_owned(), "N".to_owned()),
        ]
    }
}

async fn catalog(database: Option<String>, goods: usize, connections: usize, phase: Duration) -> anyhow::Result<()> {
    let fixture = CatalogServer::start(database, goods).await?;
    let server = &fixture.server;
    let form = Arc::new(fixture.goods_form());
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build()?;
    let pages_20 = goods.div_ceil(20) as u64;
    let pages_5000 = goods.div_ceil(5000) as u64;

    // Warm up: the first call loads the catalog snapshot.
    let warm = Request::Goods { form: form.clone(), size: 5000, pages: pages_5000 };
    warm.send(&client, &server.base, 1).await?;

    let trivial = drive(&client, &server.base, connections, phase, Request::Health).await?;
    let small = drive(&client, &server.base, connections, phase, Request::Goods { form: form.clone(), size: 20, pages: pages_20 }).await?;
    let large = drive(&client, &server.base, connections, phase, Request::Goods { form, size: 5000, pages: pages_5000 }).await?;
    let rss = server.peak_rss_kib();
    fixture.server.stop();

    println!("\n0101 goods list, {goods} goods, {connections} connections, {} s per phase", phase.as_secs());
    println!("{:<22} {:>10} {:>10} {:>10} {:>8}", "endpoint", "req/s", "p50 ms", "p99 ms", "ratio");
    for (name, s) in [("GET /health (trivial)", &trivial), ("0101 size=20", &small), ("0101 size=5000", &large)] {
        println!(
            "{name:<22} {:>10.0} {:>10.2} {:>10.2} {:>7.0}%",
            s.rps,
            s.p50_ms,
            s.p99_ms,
            100.0 * s.rps / trivial.rps
        );
    }
    match rss {
        Some(kib) => println!("server peak RSS: {:.1} MB", kib as f64 / 1024.0),
        None => println!("server peak RSS: unavailable (no /proc)"),
    }
    Ok(())
}

#[derive(Clone)]
enum Request {
    Health,
    Goods { form: Arc<Vec<(String, String)>>, size: u64, pages: u64 },
}

impl Request {
    async fn send(&self, client: &reqwest::Client, base: &str, n: u64) -> anyhow::Result<()> {
        let resp = match self {
            Request::Health => client.get(format!("{base}/health")).send().await?,
            Request::Goods { form, size, pages } => {
                let start = (n % pages + 1).to_string();
                let size = size.to_string();
                client
                    .post(format!("{base}/bizApi/goods"))
                    .form(&**form)
                    .query(&[("start", start.as_str()), ("size", size.as_str())])
                    .send()
                    .await?
            }
        };
        let body = resp.bytes().await?;
        anyhow::ensure!(!body.starts_with(b"{\"code\":\"E") && !body.starts_with(b"{\"code\":\"P"), "API error");
        Ok(())
    }
}

pub(crate) struct Summary {
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

impl Summary {
    /// Requests per second and latency percentiles of `latencies` measured over `elapsed`.
    pub(crate) fn of(mut latencies: Vec<Duration>, elapsed: Duration) -> Summary {
        latencies.sort();
        let pct = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p) as usize).map_or(0.0, |d| d.as_secs_f64() * 1e3);
        Summary { rps: latencies.len() as f64 / elapsed.as_secs_f64(), p50_ms: pct(0.50), p99_ms: pct(0.99) }
    }
}

/// `connections` workers send `request` back to back for `phase`.
async fn drive(client: &reqwest::Client, base: &str, connections: usize, phase: Duration, request: Request) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let (client, base, request) = (client.clone(), base.to_owned(), request.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = worker as u64 * 7919;
            while started.elapsed() < phase {
                let t = Instant::now();
                request.send(&client, &base, n).await?;
                latencies.push(t.elapsed());
                n += 1;
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

/// `giftbiz serve` as a child process, so its memory is its own.
pub(crate) struct ChildServer {
    child: std::process::Child,
    pub(crate) base: String,
}

impl ChildServer {
    pub(crate) async fn start(database: &str) -> anyhow::Result<ChildServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let listen = format!("127.0.0.1:{port}");
        let child = std::process::Command::new(std::env::current_exe()?)
            .args(["serve", "--no-demo", "--database", database, "--listen", &listen])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("starting the server")?;
        let server = ChildServer { child, base: format!("http://{listen}") };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client.get(format!("{}/health", server.base)).send().await.is_err() {
            anyhow::ensure!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(server)
    }

    /// VmHWM: the most resident memory the server ever had.
    fn peak_rss_kib(&self) -> Option<u64> {
        peak_rss_kib(&self.child.id().to_string())
    }

    pub(crate) fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// VmHWM of a process (`self` or a pid), in KiB: the most resident memory it ever had.
pub(crate) fn peak_rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
