//! The rest of a coupon's life on PostgreSQL: expiry (01 → 08) and redemption by partners
//! (01 → 02), with the partners and their audit trail.
//!
//! - Expiry is one statement that claims due coupons `FOR UPDATE SKIP LOCKED`, so several
//!   servers' jobs never wait for or fight over the same rows, and a coupon a cancel or a
//!   redemption holds is left for the next run. It locks coupons before their outbox rows, the
//!   order cancel and the delivery worker's finish use too.
//! - A redemption locks its coupon (`FOR UPDATE`), so a concurrent redemption or cancel of the
//!   same coupon waits and then sees the state this one left (and the expiry job skips it).

use giftbiz_core::account::TokenHash;
use giftbiz_core::coupon::{Coupon, PinStatus};
use giftbiz_core::partner::{
    brand_codes_from_stored, brand_codes_to_stored, check_redeemable, AuditAction, AuditEntry,
    AuditOutcome, AuditRecord, NewPartner, Partner, PinHash, RedeemError,
};
use giftbiz_core::StoreError;
use sqlx::PgConnection;

use crate::{backend, PgStore};

const PARTNER_COLUMNS: &str = "id, partner_code, name, token_hash, brand_codes, created_at_ms";

#[derive(sqlx::FromRow)]
struct PartnerRow {
    id: i64,
    partner_code: String,
    name: String,
    token_hash: String,
    brand_codes: String,
    created_at_ms: i64,
}

impl PartnerRow {
    fn into_partner(self) -> Partner {
        Partner {
            id: self.id,
            partner_code: self.partner_code,
            name: self.name,
            token_hash: TokenHash::from_stored(self.token_hash),
            brand_codes: brand_codes_from_stored(&self.brand_codes),
            created_at_ms: self.created_at_ms,
        }
    }
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    partner_id: i64,
    pin_hash: Option<String>,
    action: String,
    outcome: String,
    coupon_id: Option<i64>,
    at_ms: i64,
}

impl AuditRow {
    fn into_record(self) -> Result<AuditRecord, StoreError> {
        let corrupt =
            |what: &str, v: &str| StoreError::Corrupt(format!("audit {}: {what} {v:?}", self.id));
        let action =
            AuditAction::parse(&self.action).ok_or_else(|| corrupt("action", &self.action))?;
        let outcome =
            AuditOutcome::parse(&self.outcome).ok_or_else(|| corrupt("outcome", &self.outcome))?;
        Ok(AuditRecord {
            id: self.id,
            entry: AuditEntry {
                partner_id: self.partner_id,
                pin_hash: self.pin_hash.map(PinHash::from_stored),
                action,
                outcome,
                coupon_id: self.coupon_id,
                at_ms: self.at_ms,
            },
        })
    }
}

async fn insert_audit(conn: &mut PgConnection, e: &AuditEntry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO redemption_audit (partner_id, pin_hash, action, outcome, coupon_id, at_ms)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(e.partner_id)
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

impl PgStore {
    pub(crate) async fn expire_coupons_tx(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<u64, StoreError> {
        if limit == 0 {
            return Ok(0);
        }
        // Autocommit: the row locks last only as long as this statement.
        let expired: i64 = sqlx::query_scalar(
            "WITH due AS (
                 SELECT id FROM coupons WHERE status = $2 AND valid_until_ms < $3
                 ORDER BY valid_until_ms
                 LIMIT $4
                 FOR UPDATE SKIP LOCKED
             ), expired AS (
                 UPDATE coupons c SET status = $1, status_changed_at_ms = $3,
                     delivery_status = CASE c.delivery_status WHEN 'pending' THEN 'cancelled'
                                       ELSE c.delivery_status END
                 FROM due WHERE c.id = due.id AND c.status = $2
                 RETURNING c.id
             ), cancelled AS (
                 UPDATE outbox o SET state = 'cancelled'
                 FROM expired e WHERE o.coupon_id = e.id AND o.state = 'pending'
             )
             SELECT count(*) FROM expired",
        )
        .bind(PinStatus::Expired.code())
        .bind(PinStatus::Issued.code())
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(expired as u64)
    }

    pub(crate) async fn create_partner_in(&self, new: &NewPartner) -> Result<Partner, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO partners (partner_code, name, token_hash, brand_codes, created_at_ms)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&new.partner_code)
        .bind(&new.name)
        .bind(new.token_hash.as_str())
        .bind(brand_codes_to_stored(&new.brand_codes))
        .bind(new.created_at_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(Partner {
            id,
            partner_code: new.partner_code.clone(),
            name: new.name.clone(),
            token_hash: new.token_hash.clone(),
            brand_codes: new.brand_codes.clone(),
            created_at_ms: new.created_at_ms,
        })
    }

    pub(crate) async fn partner_by_code_in(
        &self,
        partner_code: &str,
    ) -> Result<Option<Partner>, StoreError> {
        let sql = format!("SELECT {PARTNER_COLUMNS} FROM partners WHERE partner_code = $1");
        let row: Option<PartnerRow> = sqlx::query_as(&sql)
            .bind(partner_code)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(row.map(PartnerRow::into_partner))
    }

    pub(crate) async fn list_partners_in(&self) -> Result<Vec<Partner>, StoreError> {
        let sql = format!("SELECT {PARTNER_COLUMNS} FROM partners ORDER BY id");
        let rows: Vec<PartnerRow> = sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        Ok(rows.into_iter().map(PartnerRow::into_partner).collect())
    }

    pub(crate) async fn coupon_by_pin_in(&self, pin: &str) -> Result<Option<Coupon>, StoreError> {
        // The image token is immutable, so the second read finds the same coupon.
        let token: Option<String> =
            sqlx::query_scalar("SELECT image_token FROM coupons WHERE pin = $1")
                .bind(pin)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        match token {
            Some(token) => self.coupon_by_image_token_in(&token).await,
            None => Ok(None),
        }
    }

    pub(crate) async fn redeem_tx(
        &self,
        partner_id: i64,
        pin: &str,
        brand_codes: &[String],
        now_ms: i64,
    ) -> Result<Coupon, RedeemError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let found: Option<(i64, String, String, i64, String)> = sqlx::query_as(
            "SELECT id, brand_code, status, valid_until_ms, image_token FROM coupons WHERE pin = $1 FOR UPDATE",
        )
        .bind(pin)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let (decision, coupon_id, token) = match found {
            None => (
                Err(giftbiz_core::partner::RedeemRefusal::NotFound),
                None,
                None,
            ),
            Some((id, brand_code, status, valid_until_ms, token)) => {
                let status = PinStatus::parse(&status).ok_or_else(|| {
                    StoreError::Corrupt(format!("coupon {id}: status {status:?}"))
                })?;
                let decision =
                    check_redeemable(status, &brand_code, valid_until_ms, brand_codes, now_ms);
                // Another brand's coupon stays unknown to this partner, in the audit too.
                let visible = brand_codes.contains(&brand_code);
                (decision, visible.then_some(id), Some(token))
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
            pin_hash: Some(PinHash::of(pin)),
            action: AuditAction::Redeem,
            outcome: decision.map_or_else(|r| r.outcome(), |()| AuditOutcome::Ok),
            coupon_id,
            at_ms: now_ms,
        };
        insert_audit(&mut tx, &entry).await?;
        tx.commit().await.map_err(backend)?;
        decision?;
        // Exchanged is final (no cancel, expiry or redemption changes it), so this read after
        // the commit sees the state the transaction left.
        let token = token.unwrap_or_default();
        let coupon = self.coupon_by_image_token_in(&token).await?;
        coupon.ok_or_else(|| StoreError::Corrupt("a redeemed coupon vanished".into()).into())
    }

    pub(crate) async fn audit_redemption_in(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        insert_audit(&mut conn, entry).await
    }

    pub(crate) async fn redemption_audit_of(
        &self,
        partner_id: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, partner_id, pin_hash, action, outcome, coupon_id, at_ms
             FROM redemption_audit WHERE partner_id = $1 ORDER BY id",
        )
        .bind(partner_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter().map(AuditRow::into_record).collect()
    }
}
