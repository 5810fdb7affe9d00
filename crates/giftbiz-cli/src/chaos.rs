//! `giftbiz chaos`: the fault harness. A `giftbiz serve` child process on the database takes a
//! seeded random workload over HTTP (sends of gubun Y and N, cancels, sendFail cancels,
//! resends) while it is killed with SIGKILL at seeded random moments and restarted; at the end
//! every promise is checked against what the clients were told:
//! - the money rules over the whole database (`giftbiz check`);
//! - every send answered `0000` exists with its charge; every cancel answered `0000` left its
//!   coupon cancelled;
//! - every MMS of a coupon that stayed issued reaches the gateway, each message always with the
//!   same order number;
//! - every send goes through the SDK's safe send: one whose answer was lost (a kill cut it, or
//!   the database was away) is settled by its chase, and the settled outcome must agree with
//!   0201 (a send settled as not issued is unknown to 0201 and a late send of its tr_id is
//!   refused; one settled as cancelled is cancelled).
//!
//! With `--coupons N` the database first holds N coupons (of other accounts), so the restart
//! times show what the data's size costs a start.
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
use giftbiz_client::{ChasePolicy, Client, Config, Credentials, Error, Gubun, ResendVia, ResultCode, SendOutcome, SendRequest, Timeouts};
use giftbiz_core::coupon::{LedgerReason, PinStatus};
use giftbiz_core::{Grade, UserId, Won};
use giftbiz_server::demo::catalog::demo_catalog;
use giftbiz_server::demo::coupons::load_coupons;
use giftbiz_server::fault::{url_host_port, FaultProxy, ProxyMode};
use giftbiz_server::{db, invariants, operator};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

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
    /// Coupons (of accounts of their own) in the database before the run: what a restart costs
    /// at that size.
    #[arg(long, default_value_t = 0)]
    coupons: u64,
}

/// The clients' chase of a lost answer: the server restarts in well under a second, a
/// database outage lasts at most 3 s.
const CHASE: ChasePolicy =
    ChasePolicy { first_delay: Duration::from_millis(50), max_delay: Duration::from_secs(1), max_attempts: 60 };

/// What one client was told.
#[derive(Default)]
struct Told {
    /// tr_ids whose send was answered 0000, with their gubun.
    sent: Vec<(String, char)>,
    /// tr_ids whose cancel was answered 0000.
    cancelled: Vec<String>,
    /// tr_ids whose send's answer was lost, with what the safe send's chase settled it as.
    settled: Vec<(String, &'static str)>,
    /// tr_ids whose chase gave up (settled again at the end).
    unsettled: Vec<String>,
    operations: u64,
    /// When each send was acknowledged, from the run's start: the timeline.
    acked_at: Vec<Duration>,
}

struct Run {
    /// Every restart is on the same port, so clients carry on where they were.
    base: String,
    port: u16,
    user_id: String,
    auth_code: String,
    auth_token: String,
    goods: String,
    started: Instant,
    /// Set once the run's time is up and every fault has ended, plus a calm second.
    stop: std::sync::atomic::AtomicBool,
    http: reqwest::Client,
}

impl Run {
    /// An SDK client of the run's account.
    fn sdk(&self) -> anyhow::Result<Client> {
        let credentials = Credentials::new(&self.auth_code, &self.auth_token, &self.user_id);
        let config = Config::new(credentials)
            .with_base_url(format!("{}/bizApi", self.base))
            .with_timeouts(Timeouts::uniform(Duration::from_secs(10)));
        Ok(Client::new(config)?)
    }

    fn stopped(&self) -> bool {
        self.stop.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// After a call that could not connect: until the server answers `/health` again (it is
    /// restarting), or the run ends.
    async fn wait_up(&self) {
        while !self.stopped() && !matches!(self.http.get(format!("{}/health", self.base)).send().await, Ok(r) if r.status().is_success()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn send_request(tr_id: &str, goods: &str, gubun: Gubun) -> SendRequest {
    SendRequest::new(tr_id, goods, gubun, "01012345678").callback_no("15880108").title("chaos").message("chaos")
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
    if args.coupons > 0 {
        // Four accounts, so PostgreSQL's per-account send gates do not serialize the load.
        let mut owners = Vec::new();
        for n in 0..4 {
            let owner = UserId::parse(&format!("load{n}x{}", seed % 1_000_000))?;
            operator::create_account(store.as_ref(), &owner, Grade::Basic).await?;
            owners.push(owner);
        }
        let t = Instant::now();
        load_coupons(store.clone(), &owners, &goods.goods_code, args.coupons, 32).await?;
        let took = t.elapsed().as_secs_f64();
        println!("loaded {} coupons in {took:.1} s ({:.0}/s)", args.coupons, args.coupons as f64 / took);
    }
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut server = ChildServer::start_at(&served, &env, port).await?;
    let run = Arc::new(Run {
        base: server.base.clone(),
        port,
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
    let probe = run.sdk()?;
    let mut outages = 0;
    let mut fault_violations = Vec::new();
    for (at, fault) in faults {
        tokio::time::sleep_until((run.started + at).into()).await;
        match fault {
            Fault::Kill => {
                println!("  {:>6.1} s: SIGKILL", run.started.elapsed().as_secs_f64());
                server.stop(); // SIGKILL: no shutdown, no flush
                let t = Instant::now();
                server = ChildServer::start_at(&served, &env, run.port).await?;
                // Restart to the first 0000: sends of the harness's own until one is issued.
                let deadline = Instant::now() + Duration::from_secs(30);
                for attempt in 0.. {
                    let tr_id = format!("probe{}_{attempt}", restarts.len());
                    if safe_send(&run, &probe, &mut probes, &tr_id, Gubun::Pin).await {
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
                let health = run.http.get(format!("{}/health", run.base)).send().await.map(|r| r.status().as_u16());
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
    // The chases that gave up, once more now that the server stays up.
    for t in &mut told {
        for tr_id in std::mem::take(&mut t.unsettled) {
            match probe.settle(&tr_id, &CHASE).await {
                Ok(outcome) => t.settled.push((tr_id, outcome.state())),
                Err(e) => fault_violations.push(format!("the lost send {tr_id} could not be settled: {e}")),
            }
        }
    }

    let (mut violations, mms) = check(&run, &probe, &settings, &told, &gateway_log).await?;
    violations.extend(fault_violations);
    server.stop();

    let sum = |f: fn(&Told) -> u64| told.iter().map(f).sum::<u64>();
    restarts.sort();
    let median = restarts.get(restarts.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let worst = restarts.last().map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let settled_as = |state: &str| told.iter().flat_map(|t| &t.settled).filter(|(_, s)| *s == state).count();
    println!(
        "operations {}, kills {}, outages {outages}, sends acknowledged {}, cancels acknowledged {}, answers lost {} (settled by the safe send: {} not issued, {} issued and cancelled), MMS deliveries checked {mms}; restart to the first 0000: median {median:.0} ms, at most {worst:.0} ms",
        sum(|t| t.operations),
        restarts.len(),
        sum(|t| t.sent.len() as u64),
        sum(|t| t.cancelled.len() as u64),
        sum(|t| t.settled.len() as u64),
        settled_as("not_issued"),
        settled_as("cancelled"),
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
    let sdk = run.sdk()?;
    let mut told = Told::default();
    let mut i = 0_u64;
    while !run.stopped() {
        i += 1;
        told.operations += 1;
        let roll = rng.random_range(0..100);
        if roll < 55 || told.sent.is_empty() {
            let gubun = if rng.random_range(0..10) < 7 { Gubun::Pin } else { Gubun::Mms };
            safe_send(&run, &sdk, &mut told, &format!("c{n}_{i}"), gubun).await;
            continue;
        }
        let (tr_id, _) = told.sent[rng.random_range(0..told.sent.len())].clone();
        let answer = if roll < 75 {
            let answer = sdk.cancel(&tr_id).await;
            if answer.is_ok() {
                told.cancelled.push(tr_id);
            }
            answer
        } else if roll < 85 {
            sdk.send_fail_cancel(format!("f{n}_{i}")).await
        } else {
            sdk.resend(&tr_id, ResendVia::Mms).await
        };
        if matches!(answer, Err(Error::Transport { .. } | Error::Timeout { .. })) {
            run.wait_up().await;
        }
    }
    Ok(told)
}

/// One send through the SDK's safe send, recorded in `told`; whether it was issued.
async fn safe_send(run: &Run, sdk: &Client, told: &mut Told, tr_id: &str, gubun: Gubun) -> bool {
    match sdk.safe_send(&send_request(tr_id, &run.goods, gubun), &CHASE).await {
        Ok(SendOutcome::Issued(_)) => {
            told.sent.push((tr_id.to_owned(), gubun.code().chars().next().unwrap_or('?')));
            told.acked_at.push(run.started.elapsed());
            return true;
        }
        // Never connected: the server is restarting.
        Ok(SendOutcome::NotIssued { refusal: Some(Error::Transport { .. }) }) => run.wait_up().await,
        Ok(SendOutcome::NotIssued { refusal: Some(_) }) => {}
        Ok(other) => told.settled.push((tr_id.to_owned(), other.state())),
        Err(_) => told.unsettled.push(tr_id.to_owned()),
    }
    false
}

/// Every promise against the database and the gateway's log, after the last restart.
/// Returns the violations and how many MMS deliveries it checked.
async fn check(
    run: &Run,
    sdk: &Client,
    settings: &giftbiz_server::Settings,
    told: &[Told],
    gateway_log: &std::path::Path,
) -> anyhow::Result<(Vec<String>, usize)> {
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
    for (tr_id, state) in told.iter().flat_map(|t| &t.settled) {
        violations.extend(check_settled(run, sdk, tr_id, state).await);
    }

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

/// A lost send's settled outcome against 0201; one settled as not issued must also stay
/// refused (its tr_id is tombstoned).
async fn check_settled(run: &Run, sdk: &Client, tr_id: &str, state: &str) -> Option<String> {
    let status = match sdk.coupon_detail(tr_id).await {
        Ok(list) => list.first().and_then(|c| c.pin_status_cd.clone()),
        Err(e) if e.is(ResultCode::TrIdNotFound) => None,
        Err(e) => return Some(format!("0201 of the settled send {tr_id}: {e}")),
    };
    match (state, status.as_deref()) {
        ("not_issued", None) => match sdk.send(&send_request(tr_id, &run.goods, Gubun::Pin)).await {
            Err(e) if e.is(ResultCode::TrIdDuplicate) => None,
            other => Some(format!("a late send of {tr_id}, settled as not issued, was answered {other:?}")),
        },
        ("cancelled", Some(code)) if code == PinStatus::Cancelled.code() => None,
        (state, status) => Some(format!("the lost send {tr_id} was settled as {state}, 0201 says pin status {status:?}")),
    }
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
