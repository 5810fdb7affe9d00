-- Accounts and the catalog. Times are unix milliseconds, money whole KRW.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids are never reused
    user_id       TEXT    NOT NULL UNIQUE,
    auth_code     TEXT    NOT NULL UNIQUE,
    token_hash    TEXT    NOT NULL,
    grade         TEXT    NOT NULL,
    created_at_ms BIGINT  NOT NULL
);

-- `doc` is the serde_json of the domain struct; the other columns are copies of its fields
-- for ordering and lookup. (NOT NULL on the keys: SQLite lets a TEXT PRIMARY KEY be NULL.)
CREATE TABLE brands (
    brand_code TEXT   NOT NULL PRIMARY KEY,
    brand_seq  BIGINT NOT NULL,
    sort       BIGINT NOT NULL,
    doc        TEXT   NOT NULL
);
CREATE INDEX brands_by_sort ON brands (sort, brand_code);

CREATE TABLE goods (
    goods_code TEXT   NOT NULL PRIMARY KEY,
    goods_no   BIGINT NOT NULL,
    brand_code TEXT   NOT NULL,
    state      TEXT   NOT NULL,
    doc        TEXT   NOT NULL
);
CREATE INDEX goods_by_no ON goods (goods_no, goods_code);

-- One row whose revision every catalog write bumps, so readers can cache the catalog.
CREATE TABLE catalog_meta (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT  NOT NULL
);
INSERT INTO catalog_meta (id, revision) VALUES (1, 0);
