//! `giftbiz catalog sync|search`: a local copy of the API's catalog, searchable.

use clap::Args;

use crate::client_args::ClientArgs;

#[derive(Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

pub async fn sync(_args: SyncArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}

pub async fn search(_args: SearchArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
