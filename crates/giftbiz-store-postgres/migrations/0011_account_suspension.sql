-- An operator may suspend an account: its API calls are then refused with E0006 (NOTES §4)
-- until it is reactivated. NULL: active.
ALTER TABLE accounts ADD COLUMN suspended_at_ms BIGINT;
