//! A sent coupon's life as its sender sees it: 0201 detail, 0202 cancel, 0203 resend, 0205
//! sendFail cancel, and the 0301 balance that pays for them.

use giftbiz_core::coupon::{CancelError, CancelRefusal, Coupon, SendFailOutcome};
use giftbiz_core::delivery::{MessageKind, ResendError};
use giftbiz_core::send::TrId;
use giftbiz_core::{RequestId, Store, Won};

use super::{Caller, Failure, Refusal};
use crate::metrics::{names, timed};

/// 0201: the caller's coupon with this tr_id.
pub async fn coupon(store: &dyn Store, caller: &Caller, tr_id: &TrId) -> Result<Coupon, Failure> {
    let coupon = timed("coupon", store.coupon_by_tr_id(caller.account.id, tr_id)).await?;
    Ok(coupon.ok_or(Refusal::UnknownTrId)?)
}

/// 0202: cancels and refunds the coupon; an unknown tr_id is tombstoned (and refused).
pub async fn cancel(store: &dyn Store, caller: &Caller, tr_id: &TrId, now_ms: i64) -> Result<Coupon, Failure> {
    match timed("cancel", store.cancel_coupon(caller.account.id, tr_id, now_ms)).await {
        Ok(coupon) => {
            tracing::info!(tr_id = tr_id.as_str(), order_no = %coupon.order_no, refund = coupon.new.price.get(), "coupon cancelled");
            metrics::counter!(names::COUPONS_CANCELLED, "kind" => "0202").increment(1);
            Ok(coupon)
        }
        Err(CancelError::Refused(refusal)) => Err(match refusal {
            CancelRefusal::UnknownTrId => Refusal::UnknownTrId,
            CancelRefusal::AlreadyCancelled => Refusal::AlreadyCancelled,
            CancelRefusal::Exchanged => Refusal::Exchanged,
            CancelRefusal::NotCancellable => Refusal::NotCancellable,
        }
        .into()),
        Err(CancelError::Store(e)) => Err(e.into()),
    }
}

/// 0205: sends charge and issue atomically, so there is never a charged send without a PIN to
/// refund here. A tr_id no send claimed is tombstoned (a late send is refused) and answered as
/// unknown; a send that issued a PIN is left as it is.
pub async fn send_fail_cancel(store: &dyn Store, caller: &Caller, tr_id: &TrId, now_ms: i64) -> Result<(), Failure> {
    match timed("send_fail_cancel", store.send_fail_cancel(caller.account.id, tr_id, now_ms)).await? {
        SendFailOutcome::Tombstoned => {
            // A send that never issued, cancelled for good: it counts once, a repeat does not.
            metrics::counter!(names::COUPONS_CANCELLED, "kind" => "0205").increment(1);
            Err(Refusal::UnknownTrId.into())
        }
        SendFailOutcome::AlreadyTombstoned => Err(Refusal::UnknownTrId.into()),
        SendFailOutcome::IssuedPin => Err(Refusal::IssuedPin.into()),
    }
}

/// 0203: queues the coupon's message again (the MMS, or an SMS with the PIN).
pub async fn resend(
    store: &dyn Store,
    caller: &Caller,
    tr_id: &TrId,
    kind: MessageKind,
    now_ms: i64,
    request_id: Option<&RequestId>,
) -> Result<(), Failure> {
    match timed("resend", store.enqueue_resend(caller.account.id, tr_id, kind, now_ms, request_id)).await {
        Ok(()) => {
            tracing::info!(tr_id = tr_id.as_str(), kind = kind.code(), "resend queued");
            Ok(())
        }
        Err(ResendError::NotFound) => Err(Refusal::NoResendTarget.into()),
        Err(ResendError::NotResendable) => Err(Refusal::NotResendable.into()),
        Err(ResendError::Store(e)) => Err(e.into()),
    }
}

/// 0301: the caller's balance.
pub async fn bizmoney(store: &dyn Store, caller: &Caller) -> Result<Won, Failure> {
    Ok(timed("balance", store.bizmoney_balance(caller.account.id)).await?)
}
