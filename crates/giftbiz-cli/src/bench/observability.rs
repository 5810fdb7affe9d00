//! `giftbiz bench observability`: what metrics and request ids cost. 0101 page(20) and 0204
//! send (gubun Y) against the same server and database with both off (`metrics = false`,
//! `request_ids = false`), each alone, and both on; with metrics on, `/metrics` is scraped every
//! second (as a Prometheus would, only more often). Every round measures all four, in reverse
//! order every other round; each figure is a ratio of "both off" in the same round.

use std::sync::Arc;
use std::time::Duration;

use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::Grade;
use giftbiz_server::demo::catalog::demo_catalog;
use giftbiz_server::{db, operator};

use super::catalog::{drive, Request};
use super::harness::{bench_settings, ChildServer, Summary};
use super::send::drive_sends;

const GOODS: usize = 2_000;

pub async fn run(database: Option<String>, connections: usize, phase: Duration, rounds: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = database.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let settings = bench_settings(&url)?;
    let store = db::open_store(&settings).await?;
    let (brands, goods) = demo_catalog(GOODS);
    store.upsert_catalog(&brands, &goods).await?;
    let goods_code = goods.iter().find(|g| g.state == giftbiz_core::GoodsState::Sale).expect("goods on sale").goods_code.clone();
    let user = giftbiz_core::UserId::parse(&format!("obs{}", std::process::id()))?;
    let issued = operator::create_account(store.as_ref(), &user, Grade::Basic).await?;
    operator::change_bizmoney(store.as_ref(), &user, giftbiz_core::Won::new(1_000_000_000_000), LedgerReason::Charge, "bench").await?;
    drop(store);
    let common = |api_code: &str| {
        vec![
            ("api_code".to_owned(), api_code.to_owned()),
            ("custom_auth_code".to_owned(), issued.account.auth_code.clone()),
            ("custom_auth_token".to_owned(), issued.token.expose().to_owned()),
            ("dev_yn".to_owned(), "N".to_owned()),
        ]
    };
    let page = Request::Goods { form: Arc::new(common("0101")), size: 20, pages: GOODS.div_ceil(20) as u64 };
    let mut send_form = common("0204");
    for (k, v) in [
        ("user_id", user.to_string()),
        ("goods_code", String::from(goods_code)),
        ("gubun", "Y".into()),
        ("phone_no", "01012345678".into()),
        ("callback_no", "15880108".into()),
        ("mms_title", "선물 도착".into()),
        ("mms_msg", "감사합니다".into()),
    ] {
        send_form.push((k.to_owned(), v));
    }
    let send_form = Arc::new(send_form);
    let client = super::harness::plain_http(connections)?;
    // What is on in each configuration; each is measured against `off` in the same round.
    let configs: [(&str, bool, bool); 4] = [("off", false, false), ("request ids", true, false), ("metrics", false, true), ("both", true, true)];

    // results[round][config] = (0101, 0204)
    let mut results: Vec<Vec<(Summary, Summary)>> = Vec::new();
    for round in 1..=rounds {
        // Every other round runs the configurations in reverse: drift over the run cancels out.
        let mut order: Vec<usize> = (0..configs.len()).collect();
        if round % 2 == 0 {
            order.reverse();
        }
        let mut measured: Vec<Option<(Summary, Summary)>> = (0..configs.len()).map(|_| None).collect();
        for i in order {
            let (_, ids, metrics) = configs[i];
            let env = [("GIFTBIZ_REQUEST_IDS".to_owned(), ids.to_string()), ("GIFTBIZ_METRICS".to_owned(), metrics.to_string())];
            let server = ChildServer::start_with_env(&settings, &env).await?;
            page.send_once(&client, &server.base).await?; // loads the catalog snapshot
            let scraper = metrics.then(|| tokio::spawn(scrape_every_second(client.clone(), server.base.clone())));
            let pages = drive(&client, &server.base, connections, phase, page.clone()).await?;
            let sends = drive_sends(&client, &server.base, &send_form, connections, phase).await?;
            if let Some(s) = scraper {
                s.abort();
            }
            server.stop();
            measured[i] = Some((pages, sends));
        }
        results.push(measured.into_iter().map(|m| m.expect("every configuration measured")).collect());
    }

    let engine = url.split(':').next().unwrap_or("?");
    println!("\nrequest ids and metrics on, as a ratio of both off in the same round; {engine}, {connections} connections, {} s per phase", phase.as_secs());
    println!("{:<6} {:<12} {:>10} {:>7} {:>10} {:>7}", "round", "on", "0101/s", "ratio", "0204/s", "ratio");
    let mut ratios: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); configs.len()];
    for (round, row) in results.iter().enumerate() {
        let (page_off, send_off) = &row[0];
        for (i, (pages, sends)) in row.iter().enumerate() {
            let (pr, sr) = (pages.rps / page_off.rps, sends.rps / send_off.rps);
            ratios[i].0.push(pr);
            ratios[i].1.push(sr);
            println!("{:<6} {:<12} {:>10.0} {:>7.3} {:>10.0} {:>7.3}", round + 1, configs[i].0, pages.rps, pr, sends.rps, sr);
        }
    }
    println!("\n{:<12} {:>26} {:>26}", "on", "0101 page(20) min/med/max", "0204 send min/med/max");
    for (i, (pages, sends)) in ratios.iter_mut().enumerate().skip(1) {
        let (a, b, c) = min_median_max(pages);
        let (d, e, f) = min_median_max(sends);
        println!("{:<12} {:>26} {:>26}", configs[i].0, format!("{a:.3} / {b:.3} / {c:.3}"), format!("{d:.3} / {e:.3} / {f:.3}"));
    }
    Ok(())
}

fn min_median_max(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

/// `/metrics` once a second, as a scraper would (rendering costs the server too).
async fn scrape_every_second(client: reqwest::Client, base: String) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        every.tick().await;
        let _ = client.get(format!("{base}/metrics")).send().await.map(|r| r.bytes());
    }
}
