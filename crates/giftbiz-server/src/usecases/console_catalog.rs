//! What the console does with the catalog: goods and brands with search and filters, a goods
//! put on sale or suspended, a grade's price set, an import previewed and then loaded. The
//! changes go through the operator functions the CLI uses (`crate::operator`), each audited.

use giftbiz_core::catalog_import::ImportPreview;
use giftbiz_core::console::Capability;
use giftbiz_core::{Brand, Goods, GoodsCode, GoodsState, Grade, Store, Won};

use super::console_accounts::{reason_of, record, require, Actor, ConsoleError};
use crate::operator;

/// Goods shown at most per search.
pub const GOODS_LIMIT: usize = 200;

/// The goods list's filters, each optional.
#[derive(Default, serde::Deserialize)]
pub struct GoodsFilter {
    /// A word of the name, brand name, search keywords or code.
    pub q: Option<String>,
    pub brand: Option<String>,
    /// `SALE`, `SUS` or `DEL`.
    pub state: Option<String>,
}

/// Goods that pass the filter, by goods number, at most [`GOODS_LIMIT`]; and how many passed.
pub async fn goods(store: &dyn Store, filter: &GoodsFilter) -> Result<(Vec<Goods>, usize), ConsoleError> {
    let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase);
    let brand = filter.brand.as_deref().map(str::trim).filter(|b| !b.is_empty());
    let state = match filter.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => Some(GoodsState::parse(code).ok_or(ConsoleError::Invalid("state is SALE, SUS or DEL"))?),
        None => None,
    };
    let matching: Vec<Goods> = store
        .all_goods()
        .await?
        .into_iter()
        .filter(|g| brand.is_none_or(|b| g.brand_code.as_str() == b))
        .filter(|g| state.is_none_or(|s| g.state == s))
        .filter(|g| {
            q.as_ref().is_none_or(|q| {
                [g.goods_name.as_str(), g.brand_name.as_str(), g.srch_keyword.as_str(), g.goods_code.as_str()]
                    .iter()
                    .any(|field| field.to_lowercase().contains(q.as_str()))
            })
        })
        .collect();
    let total = matching.len();
    Ok((matching.into_iter().take(GOODS_LIMIT).collect(), total))
}

/// Brands whose name or code contains `q`, with how many listed goods each has.
pub async fn brands(store: &dyn Store, q: Option<&str>) -> Result<Vec<(Brand, usize)>, ConsoleError> {
    let q = q.map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase);
    let mut listed: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for g in store.all_goods().await?.into_iter().filter(Goods::is_listed) {
        *listed.entry(g.brand_code).or_default() += 1;
    }
    let mut brands = store.all_brands().await?;
    brands.retain(|b| q.as_ref().is_none_or(|q| b.brand_name.to_lowercase().contains(q.as_str()) || b.brand_code.as_str().to_lowercase().contains(q.as_str())));
    Ok(brands
        .into_iter()
        .map(|b| {
            let count = listed.get(&b.brand_code).copied().unwrap_or(0);
            (b, count)
        })
        .collect())
}

/// Every brand's code and name, for the goods list's brand filter (no goods read).
pub async fn brand_choices(store: &dyn Store) -> Result<Vec<(String, String)>, ConsoleError> {
    Ok(store.all_brands().await?.into_iter().map(|b| (b.brand_code.to_string(), b.brand_name)).collect())
}

pub async fn goods_detail(store: &dyn Store, goods_code: &str) -> Result<Goods, ConsoleError> {
    let code = GoodsCode::parse(goods_code).map_err(|_| ConsoleError::NotFound("no goods has that code"))?;
    store.goods_by_code(&code).await?.ok_or(ConsoleError::NotFound("no goods has that code"))
}

/// Puts a goods on sale or suspends it, audited with the reason.
pub async fn set_state(store: &dyn Store, actor: &Actor<'_>, goods_code: &str, state: &str, reason: &str) -> Result<(), ConsoleError> {
    require(actor, Capability::Catalog)?;
    let reason = reason_of(reason)?;
    let state = match state {
        "SALE" => GoodsState::Sale,
        "SUS" => GoodsState::Suspended,
        _ => return Err(ConsoleError::Invalid("state is SALE or SUS")),
    };
    let goods = goods_detail(store, goods_code).await?;
    if !goods.is_listed() {
        return Err(ConsoleError::Invalid("the goods is withdrawn"));
    }
    let (before, after) = operator::set_goods_state(store, &goods.goods_code, state).await?;
    let json = |g: &Goods| Some(serde_json::json!({ "goodsStateCd": g.state.code() }).to_string());
    record(store, actor, "goods.state", target(&goods.goods_code), json(&before), json(&after), reason).await
}

/// Sets one grade's price (whole won, above zero, at most the sale price), audited.
pub async fn set_grade_price(store: &dyn Store, actor: &Actor<'_>, goods_code: &str, grade: &str, price: &str, reason: &str) -> Result<(), ConsoleError> {
    require(actor, Capability::Catalog)?;
    let reason = reason_of(reason)?;
    let grade: Grade = grade.parse().map_err(|_| ConsoleError::Invalid("grade is basic, gold, vip or platinum"))?;
    let price: i64 = price.trim().replace(',', "").parse().map_err(|_| ConsoleError::Invalid("the price is a whole number of won"))?;
    let goods = goods_detail(store, goods_code).await?;
    if price <= 0 || price > goods.sale_price.get() {
        return Err(ConsoleError::Invalid("a grade price is above zero and at most the sale price"));
    }
    if !goods.is_listed() {
        return Err(ConsoleError::Invalid("the goods is withdrawn"));
    }
    let (before, after) = operator::set_grade_price(store, &goods.goods_code, grade, Won::new(price)).await?;
    let json = |g: &Goods| {
        let p = g.prices.for_grade(grade);
        Some(serde_json::json!({ "grade": grade.as_str(), "price": p.price.get(), "rate": p.rate }).to_string())
    };
    record(store, actor, "goods.grade_price", target(&goods.goods_code), json(&before), json(&after), reason).await
}

fn target(code: &GoodsCode) -> String {
    format!("goods:{code}")
}

/// What an import of `text` (a catalog dump) would change; changes nothing.
pub async fn preview_import(store: &dyn Store, actor: &Actor<'_>, text: &str) -> Result<ImportPreview, ConsoleError> {
    require(actor, Capability::Catalog)?;
    operator::preview_catalog_import(store, &[upload()], &[text.to_owned()]).await.map_err(invalid_dump)
}

/// Loads the dump (all or nothing), audited with the counts and the reason.
pub async fn import(store: &dyn Store, actor: &Actor<'_>, text: &str, reason: &str) -> Result<giftbiz_core::CatalogCounts, ConsoleError> {
    require(actor, Capability::Catalog)?;
    let reason = reason_of(reason)?;
    let counts = operator::import_catalog_files(store, &[upload()], &[text.to_owned()]).await.map_err(invalid_dump)?;
    let after = Some(serde_json::json!({ "brands": counts.brands, "goods": counts.goods }).to_string());
    record(store, actor, "catalog.import", "catalog".to_owned(), None, after, reason).await?;
    Ok(counts)
}

/// The name an uploaded dump goes by in its error messages.
fn upload() -> std::path::PathBuf {
    "upload".into()
}

/// A dump that does not parse is the operator's to fix (its message says where); a database
/// failure stays one.
fn invalid_dump(e: anyhow::Error) -> ConsoleError {
    match e.downcast::<giftbiz_core::StoreError>() {
        Ok(e) => ConsoleError::Store(e),
        Err(e) => ConsoleError::BadInput(format!("{e:#}")),
    }
}

