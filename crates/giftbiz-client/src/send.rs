//! The 0204 send request and its answer, and the 0203 resend channel.


use giftbiz_wire::coupon::SendResult;
use giftbiz_wire::params;

pub use giftbiz_wire::values::{Gubun, Pin};

/// A reserved send (`rev_info_yn=Y`): the MMS goes out at this KST date and time, between 5
/// minutes and 90 days ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// `yyyyMMdd`.
    pub date: String,
    /// `HHmm`, e.g. `1230`.
    pub time: String,
}

/// A 0204 send. `user_id` comes from the client's credentials.
///
/// ```
/// use giftbiz_client::{Gubun, SendRequest, TrIdGenerator};
///
/// let req = SendRequest::new(TrIdGenerator::default().generate(), "G00000280009", Gubun::Pin, "01012345678")
///     .callback_no("15880108")
///     .title("선물 도착")
///     .message("감사합니다. 선물이 도착했습니다.");
/// assert_eq!(req.gubun.code(), "Y");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    pub tr_id: String,
    pub goods_code: String,
    pub gubun: Gubun,
    /// The recipient's mobile number, digits only (`01012345678`).
    pub phone_no: String,
    /// The sender number shown to the recipient (8-12 digits).
    pub callback_no: String,
    /// `mms_title`: at most 20 characters (10 on some accounts).
    pub mms_title: String,
    /// `mms_msg`: at most 2000 characters.
    pub mms_msg: String,
    pub reservation: Option<Reservation>,
    pub template_id: Option<String>,
    pub banner_id: Option<String>,
}

impl SendRequest {
    /// The callback number, title and message start empty; the service requires all three.
    pub fn new(
        tr_id: impl Into<String>,
        goods_code: impl Into<String>,
        gubun: Gubun,
        phone_no: impl Into<String>,
    ) -> SendRequest {
        SendRequest {
            tr_id: tr_id.into(),
            goods_code: goods_code.into(),
            gubun,
            phone_no: phone_no.into(),
            callback_no: String::new(),
            mms_title: String::new(),
            mms_msg: String::new(),
            reservation: None,
            template_id: None,
            banner_id: None,
        }
    }

    pub fn callback_no(mut self, callback_no: impl Into<String>) -> SendRequest {
        self.callback_no = callback_no.into();
        self
    }

    pub fn title(mut self, title: impl Into<String>) -> SendRequest {
        self.mms_title = title.into();
        self
    }

    pub fn message(mut self, msg: impl Into<String>) -> SendRequest {
        self.mms_msg = msg.into();
        self
    }

    /// Sends the MMS at `date` (`yyyyMMdd`) `time` (`HHmm`), KST.
    pub fn reserve(mut self, date: impl Into<String>, time: impl Into<String>) -> SendRequest {
        self.reservation = Some(Reservation { date: date.into(), time: time.into() });
        self
    }

    pub fn template_id(mut self, id: impl Into<String>) -> SendRequest {
        self.template_id = Some(id.into());
        self
    }

    pub fn banner_id(mut self, id: impl Into<String>) -> SendRequest {
        self.banner_id = Some(id.into());
        self
    }

    /// The form fields, in the spec's names (without the common four and `user_id`).
    pub(crate) fn form(&self) -> Vec<(&'static str, String)> {
        let mut f = vec![
            (params::GOODS_CODE, self.goods_code.clone()),
            (params::MMS_MSG, self.mms_msg.clone()),
            (params::MMS_TITLE, self.mms_title.clone()),
            (params::CALLBACK_NO, self.callback_no.clone()),
            (params::PHONE_NO, self.phone_no.clone()),
            (params::TR_ID, self.tr_id.clone()),
            (params::GUBUN, self.gubun.code().to_owned()),
        ];
        match &self.reservation {
            Some(r) => f.extend([
                (params::REV_INFO_YN, "Y".to_owned()),
                (params::REV_INFO_DATE, r.date.clone()),
                (params::REV_INFO_TIME, r.time.clone()),
            ]),
            None => f.push((params::REV_INFO_YN, "N".to_owned())),
        }
        f.extend(self.template_id.iter().map(|t| (params::TEMPLATE_ID, t.clone())));
        f.extend(self.banner_id.iter().map(|b| (params::BANNER_ID, b.clone())));
        f
    }
}

/// What a successful send returns: the wire [`SendResult`] with the PIN wrapped so that
/// logging the value cannot leak it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub order_no: String,
    /// gubun `Y` and `I`.
    pub pin: Option<Pin>,
    /// gubun `I`: the coupon image (the URL holds a random token, never the PIN).
    pub coupon_img_url: Option<String>,
}

impl From<SendResult> for Sent {
    fn from(r: SendResult) -> Sent {
        Sent {
            order_no: r.order_no,
            pin: r.pin_no.filter(|p| !p.is_empty()).map(Pin::new),
            coupon_img_url: r.coupon_img_url.filter(|u| !u.is_empty()),
        }
    }
}

impl From<Sent> for SendResult {
    fn from(s: Sent) -> SendResult {
        SendResult { order_no: s.order_no, pin_no: s.pin.map(|p| p.expose().to_owned()), coupon_img_url: s.coupon_img_url }
    }
}

/// How 0203 sends the coupon again (`sms_flag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResendVia {
    /// `N` (the default): the MMS again.
    #[default]
    Mms,
    /// `Y`: an SMS with the PIN.
    Sms,
}

impl ResendVia {
    pub fn code(self) -> &'static str {
        match self {
            ResendVia::Mms => "N",
            ResendVia::Sms => "Y",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_never_show_in_debug_or_display() {
        let sent = Sent::from(SendResult { order_no: "1".into(), pin_no: Some("911259415286".into()), coupon_img_url: None });
        assert!(!format!("{sent:?} {}", sent.pin.as_ref().unwrap()).contains("9112"));
        assert_eq!(sent.pin.unwrap().expose(), "911259415286");
    }

    #[test]
    fn the_form_uses_the_spec_names() {
        let req = SendRequest::new("t1", "G1", Gubun::Mms, "01012345678").callback_no("15880108").reserve("20991231", "1230");
        let form = req.form();
        let get = |k: &str| form.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("gubun"), Some("N"));
        assert_eq!(get("rev_info_yn"), Some("Y"));
        assert_eq!(get("rev_info_time"), Some("1230"));
        assert_eq!(get("tr_id"), Some("t1"));
        assert_eq!(get("template_id"), None);
    }
}
