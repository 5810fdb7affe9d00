//! Delivering a coupon's message (MMS of a gubun N send, or a resend by MMS or SMS): the outbox
//! rows a worker claims, what it reports back, and why a resend (0203) is refused.
//!
//! A message is claimed for a lease: a worker that dies mid-delivery loses its claim when the
//! lease runs out and another worker delivers the message again, under the same idempotency key
//! so the gateway can tell the repeat.

use crate::coupon::{Coupon, OrderNo, PinStatus};
use crate::send::{CallbackNo, Gubun, PhoneNo, Pin, TrId};
use crate::{AccountId, RequestId};

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// The send's title and text with the coupon image (gubun N, or a resend with sms_flag=N).
    Mms,
    /// A short text with the PIN (a resend with sms_flag=Y).
    Sms,
}

impl MessageKind {
    pub fn code(self) -> &'static str {
        match self {
            MessageKind::Mms => "mms",
            MessageKind::Sms => "sms",
        }
    }

    pub fn parse(code: &str) -> Option<MessageKind> {
        [MessageKind::Mms, MessageKind::Sms].into_iter().find(|k| k.code() == code)
    }
}

/// A worker's claim on the outbox: up to `limit` messages due by `now_ms` whose claim is absent
/// or expired, held for `lease_ms` by `worker`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim<'a> {
    pub now_ms: i64,
    pub limit: u32,
    pub lease_ms: i64,
    pub worker: &'a str,
}

/// A claimed message, with what a gateway needs to deliver it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    /// Stable for the message's whole life (every retry, every worker): the gateway's
    /// idempotency key. Random, so it tells nothing about the coupon.
    pub key: String,
    pub kind: MessageKind,
    /// Attempts so far, this one included (a claim counts, so a message that crashes its
    /// worker every time still runs out of attempts).
    pub attempts: i32,
    pub coupon_id: i64,
    pub account_id: AccountId,
    pub tr_id: TrId,
    pub order_no: OrderNo,
    pub phone_no: PhoneNo,
    pub callback_no: CallbackNo,
    pub title: String,
    /// The send's `mms_msg`.
    pub text: String,
    /// Bearer value: goes into an SMS text, never into a log line or a URL.
    pub pin: Pin,
    pub goods_name: String,
    pub brand_name: String,
    pub valid_until_ms: i64,
    pub image_token: String,
    /// The request that queued it (the send or the resend), for the delivery's log line.
    pub request_id: Option<RequestId>,
}

/// What a worker reports for a claimed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Sent: the coupon shows the gateway's code and message (`sendRstCd` / `sendRstMsg`).
    Delivered { result_code: String, result_message: String },
    /// Not sent this time: try again at `next_attempt_at_ms`. The coupon stays pending.
    Retry { next_attempt_at_ms: i64, error: String },
    /// Given up: the coupon shows failed with this code and message.
    Failed { result_code: String, result_message: String },
}

/// Why a resend (0203) was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    /// Unknown tr_id (or a tombstone), or a send that was not an MMS (gubun Y or I): ERR0212.
    #[error("no MMS send with that tr_id")]
    NotFound,
    /// The coupon is cancelled, used or expired: COUPON.0009.
    #[error("the coupon can no longer be resent")]
    NotResendable,
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

impl Coupon {
    /// Resend rules (0203): see [`check_resendable`].
    pub fn check_resendable(&self, now_ms: i64) -> Result<(), ResendError> {
        check_resendable(self.new.gubun, self.status, self.new.valid_until_ms, now_ms)
    }
}

/// Resend rules (0203): only an MMS send (gubun N; Y and I never had a message) whose coupon is
/// still issued (not cancelled or used) and unexpired. Stores check this inside their
/// transaction, from the columns alone.
pub fn check_resendable(gubun: Gubun, status: PinStatus, valid_until_ms: i64, now_ms: i64) -> Result<(), ResendError> {
    if gubun != Gubun::Mms {
        return Err(ResendError::NotFound);
    }
    match status {
        PinStatus::Issued if now_ms <= valid_until_ms => Ok(()),
        _ => Err(ResendError::NotResendable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in [MessageKind::Mms, MessageKind::Sms] {
            assert_eq!(MessageKind::parse(k.code()), Some(k));
        }
        assert_eq!(MessageKind::parse("fax"), None);
    }

    #[test]
    fn resend_rules() {
        assert!(check_resendable(Gubun::Mms, PinStatus::Issued, 10, 10).is_ok());
        assert!(matches!(check_resendable(Gubun::Pin, PinStatus::Issued, 10, 0), Err(ResendError::NotFound)));
        assert!(matches!(check_resendable(Gubun::Image, PinStatus::Issued, 10, 0), Err(ResendError::NotFound)));
        for status in [PinStatus::Cancelled, PinStatus::Exchanged, PinStatus::Expired] {
            assert!(matches!(check_resendable(Gubun::Mms, status, 10, 0), Err(ResendError::NotResendable)));
        }
        assert!(matches!(check_resendable(Gubun::Mms, PinStatus::Issued, 10, 11), Err(ResendError::NotResendable)));
    }
}

/// An outbox message as the console's deliveries page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageLine {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at_ms: i64,
    pub created_at_ms: i64,
    pub account_id: AccountId,
    pub tr_id: String,
    pub order_no: String,
}
