//! Authentication of an API call (NOTES §3): the auth code names the account, the token must
//! be its own, the account must not be suspended, and dev_yn must be one the platform serves,
//! checked in that order.

use giftbiz_core::account::AuthCode;

use crate::auth_cache::AuthCache;

use super::{Caller, Failure, Refusal};

/// The credentials every call carries.
pub struct Credentials<'a> {
    pub auth_code: &'a str,
    pub token: &'a str,
    /// `dev_yn` as sent (Y/N, either case), if it was.
    pub dev_yn: Option<&'a str>,
}

/// The caller, if the credentials are an account's; `accept_dev` serves `dev_yn=Y` too.
pub async fn authenticate(accounts: &AuthCache, creds: Credentials<'_>, accept_dev: bool) -> Result<Caller, Failure> {
    let Some(auth_code) = AuthCode::parse(creds.auth_code) else {
        return Err(Refusal::UnknownAuthCode.into());
    };
    let Some((account, catalog_revision)) = accounts.lookup(&auth_code).await? else {
        return Err(Refusal::UnknownAuthCode.into());
    };
    if !account.token_matches(creds.token) {
        return Err(Refusal::WrongToken.into());
    }
    // After the token: only the account's own credentials learn that it is suspended.
    if account.is_suspended() {
        return Err(Refusal::AccountSuspended.into());
    }
    match creds.dev_yn.map(str::to_ascii_uppercase).as_deref() {
        None => Err(Refusal::DevYnMissing.into()),
        Some("N") => Ok(Caller { account, catalog_revision }),
        Some("Y") if accept_dev => Ok(Caller { account, catalog_revision }),
        Some("Y") => Err(Refusal::DevUnavailable.into()),
        Some(_) => Err(Refusal::DevYnInvalid.into()),
    }
}
