//! Authentication without a database round trip: the accounts that authenticated, and the
//! catalog revision, kept in memory and served while provably fresh.
//!
//! An entry is stamped with the change counts current before its database read: the store's
//! own writes ([`giftbiz_core::freshness::LocalChanges`], bumped as each commits) and the
//! changes this server heard of from elsewhere (PostgreSQL's `LISTEN`, or the revisions its
//! watcher polls, see `jobs::cache_watch`). It serves only while both are unchanged, and only
//! until `fresh_until`: the start of the watcher's last successful poll plus
//! `cache_max_stale_ms`. That poll saw every change committed before it began, so a change
//! made anywhere, even one whose notification was lost, stops being served stale within
//! `cache_max_stale_ms` of its commit, and at once when this process made it. If the watcher
//! cannot poll, the cache goes stale and every call reads the database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use giftbiz_core::account::AuthCode;
use giftbiz_core::{Account, Store, StoreError};
use tokio::sync::watch;

pub struct AuthCache {
    store: Arc<dyn Store>,
    /// `None`: off, every call reads the database.
    max_stale: Option<Duration>,
    epoch: Instant,
    /// Nanoseconds after `epoch` until which entries may serve.
    fresh_until: AtomicU64,
    /// Changes heard of from other writers, and the watcher's successful polls.
    heard: watch::Sender<Heard>,
    entries: RwLock<Entries>,
    /// Lookups that went to the database.
    database_reads: AtomicU64,
}

/// What the watcher told the cache so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Heard {
    /// Changes by other writers (or moments one may have gone unheard).
    pub changes: u64,
    /// Successful polls of the revisions.
    pub polls: u64,
}

#[derive(Default)]
struct Entries {
    stamp: Stamp,
    accounts: HashMap<Box<str>, Account>,
    catalog_revision: Option<i64>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    local: u64,
    remote: u64,
}

impl AuthCache {
    /// A cache whose entries serve for at most `max_stale` after a change (`None`: off).
    pub fn new(store: Arc<dyn Store>, max_stale: Option<Duration>) -> AuthCache {
        AuthCache {
            store,
            max_stale,
            epoch: Instant::now(),
            fresh_until: AtomicU64::new(0),
            heard: watch::Sender::new(Heard::default()),
            entries: RwLock::default(),
            database_reads: AtomicU64::new(0),
        }
    }

    pub fn max_stale(&self) -> Option<Duration> {
        self.max_stale
    }

    /// The account with this auth code and the catalog revision, as `AccountStore::auth_lookup`
    /// gives them, from memory when fresh.
    pub async fn lookup(&self, auth_code: &AuthCode) -> Result<Option<(Account, i64)>, StoreError> {
        if self.max_stale.is_none() {
            return self.read(auth_code).await;
        }
        let stamp = self.stamp();
        if self.is_fresh() {
            let entries = self.entries.read().expect("auth cache lock");
            if entries.stamp == stamp {
                if let (Some(account), Some(revision)) = (entries.accounts.get(auth_code.as_str()), entries.catalog_revision) {
                    return Ok(Some((account.clone(), revision)));
                }
            }
        }
        let found = self.read(auth_code).await?;
        if let Some((account, revision)) = &found {
            let mut entries = self.entries.write().expect("auth cache lock");
            // A change since `stamp` may be newer than what was read: keep nothing then.
            if self.stamp() == stamp {
                if entries.stamp != stamp {
                    *entries = Entries { stamp, ..Entries::default() };
                }
                entries.accounts.insert(auth_code.as_str().into(), account.clone());
                entries.catalog_revision = Some(*revision);
            }
        }
        Ok(found)
    }

    async fn read(&self, auth_code: &AuthCode) -> Result<Option<(Account, i64)>, StoreError> {
        self.database_reads.fetch_add(1, Ordering::Relaxed);
        crate::metrics::timed("auth", self.store.auth_lookup(auth_code)).await
    }

    fn stamp(&self) -> Stamp {
        Stamp { local: self.store.local_changes().get(), remote: self.heard.borrow().changes }
    }

    fn is_fresh(&self) -> bool {
        self.nanos(Instant::now()) < self.fresh_until.load(Ordering::Acquire)
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Another writer may have changed accounts or the catalog: nothing cached serves again.
    pub fn changed_elsewhere(&self) {
        self.heard.send_modify(|h| h.changes += 1);
    }

    /// The watcher's poll that began at `started` saw every change committed before then.
    pub fn polled(&self, started: Instant) {
        if let Some(max_stale) = self.max_stale {
            self.fresh_until.fetch_max(self.nanos(started + max_stale), Ordering::AcqRel);
        }
        self.heard.send_modify(|h| h.polls += 1);
    }

    /// How many lookups went to the database.
    pub fn database_reads(&self) -> u64 {
        self.database_reads.load(Ordering::Relaxed)
    }

    /// What the watcher told the cache, for whoever waits on it (tests).
    pub fn subscribe(&self) -> watch::Receiver<Heard> {
        self.heard.subscribe()
    }
}
