//! Transaction responses: 0204 send, 0201 coupon detail, 0301 bizmoney.

use serde::{Deserialize, Serialize};

/// The inner `result` of a 0204 send (which nests the envelope twice).
/// gubun N returns only `orderNo`; Y adds `pinNo`; I adds `pinNo` and `couponImgUrl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SendResult {
    pub order_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_img_url: Option<String>,
}

/// One element of the 0201 `result` array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CouponDetailResult {
    pub coupon_info_list: Vec<CouponInfo>,
    pub res_code: String,
    pub res_msg: String,
}

/// A 0201 coupon entry: exactly these 17 keys, all strings or null (a widely used Java client
/// deserialises strictly and fails on any other key).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CouponInfo {
    pub goods_cd: Option<String>,
    pub pin_status_cd: Option<String>,
    pub goods_nm: Option<String>,
    pub sell_price_amt: Option<String>,
    pub sender_tel_no: Option<String>,
    pub cnsm_price_amt: Option<String>,
    pub send_rst_cd: Option<String>,
    pub pin_status_nm: Option<String>,
    pub mms_brand_thum_img: Option<String>,
    pub brand_nm: Option<String>,
    pub send_rst_msg: Option<String>,
    pub correc_dtm: Option<String>,
    pub recver_tel_no: Option<String>,
    /// `yyyyMMddHHmmss`, KST.
    pub valid_prd_end_dt: Option<String>,
    pub send_basic_cd: Option<String>,
    pub send_status_cd: Option<String>,
    pub remain_amt: Option<String>,
}

/// 0301 `result`; the server also repeats `balance` at the envelope's top level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BizmoneyResult {
    /// Whole KRW as a digit string.
    pub balance: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coupon_info_has_exactly_17_keys() {
        let v = serde_json::to_value(CouponInfo::default()).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 17);
        assert!(v.get("cnsmPriceAmt").is_some());
    }

    #[test]
    fn send_result_omits_absent_pin_and_image() {
        let r = SendResult { order_no: "20251204606145".into(), pin_no: None, coupon_img_url: None };
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"orderNo":"20251204606145"}"#);
    }
}
