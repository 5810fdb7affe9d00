//! The catalog: goods (상품) and brands (브랜드) as the platform keeps them.
//!
//! A goods keeps every grade's price; the wire shows the caller's. Image URLs are either
//! absolute (imported from a live catalog dump) or `None`, meaning the platform renders the
//! image itself and the server makes the URL from its public base URL.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::time::kst;
use crate::{Grade, GradePrice, GradePrices, Won};

/// Why a text is not a goods or brand code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {0} is 1-50 letters, digits, '_' or '-'")]
pub struct InvalidCode(&'static str);

/// A catalog code (`G00000280811`, `BR00046`): 1-50 ASCII letters, digits, `_` or `-`. Parsed
/// where a code enters (a request, an import, a partner's brand list), so no other text can
/// reach a lookup or a stored row.
macro_rules! catalog_code {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<$name, InvalidCode> {
                let ok = (1..=50).contains(&raw.len())
                    && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if ok {
                    Ok($name(raw.to_owned()))
                } else {
                    Err(InvalidCode($what))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidCode;
            fn try_from(raw: String) -> Result<$name, InvalidCode> {
                $name::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

catalog_code!(
    /// `goodsCode`.
    GoodsCode,
    "goods code"
);
catalog_code!(
    /// `brandCode`.
    BrandCode,
    "brand code"
);

/// `goodsStateCd`. Withdrawn goods stay stored (coupons point at them) but leave the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GoodsState {
    #[serde(rename = "SALE")]
    Sale,
    #[serde(rename = "SUS")]
    Suspended,
    #[serde(rename = "DEL")]
    Withdrawn,
}

impl GoodsState {
    pub fn code(self) -> &'static str {
        match self {
            GoodsState::Sale => "SALE",
            GoodsState::Suspended => "SUS",
            GoodsState::Withdrawn => "DEL",
        }
    }

    pub fn parse(code: &str) -> Option<GoodsState> {
        match code {
            "SALE" => Some(GoodsState::Sale),
            "SUS" => Some(GoodsState::Suspended),
            "DEL" | "END" => Some(GoodsState::Withdrawn),
            _ => None,
        }
    }
}

/// How long an issued coupon is valid (`validPrdTypeCd`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Validity {
    /// `01`: a number of days from issue (`limitDay`).
    Days { days: i64 },
    /// `02`: a fixed last day (`validPrdDay`, yyyyMMdd, KST).
    Until { date: String },
}

impl Validity {
    pub fn type_cd(&self) -> &'static str {
        match self {
            Validity::Days { .. } => "01",
            Validity::Until { .. } => "02",
        }
    }
}

/// Image URLs of a goods; `None` = rendered by the platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsImages {
    pub small: Option<String>,
    pub big: Option<String>,
    pub desc_web: Option<String>,
    pub mms: Option<String>,
    pub brand_icon: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Goods {
    pub goods_code: GoodsCode,
    pub goods_no: i64,
    pub goods_name: String,
    pub brand_code: BrandCode,
    pub brand_name: String,
    pub content: String,
    pub content_add_desc: String,
    pub goods_type_cd: String,
    pub goods_type_nm: String,
    pub goods_type_dtl_nm: String,
    pub category1_seq: i64,
    pub category_name1: String,
    pub images: GoodsImages,
    /// 권장 소비자 가격.
    pub sale_price: Won,
    /// 공급사 할인 반영 가격.
    pub real_price: Won,
    pub prices: GradePrices,
    pub validity: Validity,
    pub srch_keyword: String,
    /// 판매종료일, as the live service writes it (`2999-12-30T15:00:00.000+0000`).
    pub end_date: String,
    pub goods_com_id: String,
    pub goods_com_name: String,
    pub affiliate_id: String,
    pub affiliate: String,
    pub exh_gender_cd: String,
    pub exh_age_cd: String,
    pub mms_reserve_flag: String,
    pub state: GoodsState,
    pub mms_barcd_create_yn: String,
    pub rm_cnt_flag: String,
    pub sale_date_flag_cd: String,
    pub sale_date_flag: String,
    pub rm_id_buy_cnt_flag_cd: String,
    pub md_code: String,
    pub popular: i64,
}

impl Goods {
    pub fn price_for(&self, grade: Grade) -> GradePrice {
        self.prices.for_grade(grade)
    }

    /// `limitDay` on the wire: the day count for type 01, 0 for a fixed date.
    pub fn limit_day(&self) -> i64 {
        match &self.validity {
            Validity::Days { days } => *days,
            Validity::Until { .. } => 0,
        }
    }

    /// `validPrdDay` on the wire: the end date for type 02, empty for a day count.
    pub fn valid_prd_day(&self) -> &str {
        match &self.validity {
            Validity::Days { .. } => "",
            Validity::Until { date } => date,
        }
    }

    /// The last instant a coupon issued at `issued_at` can be used: 23:59:59 KST of the last
    /// valid day (`limitDay` days after the issue date, or the fixed `validPrdDay`).
    pub fn valid_until(&self, issued_at: DateTime<Utc>) -> DateTime<Utc> {
        let issue_day = issued_at.with_timezone(&kst()).date_naive();
        let last_day = match &self.validity {
            Validity::Days { days } => issue_day + chrono::Days::new((*days).max(0) as u64),
            Validity::Until { date } => NaiveDate::parse_from_str(date, "%Y%m%d").unwrap_or(issue_day),
        };
        let end = last_day.and_hms_opt(23, 59, 59).expect("23:59:59 is a valid time");
        kst().from_local_datetime(&end).single().expect("KST has no gaps").with_timezone(&Utc)
    }

    /// Whether the goods can be sent now: on sale and, when it has one, before its sale end.
    pub fn is_on_sale(&self, now: DateTime<Utc>) -> bool {
        let ended = DateTime::parse_from_str(&self.end_date, "%Y-%m-%dT%H:%M:%S%.3f%z").is_ok_and(|end| end < now);
        self.state == GoodsState::Sale && !ended
    }

    pub fn is_listed(&self) -> bool {
        self.state != GoodsState::Withdrawn
    }
}

/// Brand images; `None` = rendered by the platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandImages {
    pub banner: Option<String>,
    pub icon: Option<String>,
    pub mms_thum: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brand {
    pub brand_code: BrandCode,
    pub brand_seq: i64,
    pub brand_name: String,
    pub content: String,
    pub category1_name: String,
    pub category1_seq: i64,
    pub category2_name: String,
    pub category2_seq: i64,
    pub sort: i64,
    pub images: BrandImages,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_goods() -> Goods {
        let json = r#"[{"goodsCode":"G1","goodsName":"아메리카노","brandCode":"B1","salePrice":4500}]"#;
        crate::catalog_import::parse_catalog(json).unwrap().goods.remove(0)
    }

    #[test]
    fn codes_are_letters_digits_underscores_and_hyphens() {
        assert_eq!(GoodsCode::parse("G00000280811").unwrap().as_str(), "G00000280811");
        assert!(BrandCode::parse("BR_0-1").is_ok());
        assert!(GoodsCode::parse(&"G".repeat(50)).is_ok());
        for bad in ["", " G1", "G1 ", "G\"1", "커피", "G\u{0}", &"G".repeat(51)] {
            assert_eq!(GoodsCode::parse(bad), Err(InvalidCode("goods code")), "{bad:?}");
        }
        // A stored document with a bad code is refused when it is read back.
        assert!(serde_json::from_str::<BrandCode>("\"BR 1\"").is_err());
        assert_eq!(serde_json::to_string(&BrandCode::parse("BR1").unwrap()).unwrap(), "\"BR1\"");
    }

    #[test]
    fn validity_ends_at_the_last_day_kst() {
        // 2020-12-02 10:00 KST, 30 days → 2021-01-01 23:59:59 KST, as the spec's example.
        let issued = kst().with_ymd_and_hms(2020, 12, 2, 10, 0, 0).unwrap().with_timezone(&Utc);
        let mut g = sample_goods();
        g.validity = Validity::Days { days: 30 };
        let end = g.valid_until(issued).with_timezone(&kst());
        assert_eq!(end.format("%Y%m%d%H%M%S").to_string(), "20210101235959");
        g.validity = Validity::Until { date: "20211231".into() };
        assert_eq!(g.valid_until(issued).with_timezone(&kst()).format("%Y%m%d%H%M%S").to_string(), "20211231235959");
    }

    #[test]
    fn sale_state_and_end_date_decide_whether_it_sells() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
        let mut g = sample_goods();
        assert!(g.is_on_sale(now));
        g.end_date = "2026-11-28T15:00:00.000+0000".into();
        assert!(!g.is_on_sale(now));
        g.end_date = String::new();
        g.state = GoodsState::Suspended;
        assert!(!g.is_on_sale(now));
    }
}
