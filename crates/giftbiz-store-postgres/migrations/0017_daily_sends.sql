-- The console's dashboard reads sends and won per KST day from this rollup, not from the
-- coupons (a count over a million rows took hundreds of milliseconds). The trigger keeps it in
-- the send's own transaction; one row per account and day, whose account the send has locked
-- already, so it adds no lock a send waits on.
CREATE TABLE daily_sends (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    day        BIGINT NOT NULL, -- days since 1970-01-01 in KST
    sends      BIGINT NOT NULL,
    won        BIGINT NOT NULL,
    PRIMARY KEY (account_id, day)
);
CREATE INDEX daily_sends_by_day ON daily_sends (day);

INSERT INTO daily_sends (account_id, day, sends, won)
SELECT account_id, (issued_at_ms + 32400000) / 86400000, COUNT(*), SUM(price)
FROM coupons GROUP BY account_id, (issued_at_ms + 32400000) / 86400000;

CREATE FUNCTION coupons_daily_sends() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO daily_sends (account_id, day, sends, won)
    VALUES (NEW.account_id, (NEW.issued_at_ms + 32400000) / 86400000, 1, NEW.price)
    ON CONFLICT (account_id, day)
    DO UPDATE SET sends = daily_sends.sends + 1, won = daily_sends.won + EXCLUDED.won;
    RETURN NULL;
END;
$$;
CREATE TRIGGER coupons_daily_sends AFTER INSERT ON coupons
    FOR EACH ROW EXECUTE FUNCTION coupons_daily_sends();
