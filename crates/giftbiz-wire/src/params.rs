//! Request parameter names, exactly as the spec spells them.

pub const API_CODE: &str = "api_code";
pub const CUSTOM_AUTH_CODE: &str = "custom_auth_code";
pub const CUSTOM_AUTH_TOKEN: &str = "custom_auth_token";
pub const DEV_YN: &str = "dev_yn";
/// Older clients send the test flag under its v0.0.2 header name.
pub const DEV_FLAG: &str = "dev_flag";
pub const START: &str = "start";
pub const SIZE: &str = "size";
pub const GOODS_CODE: &str = "goods_code";
pub const BRAND_CODE: &str = "brand_code";
pub const TR_ID: &str = "tr_id";
pub const USER_ID: &str = "user_id";
pub const SMS_FLAG: &str = "sms_flag";
pub const ORDER_NO: &str = "order_no";
pub const MMS_MSG: &str = "mms_msg";
pub const MMS_TITLE: &str = "mms_title";
pub const CALLBACK_NO: &str = "callback_no";
pub const PHONE_NO: &str = "phone_no";
pub const REV_INFO_YN: &str = "rev_info_yn";
pub const REV_INFO_DATE: &str = "rev_info_date";
pub const REV_INFO_TIME: &str = "rev_info_time";
pub const TEMPLATE_ID: &str = "template_id";
pub const BANNER_ID: &str = "banner_id";
pub const GUBUN: &str = "gubun";

/// The four common fields, which may also arrive as HTTP headers.
pub const COMMON: [&str; 4] = [API_CODE, CUSTOM_AUTH_CODE, CUSTOM_AUTH_TOKEN, DEV_YN];

/// A `phone_no` as it may be shown in logs and local files: `010****5678`, the first three and
/// last four digits; fewer than eight digits are masked whole. Anything but digits is dropped,
/// so raw input never shows through.
pub fn mask_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len();
    if n < 8 {
        return "*".repeat(n);
    }
    format!("{}{}{}", &digits[..3], "*".repeat(n - 7), &digits[n - 4..])
}

#[cfg(test)]
mod tests {
    use super::mask_phone;

    #[test]
    fn phones_are_masked() {
        assert_eq!(mask_phone("01012345678"), "010****5678");
        assert_eq!(mask_phone("0101234567"), "010***4567");
        assert_eq!(mask_phone("010-1234-5678"), "010****5678");
        assert_eq!(mask_phone("1234567"), "*******");
        assert_eq!(mask_phone("123"), "***");
    }
}
