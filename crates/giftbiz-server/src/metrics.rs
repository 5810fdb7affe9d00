//! Prometheus metrics: the names, the process's recorder, and the figures a scrape reads from
//! the database. Code records through the `metrics` facade (`metrics::counter!(names::…)`);
//! with no recorder installed (`metrics = false`) a record is a no-op.
//!
//! No label carries a tr_id, user id, phone number or PIN: every label's values are a fixed
//! set (api codes, result codes, gubun, outcomes, ledger directions).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::probe::ScrapeFigures;
use giftbiz_core::Store;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Every metric's name, and its help text below in [`describe`].
pub mod names {
    pub const API_REQUESTS: &str = "giftbiz_api_requests_total";
    pub const API_DURATION: &str = "giftbiz_api_request_duration_seconds";
    pub const COUPONS_ISSUED: &str = "giftbiz_coupons_issued_total";
    pub const COUPONS_CANCELLED: &str = "giftbiz_coupons_cancelled_total";
    pub const BIZMONEY_WON: &str = "giftbiz_bizmoney_won_total";
    pub const OUTBOX_PENDING: &str = "giftbiz_outbox_pending";
    pub const OUTBOX_OLDEST: &str = "giftbiz_outbox_oldest_pending_seconds";
    pub const LOW_BALANCE_ACCOUNTS: &str = "giftbiz_accounts_low_balance";
    pub const DELIVERY_ATTEMPTS: &str = "giftbiz_delivery_attempts_total";
    pub const PARTNER_REQUESTS: &str = "giftbiz_partner_requests_total";
    pub const DB_CONNECTIONS: &str = "giftbiz_db_pool_connections";
    pub const DB_QUERY_DURATION: &str = "giftbiz_db_query_duration_seconds";
    pub const GROUP_COMMIT_BATCH: &str = giftbiz_store_sqlite::GROUP_COMMIT_BATCH_METRIC;
    pub const BUILD_INFO: &str = "giftbiz_build_info";
}

/// Seconds: from a cached catalog page (well under a millisecond) to a stalled database.
const LATENCY_BUCKETS: &[f64] = &[0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Sends per SQLite commit.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed by the first server that wants metrics; `None` if some
/// other recorder was installed first.
pub fn install() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(names::GROUP_COMMIT_BATCH.into()), BATCH_BUCKETS))
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            metrics::gauge!(names::BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(names::API_REQUESTS, "/bizApi calls by api_code and the answer's result code");
    describe_histogram!(names::API_DURATION, Unit::Seconds, "/bizApi call duration by api_code");
    describe_counter!(names::COUPONS_ISSUED, "Coupons issued by gubun (N MMS, Y PIN, I image)");
    describe_counter!(names::COUPONS_CANCELLED, "Coupons cancelled by kind (0202, 0205, expiry)");
    describe_counter!(names::DELIVERY_ATTEMPTS, "Delivery attempts by outcome (delivered, retry, failed)");
    describe_counter!(names::PARTNER_REQUESTS, "Partner API requests by action and outcome");
    describe_histogram!(names::DB_QUERY_DURATION, Unit::Seconds, "Store calls of the request path by operation");
    describe_histogram!(names::GROUP_COMMIT_BATCH, "Sends per SQLite group commit");
    describe_gauge!(names::BUILD_INFO, "Always 1, labelled with the running version");
}

/// `call`, a store call of the request path, timed under `op` (the query duration a
/// dashboard shows beside the pool's connections).
pub async fn timed<T>(op: &'static str, call: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let out = call.await;
    metrics::histogram!(names::DB_QUERY_DURATION, "op" => op).record(started.elapsed().as_secs_f64());
    out
}

/// Keeps the recorder's histograms drained between scrapes (their samples would pile up in a
/// server nobody scrapes).
pub fn spawn_upkeep(handle: &'static PrometheusHandle) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            handle.run_upkeep();
        }
    })
}

/// The won of each `direction` label: what sends charged, what cancels gave back, what
/// operators added and took (ledger entries carry their sign; a send's is negative).
fn won_by_direction(figures: &ScrapeFigures) -> [(&'static str, i64); 4] {
    let mut won = [("charged_by_sends", 0), ("refunded", 0), ("charged_by_operators", 0), ("taken_by_operators", 0)];
    for t in &figures.ledger {
        match t.reason {
            LedgerReason::Send => won[0].1 += t.debit - t.credit,
            LedgerReason::CancelRefund | LedgerReason::SendFailRefund => won[1].1 += t.credit - t.debit,
            LedgerReason::Charge | LedgerReason::Adjustment => {
                won[2].1 += t.credit;
                won[3].1 += t.debit;
            }
        }
    }
    won
}

/// The scrape's database figures, read at most once per `ttl` (operators' commands and other
/// instances move money too, so they come from the ledger, not from this process's memory).
/// They are rendered per server, after the recorder's series: two servers in one process (tests,
/// benchmarks) each show their own database.
pub struct ScrapeCache {
    ttl: Duration,
    /// `console_low_balance_won`: accounts below it are counted.
    low_balance: i64,
    last: Mutex<Option<(Instant, Arc<ScrapeFigures>)>>,
}

impl ScrapeCache {
    pub fn new(ttl: Duration, low_balance: i64) -> ScrapeCache {
        ScrapeCache { ttl, low_balance, last: Mutex::new(None) }
    }

    /// Fresh figures, or the last ones while they are younger than `ttl`, or when the
    /// database does not answer (logged).
    async fn figures(&self, store: &dyn Store, now_ms: i64) -> Option<Arc<ScrapeFigures>> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some((at, figures)) = &last {
            if at.elapsed() < self.ttl {
                return Some(figures.clone());
            }
        }
        match store.scrape_figures(now_ms, self.low_balance).await {
            Ok(figures) => {
                let figures = Arc::new(figures);
                *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), figures.clone()));
                Some(figures)
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the scrape's figures failed");
                last.map(|(_, figures)| figures)
            }
        }
    }

    /// The recorder's series, then this server's database figures and pool.
    pub async fn render(&self, handle: &PrometheusHandle, store: &dyn Store, now_ms: i64) -> String {
        let mut out = handle.render();
        if let Some(f) = self.figures(store, now_ms).await {
            family(&mut out, names::BIZMONEY_WON, "counter", "Won moved, from the ledger, by direction");
            for (direction, won) in won_by_direction(&f) {
                out.push_str(&format!("{}{{direction=\"{direction}\"}} {}\n", names::BIZMONEY_WON, won.max(0)));
            }
            family(&mut out, names::OUTBOX_PENDING, "gauge", "Messages due and not yet delivered");
            out.push_str(&format!("{} {}\n", names::OUTBOX_PENDING, f.outbox_due));
            family(&mut out, names::OUTBOX_OLDEST, "gauge", "Age in seconds of the oldest message due and not yet delivered");
            let oldest_ms = f.oldest_due_at_ms.map_or(0, |at| (now_ms - at).max(0));
            out.push_str(&format!("{} {}\n", names::OUTBOX_OLDEST, oldest_ms as f64 / 1000.0));
            family(&mut out, names::LOW_BALANCE_ACCOUNTS, "gauge", "Accounts whose bizmoney is below console_low_balance_won");
            out.push_str(&format!("{} {}\n", names::LOW_BALANCE_ACCOUNTS, f.low_balance_accounts));
        }
        let pool = store.pool_status();
        family(&mut out, names::DB_CONNECTIONS, "gauge", "Database pool connections by state (in_use, idle, max)");
        for (state, n) in [("in_use", pool.in_use), ("idle", pool.idle), ("max", pool.max)] {
            out.push_str(&format!("{}{{state=\"{state}\"}} {n}\n", names::DB_CONNECTIONS));
        }
        out
    }
}

/// The `# HELP` and `# TYPE` lines of a family, after a blank line as the recorder separates them.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
}
