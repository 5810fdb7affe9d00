-- Partners (교환처) who redeem coupons, and the audit of every lookup and redemption they try.
-- (Expiry needs no schema: coupons_by_status_validity of 0002 serves its scan.)

CREATE TABLE partners (
    id            BIGSERIAL PRIMARY KEY,
    partner_code  TEXT   NOT NULL, -- PT + 16 hex
    name          TEXT   NOT NULL,
    token_hash    TEXT   NOT NULL, -- hex SHA-256 of the token; the token is never stored
    brand_codes   TEXT   NOT NULL, -- comma list of the brands it may redeem
    created_at_ms BIGINT NOT NULL,
    CONSTRAINT partners_partner_code_key UNIQUE (partner_code)
);

-- Every attempt, refusals included. pin_hash is the hex SHA-256 of the PIN presented (NULL when
-- the request carried none), never the PIN; coupon_id is set when the coupon was found and is
-- of the partner's brands.
CREATE TABLE redemption_audit (
    id         BIGSERIAL PRIMARY KEY,
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    pin_hash   TEXT,
    action     TEXT   NOT NULL, -- lookup, redeem
    outcome    TEXT   NOT NULL, -- ok, not_found, already_used, cancelled, expired, unauthorized, rate_limited, bad_request, error
    coupon_id  BIGINT REFERENCES coupons (id),
    at_ms      BIGINT NOT NULL
);
CREATE INDEX redemption_audit_by_partner ON redemption_audit (partner_id, id);
CREATE INDEX redemption_audit_by_coupon ON redemption_audit (coupon_id) WHERE coupon_id IS NOT NULL;
