//! Issued coupons, the bizmoney ledger, and the rules of their lifecycle (NOTES §5).

use serde::Serialize;

use crate::send::{CallbackNo, Gubun, PhoneNo, Pin, TrId};
use crate::{AccountId, BrandCode, GoodsCode, RequestId, Won};

/// `pinStatusCd` values the platform uses (of the spec's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PinStatus {
    /// 01 발행
    Issued,
    /// 02 교환(사용완료)
    Exchanged,
    /// 07 구매취소(폐기)
    Cancelled,
    /// 08 기간만료
    Expired,
}

impl PinStatus {
    pub fn code(self) -> &'static str {
        match self {
            PinStatus::Issued => "01",
            PinStatus::Exchanged => "02",
            PinStatus::Cancelled => "07",
            PinStatus::Expired => "08",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PinStatus::Issued => "발행",
            PinStatus::Exchanged => "교환(사용완료)",
            PinStatus::Cancelled => "구매취소(폐기)",
            PinStatus::Expired => "기간만료",
        }
    }

    pub fn parse(code: &str) -> Option<PinStatus> {
        [PinStatus::Issued, PinStatus::Exchanged, PinStatus::Cancelled, PinStatus::Expired]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// Where a coupon's message stands (`sendStatusCd`, `sendRstCd`, `sendRstMsg` of 0201).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DeliveryStatus {
    /// PIN and image sends (gubun Y, I): the caller delivers, nothing to send.
    NotSent,
    /// An MMS waiting for its time or its turn.
    Pending,
    Delivered,
    Failed,
    /// Cancelled with the coupon before it went out.
    Cancelled,
}

impl DeliveryStatus {
    pub fn code(self) -> &'static str {
        match self {
            DeliveryStatus::NotSent => "none",
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(code: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::NotSent,
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
            DeliveryStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// `sendStatusCd` as 0201 shows it.
    pub fn label(self) -> Option<&'static str> {
        match self {
            DeliveryStatus::NotSent => None,
            DeliveryStatus::Pending => Some("발송대기"),
            DeliveryStatus::Delivered => Some("발송완료"),
            DeliveryStatus::Failed => Some("발송실패"),
            DeliveryStatus::Cancelled => Some("발송취소"),
        }
    }
}

/// A coupon as the send created it, before the store gives it an id and an order number.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCoupon {
    pub account_id: AccountId,
    pub tr_id: TrId,
    /// 12 digits from a CSPRNG; the store refuses a duplicate with `IssueError::PinTaken`.
    pub pin: Pin,
    /// An unguessable id for the coupon image URL (never the PIN).
    pub image_token: String,
    pub goods_code: GoodsCode,
    pub goods_name: String,
    pub brand_code: BrandCode,
    pub brand_name: String,
    /// 정상판매단가 (`cnsmPriceAmt`): the goods' sale price.
    pub sale_price: Won,
    /// 실판매단가 (`sellPriceAmt`): what the account was charged, its grade price.
    pub price: Won,
    pub gubun: Gubun,
    pub phone_no: PhoneNo,
    pub callback_no: CallbackNo,
    pub mms_title: String,
    pub mms_msg: String,
    pub issued_at_ms: i64,
    /// The last instant the coupon can be used.
    pub valid_until_ms: i64,
    /// For a reserved MMS: when to deliver.
    pub reserved_at_ms: Option<i64>,
    /// The request that sent it: stored on its message (gubun N), so the delivery's log line
    /// names it. Not part of the coupon: one read back has none.
    pub request_id: Option<RequestId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Coupon {
    pub id: i64,
    pub order_no: OrderNo,
    pub new: NewCoupon,
    pub status: PinStatus,
    /// When the PIN status last changed (`correcDtm`).
    pub status_changed_at_ms: i64,
    pub delivery: DeliveryStatus,
    /// The gateway's answer, as `sendRstCd` / `sendRstMsg`.
    pub delivery_result: Option<(String, String)>,
}

impl NewCoupon {
    /// The delivery status a send starts with: pending for an MMS the platform sends, none for
    /// a PIN or image the caller delivers.
    pub fn initial_delivery(&self) -> DeliveryStatus {
        match self.gubun {
            Gubun::Mms => DeliveryStatus::Pending,
            Gubun::Pin | Gubun::Image => DeliveryStatus::NotSent,
        }
    }

    /// The coupon the store made of this send: issued, with its id and order number.
    pub fn issued(&self, id: i64, order_no: OrderNo) -> Coupon {
        Coupon {
            id,
            order_no,
            new: self.clone(),
            status: PinStatus::Issued,
            status_changed_at_ms: self.issued_at_ms,
            delivery: self.initial_delivery(),
            delivery_result: None,
        }
    }
}

/// `orderNo`: `yyyyMMdd` of the KST issue date, then the coupon id in at least six digits,
/// more once the id needs them (the field allows 20 characters: ids up to 10^12). Never
/// wrapped, so unique forever: the date is fixed-width and the id unique. (PostgreSQL's send
/// function, migration 0007, spells the same rule in SQL.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct OrderNo(String);

impl OrderNo {
    /// The order number of coupon `id` issued at `issued_at_ms`.
    pub fn of(issued_at_ms: i64, id: i64) -> OrderNo {
        OrderNo(format!("{}{:06}", order_date(issued_at_ms), id))
    }

    /// For the store, from a row it read or a number PostgreSQL's send function made.
    pub fn from_stored(order_no: String) -> OrderNo {
        OrderNo(order_no)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for OrderNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The KST issue date that starts an order number, `yyyyMMdd`.
pub fn order_date(issued_at_ms: i64) -> String {
    crate::time::from_millis(issued_at_ms).with_timezone(&crate::time::kst()).format("%Y%m%d").to_string()
}

/// How long after issue a coupon may be cancelled.
pub const CANCEL_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

/// Why a cancel (0202) is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CancelRefusal {
    #[error("no such tr_id")]
    UnknownTrId,
    #[error("already cancelled")]
    AlreadyCancelled,
    #[error("exchanged (used)")]
    Exchanged,
    #[error("not cancellable")]
    NotCancellable,
}

impl Coupon {
    /// Cancel rules: unused and within 7 days of issue.
    pub fn check_cancellable(&self, now_ms: i64) -> Result<(), CancelRefusal> {
        match self.status {
            PinStatus::Cancelled => Err(CancelRefusal::AlreadyCancelled),
            PinStatus::Exchanged => Err(CancelRefusal::Exchanged),
            PinStatus::Expired => Err(CancelRefusal::NotCancellable),
            PinStatus::Issued if now_ms - self.new.issued_at_ms > CANCEL_WINDOW_MS => {
                Err(CancelRefusal::NotCancellable)
            }
            PinStatus::Issued => Ok(()),
        }
    }
}

/// Why a ledger entry was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerReason {
    /// The operator added bizmoney.
    Charge,
    /// An operator correction, either sign.
    Adjustment,
    /// A send paid for its coupon.
    Send,
    /// A cancel (0202) gave it back.
    CancelRefund,
    /// A sendFail cancel (0205) gave back a charge without a PIN.
    SendFailRefund,
}

impl LedgerReason {
    pub fn code(self) -> &'static str {
        match self {
            LedgerReason::Charge => "charge",
            LedgerReason::Adjustment => "adjustment",
            LedgerReason::Send => "send",
            LedgerReason::CancelRefund => "cancel_refund",
            LedgerReason::SendFailRefund => "send_fail_refund",
        }
    }

    pub fn parse(code: &str) -> Option<LedgerReason> {
        [
            LedgerReason::Charge,
            LedgerReason::Adjustment,
            LedgerReason::Send,
            LedgerReason::CancelRefund,
            LedgerReason::SendFailRefund,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

/// How the console looks coupons up (any account's), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CouponSearch {
    TrId(crate::send::TrId),
    OrderNo(String),
    /// The last four digits of the recipient's phone.
    PhoneLast4(String),
}

/// A coupon as the money rules see it: its tr_id, what it was charged, its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponCharge {
    pub tr_id: String,
    pub price: Won,
    pub status: PinStatus,
}

/// One append-only change of an account's bizmoney; the balance is the sum of its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub account_id: AccountId,
    /// Signed whole KRW.
    pub amount: Won,
    pub balance_after: Won,
    pub reason: LedgerReason,
    pub tr_id: Option<String>,
    pub memo: String,
    pub created_at_ms: i64,
}

/// Why a send (0204) did not issue, decided inside its transaction.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("tr_id already used (or cancelled before its send arrived)")]
    DuplicateTrId,
    #[error("bizmoney below the price")]
    InsufficientBizmoney,
    #[error("PIN already exists")]
    PinTaken,
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

/// Why a cancel did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error(transparent)]
    Refused(#[from] CancelRefusal),
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

/// What a sendFail cancel (0205) did. Sends charge and issue in one transaction, so a charge
/// without a PIN, the one thing 0205 exists to refund, never happens here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFailOutcome {
    /// No send had claimed the tr_id: it is tombstoned now, so a late send is refused.
    Tombstoned,
    /// An earlier cancel had tombstoned it already.
    AlreadyTombstoned,
    /// The send issued a PIN; nothing changed (cancel it with 0202).
    IssuedPin,
}

/// Why an operator's bizmoney change was refused.
#[derive(Debug, thiserror::Error)]
pub enum BizmoneyError {
    #[error("no account with that user id")]
    UnknownAccount,
    #[error("the balance would go below zero")]
    WouldGoNegative,
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coupon(status: PinStatus, issued_at_ms: i64) -> Coupon {
        Coupon {
            id: 1,
            order_no: OrderNo::from_stored("20261129000001".into()),
            new: NewCoupon {
                account_id: AccountId::from_stored(1),
                tr_id: TrId::parse("t", TrId::SPEC_MAX_LEN).unwrap(),
                pin: Pin::new("123456789012"),
                image_token: "x".into(),
                goods_code: GoodsCode::parse("G").unwrap(),
                goods_name: "g".into(),
                brand_code: BrandCode::parse("B").unwrap(),
                brand_name: "b".into(),
                sale_price: Won::new(1000),
                price: Won::new(940),
                gubun: Gubun::Pin,
                phone_no: PhoneNo::parse("01012345678").unwrap(),
                callback_no: CallbackNo::parse("15880108").unwrap(),
                mms_title: "t".into(),
                mms_msg: "m".into(),
                issued_at_ms,
                valid_until_ms: issued_at_ms + 1,
                reserved_at_ms: None,
                request_id: None,
            },
            status,
            status_changed_at_ms: issued_at_ms,
            delivery: DeliveryStatus::NotSent,
            delivery_result: None,
        }
    }

    #[test]
    fn order_numbers_widen_instead_of_wrapping() {
        let at = 1_764_900_000_000; // 2025-12-05 KST
        assert_eq!(OrderNo::of(at, 7).as_str(), "20251205000007");
        assert_eq!(OrderNo::of(at, 999_999).as_str(), "20251205999999");
        assert_eq!(OrderNo::of(at, 1_000_000).as_str(), "202512051000000");
        assert_ne!(OrderNo::of(at, 1_000_007), OrderNo::of(at, 7), "the id modulo 10^6 would repeat");
        assert_eq!(OrderNo::of(at, 999_999_999_999).as_str().len(), 20, "the field's width");
    }

    #[test]
    fn cancel_rules() {
        assert_eq!(coupon(PinStatus::Issued, 0).check_cancellable(CANCEL_WINDOW_MS), Ok(()));
        assert_eq!(
            coupon(PinStatus::Issued, 0).check_cancellable(CANCEL_WINDOW_MS + 1),
            Err(CancelRefusal::NotCancellable)
        );
        assert_eq!(coupon(PinStatus::Cancelled, 0).check_cancellable(0), Err(CancelRefusal::AlreadyCancelled));
        assert_eq!(coupon(PinStatus::Exchanged, 0).check_cancellable(0), Err(CancelRefusal::Exchanged));
        assert_eq!(coupon(PinStatus::Expired, 0).check_cancellable(0), Err(CancelRefusal::NotCancellable));
    }
}
