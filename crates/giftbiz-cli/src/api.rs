//! The API commands for integrators: one per endpoint, tables by default, `--json` for scripts.
//! They call the live service or a giftbiz server through the SDK; `send` is the safe send,
//! journaled (see `giftbiz reconcile`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use giftbiz_client::{ChasePolicy, Client, Error, Gubun, Journal, ResendVia, ResultCode, SendOutcome, SendRequest};
use serde_json::json;

use crate::client_args::ClientArgs;
use crate::output::{fields, print_json, table};

#[derive(Subcommand)]
pub enum GoodsCommand {
    /// One page of the goods list (0101), or every page with --all.
    List {
        #[command(flatten)]
        client: ClientArgs,
        /// 1-based page.
        #[arg(long, default_value_t = 1)]
        start: u32,
        #[arg(long, default_value_t = 20)]
        size: u32,
        /// Every page (`--size` at a time).
        #[arg(long)]
        all: bool,
    },
    /// One goods with every grade's price (0111).
    Show {
        #[command(flatten)]
        client: ClientArgs,
        goods_code: String,
    },
}

#[derive(Subcommand)]
pub enum BrandsCommand {
    /// Every brand (0102).
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// One brand (0112).
    Show {
        #[command(flatten)]
        client: ClientArgs,
        brand_code: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GubunArg {
    /// N: the platform sends the MMS.
    N,
    /// Y: the PIN comes back.
    Y,
    /// I: the PIN and a coupon image URL come back.
    I,
}

#[derive(Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[arg(long)]
    pub goods: String,
    /// The recipient's mobile number (01012345678).
    #[arg(long)]
    pub phone: String,
    #[arg(long, value_enum, default_value = "n")]
    pub gubun: GubunArg,
    /// The sender number shown to the recipient.
    #[arg(long)]
    pub callback: String,
    #[arg(long)]
    pub title: String,
    #[arg(long)]
    pub message: String,
    /// Reserve the MMS for this KST time: "yyyyMMdd HHmm".
    #[arg(long)]
    pub reserve: Option<String>,
    /// The tr_id [default: a fresh one from the profile's generator]
    #[arg(long)]
    pub tr_id: Option<String>,
    #[command(flatten)]
    pub journal: JournalArgs,
}

#[derive(Args, Clone)]
pub struct JournalArgs {
    /// The send journal [env: GIFTBIZ_JOURNAL] [default: giftbiz-journal.db]
    #[arg(long, env = "GIFTBIZ_JOURNAL", default_value = "giftbiz-journal.db")]
    pub journal: PathBuf,
}

impl JournalArgs {
    pub fn open(&self) -> anyhow::Result<Journal> {
        Journal::open(&self.journal).with_context(|| format!("opening the journal {}", self.journal.display()))
    }
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
    /// An SMS with the PIN instead of the MMS.
    #[arg(long)]
    pub sms: bool,
}

#[derive(Args)]
pub struct BalanceArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

/// What to do about an API error, beside the service's own (Korean) message.
fn hint(code: ResultCode) -> Option<&'static str> {
    Some(match code {
        ResultCode::InsufficientBizmoney => "the account's bizmoney is below the price: charge it",
        ResultCode::TrIdDuplicate => "this tr_id was used before (also by a cancel): use a new one",
        ResultCode::TrIdNotFound => "the service never issued anything with this tr_id",
        ResultCode::AlreadyCancelled => "nothing to do: the coupon was cancelled and refunded before",
        ResultCode::AlreadyExchanged => "the coupon was used: it can no longer be cancelled",
        ResultCode::NotCancellable => "past the 7-day cancel window, or not in a cancellable state",
        ResultCode::ResendTargetNotFound => "resend works only for MMS sends (gubun N) this account made",
        ResultCode::InvalidPhoneNo => "the recipient must be a Korean mobile number, digits only (01012345678)",
        ResultCode::OrderError => "the goods is suspended, out of its sale period, or the gubun is wrong",
        _ => return None,
    })
}

/// The hint for an API error's code, if it has one.
fn hint_for(e: &Error) -> Option<&'static str> {
    e.code().and_then(|c| c.result_code()).and_then(hint)
}

/// An SDK error as the CLI reports it: the code and message, and a hint when there is one.
pub fn explain(e: Error) -> anyhow::Error {
    match hint_for(&e) {
        Some(h) => anyhow::Error::new(e).context(h),
        None => anyhow::Error::new(e),
    }
}

pub async fn goods(cmd: GoodsCommand) -> anyhow::Result<()> {
    match cmd {
        GoodsCommand::List { client: args, start, size, all } => {
            let client = args.client()?;
            let goods = if all {
                client.goods_list_all(size).await.map_err(explain)?
            } else {
                let page = client.goods_list(start, size).await.map_err(explain)?;
                if !args.json {
                    eprintln!("page {start}: {} of {} goods", page.goods_list.len(), page.list_num);
                }
                page.goods_list
            };
            if args.json {
                return print_json(&goods);
            }
            let mut t = table(["goodsCode", "goodsName", "brandName", "price", "salePrice", "state"]);
            for g in &goods {
                t.add_row(vec![
                    g.goods_code.clone(),
                    g.goods_name.clone(),
                    g.brand_name.clone(),
                    g.discount_price.to_string(),
                    g.sale_price.to_string(),
                    g.goods_state_cd.clone(),
                ]);
            }
            println!("{t}");
        }
        GoodsCommand::Show { client: args, goods_code } => {
            let detail = args.client()?.goods_detail(&goods_code).await.map_err(explain)?;
            if args.json {
                return print_json(&detail);
            }
            println!("{}", fields(&detail)?);
        }
    }
    Ok(())
}

pub async fn brands(cmd: BrandsCommand) -> anyhow::Result<()> {
    match cmd {
        BrandsCommand::List { client: args } => {
            let list = args.client()?.brands().await.map_err(explain)?;
            if args.json {
                return print_json(&list.brand_list);
            }
            let mut t = table(["brandCode", "brandName", "category"]);
            for b in &list.brand_list {
                t.add_row(vec![b.brand_code.clone(), b.brand_name.clone(), b.category1_name.clone()]);
            }
            println!("{t}");
        }
        BrandsCommand::Show { client: args, brand_code } => {
            let brand = args.client()?.brand_detail(&brand_code).await.map_err(explain)?;
            if args.json {
                return print_json(&brand);
            }
            println!("{}", fields(&brand)?);
        }
    }
    Ok(())
}

pub async fn send(args: SendArgs) -> anyhow::Result<()> {
    let client = args.client.client()?;
    let tr_id = args.tr_id.clone().unwrap_or_else(|| client.new_tr_id().as_str().to_owned());
    let gubun = match args.gubun {
        GubunArg::N => Gubun::Mms,
        GubunArg::Y => Gubun::Pin,
        GubunArg::I => Gubun::Image,
    };
    let mut req = SendRequest::new(&tr_id, &args.goods, gubun, &args.phone)
        .callback_no(&args.callback)
        .title(&args.title)
        .message(&args.message);
    if let Some(at) = &args.reserve {
        let (date, time) = at.split_once(' ').context("--reserve takes \"yyyyMMdd HHmm\"")?;
        req = req.reserve(date, time);
    }
    let journal = args.journal.open()?;
    let outcome = match client.journaled_send(&journal, &req, &ChasePolicy::default()).await {
        Ok(o) => o,
        Err(e @ Error::Unsettled { .. }) => {
            return Err(explain(e)).context(format!(
                "the send {tr_id} is unsettled: a coupon may exist; run `giftbiz reconcile` when the service answers"
            ))
        }
        Err(e) => return Err(explain(e)),
    };
    print_outcome(&tr_id, &outcome, args.client.json)
}

fn print_outcome(tr_id: &str, outcome: &SendOutcome, json: bool) -> anyhow::Result<()> {
    let (order_no, pin, image, refusal) = match outcome {
        SendOutcome::Issued(s) => (Some(s.order_no.as_str()), s.pin.as_ref().map(|p| p.expose()), s.coupon_img_url.as_deref(), None),
        SendOutcome::NotIssued { refusal: Some(e) } => (None, None, None, Some(e)),
        _ => (None, None, None, None),
    };
    if json {
        let refusal = refusal.map(|e| json!({"code": e.code().map(|c| c.as_str()), "message": e.to_string()}));
        return print_json(&json!({
            "tr_id": tr_id, "outcome": outcome.state(), "charged": outcome.charged(),
            "order_no": order_no, "pin": pin, "coupon_img_url": image, "refusal": refusal,
        }));
    }
    match outcome {
        SendOutcome::Issued(_) => {
            println!("issued: tr_id {tr_id}, order {}", order_no.unwrap_or_default());
            if let Some(pin) = pin {
                println!("PIN {pin}");
            }
            if let Some(url) = image {
                println!("image {url}");
            }
        }
        SendOutcome::NotIssued { refusal: Some(e) } => {
            let hint = hint_for(e).map(|h| format!(" ({h})")).unwrap_or_default();
            println!("not issued: {e}{hint}");
        }
        SendOutcome::NotIssued { refusal: None } => {
            println!("not issued: the answer was lost and the service confirmed nothing was issued (tr_id {tr_id} is spent)")
        }
        SendOutcome::Cancelled => println!("cancelled: the answer was lost, so the coupon was cancelled and refunded (tr_id {tr_id})"),
        SendOutcome::Kept { cancel_refusal } => {
            println!("issued and kept: the answer was lost and the cancel was refused ({cancel_refusal}); the coupon stands")
        }
    }
    if matches!(outcome, SendOutcome::NotIssued { refusal: Some(_) }) {
        anyhow::bail!("send refused");
    }
    Ok(())
}

pub async fn coupon(args: TrIdArgs) -> anyhow::Result<()> {
    let coupons = args.client.client()?.coupon_detail(&args.tr_id).await.map_err(explain)?;
    if args.client.json {
        return print_json(&coupons);
    }
    for c in &coupons {
        println!("{}", fields(c)?);
    }
    Ok(())
}

pub async fn cancel(args: TrIdArgs) -> anyhow::Result<()> {
    args.client.client()?.cancel(&args.tr_id).await.map_err(explain)?;
    done(&args.client, &args.tr_id, "cancelled and refunded")
}

pub async fn resend(args: ResendArgs) -> anyhow::Result<()> {
    let via = if args.sms { ResendVia::Sms } else { ResendVia::Mms };
    args.client.client()?.resend(&args.tr_id, via).await.map_err(explain)?;
    done(&args.client, &args.tr_id, if args.sms { "resent by SMS" } else { "resent by MMS" })
}

fn done(args: &ClientArgs, tr_id: &str, what: &str) -> anyhow::Result<()> {
    if args.json {
        return print_json(&json!({"tr_id": tr_id, "code": "0000"}));
    }
    println!("{tr_id}: {what}");
    Ok(())
}

pub async fn balance(args: BalanceArgs) -> anyhow::Result<()> {
    let client: Client = args.client.client()?;
    let balance = client.bizmoney().await.map_err(explain)?;
    if args.client.json {
        return print_json(&json!({"user_id": client.credentials().user_id, "balance": balance}));
    }
    println!("{balance} KRW");
    Ok(())
}
