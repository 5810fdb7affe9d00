//! Authentication of an API call (NOTES §3, checked in the order of NOTES §4): api_code, then
//! the auth code, the token, dev_yn and, for the endpoints that carry it, user_id.

use giftbiz_core::Account;
use giftbiz_wire::{params, ApiCode, ResultCode};

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::AppState;

/// The authenticated caller, with the catalog revision read in the same round trip.
pub struct Caller {
    pub account: Account,
    pub catalog_revision: i64,
}

/// Checks the common fields for `endpoint` and returns the caller.
pub async fn authenticate(state: &AppState, p: &Params, endpoint: ApiCode) -> ApiResult<Caller> {
    let api_code = p.get(params::API_CODE).ok_or_else(|| ApiError::with(ResultCode::ApiCodeMissing, "api_code"))?;
    match ApiCode::parse(api_code) {
        None => return Err(ApiError::with(ResultCode::ApiCodeMissing, "api_code")),
        Some(code) if code != endpoint => return Err(ApiError::with(ResultCode::ApiCodeMismatch, "api_code")),
        Some(_) => {}
    }
    let auth_code = p.get(params::CUSTOM_AUTH_CODE).ok_or_else(|| ApiError::new(ResultCode::AuthCodeMissing))?;
    let token = p.get(params::CUSTOM_AUTH_TOKEN).ok_or_else(|| ApiError::new(ResultCode::AuthTokenMissing))?;
    let lookup = state.store.auth_lookup(auth_code).await?;
    let Some((account, catalog_revision)) = lookup else { return Err(ApiError::new(ResultCode::InvalidAuthCode)) };
    if !account.token_matches(token) {
        return Err(ApiError::new(ResultCode::InvalidAuthToken));
    }
    match p.get(params::DEV_YN).map(str::to_ascii_uppercase).as_deref() {
        None => return Err(ApiError::new(ResultCode::DevYnMissing)),
        Some("N") => {}
        Some("Y") if state.settings.accept_dev => {}
        Some("Y") => return Err(ApiError::new(ResultCode::DevUnavailable)),
        Some(_) => return Err(ApiError::with(ResultCode::DevYnMissing, "dev_yn")),
    }
    Ok(Caller { account, catalog_revision })
}

/// For endpoints that carry `user_id`: it must be the calling account's own.
pub fn require_own_user_id(p: &Params, account: &Account) -> ApiResult<()> {
    let user_id = p.require(params::USER_ID)?;
    if user_id == account.user_id {
        Ok(())
    } else {
        Err(ApiError::new(ResultCode::MemberLookupFailed))
    }
}
