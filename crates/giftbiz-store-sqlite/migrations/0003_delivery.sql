-- Message delivery: claims by named workers, a stable idempotency key per message, the
-- gateway's answer, and SMS resends (kind 'sms' beside 'mms').

-- The worker holding the claim until claimed_until_ms; only it may finish the message.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
-- Random, set at the first claim (SQLite cannot add a column with a random default) and kept:
-- the gateway's Idempotency-Key, the same on every retry and for every worker.
ALTER TABLE outbox ADD COLUMN message_key TEXT;
ALTER TABLE outbox ADD COLUMN result_code TEXT;
ALTER TABLE outbox ADD COLUMN result_message TEXT;
ALTER TABLE outbox ADD COLUMN finished_at_ms BIGINT;
CREATE UNIQUE INDEX outbox_by_message_key ON outbox (message_key);
-- The claim's scan: only pending rows matter, and they are few beside the delivered ones.
CREATE INDEX outbox_pending_due ON outbox (next_attempt_at_ms, id) WHERE state = 'pending';
