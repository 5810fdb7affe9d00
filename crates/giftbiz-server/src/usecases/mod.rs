//! What the platform does for a caller, one function per operation, knowing nothing of HTTP.
//! The API's handlers (and the CLI, and the console to come) decode their input into typed
//! values, call one of these, and encode what it returns. Every refusal is a [`Refusal`];
//! `http::refusals` maps each to its NOTES §4 code, in one table.

use giftbiz_core::{Account, StoreError};

pub mod auth;
pub mod console_accounts;
pub mod console_catalog;
pub mod console_auth;
pub mod console_coupons;
pub mod console_partners;
pub mod coupons;
pub mod send;

/// The authenticated caller, with the catalog revision current for its account (both from the
/// auth cache, or one database read).
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: Account,
    pub catalog_revision: i64,
}

impl Caller {
    /// For the operations that carry `user_id`: it must be the calling account's own.
    pub fn require_user(&self, user_id: &str) -> Result<(), Refusal> {
        if user_id == self.account.user_id.as_str() {
            Ok(())
        } else {
            Err(Refusal::NotOwnUserId)
        }
    }
}

/// Every way the platform refuses a valid request, named for what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no account has that auth code")]
    UnknownAuthCode,
    #[error("the token is not the account's")]
    WrongToken,
    #[error("the account is suspended")]
    AccountSuspended,
    #[error("dev_yn is missing")]
    DevYnMissing,
    #[error("dev_yn is neither Y nor N")]
    DevYnInvalid,
    #[error("dev_yn=Y while the dev environment is off")]
    DevUnavailable,
    #[error("user_id is not the caller's")]
    NotOwnUserId,
    #[error("the goods of a detail request does not exist")]
    NoSuchGoods,
    #[error("the brand of a detail request does not exist")]
    NoSuchBrand,
    #[error("the goods to send does not exist")]
    UnknownSendGoods,
    #[error("the goods is not on sale (suspended, outside its sale period, or past its validity)")]
    GoodsNotOnSale,
    #[error("the tr_id was used before by this account")]
    DuplicateTrId,
    #[error("the bizmoney balance is below the price")]
    InsufficientBizmoney,
    #[error("no coupon has that tr_id")]
    UnknownTrId,
    #[error("the coupon is already cancelled")]
    AlreadyCancelled,
    #[error("the coupon was exchanged (used)")]
    Exchanged,
    #[error("the coupon can no longer be cancelled")]
    NotCancellable,
    #[error("the send issued a PIN (cancel it with 0202)")]
    IssuedPin,
    #[error("no MMS send has that tr_id")]
    NoResendTarget,
    #[error("the coupon is cancelled, used or expired")]
    NotResendable,
}

/// Why an operation did not happen: a refusal, or a failure of the platform itself.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(&'static str),
}
