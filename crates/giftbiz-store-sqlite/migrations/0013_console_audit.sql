-- Every console operator's action: who, what, on what, before and after (JSON text), why, and
-- from where. Append-only (the triggers refuse changes; no route or command deletes it).
CREATE TABLE console_audit (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
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

CREATE TRIGGER console_audit_no_update BEFORE UPDATE ON console_audit
BEGIN
    SELECT RAISE(ABORT, 'the console audit is append-only');
END;
CREATE TRIGGER console_audit_no_delete BEFORE DELETE ON console_audit
BEGIN
    SELECT RAISE(ABORT, 'the console audit is append-only');
END;
