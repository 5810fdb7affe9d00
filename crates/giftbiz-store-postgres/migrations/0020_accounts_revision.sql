-- A revision of the accounts, bumped by whoever changes one (a server, the operator CLI, plain
-- SQL), so that servers can cache authentication and still see every change of a token, grade
-- or suspension; and a notification on channel `giftbiz_cache` whenever it or the catalog's
-- revision moves (its payload: the schema, so tenants in other schemas can tell theirs).
-- NOTIFY is sent at commit, so listeners never hear of a change they cannot yet read.
ALTER TABLE catalog_meta ADD COLUMN accounts_revision BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION giftbiz_accounts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_meta SET accounts_revision = accounts_revision + 1 WHERE id = 1;
    RETURN NULL;
END $$;

CREATE TRIGGER accounts_revision
AFTER INSERT OR DELETE OR UPDATE OF auth_code, token_hash, grade, suspended_at_ms ON accounts
FOR EACH STATEMENT EXECUTE FUNCTION giftbiz_accounts_changed();

CREATE FUNCTION giftbiz_cache_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('giftbiz_cache', current_schema());
    RETURN NULL;
END $$;

CREATE TRIGGER catalog_meta_notify AFTER UPDATE ON catalog_meta
FOR EACH STATEMENT EXECUTE FUNCTION giftbiz_cache_notify();
