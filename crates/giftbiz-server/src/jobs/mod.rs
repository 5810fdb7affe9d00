//! Background work a server runs beside the API: delivering messages, expiring coupons, watching
//! for changes to what it caches.

pub mod beat;
pub mod cache_watch;
pub mod delivery;
pub mod expiry;
