//! Domain rules of giftbiz and the storage traits (one per capability) that `giftbiz-store-sql`
//! implements for both database engines.
//!
//! Values enter the domain through parsing (`Grade::from_str`, `UserId::parse`,
//! `send::parse_tr_id`, the catalog import), so code past this crate's boundary never sees an
//! invalid one.

pub mod account;
pub mod catalog;
pub mod catalog_import;
pub mod console;
pub mod coupon;
pub mod delivery;
pub mod freshness;
pub mod grade;
pub mod ids;
pub mod money;
pub mod partner;
pub mod pin_vault;
pub mod probe;
pub mod request_id;
pub mod send;
pub mod store;
pub mod time;
pub mod totp;

pub use account::{Account, AuthToken, NewAccount, UserId};
pub use ids::{AccountId, OperatorId, PartnerId};
pub use money::Won;
pub use request_id::RequestId;
pub use catalog::{Brand, BrandCode, Goods, GoodsCode, GoodsState};
pub use grade::{Grade, GradePrice, GradePrices};
pub use store::{
    AccountStore, CatalogCounts, CatalogStore, ChangeFeed, IssuanceStore, OperatorStore, OutboxStore, PartnerStore, ProbeStore, Store,
    StoreError,
};
