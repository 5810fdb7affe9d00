//! What tells caches that accounts or the catalog changed (`ChangeFeed`).

use giftbiz_core::freshness::{ChangeListener, LocalChanges, OnChange, Revisions};
use giftbiz_core::StoreError;

use crate::{backend, sql_impl};

sql_impl! { impl ChangeFeed {
    fn local_changes(&self) -> &LocalChanges {
        &self.changes
    }

    async fn revisions(&self) -> Result<Revisions, StoreError> {
        let (catalog, accounts): (i64, i64) = sqlx::query_as("SELECT revision, accounts_revision FROM catalog_meta WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(Revisions { catalog, accounts })
    }

    fn listen_changes(&self, on_change: OnChange) -> Option<ChangeListener> {
        D::listen_changes(&self.pool, on_change)
    }
} }
