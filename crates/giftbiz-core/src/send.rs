//! A 0204 send request, parsed: each field becomes a value that is valid by construction, and
//! each failure is the result code NOTES §4 gives it.

use std::borrow::Cow;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use giftbiz_wire::ResultCode;

use crate::time::kst;

/// A parse failure: the code to answer and the offending parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: ResultCode,
    /// Added to the message: the parameter's name, or what was wrong with it.
    pub detail: Cow<'static, str>,
}

fn invalid(code: ResultCode, param: &'static str) -> Invalid {
    Invalid { code, detail: Cow::Borrowed(param) }
}

pub use giftbiz_wire::values::{Gubun, Pin, TrId};
use giftbiz_wire::values::TrIdError;

/// The tr_id, as every endpoint that takes one parses it; `max_len` is the configured limit.
pub fn parse_tr_id(raw: &str, max_len: usize) -> Result<TrId, Invalid> {
    TrId::parse(raw, max_len).map_err(|e| match e {
        // The live service's own words, naming the limit in force.
        TrIdError::TooLong { max } => {
            Invalid { code: ResultCode::TrIdTooLong, detail: format!("TRID is longer than {max} characters").into() }
        }
        TrIdError::Empty | TrIdError::Alphabet => invalid(ResultCode::InvalidTrId, "tr_id"),
    })
}

/// The send's `gubun`: `N`, `Y` or `I` (either case).
pub fn parse_gubun(raw: &str) -> Result<Gubun, Invalid> {
    Gubun::parse(raw).ok_or(invalid(ResultCode::OrderError, "gubun"))
}

/// A Korean mobile number: 01X and 10-11 digits in all. Its `Debug` is masked, so a coupon or
/// message printed whole shows no recipient.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNo(String);

impl std::fmt::Debug for PhoneNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhoneNo({})", self.masked())
    }
}

impl PhoneNo {
    pub fn parse(raw: &str) -> Result<PhoneNo, Invalid> {
        let ok = (10..=11).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_digit())
            && raw.starts_with("01")
            && matches!(raw.as_bytes()[2], b'0' | b'1' | b'6' | b'7' | b'8' | b'9');
        if ok {
            Ok(PhoneNo(raw.to_owned()))
        } else {
            Err(invalid(ResultCode::InvalidPhoneNo, "phone_no"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs: `010****5678`.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Masks the middle digits of a phone number for logs (the rule the client's journal uses too).
pub use giftbiz_wire::params::mask_phone;

/// The sender's number shown to the recipient: any Korean number of 8-12 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackNo(String);

impl CallbackNo {
    pub fn parse(raw: &str) -> Result<CallbackNo, Invalid> {
        if (8..=12).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(CallbackNo(raw.to_owned()))
        } else {
            Err(invalid(ResultCode::InvalidCallbackNo, "callback_no"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The MMS title: not blank, no control character (not even a newline: it is one line), at
/// most the configured number of characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmsTitle(String);

impl MmsTitle {
    pub fn parse(raw: &str, max_chars: usize) -> Result<MmsTitle, Invalid> {
        if raw.trim().is_empty() || raw.chars().any(char::is_control) {
            return Err(invalid(ResultCode::InvalidTitle, "mms_title"));
        }
        if raw.chars().count() > max_chars {
            return Err(invalid(ResultCode::TitleTooLong, "mms_title"));
        }
        Ok(MmsTitle(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const MMS_MSG_MAX_CHARS: usize = 2000;

/// The MMS text: not blank, at most 2000 characters, no control character but line breaks and
/// tabs (a NUL, ESC or BEL would reach the recipient's phone through the gateway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmsMsg(String);

impl MmsMsg {
    pub fn parse(raw: &str) -> Result<MmsMsg, Invalid> {
        let stray_control = raw.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
        if raw.trim().is_empty() || stray_control || raw.chars().count() > MMS_MSG_MAX_CHARS {
            return Err(invalid(ResultCode::InvalidMessage, "mms_msg"));
        }
        Ok(MmsMsg(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When a reserved send (`rev_info_yn=Y`) is delivered: between now + 5 minutes and now + 90
/// days, given as a KST date (`yyyyMMdd`) and time (`HHmm`).
pub fn parse_reservation(date: &str, time: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Invalid> {
    let day = (date.len() == 8)
        .then(|| NaiveDate::parse_from_str(date, "%Y%m%d").ok())
        .flatten()
        .ok_or(invalid(ResultCode::InvalidReserveDate, "rev_info_date"))?;
    let at = (time.len() == 4)
        .then(|| NaiveTime::parse_from_str(time, "%H%M").ok())
        .flatten()
        .ok_or(invalid(ResultCode::InvalidReserveTime, "rev_info_time"))?;
    let when = kst()
        .from_local_datetime(&day.and_time(at))
        .single()
        .ok_or(invalid(ResultCode::InvalidReserveDate, "rev_info_date"))?
        .with_timezone(&Utc);
    if when < now + Duration::minutes(5) || when > now + Duration::days(90) {
        return Err(invalid(ResultCode::ReserveOutOfRange, "rev_info_date"));
    }
    Ok(when)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tr_ids() {
        assert!(parse_tr_id("service_20190814_1234567", 25).is_ok());
        assert!(parse_tr_id("a-b_C9", 25).is_ok());
        assert_eq!(parse_tr_id(&"a".repeat(26), 25).unwrap_err().code, ResultCode::TrIdTooLong);
        assert_eq!(parse_tr_id(&"a".repeat(21), 20).unwrap_err().code, ResultCode::TrIdTooLong);
        assert_eq!(parse_tr_id("한글", 25).unwrap_err().code, ResultCode::InvalidTrId);
        assert_eq!(parse_tr_id("a b", 25).unwrap_err().code, ResultCode::InvalidTrId);
        assert_eq!(parse_tr_id("", 25).unwrap_err().code, ResultCode::InvalidTrId);
    }

    #[test]
    fn phone_numbers() {
        for ok in ["01012345678", "0111234567", "01912345678"] {
            assert!(PhoneNo::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["0212345678", "010-1234-5678", "0101234567890", "010123456", "01212345678"] {
            assert_eq!(PhoneNo::parse(bad).unwrap_err().code, ResultCode::InvalidPhoneNo, "{bad}");
        }
        assert_eq!(PhoneNo::parse("01012345678").unwrap().masked(), "010****5678");
        assert_eq!(format!("{:?}", PhoneNo::parse("01012345678").unwrap()), "PhoneNo(010****5678)");
    }

    #[test]
    fn callback_numbers() {
        assert!(CallbackNo::parse("15880108").is_ok());
        assert!(CallbackNo::parse("0212345678").is_ok());
        assert_eq!(CallbackNo::parse("1588").unwrap_err().code, ResultCode::InvalidCallbackNo);
        assert_eq!(CallbackNo::parse("1588-0108").unwrap_err().code, ResultCode::InvalidCallbackNo);
    }

    #[test]
    fn titles_and_messages() {
        assert_eq!(MmsTitle::parse("   ", 20).unwrap_err().code, ResultCode::InvalidTitle);
        assert_eq!(MmsTitle::parse(&"가".repeat(21), 20).unwrap_err().code, ResultCode::TitleTooLong);
        assert!(MmsTitle::parse(&"가".repeat(20), 20).is_ok());
        assert_eq!(MmsTitle::parse(&"가".repeat(11), 10).unwrap_err().code, ResultCode::TitleTooLong);
        assert_eq!(MmsMsg::parse(" \n ").unwrap_err().code, ResultCode::InvalidMessage);
        assert_eq!(MmsMsg::parse(&"a".repeat(2001)).unwrap_err().code, ResultCode::InvalidMessage);
        for control in ["a\u{0}b", "a\u{1b}[2J", "a\u{7}", "a\u{7f}", "a\u{85}"] {
            assert_eq!(MmsTitle::parse(control, 20).unwrap_err().code, ResultCode::InvalidTitle, "{control:?}");
            assert_eq!(MmsMsg::parse(control).unwrap_err().code, ResultCode::InvalidMessage, "{control:?}");
        }
        assert_eq!(MmsTitle::parse("a\nb", 20).unwrap_err().code, ResultCode::InvalidTitle);
        assert!(MmsMsg::parse("첫 줄\r\n둘째 줄\n\t끝").is_ok(), "line breaks and tabs stay in a message");
    }

    #[test]
    fn gubun() {
        assert_eq!(parse_gubun("I").unwrap(), Gubun::Image);
        assert_eq!(parse_gubun("X").unwrap_err().code, ResultCode::OrderError);
    }

    #[test]
    fn reservations_are_kst_and_within_range() {
        // 2026-11-29 00:00 UTC = 09:00 KST.
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
        let at = parse_reservation("20261129", "0905", now).unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 11, 29, 0, 5, 0).unwrap());
        assert_eq!(parse_reservation("20261129", "0904", now).unwrap_err().code, ResultCode::ReserveOutOfRange);
        assert_eq!(parse_reservation("20270301", "0900", now).unwrap_err().code, ResultCode::ReserveOutOfRange);
        assert_eq!(parse_reservation("2026-11-30", "0900", now).unwrap_err().code, ResultCode::InvalidReserveDate);
        assert_eq!(parse_reservation("20261340", "0900", now).unwrap_err().code, ResultCode::InvalidReserveDate);
        assert_eq!(parse_reservation("20261130", "2460", now).unwrap_err().code, ResultCode::InvalidReserveTime);
        assert_eq!(parse_reservation("20261130", "12", now).unwrap_err().code, ResultCode::InvalidReserveTime);
    }
}
