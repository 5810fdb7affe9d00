-- Every console operator's action: who, what, on what, before and after (JSON text), why, and
-- from where. Append-only (the trigger refuses changes; no route or command deletes it).
CREATE TABLE console_audit (
    id            BIGSERIAL PRIMARY KEY,
    at_ms         BIGINT  NOT NULL,
    operator_id   BIGINT  NOT NULL REFERENCES operators (id),
    operator_name TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    target        TEXT    NOT NULL,
    before_json   TEXT,
    after_json    TEXT,
    reason        TEXT    NOT NULL DEFAULT '',
    source        TEXT    NOT NULL
);
CREATE INDEX console_audit_by_target ON console_audit (target, id);

CREATE FUNCTION console_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the console audit is append-only';
END;
$$;
CREATE TRIGGER console_audit_append_only BEFORE UPDATE OR DELETE ON console_audit
    FOR EACH ROW EXECUTE FUNCTION console_audit_append_only();
