//! The local catalog (feature `local-catalog`): a SQLite copy of the goods list (0101) and the
//! brands (0102) that [`LocalCatalog::sync`] keeps up to date and [`LocalCatalog::search`]
//! searches the way the live API cannot: by Korean keyword (a substring match, also for
//! two-syllable words such as "커피"), brand, category, price range and state, sorted as asked.
//!
//! Each goods is kept as its full 0101 JSON beside indexed columns and an FTS5 trigram index of
//! its name and brand name. A sync pages through 0101, one page in memory and one transaction
//! per page, compares each goods with the stored one by a hash of its JSON, and reports the
//! goods added, changed and removed (no longer listed) since the last sync. A sync that stops
//! half-way (an error, a crash, or a progress callback that breaks) resumes at its next page.
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use giftbiz_client::{Client, LocalCatalog, SearchQuery, SortOrder};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::from_env()?;
//! let mut catalog = LocalCatalog::open("giftbiz-catalog.db")?;
//! let report = catalog
//!     .sync(&client, 1000, |p| {
//!         eprintln!("{} / {} goods", p.goods_done, p.goods_total);
//!         ControlFlow::Continue(())
//!     })
//!     .await?;
//! println!("+{} ~{} -{}", report.added.len(), report.changed.len(), report.removed.len());
//!
//! let q = SearchQuery::keyword("커피").max_price(5000).state("SALE").sort(SortOrder::PriceAsc);
//! for g in catalog.search(&q)? {
//!     println!("{} {} {}원", g.goods.goods_code, g.goods.goods_name, g.goods.sale_price);
//! }
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use giftbiz_wire::catalog::{Brand, GoodsListItem, GoodsListResult};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::client::Client;

mod search;

pub use search::{LocalGoods, SearchQuery, SortOrder};

const SCHEMA_VERSION: i64 = 1;
const SCHEMA: &str = "
CREATE TABLE goods (
    id             INTEGER PRIMARY KEY,
    goods_code     TEXT NOT NULL UNIQUE,
    goods_no       INTEGER NOT NULL,
    goods_name     TEXT NOT NULL,
    brand_code     TEXT NOT NULL,
    brand_name     TEXT NOT NULL,
    category_seq   INTEGER NOT NULL,
    sale_price     INTEGER NOT NULL,
    discount_price INTEGER NOT NULL,
    state          TEXT NOT NULL,
    -- FNV-1a 64 of `wire`
    hash           INTEGER NOT NULL,
    -- the last sync run that listed the goods, and its pass (run_id * 16 + pass), and the
    -- last run that added or changed it
    seen_run       INTEGER NOT NULL,
    seen_pass      INTEGER NOT NULL,
    change_run     INTEGER NOT NULL,
    change_kind    TEXT NOT NULL
);
-- the goods' 0101 JSON, apart so the rows a sync touches and a search scans stay small
CREATE TABLE goods_wire (id INTEGER PRIMARY KEY, wire TEXT NOT NULL);
CREATE VIRTUAL TABLE goods_fts USING fts5 (
    goods_name, brand_name, content = 'goods', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER goods_fts_insert AFTER INSERT ON goods BEGIN
    INSERT INTO goods_fts (rowid, goods_name, brand_name) VALUES (new.id, new.goods_name, new.brand_name);
END;
CREATE TRIGGER goods_fts_delete AFTER DELETE ON goods BEGIN
    INSERT INTO goods_fts (goods_fts, rowid, goods_name, brand_name)
        VALUES ('delete', old.id, old.goods_name, old.brand_name);
END;
CREATE TRIGGER goods_fts_update AFTER UPDATE OF goods_name, brand_name ON goods BEGIN
    INSERT INTO goods_fts (goods_fts, rowid, goods_name, brand_name)
        VALUES ('delete', old.id, old.goods_name, old.brand_name);
    INSERT INTO goods_fts (rowid, goods_name, brand_name) VALUES (new.id, new.goods_name, new.brand_name);
END;
CREATE TABLE brands (
    brand_code    TEXT PRIMARY KEY,
    brand_name    TEXT NOT NULL,
    category_seq  INTEGER NOT NULL,
    category_name TEXT NOT NULL,
    wire          TEXT NOT NULL
);
-- category1Seq -> category1Name, as the brands (0102) name them
CREATE TABLE categories (category_seq INTEGER PRIMARY KEY, category_name TEXT NOT NULL);
-- one row per sync run; the run without finished_ms is the one a sync resumes
CREATE TABLE sync_state (
    run_id      INTEGER PRIMARY KEY,
    page_size   INTEGER NOT NULL,
    next_page   INTEGER NOT NULL,
    pages       INTEGER NOT NULL,
    -- of the current pass: distinct goods seen, listNum of its first page (-1 before it), and
    -- whether a later page announced another
    seen        INTEGER NOT NULL,
    pass_list_num INTEGER NOT NULL,
    pass_moved  INTEGER NOT NULL,
    list_num    INTEGER NOT NULL,
    passes      INTEGER NOT NULL,
    started_ms  INTEGER NOT NULL,
    finished_ms INTEGER
);
";

/// Extra passes over the list when a pass may have missed goods: its pages announced different
/// totals, or it saw fewer goods than announced (a goods withdrawn while the sync paged shifts
/// later ones to pages already read). Removed goods come from the last pass if it was clean,
/// else only goods no pass of the run saw are removed.
/// the sync paged shift later ones to pages already read).
const MAX_EXTRA_PASSES: i64 = 2;

/// Pages fetched and decoded ahead of the one being written (each on the runtime's threads).
const PREFETCH: usize = 2;

/// What can go wrong with the local catalog.
#[derive(Debug, thiserror::Error)]
pub enum LocalCatalogError {
    #[error("local catalog database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A call of the API failed; the sync resumes at the page it was reading.
    #[error(transparent)]
    Api(#[from] crate::Error),
    /// The progress callback asked to stop; pages before `next_page` are stored.
    #[error("catalog sync stopped before page {next_page} (run {run}); the next sync resumes there")]
    Interrupted { run: i64, next_page: u32 },
    #[error("the local catalog file has schema version {found}; this program knows up to {SCHEMA_VERSION}")]
    NewerSchema { found: i64 },
    /// A goods or brand whose JSON could not be written or read back.
    #[error("goods JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The runtime dropped a page fetch (it is shutting down).
    #[error("catalog sync: {0}")]
    Runtime(String),
}

/// Where a sync stands, passed to the progress callback after each stored page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncProgress {
    pub run: i64,
    /// The page just stored (1-based).
    pub page: u32,
    pub page_size: u32,
    /// Pages stored in this run, including those before an interruption.
    pub pages_done: u32,
    /// Distinct goods seen in this pass over the list (a run makes another pass when the list
    /// changed while it paged).
    pub goods_done: u64,
    /// The total the list announces (`listNum`).
    pub goods_total: u64,
    /// This run began in an earlier sync call that stopped.
    pub resumed: bool,
}

/// What a completed sync changed. The codes are in goods-number order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub run: i64,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    /// Goods the list no longer shows (withdrawn), deleted from the local catalog.
    pub removed: Vec<String>,
    pub unchanged: u64,
    /// Goods in the local catalog after the sync.
    pub goods: u64,
    pub brands: u64,
    /// 0101 pages read by the run (over all its sync calls and passes).
    pub pages: u32,
    pub resumed: bool,
}

/// The local catalog file. See the [module docs](self).
pub struct LocalCatalog {
    conn: Connection,
}

impl std::fmt::Debug for LocalCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCatalog").field("path", &self.conn.path()).finish()
    }
}

#[derive(Debug, Clone, Copy)]
struct Run {
    id: i64,
    page_size: u32,
    next_page: u32,
    pages: u32,
    seen: u64,
    pass_list_num: i64,
    pass_moved: bool,
    list_num: u64,
    passes: i64,
}

impl Run {
    /// Marks the goods seen in the current pass.
    fn pass_token(&self) -> i64 {
        self.id * 16 + self.passes
    }

    /// The current pass saw every goods the list holds (as far as the list can tell).
    fn pass_is_clean(&self) -> bool {
        !self.pass_moved && (self.list_num == 0 || self.seen == self.list_num)
    }
}

/// A fetched page, each goods with its JSON and hash.
struct Page {
    list_num: u64,
    goods: Vec<(GoodsListItem, String, i64)>,
}

impl LocalCatalog {
    /// Opens the file, creating it (and its schema) if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<LocalCatalog, LocalCatalogError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version == 0 {
            // Goods' JSON runs to ~2 KB: 4 KB pages would hold one each. (Only a new file takes
            // it, and only before WAL.)
            conn.pragma_update(None, "page_size", 16384)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // A lost page after a power cut is read again by the next sync.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        match version {
            0 => {
                conn.execute_batch(&format!("BEGIN; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"))?;
            }
            SCHEMA_VERSION => {}
            found => return Err(LocalCatalogError::NewerSchema { found }),
        }
        Ok(LocalCatalog { conn })
    }

    /// Goods in the local catalog.
    pub fn goods_count(&self) -> Result<u64, LocalCatalogError> {
        Ok(self.conn.query_row("SELECT count(*) FROM goods", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// When the last sync completed (Unix milliseconds), if one ever did.
    pub fn last_synced_ms(&self) -> Result<Option<i64>, LocalCatalogError> {
        Ok(self.conn.query_row("SELECT max(finished_ms) FROM sync_state", [], |r| r.get(0))?)
    }

    /// Brings the local catalog up to date with 0101 (`page_size` goods a page) and 0102.
    ///
    /// `progress` is called after each stored page; returning `ControlFlow::Break(())` stops the
    /// sync with [`LocalCatalogError::Interrupted`]. A run that stopped (that way, by an error,
    /// or by a crash) is resumed by the next call at its next page, with the page size it
    /// began with (`page_size` is then ignored); its report counts every page of the run.
    /// Removed goods are computed only when a run has read the whole list.
    ///
    /// The next pages are fetched and decoded (on the tokio runtime) while one is written, so
    /// it must be called within a tokio runtime (as every call of the client is).
    pub async fn sync(
        &mut self,
        client: &Client,
        page_size: u32,
        mut progress: impl FnMut(&SyncProgress) -> ControlFlow<()>,
    ) -> Result<SyncReport, LocalCatalogError> {
        let (mut run, resumed) = self.begin_or_resume(page_size.max(1))?;
        let mut ahead = Prefetch::new(client, run.page_size, run.next_page);
        let mut first_code_of_previous: Option<String> = None;
        while let Some((page_no, fetch)) = ahead.pop() {
            let page = fetch.page().await?;
            let n = page.goods.len();
            let first = page.goods.first().map(|g| g.0.goods_code.clone());
            // A server that ignores `start` would hand out the same page forever.
            let repeated = first.is_some() && first == first_code_of_previous;
            let last = n < run.page_size as usize
                || repeated
                || (page.list_num > 0 && page_no as u64 * run.page_size as u64 >= page.list_num);
            if last {
                ahead.clear();
            } else {
                let end = (page.list_num.div_ceil(run.page_size as u64) as u32).max(page_no + 1);
                ahead.fill(end);
            }
            // The page and the run's new position commit together.
            let restarted = self.store_page(&mut run, page_no, &page, repeated, last)?;
            if restarted {
                // The list moved under us: read it again; goods already seen cost little.
                ahead = Prefetch::new(client, run.page_size, 1);
                first_code_of_previous = None;
            } else {
                first_code_of_previous = first;
            }
            let p = SyncProgress {
                run: run.id,
                page: page_no,
                page_size: run.page_size,
                pages_done: run.pages,
                goods_done: run.seen,
                goods_total: run.list_num,
                resumed,
            };
            if progress(&p).is_break() {
                return Err(LocalCatalogError::Interrupted { run: run.id, next_page: run.next_page });
            }
        }
        let brands = client.brands().await?;
        self.finish(&run, &brands.brand_list, resumed)
    }

    /// The unfinished run, or a new one.
    fn begin_or_resume(&mut self, page_size: u32) -> Result<(Run, bool), LocalCatalogError> {
        let pending = self
            .conn
            .query_row(
                "SELECT run_id, page_size, next_page, pages, seen, pass_list_num, pass_moved, list_num, passes
                 FROM sync_state
                 WHERE finished_ms IS NULL ORDER BY run_id DESC LIMIT 1",
                [],
                |r| {
                    Ok(Run {
                        id: r.get(0)?,
                        page_size: r.get(1)?,
                        next_page: r.get(2)?,
                        pages: r.get(3)?,
                        seen: r.get::<_, i64>(4)? as u64,
                        pass_list_num: r.get(5)?,
                        pass_moved: r.get(6)?,
                        list_num: r.get::<_, i64>(7)? as u64,
                        passes: r.get(8)?,
                    })
                },
            )
            .optional()?;
        if let Some(run) = pending {
            return Ok((run, true));
        }
        self.conn.execute(
            "INSERT INTO sync_state (page_size, next_page, pages, seen, pass_list_num, pass_moved, list_num, passes, started_ms)
             VALUES (?1, 1, 0, 0, -1, 0, 0, 0, ?2)",
            params![page_size, now_ms()],
        )?;
        let id = self.conn.last_insert_rowid();
        let run = Run { id, page_size, next_page: 1, pages: 0, seen: 0, pass_list_num: -1, pass_moved: false, list_num: 0, passes: 0 };
        Ok((run, false))
    }

    /// Stores page `page_no` (unless it `repeated` the previous one) and the run's new position
    /// in one transaction. After the `last` page, starts another pass if the run saw fewer goods
    /// than the list announced (and says so).
    fn store_page(&mut self, run: &mut Run, page_no: u32, page: &Page, repeated: bool, last: bool) -> Result<bool, LocalCatalogError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut newly_seen = 0;
        let token = run.pass_token();
        let goods: &[(GoodsListItem, String, i64)] = if repeated { &[] } else { &page.goods };
        let run_id = run.id;
        {
            let mut find = tx.prepare_cached(
                "SELECT id, hash, seen_pass, change_run, change_kind FROM goods WHERE goods_code = ?1",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO goods (goods_code, goods_no, goods_name, brand_code, brand_name, category_seq,
                    sale_price, discount_price, state, hash, seen_run, seen_pass, change_run, change_kind)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?11, 'added')",
            )?;
            let mut insert_wire = tx.prepare_cached("INSERT OR REPLACE INTO goods_wire (id, wire) VALUES (?1, ?2)")?;
            let mut update = tx.prepare_cached(
                "UPDATE goods SET goods_no = ?2, goods_name = ?3, brand_code = ?4, brand_name = ?5,
                    category_seq = ?6, sale_price = ?7, discount_price = ?8, state = ?9, hash = ?10,
                    seen_run = ?11, seen_pass = ?12, change_run = ?11, change_kind = ?13
                 WHERE id = ?1",
            )?;
            let mut touch = tx.prepare_cached("UPDATE goods SET seen_run = ?2, seen_pass = ?3 WHERE id = ?1")?;
            for (g, wire, hash) in goods {
                let found = find
                    .query_row([&g.goods_code], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?, r.get::<_, String>(4)?))
                    })
                    .optional()?;
                let Some((id, stored_hash, seen_pass, change_run, kind)) = found else {
                    let id = insert.insert(params![
                        g.goods_code, g.goods_no, g.goods_name, g.brand_code, g.brand_name, g.category1_seq,
                        g.sale_price, g.discount_price, g.goods_state_cd, hash, run_id, token
                    ])?;
                    insert_wire.execute(params![id, wire])?;
                    newly_seen += 1;
                    continue;
                };
                if seen_pass != token {
                    newly_seen += 1;
                }
                if stored_hash != *hash {
                    // Added earlier in this run (before a resume or another pass) stays added.
                    let kind = if change_run == run_id && kind == "added" { "added" } else { "changed" };
                    update.execute(params![
                        id, g.goods_no, g.goods_name, g.brand_code, g.brand_name, g.category1_seq,
                        g.sale_price, g.discount_price, g.goods_state_cd, hash, run_id, token, kind
                    ])?;
                    insert_wire.execute(params![id, wire])?;
                } else if seen_pass != token {
                    touch.execute(params![id, run_id, token])?;
                }
            }
        }
        run.seen += newly_seen;
        if run.pass_list_num < 0 {
            run.pass_list_num = page.list_num as i64;
        } else if run.pass_list_num != page.list_num as i64 {
            run.pass_moved = true;
        }
        run.list_num = page.list_num;
        run.pages += 1;
        run.next_page = page_no + 1;
        let restart = last && !run.pass_is_clean() && run.passes < MAX_EXTRA_PASSES;
        if restart {
            run.passes += 1;
            run.next_page = 1;
            run.seen = 0;
            run.pass_list_num = -1;
            run.pass_moved = false;
        }
        tx.execute(
            "UPDATE sync_state SET next_page = ?2, pages = ?3, seen = ?4, pass_list_num = ?5, pass_moved = ?6,
                list_num = ?7, passes = ?8
             WHERE run_id = ?1",
            params![
                run.id,
                run.next_page,
                run.pages,
                run.seen as i64,
                run.pass_list_num,
                run.pass_moved,
                run.list_num as i64,
                run.passes
            ],
        )?;
        tx.commit()?;
        Ok(restart)
    }

    /// Replaces the brands, deletes the goods the run never saw and closes the run.
    fn finish(&mut self, run: &Run, brands: &[Brand], resumed: bool) -> Result<SyncReport, LocalCatalogError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM brands", [])?;
        tx.execute("DELETE FROM categories", [])?;
        {
            let mut brand = tx.prepare(
                "INSERT OR REPLACE INTO brands (brand_code, brand_name, category_seq, category_name, wire)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut category =
                tx.prepare("INSERT OR IGNORE INTO categories (category_seq, category_name) VALUES (?1, ?2)")?;
            for b in brands {
                let wire = serde_json::to_string(b)?;
                brand.execute(params![b.brand_code, b.brand_name, b.category1_seq, b.category1_name, wire])?;
                if !b.category1_name.is_empty() {
                    category.execute(params![b.category1_seq, b.category1_name])?;
                }
            }
        }
        let codes = |sql: &str| -> rusqlite::Result<Vec<String>> {
            let mut stmt = tx.prepare(sql)?;
            let rows = stmt.query_map([run.id], |r| r.get(0))?;
            rows.collect()
        };
        // A clean last pass saw the whole list; otherwise keep whatever any pass saw.
        let (gone, mark) = if run.pass_is_clean() { ("seen_pass != ?1", run.pass_token()) } else { ("seen_run != ?1", run.id) };
        let mut removed = Vec::new();
        {
            let mut stmt = tx.prepare(&format!("SELECT goods_code FROM goods WHERE {gone} ORDER BY goods_no, goods_code"))?;
            for code in stmt.query_map([mark], |r| r.get(0))? {
                removed.push(code?);
            }
        }
        tx.execute(&format!("DELETE FROM goods_wire WHERE id IN (SELECT id FROM goods WHERE {gone})"), [mark])?;
        tx.execute(&format!("DELETE FROM goods WHERE {gone}"), [mark])?;
        // (After the deletion: a goods changed and then withdrawn during the run is only removed.)
        let added = codes("SELECT goods_code FROM goods WHERE change_run = ?1 AND change_kind = 'added' ORDER BY goods_no, goods_code")?;
        let changed = codes("SELECT goods_code FROM goods WHERE change_run = ?1 AND change_kind = 'changed' ORDER BY goods_no, goods_code")?;
        let goods: i64 = tx.query_row("SELECT count(*) FROM goods", [], |r| r.get(0))?;
        tx.execute("UPDATE sync_state SET finished_ms = ?2 WHERE run_id = ?1", params![run.id, now_ms()])?;
        tx.commit()?;
        let unchanged = goods as u64 - added.len() as u64 - changed.len() as u64;
        Ok(SyncReport {
            run: run.id,
            added,
            changed,
            removed,
            unchanged,
            goods: goods as u64,
            brands: brands.len() as u64,
            pages: run.pages,
            resumed,
        })
    }
}

/// Pages fetched ahead of the writer (at most [`PREFETCH`] at a time), in page order.
struct Prefetch<'a> {
    client: &'a Client,
    size: u32,
    queue: VecDeque<(u32, Fetch)>,
    next: u32,
}

impl<'a> Prefetch<'a> {
    fn new(client: &'a Client, size: u32, first: u32) -> Prefetch<'a> {
        let mut p = Prefetch { client, size, queue: VecDeque::new(), next: first };
        p.fill(first);
        p
    }

    /// Starts fetches of the pages up to `last`, keeping at most `PREFETCH` in flight.
    fn fill(&mut self, last: u32) {
        while self.queue.len() < PREFETCH && self.next <= last {
            self.queue.push_back((self.next, spawn_fetch(self.client, self.next, self.size)));
            self.next += 1;
        }
    }

    fn pop(&mut self) -> Option<(u32, Fetch)> {
        self.queue.pop_front()
    }

    fn clear(&mut self) {
        self.queue.clear();
    }
}

/// Fetches a page on the runtime, encoding and hashing its goods there too.
fn spawn_fetch(client: &Client, page: u32, size: u32) -> Fetch {
    let client = client.clone();
    Fetch(tokio::spawn(async move {
        let GoodsListResult { list_num, goods_list } = client.goods_list(page, size).await?;
        let mut goods = Vec::with_capacity(goods_list.len());
        for g in goods_list {
            let wire = serde_json::to_string(&g)?;
            let hash = fnv1a64(wire.as_bytes()) as i64;
            goods.push((g, wire, hash));
        }
        Ok(Page { list_num, goods })
    }))
}

/// A spawned fetch, aborted if the sync is dropped or stops before awaiting it.
struct Fetch(tokio::task::JoinHandle<Result<Page, LocalCatalogError>>);

impl Fetch {
    async fn page(mut self) -> Result<Page, LocalCatalogError> {
        match (&mut self.0).await {
            Ok(page) => page,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(LocalCatalogError::Runtime(e.to_string())),
        }
    }
}

impl Drop for Fetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
