//! Demo data: a deterministic catalog that looks like the live service's, for trying the API out
//! and for benchmarks.

pub mod catalog;

pub use catalog::{demo_catalog, DEMO_GOODS};
