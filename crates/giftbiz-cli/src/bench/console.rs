//! `giftbiz bench console`: the console's pages at a size, each asked for one after another by
//! a signed-in admin, p50 and p99, beside the same server's `/health` (the floor of a round
//! trip on this machine).

use std::time::{Duration, Instant};

use anyhow::Context;
use giftbiz_core::console::{OperatorRole, Password, Username};
use giftbiz_core::{Grade, UserId};
use giftbiz_server::demo::catalog::demo_catalog;
use giftbiz_server::demo::coupons::load_coupons;
use giftbiz_server::{db, operator};

use super::harness::{bench_settings, ChildServer, Summary};

const PASSWORD: &str = "bench console password";

pub async fn run(database: Option<String>, coupons: u64, rounds: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = database.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("console.db").display()));
    let settings = bench_settings(&url)?;
    let store = db::open_store(&settings).await?;
    let (brands, catalog) = demo_catalog(50);
    store.upsert_catalog(&brands, &catalog).await?;
    let goods = catalog.iter().find(|g| g.state == giftbiz_core::GoodsState::Sale).context("a goods on sale")?;
    let goods_word: String = goods.goods_name.chars().take(3).collect();
    let mut owners = Vec::new();
    for n in 0..4 {
        let owner = UserId::parse(&format!("load{n}"))?;
        operator::create_account(store.as_ref(), &owner, Grade::Basic).await?;
        owners.push(owner);
    }
    let t = Instant::now();
    load_coupons(store.clone(), &owners, &goods.goods_code, coupons, 32).await?;
    println!("loaded {coupons} coupons in {:.1} s on {}", t.elapsed().as_secs_f64(), store.engine());
    operator::create_console_operator(store.as_ref(), &Username::parse("bench")?, OperatorRole::Admin, &Password::parse(PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?)
        .await?;
    store.close().await;

    let server = ChildServer::start(&settings).await?;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let login = http.post(format!("{}/console/login", server.base)).form(&[("username", "bench"), ("password", PASSWORD)]).send().await?;
    let cookie = login.headers().get("set-cookie").context("a session cookie")?.to_str()?.split(';').next().unwrap_or("").to_owned();
    // A coupon to look up, from the middle of the load.
    let tr_id = format!("load{}", coupons / 2);
    let search = format!("{}/console/coupons?q={tr_id}", server.base);
    let page = http.get(&search).header("cookie", &cookie).send().await?.text().await?;
    let order_no = page
        .split("<section class=\"coupon\">")
        .nth(1)
        .and_then(|s| s.split("<span class=\"muted\">").nth(1))
        .and_then(|s| s.split('<').next())
        .context("the coupon's order number on its page")?
        .to_owned();

    let catalog_search = reqwest::Url::parse_with_params("http://x/console/catalog", &[("q", &goods_word)])?;
    let catalog_search = format!("{}?{}", catalog_search.path(), catalog_search.query().unwrap_or(""));
    let pages = [
        ("/health (baseline)", "/health".to_owned()),
        ("dashboard", "/console".to_owned()),
        ("account detail", "/console/accounts/load1".to_owned()),
        ("accounts list", "/console/accounts".to_owned()),
        ("coupon by tr_id", format!("/console/coupons?q={tr_id}")),
        ("coupon by phone's last 4", "/console/coupons?q=5678".to_owned()),
        ("coupon by order number", format!("/console/coupons?q={order_no}")),
        ("audit log, first page", "/console/audit".to_owned()),
        ("audit log by operator", "/console/audit?operator=bench&action=account".to_owned()),
        ("catalog goods", "/console/catalog".to_owned()),
        ("catalog search", catalog_search),
        ("goods page", format!("/console/catalog/goods/{}", goods.goods_code)),
        ("partners", "/console/partners".to_owned()),
    ];
    println!("{:<28} {:>9} {:>9}   ({rounds} requests each, one at a time)", "page", "p50 ms", "p99 ms");
    for (name, path) in pages {
        let mut latencies = Vec::with_capacity(rounds);
        let started = Instant::now();
        for _ in 0..rounds {
            let t = Instant::now();
            let resp = http.get(format!("{}{path}", server.base)).header("cookie", &cookie).send().await?;
            anyhow::ensure!(resp.status().is_success(), "{path}: {}", resp.status());
            resp.bytes().await?;
            latencies.push(t.elapsed());
        }
        let s = Summary::of(latencies, started.elapsed().max(Duration::from_micros(1)));
        println!("{name:<28} {:>9.2} {:>9.2}", s.p50_ms, s.p99_ms);
    }
    server.stop();
    Ok(())
}
