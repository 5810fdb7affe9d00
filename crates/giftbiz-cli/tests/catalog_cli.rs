//! `giftbiz catalog sync|search` as real processes against a real `giftbiz serve` (the demo
//! catalog), with credentials from the environment.

mod common;

use std::path::Path;
use std::process::Output;

use common::{serve as serve_with, Served};
use serde_json::Value;

fn serve() -> Served {
    serve_with(&[])
}

trait Catalog {
    fn run(&self, catalog: &Path, args: &[&str]) -> Output;
    fn ok(&self, catalog: &Path, args: &[&str]) -> String;
}

impl Catalog for Served {
    /// `giftbiz ARGS` with the demo account's credentials and `catalog` as GIFTBIZ_CATALOG.
    fn run(&self, catalog: &Path, args: &[&str]) -> Output {
        self.client_command(args).env("GIFTBIZ_CATALOG", catalog).output().expect("run giftbiz")
    }

    fn ok(&self, catalog: &Path, args: &[&str]) -> String {
        common::ok(&self.run(catalog, args))
    }
}

#[test]
fn catalog_sync_then_search_in_hangul() {
    let served = serve();
    let catalog = served.dir.path().join("local-catalog.db");

    // Searching before any sync: a hint, not an empty table.
    let early = served.run(&catalog, &["catalog", "search", "커피"]);
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains("giftbiz catalog sync"));

    let report: Value =
        serde_json::from_str(&served.ok(&catalog, &["catalog", "sync", "--page-size", "100", "--json"])).unwrap();
    let added = report["added"].as_array().unwrap().len();
    assert!(added >= 300, "the demo catalog: {report}");
    assert_eq!(report["goods"], added);
    assert_eq!(report["pages"], added.div_ceil(100));
    assert!(report["brands"].as_u64().unwrap() >= 40);

    // Again, as text: nothing changed.
    let text = served.ok(&catalog, &["catalog", "sync"]);
    assert!(text.contains("added: 0") && text.contains("removed: 0"), "{text}");
    assert!(text.contains(&format!("unchanged: {added}")), "{text}");

    // A two-syllable keyword, as JSON: every hit names it.
    let hits: Value = serde_json::from_str(&served.ok(&catalog, &["catalog", "search", "커피", "--limit", "0", "--json"])).unwrap();
    let hits = hits.as_array().unwrap();
    assert!(hits.len() > 10, "{}", hits.len());
    for g in hits {
        let (name, brand) = (g["goodsName"].as_str().unwrap(), g["brandName"].as_str().unwrap());
        assert!(name.contains("커피") || brand.contains("커피"), "{name} / {brand}");
    }

    // A table: brand, price range and order.
    let table = served.ok(
        &catalog,
        &["catalog", "search", "아메리카노", "--brand", "스타벅스", "--max-price", "6000", "--sort", "price-asc"],
    );
    assert!(table.contains("카페 아메리카노 T") && table.contains("4,700") && table.contains("커피/음료"), "{table}");
    let rows: Vec<&str> = table.lines().filter(|l| l.contains("G0")).collect();
    assert!(!rows.is_empty() && rows.iter().all(|r| r.contains("스타벅스")), "{table}");

    // Suspended goods only, in a category given by name.
    let sus: Value = serde_json::from_str(&served.ok(
        &catalog,
        &["catalog", "search", "--state", "SUS", "--category", "커피/음료", "--json"],
    ))
    .unwrap();
    for g in sus.as_array().unwrap() {
        assert_eq!((g["goodsStateCd"].as_str(), g["category1Seq"].as_i64()), (Some("SUS"), Some(1)), "{g}");
    }
}
