-- Console adjustments above the four-eyes threshold wait here for a second operator; the
-- approval and its ledger entry are one transaction, so an approved row always has its entry.
CREATE TABLE bizmoney_adjustments (
    id              BIGSERIAL PRIMARY KEY,
    account_id      BIGINT  NOT NULL REFERENCES accounts (id),
    amount          BIGINT  NOT NULL CHECK (amount <> 0),
    reason          TEXT    NOT NULL,
    requested_by    BIGINT  NOT NULL REFERENCES operators (id),
    requested_at_ms BIGINT  NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending', -- pending, approved, rejected
    decided_by      BIGINT  REFERENCES operators (id),
    decided_at_ms   BIGINT
);
CREATE INDEX bizmoney_adjustments_by_state ON bizmoney_adjustments (state, id);
