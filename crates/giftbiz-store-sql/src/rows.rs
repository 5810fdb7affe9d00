//! The tables' rows as sqlx reads them, and their mapping to domain values: a stored value the
//! domain cannot parse is [`StoreError::Corrupt`], never a panic.

use giftbiz_core::account::TokenHash;
use giftbiz_core::console::{Operator, PasswordHash, UnknownRole, Username};
use giftbiz_core::coupon::{Coupon, DeliveryStatus, LedgerEntry, LedgerReason, NewCoupon, OrderNo, PinStatus};
use giftbiz_core::delivery::{MessageKind, OutboxMessage};
use giftbiz_core::grade::UnknownGrade;
use giftbiz_core::partner::{
    brand_codes_from_stored, AuditAction, AuditEntry, AuditOutcome, AuditRecord, Partner, PinHash,
};
use giftbiz_core::pin_vault::{PinVault, SealedPin, SecretPurpose};
use giftbiz_core::totp::TotpSecret;
use giftbiz_core::send::{CallbackNo, Gubun, PhoneNo, Pin, TrId};
use giftbiz_core::{Account, AccountId, BrandCode, GoodsCode, OperatorId, PartnerId, RequestId, StoreError, UserId, Won};

#[derive(sqlx::FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub user_id: String,
    pub auth_code: String,
    pub token_hash: String,
    pub grade: String,
    pub created_at_ms: i64,
    pub suspended_at_ms: Option<i64>,
}

impl AccountRow {
    pub fn into_account(self) -> Result<Account, StoreError> {
        let grade = self.grade.parse().map_err(|e: UnknownGrade| {
            StoreError::Corrupt(format!("account {:?}: {e}", self.user_id))
        })?;
        let user_id = UserId::parse(&self.user_id)
            .map_err(|e| StoreError::Corrupt(format!("account {}: user id {:?}: {e}", self.id, self.user_id)))?;
        Ok(Account {
            id: AccountId::from_stored(self.id),
            user_id,
            auth_code: self.auth_code,
            token_hash: TokenHash::from_stored(self.token_hash),
            grade,
            created_at_ms: self.created_at_ms,
            suspended_at_ms: self.suspended_at_ms,
        })
    }
}

/// An account with the catalog revision, read together on every call's path.
#[derive(sqlx::FromRow)]
pub struct AuthRow {
    #[sqlx(flatten)]
    pub account: AccountRow,
    pub revision: i64,
}

#[derive(sqlx::FromRow)]
pub struct OperatorRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub password_hash: String,
    pub disabled_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub totp_sealed: Option<String>,
}

pub const OPERATOR_COLUMNS: &str = "id, username, role, password_hash, disabled_at_ms, created_at_ms, totp_sealed";

impl OperatorRow {
    pub fn into_operator(self, vault: &PinVault) -> Result<Operator, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(format!("operator {}: {what}", self.id));
        let totp = self
            .totp_sealed
            .map(|sealed| {
                let clear = vault.open_secret(SecretPurpose::OperatorTotp, &SealedPin::from_stored(sealed)).map_err(|e| corrupt(e.to_string()))?;
                TotpSecret::from_bytes(clear).map_err(|e| corrupt(e.to_string()))
            })
            .transpose()?;
        Ok(Operator {
            id: OperatorId::from_stored(self.id),
            username: Username::parse(&self.username).map_err(|e| corrupt(format!("{e}: {:?}", self.username)))?,
            role: self.role.parse().map_err(|e: UnknownRole| corrupt(e.to_string()))?,
            password_hash: PasswordHash::from_stored(self.password_hash),
            disabled_at_ms: self.disabled_at_ms,
            created_at_ms: self.created_at_ms,
            totp,
        })
    }
}

pub const ACCOUNT_COLUMNS: &str = "id, user_id, auth_code, token_hash, grade, created_at_ms, suspended_at_ms";

/// The auth lookup on every call's path: the account whose auth code is `$1`, then the catalog
/// revision. Built once; SQLite's hot reader runs the same text.
pub static AUTH_LOOKUP_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {ACCOUNT_COLUMNS}, (SELECT revision FROM catalog_meta WHERE id = 1) AS revision \
         FROM accounts WHERE auth_code = $1"
    )
});

/// A goods' stored document, by goods code (`$1`); on every send's path.
pub const GOODS_DOC_SQL: &str = "SELECT doc FROM goods WHERE goods_code = $1";

pub fn decode_doc<T: serde::de::DeserializeOwned>(
    what: &str,
    key: &str,
    doc: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("{what} {key:?}: {e}")))
}

pub fn decode_docs<T: serde::de::DeserializeOwned>(
    what: &str,
    rows: Vec<(String, String)>,
) -> Result<Vec<T>, StoreError> {
    rows.iter()
        .map(|(key, doc)| decode_doc(what, key, doc))
        .collect()
}

pub const COUPON_COLUMNS: &str = "id, order_no, account_id, tr_id, pin_sealed, image_token, goods_code, \
    goods_name, brand_code, brand_name, sale_price, price, gubun, phone_no, callback_no, \
    mms_title, mms_msg, issued_at_ms, valid_until_ms, reserved_at_ms, status, \
    status_changed_at_ms, delivery_status, delivery_rst_cd, delivery_rst_msg";

pub const LEDGER_COLUMNS: &str =
    "id, account_id, amount, balance_after, reason, tr_id, memo, created_at_ms";

/// A stored PIN, opened. Every row is sealed once the store has opened the database (it seals
/// older clear rows first), so a missing seal is corruption.
fn open_pin(vault: &PinVault, sealed: Option<String>) -> Result<Pin, String> {
    let sealed = sealed.ok_or("its PIN is not sealed")?;
    vault.open(&SealedPin::from_stored(sealed)).map_err(|e| e.to_string())
}

#[derive(sqlx::FromRow)]
pub struct CouponRow {
    id: i64,
    order_no: String,
    account_id: i64,
    tr_id: String,
    pin_sealed: Option<String>,
    image_token: String,
    goods_code: String,
    goods_name: String,
    brand_code: String,
    brand_name: String,
    sale_price: i64,
    price: i64,
    gubun: String,
    phone_no: String,
    callback_no: String,
    mms_title: String,
    mms_msg: String,
    issued_at_ms: i64,
    valid_until_ms: i64,
    reserved_at_ms: Option<i64>,
    status: String,
    status_changed_at_ms: i64,
    delivery_status: String,
    delivery_rst_cd: Option<String>,
    delivery_rst_msg: Option<String>,
}

impl CouponRow {
    pub fn into_coupon(self, vault: &PinVault) -> Result<Coupon, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("coupon {}: {what} {value:?}", self.id))
        };
        let gubun = Gubun::parse(&self.gubun).ok_or_else(|| corrupt("gubun", &self.gubun))?;
        // Stored tr_ids passed the limit in force when they were sent; only their alphabet is
        // checked again.
        let tr_id = TrId::parse(&self.tr_id, usize::MAX).map_err(|_| corrupt("tr_id", &self.tr_id))?;
        let phone_no = PhoneNo::parse(&self.phone_no).map_err(|_| corrupt("phone_no", "(masked)"))?;
        let callback_no = CallbackNo::parse(&self.callback_no).map_err(|_| corrupt("callback_no", &self.callback_no))?;
        let goods_code = GoodsCode::parse(&self.goods_code).map_err(|_| corrupt("goods_code", &self.goods_code))?;
        let brand_code = BrandCode::parse(&self.brand_code).map_err(|_| corrupt("brand_code", &self.brand_code))?;
        let pin = open_pin(vault, self.pin_sealed).map_err(|e| StoreError::Corrupt(format!("coupon {}: {e}", self.id)))?;
        let status =
            PinStatus::parse(&self.status).ok_or_else(|| corrupt("status", &self.status))?;
        let delivery = DeliveryStatus::parse(&self.delivery_status)
            .ok_or_else(|| corrupt("delivery status", &self.delivery_status))?;
        let delivery_result = self
            .delivery_rst_cd
            .map(|cd| (cd, self.delivery_rst_msg.unwrap_or_default()));
        Ok(Coupon {
            id: self.id,
            order_no: OrderNo::from_stored(self.order_no),
            new: NewCoupon {
                account_id: AccountId::from_stored(self.account_id),
                tr_id,
                pin,
                image_token: self.image_token,
                goods_code,
                goods_name: self.goods_name,
                brand_code,
                brand_name: self.brand_name,
                sale_price: Won::new(self.sale_price),
                price: Won::new(self.price),
                gubun,
                phone_no,
                callback_no,
                mms_title: self.mms_title,
                mms_msg: self.mms_msg,
                issued_at_ms: self.issued_at_ms,
                valid_until_ms: self.valid_until_ms,
                reserved_at_ms: self.reserved_at_ms,
                request_id: None,
            },
            status,
            status_changed_at_ms: self.status_changed_at_ms,
            delivery,
            delivery_result,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct LedgerRow {
    id: i64,
    account_id: i64,
    amount: i64,
    balance_after: i64,
    reason: String,
    tr_id: Option<String>,
    memo: String,
    created_at_ms: i64,
}

impl LedgerRow {
    pub fn into_entry(self) -> Result<LedgerEntry, StoreError> {
        let reason = LedgerReason::parse(&self.reason).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "ledger entry {}: reason {:?}",
                self.id, self.reason
            ))
        })?;
        Ok(LedgerEntry {
            id: self.id,
            account_id: AccountId::from_stored(self.account_id),
            amount: Won::new(self.amount),
            balance_after: Won::new(self.balance_after),
            reason,
            tr_id: self.tr_id,
            memo: self.memo,
            created_at_ms: self.created_at_ms,
        })
    }
}

/// The coupon's side of a [`MessageRow`] (`c` joined to the outbox row).
pub const MESSAGE_COUPON_COLUMNS: &str = "c.account_id, c.tr_id, c.order_no, c.phone_no, c.callback_no, \
    c.mms_title, c.mms_msg, c.pin_sealed, c.goods_name, c.brand_name, c.valid_until_ms, c.image_token";

/// A claimed message joined with its coupon.
#[derive(sqlx::FromRow)]
pub struct MessageRow {
    id: i64,
    message_key: String,
    kind: String,
    attempts: i32,
    coupon_id: i64,
    account_id: i64,
    tr_id: String,
    order_no: String,
    phone_no: String,
    callback_no: String,
    mms_title: String,
    mms_msg: String,
    pin_sealed: Option<String>,
    goods_name: String,
    brand_name: String,
    valid_until_ms: i64,
    image_token: String,
    request_id: Option<String>,
}

impl MessageRow {
    pub fn into_message(self, vault: &PinVault) -> Result<OutboxMessage, StoreError> {
        let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("outbox {}: {what} {value:?}", self.id));
        let pin = open_pin(vault, self.pin_sealed).map_err(|e| StoreError::Corrupt(format!("outbox {}: {e}", self.id)))?;
        let kind = MessageKind::parse(&self.kind).ok_or_else(|| corrupt("kind", &self.kind))?;
        let tr_id = TrId::parse(&self.tr_id, usize::MAX).map_err(|_| corrupt("tr_id", &self.tr_id))?;
        let phone_no = PhoneNo::parse(&self.phone_no).map_err(|_| corrupt("phone_no", "(masked)"))?;
        let callback_no = CallbackNo::parse(&self.callback_no).map_err(|_| corrupt("callback_no", &self.callback_no))?;
        Ok(OutboxMessage {
            id: self.id,
            key: self.message_key,
            kind,
            attempts: self.attempts,
            coupon_id: self.coupon_id,
            account_id: AccountId::from_stored(self.account_id),
            tr_id,
            order_no: OrderNo::from_stored(self.order_no),
            phone_no,
            callback_no,
            title: self.mms_title,
            text: self.mms_msg,
            pin,
            goods_name: self.goods_name,
            brand_name: self.brand_name,
            valid_until_ms: self.valid_until_ms,
            image_token: self.image_token,
            // Written only from a parsed id; a value that is not one is dropped, not fatal.
            request_id: self.request_id.as_deref().and_then(RequestId::parse),
        })
    }
}

pub const PARTNER_COLUMNS: &str = "id, partner_code, name, token_hash, brand_codes, created_at_ms";

#[derive(sqlx::FromRow)]
pub struct PartnerRow {
    id: i64,
    partner_code: String,
    name: String,
    token_hash: String,
    brand_codes: String,
    created_at_ms: i64,
}

impl PartnerRow {
    pub fn into_partner(self) -> Result<Partner, StoreError> {
        let brand_codes = brand_codes_from_stored(&self.brand_codes)
            .map_err(|_| StoreError::Corrupt(format!("partner {}: brand_codes {:?}", self.id, self.brand_codes)))?;
        Ok(Partner {
            id: PartnerId::from_stored(self.id),
            partner_code: self.partner_code,
            name: self.name,
            token_hash: TokenHash::from_stored(self.token_hash),
            brand_codes,
            created_at_ms: self.created_at_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct AuditRow {
    id: i64,
    partner_id: i64,
    pin_hash: Option<String>,
    action: String,
    outcome: String,
    coupon_id: Option<i64>,
    at_ms: i64,
}

impl AuditRow {
    pub fn into_record(self) -> Result<AuditRecord, StoreError> {
        let corrupt =
            |what: &str, v: &str| StoreError::Corrupt(format!("audit {}: {what} {v:?}", self.id));
        let action =
            AuditAction::parse(&self.action).ok_or_else(|| corrupt("action", &self.action))?;
        let outcome =
            AuditOutcome::parse(&self.outcome).ok_or_else(|| corrupt("outcome", &self.outcome))?;
        Ok(AuditRecord {
            id: self.id,
            entry: AuditEntry {
                partner_id: PartnerId::from_stored(self.partner_id),
                pin_hash: self.pin_hash.map(PinHash::from_stored),
                action,
                outcome,
                coupon_id: self.coupon_id,
                at_ms: self.at_ms,
            },
        })
    }
}

