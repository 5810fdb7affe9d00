//! Catalog responses: 0101 goods list, 0111 goods detail, 0102 brands, 0112 brand detail.
//!
//! Field spellings follow what live clients read (NOTES §2), not the spec's typos. Numbers are
//! JSON integers; codes, names and flags are strings.

use serde::{Deserialize, Serialize};

/// 0101 `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GoodsListResult {
    /// The total the list pages through (not the page's count), as paging loops need.
    pub list_num: u64,
    pub goods_list: Vec<GoodsListItem>,
}

/// One entry of the 0101 goods list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GoodsListItem {
    pub goods_code: String,
    pub goods_no: i64,
    pub goods_name: String,
    pub brand_code: String,
    pub brand_name: String,
    pub content: String,
    pub content_add_desc: String,
    /// The calling account's grade discount rate (percent).
    pub discount_rate: i64,
    pub goods_type_nm: String,
    pub goods_img_s: String,
    pub goods_img_b: String,
    pub goods_desc_img_web: String,
    pub brand_icon_img: String,
    pub mms_goods_img: String,
    /// The calling account's grade price.
    pub discount_price: i64,
    pub real_price: i64,
    pub sale_price: i64,
    pub srch_keyword: String,
    /// `01` = a number of days (`limitDay`), `02` = a fixed end date (`validPrdDay`).
    pub valid_prd_type_cd: String,
    pub limit_day: i64,
    pub valid_prd_day: String,
    pub end_date: String,
    pub goods_com_id: String,
    pub goods_com_name: String,
    pub affiliate_id: String,
    pub affiliate: String,
    pub exh_gender_cd: String,
    pub exh_age_cd: String,
    pub mms_reserve_flag: String,
    /// `SALE` or `SUS`.
    pub goods_state_cd: String,
    pub mms_barcd_create_yn: String,
    pub rm_cnt_flag: String,
    pub sale_date_flag_cd: String,
    pub goods_type_dtl_nm: String,
    pub category1_seq: i64,
    pub sale_date_flag: String,
    pub rm_id_buy_cnt_flag_cd: String,
    pub md_code: String,
    pub popular: i64,
}

/// 0111 `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GoodsDetailResult {
    pub goods_detail: GoodsDetail,
}

/// 0111 goods detail: every grade's price and rate; `discountPrice` is the caller's grade price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GoodsDetail {
    pub goods_no: i64,
    pub goods_code: String,
    pub goods_name: String,
    pub brand_code: String,
    pub brand_name: String,
    pub content: String,
    pub content_add_desc: String,
    pub goods_type_cd: String,
    pub goods_type_nm: String,
    pub goods_img_s: String,
    pub goods_img_b: String,
    pub goods_desc_img_web: String,
    pub brand_icon_img: String,
    pub mms_goods_img: String,
    pub real_price: i64,
    pub sale_price: i64,
    pub category_name1: String,
    pub rm_id_buy_cnt_flag_cd: String,
    pub discount_rate: i64,
    pub discount_price: i64,
    pub gold_price: i64,
    pub vip_price: i64,
    pub platinum_price: i64,
    pub gold_discount_rate: i64,
    pub vip_discount_rate: i64,
    pub platinum_discount_rate: i64,
    pub goods_state_cd: String,
    pub rm_cnt_flag: String,
    pub goods_type_dtl_nm: String,
    pub sale_date_flag_cd: String,
    pub sale_date_flag: String,
    pub mms_reserve_flag: String,
    /// Spelled `categorySeq1` in the detail, `category1Seq` in the list.
    pub category_seq1: i64,
    pub limit_day: i64,
    pub affiliate: String,
    pub md_code: String,
}

/// 0102 `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BrandListResult {
    pub list_num: u64,
    pub brand_list: Vec<Brand>,
}

/// 0112 `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BrandDetailResult {
    pub brand_detail: Brand,
}

/// A brand, the same shape in the list (0102) and the detail (0112).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Brand {
    pub brand_seq: i64,
    pub brand_code: String,
    pub brand_name: String,
    pub brand_banner_img: String,
    /// Capital C, as the live service spells it.
    #[serde(rename = "brandIConImg")]
    pub brand_icon_img: String,
    pub mms_thum_img: String,
    pub content: String,
    pub category1_name: String,
    pub category1_seq: i64,
    pub category2_name: String,
    pub category2_seq: i64,
    pub sort: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brand_icon_key_is_spelled_like_the_live_service() {
        let b = Brand {
            brand_seq: 1,
            brand_code: "BR00001".into(),
            brand_name: "스타벅스".into(),
            brand_banner_img: String::new(),
            brand_icon_img: "i".into(),
            mms_thum_img: String::new(),
            content: String::new(),
            category1_name: "커피/음료".into(),
            category1_seq: 1,
            category2_name: String::new(),
            category2_seq: 0,
            sort: 1,
        };
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(v["brandIConImg"], "i");
        assert!(v.get("brandIconImg").is_none());
        assert_eq!(v["category1Seq"], 1);
    }
}
