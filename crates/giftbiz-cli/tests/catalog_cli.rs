//! `giftbiz catalog sync|search` as real processes against a real `giftbiz serve` (the demo
//! catalog), with credentials from the environment.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

struct Served {
    child: Child,
    base_url: String,
    auth_code: String,
    auth_token: String,
    dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `giftbiz serve` on a fresh SQLite file with the demo catalog and account (user id `demo`).
fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("server.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_giftbiz"))
        .args(["serve", "--database", &db, "--listen", "127.0.0.1:0"])
        .env("GIFTBIZ_GATEWAY_LOG_PATH", dir.path().join("messages.jsonl"))
        .env("RUST_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let base = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix("giftbiz listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let field = |name: &str| {
        printed
            .iter()
            .find_map(|l| l.trim().strip_prefix(name).map(|r| r.trim_start_matches([' ', '=']).trim().to_owned()))
            .unwrap_or_else(|| panic!("{name} printed in {printed:?}"))
    };
    let (auth_code, auth_token) = (field("custom_auth_code"), field("custom_auth_token"));
    Served { child, base_url: format!("{base}/bizApi"), auth_code, auth_token, dir }
}

impl Served {
    /// `giftbiz ARGS` with the demo account's credentials and `catalog` as GIFTBIZ_CATALOG.
    fn run(&self, catalog: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_giftbiz"))
            .args(args)
            .env("GIFTBIZ_BASE_URL", &self.base_url)
            .env("GIFTBIZ_AUTH_CODE", &self.auth_code)
            .env("GIFTBIZ_AUTH_TOKEN", &self.auth_token)
            .env("GIFTBIZ_USER_ID", "demo")
            .env("GIFTBIZ_CATALOG", catalog)
            .env("GIFTBIZ_CLIENT_CONFIG", self.dir.path().join("none.toml"))
            .env_remove("GIFTBIZ_PROFILE")
            .output()
            .expect("run giftbiz")
    }

    fn ok(&self, catalog: &Path, args: &[&str]) -> String {
        let out = self.run(catalog, args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
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
