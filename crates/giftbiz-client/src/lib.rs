//! An async client of the **Giftishow Biz API** (기프티쇼 비즈), for the live service
//! (`https://bizapi.giftishow.com/bizApi`, the default) or a giftbiz server.
//!
//! - All ten endpoints: goods (0101, 0111), brands (0102, 0112), send (0204), coupon detail
//!   (0201), cancel (0202), resend (0203), sendFail cancel (0205) and bizmoney (0301).
//! - Responses are the shared wire types of [`giftbiz_wire`], decoded tolerantly: numbers sent
//!   as strings, `null` or missing fields, the balance at the top level or in `result`, the
//!   send's doubly nested envelope.
//! - Every non-`0000` answer is an [`Error::Api`] with its [`ResultCode`] and Korean message;
//!   timeouts, transport failures and undecodable answers are errors of their own.
//! - Credentials from code, the environment (`GIFTBIZ_AUTH_CODE`, `GIFTBIZ_AUTH_TOKEN`,
//!   `GIFTBIZ_USER_ID`, `GIFTBIZ_BASE_URL`) or a TOML profile; see [`Config`].
//! - [`TrIdGenerator`] makes tr_ids the live service accepts.
//!
//! The auth token and PINs never appear in `Debug` or `Display` output, errors or logs.
//!
//! ```no_run
//! use giftbiz_client::{Client, Gubun, ResultCode, SendRequest};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), giftbiz_client::Error> {
//!     let client = Client::from_env()?;
//!     let page = client.goods_list(1, 20).await?;
//!     let goods = &page.goods_list[0];
//!
//!     let tr_id = client.new_tr_id();
//!     let req = SendRequest::new(tr_id.as_str(), &goods.goods_code, Gubun::Pin, "01012345678")
//!         .callback_no("15880108")
//!         .title("선물 도착")
//!         .message("감사합니다.");
//!     match client.send(&req).await {
//!         Ok(sent) => println!("order {}", sent.order_no),
//!         Err(e) if e.is(ResultCode::InsufficientBizmoney) => println!("charge bizmoney first"),
//!         Err(e) if e.is_ambiguous() => client.cancel(&tr_id).await?,
//!         Err(e) => return Err(e),
//!     }
//!     Ok(())
//! }
//! ```

mod client;
mod config;
mod decode;
mod error;
#[cfg(feature = "journal")]
pub mod journal;
#[cfg(feature = "journal")]
mod reconcile;
pub use giftbiz_wire::lenient;
#[cfg(feature = "local-catalog")]
pub mod local_catalog;
mod safe_send;
mod send;
mod tr_id;

pub use client::Client;
pub use config::{
    default_config_path, Config, Credentials, Secret, Timeouts, DEFAULT_BASE_URL, ENV_AUTH_CODE, ENV_AUTH_TOKEN,
    ENV_BASE_URL, ENV_CONFIG, ENV_PROFILE, ENV_USER_ID,
};
pub use error::{Code, ConfigError, Error};
#[cfg(feature = "local-catalog")]
pub use local_catalog::{LocalCatalog, LocalCatalogError, LocalGoods, SearchQuery, SortOrder, SyncProgress, SyncReport};
pub use safe_send::{ChasePolicy, SendOutcome};
#[cfg(feature = "journal")]
pub use journal::{Journal, JournalEntry};
#[cfg(feature = "journal")]
pub use reconcile::{CouponDrift, ReconcileReport};
pub use send::{Gubun, Pin, Reservation, ResendVia, SendRequest, Sent};
pub use tr_id::{TrId, TrIdGenerator, DEFAULT_MAX_LEN as TR_ID_DEFAULT_MAX_LEN, MIN_RANDOM as TR_ID_MIN_RANDOM};

/// The time now in Unix milliseconds, as the local files store it.
#[cfg(any(feature = "journal", feature = "local-catalog"))]
pub(crate) fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The shared wire types the responses are made of.
pub use giftbiz_wire as wire;
pub use giftbiz_wire::{ApiCode, ResultCode};
