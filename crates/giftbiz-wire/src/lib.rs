//! Wire types of the Giftishow Biz API, shared by the giftbiz server and client.
//!
//! Everything here is exactly what travels on the wire (field spellings, JSON types, result
//! codes and their Korean messages, and the values both sides parse: tr_id, gubun, PIN); no I/O
//! and no domain rules. Where the vendor's spec and the
//! live service disagree, these types follow the live service (see `shared/spec/NOTES.md`).

pub mod api_code;
pub mod catalog;
pub mod coupon;
pub mod envelope;
pub mod lenient;
pub mod params;
pub mod result_code;
pub mod values;

pub use api_code::ApiCode;
pub use envelope::Envelope;
pub use result_code::ResultCode;
pub use values::{Gubun, Pin, Secret, TrId, TrIdError};
