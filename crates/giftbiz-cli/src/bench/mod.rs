//! Benchmarks that print figures (nothing here asserts a speed). Each runs the real server as a
//! child process and drives it over HTTP on loopback, reporting each figure beside a baseline
//! measured in the same run. `harness` holds what they share; each benchmark is a module.

use std::time::Duration;

use clap::Subcommand;

mod catalog;
mod console;
mod edge;
mod observability;
pub(crate) mod harness;
mod send;
mod sync;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// 0101 goods list over HTTP (size=20 and size=5000) beside a trivial endpoint, and the
    /// server's peak RSS.
    Catalog {
        /// Database for the run [default: a fresh SQLite file in a temporary directory]
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 50_000)]
        goods: usize,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Seconds per measured phase.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Measured rounds; each figure is reported as min/median/max over them.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Also print the figures as one JSON document (the last line).
        #[arg(long)]
        json: bool,
    },
    /// 0204 send (gubun Y) over HTTP at 1, 4 and 16 connections, each beside the raw commit rate
    /// of an equivalent three-statement transaction on the same database.
    Send {
        /// Database for the run [default: a fresh SQLite file in a temporary directory]; a
        /// PostgreSQL database given here gets tables of its own (use an empty one).
        #[arg(long)]
        database: Option<String>,
        /// Seconds per measured phase.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Measured rounds; each figure is reported as min/median/max over them.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Also print the figures as one JSON document (the last line).
        #[arg(long)]
        json: bool,
    },
    /// 0101 page(20) from 4 well-behaved keep-alive connections while slowloris connections
    /// dribble heads and half-sent bodies hang, as a ratio of the same rate with no attack, and
    /// the server's memory during and after.
    Edge {
        /// Connections sending a request head a byte at a time, reconnecting when cut off.
        #[arg(long, default_value_t = 1000)]
        slowloris: usize,
        /// Connections sending half a body and then nothing, reconnecting when cut off.
        #[arg(long, default_value_t = 100)]
        half_bodies: usize,
        /// Seconds per measured phase.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// `giftbiz catalog sync` of a large catalog into a fresh file (wall time, peak RSS), beside
    /// fetching the same 0101 pages with plain HTTP calls and discarding them.
    CatalogSync {
        #[arg(long, default_value_t = 50_000)]
        goods: usize,
        /// Goods per 0101 page, for the sync and the plain fetch alike.
        #[arg(long, default_value_t = 1000)]
        page_size: u32,
        /// Measured rounds (each a plain fetch and a fresh sync); the median is reported.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// The sync asks for compressed pages (the SDK's default; the plain fetch never does).
        #[arg(long)]
        compression: bool,
    },
    /// The console's pages (dashboard, account detail and list, coupon searches, audit log)
    /// with `--coupons` in the database, p50/p99 beside `/health`.
    Console {
        /// Database for the run [default: a fresh SQLite file in a temporary directory]; a
        /// PostgreSQL database given here gets tables of its own (use an empty one).
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 10_000)]
        coupons: u64,
        /// Requests per page.
        #[arg(long, default_value_t = 100)]
        rounds: usize,
    },
    /// 0101 page(20) and 0204 send (gubun Y) with metrics and request ids on (and /metrics
    /// scraped every second) as a ratio of the same server with both off, rounds alternating
    /// which goes first.
    Observability {
        /// Database for the run [default: a fresh SQLite file in a temporary directory]; a
        /// PostgreSQL database given here gets tables of its own (use an empty one).
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Seconds per measured phase.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// One measured sync, run by `catalog-sync` as a child process so its memory is its own.
    #[command(hide = true)]
    CatalogSyncWorker {
        #[arg(long)]
        catalog: std::path::PathBuf,
        #[arg(long)]
        page_size: u32,
        #[arg(long)]
        compression: bool,
    },
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Catalog { database, goods, connections, seconds, rounds, json } => {
            catalog::run(database, goods, connections, Duration::from_secs(seconds), rounds.max(1), json).await
        }
        BenchCommand::Send { database, seconds, rounds, json } => send::run(database, Duration::from_secs(seconds), rounds.max(1), json).await,
        BenchCommand::Edge { slowloris, half_bodies, seconds } => edge::run(slowloris, half_bodies, Duration::from_secs(seconds)).await,
        BenchCommand::Console { database, coupons, rounds } => console::run(database, coupons, rounds).await,
        BenchCommand::Observability { database, connections, seconds, rounds } => {
            observability::run(database, connections, Duration::from_secs(seconds), rounds.max(1)).await
        }
        BenchCommand::CatalogSync { goods, page_size, rounds, compression } => sync::run(goods, page_size, rounds, compression).await,
        BenchCommand::CatalogSyncWorker { catalog, page_size, compression } => sync::worker(&catalog, page_size, compression).await,
    }
}

