-- Accounts and the catalog. Times are unix milliseconds, money whole KRW.

CREATE TABLE accounts (
    id            BIGSERIAL PRIMARY KEY,
    user_id       TEXT   NOT NULL,
    auth_code     TEXT   NOT NULL,
    token_hash    TEXT   NOT NULL,
    grade         TEXT   NOT NULL,
    created_at_ms BIGINT NOT NULL,
    -- Named, because the store maps a violation of this one to "user id taken".
    CONSTRAINT accounts_user_id_key UNIQUE (user_id),
    CONSTRAINT accounts_auth_code_key UNIQUE (auth_code)
);

-- `doc` is the serde_json of the domain struct; the other columns are copies of its fields
-- for ordering and lookup. TEXT rather than JSONB: the store only reads it back whole.
-- Codes collate "C" (byte order), so listings come out in the same order as on SQLite
-- whatever the database's locale.
CREATE TABLE brands (
    brand_code TEXT COLLATE "C" PRIMARY KEY,
    brand_seq  BIGINT NOT NULL,
    sort       BIGINT NOT NULL,
    doc        TEXT   NOT NULL
);
CREATE INDEX brands_by_sort ON brands (sort, brand_code);

CREATE TABLE goods (
    goods_code TEXT COLLATE "C" PRIMARY KEY,
    goods_no   BIGINT NOT NULL,
    brand_code TEXT COLLATE "C" NOT NULL,
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
