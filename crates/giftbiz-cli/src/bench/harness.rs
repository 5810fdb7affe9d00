//! What the benchmarks share: the server as a child process, a catalog fixture, latency
//! summaries, and peak memory.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use giftbiz_core::Grade;
use giftbiz_server::demo::catalog::demo_catalog;
use giftbiz_core::pin_vault::PinVault;
use giftbiz_server::config::{Flags, Settings};
use giftbiz_server::{db, operator};

/// A database holding the `goods`-goods demo catalog and a fresh basic account, served by a
/// `giftbiz serve` child process.
pub struct CatalogServer {
    pub server: ChildServer,
    pub user_id: String,
    pub auth_code: String,
    pub auth_token: String,
    /// The SQLite file's directory, unless the caller named a database.
    _dir: tempfile::TempDir,
}

impl CatalogServer {
    pub async fn start(database: Option<String>, goods: usize) -> anyhow::Result<CatalogServer> {
        let dir = tempfile::tempdir()?;
        let url = database.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
        let settings = bench_settings(&url)?;
        let store = db::open_store(&settings).await?;
        let (brands, catalog) = demo_catalog(goods);
        let t = Instant::now();
        store.upsert_catalog(&brands, &catalog).await?;
        println!("loaded {} goods, {} brands in {:.2} s", catalog.len(), brands.len(), t.elapsed().as_secs_f64());
        let user_id = giftbiz_core::UserId::parse(&format!("bench{}", std::process::id()))?;
        let issued = operator::create_account(store.as_ref(), &user_id, Grade::Basic).await?;
        drop(store);
        let server = ChildServer::start(&settings).await?;
        let (auth_code, auth_token) = (issued.account.auth_code.clone(), issued.token.expose().to_owned());
        Ok(CatalogServer { server, user_id: user_id.to_string(), auth_code, auth_token, _dir: dir })
    }

    /// The common fields of a 0101 call.
    pub fn goods_form(&self) -> Vec<(String, String)> {
        vec![
            ("api_code".to_owned(), "0101".to_owned()),
            ("custom_auth_code".to_owned(), self.auth_code.clone()),
            ("custom_auth_token".to_owned(), self.auth_token.clone()),
            ("dev_yn".to_owned(), "N".to_owned()),
        ]
    }
}

/// The benchmarks' plain HTTP client: keeps `idle` connections per host and asks for no
/// compression (on loopback it only costs both ends CPU), so figures compare with earlier runs.
pub fn plain_http(idle: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().pool_max_idle_per_host(idle).no_gzip().no_zstd().build()?)
}

/// Each worker, with a state of its own (a client, a connection), calls `call` back to back
/// for `phase`, its calls numbered from its own offset; the latencies of all of them.
pub async fn drive_workers<S, F, Fut>(states: Vec<S>, phase: Duration, call: F) -> anyhow::Result<Summary>
where
    S: Send + 'static,
    F: Fn(S, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<S>> + Send,
{
    let started = Instant::now();
    let tasks: Vec<_> = states
        .into_iter()
        .enumerate()
        .map(|(worker, mut state)| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = worker as u64 * 7919;
                while started.elapsed() < phase {
                    let t = Instant::now();
                    state = call(state, n).await?;
                    latencies.push(t.elapsed());
                    n += 1;
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(Summary::of(all, started.elapsed()))
}

pub struct Summary {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Summary {
    /// Requests per second and latency percentiles of `latencies` measured over `elapsed`.
    pub fn of(mut latencies: Vec<Duration>, elapsed: Duration) -> Summary {
        latencies.sort();
        let pct = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p) as usize).map_or(0.0, |d| d.as_secs_f64() * 1e3);
        Summary { rps: latencies.len() as f64 / elapsed.as_secs_f64(), p50_ms: pct(0.50), p99_ms: pct(0.99) }
    }
}

/// The settings of a benchmark on `url`: the environment's, with a PIN key of the run's own
/// when PostgreSQL has none configured (SQLite makes its key file beside the database).
pub fn bench_settings(url: &str) -> anyhow::Result<Settings> {
    let flags = Flags { database_url: Some(url.to_owned()), ..Flags::default() };
    let mut settings = Settings::load(None, &flags)?;
    if settings.pin_key.is_none() && settings.pin_key_file.is_none() && !url.starts_with("sqlite:") {
        settings.pin_key = Some(PinVault::generate_line().as_str().into());
    }
    Ok(settings)
}

/// `giftbiz serve` as a child process, so its memory is its own.
pub struct ChildServer {
    child: std::process::Child,
    pub base: String,
}

impl ChildServer {
    /// A server on `settings`' database, with its PIN key.
    pub async fn start(settings: &Settings) -> anyhow::Result<ChildServer> {
        ChildServer::start_with_env(settings, &[]).await
    }

    /// [`ChildServer::start`] with more `GIFTBIZ_…` settings in its environment.
    pub async fn start_with_env(settings: &Settings, env: &[(String, String)]) -> anyhow::Result<ChildServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        ChildServer::start_at(settings, env, port).await
    }

    /// [`ChildServer::start_with_env`] on a given loopback port: a restart where its clients
    /// left off.
    pub async fn start_at(settings: &Settings, env: &[(String, String)], port: u16) -> anyhow::Result<ChildServer> {
        let listen = format!("127.0.0.1:{port}");
        let mut command = std::process::Command::new(std::env::current_exe()?);
        if let Some(key) = &settings.pin_key {
            command.env("GIFTBIZ_PIN_KEY", key.expose());
        }
        let child = command
            .args(["serve", "--no-demo", "--database", &settings.database_url, "--listen", &listen])
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (k, v)))
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
    pub fn peak_rss_kib(&self) -> Option<u64> {
        peak_rss_kib(&self.child.id().to_string())
    }

    /// VmRSS: the server's resident memory now.
    pub fn rss_kib(&self) -> Option<u64> {
        status_kib(&self.child.id().to_string(), "VmRSS:")
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// VmHWM of a process (`self` or a pid), in KiB: the most resident memory it ever had.
pub fn peak_rss_kib(pid: &str) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Figures of repeated rounds: each named series' samples, one per round, reported as
/// min/median/max (a table, and with `--json` one JSON document on the last line).
#[derive(Debug, Default)]
pub struct Rounds {
    series: Vec<(String, Vec<f64>)>,
}

impl Rounds {
    pub fn add(&mut self, name: impl Into<String>, value: f64) {
        let name = name.into();
        match self.series.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => self.series.push((name, vec![value])),
        }
    }

    fn spread(values: &[f64]) -> (f64, f64, f64) {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let median = if v.len() % 2 == 1 { v[v.len() / 2] } else { (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0 };
        (v[0], median, v[v.len() - 1])
    }

    /// The table of every series over the rounds.
    pub fn print(&self, title: &str) {
        let rounds = self.series.first().map_or(0, |(_, v)| v.len());
        println!("\n{title}: {rounds} rounds");
        println!("{:<28} {:>12} {:>12} {:>12}", "figure", "min", "median", "max");
        for (name, values) in &self.series {
            let (min, median, max) = Rounds::spread(values);
            println!("{name:<28} {min:>12.3} {median:>12.3} {max:>12.3}");
        }
    }

    /// `{"bench": …, "engine": …, "figures": {name: {"min", "median", "max", "rounds": […]}}}`.
    pub fn json(&self, bench: &str, engine: &str) -> serde_json::Value {
        let figures: serde_json::Map<String, serde_json::Value> = self
            .series
            .iter()
            .map(|(name, values)| {
                let (min, median, max) = Rounds::spread(values);
                (name.clone(), serde_json::json!({ "min": min, "median": median, "max": max, "rounds": values }))
            })
            .collect();
        serde_json::json!({ "bench": bench, "engine": engine, "figures": figures })
    }

    /// Prints the table, and the JSON when asked.
    pub fn report(&self, title: &str, bench: &str, engine: &str, json: bool) {
        self.print(title);
        if json {
            println!("{}", self.json(bench, engine));
        }
    }
}

/// `sqlite` or `postgres`, from a database URL.
pub fn engine_of(url: &str) -> &'static str {
    if url.starts_with("sqlite:") { "sqlite" } else { "postgres" }
}
