//! `giftbiz bench catalog-sync`: `LocalCatalog::sync` (what `giftbiz catalog sync` runs) of a
//! large catalog into a fresh file, beside fetching the same 0101 pages with plain HTTP calls
//! whose bodies are discarded, against a `giftbiz serve` child process on loopback.
//!
//! Between the two, the same pages through the SDK's `goods_list` (fetched and decoded, nothing
//! stored) show how much of the difference is decoding and how much is storing.
//!
//! The sync runs in a child process of its own (`bench catalog-sync-worker`), so the peak RSS
//! reported is the sync's alone: neither the server nor the 50,000 goods this process generated
//! to load the server's database count.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use giftbiz_client::{Client, Config, Credentials, LocalCatalog};
use serde::{Deserialize, Serialize};

use super::harness::{peak_rss_kib, CatalogServer};

/// What the worker measured, printed as one JSON line.
#[derive(Serialize, Deserialize)]
struct WorkerFigures {
    sync_s: f64,
    resync_s: f64,
    goods: u64,
    pages: u32,
    rss_before_kib: u64,
    peak_rss_kib: u64,
    file_bytes: u64,
}

pub async fn run(goods: usize, page_size: u32, rounds: usize, compression: bool) -> anyhow::Result<()> {
    anyhow::ensure!(goods > 0 && page_size > 0 && rounds > 0, "goods, page size and rounds must be positive");
    let fixture = CatalogServer::start(None, goods).await?;
    let http = super::harness::plain_http(1)?;
    let form = fixture.goods_form();
    let pages = goods.div_ceil(page_size as usize) as u32;
    let dir = tempfile::tempdir()?;

    // Warm-up: the server's first 0101 builds its catalog snapshot.
    plain_fetch(&http, &fixture.server.base, &form, page_size, pages).await?;

    let sdk = Client::new(
        Config::new(Credentials::new(fixture.auth_code.clone(), fixture.auth_token.clone(), fixture.user_id.clone()))
            .with_base_url(format!("{}/bizApi", fixture.server.base))
            .with_compression(compression),
    )?;
    let mut plain = Vec::new();
    let mut decoded = Vec::new();
    let mut syncs = Vec::new();
    for round in 1..=rounds {
        let (plain_s, bytes) = plain_fetch(&http, &fixture.server.base, &form, page_size, pages).await?;
        let decode_s = sdk_fetch(&sdk, page_size, pages).await?;
        let file = dir.path().join(format!("round{round}.db"));
        let w = run_worker(&fixture, &file, page_size, compression).await?;
        anyhow::ensure!(w.goods == goods as u64 && w.pages == pages, "the sync stored {} goods from {} pages", w.goods, w.pages);
        println!(
            "round {round}: plain fetch {plain_s:.2} s ({:.0} MB), SDK fetch {decode_s:.2} s, sync {:.2} s, second sync {:.2} s, sync peak RSS {:.1} MB",
            bytes as f64 / 1e6,
            w.sync_s,
            w.resync_s,
            w.peak_rss_kib as f64 / 1024.0
        );
        plain.push(plain_s);
        decoded.push(decode_s);
        syncs.push(w);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }
    fixture.server.stop();

    let plain_s = median(plain);
    let decode_s = median(decoded);
    let sync_s = median(syncs.iter().map(|w| w.sync_s).collect());
    let resync_s = median(syncs.iter().map(|w| w.resync_s).collect());
    let peak = syncs.iter().map(|w| w.peak_rss_kib).max().unwrap_or(0);
    let before = syncs.iter().map(|w| w.rss_before_kib).max().unwrap_or(0);
    let file = syncs.iter().map(|w| w.file_bytes).max().unwrap_or(0);
    println!("\ncatalog sync, {goods} goods, page size {page_size}, {pages} pages, median of {rounds} round(s)");
    println!("{:<46} {:>8.2} s", "plain HTTP fetch of the 0101 pages (discarded)", plain_s);
    println!("{:<46} {:>8.2} s", "SDK goods_list of the same pages (decoded)", decode_s);
    println!("{:<46} {:>8.2} s   ratio {:.2} (target >= 0.5)", "catalog sync into a fresh file", sync_s, plain_s / sync_s);
    println!("{:<46} {:>8.2} s   ratio {:.2}", "second sync (nothing changed)", resync_s, plain_s / resync_s);
    println!(
        "sync process peak RSS: {:.1} MB ({:.1} MB before the sync); local catalog file: {:.0} MB",
        peak as f64 / 1024.0,
        before as f64 / 1024.0,
        file as f64 / 1e6
    );
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Every page, one after the other as the sync reads them; returns the seconds and the bytes.
async fn plain_fetch(
    http: &reqwest::Client,
    base: &str,
    form: &[(String, String)],
    page_size: u32,
    pages: u32,
) -> anyhow::Result<(f64, u64)> {
    let url = format!("{base}/bizApi/goods");
    let size = page_size.to_string();
    let started = Instant::now();
    let mut bytes = 0;
    for page in 1..=pages {
        let start = page.to_string();
        let resp = http.post(&url).form(form).query(&[("start", start.as_str()), ("size", size.as_str())]).send().await?;
        let body = resp.bytes().await?;
        anyhow::ensure!(body.starts_with(b"{\"code\":\"0000\""), "0101 page {page} failed");
        bytes += body.len() as u64;
    }
    Ok((started.elapsed().as_secs_f64(), bytes))
}

/// The same pages through the SDK (`Client::goods_list`: fetched and decoded, then dropped).
async fn sdk_fetch(client: &Client, page_size: u32, pages: u32) -> anyhow::Result<f64> {
    let started = Instant::now();
    for page in 1..=pages {
        let result = client.goods_list(page, page_size).await?;
        anyhow::ensure!(!result.goods_list.is_empty(), "0101 page {page} is empty");
    }
    Ok(started.elapsed().as_secs_f64())
}

/// `giftbiz bench catalog-sync-worker` as a child process, with the account in its environment.
async fn run_worker(fixture: &CatalogServer, file: &Path, page_size: u32, compression: bool) -> anyhow::Result<WorkerFigures> {
    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    command.args(["bench", "catalog-sync-worker", "--page-size", &page_size.to_string(), "--catalog"]).arg(file);
    if compression {
        command.arg("--compression");
    }
    let out = command
        .env("GIFTBIZ_BASE_URL", format!("{}/bizApi", fixture.server.base))
        .env("GIFTBIZ_AUTH_CODE", &fixture.auth_code)
        .env("GIFTBIZ_AUTH_TOKEN", &fixture.auth_token)
        .env("GIFTBIZ_USER_ID", &fixture.user_id)
        .output()
        .await
        .context("running the sync worker")?;
    // (tokio's `output` captures stderr whatever is set; pass it on.)
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    anyhow::ensure!(out.status.success(), "the sync worker failed: {}", out.status);
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim()).with_context(|| format!("the sync worker's figures: {line}"))
}

/// The measured sync: a fresh file, then a second sync with nothing changed. Each opens and
/// closes the file as `giftbiz catalog sync` does (closing checkpoints what is left of the WAL).
pub async fn worker(file: &Path, page_size: u32, compression: bool) -> anyhow::Result<()> {
    let client = Client::new(Config::from_env()?.with_compression(compression))?;
    let rss_before_kib = peak_rss_kib("self").unwrap_or(0);
    let started = Instant::now();
    let mut catalog = LocalCatalog::open(file)?;
    let report = catalog.sync(&client, page_size, |_| ControlFlow::Continue(())).await?;
    drop(catalog);
    let sync_s = started.elapsed().as_secs_f64();
    let peak_rss_kib = peak_rss_kib("self").unwrap_or(0);
    anyhow::ensure!(report.added.len() as u64 == report.goods, "a fresh file: every goods added");
    let started = Instant::now();
    let mut catalog = LocalCatalog::open(file)?;
    let again = catalog.sync(&client, page_size, |_| ControlFlow::Continue(())).await?;
    drop(catalog);
    let resync_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(again.unchanged == report.goods, "nothing changed in between");
    anyhow::ensure!(again.unchanged_pages == again.pages, "every page as before: {} of {}", again.unchanged_pages, again.pages);
    let file_bytes = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", file.display())).ok())
        .map(|m| m.len())
        .sum();
    let figures = WorkerFigures {
        sync_s,
        resync_s,
        goods: report.goods,
        pages: report.pages,
        rss_before_kib,
        peak_rss_kib,
        file_bytes,
    };
    println!("{}", serde_json::to_string(&figures)?);
    Ok(())
}
