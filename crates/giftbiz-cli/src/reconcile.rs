//! `giftbiz reconcile`: settles the journal's unsettled sends and prints any drift.

use clap::Args;

use crate::client_args::ClientArgs;

#[derive(Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

pub async fn run(_args: ReconcileArgs) -> anyhow::Result<()> {
    anyhow::bail!("todo")
}
