-- The console's operators (the platform's staff, not accounts), their sessions and failed
-- logins. Passwords are argon2id PHC strings; a session row holds only the SHA-256 of its
-- cookie's token. Sessions and failures are rows, so every instance on the database shares
-- them.
CREATE TABLE operators (
    id             BIGSERIAL PRIMARY KEY,
    username       TEXT    NOT NULL,
    role           TEXT    NOT NULL, -- admin, finance, support, viewer
    password_hash  TEXT    NOT NULL,
    disabled_at_ms BIGINT,
    created_at_ms  BIGINT  NOT NULL,
    -- Named, because the store maps a violation of this one to "username taken".
    CONSTRAINT operators_username_key UNIQUE (username)
);

CREATE TABLE console_sessions (
    token_hash    TEXT   NOT NULL PRIMARY KEY,
    operator_id   BIGINT NOT NULL REFERENCES operators (id),
    source        TEXT   NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_seen_ms  BIGINT NOT NULL
);
CREATE INDEX console_sessions_by_operator ON console_sessions (operator_id);

-- Failed logins by the username tried (whether or not it names an operator), for the lockout.
CREATE TABLE console_login_failures (
    username TEXT   NOT NULL,
    source   TEXT   NOT NULL,
    at_ms    BIGINT NOT NULL
);
CREATE INDEX console_login_failures_by_username ON console_login_failures (username, at_ms);
