//! The common fields of an API call (NOTES §3, in the order of NOTES §4): api_code, then the
//! credentials, which `usecases::auth` checks; and, for the endpoints that carry it, user_id.

use giftbiz_wire::{params, ApiCode, ResultCode};

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::AppState;
use crate::usecases::auth::Credentials;
use crate::usecases::{auth, Caller};

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
    let creds = Credentials { auth_code, token, dev_yn: p.get(params::DEV_YN) };
    Ok(auth::authenticate(&state.auth, creds, state.settings.accept_dev).await?)
}

/// For endpoints that carry `user_id`: required, and the calling account's own.
pub fn require_own_user_id(p: &Params, caller: &Caller) -> ApiResult<()> {
    Ok(caller.require_user(p.require(params::USER_ID)?)?)
}
