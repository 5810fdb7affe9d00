//! Synchronous reads for the queries on every call's path (the auth lookup, a send's goods).
//!
//! Through sqlx, each SQLite query hops to its connection's worker thread and back; on the
//! goods-list hot path that hop, not SQLite, was most of the cost (`giftbiz bench catalog`:
//! 16,400 req/s with it, 54,000 with no lookup at all). A read-only connection used directly on
//! the calling thread answers a primary-key lookup in microseconds and, unlike a cache, always
//! sees what another process (the operator CLI) committed a moment ago.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use giftbiz_core::StoreError;
use rusqlite::{Connection, OpenFlags};

/// Idle read-only connections to one file; a caller takes one, reads, and puts it back, so there
/// are never more than the number of threads reading at once.
pub(crate) struct HotReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl HotReader {
    pub(crate) fn new(path: PathBuf) -> HotReader {
        HotReader {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `read` on an idle connection (opening one if none is idle). A connection that
    /// failed is dropped rather than reused.
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().map_err(|e| StoreError::Backend(Box::new(e)))?,
        };
        let result = read(&conn).map_err(|e| StoreError::Backend(Box::new(e)))?;
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        Ok(result)
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        // Readers wait only in rare WAL recovery; never long, since this blocks its thread.
        conn.busy_timeout(Duration::from_secs(2))?;
        Ok(conn)
    }
}
