//! Keeping PINs sealed (`giftbiz_core::pin_vault`): at open, the clear PINs of a database from
//! before sealing are sealed; a rotation re-seals every PIN under the current key. Both rewrite
//! each PIN's lookup and the audit rows that carried its old hash, in batches of their own
//! transactions (each coupon's three columns change together, so a stop leaves no half row).

use giftbiz_core::pin_vault::{legacy_audit_hash, SealedPin, SecretPurpose, LEGACY_AUDIT_PREFIX};
use giftbiz_core::send::Pin;
use giftbiz_core::StoreError;

use crate::{backend, sql_impl};

const BATCH: i64 = 500;

sql_impl! { impl {
    /// Seals the clear PINs, clears the legacy audit hashes no PIN claimed, and checks that the
    /// ring opens the newest sealed PIN, so a missing or wrong key stops the start instead of
    /// failing coupon reads later. Returns how many PINs it sealed.
    pub async fn open_pins(&self) -> Result<u64, StoreError> {
        let sealed = self.seal_pins(false).await?;
        if sealed > 0 {
            D::scrub_replaced_rows(&self.pool).await.map_err(backend)?;
        }
        // The marked range (see migration 0008); empty after the first open.
        let mut legacy_end = LEGACY_AUDIT_PREFIX.to_owned();
        legacy_end.pop();
        legacy_end.push('!');
        sqlx::query("UPDATE redemption_audit SET pin_hash = NULL WHERE pin_hash >= $1 AND pin_hash < $2")
            .bind(LEGACY_AUDIT_PREFIX)
            .bind(legacy_end.as_str())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        let newest: Option<String> = sqlx::query_scalar(
            "SELECT pin_sealed FROM coupons WHERE pin_sealed IS NOT NULL ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        if let Some(newest) = newest {
            self.vault.open(&SealedPin::from_stored(newest)).map_err(|e| {
                StoreError::Corrupt(format!("the PIN key ring {:?} cannot open the newest coupon's PIN: {e}", self.vault.key_ids()))
            })?;
        }
        Ok(sealed)
    }

    /// Seals every clear PIN, and with `older_keys_too` re-seals every PIN not under the
    /// current key. Returns how many it wrote.
    pub(crate) async fn seal_pins(&self, older_keys_too: bool) -> Result<u64, StoreError> {
        let prefix = format!("{}:", self.vault.current_id());
        let prefix_len = prefix.chars().count() as i64;
        let (mut after, mut done) = (0_i64, 0_u64);
        loop {
            let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
            let rows: Vec<(i64, String, Option<String>)> = if older_keys_too {
                sqlx::query_as(
                    "SELECT id, pin, pin_sealed FROM coupons
                     WHERE id > $1 AND (pin_sealed IS NULL OR substr(pin_sealed, 1, CAST($2 AS INTEGER)) <> $3)
                     ORDER BY id LIMIT $4",
                )
                .bind(after)
                .bind(prefix_len)
                .bind(prefix.as_str())
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await
            } else {
                sqlx::query_as("SELECT id, pin, pin_sealed FROM coupons WHERE id > $1 AND pin_sealed IS NULL ORDER BY id LIMIT $2")
                    .bind(after)
                    .bind(BATCH)
                    .fetch_all(&mut *tx)
                    .await
            }
            .map_err(backend)?;
            let Some(&(last, ..)) = rows.last() else {
                tx.commit().await.map_err(backend)?;
                return Ok(done);
            };
            for (id, stored, sealed) in rows {
                // A clear row's audit rows carry the legacy hash; a sealed row's, its lookup.
                let (pin, old_hash) = match sealed {
                    None => {
                        let pin = Pin::new(stored);
                        let old = legacy_audit_hash(&pin);
                        (pin, old)
                    }
                    Some(sealed) => {
                        let pin = self.vault.open(&SealedPin::from_stored(sealed))
                            .map_err(|e| StoreError::Corrupt(format!("coupon {id}: {e}")))?;
                        (pin, stored)
                    }
                };
                let new = self.vault.protect(&pin);
                sqlx::query("UPDATE coupons SET pin = $1, pin_sealed = $2 WHERE id = $3")
                    .bind(new.lookup.as_str())
                    .bind(new.sealed.as_str())
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                sqlx::query("UPDATE redemption_audit SET pin_hash = $1 WHERE pin_hash = $2")
                    .bind(new.lookup.as_str())
                    .bind(old_hash.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                done += 1;
            }
            tx.commit().await.map_err(backend)?;
            after = last;
        }
    }

    /// Re-seals the operators' TOTP keys not under the current key (a few rows: one
    /// transaction).
    pub(crate) async fn reseal_operator_secrets(&self) -> Result<u64, StoreError> {
        let prefix = format!("{}:", self.vault.current_id());
        let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, totp_sealed FROM operators WHERE totp_sealed IS NOT NULL")
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        let mut done = 0;
        for (id, sealed) in rows.into_iter().filter(|(_, s)| !s.starts_with(&prefix)) {
            let clear = self.vault.open_secret(SecretPurpose::OperatorTotp, &SealedPin::from_stored(sealed))
                .map_err(|e| StoreError::Corrupt(format!("operator {id}'s TOTP key: {e}")))?;
            let resealed = self.vault.seal_secret(SecretPurpose::OperatorTotp, &clear);
            sqlx::query("UPDATE operators SET totp_sealed = $1 WHERE id = $2")
                .bind(resealed.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            done += 1;
        }
        tx.commit().await.map_err(backend)?;
        Ok(done)
    }
} }
