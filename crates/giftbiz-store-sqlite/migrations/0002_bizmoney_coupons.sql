-- Bizmoney, its ledger, issued coupons and their outgoing messages (NOTES §5). Money is whole
-- KRW, times unix milliseconds.

-- SQLite accepts a column CHECK in ADD COLUMN (and, since 3.37, tests it against existing
-- rows), so the rule is the same as on PostgreSQL. The store's guarded UPDATEs never try to
-- break it; this is the backstop.
ALTER TABLE accounts ADD COLUMN balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0);

-- Every change of a balance, written in the transaction that makes it: an account's balance is
-- the sum of its entries, and `balance_after` is the running sum. Append-only (the triggers
-- below refuse changes).
CREATE TABLE ledger (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    BIGINT  NOT NULL REFERENCES accounts (id),
    amount        BIGINT  NOT NULL,
    balance_after BIGINT  NOT NULL,
    reason        TEXT    NOT NULL,
    tr_id         TEXT,
    memo          TEXT    NOT NULL DEFAULT '',
    created_at_ms BIGINT  NOT NULL
);
CREATE INDEX ledger_by_account ON ledger (account_id, id);

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;

CREATE TABLE coupons (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id           BIGINT  NOT NULL REFERENCES accounts (id),
    tr_id                TEXT    NOT NULL,
    -- KST issue date (yyyyMMdd) + id modulo 1,000,000, six digits.
    order_no             TEXT    NOT NULL UNIQUE,
    pin                  TEXT    NOT NULL UNIQUE,
    image_token          TEXT    NOT NULL UNIQUE,
    goods_code           TEXT    NOT NULL,
    goods_name           TEXT    NOT NULL,
    brand_code           TEXT    NOT NULL,
    brand_name           TEXT    NOT NULL,
    sale_price           BIGINT  NOT NULL,
    price                BIGINT  NOT NULL CHECK (price >= 0),
    gubun                TEXT    NOT NULL, -- N (MMS), Y (PIN), I (image)
    phone_no             TEXT    NOT NULL,
    callback_no          TEXT    NOT NULL,
    mms_title            TEXT    NOT NULL,
    mms_msg              TEXT    NOT NULL,
    issued_at_ms         BIGINT  NOT NULL,
    valid_until_ms       BIGINT  NOT NULL,
    reserved_at_ms       BIGINT,
    status               TEXT    NOT NULL, -- PinStatus code: 01, 02, 07, 08
    status_changed_at_ms BIGINT  NOT NULL,
    delivery_status      TEXT    NOT NULL, -- DeliveryStatus code: none, pending, ...
    delivery_rst_cd      TEXT,
    delivery_rst_msg     TEXT,
    UNIQUE (account_id, tr_id)
);
-- For the expiry job: issued coupons past their validity.
CREATE INDEX coupons_by_status_validity ON coupons (status, valid_until_ms);

-- Every tr_id an account ever used, forever. A row without a coupon is a tombstone: a cancel
-- (0202 or 0205) of a tr_id no send had claimed, which refuses a late send with that tr_id.
CREATE TABLE tr_ids (
    account_id    BIGINT NOT NULL REFERENCES accounts (id),
    tr_id         TEXT   NOT NULL,
    coupon_id     BIGINT REFERENCES coupons (id),
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, tr_id)
) WITHOUT ROWID;

-- Messages to deliver (an MMS per gubun-N coupon); the delivery worker claims due rows.
CREATE TABLE outbox (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    coupon_id          BIGINT  NOT NULL REFERENCES coupons (id),
    kind               TEXT    NOT NULL, -- mms
    due_at_ms          BIGINT  NOT NULL,
    state              TEXT    NOT NULL, -- pending, sent, failed, cancelled
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT  NOT NULL,
    claimed_until_ms   BIGINT,
    last_error         TEXT,
    created_at_ms      BIGINT  NOT NULL
);
CREATE INDEX outbox_by_state_due ON outbox (state, next_attempt_at_ms);
CREATE INDEX outbox_by_coupon ON outbox (coupon_id);
