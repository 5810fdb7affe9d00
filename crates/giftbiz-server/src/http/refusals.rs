//! The one table from what the platform refused to the answer: each [`Refusal`] (and each
//! parse failure of a parameter) becomes its NOTES §4 code, with the parameter its message
//! names. Failures of the platform itself are logged and answered E9999, never shown.

use giftbiz_core::send::Invalid;
use giftbiz_wire::ResultCode;

use super::error::ApiError;
use crate::usecases::{Failure, Refusal};

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        use ResultCode as C;
        let (code, param) = match refusal {
            Refusal::UnknownAuthCode => (C::InvalidAuthCode, None),
            Refusal::WrongToken => (C::InvalidAuthToken, None),
            Refusal::AccountSuspended => (C::AccountSuspended, None),
            Refusal::DevYnMissing => (C::DevYnMissing, None),
            Refusal::DevYnInvalid => (C::DevYnMissing, Some("dev_yn")),
            Refusal::DevUnavailable => (C::DevUnavailable, None),
            Refusal::NotOwnUserId => (C::MemberLookupFailed, None),
            Refusal::NoSuchGoods => (C::ProductNotFound, Some("goods_code")),
            Refusal::NoSuchBrand => (C::ProductNotFound, Some("brand_code")),
            Refusal::UnknownSendGoods => (C::InvalidGoodsCode, Some("goods_code")),
            Refusal::GoodsNotOnSale => (C::OrderError, Some("goods_code")),
            Refusal::DuplicateTrId => (C::TrIdDuplicate, Some("tr_id")),
            Refusal::InsufficientBizmoney => (C::InsufficientBizmoney, None),
            Refusal::UnknownTrId => (C::TrIdNotFound, Some("tr_id")),
            Refusal::AlreadyCancelled => (C::AlreadyCancelled, Some("tr_id")),
            Refusal::Exchanged => (C::AlreadyExchanged, Some("tr_id")),
            Refusal::NotCancellable => (C::NotCancellable, Some("tr_id")),
            Refusal::IssuedPin => (C::CancelFailed, Some("tr_id")),
            Refusal::NoResendTarget => (C::ResendTargetNotFound, Some("tr_id")),
            Refusal::NotResendable => (C::ResendFailed, Some("tr_id")),
        };
        match param {
            Some(param) => ApiError::with(code, param),
            None => ApiError::new(code),
        }
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> ApiError {
        match failure {
            Failure::Refused(refusal) => refusal.into(),
            Failure::Store(e) => ApiError::internal(e),
            Failure::Internal(what) => ApiError::internal(what),
        }
    }
}

/// A parameter that does not parse: its code is the parser's, named for the parameter.
impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> ApiError {
        ApiError::with(e.code, e.detail)
    }
}
