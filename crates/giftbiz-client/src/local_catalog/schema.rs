//! The local catalog file's tables (SQLite, with an FTS5 trigram index).

pub(super) const SCHEMA_VERSION: i64 = 2;
pub(super) const SCHEMA: &str = "
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
    -- xxHash64 of `wire`
    hash           INTEGER NOT NULL,
    -- the 0101 page (of sync_pages' page size) the goods was last stored from, 0 if none
    page           INTEGER NOT NULL,
    -- the last sync run that listed the goods, and its pass (run_id * 16 + pass), and the
    -- last run that added or changed it
    seen_run       INTEGER NOT NULL,
    seen_pass      INTEGER NOT NULL,
    change_run     INTEGER NOT NULL,
    change_kind    TEXT NOT NULL
);
CREATE INDEX goods_page ON goods (page);
-- the goods' 0101 JSON as received, apart so the rows a sync touches and a search scans stay small
CREATE TABLE goods_wire (id INTEGER PRIMARY KEY, wire TEXT NOT NULL);
-- the names' trigram index; while the triggers (FTS_TRIGGERS) are absent, during a first sync,
-- it is stale, and rebuilt in one go at the sync's end
CREATE VIRTUAL TABLE goods_fts USING fts5 (
    goods_name, brand_name, content = 'goods', content_rowid = 'id', tokenize = 'trigram'
);
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
    -- pages that listed what they listed when last stored (not decoded again)
    same_pages  INTEGER NOT NULL,
    started_ms  INTEGER NOT NULL,
    finished_ms INTEGER
);
-- each 0101 page as last stored: the xxHash64 of its body and of its goodsList as received,
-- what the sync needs of it, and how many goods rows it left with goods.page = page (fewer
-- now: some were stored from another page since, and the page is decoded again even if it
-- lists the same)
CREATE TABLE sync_pages (
    page       INTEGER PRIMARY KEY,
    page_size  INTEGER NOT NULL,
    hash       INTEGER NOT NULL,
    list_hash  INTEGER NOT NULL,
    items      INTEGER NOT NULL,
    first_code TEXT,
    list_num   INTEGER NOT NULL,
    rows       INTEGER NOT NULL
);
";
pub(super) const FTS_TRIGGERS: &str = "
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
";
pub(super) const DROP_FTS_TRIGGERS: &str =
    "DROP TRIGGER goods_fts_insert; DROP TRIGGER goods_fts_delete; DROP TRIGGER goods_fts_update;";
/// Version 1 kept a re-encoding of each goods' JSON (and hashed that): its files are emptied,
/// and their next sync is a first one.
pub(super) const DROP_V1: &str = "DROP TABLE IF EXISTS goods_fts; DROP TABLE IF EXISTS goods_wire; DROP TABLE IF EXISTS goods;
    DROP TABLE IF EXISTS brands; DROP TABLE IF EXISTS categories; DROP TABLE IF EXISTS sync_state;
    DROP TABLE IF EXISTS sync_pages;";
