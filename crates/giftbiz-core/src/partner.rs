//! Partners (교환처): the store chains and shops where a recipient exchanges a coupon. A partner
//! looks a PIN up and redeems it (01 발행 → 02 교환(사용완료)), for the brands it serves only.
//!
//! A partner authenticates like an account: a code (`PT` + 16 hex) and a 24-character URL-safe
//! Base64 token of 18 random bytes, stored only as its SHA-256 and compared in constant time
//! ([`crate::account::TokenHash`]). Every attempt is audited with the SHA-256 of the PIN, never
//! the PIN itself: PINs are bearer value (NOTES §5).

use rand::RngCore;
use serde::Serialize;

use crate::account::TokenHash;
use crate::coupon::{Coupon, PinStatus};
use crate::pin_vault::PinLookup;
use crate::catalog::InvalidCode;
use crate::{BrandCode, PartnerId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partner {
    pub id: PartnerId,
    pub partner_code: String,
    pub name: String,
    #[serde(skip)]
    pub token_hash: TokenHash,
    /// The brands whose coupons this partner may look up and redeem.
    pub brand_codes: Vec<BrandCode>,
    pub created_at_ms: i64,
}

impl Partner {
    /// Constant-time check of a presented token against the stored hash.
    pub fn token_matches(&self, presented: &str) -> bool {
        self.token_hash.matches(presented)
    }

    pub fn serves(&self, brand_code: &BrandCode) -> bool {
        self.brand_codes.contains(brand_code)
    }
}

/// What the store needs to create a partner.
#[derive(Debug, Clone)]
pub struct NewPartner {
    pub partner_code: String,
    pub name: String,
    pub token_hash: TokenHash,
    pub brand_codes: Vec<BrandCode>,
    pub created_at_ms: i64,
}

/// A new partner code: `PT` + 16 lowercase hex characters.
pub fn generate_partner_code() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    format!("PT{}", hex::encode(bytes))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidPartner {
    #[error("the partner name must be 1-100 characters")]
    Name,
    #[error("brand codes must be a comma-separated list of codes of letters, digits, '_' or '-' (at least one)")]
    BrandCodes,
}

/// An operator-given partner name, trimmed.
pub fn parse_partner_name(raw: &str) -> Result<String, InvalidPartner> {
    let name = raw.trim();
    let len = name.chars().count();
    if (1..=100).contains(&len) && !name.chars().any(char::is_control) {
        Ok(name.to_owned())
    } else {
        Err(InvalidPartner::Name)
    }
}

/// A comma-separated list of brand codes (`BR00001,BR00002`), trimmed and deduplicated in
/// order; at least one.
pub fn parse_brand_codes(raw: &str) -> Result<Vec<BrandCode>, InvalidPartner> {
    let mut codes: Vec<BrandCode> = Vec::new();
    for code in raw.split(',').map(str::trim) {
        let code = BrandCode::parse(code).map_err(|_| InvalidPartner::BrandCodes)?;
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    Ok(codes)
}

/// The stored form of a partner's brand codes: a comma list (codes never contain a comma).
pub fn brand_codes_to_stored(codes: &[BrandCode]) -> String {
    codes.iter().map(BrandCode::as_str).collect::<Vec<_>>().join(",")
}

/// The codes of a stored list; one that is not a code means the row is corrupt.
pub fn brand_codes_from_stored(stored: &str) -> Result<Vec<BrandCode>, InvalidCode> {
    stored.split(',').map(str::trim).filter(|c| !c.is_empty()).map(BrandCode::parse).collect()
}

/// A presented PIN's keyed hash (its [`PinLookup`] under the current key): what the audit
/// keeps, so an attempt can be matched to a coupon later, by whoever holds the key, while the
/// log itself holds no bearer value and, without the key, no way to test guesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinHash(String);

impl From<PinLookup> for PinHash {
    fn from(lookup: PinLookup) -> PinHash {
        PinHash(lookup.into_string())
    }
}

impl PinHash {
    pub fn from_stored(stored: String) -> PinHash {
        PinHash(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a partner tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Lookup,
    Redeem,
}

impl AuditAction {
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::Lookup => "lookup",
            AuditAction::Redeem => "redeem",
        }
    }

    pub fn parse(code: &str) -> Option<AuditAction> {
        [AuditAction::Lookup, AuditAction::Redeem].into_iter().find(|a| a.code() == code)
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Looked up, or redeemed.
    Ok,
    /// No such PIN, or another brand's coupon.
    NotFound,
    AlreadyUsed,
    Cancelled,
    Expired,
    /// The partner's token was wrong.
    Unauthorized,
    RateLimited,
    /// No usable PIN in the body.
    BadRequest,
    /// The store failed.
    Error,
}

impl AuditOutcome {
    pub const ALL: [AuditOutcome; 9] = [
        AuditOutcome::Ok,
        AuditOutcome::NotFound,
        AuditOutcome::AlreadyUsed,
        AuditOutcome::Cancelled,
        AuditOutcome::Expired,
        AuditOutcome::Unauthorized,
        AuditOutcome::RateLimited,
        AuditOutcome::BadRequest,
        AuditOutcome::Error,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::NotFound => "not_found",
            AuditOutcome::AlreadyUsed => "already_used",
            AuditOutcome::Cancelled => "cancelled",
            AuditOutcome::Expired => "expired",
            AuditOutcome::Unauthorized => "unauthorized",
            AuditOutcome::RateLimited => "rate_limited",
            AuditOutcome::BadRequest => "bad_request",
            AuditOutcome::Error => "error",
        }
    }

    pub fn parse(code: &str) -> Option<AuditOutcome> {
        AuditOutcome::ALL.into_iter().find(|o| o.code() == code)
    }
}

/// One attempt to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub partner_id: PartnerId,
    /// None when the request carried no PIN.
    pub pin_hash: Option<PinHash>,
    pub action: AuditAction,
    pub outcome: AuditOutcome,
    /// The coupon the attempt concerned, when it was found and is the partner's brand's.
    pub coupon_id: Option<i64>,
    pub at_ms: i64,
}

/// A recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub entry: AuditEntry,
}

/// Failed authentications of one source address for one partner (`None`: codes that are no
/// partner's) within one hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailureCount {
    /// The client's address (`unknown` when the edge did not record one).
    pub source: String,
    pub partner_id: Option<PartnerId>,
    /// The hour's start, unix milliseconds.
    pub hour_ms: i64,
    pub failures: u64,
    pub last_at_ms: i64,
}

/// The start of the hour of `at_ms`: the counted rows' bucket.
pub fn failure_hour(at_ms: i64) -> i64 {
    at_ms - at_ms.rem_euclid(3_600_000)
}

/// Why a lookup or a redemption found nothing to do.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum RedeemRefusal {
    /// Unknown PIN, or a coupon of a brand the partner does not serve (which is not revealed).
    #[error("no such coupon")]
    NotFound,
    #[error("the coupon was already used")]
    AlreadyUsed,
    #[error("the coupon was cancelled")]
    Cancelled,
    #[error("the coupon has expired")]
    Expired,
}

impl RedeemRefusal {
    pub fn outcome(self) -> AuditOutcome {
        match self {
            RedeemRefusal::NotFound => AuditOutcome::NotFound,
            RedeemRefusal::AlreadyUsed => AuditOutcome::AlreadyUsed,
            RedeemRefusal::Cancelled => AuditOutcome::Cancelled,
            RedeemRefusal::Expired => AuditOutcome::Expired,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error(transparent)]
    Refused(#[from] RedeemRefusal),
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

/// Whether a partner serving `allowed` brands may see a coupon of `brand_code`: otherwise the
/// coupon is, to that partner, not found.
pub fn check_visible(brand_code: &BrandCode, allowed: &[BrandCode]) -> Result<(), RedeemRefusal> {
    if allowed.contains(brand_code) {
        Ok(())
    } else {
        Err(RedeemRefusal::NotFound)
    }
}

/// Redemption rules, from the columns alone (stores check them inside their transaction): a
/// coupon of a brand the partner serves, issued (01) and not past its validity. The last
/// valid instant is `valid_until_ms` itself, as for resends; the expiry job turns a coupon to
/// 08 once `valid_until_ms < now`.
pub fn check_redeemable(
    status: PinStatus,
    brand_code: &BrandCode,
    valid_until_ms: i64,
    allowed: &[BrandCode],
    now_ms: i64,
) -> Result<(), RedeemRefusal> {
    check_visible(brand_code, allowed)?;
    match status {
        PinStatus::Issued if now_ms <= valid_until_ms => Ok(()),
        PinStatus::Issued | PinStatus::Expired => Err(RedeemRefusal::Expired),
        PinStatus::Exchanged => Err(RedeemRefusal::AlreadyUsed),
        PinStatus::Cancelled => Err(RedeemRefusal::Cancelled),
    }
}

impl Coupon {
    /// The status a partner sees: an issued coupon past its validity shows as expired (08)
    /// even before the expiry job has recorded it.
    pub fn effective_status(&self, now_ms: i64) -> PinStatus {
        match self.status {
            PinStatus::Issued if now_ms > self.new.valid_until_ms => PinStatus::Expired,
            s => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brands(list: &[&str]) -> Vec<BrandCode> {
        list.iter().map(|s| BrandCode::parse(s).unwrap()).collect()
    }

    #[test]
    fn partner_codes_look_like_pt_and_16_hex() {
        let c = generate_partner_code();
        assert_eq!(c.len(), 18);
        assert!(c.starts_with("PT"));
        assert!(c[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(c, generate_partner_code());
    }

    #[test]
    fn brand_lists_are_parsed_and_stored() {
        assert_eq!(parse_brand_codes(" BR00001, BR00002 ,BR00001").unwrap(), brands(&["BR00001", "BR00002"]));
        assert_eq!(parse_brand_codes(""), Err(InvalidPartner::BrandCodes));
        assert_eq!(parse_brand_codes("BR1,,BR2"), Err(InvalidPartner::BrandCodes));
        assert_eq!(parse_brand_codes("BR 1"), Err(InvalidPartner::BrandCodes));
        let codes = brands(&["BR1", "BR2"]);
        assert_eq!(brand_codes_from_stored(&brand_codes_to_stored(&codes)).unwrap(), codes);
        assert_eq!(parse_partner_name("  카페 본점 ").unwrap(), "카페 본점");
        assert_eq!(parse_partner_name(" "), Err(InvalidPartner::Name));
    }

    #[test]
    fn pin_hashes_hide_the_pin() {
        let vault = crate::pin_vault::PinVault::ephemeral();
        let pin = crate::send::Pin::new("123456789012");
        let h = PinHash::from(vault.lookup(&pin));
        assert!(h.as_str().starts_with(vault.current_id()));
        assert!(!h.as_str().contains("123456789012"));
        assert_eq!(h, PinHash::from(vault.lookup(&pin)));
    }

    #[test]
    fn codes_round_trip() {
        for o in AuditOutcome::ALL {
            assert_eq!(AuditOutcome::parse(o.code()), Some(o));
        }
        for a in [AuditAction::Lookup, AuditAction::Redeem] {
            assert_eq!(AuditAction::parse(a.code()), Some(a));
        }
    }

    #[test]
    fn redemption_rules() {
        let mine = brands(&["BR1"]);
        let [br1, br2] = [&mine[0], &BrandCode::parse("BR2").unwrap()];
        assert_eq!(check_redeemable(PinStatus::Issued, br1, 10, &mine, 10), Ok(()));
        assert_eq!(check_redeemable(PinStatus::Issued, br1, 10, &mine, 11), Err(RedeemRefusal::Expired));
        assert_eq!(check_redeemable(PinStatus::Expired, br1, 10, &mine, 0), Err(RedeemRefusal::Expired));
        assert_eq!(check_redeemable(PinStatus::Exchanged, br1, 10, &mine, 0), Err(RedeemRefusal::AlreadyUsed));
        assert_eq!(check_redeemable(PinStatus::Cancelled, br1, 10, &mine, 0), Err(RedeemRefusal::Cancelled));
        // Another brand's coupon is not found, whatever its state.
        for s in [PinStatus::Issued, PinStatus::Exchanged, PinStatus::Cancelled, PinStatus::Expired] {
            assert_eq!(check_redeemable(s, br2, 10, &mine, 0), Err(RedeemRefusal::NotFound));
        }
    }
}
