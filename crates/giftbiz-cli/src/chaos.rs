//! `giftbiz chaos`: the fault harness. A `giftbiz serve` child process on the database takes a
//! seeded random workload over HTTP (sends of gubun Y and N, cancels, sendFail cancels,
//! resends) while it is killed with SIGKILL at seeded random moments and restarted; at the end
//! every promise is checked against what the clients were told:
//! - the money rules over the whole database (`giftbiz check`);
//! - every send answered `0000` exists with its charge; every cancel answered `0000` left its
//!   coupon cancelled;
//! - every MMS of a coupon that stayed issued reaches the gateway, each message always with the
//!   same order number;
//! - a send whose answer was lost (the kill cut it) is settled by 0201: issued or not, never
//!   charged without its coupon (the rules above).
//!
//! With `--outages` (PostgreSQL), the server reaches its database through a fault proxy that
//! refuses or stalls it at seeded moments; `/health` must answer through each.
//!
//! The seed fixes the schedule (when the kills come, what each client does next); the
//! interleavings with the server's own timing differ run to run. Violations are printed and
//! make the command fail.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use giftbiz_core::coupon::{LedgerReason, PinStatus};
use giftbiz_core::{Grade, UserId, Won};
use giftbiz_server::demo::catalog::demo_catalog;
use giftbiz_server::fault::{url_host_port, FaultProxy, ProxyMode};
use giftbiz_server::{db, invariants, operator};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio::sync::RwLock;

use crate::bench::harness::{bench_settings, ChildServer};

/// The delivery lease of the run's server: messages a killed worker had claimed go out once it
/// has passed.
const LEASE_MS: u64 = 3_000;

#[derive(Args)]
pub struct ChaosArgs {
    /// Database for the run [default: a fresh SQLite file in a temporary directory]; a
    /// PostgreSQL database given here gets tables of its own (use an empty one).
    #[arg(long)]
    database: Option<String>,
    /// How long the workload runs.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// SIGKILLs of the server during the run, at seeded random moments.
    #[arg(long, default_value_t = 20)]
    kills: u32,
    /// Clients sending at once.
    #[arg(long, default_value_t = 4)]
    clients: u32,
    /// Database outages (PostgreSQL only) at seeded moments, each 1-3 s, alternately refused
    /// connections and a stall, through a proxy in front of the database.
    #[arg(long, default_value_t = 0)]
    outages: u32,
    /// The schedule's seed [default: from the clock; printed, to replay a run].
    #[arg(long)]
    seed: Option<u64>,
}

/// What one client was told.
#[derive(Default)]
struct Told {
    /// tr_ids whose send was answered 0000, with their gubun.
    sent: Vec<(String, char)>,
    /// tr_ids whose cancel was answered 0000.
    cancelled: Vec<String>,
    /// tr_ids whose send got no answer (cut by a kill).
    unanswered: Vec<String>,
    operations: u64,
    /// When each send was acknowledged, from the run's start: the timeline.
    acked_at: Vec<Duration>,
}

struct Run {
    base: RwLock<String>,
    user_id: String,
    auth_code: String,
    auth_token: String,
    goods: String,
    started: Instant,
    /// Set once the run's time is up and every fault has ended, plus a calm second.
    stop: std::sync::atomic::AtomicBool,
    http: reqwest::Client,
}

/// A fault of the schedule.
enum Fault {
    Kill,
    Outage(ProxyMode, Duration),
}

pub async fn run(args: ChaosArgs) -> anyhow::Result<()> {
    let seed = args.seed.unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64));
    println!("giftbiz chaos: seed {seed} ({} s, {} kills, {} clients)", args.seconds, args.kills, args.clients);
    let dir = tempfile::tempdir()?;
    let url = args.database.clone().unwrap_or_else(|| format!("sqlite://{}", dir.path().join("chaos.db").display()));
    let settings = bench_settings(&url)?;
    let gateway_log = dir.path().join("messages.jsonl");
    let env = vec![
        ("GIFTBIZ_GATEWAY_LOG_PATH".to_owned(), gateway_log.display().to_string()),
        ("GIFTBIZ_DELIVERY_INTERVAL_MS".to_owned(), "100".to_owned()),
        // A killed worker's claims wait out their lease before another takes them.
        ("GIFTBIZ_DELIVERY_LEASE_MS".to_owned(), LEASE_MS.to_string()),
    ];

    let store = db::open_store(&settings).await?;
    let (brands, catalog) = demo_catalog(50);
    store.upsert_catalog(&brands, &catalog).await?;
    let goods = catalog.iter().find(|g| g.state == giftbiz_core::GoodsState::Sale).context("a goods on sale")?;
    let user = UserId::parse(&format!("chaos{}", seed % 1_000_000))?;
    let issued = operator::create_account(store.as_ref(), &user, Grade::Basic).await?;
    operator::change_bizmoney(store.as_ref(), &user, Won::new(1_000_000_000), LedgerReason::Charge, "chaos").await?;
    store.close().await;

    // The server reaches PostgreSQL through the fault proxy when outages are asked for; the
    // harness's own checks go straight to the database.
    let proxy = if args.outages > 0 {
        let upstream = url_host_port(&url).filter(|_| !url.starts_with("sqlite:")).context("--outages needs a PostgreSQL --database")?;
        Some(FaultProxy::start(upstream.to_owned()).await?)
    } else {
        None
    };
    let served = match &proxy {
        Some(p) => giftbiz_server::Settings { database_url: p.url_through(&url).context("the proxied URL")?, ..settings.clone() },
        None => settings.clone(),
    };
    let mut server = ChildServer::start_with_env(&served, &env).await?;
    let run = Arc::new(Run {
        base: RwLock::new(server.base.clone()),
        user_id: user.to_string(),
        auth_code: issued.account.auth_code.clone(),
        auth_token: issued.token.expose().to_owned(),
        goods: goods.goods_code.to_string(),
        started: Instant::now(),
        stop: std::sync::atomic::AtomicBool::new(false),
        http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?,
    });

    let mut schedule = StdRng::seed_from_u64(seed);
    let span = args.seconds.max(1) * 1000;
    let mut faults: Vec<(Duration, Fault)> =
        (0..args.kills).map(|_| (Duration::from_millis(schedule.random_range(0..span)), Fault::Kill)).collect();
    let client_seeds: Vec<u64> = (0..args.clients).map(|_| schedule.random()).collect();
    for n in 0..args.outages {
        let mode = if n % 2 == 0 { ProxyMode::Refuse } else { ProxyMode::Stall };
        let length = Duration::from_millis(schedule.random_range(1000..3000));
        faults.push((Duration::from_millis(schedule.random_range(0..span)), Fault::Outage(mode, length)));
    }
    faults.sort_by_key(|(at, _)| *at);
    let clients: Vec<_> = client_seeds
        .into_iter()
        .enumerate()
        .map(|(n, s)| tokio::spawn(client(run.clone(), n, StdRng::seed_from_u64(s))))
        .collect();

    let mut restarts = Vec::new();
    let mut probes = Told::default();
    let mut outages = 0;
    let mut fault_violations = Vec::new();
    for (at, fault) in faults {
        tokio::time::sleep_until((run.started + at).into()).await;
        match fault {
            Fault::Kill => {
                println!("  {:>6.1} s: SIGKILL", run.started.elapsed().as_secs_f64());
                server.stop(); // SIGKILL: no shutdown, no flush
                let t = Instant::now();
                server = ChildServer::start_with_env(&served, &env).await?;
                *run.base.write().await = server.base.clone();
                // Restart to the first 0000: a send of the harness's own, retried until issued.
                let tr_id = format!("probe{}", restarts.len());
                let deadline = Instant::now() + Duration::from_secs(30);
                loop {
                    let form = [("goods_code", run.goods.as_str()), ("tr_id", tr_id.as_str()), ("gubun", "Y"),
                        ("phone_no", "01012345678"), ("callback_no", "15880108"), ("mms_title", "chaos"), ("mms_msg", "chaos")];
                    let v = call(&run, "/bizApi/send", "0204", &form).await;
                    if v.as_ref().is_some_and(|v| v["code"] == "0000" && v["result"]["code"] == "0000") {
                        probes.sent.push((tr_id, 'Y'));
                        break;
                    }
                    anyhow::ensure!(Instant::now() < deadline, "no send was issued within 30 s of a restart");
                }
                restarts.push(t.elapsed());
            }
            Fault::Outage(mode, length) => {
                println!("  {:>6.1} s: database {mode:?} for {:.1} s", run.started.elapsed().as_secs_f64(), length.as_secs_f64());
                let proxy = proxy.as_ref().context("outages need the proxy")?;
                proxy.set(mode);
                outages += 1;
                let health = run.http.get(format!("{}/health", server.base)).send().await.map(|r| r.status().as_u16());
                if !matches!(health, Ok(200)) {
                    fault_violations.push(format!("/health answered {health:?} during a database {mode:?}"));
                }
                tokio::time::sleep(length).await;
                proxy.set(ProxyMode::Forward);
            }
        }
    }
    // The last faults may end past the run's time: the workload goes on a moment after them, so
    // the timeline shows the recovery.
    tokio::time::sleep_until((run.started + Duration::from_secs(args.seconds)).into()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    run.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut told = vec![probes];
    for c in clients {
        told.push(c.await??);
    }

    let (mut violations, mms) = check(&run, &settings, &told, &gateway_log).await?;
    violations.extend(fault_violations);
    server.stop();

    let sum = |f: fn(&Told) -> u64| told.iter().map(f).sum::<u64>();
    restarts.sort();
    let median = restarts.get(restarts.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let worst = restarts.last().map_or(0.0, |d| d.as_secs_f64() * 1e3);
    println!(
        "operations {}, kills {}, outages {outages}, sends acknowledged {}, cancels acknowledged {}, answers lost {}, MMS deliveries checked {mms}; restart to the first 0000: median {median:.0} ms, at most {worst:.0} ms",
        sum(|t| t.operations),
        restarts.len(),
        sum(|t| t.sent.len() as u64),
        sum(|t| t.cancelled.len() as u64),
        sum(|t| t.unanswered.len() as u64),
    );
    if outages > 0 {
        let seconds = told.iter().flat_map(|t| &t.acked_at).map(|at| at.as_secs() as usize).max().unwrap_or(0);
        let mut per_second = vec![0_u32; seconds + 1];
        for at in told.iter().flat_map(|t| &t.acked_at) {
            per_second[at.as_secs() as usize] += 1;
        }
        let line: Vec<String> = per_second.iter().map(u32::to_string).collect();
        println!("sends acknowledged per second: {}", line.join(" "));
    }
    for v in &violations {
        println!("VIOLATION {v}");
    }
    anyhow::ensure!(violations.is_empty(), "{} violations (seed {seed})", violations.len());
    println!("every promise held (seed {seed})");
    Ok(())
}

async fn client(run: Arc<Run>, n: usize, mut rng: StdRng) -> anyhow::Result<Told> {
    let mut told = Told::default();
    let mut i = 0_u64;
    while !run.stop.load(std::sync::atomic::Ordering::SeqCst) {
        i += 1;
        told.operations += 1;
        let roll = rng.random_range(0..100);
        if roll < 55 || told.sent.is_empty() {
            let tr_id = format!("c{n}_{i}");
            let gubun = if rng.random_range(0..10) < 7 { 'Y' } else { 'N' };
            let g = gubun.to_string();
            match call(&run, "/bizApi/send", "0204", &[("goods_code", &run.goods), ("tr_id", &tr_id), ("gubun", &g),
                ("phone_no", "01012345678"), ("callback_no", "15880108"), ("mms_title", "chaos"), ("mms_msg", "chaos")]).await {
                Some(v) if v["code"] == "0000" && v["result"]["code"] == "0000" => {
                    told.sent.push((tr_id, gubun));
                    told.acked_at.push(run.started.elapsed());
                }
                Some(_) => {}
                None => told.unanswered.push(tr_id),
            }
        } else if roll < 75 {
            let (tr_id, _) = told.sent[rng.random_range(0..told.sent.len())].clone();
            if let Some(v) = call(&run, "/bizApi/cancel", "0202", &[("tr_id", &tr_id)]).await {
                if v["code"] == "0000" {
                    told.cancelled.push(tr_id);
                }
            }
        } else if roll < 85 {
            call(&run, "/bizApi/sendFail/cancel", "0205", &[("tr_id", &format!("f{n}_{i}"))]).await;
        } else {
            let (tr_id, _) = told.sent[rng.random_range(0..told.sent.len())].clone();
            call(&run, "/bizApi/resend", "0203", &[("tr_id", &tr_id)]).await;
        }
    }
    Ok(told)
}

/// One call; `None` when no answer came (the server was killed, or was down). A down server
/// is waited for before the next call, so the workload goes on after each restart.
async fn call(run: &Run, path: &str, api_code: &str, extra: &[(&str, &str)]) -> Option<Value> {
    let base = run.base.read().await.clone();
    let mut form = vec![
        ("api_code", api_code),
        ("custom_auth_code", run.auth_code.as_str()),
        ("custom_auth_token", run.auth_token.as_str()),
        ("dev_yn", "N"),
        ("user_id", run.user_id.as_str()),
    ];
    form.extend_from_slice(extra);
    let answer = run.http.post(format!("{base}{path}")).form(&form).send().await;
    match answer {
        Ok(resp) => resp.json::<Value>().await.ok(),
        Err(_) => {
            // Until a restart publishes a new address, or the run ends.
            while *run.base.read().await == base && !run.stop.load(std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            None
        }
    }
}

/// Every promise against the database and the gateway's log, after the last restart.
/// Returns the violations and how many MMS deliveries it checked.
async fn check(run: &Run, settings: &giftbiz_server::Settings, told: &[Told], gateway_log: &std::path::Path) -> anyhow::Result<(Vec<String>, usize)> {
    let store = db::open_store(settings).await?;
    let mut violations = invariants::check(store.as_ref()).await?.violations;
    let account = store.account_by_user_id(&UserId::parse(&run.user_id)?).await?.context("the chaos account")?;
    let mut stays_issued_mms = Vec::new();
    for t in told {
        for (tr_id, gubun) in &t.sent {
            match store.coupon_by_tr_id(account.id, &giftbiz_core::send::TrId::parse(tr_id, usize::MAX)?).await? {
                None => violations.push(format!("send {tr_id} was answered 0000 but has no coupon")),
                Some(c) if *gubun == 'N' && c.status == PinStatus::Issued => stays_issued_mms.push((tr_id.clone(), c.order_no.to_string())),
                Some(_) => {}
            }
        }
        for tr_id in &t.cancelled {
            let coupon = store.coupon_by_tr_id(account.id, &giftbiz_core::send::TrId::parse(tr_id, usize::MAX)?).await?;
            if coupon.as_ref().map(|c| c.status) != Some(PinStatus::Cancelled) {
                violations.push(format!("cancel {tr_id} was answered 0000 but its coupon is not cancelled"));
            }
        }
    }
    store.close().await;

    // Deliveries: the running server's worker drains the outbox (claims of a killed worker
    // after their lease); each MMS of a coupon still issued must reach the gateway, every
    // attempt of a message with the same order number.
    let deadline = Instant::now() + Duration::from_millis(LEASE_MS) + Duration::from_secs(30);
    let delivered = loop {
        let (delivered, changed) = gateway_lines(gateway_log);
        if stays_issued_mms.iter().all(|(tr_id, _)| delivered.contains_key(tr_id)) || Instant::now() > deadline {
            violations.extend(changed);
            break delivered;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (tr_id, order_no) in &stays_issued_mms {
        match delivered.get(tr_id) {
            None => violations.push(format!("the MMS of {tr_id} never reached the gateway")),
            Some(seen) if seen != order_no => violations.push(format!("the MMS of {tr_id} carried order {seen}, its coupon is {order_no}")),
            Some(_) => {}
        }
    }
    Ok((violations, stays_issued_mms.len()))
}

/// The gateway log's MMS lines: tr_id → order number, and a violation for each message whose
/// attempts disagree.
fn gateway_lines(path: &std::path::Path) -> (HashMap<String, String>, Vec<String>) {
    let mut violations = Vec::new();
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut seen: HashMap<String, (String, String)> = HashMap::new();
    let mut out = HashMap::new();
    for line in text.lines() {
        // A line cut by a kill is the gateway's partial write, not a delivery.
        let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
        if v["kind"] != "mms" {
            continue;
        }
        let (id, tr_id, order_no) = (v["message_id"].as_str().unwrap_or(""), v["tr_id"].as_str().unwrap_or(""), v["order_no"].as_str().unwrap_or(""));
        match seen.get(id) {
            Some((t, o)) if t != tr_id || o != order_no => violations.push(format!("message {id} changed between attempts")),
            _ => {
                seen.insert(id.to_owned(), (tr_id.to_owned(), order_no.to_owned()));
            }
        }
        out.insert(tr_id.to_owned(), order_no.to_owned());
    }
    (out, violations)
}
