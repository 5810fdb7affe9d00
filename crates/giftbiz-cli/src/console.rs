//! `giftbiz operator …`: the console's operators (the platform's staff), managed on the
//! database directly like the other operator commands.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use clap::{Args, Subcommand};
use giftbiz_core::console::{OperatorRole, Password, Username};
use giftbiz_server::operator;

use crate::operator::open;
use crate::output::print_json;
use crate::Common;

#[derive(Args)]
pub struct OperatorArgs {
    #[command(flatten)]
    common: Common,
    /// 3-32 lowercase letters, digits, '.', '_' or '-'.
    #[arg(long, value_parser = parse_username)]
    username: Username,
}

fn parse_username(raw: &str) -> Result<Username, String> {
    Username::parse(raw).map_err(|e| e.to_string())
}

fn parse_role(raw: &str) -> Result<OperatorRole, String> {
    raw.parse().map_err(|e: giftbiz_core::console::UnknownRole| e.to_string())
}

#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Create a console operator. The password is read from standard input when it is not a
    /// terminal (one line), else prompted for twice without echo.
    Create {
        #[command(flatten)]
        operator: OperatorArgs,
        /// admin (everything), finance (bizmoney), support (coupons), viewer (read only).
        #[arg(long, value_parser = parse_role)]
        role: OperatorRole,
    },
    /// List the console's operators (never passwords).
    List {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        json: bool,
    },
    /// Disable an operator: no login, and their sessions end at once.
    Disable(OperatorArgs),
    /// Enable a disabled operator again.
    Enable(OperatorArgs),
    /// Set a new password (read as for create); the operator's sessions end.
    ResetPassword(OperatorArgs),
    /// Give the operator a second factor (RFC 6238 codes, as authenticator apps make them):
    /// prints its key once, as Base32 and as an otpauth:// URI; logins then need a code too.
    TotpEnable(OperatorArgs),
    /// Remove the operator's second factor (a lost phone): the password alone logs in again.
    TotpDisable(OperatorArgs),
}

pub async fn run(cmd: OperatorCommand) -> anyhow::Result<()> {
    match cmd {
        OperatorCommand::Create { operator: OperatorArgs { common, username }, role } => {
            let password = read_password()?;
            let store = open(&common).await?;
            let created = operator::create_console_operator(store.as_ref(), &username, role, &password).await?;
            println!("operator {} created with role {}", created.username, created.role);
        }
        OperatorCommand::List { common, json } => {
            let store = open(&common).await?;
            let operators = store.list_operators().await?;
            if json {
                print_json(&operators)?;
            } else {
                println!("{:<32} {:<8} {:<9} {:<5} created (UTC)", "username", "role", "status", "totp");
                for o in operators {
                    let created = giftbiz_core::time::from_millis(o.created_at_ms).format("%Y-%m-%d %H:%M:%S");
                    let status = if o.is_disabled() { "disabled" } else { "active" };
                    let totp = if o.totp.is_some() { "on" } else { "off" };
                    println!("{:<32} {:<8} {status:<9} {totp:<5} {created}", o.username, o.role);
                }
            }
        }
        OperatorCommand::Disable(OperatorArgs { common, username }) => {
            let store = open(&common).await?;
            operator::set_console_operator_disabled(store.as_ref(), &username, true).await?;
            println!("operator {username} disabled");
        }
        OperatorCommand::Enable(OperatorArgs { common, username }) => {
            let store = open(&common).await?;
            operator::set_console_operator_disabled(store.as_ref(), &username, false).await?;
            println!("operator {username} enabled");
        }
        OperatorCommand::ResetPassword(OperatorArgs { common, username }) => {
            let password = read_password()?;
            let store = open(&common).await?;
            operator::reset_console_operator_password(store.as_ref(), &username, &password).await?;
            println!("operator {username}: password changed, sessions ended");
        }
        OperatorCommand::TotpEnable(OperatorArgs { common, username }) => {
            let store = open(&common).await?;
            let secret = operator::enable_console_operator_totp(store.as_ref(), &username).await?;
            println!("operator {username}: second factor on, sessions ended. Add this key to an authenticator app now (it is not shown again):");
            println!("key: {}", secret.base32());
            println!("uri: {}", secret.otpauth_uri(&username));
        }
        OperatorCommand::TotpDisable(OperatorArgs { common, username }) => {
            let store = open(&common).await?;
            operator::disable_console_operator_totp(store.as_ref(), &username).await?;
            println!("operator {username}: second factor off, sessions ended");
        }
    }
    Ok(())
}

/// One line of standard input when it is not a terminal (a script's pipe), else a prompt
/// without echo, asked twice.
fn read_password() -> anyhow::Result<Password> {
    let raw = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    Password::parse(&raw).map_err(|e| anyhow::anyhow!("{e}"))
}
