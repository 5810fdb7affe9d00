//! Where the client points and who it is: from code, the environment or a TOML profile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use giftbiz_wire::ApiCode;
use serde::Deserialize;

use crate::error::ConfigError;
use crate::tr_id::{TrIdGenerator, DEFAULT_MAX_LEN};

/// The live service.
pub const DEFAULT_BASE_URL: &str = "https://bizapi.giftishow.com/bizApi";

pub const ENV_AUTH_CODE: &str = "GIFTBIZ_AUTH_CODE";
pub const ENV_AUTH_TOKEN: &str = "GIFTBIZ_AUTH_TOKEN";
pub const ENV_USER_ID: &str = "GIFTBIZ_USER_ID";
pub const ENV_BASE_URL: &str = "GIFTBIZ_BASE_URL";
/// The profile [`Config::load`] reads when none is named (else `default`).
pub const ENV_PROFILE: &str = "GIFTBIZ_PROFILE";
/// The config file [`Config::load`] reads when no path is given.
pub const ENV_CONFIG: &str = "GIFTBIZ_CLIENT_CONFIG";

/// A secret kept out of `Debug` output, so printing a config never leaks it (the wire's own).
pub use giftbiz_wire::values::Secret;

/// Who calls: `custom_auth_code`, `custom_auth_token` and the account's `user_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub auth_code: String,
    pub auth_token: Secret,
    pub user_id: String,
}

impl Credentials {
    pub fn new(auth_code: impl Into<String>, auth_token: impl Into<String>, user_id: impl Into<String>) -> Credentials {
        Credentials { auth_code: auth_code.into(), auth_token: Secret::new(auth_token), user_id: user_id.into() }
    }
}

/// How long each call may take: the send 15 s (the spec's figure), the others 10 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Indexed like [`ApiCode::ALL`].
    per_api: [Duration; 10],
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::uniform(Duration::from_secs(10)).with(ApiCode::Send, Duration::from_secs(15))
    }
}

impl Timeouts {
    /// The same timeout for every call.
    pub fn uniform(timeout: Duration) -> Timeouts {
        Timeouts { per_api: [timeout; 10] }
    }

    /// These timeouts with `api`'s set to `timeout`.
    pub fn with(mut self, api: ApiCode, timeout: Duration) -> Timeouts {
        self.per_api[index(api)] = timeout;
        self
    }

    pub fn get(&self, api: ApiCode) -> Duration {
        self.per_api[index(api)]
    }
}

fn index(api: ApiCode) -> usize {
    ApiCode::ALL.iter().position(|&a| a == api).expect("every ApiCode is in ALL")
}

/// Everything a [`Client`](crate::Client) needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Up to and including `/bizApi`, e.g. `http://localhost:8080/bizApi`.
    pub base_url: String,
    pub credentials: Credentials,
    pub timeouts: Timeouts,
    /// What [`Client::new_tr_id`](crate::Client::new_tr_id) uses.
    pub tr_ids: TrIdGenerator,
    /// Ask for gzip or zstd answers (`Accept-Encoding`; on by default): a 5000-goods page
    /// shrinks about tenfold over a real network. Off saves CPU when client and server share a
    /// machine.
    pub compression: bool,
}

impl Config {
    /// The live service with these credentials and the default timeouts.
    pub fn new(credentials: Credentials) -> Config {
        Config {
            base_url: DEFAULT_BASE_URL.to_owned(),
            credentials,
            timeouts: Timeouts::default(),
            tr_ids: TrIdGenerator::default(),
            compression: true,
        }
    }

    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Config {
        self.base_url = base_url.into();
        self
    }

    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Config {
        self.timeouts = timeouts;
        self
    }

    pub fn with_tr_ids(mut self, tr_ids: TrIdGenerator) -> Config {
        self.tr_ids = tr_ids;
        self
    }

    pub fn with_compression(mut self, compression: bool) -> Config {
        self.compression = compression;
        self
    }

    /// `GIFTBIZ_AUTH_CODE`, `GIFTBIZ_AUTH_TOKEN`, `GIFTBIZ_USER_ID` (required) and
    /// `GIFTBIZ_BASE_URL` (optional).
    pub fn from_env() -> Result<Config, ConfigError> {
        Profile::default().overlay_env(&env_var).into_config()
    }

    /// The `[profile.NAME]` table of the TOML file at `path` (see [`default_config_path`]).
    pub fn from_profile(path: &Path, name: &str) -> Result<Config, ConfigError> {
        Profile::read(path, name)?.into_config()
    }

    /// What the CLI does: the profile (`name`, else `$GIFTBIZ_PROFILE`, else `default`) from
    /// the file (`path`, else [`default_config_path`]) if the file exists, then each
    /// `GIFTBIZ_*` variable that is set overrides its field. A profile asked for by name must
    /// exist.
    pub fn load(name: Option<&str>, path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_with(name, path, &env_var)
    }

    fn load_with(
        name: Option<&str>,
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let explicit = name.map(str::to_owned).or_else(|| env(ENV_PROFILE));
        let path = path.map(Path::to_path_buf).or_else(|| env(ENV_CONFIG).map(PathBuf::from)).or_else(default_config_path);
        let profile = match path {
            Some(p) if p.exists() => match Profile::read(&p, explicit.as_deref().unwrap_or("default")) {
                Err(ConfigError::NoProfile { .. }) if explicit.is_none() => Profile::default(),
                other => other?,
            },
            Some(p) if explicit.is_some() => {
                let name = explicit.unwrap_or_default();
                return Err(ConfigError::NoProfile { name, path: p });
            }
            _ => Profile::default(),
        };
        profile.overlay_env(env).into_config()
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `$XDG_CONFIG_HOME/giftbiz/config.toml`, else `~/.config/giftbiz/config.toml`
/// (`%APPDATA%\giftbiz\config.toml` on Windows).
pub fn default_config_path() -> Option<PathBuf> {
    let base = env_var("XDG_CONFIG_HOME").map(PathBuf::from).or_else(|| {
        if cfg!(windows) {
            env_var("APPDATA").map(PathBuf::from)
        } else {
            env_var("HOME").map(|h| Path::new(&h).join(".config"))
        }
    })?;
    Some(base.join("giftbiz").join("config.toml"))
}

/// One `[profile.NAME]` table; every key optional so the environment can fill the rest.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    base_url: Option<String>,
    auth_code: Option<String>,
    auth_token: Option<String>,
    user_id: Option<String>,
    /// Every call but the send.
    timeout_secs: Option<f64>,
    send_timeout_secs: Option<f64>,
    tr_id_prefix: Option<String>,
    tr_id_max_len: Option<usize>,
    /// See [`Config::compression`].
    compression: Option<bool>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    profile: BTreeMap<String, Profile>,
}

impl Profile {
    fn read(path: &Path, name: &str) -> Result<Profile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: path.to_owned(), source })?;
        let mut file: File = toml::from_str(&text)
            // toml's message quotes the offending line, which may hold the token.
            .map_err(|e| ConfigError::Parse { path: path.to_owned(), message: redacted_toml_error(&e) })?;
        file.profile.remove(name).ok_or_else(|| ConfigError::NoProfile { name: name.to_owned(), path: path.to_owned() })
    }

    fn overlay_env(mut self, env: &dyn Fn(&str) -> Option<String>) -> Profile {
        for (var, slot) in [
            (ENV_AUTH_CODE, &mut self.auth_code),
            (ENV_AUTH_TOKEN, &mut self.auth_token),
            (ENV_USER_ID, &mut self.user_id),
            (ENV_BASE_URL, &mut self.base_url),
        ] {
            if let Some(v) = env(var) {
                *slot = Some(v);
            }
        }
        self
    }

    fn into_config(self) -> Result<Config, ConfigError> {
        let credentials = Credentials::new(
            self.auth_code.ok_or(ConfigError::Missing(ENV_AUTH_CODE))?,
            self.auth_token.ok_or(ConfigError::Missing(ENV_AUTH_TOKEN))?,
            self.user_id.ok_or(ConfigError::Missing(ENV_USER_ID))?,
        );
        let mut timeouts = Timeouts::default();
        if let Some(secs) = self.timeout_secs {
            timeouts = Timeouts::uniform(seconds("timeout_secs", secs)?).with(ApiCode::Send, timeouts.get(ApiCode::Send));
        }
        if let Some(secs) = self.send_timeout_secs {
            timeouts = timeouts.with(ApiCode::Send, seconds("send_timeout_secs", secs)?);
        }
        let tr_ids = match (self.tr_id_prefix, self.tr_id_max_len) {
            (None, None) => TrIdGenerator::default(),
            (prefix, len) => TrIdGenerator::new(prefix.unwrap_or_default(), len.unwrap_or(DEFAULT_MAX_LEN))?,
        };
        let base_url = self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        Ok(Config { base_url, credentials, timeouts, tr_ids, compression: self.compression.unwrap_or(true) })
    }
}

fn seconds(what: &'static str, secs: f64) -> Result<Duration, ConfigError> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or(ConfigError::Invalid { what, why: format!("{secs} is not a positive number of seconds") })
}

fn redacted_toml_error(e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => format!("{} (at byte {})", e.message(), span.start),
        None => e.message().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const FILE: &str = r#"
        [profile.default]
        auth_code = "REALdefault"
        auth_token = "tok-default"
        user_id = "acme"

        [profile.sandbox]
        base_url = "http://127.0.0.1:8080/bizApi"
        auth_code = "REALsandbox"
        auth_token = "tok-sandbox"
        user_id = "demo"
        timeout_secs = 3
        send_timeout_secs = 20.5
        tr_id_prefix = "sb_"
        compression = false
    "#;

    fn file() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, FILE).unwrap();
        (dir, path)
    }

    #[test]
    fn a_named_profile_sets_everything() {
        let (_dir, path) = file();
        let c = Config::from_profile(&path, "sandbox").unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:8080/bizApi");
        assert_eq!(c.credentials, Credentials::new("REALsandbox", "tok-sandbox", "demo"));
        assert_eq!(c.timeouts.get(ApiCode::GoodsList), Duration::from_secs(3));
        assert_eq!(c.timeouts.get(ApiCode::Send), Duration::from_millis(20_500));
        assert!(c.tr_ids.generate().as_str().starts_with("sb_"));
        assert!(!c.compression);
        assert!(Config::new(c.credentials.clone()).compression, "on unless a profile turns it off");
        assert!(matches!(Config::from_profile(&path, "nope"), Err(ConfigError::NoProfile { .. })));
    }

    #[test]
    fn the_environment_overrides_the_profile() {
        let (_dir, path) = file();
        let env = env_of(&[(ENV_USER_ID, "other"), (ENV_BASE_URL, "http://x/bizApi")]);
        let c = Config::load_with(None, Some(&path), &env).unwrap();
        assert_eq!(c.credentials.auth_code, "REALdefault");
        assert_eq!(c.credentials.user_id, "other");
        assert_eq!(c.base_url, "http://x/bizApi");
        assert_eq!(c.timeouts, Timeouts::default());
        let env = env_of(&[(ENV_PROFILE, "sandbox")]);
        assert_eq!(Config::load_with(None, Some(&path), &env).unwrap().credentials.user_id, "demo");
    }

    #[test]
    fn environment_alone_works_and_names_what_is_missing() {
        let missing = Path::new("/nonexistent/giftbiz.toml");
        let env = env_of(&[(ENV_AUTH_CODE, "REALx"), (ENV_AUTH_TOKEN, "t"), (ENV_USER_ID, "u")]);
        let c = Config::load_with(None, Some(missing), &env).unwrap();
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        let env = env_of(&[(ENV_AUTH_CODE, "REALx"), (ENV_USER_ID, "u")]);
        let e = Config::load_with(None, Some(missing), &env).unwrap_err();
        assert_eq!(e.to_string(), "GIFTBIZ_AUTH_TOKEN is not set");
        assert!(matches!(Config::load_with(Some("x"), Some(missing), &env), Err(ConfigError::NoProfile { .. })));
    }

    #[test]
    fn secrets_stay_out_of_debug_and_parse_errors() {
        let c = Config::new(Credentials::new("REALx", "s3cr3t-token", "u"));
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[profile.default]\nauth_token = \"s3cr3t-token\nuser_id = 1\n").unwrap();
        let e = Config::from_profile(&path, "default").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
    }
}
