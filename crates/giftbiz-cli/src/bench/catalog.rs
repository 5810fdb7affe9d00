//! `giftbiz bench catalog`: 0101 pages of several sizes beside `/health`, the same server's
//! trivial endpoint.

use std::sync::Arc;
use std::time::Duration;

use super::harness::{drive_workers, engine_of, CatalogServer, Rounds, Summary};

pub async fn run(database: Option<String>, goods: usize, connections: usize, phase: Duration, rounds: usize, json: bool) -> anyhow::Result<()> {
    let engine = database.as_deref().map_or("sqlite", engine_of);
    let fixture = CatalogServer::start(database, goods).await?;
    let server = &fixture.server;
    let form = Arc::new(fixture.goods_form());
    let client = super::harness::plain_http(connections)?;
    let pages_20 = goods.div_ceil(20) as u64;
    let pages_5000 = goods.div_ceil(5000) as u64;

    // Warm up: the first call loads the catalog snapshot.
    let warm = Request::Goods { form: form.clone(), size: 5000, pages: pages_5000 };
    warm.send(&client, &server.base, 1).await?;

    let mut figures = Rounds::default();
    for round in 1..=rounds {
        let trivial = drive(&client, &server.base, connections, phase, Request::Health).await?;
        let small = drive(&client, &server.base, connections, phase, Request::Goods { form: form.clone(), size: 20, pages: pages_20 }).await?;
        let large = drive(&client, &server.base, connections, phase, Request::Goods { form: form.clone(), size: 5000, pages: pages_5000 }).await?;
        println!("\n0101 goods list on {engine}, {goods} goods, {connections} connections, {} s per phase, round {round}", phase.as_secs());
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
        figures.add("health_rps", trivial.rps);
        figures.add("size20_rps", small.rps);
        figures.add("size20_vs_health", small.rps / trivial.rps);
        figures.add("size20_p99_ms", small.p99_ms);
        figures.add("size5000_rps", large.rps);
        figures.add("size5000_vs_health", large.rps / trivial.rps);
    }
    let rss = server.peak_rss_kib();
    fixture.server.stop();
    figures.report("0101 goods list", "catalog", engine, json);
    match rss {
        Some(kib) => println!("server peak RSS: {:.1} MB", kib as f64 / 1024.0),
        None => println!("server peak RSS: unavailable (no /proc)"),
    }
    Ok(())
}

#[derive(Clone)]
pub(super) enum Request {
    Health,
    Goods { form: Arc<Vec<(String, String)>>, size: u64, pages: u64 },
}

impl Request {
    /// One call, for a warm-up.
    pub(super) async fn send_once(&self, client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
        self.send(client, base, 0).await
    }

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

/// `connections` workers send `request` back to back for `phase`.
pub(super) async fn drive(client: &reqwest::Client, base: &str, connections: usize, phase: Duration, request: Request) -> anyhow::Result<Summary> {
    let states = (0..connections).map(|_| (client.clone(), base.to_owned(), request.clone())).collect();
    drive_workers(states, phase, |(client, base, request): (reqwest::Client, String, Request), n| async move {
        request.send(&client, &base, n).await?;
        Ok((client, base, request))
    })
    .await
}

