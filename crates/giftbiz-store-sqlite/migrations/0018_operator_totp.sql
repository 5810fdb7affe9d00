-- An operator's optional second factor: the TOTP key sealed under the PIN key ring (never in
-- clear), and the last step whose code was accepted (a code opens one session only).
ALTER TABLE operators ADD COLUMN totp_sealed TEXT;
ALTER TABLE operators ADD COLUMN totp_last_step BIGINT;
