//! Demo data: a deterministic catalog that looks like the live service's, for trying the API out
//! and for benchmarks; coupons by the million for benchmarks at scale.

pub mod catalog;
pub mod coupons;

pub use catalog::{demo_catalog, DEMO_GOODS};
