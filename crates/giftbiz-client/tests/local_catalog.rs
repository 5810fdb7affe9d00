//! The local catalog against the real giftbiz server on loopback: a first sync of a few
//! thousand goods, a second one that reports exactly the changes made in between, interrupted
//! syncs that resume to the same result, and Hangul searches checked against the list itself.

mod common;

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::path::Path;

use common::Server;
use giftbiz_client::wire::catalog::GoodsListItem;
use giftbiz_client::{Client, LocalCatalog, LocalCatalogError, SearchQuery, SortOrder, SyncReport};
use giftbiz_core::catalog::{Goods, GoodsState};
use giftbiz_core::{GoodsCode, Grade, GradePrices, Won};
use giftbiz_server::demo::catalog::demo_catalog;

const GOODS: usize = 3000;
const PAGE: u32 = 500;

fn codes(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

fn keep_going(_: &giftbiz_client::SyncProgress) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// The same outcome, whatever the run's number and page count.
#[track_caller]
fn assert_same_changes(a: &SyncReport, b: &SyncReport) {
    assert_eq!((&a.added, &a.changed, &a.removed), (&b.added, &b.changed, &b.removed));
    assert_eq!((a.unchanged, a.goods, a.brands), (b.unchanged, b.goods, b.brands));
}

/// Every goods of both files, as searched without criteria.
fn contents(c: &LocalCatalog) -> Vec<GoodsListItem> {
    c.search(&SearchQuery::new()).unwrap().into_iter().map(|g| g.goods).collect()
}

/// A server of `grade` holding the demo catalog, a client of it, the catalog as stored and as
/// 0101 lists it, and a folder for local catalog files.
struct Demo {
    server: Server,
    client: Client,
    brands: usize,
    goods: Vec<Goods>,
    listed: Vec<GoodsListItem>,
    dir: tempfile::TempDir,
}

async fn demo(grade: Grade) -> Demo {
    let server = Server::start(grade, 0).await;
    let (brands, goods) = demo_catalog(GOODS);
    server.store.upsert_catalog(&brands, &goods).await.unwrap();
    let client = server.client();
    let listed = client.goods_list_all(1000).await.unwrap();
    Demo { server, client, brands: brands.len(), goods, listed, dir: tempfile::tempdir().unwrap() }
}

/// A sync of the file at `path` whose caller crashes (its task panics) right after the second
/// page is stored. (Dropping the future instead is not a crash at a fixed point: pages fetched
/// ahead are stored within one poll.)
async fn sync_crashed_after_two_pages(path: &Path, client: &Client) {
    let (path, client) = (path.to_owned(), client.clone());
    let crashed = tokio::spawn(async move {
        let mut catalog = LocalCatalog::open(&path).unwrap();
        let progress = |p: &giftbiz_client::SyncProgress| {
            assert!(p.pages_done < 2, "the caller crashes once two pages are stored");
            ControlFlow::Continue(())
        };
        catalog.sync(&client, PAGE, progress).await
    })
    .await;
    assert!(crashed.expect_err("the sync crashed").is_panic());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_reports_changes_and_resumes() {
    let Demo { server, client, brands, mut goods, listed, dir } = demo(Grade::Gold).await;
    assert!(listed.len() >= GOODS, "{} goods listed", listed.len());

    // First sync: everything is added.
    let mut straight = LocalCatalog::open(dir.path().join("straight.db")).unwrap();
    let mut pages_seen = Vec::new();
    let first = straight
        .sync(&client, PAGE, |p| {
            pages_seen.push((p.page, p.goods_done, p.goods_total));
            ControlFlow::Continue(())
        })
        .await
        .unwrap();
    let expected_pages = listed.len().div_ceil(PAGE as usize) as u32;
    assert_eq!(first.pages, expected_pages);
    assert_eq!(pages_seen.len() as u32, expected_pages);
    assert_eq!(*pages_seen.last().unwrap(), (expected_pages, listed.len() as u64, listed.len() as u64));
    assert_eq!(first.added.len(), listed.len());
    assert_eq!(codes(&first.added), listed.iter().map(|g| g.goods_code.clone()).collect());
    assert!(first.changed.is_empty() && first.removed.is_empty() && first.unchanged == 0 && !first.resumed);
    assert_eq!((first.goods, first.brands), (listed.len() as u64, brands as u64));
    assert_eq!(contents(&straight), listed, "every goods stored as 0101 shows it, in its order");

    // The same first sync crashed after two pages, then resumed: the same result.
    let resumed_path = dir.path().join("resumed.db");
    sync_crashed_after_two_pages(&resumed_path, &client).await;
    let mut resumed = LocalCatalog::open(&resumed_path).unwrap();
    assert_eq!(resumed.goods_count().unwrap(), 2 * PAGE as u64, "the two pages stored before the crash");
    // Searchable meanwhile (the trigram index is built when the first sync ends: LIKE until then).
    let so_far = contents(&resumed);
    let hits: Vec<GoodsListItem> = resumed.search(&SearchQuery::keyword("아메리카노")).unwrap().into_iter().map(|g| g.goods).collect();
    assert!(!hits.is_empty());
    assert_eq!(hits, so_far.into_iter().filter(|g| g.goods_name.contains("아메리카노")).collect::<Vec<_>>());
    let report = resumed.sync(&client, 7, keep_going).await.unwrap();
    assert!(report.resumed);
    assert_eq!(report.pages, expected_pages, "the run's page size, whatever the caller passes");
    assert_same_changes(&report, &first);
    assert_eq!(contents(&resumed), listed);

    // Nothing changed: nothing reported.
    let idle = straight.sync(&client, PAGE, keep_going).await.unwrap();
    assert!(idle.added.is_empty() && idle.changed.is_empty() && idle.removed.is_empty());
    assert_eq!(idle.unchanged, listed.len() as u64);

    // Changes on the platform: 5 new goods, 4 new prices, 3 new names, 2 suspended (still
    // listed, as SUS), 2 withdrawn (no longer listed).
    let on_sale: Vec<String> =
        listed.iter().filter(|g| g.goods_state_cd == "SALE").map(|g| g.goods_code.clone()).collect();
    let mut expect_added = BTreeSet::new();
    let mut changed_goods: Vec<Goods> = Vec::new();
    for i in 0..5 {
        let mut g = goods[i * 7].clone();
        g.goods_code = GoodsCode::parse(&format!("G9{:010}", i)).unwrap();
        g.goods_no = 900_000 + i as i64;
        g.goods_name = format!("신상품 라떼 기프트 {i}");
        g.state = GoodsState::Sale;
        expect_added.insert(g.goods_code.as_str().to_owned());
        changed_goods.push(g);
    }
    let mut expect_changed = BTreeSet::new();
    let mut expect_removed = BTreeSet::new();
    for (n, code) in on_sale.iter().step_by(97).take(11).enumerate() {
        let at = goods.iter().position(|g| g.goods_code == *code.as_str()).unwrap();
        let g = &mut goods[at];
        match n {
            0..=3 => {
                g.sale_price = g.sale_price + Won::new(1000);
                g.prices = GradePrices::standard(g.sale_price, false);
                expect_changed.insert(code.clone());
            }
            4..=6 => {
                g.goods_name = format!("{} (리뉴얼)", g.goods_name);
                expect_changed.insert(code.clone());
            }
            7 | 8 => {
                g.state = GoodsState::Suspended;
                expect_changed.insert(code.clone());
            }
            _ => {
                g.state = GoodsState::Withdrawn;
                expect_removed.insert(code.clone());
            }
        }
        changed_goods.push(g.clone());
    }
    server.store.upsert_catalog(&[], &changed_goods).await.unwrap();
    let relisted = client.goods_list_all(1000).await.unwrap();
    assert_eq!(relisted.len(), listed.len() + 5 - 2);

    let second = straight.sync(&client, PAGE, keep_going).await.unwrap();
    assert_eq!(codes(&second.added), expect_added);
    assert_eq!(codes(&second.changed), expect_changed);
    assert_eq!(codes(&second.removed), expect_removed);
    assert_eq!(second.unchanged, (relisted.len() - 5 - 9) as u64);
    assert_eq!(second.goods, relisted.len() as u64);
    assert_eq!(contents(&straight), relisted);
    let renamed = straight.search(&SearchQuery::keyword("리뉴얼")).unwrap();
    assert_eq!(renamed.len(), 3, "the search index follows renames");
    assert!(straight.search(&SearchQuery::keyword("신상품 라떼")).unwrap().len() == 5);

    // The same second sync stopped by its progress callback after one page, then resumed.
    let stopped = resumed.sync(&client, PAGE, |_| ControlFlow::Break(())).await;
    match stopped {
        Err(LocalCatalogError::Interrupted { next_page: 2, .. }) => {}
        other => panic!("expected an interruption before page 2: {other:?}"),
    }
    let report = resumed.sync(&client, PAGE, keep_going).await.unwrap();
    assert!(report.resumed);
    assert_same_changes(&report, &second);
    assert_eq!(contents(&resumed), relisted);
    server.stop().await;
}

/// Goods withdrawn and added while a sync pages shift the list under it: the goods that moved
/// to a page already read are not missed (nor reported removed), thanks to another pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_moves_during_the_sync_is_read_again() {
    let Demo { server, client, goods, listed, dir, .. } = demo(Grade::Basic).await;
    let mut catalog = LocalCatalog::open(dir.path().join("catalog.db")).unwrap();
    catalog.sync(&client, PAGE, keep_going).await.unwrap();

    // Once page 1 is stored: withdraw three of its goods, and add two that list first.
    let withdrawn: Vec<String> = listed[10..13].iter().map(|g| g.goods_code.clone()).collect();
    let mut change: Vec<Goods> = Vec::new();
    for code in &withdrawn {
        let mut g = goods.iter().find(|g| g.goods_code == *code.as_str()).unwrap().clone();
        g.state = GoodsState::Withdrawn;
        change.push(g);
    }
    for (i, g) in goods[..2].iter().enumerate() {
        let mut g = g.clone();
        g.goods_code = GoodsCode::parse(&format!("G8{:010}", i)).unwrap();
        g.goods_no = 100 + i as i64;
        change.push(g);
    }
    let store = server.store.clone();
    let mut done = false;
    let report = catalog
        .sync(&client, PAGE, |p| {
            if !done && p.page == 1 {
                done = true;
                let handle = tokio::runtime::Handle::current();
                tokio::task::block_in_place(|| handle.block_on(store.upsert_catalog(&[], &change))).unwrap();
            }
            ControlFlow::Continue(())
        })
        .await
        .unwrap();
    assert_eq!(codes(&report.removed), codes(&withdrawn));
    assert_eq!(report.added, vec!["G80000000000".to_owned(), "G80000000001".to_owned()]);
    assert!(report.changed.is_empty(), "{:?}", report.changed);
    let pages = listed.len().div_ceil(PAGE as usize) as u32;
    assert!(report.pages > pages, "another pass: {} pages", report.pages);
    assert_eq!(contents(&catalog), client.goods_list_all(1000).await.unwrap());
    server.stop().await;
}

/// Pages that list what they listed at the last sync are not decoded again, yet the report
/// stays exact: a price changed on one page, a goods withdrawn from a later one (which changes
/// the total every page announces and shifts the pages after it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_pages_are_skipped_and_changes_still_reported() {
    let Demo { server, client, mut goods, listed, dir, .. } = demo(Grade::Basic).await;
    let pages = listed.len().div_ceil(PAGE as usize) as u32;
    assert!(pages >= 5, "{pages} pages");
    let mut catalog = LocalCatalog::open(dir.path().join("catalog.db")).unwrap();
    let first = catalog.sync(&client, PAGE, keep_going).await.unwrap();
    assert_eq!((first.added.len(), first.unchanged_pages), (listed.len(), 0));

    let idle = catalog.sync(&client, PAGE, keep_going).await.unwrap();
    assert_eq!((idle.pages, idle.unchanged_pages), (pages, pages), "every page as before");
    assert!(idle.added.is_empty() && idle.changed.is_empty() && idle.removed.is_empty());
    assert_eq!((idle.unchanged, idle.goods), (listed.len() as u64, listed.len() as u64));

    // A new price on page 2; a goods of page 4 withdrawn.
    let repriced = listed[PAGE as usize + 10].goods_code.clone();
    let withdrawn = listed[3 * PAGE as usize + 10].goods_code.clone();
    let mut change = Vec::new();
    for g in goods.iter_mut() {
        if g.goods_code == *repriced.as_str() {
            g.sale_price = g.sale_price + Won::new(1000);
            g.prices = GradePrices::standard(g.sale_price, false);
            change.push(g.clone());
        } else if g.goods_code == *withdrawn.as_str() {
            g.state = GoodsState::Withdrawn;
            change.push(g.clone());
        }
    }
    server.store.upsert_catalog(&[], &change).await.unwrap();
    let relisted = client.goods_list_all(1000).await.unwrap();
    assert_eq!(relisted.len(), listed.len() - 1);

    let second = catalog.sync(&client, PAGE, keep_going).await.unwrap();
    assert_eq!(second.unchanged_pages, 2, "pages 1 and 3 (their total changed, not their goods)");
    assert!(second.added.is_empty());
    assert_eq!((second.changed.clone(), second.removed.clone()), (vec![repriced.clone()], vec![withdrawn]));
    assert_eq!(second.unchanged, relisted.len() as u64 - 1);
    assert_eq!(contents(&catalog), relisted);
    let stored = catalog.search(&SearchQuery::new()).unwrap();
    let g = stored.iter().find(|g| g.goods.goods_code == repriced).unwrap();
    assert_eq!(g.goods.sale_price, listed[PAGE as usize + 10].sale_price + 1000);

    // And again: nothing changed, every page skipped (the skipped ones' new totals were kept).
    let again = catalog.sync(&client, PAGE, keep_going).await.unwrap();
    let relisted_pages = relisted.len().div_ceil(PAGE as usize) as u32;
    assert_eq!((again.pages, again.unchanged_pages), (relisted_pages, relisted_pages));
    assert!(again.added.is_empty() && again.changed.is_empty() && again.removed.is_empty());
    assert_eq!(contents(&catalog), relisted);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hangul_search_filters_and_sorts() {
    let Demo { server, client, listed, dir, .. } = demo(Grade::Basic).await;
    let mut catalog = LocalCatalog::open(dir.path().join("catalog.db")).unwrap();
    catalog.sync(&client, 1000, keep_going).await.unwrap();

    let found = |q: &SearchQuery| -> Vec<String> {
        catalog.search(q).unwrap().into_iter().map(|g| g.goods.goods_code).collect()
    };
    let expect = |keep: &dyn Fn(&GoodsListItem) -> bool| -> Vec<String> {
        listed.iter().filter(|g| keep(g)).map(|g| g.goods_code.clone()).collect()
    };
    let names = |g: &GoodsListItem, w: &str| g.goods_name.contains(w) || g.brand_name.contains(w);

    // Two syllables (below the trigram's three characters), and longer words.
    for word in ["커피", "라떼", "치킨", "아메리카노", "스타벅스", "케이크"] {
        let hits = found(&SearchQuery::keyword(word));
        assert!(!hits.is_empty(), "{word}");
        assert_eq!(hits, expect(&|g| names(g, word)), "{word}");
    }
    // A word inside a longer one ("메가MGC커피" holds 커피; "카페라떼" holds 라떼) and two words.
    assert!(found(&SearchQuery::keyword("커피")).len() > found(&SearchQuery::keyword("이디야커피")).len());
    let both = found(&SearchQuery::keyword("스타벅스 라떼"));
    assert_eq!(both, expect(&|g| names(g, "스타벅스") && names(g, "라떼")));
    assert!(!both.is_empty());
    assert!(found(&SearchQuery::keyword("없는상품명")).is_empty());
    // FTS syntax and LIKE wildcards are plain text here.
    assert!(found(&SearchQuery::keyword("\"커피 OR")).is_empty());
    assert!(found(&SearchQuery::keyword("%")).is_empty());
    assert_eq!(found(&SearchQuery::keyword("(ICE)")), expect(&|g| g.goods_name.to_lowercase().contains("(ice)")));

    // Brand by code or name, category by number or name, price range, state.
    let starbucks = expect(&|g| g.brand_name == "스타벅스");
    assert!(!starbucks.is_empty());
    assert_eq!(found(&SearchQuery::new().brand("스타벅스")), starbucks);
    assert_eq!(found(&SearchQuery::new().brand(listed.iter().find(|g| g.brand_name == "스타벅스").unwrap().brand_code.clone())), starbucks);
    let cafes = expect(&|g| g.category1_seq == 1);
    assert_eq!(found(&SearchQuery::new().category("1")), cafes);
    assert_eq!(found(&SearchQuery::new().category("커피/음료")), cafes);
    let hit = catalog.search(&SearchQuery::new().category("1").limit(1)).unwrap();
    assert_eq!(hit[0].category_name.as_deref(), Some("커피/음료"));
    let mid = found(&SearchQuery::keyword("커피").min_price(3000).max_price(5000));
    assert_eq!(mid, expect(&|g| names(g, "커피") && (3000..=5000).contains(&g.sale_price)));
    assert!(!mid.is_empty());
    let suspended = found(&SearchQuery::new().state("sus"));
    assert_eq!(suspended, expect(&|g| g.goods_state_cd == "SUS"));
    assert!(!suspended.is_empty());

    // Sort orders, and the limit.
    let by = |sort| catalog.search(&SearchQuery::keyword("라떼").sort(sort)).unwrap();
    let cheap = by(SortOrder::PriceAsc);
    assert!(cheap.windows(2).all(|w| w[0].goods.sale_price <= w[1].goods.sale_price));
    let dear = by(SortOrder::PriceDesc);
    assert!(dear.windows(2).all(|w| w[0].goods.sale_price >= w[1].goods.sale_price));
    let named = by(SortOrder::Name);
    assert!(named.windows(2).all(|w| w[0].goods.goods_name <= w[1].goods.goods_name));
    let newest = by(SortOrder::Newest);
    assert!(newest.windows(2).all(|w| w[0].goods.goods_no > w[1].goods.goods_no));
    assert_eq!(by(SortOrder::Catalog).iter().map(|g| g.goods.goods_code.clone()).collect::<Vec<_>>(), expect(&|g| names(g, "라떼")));
    let top3 = catalog.search(&SearchQuery::keyword("라떼").sort(SortOrder::PriceAsc).limit(3)).unwrap();
    assert_eq!(top3, cheap[..3]);
    // The JSON of a result is the 0101 entry plus the category's name.
    let v = serde_json::to_value(&top3[0]).unwrap();
    assert_eq!(v["goodsCode"], top3[0].goods.goods_code.as_str());
    assert!(v["category1Name"].is_string());
    server.stop().await;
}

#[test]
fn a_newer_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    drop(LocalCatalog::open(&path).unwrap());
    assert_eq!(LocalCatalog::open(&path).unwrap().goods_count().unwrap(), 0, "reopening is fine");
    // A file from a newer version: user_version (the header's 4 bytes at offset 60) = 99.
    let mut bytes = std::fs::read(&path).unwrap();
    // Version 1 (which kept a re-encoding of the JSON) is emptied for a first sync.
    bytes[60..64].copy_from_slice(&1u32.to_be_bytes());
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(LocalCatalog::open(&path).unwrap().goods_count().unwrap(), 0);
    bytes[60..64].copy_from_slice(&99u32.to_be_bytes());
    std::fs::write(&path, bytes).unwrap();
    match LocalCatalog::open(&path) {
        Err(LocalCatalogError::NewerSchema { found: 99 }) => {}
        other => panic!("{other:?}"),
    }
}
