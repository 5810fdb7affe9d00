//! Partners (교환처), their redemptions (01 → 02) and the audit trail of every attempt.
//!
//! A redemption locks its coupon (`FOR UPDATE` on PostgreSQL; SQLite's writers take turns), so
//! a concurrent redemption or cancel of the same coupon waits and then sees the state this one
//! left, and the expiry job skips it.

use giftbiz_core::coupon::{Coupon, PinStatus};
use giftbiz_core::partner::{
    brand_codes_to_stored, check_redeemable, failure_hour, AuditAction, AuditEntry, AuditOutcome, AuditRecord,
    AuthFailureCount, NewPartner, Partner, PinHash, RedeemError, RedeemRefusal,
};
use giftbiz_core::send::Pin;
use giftbiz_core::account::TokenHash;
use giftbiz_core::{BrandCode, IssuanceStore, PartnerId, StoreError};

use crate::rows::{AuditRow, PartnerRow, PARTNER_COLUMNS};
use crate::{backend, sql_impl};

sql_impl! { impl PartnerStore {
    fn pin_hash(&self, pin: &Pin) -> PinHash {
        PinHash::from(self.vault.lookup(pin))
    }

    async fn create_partner(&self, new: &NewPartner) -> Result<Partner, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO partners (partner_code, name, token_hash, brand_codes, created_at_ms)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(new.partner_code.as_str())
        .bind(new.name.as_str())
        .bind(new.token_hash.as_str())
        .bind(brand_codes_to_stored(&new.brand_codes))
        .bind(new.created_at_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(Partner {
            id: PartnerId::from_stored(id),
            partner_code: new.partner_code.clone(),
            name: new.name.clone(),
            token_hash: new.token_hash.clone(),
            brand_codes: new.brand_codes.clone(),
            created_at_ms: new.created_at_ms,
        })
    }

    async fn partner_by_code(&self, partner_code: &str) -> Result<Option<Partner>, StoreError> {
        let sql = format!("SELECT {PARTNER_COLUMNS} FROM partners WHERE partner_code = $1");
        let row: Option<PartnerRow> =
            sqlx::query_as(&sql).bind(partner_code).fetch_optional(&self.pool).await.map_err(backend)?;
        row.map(PartnerRow::into_partner).transpose()
    }

    async fn list_partners(&self) -> Result<Vec<Partner>, StoreError> {
        let sql = format!("SELECT {PARTNER_COLUMNS} FROM partners ORDER BY id");
        let rows: Vec<PartnerRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await.map_err(backend)?;
        rows.into_iter().map(PartnerRow::into_partner).collect()
    }

    async fn set_partner_token_hash(&self, partner_code: &str, hash: &TokenHash) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE partners SET token_hash = $1 WHERE partner_code = $2")
            .bind(hash.as_str())
            .bind(partner_code)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn redeem(
        &self,
        partner_id: PartnerId,
        pin: &Pin,
        brand_codes: &[BrandCode],
        now_ms: i64,
    ) -> Result<Coupon, RedeemError> {
        let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
        let sql = format!(
            "SELECT id, brand_code, status, valid_until_ms FROM coupons WHERE pin = $1{}",
            D::lock(" FOR UPDATE")
        );
        let mut found: Option<(i64, String, String, i64)> = None;
        for lookup in self.vault.lookups(pin) {
            found = sqlx::query_as(&sql).bind(lookup.as_str()).fetch_optional(&mut *tx).await.map_err(backend)?;
            if found.is_some() {
                break;
            }
        }
        let (decision, coupon_id) = match found {
            None => (Err(RedeemRefusal::NotFound), None),
            Some((id, brand_code, status, valid_until_ms)) => {
                let status = PinStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("coupon {id}: status {status:?}")))?;
                let brand_code = BrandCode::parse(&brand_code)
                    .map_err(|_| StoreError::Corrupt(format!("coupon {id}: brand_code {brand_code:?}")))?;
                let decision = check_redeemable(status, &brand_code, valid_until_ms, brand_codes, now_ms);
                // Another brand's coupon stays unknown to this partner, in the audit too.
                let visible = brand_codes.contains(&brand_code);
                (decision, visible.then_some(id))
            }
        };
        if decision.is_ok() {
            sqlx::query("UPDATE coupons SET status = $1, status_changed_at_ms = $2 WHERE id = $3 AND status = $4")
                .bind(PinStatus::Exchanged.code())
                .bind(now_ms)
                .bind(coupon_id)
                .bind(PinStatus::Issued.code())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        let entry = AuditEntry {
            partner_id,
            pin_hash: Some(self.pin_hash(pin)),
            action: AuditAction::Redeem,
            outcome: decision.map_or_else(|r| r.outcome(), |()| AuditOutcome::Ok),
            coupon_id,
            at_ms: now_ms,
        };
        Self::insert_audit(&mut tx, &entry).await?;
        tx.commit().await.map_err(backend)?;
        decision?;
        // Exchanged is final (no cancel, expiry or redemption changes it), so this read after
        // the commit sees the state the transaction left.
        let coupon = self.coupon_by_pin(pin).await?;
        coupon.ok_or_else(|| StoreError::Corrupt("a redeemed coupon vanished".into()).into())
    }

    async fn audit_redemption(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        Self::insert_audit(&mut conn, entry).await
    }

    async fn redemption_audit(&self, partner_id: PartnerId) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, partner_id, pin_hash, action, outcome, coupon_id, at_ms
             FROM redemption_audit WHERE partner_id = $1 ORDER BY id",
        )
        .bind(partner_id.get())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter().map(AuditRow::into_record).collect()
    }

    async fn redemptions_of_coupon(&self, coupon_id: i64) -> Result<Vec<(String, AuditRecord)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Named {
            name: String,
            #[sqlx(flatten)]
            row: AuditRow,
        }
        let rows: Vec<Named> = sqlx::query_as(
            "SELECT p.name, r.id, r.partner_id, r.pin_hash, r.action, r.outcome, r.coupon_id, r.at_ms
             FROM redemption_audit AS r JOIN partners AS p ON p.id = r.partner_id WHERE r.coupon_id = $1 ORDER BY r.id",
        )
        .bind(coupon_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter().map(|n| Ok((n.name, n.row.into_record()?))).collect()
    }

    async fn newest_redemptions(&self, partner_id: PartnerId, limit: u32) -> Result<Vec<(AuditRecord, Option<String>)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct WithOrder {
            order_no: Option<String>,
            #[sqlx(flatten)]
            row: AuditRow,
        }
        let rows: Vec<WithOrder> = sqlx::query_as(
            "SELECT c.order_no, r.id, r.partner_id, r.pin_hash, r.action, r.outcome, r.coupon_id, r.at_ms
             FROM redemption_audit AS r LEFT JOIN coupons AS c ON c.id = r.coupon_id
             WHERE r.partner_id = $1 ORDER BY r.id DESC LIMIT $2",
        )
        .bind(partner_id.get())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter().map(|w| Ok((w.row.into_record()?, w.order_no))).collect()
    }

    async fn count_auth_failure(&self, source: &str, partner_id: Option<PartnerId>, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO partner_auth_failures (source, partner_id, hour_ms, failures, last_at_ms)
             VALUES ($1, $2, $3, 1, $4)
             ON CONFLICT (source, partner_id, hour_ms)
             DO UPDATE SET failures = partner_auth_failures.failures + 1, last_at_ms = excluded.last_at_ms",
        )
        .bind(source)
        .bind(partner_id.map_or(0, PartnerId::get))
        .bind(failure_hour(at_ms))
        .bind(at_ms)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn auth_failure_counts(&self) -> Result<Vec<AuthFailureCount>, StoreError> {
        let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT source, partner_id, hour_ms, failures, last_at_ms FROM partner_auth_failures
             ORDER BY hour_ms DESC, source, partner_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(|(source, partner_id, hour_ms, failures, last_at_ms)| AuthFailureCount {
                source,
                partner_id: (partner_id != 0).then(|| PartnerId::from_stored(partner_id)),
                hour_ms,
                failures: failures.max(0) as u64,
                last_at_ms,
            })
            .collect())
    }
} }

sql_impl! { impl {
    async fn insert_audit(conn: &mut <D::DB as sqlx::Database>::Connection, e: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO redemption_audit (partner_id, pin_hash, action, outcome, coupon_id, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(e.partner_id.get())
        .bind(e.pin_hash.as_ref().map(PinHash::as_str))
        .bind(e.action.code())
        .bind(e.outcome.code())
        .bind(e.coupon_id)
        .bind(e.at_ms)
        .execute(conn)
        .await
        .map_err(backend)?;
        Ok(())
    }
} }
