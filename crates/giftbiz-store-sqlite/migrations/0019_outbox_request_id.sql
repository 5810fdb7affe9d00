-- The request that queued a message (a gubun N send, a resend), so the delivery's log line
-- names it: a client's X-Request-Id or the one the server made.
ALTER TABLE outbox ADD COLUMN request_id TEXT;
