//! `giftbiz catalog sync|search`: a local copy of the API's catalog, searchable.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use comfy_table::CellAlignment;
use giftbiz_client::{LocalCatalog, LocalCatalogError, SearchQuery, SortOrder, SyncReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::client_args::ClientArgs;
use crate::output::{print_json, table};

/// Codes listed one by one in the sync's report when there are at most this many.
const LIST_CODES_UP_TO: usize = 20;

#[derive(Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The local catalog file (created if missing)
    #[arg(long, env = "GIFTBIZ_CATALOG", default_value = "giftbiz-catalog.db")]
    pub catalog: PathBuf,
    /// Goods per 0101 page (an interrupted sync resumes with the size it began with)
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub page_size: u32,
}

#[derive(Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The local catalog file (`giftbiz catalog sync` fills it)
    #[arg(long, env = "GIFTBIZ_CATALOG", default_value = "giftbiz-catalog.db")]
    pub catalog: PathBuf,
    /// Words that must each occur in the goods or brand name, e.g. 커피 or "스타벅스 라떼"
    pub keyword: Vec<String>,
    /// Brand code (BR00001) or exact brand name (스타벅스)
    #[arg(long)]
    pub brand: Option<String>,
    /// Category number (category1Seq, e.g. 1) or name (커피/음료)
    #[arg(long)]
    pub category: Option<String>,
    /// Lowest salePrice (KRW)
    #[arg(long)]
    pub min_price: Option<i64>,
    /// Highest salePrice (KRW)
    #[arg(long)]
    pub max_price: Option<i64>,
    /// SALE or SUS
    #[arg(long, value_parser = ["SALE", "SUS"], ignore_case = true)]
    pub state: Option<String>,
    #[arg(long, value_enum, default_value_t = Sort::Catalog)]
    pub sort: Sort,
    /// At most this many goods; 0 for all
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Sort {
    /// The 0101 list's order
    Catalog,
    /// salePrice, cheapest first
    PriceAsc,
    /// salePrice, dearest first
    PriceDesc,
    /// Goods name (가나다)
    Name,
    /// Highest goods number first
    Newest,
}

impl From<Sort> for SortOrder {
    fn from(s: Sort) -> SortOrder {
        match s {
            Sort::Catalog => SortOrder::Catalog,
            Sort::PriceAsc => SortOrder::PriceAsc,
            Sort::PriceDesc => SortOrder::PriceDesc,
            Sort::Name => SortOrder::Name,
            Sort::Newest => SortOrder::Newest,
        }
    }
}

fn open(path: &PathBuf) -> anyhow::Result<LocalCatalog> {
    LocalCatalog::open(path).with_context(|| format!("opening the local catalog {}", path.display()))
}

pub async fn sync(args: SyncArgs) -> anyhow::Result<()> {
    let client = args.client.client()?;
    let mut catalog = open(&args.catalog)?;
    let bar = if args.client.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {human_pos}/{human_len} goods ({elapsed}, ~{eta} left)")?
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message("0101");
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    };
    let result = catalog
        .sync(&client, args.page_size, |p| {
            bar.set_length(p.goods_total.max(p.goods_done));
            bar.set_position(p.goods_done);
            bar.set_message(format!("0101 page {}{}", p.page, if p.resumed { " (resumed)" } else { "" }));
            ControlFlow::Continue(())
        })
        .await;
    bar.finish_and_clear();
    let report = match result {
        Ok(report) => report,
        Err(LocalCatalogError::Api(e)) => {
            return Err(crate::api::explain(e).context("catalog sync stopped; run it again to resume where it stopped"))
        }
        Err(e) => return Err(e.into()),
    };
    if args.client.json {
        print_json(&report)?;
    } else {
        print_report(&report, &args.catalog);
    }
    Ok(())
}

fn print_report(r: &SyncReport, path: &std::path::Path) {
    let resumed = if r.resumed { ", resuming an interrupted sync" } else { "" };
    let mut pages = if r.pages == 1 { "1 page".to_owned() } else { format!("{} pages", r.pages) };
    if r.unchanged_pages > 0 {
        pages = format!("{pages}, {} as at the last sync", r.unchanged_pages);
    }
    println!(
        "{} goods and {} brands in {} ({pages} of 0101{resumed})",
        thousands(r.goods as i64),
        thousands(r.brands as i64),
        path.display(),
    );
    for (what, codes) in [("added", &r.added), ("changed", &r.changed), ("removed", &r.removed)] {
        if codes.is_empty() {
            println!("{what:>9}: 0");
        } else if codes.len() <= LIST_CODES_UP_TO {
            println!("{what:>9}: {} ({})", codes.len(), codes.join(", "));
        } else {
            println!("{what:>9}: {} (--json lists them)", thousands(codes.len() as i64));
        }
    }
    println!("{:>9}: {}", "unchanged", thousands(r.unchanged as i64));
}

pub async fn search(args: SearchArgs) -> anyhow::Result<()> {
    if !args.catalog.exists() {
        anyhow::bail!("no local catalog at {}: run `giftbiz catalog sync` first", args.catalog.display());
    }
    let catalog = open(&args.catalog)?;
    let keyword = args.keyword.join(" ");
    let query = SearchQuery {
        keyword: (!keyword.trim().is_empty()).then_some(keyword),
        brand: args.brand,
        category: args.category,
        min_price: args.min_price,
        max_price: args.max_price,
        state: args.state,
        sort: args.sort.into(),
        limit: (args.limit > 0).then_some(args.limit),
    };
    let found = catalog.search(&query)?;
    if args.client.json {
        return print_json(&found);
    }
    if catalog.last_synced_ms()?.is_none() && catalog.goods_count()? == 0 {
        anyhow::bail!("the local catalog {} is empty: run `giftbiz catalog sync` first", args.catalog.display());
    }
    let mut t = table(["code", "name", "brand", "category", "price", "yours", "state"]);
    for g in &found {
        let g_ = &g.goods;
        t.add_row(vec![
            g_.goods_code.clone(),
            g_.goods_name.clone(),
            g_.brand_name.clone(),
            g.category_name.clone().unwrap_or_else(|| g_.category1_seq.to_string()),
            thousands(g_.sale_price),
            thousands(g_.discount_price),
            g_.goods_state_cd.clone(),
        ]);
    }
    for col in [4, 5] {
        if let Some(c) = t.column_mut(col) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    if found.is_empty() {
        eprintln!("no goods match");
    } else {
        println!("{t}");
        let more = if query.limit == Some(found.len() as u32) { " (the limit; --limit 0 for all)" } else { "" };
        eprintln!("{} goods{more}; price is salePrice, yours your grade's price", found.len());
    }
    Ok(())
}

/// 1234567 -> "1,234,567".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(4700), "4,700");
        assert_eq!(super::thousands(-1234567), "-1,234,567");
        assert_eq!(super::thousands(100), "100");
    }
}
