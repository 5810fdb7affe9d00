-- Failed partner authentications (a wrong token, or a code that is no partner's), counted: one
-- row per source address, partner (0 for a code that is no partner's, which is not kept) and
-- hour, however many attempts it saw. Attempts past the failure limit are refused before any
-- write and are not in it.
CREATE TABLE partner_auth_failures (
    source     TEXT   NOT NULL,
    partner_id BIGINT NOT NULL,
    hour_ms    BIGINT NOT NULL,
    failures   BIGINT NOT NULL,
    last_at_ms BIGINT NOT NULL,
    PRIMARY KEY (source, partner_id, hour_ms)
);
