//! `giftbiz`: the platform server, its operator commands, the API client commands for
//! integrators (live service or a giftbiz server) and benchmarks.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use giftbiz_server::{Flags, Settings};

mod api;
mod bench;
mod chaos;
mod client_args;
mod console;
mod local_catalog;
mod logging;
mod operator;
mod output;
mod reconcile;

#[derive(Parser)]
#[command(name = "giftbiz", version, about = "Giftishow Biz API: platform server, operator tools, API client and benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the settings come from; every database command takes these.
#[derive(Args, Clone)]
struct Common {
    /// Database URL: sqlite://FILE or postgres://… [env: GIFTBIZ_DATABASE_URL] [default: sqlite://giftbiz.db]
    #[arg(long, global = true)]
    database: Option<String>,
    /// TOML settings file (see README: Configuration).
    #[arg(long, env = "GIFTBIZ_CONFIG", global = true)]
    config: Option<PathBuf>,
}

impl Common {
    fn settings(&self) -> anyhow::Result<Settings> {
        Settings::load(self.config.as_deref(), &self.flags())
    }

    fn flags(&self) -> Flags {
        Flags { database_url: self.database.clone(), ..Flags::default() }
    }
}

/// The settings `serve` takes as flags too.
#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    common: Common,
    /// Address to listen on [env: GIFTBIZ_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long)]
    listen: Option<String>,
    /// Base of the absolute URLs the API returns [env: GIFTBIZ_PUBLIC_URL] [default: http://LISTEN]
    #[arg(long)]
    public_url: Option<String>,
    /// Seed the demo catalog and account into an empty database, PostgreSQL too (by default
    /// only a new SQLite file is seeded).
    #[arg(long, conflicts_with = "no_demo")]
    demo: bool,
    /// Never seed the demo catalog and account (a real platform).
    #[arg(long)]
    no_demo: bool,
}

impl ServeArgs {
    fn flags(&self) -> Flags {
        Flags {
            listen: self.listen.clone(),
            public_url: self.public_url.clone(),
            demo: match (self.demo, self.no_demo) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            ..self.common.flags()
        }
    }
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective settings of `serve` with these flags, secrets redacted, and where
    /// each value came from (default, file, env or flag).
    Show {
        #[command(flatten)]
        serve: ServeArgs,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server.
    Serve(ServeArgs),
    /// The server's settings.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage accounts (구매사) and their API credentials.
    #[command(subcommand)]
    Account(operator::AccountCommand),
    /// Manage the console's operators (the platform's staff) and their passwords.
    #[command(subcommand)]
    Operator(console::OperatorCommand),
    /// Manage partners (교환처) that look up and redeem coupons through the partner API.
    #[command(subcommand)]
    Partner(operator::PartnerCommand),
    /// The catalog: import/export a platform's (operator), sync/search a local copy (client).
    #[command(subcommand)]
    Catalog(operator::CatalogCommand),
    /// Charge, adjust and read an account's bizmoney (every change is a ledger entry).
    #[command(subcommand)]
    Bizmoney(operator::BizmoneyCommand),
    /// A consistent copy of a SQLite database while it serves (PostgreSQL: pg_dump).
    Backup(operator::BackupArgs),
    /// Check the money rules over the whole database (ledger sums, charges and coupons,
    /// refunds); exits non-zero on a violation.
    Check(operator::CheckArgs),
    /// The key ring that seals stored PINs: make a key, re-seal under the newest.
    #[command(subcommand)]
    PinKey(operator::PinKeyCommand),
    /// The goods list (0101) and one goods with every grade's price (0111).
    #[command(subcommand)]
    Goods(api::GoodsCommand),
    /// The brands (0102) and one brand (0112).
    #[command(subcommand)]
    Brands(api::BrandsCommand),
    /// Send a coupon (0204) safely: a timeout is chased with cancels until the outcome is known.
    Send(api::SendArgs),
    /// A send's coupons with their PIN and delivery status (0201).
    Coupon(api::TrIdArgs),
    /// Cancel a send and refund it (0202).
    Cancel(api::TrIdArgs),
    /// Send a coupon's MMS again, or an SMS with its PIN (0203).
    Resend(api::ResendArgs),
    /// The bizmoney balance (0301).
    Balance(api::BalanceArgs),
    /// Settle the journal's unsettled sends and compare it with 0201 and 0301.
    Reconcile(reconcile::ReconcileArgs),
    /// The fault harness: a seeded workload against a server killed and restarted at seeded
    /// moments, every promise checked at the end; non-zero on a violation.
    Chaos(chaos::ChaosArgs),
    /// Benchmarks (figures printed, nothing asserted).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            let settings = Settings::load(args.common.config.as_deref(), &args.flags())?;
            let logging = logging::init(&settings, "info")?;
            let served = giftbiz_server::serve(settings).await;
            logging.finish();
            served
        }
        Command::Config(ConfigCommand::Show { serve }) => {
            for line in Settings::show(serve.common.config.as_deref(), &serve.flags())? {
                let value = if line.value.is_null() { "(unset)".to_owned() } else { line.value.to_string() };
                println!("{} = {value}  # {}", line.key, line.from);
            }
            Ok(())
        }
        Command::Account(cmd) => operator::account(cmd).await,
        Command::Partner(cmd) => operator::partner(cmd).await,
        Command::Operator(cmd) => console::run(cmd).await,
        Command::Catalog(cmd) => operator::catalog(cmd).await,
        Command::Bizmoney(cmd) => operator::bizmoney(cmd).await,
        Command::PinKey(cmd) => operator::pin_key(cmd).await,
        Command::Backup(args) => operator::backup(args).await,
        Command::Check(args) => operator::check(args).await,
        Command::Goods(cmd) => api::goods(cmd).await,
        Command::Brands(cmd) => api::brands(cmd).await,
        Command::Send(args) => api::send(args).await,
        Command::Coupon(args) => api::coupon(args).await,
        Command::Cancel(args) => api::cancel(args).await,
        Command::Resend(args) => api::resend(args).await,
        Command::Balance(args) => api::balance(args).await,
        Command::Reconcile(args) => reconcile::run(args).await,
        Command::Chaos(args) => chaos::run(args).await,
        Command::Bench(cmd) => bench::run(cmd).await,
    }
}

