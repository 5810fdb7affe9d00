//! The giftbiz platform server: the Giftishow Biz API over HTTP on SQLite or PostgreSQL, with a
//! demo catalog and the images it links to.

pub mod app;
pub mod auth_cache;
pub mod catalog_cache;
pub mod catalog_view;
pub mod config;
pub mod console;
pub mod coupon_image;
pub mod db;
pub mod delivery;
pub mod fault;
pub mod demo;
pub mod http;
pub mod images;
pub mod invariants;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod operator;
pub mod usecases;

pub use app::{serve, RunningServer};
pub use config::{Flags, Settings};
