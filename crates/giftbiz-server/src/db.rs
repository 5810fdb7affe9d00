//! Opens the store the database URL names (`sqlite://…` or `postgres://…`) with the PIN key
//! ring the settings name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use giftbiz_core::pin_vault::PinVault;
use giftbiz_core::Store;

use crate::config::Settings;

/// Connects and migrates (every command migrates the database when needed), sealing any clear
/// PIN left from an older version.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let url = settings.database_url.as_str();
    let vault = Arc::new(pin_vault(settings)?);
    let scheme = url.split(':').next().unwrap_or("");
    let store: Arc<dyn Store> = match scheme {
        "sqlite" => Arc::new(giftbiz_store_sqlite::connect(url, vault).await.with_context(|| format!("opening {url}"))?),
        "postgres" | "postgresql" => Arc::new(
            giftbiz_store_postgres::connect(url, vault).await.with_context(|| format!("opening {}", redact(url)))?,
        ),
        _ => anyhow::bail!("unsupported database URL {:?}: use sqlite://FILE or postgres://…", redact(url)),
    };
    Ok(store)
}

/// A consistent online copy of the SQLite database to the new file `out`. PostgreSQL has
/// its own tools (`pg_dump`, or base backups with WAL archiving for point-in-time recovery).
pub async fn backup(settings: &Settings, out: &Path) -> anyhow::Result<()> {
    let url = settings.database_url.as_str();
    anyhow::ensure!(
        sqlite_file(url).is_some_and(|f| f.is_some()),
        "giftbiz backup copies SQLite files; back PostgreSQL up with pg_dump (or base backups and WAL archiving)"
    );
    giftbiz_store_sqlite::backup(url, out).await.with_context(|| format!("backing {url} up to {}", out.display()))
}

/// The PIN key ring: `pin_key`, else `pin_key_file`, else (SQLite only) the key file beside
/// the database, made on first use; an in-memory SQLite database gets a key of its own.
pub fn pin_vault(settings: &Settings) -> anyhow::Result<PinVault> {
    if let Some(ring) = &settings.pin_key {
        return PinVault::parse(ring.expose()).context("reading pin_key");
    }
    if let Some(path) = &settings.pin_key_file {
        return read_key_file(Path::new(path));
    }
    match sqlite_file(&settings.database_url) {
        Some(None) => Ok(PinVault::ephemeral()),
        Some(Some(db)) => {
            let mut path = db.into_os_string();
            path.push(".pin-key");
            let path = PathBuf::from(path);
            if !path.exists() {
                create_key_file(&path)?;
                eprintln!(
                    "giftbiz: made the PIN key file {} (owner-only): PINs are stored sealed under it. \
                     Back it up apart from the database; without it no stored PIN can be read.",
                    path.display()
                );
            }
            read_key_file(&path)
        }
        None => anyhow::bail!(
            "a PostgreSQL database needs a PIN key: set pin_key_file (or GIFTBIZ_PIN_KEY) to a key ring \
             made with `giftbiz pin-key generate`"
        ),
    }
}

/// For a `sqlite:` URL, its file (`None` for an in-memory database); `None` for other engines.
fn sqlite_file(url: &str) -> Option<Option<PathBuf>> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let memory = path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory");
    Some((!memory).then(|| PathBuf::from(path)))
}

fn read_key_file(path: &Path) -> anyhow::Result<PinVault> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("reading the PIN key file {} (make one with `giftbiz pin-key generate > FILE`)", path.display())
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "the PIN key file is readable by others: chmod 600 it");
        }
    }
    PinVault::parse(&text).with_context(|| format!("reading the PIN key file {}", path.display()))
}

/// A new key ring file of one key, readable by its owner only (made so from the start, never
/// widened then narrowed).
fn create_key_file(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("creating the PIN key file {}", path.display()))?;
    writeln!(file, "# giftbiz PIN key ring: ID:KEY per line, the newest (which seals) last.")?;
    writeln!(file, "{}", PinVault::generate_line())?;
    file.sync_all()?;
    Ok(())
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
    fn sqlite_urls_name_their_file() {
        use std::path::PathBuf;
        assert_eq!(super::sqlite_file("sqlite://giftbiz.db"), Some(Some(PathBuf::from("giftbiz.db"))));
        assert_eq!(super::sqlite_file("sqlite:///tmp/a.db?mode=rwc"), Some(Some(PathBuf::from("/tmp/a.db"))));
        assert_eq!(super::sqlite_file("sqlite::memory:"), Some(None));
        assert_eq!(super::sqlite_file("sqlite://x.db?mode=memory"), Some(None));
        assert_eq!(super::sqlite_file("postgres://h/db"), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("sqlite://giftbiz.db"), "sqlite://giftbiz.db");
    }
}
