//! How the API commands find the service and who they are: a profile of the client config
//! file, overridden by `GIFTBIZ_*` variables, overridden by these flags.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use giftbiz_client::{Client, Config};

#[derive(Args, Clone, Debug, Default)]
pub struct ClientArgs {
    /// Profile of the client config file [env: GIFTBIZ_PROFILE] [default: default]
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Client config file [env: GIFTBIZ_CLIENT_CONFIG] [default: ~/.config/giftbiz/config.toml]
    #[arg(long, global = true)]
    pub client_config: Option<PathBuf>,
    /// The API's base URL, up to /bizApi [env: GIFTBIZ_BASE_URL] [default: the live service]
    #[arg(long, global = true)]
    pub base_url: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

impl ClientArgs {
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut config = Config::load(self.profile.as_deref(), self.client_config.as_deref())
            .context("client credentials (see `giftbiz --help`: --profile, GIFTBIZ_AUTH_CODE, ...)")?;
        if let Some(url) = &self.base_url {
            config.base_url = url.clone();
        }
        Ok(config)
    }

    pub fn client(&self) -> anyhow::Result<Client> {
        Ok(Client::new(self.config()?)?)
    }
}
