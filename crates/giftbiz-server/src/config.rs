//! Server settings: defaults, then an optional TOML file, then `GIFTBIZ_…` environment
//! variables, then command-line flags (each layer overrides the one before).

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// The SQLite file every command uses unless told otherwise.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://giftbiz.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://FILE` or `postgres://…`.
    pub database_url: String,
    pub listen: String,
    /// Base of every absolute URL the API returns (image URLs); defaults to `http://{listen}`.
    pub public_url: Option<String>,
    /// Seed a demo catalog and account into an empty database.
    pub demo: bool,
    /// Accept `dev_yn=Y` (a sandbox); the live service answers ERR0100.
    pub accept_dev: bool,
    /// tr_id length limit in bytes (ERR0807).
    pub tr_id_max_bytes: usize,
    /// mms_title length limit in characters (ERR0806); the spec's prose says 10.
    pub title_max_chars: usize,
    /// Largest `size` the goods list accepts (PAG0001 above).
    pub page_size_cap: u32,
    /// Largest request body read; larger ones are refused with ERR0201.
    pub max_body_bytes: usize,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// How messages go out: `log` (a JSON-lines file, the sandbox default) or `webhook` (the
    /// operator's SMS/MMS adapter).
    pub gateway: String,
    /// The log gateway's file, appended to.
    pub gateway_log_path: String,
    /// The webhook gateway's adapter URL.
    pub webhook_url: Option<String>,
    /// The key of the webhook's HMAC-SHA256 signature.
    pub webhook_secret: Option<Secret>,
    /// Pause between delivery rounds; 0 runs no delivery worker in this server (another
    /// instance on the same database delivers).
    pub delivery_interval_ms: u64,
    /// Attempts per message before it is recorded as failed.
    pub delivery_max_attempts: u32,
    /// How long a claimed message stays a worker's; after that, another worker may take it.
    pub delivery_lease_ms: u64,
    /// Pause between runs of the expiry job (issued coupons past their validity become 08); 0
    /// runs no expiry job in this server (another instance on the same database does).
    pub expiry_interval_ms: u64,
    /// Partner API attempts (lookups and redemptions) each partner may make per minute, in
    /// bursts of up to as many; 0 sets no limit.
    pub partner_rate_per_minute: u32,
    /// Sandbox faults for integrators (README "Sandbox"): failures chosen per request by a
    /// tr_id prefix or the `X-Giftbiz-Fault` header, a gateway that fails `FG_` messages, and
    /// a clock the operator advances. Never on in production.
    pub sandbox: bool,
    /// The `X-Giftbiz-Admin-Token` of the sandbox admin calls (`/sandbox/...`); required when
    /// `sandbox` is on.
    pub admin_token: Option<Secret>,
}

/// A setting kept out of `Debug` output, so printing the settings never leaks it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_owned())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            listen: DEFAULT_LISTEN.to_owned(),
            public_url: None,
            demo: true,
            accept_dev: false,
            tr_id_max_bytes: 25,
            title_max_chars: 20,
            page_size_cap: 5000,
            max_body_bytes: 1 << 20,
            log_format: "text".to_owned(),
            gateway: "log".to_owned(),
            gateway_log_path: "giftbiz-messages.jsonl".to_owned(),
            webhook_url: None,
            webhook_secret: None,
            delivery_interval_ms: 500,
            delivery_max_attempts: 8,
            delivery_lease_ms: 60_000,
            expiry_interval_ms: 60_000,
            partner_rate_per_minute: 600,
            sandbox: false,
            admin_token: None,
        }
    }
}

impl Settings {
    /// Defaults, overridden by `file` (if given) and then by the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut settings = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))?
            }
            None => Settings::default(),
        };
        settings.apply_env(|k| std::env::var(k).ok())?;
        Ok(settings)
    }

    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parsed<T: std::str::FromStr>(name: &str, v: String) -> anyhow::Result<T> {
            v.trim().parse().map_err(|_| anyhow::anyhow!("{name}={v:?} is not a valid value"))
        }
        fn flag(name: &str, v: String) -> anyhow::Result<bool> {
            match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => anyhow::bail!("{name}={v:?} is not true or false"),
            }
        }
        if let Some(v) = var("GIFTBIZ_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = var("GIFTBIZ_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = var("GIFTBIZ_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = var("GIFTBIZ_DEMO") {
            self.demo = flag("GIFTBIZ_DEMO", v)?;
        }
        if let Some(v) = var("GIFTBIZ_ACCEPT_DEV") {
            self.accept_dev = flag("GIFTBIZ_ACCEPT_DEV", v)?;
        }
        if let Some(v) = var("GIFTBIZ_TR_ID_MAX_BYTES") {
            self.tr_id_max_bytes = parsed("GIFTBIZ_TR_ID_MAX_BYTES", v)?;
        }
        if let Some(v) = var("GIFTBIZ_TITLE_MAX_CHARS") {
            self.title_max_chars = parsed("GIFTBIZ_TITLE_MAX_CHARS", v)?;
        }
        if let Some(v) = var("GIFTBIZ_PAGE_SIZE_CAP") {
            self.page_size_cap = parsed("GIFTBIZ_PAGE_SIZE_CAP", v)?;
        }
        if let Some(v) = var("GIFTBIZ_MAX_BODY_BYTES") {
            self.max_body_bytes = parsed("GIFTBIZ_MAX_BODY_BYTES", v)?;
        }
        if let Some(v) = var("GIFTBIZ_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = var("GIFTBIZ_GATEWAY") {
            self.gateway = v;
        }
        if let Some(v) = var("GIFTBIZ_GATEWAY_LOG_PATH") {
            self.gateway_log_path = v;
        }
        if let Some(v) = var("GIFTBIZ_WEBHOOK_URL") {
            self.webhook_url = Some(v);
        }
        if let Some(v) = var("GIFTBIZ_WEBHOOK_SECRET") {
            self.webhook_secret = Some(Secret(v));
        }
        if let Some(v) = var("GIFTBIZ_DELIVERY_INTERVAL_MS") {
            self.delivery_interval_ms = parsed("GIFTBIZ_DELIVERY_INTERVAL_MS", v)?;
        }
        if let Some(v) = var("GIFTBIZ_DELIVERY_MAX_ATTEMPTS") {
            self.delivery_max_attempts = parsed("GIFTBIZ_DELIVERY_MAX_ATTEMPTS", v)?;
        }
        if let Some(v) = var("GIFTBIZ_DELIVERY_LEASE_MS") {
            self.delivery_lease_ms = parsed("GIFTBIZ_DELIVERY_LEASE_MS", v)?;
        }
        if let Some(v) = var("GIFTBIZ_EXPIRY_INTERVAL_MS") {
            self.expiry_interval_ms = parsed("GIFTBIZ_EXPIRY_INTERVAL_MS", v)?;
        }
        if let Some(v) = var("GIFTBIZ_PARTNER_RATE_PER_MINUTE") {
            self.partner_rate_per_minute = parsed("GIFTBIZ_PARTNER_RATE_PER_MINUTE", v)?;
        }
        if let Some(v) = var("GIFTBIZ_SANDBOX") {
            self.sandbox = flag("GIFTBIZ_SANDBOX", v)?;
        }
        if let Some(v) = var("GIFTBIZ_ADMIN_TOKEN") {
            self.admin_token = Some(Secret(v));
        }
        Ok(())
    }

    /// The delivery settings make sense together: a known gateway, and the webhook's URL and
    /// secret when it is chosen (a server that cannot deliver should not start).
    pub fn validate_delivery(&self) -> anyhow::Result<()> {
        match self.gateway.as_str() {
            "log" => {}
            "webhook" => {
                let url = self.webhook_url.as_deref().map(str::trim).unwrap_or("");
                if url.is_empty() {
                    anyhow::bail!("gateway = \"webhook\" needs webhook_url (GIFTBIZ_WEBHOOK_URL)");
                }
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    anyhow::bail!("webhook_url {url:?} is not an http:// or https:// URL");
                }
                if self.webhook_secret.as_ref().is_none_or(|s| s.expose().is_empty()) {
                    anyhow::bail!("gateway = \"webhook\" needs webhook_secret (GIFTBIZ_WEBHOOK_SECRET)");
                }
            }
            other => anyhow::bail!("gateway {other:?} is not \"log\" or \"webhook\""),
        }
        if self.delivery_max_attempts == 0 {
            anyhow::bail!("delivery_max_attempts must be at least 1");
        }
        if self.delivery_lease_ms == 0 {
            anyhow::bail!("delivery_lease_ms must be positive");
        }
        Ok(())
    }

    /// A sandbox needs its admin token (the clock can only be advanced with it).
    pub fn validate_sandbox(&self) -> anyhow::Result<()> {
        if self.sandbox && self.admin_token.as_ref().is_none_or(|t| t.expose().trim().is_empty()) {
            anyhow::bail!("sandbox = true needs admin_token (GIFTBIZ_ADMIN_TOKEN)");
        }
        Ok(())
    }

    /// The public base URL without a trailing slash.
    pub fn public_base(&self) -> String {
        let base = self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen));
        base.trim_end_matches('/').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("giftbiz.toml");
        std::fs::write(&path, "page_size_cap = 100\ndemo = false\ntitle_max_chars = 10\n").unwrap();
        let mut s: Settings = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(s.page_size_cap, 100);
        assert!(!s.demo);
        s.apply_env(|k| (k == "GIFTBIZ_PAGE_SIZE_CAP").then(|| "7".to_owned())).unwrap();
        assert_eq!(s.page_size_cap, 7);
        assert_eq!(s.title_max_chars, 10);
        assert_eq!(s.tr_id_max_bytes, 25);
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        let mut s = Settings::default();
        let err = s.apply_env(|k| (k == "GIFTBIZ_DEMO").then(|| "maybe".to_owned())).unwrap_err();
        assert!(err.to_string().contains("GIFTBIZ_DEMO"));
        assert!(toml::from_str::<Settings>("no_such_setting = 1").is_err());
    }

    #[test]
    fn the_webhook_gateway_needs_its_url_and_secret() {
        assert!(Settings::default().validate_delivery().is_ok());
        let webhook = Settings { gateway: "webhook".into(), ..Settings::default() };
        assert!(webhook.validate_delivery().unwrap_err().to_string().contains("webhook_url"));
        let no_secret = Settings { webhook_url: Some("http://127.0.0.1:9/sms".into()), ..webhook.clone() };
        assert!(no_secret.validate_delivery().unwrap_err().to_string().contains("webhook_secret"));
        let ok = Settings { webhook_secret: Some("k".into()), ..no_secret };
        assert!(ok.validate_delivery().is_ok());
        assert!(!format!("{ok:?}").contains("\"k\""), "the secret stays out of Debug");
        let bad = Settings { gateway: "pigeon".into(), ..Settings::default() };
        assert!(bad.validate_delivery().is_err());
        let mut s = Settings::default();
        s.apply_env(|k| (k == "GIFTBIZ_WEBHOOK_SECRET").then(|| "env-secret".to_owned())).unwrap();
        assert_eq!(s.webhook_secret.unwrap().expose(), "env-secret");
    }

    #[test]
    fn the_sandbox_is_off_by_default_and_needs_an_admin_token() {
        let s = Settings::default();
        assert!(!s.sandbox);
        assert!(s.validate_sandbox().is_ok());
        let mut s = Settings::default();
        s.apply_env(|k| (k == "GIFTBIZ_SANDBOX").then(|| "true".to_owned())).unwrap();
        assert!(s.sandbox);
        assert!(s.validate_sandbox().unwrap_err().to_string().contains("admin_token"));
        s.apply_env(|k| (k == "GIFTBIZ_ADMIN_TOKEN").then(|| "t0ken".to_owned())).unwrap();
        assert!(s.validate_sandbox().is_ok());
        assert!(!format!("{s:?}").contains("t0ken"), "the token stays out of Debug");
        let from_file: Settings = toml::from_str("sandbox = true\nadmin_token = \"x\"\n").unwrap();
        assert!(from_file.sandbox && from_file.validate_sandbox().is_ok());
    }

    #[test]
    fn public_base_defaults_to_the_listen_address() {
        let s = Settings::default();
        assert_eq!(s.public_base(), "http://127.0.0.1:8080");
        let s = Settings { public_url: Some("https://gift.example/".into()), ..Settings::default() };
        assert_eq!(s.public_base(), "https://gift.example");
    }
}
