//! `LISTEN giftbiz_cache`: the triggers of migration 0020 notify it at the commit of every
//! change of accounts or the catalog, whoever makes it, with the schema as payload.

use std::time::Duration;

use giftbiz_core::freshness::{ChangeListener, OnChange};
use sqlx::postgres::{PgListener, PgPool};

pub const CHANNEL: &str = "giftbiz_cache";

/// Pause before listening again after the connection failed.
const RETRY: Duration = Duration::from_secs(1);

pub fn listener(pool: &PgPool, on_change: OnChange) -> ChangeListener {
    let pool = pool.clone();
    Box::pin(async move {
        loop {
            if let Err(e) = listen(&pool, &on_change).await {
                tracing::warn!(error = %e, "listening for cache changes failed; retrying");
            }
            // Whatever was notified meanwhile went unheard.
            on_change();
            tokio::time::sleep(RETRY).await;
        }
    })
}

/// Listens until the connection fails for good.
async fn listen(pool: &PgPool, on_change: &OnChange) -> Result<(), sqlx::Error> {
    // The pool's connections have the store's search_path: this is the schema its triggers name.
    let schema: String = sqlx::query_scalar("SELECT current_schema()").fetch_one(pool).await?;
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Changes before the LISTEN took effect were not heard.
    on_change();
    loop {
        match listener.try_recv().await? {
            Some(n) if n.payload() == schema => on_change(),
            Some(_) => {}
            // The connection was lost (it reconnects, listening again, on the next call), and
            // with it any notification sent meanwhile.
            None => on_change(),
        }
    }
}
