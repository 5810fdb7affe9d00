//! 0204 쿠폰발송요청: the goods must be on sale, then one store transaction claims the tr_id,
//! charges the caller's grade price and issues the coupon.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use giftbiz_core::coupon::{Coupon, IssueError, NewCoupon};
use giftbiz_core::send::{CallbackNo, Gubun, MmsMsg, MmsTitle, PhoneNo, Pin, TrId};
use giftbiz_core::{GoodsCode, GoodsState, RequestId, Store};
use rand::{Rng, RngCore};

use super::{Caller, Failure, Refusal};
use crate::metrics::{names, timed};
use crate::catalog_cache::{CatalogCache, GoodsForSend};

/// Fresh PINs tried when one collides with an existing PIN (1 in 10^12 per pair).
const PIN_ATTEMPTS: usize = 5;

/// A send request that passed every check that needs no transaction.
pub struct SendOrder {
    pub tr_id: TrId,
    pub gubun: Gubun,
    pub goods_code: GoodsCode,
    pub title: MmsTitle,
    pub msg: MmsMsg,
    pub phone: PhoneNo,
    pub callback: CallbackNo,
    pub reserved_at: Option<DateTime<Utc>>,
    /// The request's id, stored on the message of a gubun N send.
    pub request_id: Option<RequestId>,
}

/// Issues the coupon the order asks for, at `now`.
pub async fn send(
    store: &dyn Store,
    catalog: &Arc<CatalogCache>,
    caller: &Caller,
    order: SendOrder,
    now: DateTime<Utc>,
) -> Result<Coupon, Failure> {
    let account = &caller.account;
    let goods = find_goods(store, catalog, caller, &order.goods_code).await?.ok_or(Refusal::UnknownSendGoods)?;
    // Not on sale, or a fixed validity end already past: the coupon would be born expired.
    let valid_until = goods.valid_until(now);
    if !goods.is_on_sale(now) || valid_until <= now {
        return Err(Refusal::GoodsNotOnSale.into());
    }
    let mut new = NewCoupon {
        account_id: account.id,
        tr_id: order.tr_id,
        pin: new_pin(),
        image_token: new_image_token(),
        goods_code: goods.goods_code().clone(),
        goods_name: goods.goods_name().to_owned(),
        brand_code: goods.brand_code().clone(),
        brand_name: goods.brand_name().to_owned(),
        sale_price: goods.sale_price(),
        price: goods.price_for(account.grade).price,
        gubun: order.gubun,
        phone_no: order.phone.clone(),
        callback_no: order.callback,
        mms_title: order.title.as_str().to_owned(),
        mms_msg: order.msg.as_str().to_owned(),
        issued_at_ms: now.timestamp_millis(),
        valid_until_ms: valid_until.timestamp_millis(),
        reserved_at_ms: order.reserved_at.map(|t| t.timestamp_millis()),
        request_id: order.request_id,
    };
    for _ in 0..PIN_ATTEMPTS {
        match timed("issue", store.issue_coupon(&new)).await {
            Ok(coupon) => {
                tracing::info!(
                    tr_id = %new.tr_id, order_no = %coupon.order_no, gubun = new.gubun.code(),
                    phone = %order.phone.masked(), price = new.price.get(), "coupon issued"
                );
                metrics::counter!(names::COUPONS_ISSUED, "gubun" => new.gubun.code()).increment(1);
                return Ok(coupon);
            }
            Err(IssueError::PinTaken) => {
                new.pin = new_pin();
                new.image_token = new_image_token();
            }
            Err(IssueError::DuplicateTrId) => return Err(Refusal::DuplicateTrId.into()),
            Err(IssueError::InsufficientBizmoney) => return Err(Refusal::InsufficientBizmoney.into()),
            Err(IssueError::Store(e)) => return Err(e.into()),
        }
    }
    Err(Failure::Internal("no free PIN after several attempts"))
}

/// The goods to send, from the catalog snapshot when one as new as the caller's revision is
/// loaded (no database round trip), else from the store.
async fn find_goods(
    store: &dyn Store,
    catalog: &Arc<CatalogCache>,
    caller: &Caller,
    goods_code: &GoodsCode,
) -> Result<Option<Arc<GoodsForSend>>, Failure> {
    if let Some(snap) = catalog.snapshot_if_loaded(caller.catalog_revision) {
        return Ok(snap.goods_for_send(goods_code)?);
    }
    let goods = store.goods_by_code(goods_code).await?;
    Ok(goods.filter(|g| g.state != GoodsState::Withdrawn).map(|g| Arc::new(GoodsForSend::from(g))))
}

/// 12 digits from the thread's CSPRNG (ChaCha), uniformly: never sequential, never guessable.
fn new_pin() -> Pin {
    let n: u64 = rand::rng().random_range(0..1_000_000_000_000);
    Pin::new(format!("{n:012}"))
}

/// 128 random bits for the coupon image URL.
fn new_image_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_12_digits_and_distinct() {
        let pins: std::collections::HashSet<String> = (0..1000).map(|_| new_pin().expose().to_owned()).collect();
        assert_eq!(pins.len(), 1000);
        assert!(pins.iter().all(|p| p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit())));
        assert_eq!(new_image_token().len(), 32);
    }
}
