//! The expiry job: issued coupons (01) whose validity has ended become expired (08, 기간만료),
//! and a message of theirs not yet delivered is cancelled.
//!
//! Every server runs one (unless `expiry_interval_ms = 0`); on PostgreSQL several servers'
//! jobs share the work, each batch skipping the coupons another holds. Time comes from the
//! clock, so tests move a manual clock and call [`ExpiryJob::run_once`] instead of sleeping.

use std::sync::Arc;
use std::time::Duration;

use giftbiz_core::time::Clock;
use giftbiz_core::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::beat::Beat;

/// Coupons expired per transaction: small enough that a batch holds the write lock (SQLite) or
/// its row locks (PostgreSQL) only briefly.
pub const BATCH: u32 = 500;

pub struct ExpiryJob {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

impl ExpiryJob {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> ExpiryJob {
        ExpiryJob { store, clock }
    }

    /// Expires every coupon due by now, batch after batch; returns how many. A store failure is
    /// logged and ends the run (the next run picks up what is left).
    pub async fn run_once(&self) -> u64 {
        let now = self.clock.now_ms();
        let mut total = 0;
        loop {
            match self.store.expire_coupons(now, BATCH).await {
                Ok(n) => {
                    total += n;
                    if n < u64::from(BATCH) {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "expiring coupons failed");
                    break;
                }
            }
        }
        if total > 0 {
            tracing::info!(expired = total, "coupons expired");
            metrics::counter!(crate::metrics::names::COUPONS_CANCELLED, "kind" => "expiry").increment(total);
        }
        total
    }

    /// Runs every `interval`, the first run at once, until `shutdown` turns true or its sender
    /// is dropped; a run in progress finishes first.
    pub fn spawn(self: Arc<Self>, interval: Duration, beat: Arc<Beat>, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let _alive = beat.alive();
            tracing::info!(interval_ms = interval.as_millis() as u64, "expiry job started");
            loop {
                self.run_once().await;
                beat.round();
                if *shutdown.borrow() {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = shutdown.changed() => break,
                }
            }
            tracing::info!("expiry job stopped");
        })
    }
}
