//! What the console does with partners (교환처, the stores that redeem coupons): list, a
//! partner's page with its newest redemptions, create one, rotate its token. The same operator
//! functions as `giftbiz partner …`, each audited.

use giftbiz_core::console::Capability;
use giftbiz_core::partner::{AuditRecord, Partner};
use giftbiz_core::Store;

use super::console_accounts::{reason_of, record, require, Actor, ConsoleError};
use crate::operator::{self, IssuedPartner};

/// Redemption attempts a partner's page shows.
pub const REDEMPTIONS: u32 = 100;

pub async fn list(store: &dyn Store) -> Result<Vec<Partner>, ConsoleError> {
    Ok(store.list_partners().await?)
}

/// A partner and its newest redemption attempts (each with its coupon's order number).
pub async fn detail(store: &dyn Store, partner_code: &str) -> Result<(Partner, Vec<(AuditRecord, Option<String>)>), ConsoleError> {
    let partner = find(store, partner_code).await?;
    let redemptions = store.newest_redemptions(partner.id, REDEMPTIONS).await?;
    Ok((partner, redemptions))
}

async fn find(store: &dyn Store, partner_code: &str) -> Result<Partner, ConsoleError> {
    store.partner_by_code(partner_code.trim()).await?.ok_or(ConsoleError::NotFound("no partner has that code"))
}

/// A new partner serving `brands` (comma-separated brand codes); its token is shown once.
pub async fn create(store: &dyn Store, actor: &Actor<'_>, name: &str, brands: &str) -> Result<IssuedPartner, ConsoleError> {
    require(actor, Capability::Partners)?;
    let issued = operator::create_partner(store, name, brands).await.map_err(|e| match e.downcast::<giftbiz_core::StoreError>() {
        Ok(e) => ConsoleError::Store(e),
        Err(e) => ConsoleError::BadInput(format!("{e:#}")),
    })?;
    let p = &issued.partner;
    let after = Some(serde_json::json!({ "name": p.name, "brands": p.brand_codes }).to_string());
    record(store, actor, "partner.create", target(p), None, after, String::new()).await?;
    Ok(issued)
}

/// A new token for the partner (the old one stops working at once), audited with the reason.
pub async fn rotate_token(store: &dyn Store, actor: &Actor<'_>, partner_code: &str, reason: &str) -> Result<IssuedPartner, ConsoleError> {
    require(actor, Capability::Partners)?;
    let reason = reason_of(reason)?;
    let partner = find(store, partner_code).await?;
    let issued = operator::rotate_partner_token(store, &partner.partner_code).await?;
    record(store, actor, "partner.rotate_token", target(&partner), None, None, reason).await?;
    Ok(issued)
}

fn target(p: &Partner) -> String {
    format!("partner:{}", p.partner_code)
}
