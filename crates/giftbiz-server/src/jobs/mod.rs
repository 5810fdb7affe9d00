//! Background work a server runs beside the API: delivering messages, expiring coupons.

pub mod beat;
pub mod delivery;
pub mod expiry;
