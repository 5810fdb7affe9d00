//! `giftbiz bench observability`: what metrics and request ids cost. 0101 page(20) and 0204
//! send (gubun Y) against a server with both on (scraped every second, as a Prometheus would,
//! only faster) and the same server with both off (`metrics = false`, `request_ids = false`),
//! on the same database, in alternating order round after round; each round's ratio on/off.

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
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build()?;
    let off = [("GIFTBIZ_METRICS".to_owned(), "false".to_owned()), ("GIFTBIZ_REQUEST_IDS".to_owned(), "false".to_owned())];

    // (round, page off, page on, send off, send on)
    let mut results: Vec<(usize, Summary, Summary, Summary, Summary)> = Vec::new();
    for round in 1..=rounds {
        let mut measured: [Option<(Summary, Summary)>; 2] = [None, None];
        // Odd rounds measure off first, even rounds on first: drift over the run cancels out.
        let order = if round % 2 == 1 { [false, true] } else { [true, false] };
        for on in order {
            let env: &[(String, String)] = if on { &[] } else { &off };
            let server = ChildServer::start_with_env(&settings, env).await?;
            page.send_once(&client, &server.base).await?; // loads the catalog snapshot
            let scraper = on.then(|| tokio::spawn(scrape_every_second(client.clone(), server.base.clone())));
            let pages = drive(&client, &server.base, connections, phase, page.clone()).await?;
            let sends = drive_sends(&client, &server.base, &send_form, connections, phase).await?;
            if let Some(s) = scraper {
                s.abort();
            }
            server.stop();
            measured[on as usize] = Some((pages, sends));
        }
        let [Some((page_off, send_off)), Some((page_on, send_on))] = measured else { unreachable!("both measured") };
        results.push((round, page_off, page_on, send_off, send_on));
    }

    let engine = url.split(':').next().unwrap_or("?");
    println!("\nmetrics + request ids on / off, {engine}, {connections} connections, {} s per phase", phase.as_secs());
    println!("{:<6} {:>12} {:>12} {:>7} {:>12} {:>12} {:>7}", "round", "0101 off/s", "0101 on/s", "ratio", "0204 off/s", "0204 on/s", "ratio");
    let mut page_ratios = Vec::new();
    let mut send_ratios = Vec::new();
    for (round, po, pn, so, sn) in &results {
        let (pr, sr) = (pn.rps / po.rps, sn.rps / so.rps);
        page_ratios.push(pr);
        send_ratios.push(sr);
        println!("{round:<6} {:>12.0} {:>12.0} {:>7.3} {:>12.0} {:>12.0} {:>7.3}", po.rps, pn.rps, pr, so.rps, sn.rps, sr);
    }
    let (pmin, pmed, pmax) = min_median_max(&mut page_ratios);
    let (smin, smed, smax) = min_median_max(&mut send_ratios);
    println!("0101 page(20) on/off: min {pmin:.3}, median {pmed:.3}, max {pmax:.3}");
    println!("0204 send on/off:     min {smin:.3}, median {smed:.3}, max {smax:.3}");
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
