//! Parsing a catalog dump in the live service's own shapes into domain values.
//!
//! Accepted documents: a 0101 goods-list response, a 0102 brand-list response, a 0111/0112
//! detail response, their bare `result` objects, a bare array of goods or brands, or the
//! `{"goods": …, "brands": …}` document `giftbiz catalog export` writes. Parsing is tolerant
//! the way live data needs (numbers as strings, missing optional fields) and strict where a
//! wrong value would be stored: a missing code, name or price, or a negative price, refuses the
//! whole file, naming the entry and the field.

use serde_json::{Map, Value};

use crate::catalog::{BrandImages, GoodsImages, Validity};
use crate::{Brand, Goods, GoodsState, GradePrice, GradePrices};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("no goods or brands found (expected a 0101/0102 response, its result, or an export file)")]
    NothingFound,
    #[error("{what} #{index}: {problem}")]
    Entry { what: &'static str, index: usize, problem: String },
}

#[derive(Debug, Default)]
pub struct ParsedCatalog {
    pub brands: Vec<Brand>,
    pub goods: Vec<Goods>,
}

impl ParsedCatalog {
    /// A 0101 goods entry carries no category name (only the detail does) and may lack the
    /// brand name: take them from the brands, those of the dump or those already stored.
    pub fn fill_from_brands(&mut self, brands: &[Brand]) {
        for g in self.goods.iter_mut() {
            if g.category_name1.is_empty() {
                if let Some(b) = brands.iter().find(|b| b.category1_seq == g.category1_seq && !b.category1_name.is_empty()) {
                    g.category_name1 = b.category1_name.clone();
                }
            }
            if g.brand_name.is_empty() {
                if let Some(b) = brands.iter().find(|b| b.brand_code == g.brand_code) {
                    g.brand_name = b.brand_name.clone();
                }
            }
        }
    }
}

pub fn parse_catalog(text: &str) -> Result<ParsedCatalog, ImportError> {
    let doc: Value = serde_json::from_str(text)?;
    let mut goods_raw = Vec::new();
    let mut brands_raw = Vec::new();
    collect(&doc, &mut goods_raw, &mut brands_raw, 0);
    if goods_raw.is_empty() && brands_raw.is_empty() {
        return Err(ImportError::NothingFound);
    }
    let brands = brands_raw
        .iter()
        .enumerate()
        .map(|(i, b)| parse_brand(b).map_err(|problem| ImportError::Entry { what: "brand", index: i + 1, problem }))
        .collect::<Result<Vec<_>, _>>()?;
    let goods = goods_raw
        .iter()
        .enumerate()
        .map(|(i, g)| parse_goods(g).map_err(|problem| ImportError::Entry { what: "goods", index: i + 1, problem }))
        .collect::<Result<Vec<_>, _>>()?;
    let mut parsed = ParsedCatalog { brands, goods };
    let brands = parsed.brands.clone();
    parsed.fill_from_brands(&brands);
    Ok(parsed)
}

/// Walks the known wrappers (envelope `result`, export keys, lists) down to goods and brands.
fn collect<'a>(v: &'a Value, goods: &mut Vec<&'a Map<String, Value>>, brands: &mut Vec<&'a Map<String, Value>>, depth: u8) {
    if depth > 4 {
        return;
    }
    match v {
        Value::Array(items) => {
            for item in items {
                collect(item, goods, brands, depth + 1);
            }
        }
        Value::Object(map) if map.contains_key("goodsCode") => goods.push(map),
        Value::Object(map) if map.contains_key("brandCode") && map.contains_key("brandName") => brands.push(map),
        Value::Object(map) => {
            for key in ["result", "goods", "brands", "goodsList", "brandList", "goodsDetail", "brandDetail"] {
                if let Some(inner) = map.get(key) {
                    collect(inner, goods, brands, depth + 1);
                }
            }
        }
        _ => {}
    }
}

fn text(m: &Map<String, Value>, key: &str) -> String {
    match m.get(key) {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn required_text(m: &Map<String, Value>, key: &str) -> Result<String, String> {
    let s = text(m, key);
    if s.is_empty() {
        Err(format!("{key} is missing"))
    } else {
        Ok(s)
    }
}

/// An integer sent as a number or a digit string; `None` when absent or empty.
fn int(m: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| format!("{key} is not a whole number")),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| format!("{key} {s:?} is not a whole number")),
        Some(_) => Err(format!("{key} is not a number")),
    }
}

fn money(m: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match int(m, key)? {
        Some(n) if n < 0 => Err(format!("{key} {n} is negative")),
        other => Ok(other),
    }
}

fn url(m: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().map(|k| text(m, k)).find(|s| !s.is_empty())
}

fn parse_brand(m: &Map<String, Value>) -> Result<Brand, String> {
    Ok(Brand {
        brand_code: required_text(m, "brandCode")?,
        brand_seq: int(m, "brandSeq")?.unwrap_or(0),
        brand_name: required_text(m, "brandName")?,
        content: text(m, "content"),
        category1_name: text(m, "category1Name"),
        category1_seq: int(m, "category1Seq")?.unwrap_or(0),
        category2_name: text(m, "category2Name"),
        category2_seq: int(m, "category2Seq")?.unwrap_or(0),
        sort: int(m, "sort")?.unwrap_or(0),
        images: BrandImages {
            banner: url(m, &["brandBannerImg"]),
            icon: url(m, &["brandIConImg", "brandIconImg"]),
            mms_thum: url(m, &["mmsThumImg", "mmsThumbImg"]),
        },
    })
}

fn parse_goods(m: &Map<String, Value>) -> Result<Goods, String> {
    let sale_price = money(m, "salePrice")?.ok_or("salePrice is missing")?;
    let type_nm = text(m, "goodsTypeNm");
    let voucher = type_nm.contains("상품권") || type_nm.contains("금액권");
    let standard = GradePrices::standard(sale_price, voucher);
    let grade = |price_key: &str, rate_key: &str, fallback: GradePrice| -> Result<GradePrice, String> {
        Ok(GradePrice {
            price: money(m, price_key)?.unwrap_or(fallback.price),
            rate: int(m, rate_key)?.unwrap_or(fallback.rate),
        })
    };
    // A dump's discountPrice is the dumping account's price; we take it as the basic grade's.
    let prices = GradePrices {
        basic: grade("discountPrice", "discountRate", standard.basic)?,
        gold: grade("goldPrice", "goldDiscountRate", standard.gold)?,
        vip: grade("vipPrice", "vipDiscountRate", standard.vip)?,
        platinum: grade("platinumPrice", "platinumDiscountRate", standard.platinum)?,
    };
    let validity = match text(m, "validPrdTypeCd").as_str() {
        "02" => {
            let date = required_text(m, "validPrdDay")?;
            if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("validPrdDay {date:?} is not yyyyMMdd"));
            }
            Validity::Until { date }
        }
        "01" | "" => Validity::Days { days: int(m, "limitDay")?.filter(|d| *d > 0).unwrap_or(30) },
        other => return Err(format!("validPrdTypeCd {other:?} is not 01 or 02")),
    };
    let state_cd = text(m, "goodsStateCd");
    let state = if state_cd.is_empty() {
        GoodsState::Sale
    } else {
        GoodsState::parse(&state_cd).ok_or_else(|| format!("goodsStateCd {state_cd:?} is not SALE or SUS"))?
    };
    let brand_code = required_text(m, "brandCode")?;
    let category1_seq = int(m, "category1Seq")?.or(int(m, "categorySeq1")?).unwrap_or(0);
    Ok(Goods {
        goods_code: required_text(m, "goodsCode")?,
        goods_no: int(m, "goodsNo")?.unwrap_or(0),
        goods_name: required_text(m, "goodsName")?,
        brand_name: text(m, "brandName"),
        brand_code,
        content: text(m, "content"),
        content_add_desc: text(m, "contentAddDesc"),
        goods_type_cd: text(m, "goodsTypeCd"),
        goods_type_nm: type_nm,
        goods_type_dtl_nm: text(m, "goodsTypeDtlNm"),
        category1_seq,
        category_name1: text(m, "categoryName1"),
        images: GoodsImages {
            small: url(m, &["goodsImgS", "goodsimgS"]),
            big: url(m, &["goodsImgB", "goodsimgB"]),
            desc_web: url(m, &["goodsDescImgWeb"]),
            mms: url(m, &["mmsGoodsImg"]),
            brand_icon: url(m, &["brandIconImg"]),
        },
        sale_price,
        real_price: money(m, "realPrice")?.unwrap_or(sale_price),
        prices,
        validity,
        srch_keyword: text(m, "srchKeyword"),
        end_date: text(m, "endDate"),
        goods_com_id: text(m, "goodsComId"),
        goods_com_name: text(m, "goodsComName"),
        affiliate_id: text(m, "affiliateId"),
        affiliate: text(m, "affiliate"),
        exh_gender_cd: text(m, "exhGenderCd"),
        exh_age_cd: text(m, "exhAgeCd"),
        mms_reserve_flag: text(m, "mmsReserveFlag"),
        state,
        mms_barcd_create_yn: text(m, "mmsBarcdCreateYn"),
        rm_cnt_flag: text(m, "rmCntFlag"),
        sale_date_flag_cd: text(m, "saleDateFlagCd"),
        sale_date_flag: text(m, "saleDateFlag"),
        rm_id_buy_cnt_flag_cd: text(m, "rmIdBuyCntFlagCd"),
        md_code: text(m, "mdCode"),
        popular: int(m, "popular")?.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE_0101: &str = r#"{"code":"0000","message":null,"result":{"listNum":1,"goodsList":[{
        "goodsCode":"G00000280811","goodsNo":21445,"goodsName":"광동)비타500 100ml 병","brandCode":"BR00046",
        "brandName":"세븐일레븐","discountPrice":750,"discountRate":6,"salePrice":800,"realPrice":"800",
        "validPrdTypeCd":"01","limitDay":30,"goodsStateCd":"SALE","category1Seq":4,
        "goodsImgS":"https://biz.giftishow.com/Resource/goods/G00000280811/G00000280811_250.jpg"}]}}"#;

    #[test]
    fn a_live_goods_list_loads_as_is() {
        let c = parse_catalog(LIVE_0101).unwrap();
        assert_eq!(c.goods.len(), 1);
        let g = &c.goods[0];
        assert_eq!(g.prices.basic, GradePrice { price: 750, rate: 6 });
        assert_eq!(g.real_price, 800);
        assert_eq!(g.validity, Validity::Days { days: 30 });
        assert!(g.images.small.as_deref().unwrap().starts_with("https://"));
        assert_eq!(g.images.big, None);
    }

    #[test]
    fn brands_accept_both_icon_spellings() {
        let c = parse_catalog(
            r#"{"result":{"brandList":[{"brandCode":"BR1","brandName":"BHC","brandIConImg":"https://x/i.jpg","sort":"2"}]}}"#,
        )
        .unwrap();
        assert_eq!(c.brands[0].images.icon.as_deref(), Some("https://x/i.jpg"));
        assert_eq!(c.brands[0].sort, 2);
    }

    #[test]
    fn bad_entries_are_named() {
        let err = parse_catalog(r#"[{"goodsCode":"G1","goodsName":"x","brandCode":"B","salePrice":-5}]"#).unwrap_err();
        assert_eq!(err.to_string(), "goods #1: salePrice -5 is negative");
        let err = parse_catalog(r#"[{"goodsCode":"G1","brandCode":"B","salePrice":5}]"#).unwrap_err();
        assert_eq!(err.to_string(), "goods #1: goodsName is missing");
        assert!(matches!(parse_catalog("{}"), Err(ImportError::NothingFound)));
        assert!(matches!(parse_catalog("nope"), Err(ImportError::NotJson(_))));
    }
}
