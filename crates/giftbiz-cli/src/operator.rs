//! Operator commands: accounts, partners, bizmoney and the catalog's import/export, run
//! against the platform's database (they work while a server runs on it).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use giftbiz_core::partner::brand_codes_to_stored;
use giftbiz_core::{Grade, UserId, Won};
use giftbiz_server::operator;

use crate::output::print_json;
use crate::Common;

/// The account a command acts on.
#[derive(Args)]
pub struct AccountArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, value_parser = UserId::parse)]
    user_id: UserId,
}

/// A listing: a table, or JSON with `--json`.
#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create an account and print its custom_auth_code and custom_auth_token.
    Create {
        #[command(flatten)]
        account: AccountArgs,
        #[arg(long, default_value = "basic")]
        grade: Grade,
        /// Print one JSON object (user_id, custom_auth_code, custom_auth_token).
        #[arg(long)]
        json: bool,
    },
    /// List accounts (never tokens).
    List(ListArgs),
    /// Change an account's grade (the price it pays).
    SetGrade {
        #[command(flatten)]
        account: AccountArgs,
        #[arg(long)]
        grade: Grade,
    },
    /// Issue a new token; the old one stops working at once.
    RotateToken {
        #[command(flatten)]
        account: AccountArgs,
        #[arg(long)]
        json: bool,
    },
    /// Suspend an account: its API calls are refused (E0006) until it is reactivated; nothing
    /// of it is changed or lost.
    Suspend(AccountArgs),
    /// Let a suspended account's API calls through again.
    Reactivate(AccountArgs),
}

#[derive(Subcommand)]
pub enum PartnerCommand {
    /// Create a partner and print its partner_code and token (shown only now).
    Create {
        #[command(flatten)]
        common: Common,
        /// The partner's name, e.g. the store chain.
        #[arg(long)]
        name: String,
        /// Brand codes whose coupons it may redeem, comma-separated (BR00001,BR00002).
        #[arg(long)]
        brands: String,
        /// Print one JSON object (partner_code, token, name, brands).
        #[arg(long)]
        json: bool,
    },
    /// List partners (never tokens).
    List(ListArgs),
    /// Issue a partner a new token (printed only now); the old one stops working at once.
    RotateToken {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        partner_code: String,
    },
}

/// Whole KRW.
fn won(raw: &str) -> Result<Won, std::num::ParseIntError> {
    raw.parse().map(Won::new)
}

#[derive(Subcommand)]
pub enum BizmoneyCommand {
    /// Add bizmoney to an account.
    Charge {
        #[command(flatten)]
        account: AccountArgs,
        /// Whole KRW, positive.
        #[arg(long, value_parser = won)]
        amount: Won,
        #[arg(long, default_value = "")]
        memo: String,
    },
    /// Correct an account's bizmoney by a signed amount (never below zero).
    Adjust {
        #[command(flatten)]
        account: AccountArgs,
        /// Whole KRW, either sign.
        #[arg(long, allow_hyphen_values = true, value_parser = won)]
        amount: Won,
        #[arg(long)]
        memo: String,
    },
    /// Print an account's ledger and balance.
    Statement {
        #[command(flatten)]
        account: AccountArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Load goods and brands from JSON in the live 0101/0102 response shape (upsert by code).
    Import {
        #[command(flatten)]
        common: Common,
        /// One or more files; all are loaded in one transaction or none is.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write the catalog as {"goods": <0101 response>, "brands": <0102 response>}.
    Export {
        #[command(flatten)]
        common: Common,
        /// Output file [default: standard output]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Copy the goods and brands of the API (0101/0102) into a local catalog file, reporting
    /// what was added, changed and removed since the last sync.
    Sync(crate::local_catalog::SyncArgs),
    /// Search the local catalog (Korean keywords, brand, category, price, state).
    Search(crate::local_catalog::SearchArgs),
}

pub(crate) async fn open(common: &Common) -> anyhow::Result<std::sync::Arc<dyn giftbiz_core::Store>> {
    let settings = common.settings()?;
    crate::logging::lines(&settings, "warn");
    giftbiz_server::db::open_store(&settings).await
}

fn print_credentials(issued: &operator::IssuedAccount, json: bool) {
    let a = &issued.account;
    if json {
        let v = serde_json::json!({
            "user_id": a.user_id,
            "custom_auth_code": a.auth_code,
            "custom_auth_token": issued.token.expose(),
        });
        println!("{v}");
    } else {
        println!("user_id           = {}", a.user_id);
        println!("grade             = {}", a.grade);
        println!("custom_auth_code  = {}", a.auth_code);
        println!("custom_auth_token = {}", issued.token.expose());
        println!("(the token is shown only now; it is stored hashed)");
    }
}

pub async fn account(cmd: AccountCommand) -> anyhow::Result<()> {
    match cmd {
        AccountCommand::Create { account: AccountArgs { common, user_id }, grade, json } => {
            let store = open(&common).await?;
            let issued = operator::create_account(store.as_ref(), &user_id, grade).await?;
            print_credentials(&issued, json);
        }
        AccountCommand::List(ListArgs { common, json }) => {
            let store = open(&common).await?;
            let accounts = store.list_accounts().await?;
            if json {
                print_json(&accounts)?;
            } else {
                println!("{:<24} {:<9} {:<10} {:<36} created (UTC)", "user_id", "grade", "status", "custom_auth_code");
                for a in accounts {
                    let created = giftbiz_core::time::from_millis(a.created_at_ms).format("%Y-%m-%d %H:%M:%S");
                    let status = if a.is_suspended() { "suspended" } else { "active" };
                    println!("{:<24} {:<9} {status:<10} {:<36} {created}", a.user_id, a.grade, a.auth_code);
                }
            }
        }
        AccountCommand::SetGrade { account: AccountArgs { common, user_id }, grade } => {
            let store = open(&common).await?;
            operator::set_grade(store.as_ref(), &user_id, grade).await?;
            println!("{user_id}: grade is now {grade}");
        }
        AccountCommand::RotateToken { account: AccountArgs { common, user_id }, json } => {
            let store = open(&common).await?;
            let issued = operator::rotate_token(store.as_ref(), &user_id).await?;
            print_credentials(&issued, json);
        }
        AccountCommand::Suspend(AccountArgs { common, user_id }) => {
            let store = open(&common).await?;
            operator::set_suspended(store.as_ref(), &user_id, true).await?;
            println!("{user_id}: suspended (its API calls are refused with E0006)");
        }
        AccountCommand::Reactivate(AccountArgs { common, user_id }) => {
            let store = open(&common).await?;
            operator::set_suspended(store.as_ref(), &user_id, false).await?;
            println!("{user_id}: active");
        }
    }
    Ok(())
}

pub async fn partner(cmd: PartnerCommand) -> anyhow::Result<()> {
    match cmd {
        PartnerCommand::Create { common, name, brands, json } => {
            let store = open(&common).await?;
            let issued = operator::create_partner(store.as_ref(), &name, &brands).await?;
            let p = &issued.partner;
            for code in &issued.unknown_brands {
                eprintln!("warning: brand {code} is not in the catalog (yet)");
            }
            if json {
                let v = serde_json::json!({
                    "partner_code": p.partner_code,
                    "token": issued.token.expose(),
                    "name": p.name,
                    "brands": p.brand_codes,
                });
                println!("{v}");
            } else {
                println!("name         = {}", p.name);
                println!("brands       = {}", brand_codes_to_stored(&p.brand_codes));
                println!("partner_code = {}", p.partner_code);
                println!("token        = {}", issued.token.expose());
                println!("(the token is shown only now; it is stored hashed)");
            }
        }
        PartnerCommand::RotateToken { common, partner_code } => {
            let store = open(&common).await?;
            let issued = operator::rotate_partner_token(store.as_ref(), &partner_code).await?;
            println!("partner_code = {}", issued.partner.partner_code);
            println!("token        = {}", issued.token.expose());
            println!("(the token is shown only now; the old one no longer works)");
        }
        PartnerCommand::List(ListArgs { common, json }) => {
            let store = open(&common).await?;
            let partners = store.list_partners().await?;
            if json {
                print_json(&partners)?;
            } else {
                println!("{:<18} {:<24} {:<19} brands", "partner_code", "name", "created (UTC)");
                for p in partners {
                    let created = giftbiz_core::time::from_millis(p.created_at_ms).format("%Y-%m-%d %H:%M:%S");
                    println!("{:<18} {:<24} {created} {}", p.partner_code, p.name, brand_codes_to_stored(&p.brand_codes));
                }
            }
        }
    }
    Ok(())
}

pub async fn catalog(cmd: CatalogCommand) -> anyhow::Result<()> {
    match cmd {
        CatalogCommand::Import { common, files } => {
            let store = open(&common).await?;
            let mut texts = Vec::new();
            for f in &files {
                texts.push(std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?);
            }
            let counts = operator::import_catalog_files(store.as_ref(), &files, &texts).await?;
            println!("imported {} brands and {} goods", counts.brands, counts.goods);
        }
        CatalogCommand::Sync(args) => return crate::local_catalog::sync(args).await,
        CatalogCommand::Search(args) => return crate::local_catalog::search(args).await,
        CatalogCommand::Export { common, out } => {
            let store = open(&common).await?;
            let doc = operator::export_catalog(store.as_ref()).await?;
            let text = serde_json::to_string_pretty(&doc)?;
            match out {
                Some(path) => std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?,
                None => println!("{text}"),
            }
        }
    }
    Ok(())
}

pub async fn bizmoney(cmd: BizmoneyCommand) -> anyhow::Result<()> {
    use giftbiz_core::coupon::LedgerReason;
    match cmd {
        BizmoneyCommand::Charge { account: AccountArgs { common, user_id }, amount, memo } => {
            let store = open(&common).await?;
            let balance = operator::change_bizmoney(store.as_ref(), &user_id, amount, LedgerReason::Charge, &memo).await?;
            println!("{user_id}: charged {amount} KRW, balance {balance} KRW");
        }
        BizmoneyCommand::Adjust { account: AccountArgs { common, user_id }, amount, memo } => {
            let store = open(&common).await?;
            let balance = operator::change_bizmoney(store.as_ref(), &user_id, amount, LedgerReason::Adjustment, &memo).await?;
            println!("{user_id}: adjusted by {amount} KRW, balance {balance} KRW");
        }
        BizmoneyCommand::Statement { account: AccountArgs { common, user_id }, json } => {
            let store = open(&common).await?;
            let account = store.account_by_user_id(&user_id).await?.with_context(|| format!("no account with user id \"{user_id}\""))?;
            let entries = store.ledger(account.id).await?;
            let balance = store.bizmoney_balance(account.id).await?;
            if json {
                println!("{}", serde_json::json!({"user_id": user_id, "balance": balance, "entries": entries}));
                return Ok(());
            }
            println!("{:<19} {:<16} {:>12} {:>12}  {:<25} memo", "time (KST)", "reason", "amount", "balance", "tr_id");
            for e in &entries {
                let at = giftbiz_core::time::from_millis(e.created_at_ms).with_timezone(&giftbiz_core::time::kst());
                println!(
                    "{:<19} {:<16} {:>12} {:>12}  {:<25} {}",
                    at.format("%Y-%m-%d %H:%M:%S"),
                    e.reason.code(),
                    e.amount,
                    e.balance_after,
                    e.tr_id.as_deref().unwrap_or("-"),
                    e.memo
                );
            }
            println!("balance: {balance} KRW ({} entries)", entries.len());
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum PinKeyCommand {
    /// Print a new key line (ID:KEY) for a PIN key ring: append it to the key file (or to
    /// pin_key) of every server, newest last, then run `pin-key rotate`.
    Generate,
    /// Re-seal every stored PIN under the ring's newest key (and rewrite its lookup and audit
    /// hashes); afterwards the older keys may leave the ring. Safe to run again, and while
    /// servers run once each of them has the new key.
    Rotate {
        #[command(flatten)]
        common: Common,
    },
}

pub async fn pin_key(cmd: PinKeyCommand) -> anyhow::Result<()> {
    match cmd {
        PinKeyCommand::Generate => println!("{}", giftbiz_core::pin_vault::PinVault::generate_line()),
        PinKeyCommand::Rotate { common } => {
            let store = open(&common).await?;
            let resealed = store.reseal_pins().await?;
            println!("re-sealed {resealed} PINs under the newest key");
        }
    }
    Ok(())
}

/// `giftbiz backup`: a consistent copy of a serving SQLite database.
#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    common: Common,
    /// The new file to write (an existing one is refused).
    #[arg(long)]
    out: PathBuf,
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let settings = args.common.settings()?;
    crate::logging::lines(&settings, "warn");
    giftbiz_server::db::backup(&settings, &args.out).await?;
    println!("backed up to {}", args.out.display());
    println!("the PIN key ring is not in it: keep the key (pin_key_file, pin_key or FILE.pin-key) with the backup, apart from it");
    Ok(())
}

/// `giftbiz check`: the money rules over the whole database.
#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    json: bool,
}

pub async fn check(args: CheckArgs) -> anyhow::Result<()> {
    let store = open(&args.common).await?;
    let report = giftbiz_server::invariants::check(store.as_ref()).await?;
    if args.json {
        print_json(&report)?;
    } else {
        println!(
            "{} accounts, {} ledger entries, {} coupons, {} charged sends, {} refunds",
            report.accounts, report.ledger_entries, report.coupons, report.charges, report.refunds
        );
        for v in &report.violations {
            println!("VIOLATION {v}");
        }
    }
    anyhow::ensure!(report.is_ok(), "{} violations of the money rules", report.violations.len());
    if !args.json {
        println!("every rule holds");
    }
    Ok(())
}
