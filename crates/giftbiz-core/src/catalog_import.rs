//! Parsing a catalog dump in the live service's own shapes into domain values.
//!
//! Accepted documents: a 0101 goods-list response, a 0102 brand-list response, a 0111/0112
//! detail response, their bare `result` objects, a bare array of goods or brands, or the
//! `{"goods": …, "brands": …}` document `giftbiz catalog export` writes. Each entry is read
//! through the wire types themselves (the keys are spelled once, there), tolerant the way live
//! data needs (numbers as strings, missing optional fields, a few variant spellings) and strict
//! where a wrong value would be stored: a missing code, name or price, or a negative price,
//! refuses the whole file, naming the entry and the field.

use giftbiz_wire::catalog::{Brand as WireBrand, GoodsDetail, GoodsListItem};
use giftbiz_wire::lenient;
use serde_json::{Map, Value};

use crate::catalog::{BrandImages, GoodsImages, InvalidCode, Validity};
use crate::{Brand, BrandCode, Goods, GoodsCode, GoodsState, GradePrice, GradePrices, Won};

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
        .map(|(i, b)| brand_from_wire(b).map_err(|problem| ImportError::Entry { what: "brand", index: i + 1, problem }))
        .collect::<Result<Vec<_>, _>>()?;
    let goods = goods_raw
        .iter()
        .enumerate()
        .map(|(i, g)| goods_from_wire(g).map_err(|problem| ImportError::Entry { what: "goods", index: i + 1, problem }))
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

/// Other spellings of a key, as hand-made and older dumps write them: (variant, wire key).
const GOODS_SPELLINGS: [(&str, &str); 2] = [("goodsimgS", "goodsImgS"), ("goodsimgB", "goodsImgB")];
const BRAND_SPELLINGS: [(&str, &str); 2] = [("brandIconImg", "brandIConImg"), ("mmsThumbImg", "mmsThumImg")];

/// An entry as the wire types read it: strings trimmed, a variant spelling moved to the wire's
/// key when that is absent or empty.
fn normalized(entry: &Map<String, Value>, spellings: &[(&str, &str)]) -> Map<String, Value> {
    let mut m = entry.clone();
    for v in m.values_mut() {
        if let Value::String(s) = v {
            if s.trim().len() != s.len() {
                *s = s.trim().to_owned();
            }
        }
    }
    for (variant, key) in spellings {
        if !present(&m, key) {
            if let Some(v) = m.remove(*variant) {
                m.insert((*key).to_owned(), v);
            }
        }
    }
    m
}

/// Whether the entry gives `key` a value (an empty string or null gives none).
fn present(m: &Map<String, Value>, key: &str) -> bool {
    !matches!(m.get(key), None | Some(Value::Null)) && m.get(key) != Some(&Value::String(String::new()))
}

/// Decodes the entry as wire type `T`, the live service's number-as-string variants allowed.
fn wire<T: serde::de::DeserializeOwned>(m: &Map<String, Value>) -> Result<T, String> {
    lenient::from_value(Value::Object(m.clone())).map_err(|e| e.to_string())
}

fn required(m: &Map<String, Value>, key: &str, value: String) -> Result<String, String> {
    if present(m, key) {
        Ok(value)
    } else {
        Err(format!("{key} is missing"))
    }
}

fn code<C>(m: &Map<String, Value>, key: &str, value: String, parse: fn(&str) -> Result<C, InvalidCode>) -> Result<C, String> {
    parse(&required(m, key, value)?).map_err(|e| format!("{key}: {e}"))
}

fn money(key: &str, n: i64) -> Result<Won, String> {
    if n < 0 {
        Err(format!("{key} {n} is negative"))
    } else {
        Ok(Won::new(n))
    }
}

/// A stored image URL: an empty one means the platform renders it.
fn image(url: String) -> Option<String> {
    Some(url).filter(|u| !u.is_empty())
}

/// A brand from its 0102/0112 shape.
pub fn brand_from_wire(entry: &Map<String, Value>) -> Result<Brand, String> {
    let m = normalized(entry, &BRAND_SPELLINGS);
    let b: WireBrand = wire(&m)?;
    Ok(Brand {
        brand_code: code(&m, "brandCode", b.brand_code, BrandCode::parse)?,
        brand_seq: b.brand_seq,
        brand_name: required(&m, "brandName", b.brand_name)?,
        content: b.content,
        category1_name: b.category1_name,
        category1_seq: b.category1_seq,
        category2_name: b.category2_name,
        category2_seq: b.category2_seq,
        sort: b.sort,
        images: BrandImages { banner: image(b.brand_banner_img), icon: image(b.brand_icon_img), mms_thum: image(b.mms_thum_img) },
    })
}

/// A goods from its 0101 list item, completed by the keys only the 0111 detail has (every
/// grade's price, the type code, the category name) when the entry carries them. The inverse
/// of the server's `catalog_view`; a value the entry lacks takes the catalog's default.
pub fn goods_from_wire(entry: &Map<String, Value>) -> Result<Goods, String> {
    let m = normalized(entry, &GOODS_SPELLINGS);
    let item: GoodsListItem = wire(&m)?;
    let detail: GoodsDetail = wire(&m)?;
    let has = |key: &str| present(&m, key);
    let sale_price = money("salePrice", item.sale_price)?;
    if !has("salePrice") {
        return Err("salePrice is missing".into());
    }
    let voucher = item.goods_type_nm.contains("상품권") || item.goods_type_nm.contains("금액권");
    let standard = GradePrices::standard(sale_price, voucher);
    let grade = |(price_key, price): (&str, i64), (rate_key, rate): (&str, i64), fallback: GradePrice| {
        Ok::<_, String>(GradePrice {
            price: if has(price_key) { money(price_key, price)? } else { fallback.price },
            rate: if has(rate_key) { rate } else { fallback.rate },
        })
    };
    // A dump's discountPrice is the dumping account's price; we take it as the basic grade's.
    let prices = GradePrices {
        basic: grade(("discountPrice", item.discount_price), ("discountRate", item.discount_rate), standard.basic)?,
        gold: grade(("goldPrice", detail.gold_price), ("goldDiscountRate", detail.gold_discount_rate), standard.gold)?,
        vip: grade(("vipPrice", detail.vip_price), ("vipDiscountRate", detail.vip_discount_rate), standard.vip)?,
        platinum: grade(
            ("platinumPrice", detail.platinum_price),
            ("platinumDiscountRate", detail.platinum_discount_rate),
            standard.platinum,
        )?,
    };
    let validity = match item.valid_prd_type_cd.as_str() {
        "02" => {
            let date = required(&m, "validPrdDay", item.valid_prd_day)?;
            if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("validPrdDay {date:?} is not yyyyMMdd"));
            }
            Validity::Until { date }
        }
        "01" | "" => Validity::Days { days: if item.limit_day > 0 { item.limit_day } else { 30 } },
        other => return Err(format!("validPrdTypeCd {other:?} is not 01 or 02")),
    };
    let state = match item.goods_state_cd.as_str() {
        "" => GoodsState::Sale,
        cd => GoodsState::parse(cd).ok_or_else(|| format!("goodsStateCd {cd:?} is not SALE or SUS"))?,
    };
    Ok(Goods {
        goods_code: code(&m, "goodsCode", item.goods_code, GoodsCode::parse)?,
        goods_no: item.goods_no,
        goods_name: required(&m, "goodsName", item.goods_name)?,
        brand_code: code(&m, "brandCode", item.brand_code, BrandCode::parse)?,
        brand_name: item.brand_name,
        content: item.content,
        content_add_desc: item.content_add_desc,
        goods_type_cd: detail.goods_type_cd,
        goods_type_nm: item.goods_type_nm,
        goods_type_dtl_nm: item.goods_type_dtl_nm,
        category1_seq: if has("category1Seq") { item.category1_seq } else { detail.category_seq1 },
        category_name1: detail.category_name1,
        images: GoodsImages {
            small: image(item.goods_img_s),
            big: image(item.goods_img_b),
            desc_web: image(item.goods_desc_img_web),
            mms: image(item.mms_goods_img),
            brand_icon: image(item.brand_icon_img),
        },
        sale_price,
        real_price: if has("realPrice") { money("realPrice", item.real_price)? } else { sale_price },
        prices,
        validity,
        srch_keyword: item.srch_keyword,
        end_date: item.end_date,
        goods_com_id: item.goods_com_id,
        goods_com_name: item.goods_com_name,
        affiliate_id: item.affiliate_id,
        affiliate: item.affiliate,
        exh_gender_cd: item.exh_gender_cd,
        exh_age_cd: item.exh_age_cd,
        mms_reserve_flag: item.mms_reserve_flag,
        state,
        mms_barcd_create_yn: item.mms_barcd_create_yn,
        rm_cnt_flag: item.rm_cnt_flag,
        sale_date_flag_cd: item.sale_date_flag_cd,
        sale_date_flag: item.sale_date_flag,
        rm_id_buy_cnt_flag_cd: item.rm_id_buy_cnt_flag_cd,
        md_code: item.md_code,
        popular: item.popular,
    })
}

/// What an import would change in the stored catalog (the console's preview): an import only
/// adds and updates, by code; nothing it does not name is touched.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportPreview {
    /// Brand codes and names the catalog does not hold yet.
    pub new_brands: Vec<(String, String)>,
    pub changed_brands: Vec<(String, String)>,
    pub new_goods: Vec<GoodsChange>,
    pub changed_goods: Vec<GoodsChange>,
    /// Entries the import names that are stored exactly so already.
    pub unchanged: usize,
}

/// A goods the import adds or changes, and (when changed) what changes, as `field: old → new`.
#[derive(Debug, PartialEq, Eq)]
pub struct GoodsChange {
    pub goods_code: String,
    pub goods_name: String,
    pub changes: Vec<String>,
}

impl ImportPreview {
    pub fn is_empty(&self) -> bool {
        self.new_brands.is_empty() && self.changed_brands.is_empty() && self.new_goods.is_empty() && self.changed_goods.is_empty()
    }
}

/// Compares a parsed import with what is stored.
pub fn preview(parsed: &ParsedCatalog, stored_brands: &[Brand], stored_goods: &[Goods]) -> ImportPreview {
    use std::collections::HashMap;
    let brands: HashMap<_, _> = stored_brands.iter().map(|b| (&b.brand_code, b)).collect();
    let goods: HashMap<_, _> = stored_goods.iter().map(|g| (&g.goods_code, g)).collect();
    let mut out = ImportPreview::default();
    for b in &parsed.brands {
        let named = (b.brand_code.to_string(), b.brand_name.clone());
        match brands.get(&b.brand_code) {
            None => out.new_brands.push(named),
            Some(old) if *old != b => out.changed_brands.push(named),
            Some(_) => out.unchanged += 1,
        }
    }
    for g in &parsed.goods {
        let Some(old) = goods.get(&g.goods_code) else {
            out.new_goods.push(GoodsChange { goods_code: g.goods_code.to_string(), goods_name: g.goods_name.clone(), changes: Vec::new() });
            continue;
        };
        if *old == g {
            out.unchanged += 1;
            continue;
        }
        let mut changes = Vec::new();
        let mut differs = |field: &str, old: String, new: String| {
            if old != new {
                changes.push(format!("{field}: {old} → {new}"));
            }
        };
        differs("goodsName", old.goods_name.clone(), g.goods_name.clone());
        differs("brandCode", old.brand_code.to_string(), g.brand_code.to_string());
        differs("salePrice", old.sale_price.to_string(), g.sale_price.to_string());
        for grade in crate::Grade::ALL {
            differs(&format!("price ({grade})"), old.prices.for_grade(grade).price.to_string(), g.prices.for_grade(grade).price.to_string());
        }
        differs("goodsStateCd", old.state.code().to_owned(), g.state.code().to_owned());
        differs("endDate", old.end_date.clone(), g.end_date.clone());
        if changes.is_empty() {
            changes.push("other fields".to_owned());
        }
        out.changed_goods.push(GoodsChange { goods_code: g.goods_code.to_string(), goods_name: g.goods_name.clone(), changes });
    }
    out
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
        assert_eq!(g.prices.basic, GradePrice { price: Won::new(750), rate: 6 });
        assert_eq!(g.real_price, Won::new(800));
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

    #[test]
    fn a_preview_names_what_changes() {
        let stored = parse_catalog(LIVE_0101).unwrap();
        let same = parse_catalog(LIVE_0101).unwrap();
        let p = preview(&same, &stored.brands, &stored.goods);
        assert!(p.is_empty());
        assert_eq!(p.unchanged, 1);

        let changed = parse_catalog(&LIVE_0101.replace(r#""salePrice":800"#, r#""salePrice":900"#).replace("SALE", "SUS")).unwrap();
        let p = preview(&changed, &stored.brands, &stored.goods);
        assert_eq!(p.changed_goods.len(), 1);
        // The dump's discountPrice (basic) stays; the other grades follow the sale price.
        assert_eq!(
            p.changed_goods[0].changes,
            ["salePrice: 800 → 900", "price (gold): 740 → 830", "price (vip): 720 → 810", "price (platinum): 700 → 790", "goodsStateCd: SALE → SUS"]
        );

        let p = preview(&changed, &[], &[]);
        assert_eq!((p.new_goods.len(), p.changed_goods.len(), p.unchanged), (1, 0, 0));
    }
}
