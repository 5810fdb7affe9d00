//! Keeps the auth cache ([`crate::auth_cache`]) honest about other writers: on PostgreSQL it
//! listens for the triggers' notifications, and on both engines it polls the revisions every
//! half `cache_max_stale_ms`. A poll that saw the revisions move empties the cache; every
//! successful poll renews its freshness. The poll is one indexed single-row read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use giftbiz_core::freshness::Revisions;
use tokio::task::JoinHandle;

use crate::auth_cache::AuthCache;

/// Watches until aborted; `None` when the cache is off.
pub fn spawn(cache: Arc<AuthCache>, store: Arc<dyn giftbiz_core::Store>) -> Option<JoinHandle<()>> {
    let max_stale = cache.max_stale()?;
    let listener = {
        let cache = cache.clone();
        store.listen_changes(Arc::new(move || cache.changed_elsewhere()))
    };
    Some(tokio::spawn(async move {
        let poll = poll(cache, store, max_stale / 2);
        match listener {
            Some(listener) => {
                tokio::join!(listener, poll);
            }
            None => poll.await,
        }
    }))
}

async fn poll(cache: Arc<AuthCache>, store: Arc<dyn giftbiz_core::Store>, every: Duration) {
    let mut seen: Option<Revisions> = None;
    let mut failing = false;
    let mut ticks = tokio::time::interval(every.max(Duration::from_millis(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let started = Instant::now();
        match store.revisions().await {
            Ok(now) => {
                // The first poll too: entries read before it may predate a change it sees.
                if seen != Some(now) {
                    cache.changed_elsewhere();
                    seen = Some(now);
                }
                cache.polled(started);
                failing = false;
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "reading the cache revisions failed; authenticating from the database until it works");
                }
                failing = true;
            }
        }
    }
}
