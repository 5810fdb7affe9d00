//! How a server's in-process caches of accounts and the catalog learn that those changed, so
//! that a call authenticates without a database round trip and still never outlives an
//! operator's change by more than a bound (see the server's `auth_cache`).
//!
//! Three signals, from nearest to farthest: this store's own writes (counted in
//! [`LocalChanges`] after they commit: seen at once); PostgreSQL notifications from a trigger,
//! whoever wrote (another instance, the operator CLI, plain SQL); and the [`Revisions`] row
//! that the same triggers bump, which the server polls as the bound on everything else.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The database's revisions of what caches hold: the catalog's (every catalog write bumps it)
/// and the accounts' (a trigger bumps it on any change of an account's auth code, token,
/// grade or suspension, and on a new or removed account).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revisions {
    pub catalog: i64,
    pub accounts: i64,
}

/// How many writes of accounts or the catalog this store has committed.
#[derive(Debug, Default)]
pub struct LocalChanges(AtomicU64);

impl LocalChanges {
    /// After a write of accounts or the catalog committed.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// Called when another writer may have changed accounts or the catalog.
pub type OnChange = Arc<dyn Fn() + Send + Sync>;

/// A task that runs until dropped, calling its [`OnChange`] on each change it hears of.
pub type ChangeListener = Pin<Box<dyn Future<Output = ()> + Send>>;
