//! The API commands for integrators: one per endpoint, tables by default, `--json` for scripts.

use clap::{Args, Subcommand};

use crate::client_args::ClientArgs;

#[derive(Subcommand)]
pub enum GoodsCommand {
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Subcommand)]
pub enum BrandsCommand {
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Args)]
pub struct TrIdArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    pub tr_id: String,
}

#[derive(Args)]
pub struct ResendArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    pub tr_id: String,
}

#[derive(Args)]
pub struct BalanceArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

pub async fn goods(_cmd: GoodsCommand) -> anyhow::Result<()> { anyhow::bail!("todo") }
pub async fn brands(_cmd: BrandsCommand) -> anyhow::Result<()> { anyhow::bail!("todo") }
pub async fn send(_a: SendArgs) -> anyhow::Result<()> { anyhow::bail!("todo") }
pub async fn coupon(_a: TrIdArgs) -> anyhow::Result<()> { anyhow::bail!("todo") }
pub async fn cancel(_a: TrIdArgs) -> anyhow::Result<()> { anyhow::bail!("todo") }
pub async fn resend(_a: ResendArgs) -> anyhow::Result<()> { anyhow::bail!("todo") }
pub async fn balance(_a: BalanceArgs) -> anyhow::Result<()> { anyhow::bail!("todo") }
