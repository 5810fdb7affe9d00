-- Balances move out of `accounts` into a table of their own, as on PostgreSQL (its 0006 says
-- why there), so both engines have the same tables and the shared queries read one schema.

-- INTEGER PRIMARY KEY: the rowid itself, so a send's balance update is one b-tree lookup.
CREATE TABLE account_balances (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
    balance    BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0)
);

INSERT INTO account_balances (account_id, balance) SELECT id, balance FROM accounts;

ALTER TABLE accounts DROP COLUMN balance;

-- Every account has its balance row, however the account is inserted.
CREATE TRIGGER account_balance_row AFTER INSERT ON accounts
BEGIN
    INSERT INTO account_balances (account_id) VALUES (NEW.id);
END;
