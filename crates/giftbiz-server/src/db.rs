//! Opens the store the database URL names: `sqlite://…` or `postgres://…`.

use std::sync::Arc;

use anyhow::Context;
use giftbiz_core::Store;

/// Connects and migrates (every command migrates the database when needed).
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let scheme = url.split(':').next().unwrap_or("");
    let store: Arc<dyn Store> = match scheme {
        "sqlite" => Arc::new(giftbiz_store_sqlite::connect(url).await.with_context(|| format!("opening {url}"))?),
        "postgres" | "postgresql" => {
            Arc::new(giftbiz_store_postgres::connect(url).await.with_context(|| format!("opening {}", redact(url)))?)
        }
        _ => anyhow::bail!("unsupported database URL {:?}: use sqlite://FILE or postgres://…", redact(url)),
    };
    Ok(store)
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("sqlite://giftbiz.db"), "sqlite://giftbiz.db");
    }
}
