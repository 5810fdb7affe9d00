//! The local catalog (feature `local-catalog`): a SQLite copy of the goods list (0101) and the
//! brands (0102) that [`LocalCatalog::sync`] keeps up to date and [`LocalCatalog::search`]
//! searches the way the live API cannot: by Korean keyword (a substring match, also for
//! two-syllable words such as "커피"), brand, category, price range and state, sorted as asked.
//!
//! Each goods is kept as its 0101 JSON as received beside indexed columns and an FTS5 trigram
//! index of its name and brand name. A sync pages through 0101, one transaction per page (the
//! next two pages fetched and decoded meanwhile), compares each goods with the stored one by a
//! hash of its JSON, and reports the goods added, changed and removed (no longer listed) since
//! the last sync. A page that lists exactly what it listed when last stored is neither decoded
//! nor written again: its goods are only marked as still listed. A sync that stops half-way
//! (an error, a crash, or a progress callback that breaks) resumes at its next page.
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

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::Path;

use giftbiz_wire::catalog::Brand;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::now_ms;
use fetch::{decode_page, Fetched, Hashes, Page, Prefetch};
use schema::{DROP_FTS_TRIGGERS, DROP_V1, FTS_TRIGGERS, SCHEMA, SCHEMA_VERSION};
use store::store_goods;

mod fetch;
mod schema;
mod search;
mod store;

pub use search::{LocalGoods, SearchQuery, SortOrder};

/// Extra passes over the list when a pass may have missed goods: its pages announced different
/// totals, or it saw fewer goods than announced (a goods withdrawn while the sync paged shifts
/// later ones to pages already read). Removed goods come from the last pass if it was clean,
/// else only goods no pass of the run saw are removed.
const MAX_EXTRA_PASSES: i64 = 2;

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
    /// A stored goods' JSON that the SDK's tolerant decoder cannot read.
    #[error("stored goods JSON: {0}")]
    Decode(#[from] crate::lenient::DecodeError),
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
    /// Of those, pages that listed what they listed at the last sync, byte for byte: their
    /// goods were not decoded or written again, only marked as still listed.
    pub unchanged_pages: u32,
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
    same_pages: u32,
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

/// What the loop needs of a page, whether decoded or known from `sync_pages`.
struct Summary {
    list_num: u64,
    items: usize,
    first_code: Option<String>,
}

/// A page to store: decoded, or listing what it listed when stored (its `sync_pages` record).
enum Content {
    New(Page),
    Same { body: Vec<u8>, summary: Summary, rows: i64, list_hash: i64 },
}

impl Content {
    fn list_hash(&self) -> i64 {
        match self {
            Content::New(p) => p.list_hash,
            Content::Same { list_hash, .. } => *list_hash,
        }
    }

    fn summary(&self) -> Summary {
        match self {
            Content::New(p) => {
                Summary { list_num: p.list_num, items: p.items.len(), first_code: p.items.first().map(|i| i.code.clone()) }
            }
            Content::Same { summary, .. } => Summary { first_code: summary.first_code.clone(), ..*summary },
        }
    }
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
        // The file is a cache that a sync rebuilds. In WAL mode, NORMAL (no fsync at each
        // commit, only at checkpoints) cannot corrupt it: a power cut may only lose the last
        // transactions, i.e. pages (and the run's position) that the next sync reads again.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        match version {
            0 | 1 => {
                let drop_v1 = if version == 1 { DROP_V1 } else { "" };
                conn.execute_batch(&format!(
                    "BEGIN; {drop_v1} {SCHEMA} {FTS_TRIGGERS} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))?;
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
        let known = self.page_hashes(run.page_size)?;
        let mut ahead = Prefetch::new(client, run.page_size, run.next_page, known);
        let mut first_code_of_previous: Option<String> = None;
        while let Some((page_no, fetch)) = ahead.pop() {
            let (mut content, hash) = match fetch.fetched().await? {
                Fetched::New { page, hash } => (Content::New(page), hash),
                Fetched::Same { body, hashes, list_num } => {
                    (self.stored_page(run.page_size, page_no, hashes.list, list_num, body)?, hashes.body)
                }
            };
            let Summary { list_num, items: n, first_code: first } = content.summary();
            // A server that ignores `start` would hand out the same page forever.
            let repeated = first.is_some() && first == first_code_of_previous;
            let last = n < run.page_size as usize
                || repeated
                || (list_num > 0 && page_no as u64 * run.page_size as u64 >= list_num);
            if last {
                ahead.clear();
            } else {
                let end = (list_num.div_ceil(run.page_size as u64) as u32).max(page_no + 1);
                ahead.fill(end);
            }
            // The page and the run's new position commit together.
            let restarted = self.store_page(&mut run, page_no, &mut content, hash, repeated, last)?;
            if !repeated {
                ahead.known.insert(page_no, Hashes { body: hash, list: content.list_hash() });
            }
            if restarted {
                // The list moved under us: read it again; pages that did not move cost little.
                ahead = Prefetch::new(client, run.page_size, 1, std::mem::take(&mut ahead.known));
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
                "SELECT run_id, page_size, next_page, pages, seen, pass_list_num, pass_moved, list_num, passes, same_pages
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
                        same_pages: r.get(9)?,
                    })
                },
            )
            .optional()?;
        if let Some(run) = pending {
            return Ok((run, true));
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Pages of another size are other pages.
        if tx.query_row("SELECT EXISTS (SELECT 1 FROM sync_pages WHERE page_size != ?1)", [page_size], |r| r.get(0))? {
            tx.execute_batch("DELETE FROM sync_pages; UPDATE goods SET page = 0;")?;
        }
        // A first sync: the trigram index is built at its end, in one go (see `finish`).
        let empty: bool = tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM goods)", [], |r| r.get(0))?;
        if empty && search::fts_live(&tx)? {
            tx.execute_batch(DROP_FTS_TRIGGERS)?;
        }
        tx.execute(
            "INSERT INTO sync_state (page_size, next_page, pages, seen, pass_list_num, pass_moved, list_num, passes,
                same_pages, started_ms)
             VALUES (?1, 1, 0, 0, -1, 0, 0, 0, 0, ?2)",
            params![page_size, now_ms()],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        let run = Run { id, page_size, next_page: 1, pages: 0, seen: 0, pass_list_num: -1, pass_moved: false, list_num: 0, passes: 0, same_pages: 0 };
        Ok((run, false))
    }

    /// The hashes of each page stored with this page size.
    fn page_hashes(&self, page_size: u32) -> Result<HashMap<u32, Hashes>, LocalCatalogError> {
        let mut stmt = self.conn.prepare("SELECT page, hash, list_hash FROM sync_pages WHERE page_size = ?1")?;
        let rows = stmt.query_map([page_size], |r| Ok((r.get(0)?, Hashes { body: r.get(1)?, list: r.get(2)? })))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A page that lists what it listed when stored: its record (or, without one, the page
    /// decoded). `list_num` is the body's if it differs from the stored one.
    fn stored_page(
        &self,
        page_size: u32,
        page_no: u32,
        list_hash: i64,
        list_num: Option<u64>,
        body: Vec<u8>,
    ) -> Result<Content, LocalCatalogError> {
        let record = self
            .conn
            .prepare_cached(
                "SELECT items, first_code, list_num, rows FROM sync_pages
                 WHERE page = ?1 AND page_size = ?2 AND list_hash = ?3",
            )?
            .query_row(params![page_no, page_size, list_hash], |r| {
                let stored = r.get::<_, i64>(2)? as u64;
                let summary =
                    Summary { items: r.get::<_, i64>(0)? as usize, first_code: r.get(1)?, list_num: list_num.unwrap_or(stored) };
                Ok((summary, r.get(3)?))
            })
            .optional()?;
        Ok(match record {
            Some((summary, rows)) => Content::Same { body, summary, rows, list_hash },
            None => Content::New(decode_page(body)?),
        })
    }

    /// Stores page `page_no` (unless it `repeated` the previous one) and the run's new position
    /// in one transaction. After the `last` page, starts another pass if the run saw fewer goods
    /// than the list announced (and says so).
    ///
    /// A page whose body is the one stored before only marks its goods seen: they are the goods
    /// rows stored from it, unless some were stored from another page since (their count says
    /// so), and then it is decoded and stored after all.
    fn store_page(
        &mut self,
        run: &mut Run,
        page_no: u32,
        content: &mut Content,
        hash: i64,
        repeated: bool,
        last: bool,
    ) -> Result<bool, LocalCatalogError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let token = run.pass_token();
        let list_num = content.summary().list_num;
        if let Content::Same { body, rows, .. } = content {
            let now: i64 = tx.prepare_cached("SELECT count(*) FROM goods WHERE page = ?1")?.query_row([page_no], |r| r.get(0))?;
            if now != *rows {
                let body = std::mem::take(body);
                *content = Content::New(decode_page(body)?);
            }
        }
        let newly_seen = match content {
            _ if repeated => 0,
            Content::Same { .. } => {
                run.same_pages += 1;
                tx.prepare_cached("UPDATE sync_pages SET hash = ?2, list_num = ?3 WHERE page = ?1")?
                    .execute(params![page_no, hash, list_num as i64])?;
                tx.prepare_cached("UPDATE goods SET seen_run = ?2, seen_pass = ?3 WHERE page = ?1 AND seen_pass != ?3")?
                    .execute(params![page_no, run.id, token])? as u64
            }
            Content::New(page) => {
                let newly_seen = store_goods(&tx, page, page_no, run.id, token)?;
                let rows: i64 = tx.prepare_cached("SELECT count(*) FROM goods WHERE page = ?1")?.query_row([page_no], |r| r.get(0))?;
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO sync_pages (page, page_size, hash, list_hash, items, first_code, list_num, rows)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    page_no,
                    run.page_size,
                    hash,
                    page.list_hash,
                    page.items.len() as i64,
                    page.items.first().map(|i| &i.code),
                    page.list_num as i64,
                    rows
                ])?;
                newly_seen
            }
        };
        run.seen += newly_seen;
        if run.pass_list_num < 0 {
            run.pass_list_num = list_num as i64;
        } else if run.pass_list_num != list_num as i64 {
            run.pass_moved = true;
        }
        run.list_num = list_num;
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
        tx.prepare_cached(
            "UPDATE sync_state SET next_page = ?2, pages = ?3, seen = ?4, pass_list_num = ?5, pass_moved = ?6,
                list_num = ?7, passes = ?8, same_pages = ?9
             WHERE run_id = ?1",
        )?
        .execute(params![
            run.id,
            run.next_page,
            run.pages,
            run.seen as i64,
            run.pass_list_num,
            run.pass_moved,
            run.list_num as i64,
            run.passes,
            run.same_pages
        ])?;
        tx.commit()?;
        Ok(restart)
    }

    /// Replaces the brands, deletes the goods the run never saw, builds the trigram index if a
    /// first sync left it stale, and closes the run.
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
        if run.pass_is_clean() {
            // Pages past the list's end go. The others' goods rows are now exactly the goods
            // they list (every row left was seen in this pass, and its page set then).
            tx.execute("DELETE FROM sync_pages WHERE page >= ?1", [run.next_page])?;
            tx.execute("UPDATE sync_pages SET rows = (SELECT count(*) FROM goods WHERE goods.page = sync_pages.page)", [])?;
        }
        if !search::fts_live(&tx)? {
            tx.execute_batch(&format!("INSERT INTO goods_fts (goods_fts) VALUES ('rebuild'); {FTS_TRIGGERS}"))?;
        }
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
            unchanged_pages: run.same_pages,
            resumed,
        })
    }
}
