//! Server settings: defaults, then an optional TOML file, then `GIFTBIZ_…` environment
//! variables, then command-line flags, each layer overriding the one before, merged key by key
//! by figment. Every key is named once, by its field: `page_size_cap` in the file is
//! `GIFTBIZ_PAGE_SIZE_CAP` in the environment. [`Settings::show`] tells where each value came
//! from.

use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

/// The SQLite file every command uses unless told otherwise.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://giftbiz.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The shortest `admin_token` the server starts with.
pub const ADMIN_TOKEN_MIN_CHARS: usize = 16;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://FILE` or `postgres://…`.
    pub database_url: String,
    pub listen: String,
    /// Base of every absolute URL the API returns (image URLs); defaults to `http://{listen}`.
    pub public_url: Option<String>,
    /// Seed the demo catalog and account into a brand-new empty database: `true` on any
    /// engine, `false` never; unset, only on SQLite (the embedded default). A database that
    /// holds any catalog or account is never seeded.
    pub demo: Option<bool>,
    /// Accept `dev_yn=Y` (a sandbox); the live service answers ERR0100.
    pub accept_dev: bool,
    /// tr_id length limit in characters (ERR0807): 20 is the live service's, 25 the spec's.
    pub tr_id_max_chars: usize,
    /// mms_title length limit in characters (ERR0806); the spec's prose says 10.
    pub title_max_chars: usize,
    /// Largest `size` the goods list accepts (PAG0001 above).
    pub page_size_cap: u32,
    /// Largest `/bizApi` request body read; larger ones are refused with ERR0201. The default
    /// holds a 2000-character Hangul message percent-encoded (about 18 KB) with room to spare.
    pub max_body_bytes: usize,
    /// Connections served at once; beyond it new ones wait in the kernel's backlog. Keep it
    /// well under the descriptor limit (raised to its hard limit at start; the server warns
    /// when this does not fit).
    pub max_connections: usize,
    /// How long a connection may take to send a request head, and may sit idle between
    /// requests, before it is closed.
    pub request_head_timeout_ms: u64,
    /// How long a `/bizApi` request may take to send its whole body (ERR0201 after).
    pub request_body_timeout_ms: u64,
    /// The deadline of a whole request, from its head to its answer (E9999 under `/bizApi`,
    /// 408 elsewhere).
    pub request_timeout_ms: u64,
    /// On SIGTERM (or Ctrl-C) the server stops accepting at once and gives the requests in
    /// flight this long to finish before it drops their connections; the workers finish their
    /// current batch.
    pub shutdown_timeout_ms: u64,
    /// PEM certificate chain: with `tls_key_path`, the server speaks HTTPS (TLS 1.2 and 1.3)
    /// instead of HTTP.
    pub tls_cert_path: Option<String>,
    /// PEM private key of `tls_cert_path`.
    pub tls_key_path: Option<String>,
    /// The PIN key ring inline (`ID:BASE64` keys, newest last, separated by commas or
    /// newlines; `giftbiz pin-key generate` makes one): PINs are sealed under it and found by
    /// its keyed hash. Prefer `pin_key_file`, or `GIFTBIZ_PIN_KEY` from a secret store.
    pub pin_key: Option<Secret>,
    /// A file holding the PIN key ring, one key per line. Unset with neither key set, SQLite
    /// uses `FILE.pin-key` beside its database `FILE`, made (owner-only) at the first start;
    /// PostgreSQL needs one of the two.
    pub pin_key_file: Option<String>,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Record Prometheus metrics and serve them at `GET /metrics`. Off only to measure what
    /// they cost.
    pub metrics: bool,
    /// Serve `/metrics` on this address (an admin port the internet does not reach) instead
    /// of the main listener.
    pub metrics_listen: Option<String>,
    /// How long a scrape's figures read from the database (bizmoney moved, the outbox's
    /// backlog) are reused by the next scrapes.
    pub metrics_cache_ms: u64,
    /// The longest an operator's change of an account (token, grade, suspension) or of the
    /// catalog made by another process or instance goes unseen by this server's in-memory
    /// authentication: it polls the database's revisions every half of this (PostgreSQL also
    /// hears of each change at once through `LISTEN`). Its own changes show at once. 0 turns
    /// the cache off: every call reads its account from the database.
    pub cache_max_stale_ms: u64,
    /// Give every request an id (a client's `X-Request-Id`, else a new one), echoed and on
    /// every log line of it. Off only to measure what it costs.
    pub request_ids: bool,
    /// Export the spans (each request's, each delivery's) to this OTLP/HTTP traces endpoint
    /// (`http://collector:4318/v1/traces`); needs a binary built with `--features otlp`.
    pub otlp_endpoint: Option<String>,
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
    /// Failed partner authentications allowed per minute from one address and for one partner
    /// code; past it, 429 with nothing written. 0 sets no limit.
    pub partner_auth_failures_per_minute: u32,
    /// Image renders (cache misses of catalog and coupon images) per minute for one client
    /// address; past it, 429. 0 sets no limit.
    pub image_renders_per_minute: u32,
    /// A console session unused this long ends.
    pub console_session_idle_ms: u64,
    /// A console session ends this long after its login, however much it is used.
    pub console_session_max_ms: u64,
    /// Failed logins of one username within `console_login_window_ms` that lock it for
    /// `console_lockout_ms` (the right password included).
    pub console_login_max_failures: u32,
    pub console_login_window_ms: u64,
    pub console_lockout_ms: u64,
    /// A console adjustment larger than this many won (either sign) waits for a second
    /// operator's approval.
    pub console_four_eyes_won: i64,
    /// The dashboard lists accounts whose bizmoney is below this many won.
    pub console_low_balance_won: i64,
    /// Failed console logins allowed per minute from one address; past it, 429 before any
    /// password is checked. 0 sets no limit.
    pub console_login_failures_per_minute: u32,
    /// Sandbox faults for integrators (README "Sandbox"): failures chosen per request by a
    /// tr_id prefix or the `X-Giftbiz-Fault` header, a gateway that fails `FG_` messages, and
    /// a clock the operator advances. Never on in production.
    pub sandbox: bool,
    /// The `X-Giftbiz-Admin-Token` of the sandbox admin calls (`/sandbox/...`); required when
    /// `sandbox` is on.
    pub admin_token: Option<Secret>,
}

impl Settings {
    /// The console's session and lockout rules.
    pub fn console_policy(&self) -> crate::usecases::console_auth::ConsolePolicy {
        let ms = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        crate::usecases::console_auth::ConsolePolicy {
            lockout: giftbiz_core::console::LockoutPolicy {
                max_failures: self.console_login_max_failures.max(1) as usize,
                window_ms: ms(self.console_login_window_ms),
                lockout_ms: ms(self.console_lockout_ms),
            },
            idle_ms: ms(self.console_session_idle_ms),
            absolute_ms: ms(self.console_session_max_ms),
        }
    }
}

/// A setting kept out of `Debug`, `Display` and serialized output, so printing the settings never
/// leaks it.
pub use giftbiz_wire::values::Secret;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            listen: DEFAULT_LISTEN.to_owned(),
            public_url: None,
            demo: None,
            accept_dev: false,
            tr_id_max_chars: giftbiz_core::send::TrId::LIVE_MAX_LEN,
            title_max_chars: 20,
            page_size_cap: 5000,
            max_body_bytes: 64 * 1024,
            max_connections: 512,
            request_head_timeout_ms: 10_000,
            request_body_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            shutdown_timeout_ms: 20_000,
            tls_cert_path: None,
            tls_key_path: None,
            pin_key: None,
            pin_key_file: None,
            log_format: "text".to_owned(),
            metrics: true,
            metrics_listen: None,
            metrics_cache_ms: 5_000,
            cache_max_stale_ms: 500,
            request_ids: true,
            otlp_endpoint: None,
            gateway: "log".to_owned(),
            gateway_log_path: "giftbiz-messages.jsonl".to_owned(),
            webhook_url: None,
            webhook_secret: None,
            delivery_interval_ms: 500,
            delivery_max_attempts: 8,
            delivery_lease_ms: 60_000,
            expiry_interval_ms: 60_000,
            partner_rate_per_minute: 600,
            partner_auth_failures_per_minute: 10,
            image_renders_per_minute: 120,
            console_session_idle_ms: 30 * 60_000,
            console_session_max_ms: 12 * 3_600_000,
            console_login_max_failures: 5,
            console_login_window_ms: 15 * 60_000,
            console_lockout_ms: 15 * 60_000,
            console_login_failures_per_minute: 20,
            console_low_balance_won: 100_000,
            console_four_eyes_won: 1_000_000,
            sandbox: false,
            admin_token: None,
        }
    }
}

/// The settings that `giftbiz` flags give (`--database`, `--listen`, `--public-url`,
/// `--demo`/`--no-demo`); `None` leaves the layers below as they are.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo: Option<bool>,
}

/// A layer of settings whose metadata spells each key as its source does (`--listen`,
/// `GIFTBIZ_LISTEN`), so errors and [`Settings::show`] name what the operator typed.
struct Layer<P> {
    name: &'static str,
    spell: fn(&str) -> String,
    values: P,
}

impl<P: Provider> Provider for Layer<P> {
    fn metadata(&self) -> Metadata {
        let spell = self.spell;
        Metadata::named(self.name).interpolater(move |_: &Profile, keys: &[&str]| spell(&keys.join(".")))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.values.data()
    }
}

/// The `GIFTBIZ_` variables that are settings, each kept as the string it is: figment's own
/// `Env` would read `GIFTBIZ_ADMIN_TOKEN=12345` as a number and refuse it for a string setting.
/// [`Settings::load`] parses numbers and booleans from the strings where a setting needs them.
struct RawEnv(Env);

impl Provider for RawEnv {
    fn metadata(&self) -> Metadata {
        self.0.metadata()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let dict: Dict = self.0.iter().map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.into())).collect();
        Ok(Profile::Default.collect(dict))
    }
}

fn env_name(key: &str) -> String {
    format!("GIFTBIZ_{}", key.to_ascii_uppercase())
}

/// The `giftbiz` flag that sets `key`.
fn flag_name(key: &str) -> String {
    match key {
        "database_url" => "--database".to_owned(),
        "demo" => "--demo/--no-demo".to_owned(),
        _ => format!("--{}", key.replace('_', "-")),
    }
}

/// One line of [`Settings::show`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub key: &'static str,
    /// The effective value as JSON (`***` for a secret, `null` when unset).
    pub value: serde_json::Value,
    /// `default`, `file PATH`, `env GIFTBIZ_…` or `flag --…`.
    pub from: String,
}

impl Settings {
    /// Every key, in the struct's order.
    pub fn keys() -> &'static [&'static str] {
        field_names::<Settings>()
    }

    /// The layers: defaults, `file` (if given; it must exist), the environment, `flags`.
    pub fn figment(file: Option<&Path>, flags: &Flags) -> anyhow::Result<Figment> {
        let defaults = Serialized::defaults(Settings::default());
        let mut figment = Figment::from(Layer { name: "default", spell: str::to_owned, values: defaults });
        if let Some(path) = file {
            anyhow::ensure!(path.is_file(), "reading config file {}: no such file", path.display());
            figment = figment.merge(Toml::file_exact(path));
        }
        let env = RawEnv(Env::prefixed("GIFTBIZ_").only(Settings::keys()));
        Ok(figment
            .merge(Layer { name: "env", spell: env_name, values: env })
            .merge(Layer { name: "flag", spell: flag_name, values: Serialized::defaults(flags.clone()) }))
    }

    /// Defaults, overridden by `file` (if given), the environment and `flags`. Booleans also
    /// read 1/0, yes/no and on/off.
    pub fn load(file: Option<&Path>, flags: &Flags) -> anyhow::Result<Settings> {
        Ok(Settings::figment(file, flags)?.extract_lossy()?)
    }

    /// The effective value of every key and the layer it came from.
    pub fn show(file: Option<&Path>, flags: &Flags) -> anyhow::Result<Vec<Origin>> {
        let figment = Settings::figment(file, flags)?;
        let settings: Settings = figment.extract_lossy()?;
        let serde_json::Value::Object(values) = serde_json::to_value(&settings)? else {
            anyhow::bail!("settings are not a map");
        };
        Ok(Settings::keys()
            .iter()
            .map(|&key| {
                let from = match figment.find_metadata(key) {
                    Some(md) if md.name == "env" || md.name == "flag" => {
                        format!("{} {}", md.name, md.interpolate(&Profile::Default, &[key]))
                    }
                    Some(md) => match &md.source {
                        Some(figment::Source::File(path)) => format!("file {}", path.display()),
                        _ => md.name.to_string(),
                    },
                    None => "default".to_owned(),
                };
                Origin { key, value: values.get(key).cloned().unwrap_or_default(), from }
            })
            .collect())
    }

    /// The edge's limits, checked before it listens.
    pub fn validate_edge(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.max_connections >= 1, "max_connections must be at least 1");
        anyhow::ensure!(self.max_body_bytes >= 1024, "max_body_bytes must be at least 1024");
        anyhow::ensure!(
            self.tls_cert_path.is_some() == self.tls_key_path.is_some(),
            "tls_cert_path and tls_key_path go together"
        );
        for (key, ms) in [
            ("request_head_timeout_ms", self.request_head_timeout_ms),
            ("request_body_timeout_ms", self.request_body_timeout_ms),
            ("request_timeout_ms", self.request_timeout_ms),
            ("shutdown_timeout_ms", self.shutdown_timeout_ms),
        ] {
            anyhow::ensure!(ms > 0, "{key} must be positive");
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

    /// A sandbox needs its admin token (the clock can only be advanced with it), and one long
    /// enough not to be guessed.
    pub fn validate_sandbox(&self) -> anyhow::Result<()> {
        let Some(token) = self.admin_token.as_ref().filter(|_| self.sandbox) else {
            anyhow::ensure!(!self.sandbox, "sandbox = true needs admin_token (GIFTBIZ_ADMIN_TOKEN)");
            return Ok(());
        };
        anyhow::ensure!(
            token.expose().trim().chars().count() >= ADMIN_TOKEN_MIN_CHARS,
            "admin_token must be at least {ADMIN_TOKEN_MIN_CHARS} characters (e.g. `openssl rand -hex 16`)"
        );
        Ok(())
    }

    /// `https` when a certificate is configured, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls_cert_path.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Whether `serve` offers to seed the demo (see `demo`).
    pub fn wants_demo(&self) -> bool {
        self.demo.unwrap_or_else(|| self.database_url.starts_with("sqlite:"))
    }

    /// The public base URL without a trailing slash.
    pub fn public_base(&self) -> String {
        let base = self.public_url.clone().unwrap_or_else(|| format!("{}://{}", self.scheme(), self.listen));
        base.trim_end_matches('/').to_owned()
    }
}

/// The field names of a struct that derives `Deserialize`, as serde sees them, so the keys are
/// spelled once, by the fields.
fn field_names<T: Deserialize<'static>>() -> &'static [&'static str] {
    struct Fields(&'static [&'static str]);

    impl<'de> serde::Deserializer<'de> for &mut Fields {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields;
            Err(serde::de::Error::custom("fields read"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields = Fields(&[]);
    let _ = T::deserialize(&mut fields);
    fields.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::Jail;

    /// Runs `f` with the process environment emptied of `GIFTBIZ_` settings, in a scratch
    /// directory (figment's jail restores both afterwards and runs one jail at a time).
    #[allow(clippy::result_large_err)] // figment's own error type, in its jail's signature
    fn jailed(f: impl FnOnce(&mut Jail) -> anyhow::Result<()>) {
        Jail::expect_with(|jail| {
            for key in Settings::keys() {
                std::env::remove_var(format!("GIFTBIZ_{}", key.to_ascii_uppercase()));
            }
            f(jail).map_err(|e| format!("{e:#}").into())
        });
    }

    #[test]
    fn file_then_environment_then_flags_override_defaults() {
        jailed(|jail| {
            jail.create_file("giftbiz.toml", "page_size_cap = 100\ndemo = false\ntitle_max_chars = 10\nlisten = \"0.0.0.0:1\"\n")?;
            let file = Some(Path::new("giftbiz.toml"));
            let s = Settings::load(file, &Flags::default())?;
            assert_eq!((s.page_size_cap, s.demo, s.title_max_chars), (100, Some(false), 10));
            jail.set_env("GIFTBIZ_PAGE_SIZE_CAP", "7");
            jail.set_env("GIFTBIZ_LISTEN", "0.0.0.0:2");
            let s = Settings::load(file, &Flags::default())?;
            assert_eq!((s.page_size_cap, s.title_max_chars, s.tr_id_max_chars), (7, 10, 20));
            assert_eq!(s.listen, "0.0.0.0:2");
            let flags = Flags { listen: Some("0.0.0.0:3".into()), demo: Some(true), ..Flags::default() };
            let s = Settings::load(file, &flags)?;
            assert_eq!((s.listen.as_str(), s.demo, s.page_size_cap), ("0.0.0.0:3", Some(true), 7));
            // Variables that are no setting (the CLI's, the tests') are left alone.
            jail.set_env("GIFTBIZ_CONFIG", "elsewhere.toml");
            jail.set_env("GIFTBIZ_TEST_DATABASE_URL", "postgres://x");
            assert!(Settings::load(file, &Flags::default()).is_ok());
            Ok(())
        });
    }

    #[test]
    fn booleans_read_the_usual_spellings() {
        jailed(|jail| {
            for (v, want) in [("1", true), ("yes", true), ("on", true), ("true", true), ("0", false), ("no", false), ("off", false)] {
                jail.set_env("GIFTBIZ_DEMO", v);
                assert_eq!(Settings::load(None, &Flags::default())?.demo, Some(want), "{v}");
            }
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        jailed(|jail| {
            jail.set_env("GIFTBIZ_DEMO", "maybe");
            let err = Settings::load(None, &Flags::default()).unwrap_err();
            assert!(format!("{err:#}").contains("GIFTBIZ_DEMO"), "{err:#}");
            jail.set_env("GIFTBIZ_DEMO", "true");
            jail.set_env("GIFTBIZ_PAGE_SIZE_CAP", "lots");
            let err = Settings::load(None, &Flags::default()).unwrap_err();
            assert!(format!("{err:#}").contains("PAGE_SIZE_CAP"), "{err:#}");
            jail.create_file("bad.toml", "no_such_setting = 1\n")?;
            assert!(Settings::load(Some(Path::new("bad.toml")), &Flags::default()).is_err());
            let err = Settings::load(Some(Path::new("missing.toml")), &Flags::default()).unwrap_err();
            assert!(err.to_string().contains("missing.toml"), "{err:#}");
            Ok(())
        });
    }

    #[test]
    fn show_tells_each_value_and_its_origin_and_hides_secrets() {
        jailed(|jail| {
            jail.create_file("giftbiz.toml", "page_size_cap = 100\nwebhook_secret = \"file-secret\"\n")?;
            jail.set_env("GIFTBIZ_ADMIN_TOKEN", "env-token");
            jail.set_env("GIFTBIZ_GATEWAY_LOG_PATH", "007");
            jail.set_env("GIFTBIZ_TITLE_MAX_CHARS", "10");
            let flags = Flags { database_url: Some("sqlite://flag.db".into()), ..Flags::default() };
            let shown = Settings::show(Some(Path::new("giftbiz.toml")), &flags)?;
            let of = |key: &str| shown.iter().find(|o| o.key == key).unwrap().clone();
            assert_eq!(shown.len(), Settings::keys().len());
            assert_eq!(of("listen").from, "default");
            assert_eq!(of("listen").value, "127.0.0.1:8080");
            assert_eq!((of("page_size_cap").value, of("page_size_cap").from), (serde_json::json!(100), "file giftbiz.toml".to_owned()));
            assert_eq!(of("title_max_chars").from, "env GIFTBIZ_TITLE_MAX_CHARS");
            assert_eq!(of("database_url").from, "flag --database");
            assert_eq!(of("admin_token").from, "env GIFTBIZ_ADMIN_TOKEN");
            assert_eq!(of("webhook_secret").value, "***");
            assert_eq!(of("admin_token").value, "***");
            assert_eq!(of("public_url").value, serde_json::Value::Null);
            // A string setting takes digits as the string they are.
            assert_eq!(of("gateway_log_path").value, "007");
            let all = format!("{shown:?}");
            assert!(!all.contains("file-secret") && !all.contains("env-token"), "{all}");
            Ok(())
        });
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
        jailed(|jail| {
            jail.set_env("GIFTBIZ_WEBHOOK_SECRET", "env-secret");
            assert_eq!(Settings::load(None, &Flags::default())?.webhook_secret.unwrap().expose(), "env-secret");
            Ok(())
        });
    }

    #[test]
    fn the_sandbox_is_off_by_default_and_needs_an_admin_token() {
        let s = Settings::default();
        assert!(!s.sandbox);
        assert!(s.validate_sandbox().is_ok());
        jailed(|jail| {
            jail.set_env("GIFTBIZ_SANDBOX", "true");
            let s = Settings::load(None, &Flags::default())?;
            assert!(s.sandbox);
            assert!(s.validate_sandbox().unwrap_err().to_string().contains("admin_token"));
            jail.set_env("GIFTBIZ_ADMIN_TOKEN", "t0ken-too-short");
            let s = Settings::load(None, &Flags::default())?;
            assert!(s.validate_sandbox().unwrap_err().to_string().contains("at least 16"));
            jail.set_env("GIFTBIZ_ADMIN_TOKEN", "t0ken-long-enough");
            let s = Settings::load(None, &Flags::default())?;
            assert!(s.validate_sandbox().is_ok());
            assert!(!format!("{s:?}").contains("t0ken"), "the token stays out of Debug");
            Ok(())
        });
        let from_file: Settings = toml::from_str("sandbox = true\nadmin_token = \"0123456789abcdef\"\n").unwrap();
        assert!(from_file.sandbox && from_file.validate_sandbox().is_ok());
    }

    #[test]
    fn the_demo_is_offered_on_the_embedded_default_or_when_asked() {
        let on = |url: &str, demo: Option<bool>| Settings { database_url: url.into(), demo, ..Settings::default() }.wants_demo();
        assert!(on("sqlite://giftbiz.db", None));
        assert!(!on("postgres://db/giftbiz", None), "never on PostgreSQL unless asked");
        assert!(on("postgres://db/giftbiz", Some(true)));
        assert!(!on("sqlite://giftbiz.db", Some(false)));
    }

    #[test]
    fn public_base_defaults_to_the_listen_address() {
        let s = Settings::default();
        assert_eq!(s.public_base(), "http://127.0.0.1:8080");
        let s = Settings { public_url: Some("https://gift.example/".into()), ..Settings::default() };
        assert_eq!(s.public_base(), "https://gift.example");
    }
}
