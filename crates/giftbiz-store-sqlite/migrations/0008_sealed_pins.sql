-- PINs at rest (giftbiz_core::pin_vault): `pin` now holds the PIN's keyed lookup
-- (`KEYID:HMAC`, still unique and indexed) and `pin_sealed` the PIN itself under an AEAD
-- (`KEYID:nonce+ciphertext`). Rows from before this migration keep their clear PIN until the
-- store's first open seals them (it needs the key, which SQL does not have), in batches.
ALTER TABLE coupons ADD COLUMN pin_sealed TEXT;

-- The audit's pin_hash becomes the same keyed lookup; sealing and rotations rewrite it by
-- this index. Its old values, unsalted SHA-256 (a 12-digit space, searched in minutes), are
-- marked here: the first open rewrites those of real PINs as their lookup and clears the rest.
CREATE INDEX redemption_audit_by_pin_hash ON redemption_audit (pin_hash) WHERE pin_hash IS NOT NULL;
UPDATE redemption_audit SET pin_hash = 'legacy ' || pin_hash WHERE pin_hash IS NOT NULL;
