//! The delivery worker: claims due messages from the outbox, hands them to the gateway, and
//! records each outcome.
//!
//! Every server runs one (unless `delivery_interval_ms = 0`); on PostgreSQL several servers
//! share the outbox, each claim skipping the others' rows. A claim is a lease: a worker that
//! dies mid-delivery loses it when the lease runs out and another worker delivers the message
//! again under the same idempotency key. Time comes from the clock, so tests move a manual
//! clock instead of sleeping.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use giftbiz_core::delivery::{Claim, DeliveryOutcome, OutboxMessage};
use giftbiz_core::time::Clock;
use giftbiz_core::Store;
use rand::RngCore;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::beat::Beat;
use crate::config::Settings;
use crate::metrics::names;
use crate::delivery::{compose, Gateway, GatewayAnswer};
use crate::catalog_view::ImageUrls;

/// Messages claimed per round. With `CONCURRENCY` in flight and the webhook's 10 s timeout, a
/// round ends well within the default 60 s lease.
pub const BATCH: u32 = 32;
const CONCURRENCY: usize = 8;
/// The first retry waits this long, each next one twice as long, up to `MAX_BACKOFF_MS`.
pub const FIRST_BACKOFF_MS: i64 = 1_000;
pub const MAX_BACKOFF_MS: i64 = 5 * 60_000;

/// `sendRstCd`/`sendRstMsg` of a message that ran out of attempts. The gateway's own error
/// stays in the outbox (`last_error`): it may name internal hosts.
pub const EXHAUSTED_CODE: &str = "9999";
pub const EXHAUSTED_MSG: &str = "Delivery failed";

pub struct DeliveryWorker {
    store: Arc<dyn Store>,
    gateway: Arc<dyn Gateway>,
    clock: Arc<dyn Clock>,
    worker_id: String,
    settings: Arc<Settings>,
    urls: ImageUrls,
}

/// How long to wait before the attempt after attempt number `attempts` (1-based).
pub fn backoff_ms(attempts: i32) -> i64 {
    let doublings = (attempts.max(1) - 1).min(30) as u32;
    (FIRST_BACKOFF_MS << doublings).min(MAX_BACKOFF_MS)
}

impl DeliveryWorker {
    /// A worker with a fresh random id (claims are per worker, so two workers never share one).
    pub fn new(store: Arc<dyn Store>, gateway: Arc<dyn Gateway>, clock: Arc<dyn Clock>, settings: Arc<Settings>) -> Self {
        let mut id = [0u8; 8];
        rand::rng().fill_bytes(&mut id);
        DeliveryWorker {
            store,
            gateway,
            clock,
            worker_id: format!("w-{}", hex::encode(id)),
            urls: ImageUrls::new(settings.public_base()),
            settings,
        }
    }

    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// One round: claim up to [`BATCH`] due messages, deliver them, record the outcomes.
    /// Returns how many were claimed (0 also when the store failed, which is logged).
    pub async fn run_once(&self) -> usize {
        let lease_ms = i64::try_from(self.settings.delivery_lease_ms).unwrap_or(i64::MAX / 4);
        let claim = Claim { now_ms: self.clock.now_ms(), limit: BATCH, lease_ms, worker: &self.worker_id };
        let claimed = self.store.claim_due_messages(&claim).await;
        let messages = match claimed {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "claiming due messages failed");
                return 0;
            }
        };
        let n = messages.len();
        futures_util::stream::iter(messages)
            .map(|m| self.deliver(m))
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<()>>()
            .await;
        n
    }

    /// Delivers `m` within a span of the request that queued it, so every log line of the
    /// delivery carries that request's id.
    async fn deliver(&self, m: OutboxMessage) {
        let request_id = m.request_id.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default();
        let span = tracing::info_span!("delivery", request_id = %request_id, message = m.id);
        self.deliver_in_span(m).instrument(span).await
    }

    async fn deliver_in_span(&self, m: OutboxMessage) {
        let answer = self.gateway.deliver(&compose(&m, &self.urls)).await;
        let now = self.clock.now_ms();
        let outcome = match answer {
            GatewayAnswer::Delivered { code, msg } => DeliveryOutcome::Delivered { result_code: code, result_message: msg },
            GatewayAnswer::Rejected { code, msg } => DeliveryOutcome::Failed { result_code: code, result_message: msg },
            GatewayAnswer::Transient(error) if m.attempts >= self.settings.delivery_max_attempts as i32 => {
                tracing::warn!(tr_id = %m.tr_id, attempts = m.attempts, %error, "message out of attempts");
                DeliveryOutcome::Failed { result_code: EXHAUSTED_CODE.into(), result_message: EXHAUSTED_MSG.into() }
            }
            GatewayAnswer::Transient(error) => {
                DeliveryOutcome::Retry { next_attempt_at_ms: now + backoff_ms(m.attempts), error }
            }
        };
        let what = match &outcome {
            DeliveryOutcome::Delivered { .. } => "delivered",
            DeliveryOutcome::Retry { .. } => "retry",
            DeliveryOutcome::Failed { .. } => "failed",
        };
        metrics::counter!(names::DELIVERY_ATTEMPTS, "outcome" => what).increment(1);
        // tr_id, order number and a masked phone: never the PIN or the text.
        match self.store.finish_message(m.id, &self.worker_id, &outcome, now).await {
            Ok(true) => tracing::info!(
                tr_id = %m.tr_id, order_no = %m.order_no, kind = m.kind.code(), phone = %m.phone_no.masked(),
                attempt = m.attempts, gateway = self.gateway.name(), outcome = what, "message"
            ),
            // Cancelled meanwhile, or our lease ran out and another worker took it over.
            Ok(false) => tracing::info!(tr_id = %m.tr_id, outcome = what, "message no longer ours; outcome dropped"),
            Err(e) => tracing::warn!(tr_id = %m.tr_id, error = %e, "recording a message outcome failed"),
        }
    }

    /// Runs rounds every `delivery_interval_ms` (at once again after a full batch) until
    /// `shutdown` turns true or its sender is dropped; a round in progress finishes first.
    pub fn spawn(self: Arc<Self>, beat: Arc<Beat>, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        let interval = Duration::from_millis(self.settings.delivery_interval_ms.max(1));
        tokio::spawn(async move {
            let _alive = beat.alive();
            tracing::info!(worker = %self.worker_id, gateway = self.gateway.name(), "delivery worker started");
            loop {
                let n = self.run_once().await;
                beat.round();
                if *shutdown.borrow() {
                    break;
                }
                if n >= BATCH as usize {
                    continue;
                }
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = shutdown.changed() => break,
                }
            }
            tracing::info!(worker = %self.worker_id, "delivery worker stopped");
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_the_cap() {
        let waits: Vec<i64> = (1..=4).map(backoff_ms).collect();
        assert_eq!(waits, [1_000, 2_000, 4_000, 8_000]);
        assert_eq!(backoff_ms(9), 256_000);
        assert_eq!(backoff_ms(10), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(i32::MAX), MAX_BACKOFF_MS);
    }
}
