-- A revision of the accounts, bumped by whoever changes one (a server, the operator CLI in
-- another process, plain SQL), so that servers can cache authentication and still see every
-- change of a token, grade or suspension: they poll it with the catalog's revision.
ALTER TABLE catalog_meta ADD COLUMN accounts_revision BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER accounts_revision_insert AFTER INSERT ON accounts
BEGIN
    UPDATE catalog_meta SET accounts_revision = accounts_revision + 1 WHERE id = 1;
END;

CREATE TRIGGER accounts_revision_update AFTER UPDATE OF auth_code, token_hash, grade, suspended_at_ms ON accounts
BEGIN
    UPDATE catalog_meta SET accounts_revision = accounts_revision + 1 WHERE id = 1;
END;

CREATE TRIGGER accounts_revision_delete AFTER DELETE ON accounts
BEGIN
    UPDATE catalog_meta SET accounts_revision = accounts_revision + 1 WHERE id = 1;
END;
