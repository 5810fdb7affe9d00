//! Searching the local catalog: keyword (FTS5 trigram, or `LIKE` for one- and two-character
//! words), brand, category, price range, state, sort and limit. Every value is a bound
//! parameter; the SQL is assembled from fixed fragments only.

use giftbiz_wire::catalog::GoodsListItem;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

use super::{LocalCatalog, LocalCatalogError};

/// The order of search results. Ties break by goods number, then goods code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SortOrder {
    /// The 0101 list's order (goods number).
    #[default]
    Catalog,
    /// `salePrice`, cheapest first.
    PriceAsc,
    /// `salePrice`, dearest first.
    PriceDesc,
    /// `goodsName` (code-point order, which is 가나다 order for Hangul).
    Name,
    /// Newest first: the highest goods numbers (the platform numbers goods as it adds them).
    Newest,
}

impl SortOrder {
    fn sql(self) -> &'static str {
        match self {
            SortOrder::Catalog => " ORDER BY g.goods_no, g.goods_code",
            SortOrder::PriceAsc => " ORDER BY g.sale_price, g.goods_no, g.goods_code",
            SortOrder::PriceDesc => " ORDER BY g.sale_price DESC, g.goods_no, g.goods_code",
            SortOrder::Name => " ORDER BY g.goods_name, g.goods_no, g.goods_code",
            SortOrder::Newest => " ORDER BY g.goods_no DESC, g.goods_code",
        }
    }
}

/// A search of the local catalog; every criterion is optional and they all must hold.
///
/// ```
/// use giftbiz_client::{SearchQuery, SortOrder};
///
/// // Coffee at most 5,000 won, on sale, cheapest first, ten of them.
/// let q = SearchQuery::keyword("커피").max_price(5000).state("SALE").sort(SortOrder::PriceAsc).limit(10);
/// assert_eq!(q.keyword.as_deref(), Some("커피"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words that must each occur in the goods name or the brand name (substring match, any
    /// case; whitespace separates words).
    pub keyword: Option<String>,
    /// A brand code (`BR00001`) or exact brand name (`스타벅스`).
    pub brand: Option<String>,
    /// A category number (`category1Seq`, e.g. `1`) or name (`커피/음료`, as 0102 names it).
    pub category: Option<String>,
    /// Bounds on `salePrice` (the consumer price), inclusive.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// `SALE` or `SUS`.
    pub state: Option<String>,
    pub sort: SortOrder,
    pub limit: Option<u32>,
}

impl SearchQuery {
    /// Everything (narrow it with the other methods).
    pub fn new() -> SearchQuery {
        SearchQuery::default()
    }

    pub fn keyword(keyword: impl Into<String>) -> SearchQuery {
        SearchQuery { keyword: Some(keyword.into()), ..SearchQuery::default() }
    }

    pub fn brand(mut self, brand: impl Into<String>) -> SearchQuery {
        self.brand = Some(brand.into());
        self
    }

    pub fn category(mut self, category: impl Into<String>) -> SearchQuery {
        self.category = Some(category.into());
        self
    }

    pub fn min_price(mut self, won: i64) -> SearchQuery {
        self.min_price = Some(won);
        self
    }

    pub fn max_price(mut self, won: i64) -> SearchQuery {
        self.max_price = Some(won);
        self
    }

    pub fn state(mut self, state: impl Into<String>) -> SearchQuery {
        self.state = Some(state.into());
        self
    }

    pub fn sort(mut self, sort: SortOrder) -> SearchQuery {
        self.sort = sort;
        self
    }

    pub fn limit(mut self, limit: u32) -> SearchQuery {
        self.limit = Some(limit);
        self
    }
}

/// A goods of the local catalog: its 0101 entry as last synced, and its category's name.
/// Serializes as the 0101 JSON plus `category1Name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalGoods {
    #[serde(flatten)]
    pub goods: GoodsListItem,
    /// The name 0102 gives the goods' `category1Seq`, if a brand has it.
    #[serde(rename = "category1Name")]
    pub category_name: Option<String>,
}

/// `LIKE` pattern matching `word` anywhere, with `\` escaping the wildcards.
fn like_pattern(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// An FTS5 string (phrase) of `word`: no operator inside it can take effect.
fn fts_phrase(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

impl LocalCatalog {
    /// The goods that match `query`, in its order.
    ///
    /// Keywords of three characters or more use the trigram index; shorter ones (Hangul words
    /// are often two syllables: "커피", "치킨") scan the names with `LIKE`, as all do while a
    /// first sync is unfinished (its index is built at its end).
    ///
    /// ```no_run
    /// use giftbiz_client::{LocalCatalog, SearchQuery, SortOrder};
    ///
    /// # fn demo() -> Result<(), giftbiz_client::LocalCatalogError> {
    /// let catalog = LocalCatalog::open("giftbiz-catalog.db")?;
    /// let q = SearchQuery::keyword("아메리카노").brand("스타벅스").sort(SortOrder::PriceAsc);
    /// for g in catalog.search(&q)? {
    ///     println!("{} {} {}원", g.goods.goods_code, g.goods.goods_name, g.goods.sale_price);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<LocalGoods>, LocalCatalogError> {
        let mut sql = String::from(
            "SELECT w.wire, c.category_name FROM goods g JOIN goods_wire w ON w.id = g.id
             LEFT JOIN categories c ON c.category_seq = g.category_seq WHERE 1 = 1",
        );
        let mut args: Vec<Value> = Vec::new();
        let mut phrases = Vec::new();
        // (The index is stale only while a first sync has not finished.)
        let fts = fts_live(&self.conn)?;
        for word in query.keyword.as_deref().unwrap_or("").split_whitespace() {
            if fts && word.chars().count() >= 3 {
                phrases.push(fts_phrase(word));
            } else {
                sql.push_str(" AND (g.goods_name LIKE ? ESCAPE '\\' OR g.brand_name LIKE ? ESCAPE '\\')");
                let pattern = like_pattern(word);
                args.push(Value::Text(pattern.clone()));
                args.push(Value::Text(pattern));
            }
        }
        if !phrases.is_empty() {
            sql.push_str(" AND g.id IN (SELECT rowid FROM goods_fts WHERE goods_fts MATCH ?)");
            args.push(Value::Text(phrases.join(" AND ")));
        }
        if let Some(brand) = query.brand.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
            sql.push_str(" AND (g.brand_code = ? OR g.brand_name = ?)");
            args.push(Value::Text(brand.to_owned()));
            args.push(Value::Text(brand.to_owned()));
        }
        if let Some(category) = query.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            match category.parse::<i64>() {
                Ok(seq) => {
                    sql.push_str(" AND g.category_seq = ?");
                    args.push(Value::Integer(seq));
                }
                Err(_) => {
                    sql.push_str(" AND g.category_seq IN (SELECT category_seq FROM categories WHERE category_name = ?)");
                    args.push(Value::Text(category.to_owned()));
                }
            }
        }
        if let Some(min) = query.min_price {
            sql.push_str(" AND g.sale_price >= ?");
            args.push(Value::Integer(min));
        }
        if let Some(max) = query.max_price {
            sql.push_str(" AND g.sale_price <= ?");
            args.push(Value::Integer(max));
        }
        if let Some(state) = query.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            sql.push_str(" AND g.state = ?");
            args.push(Value::Text(state.to_ascii_uppercase()));
        }
        sql.push_str(query.sort.sql());
        if let Some(limit) = query.limit {
            sql.push_str(" LIMIT ?");
            args.push(Value::Integer(limit.into()));
        }
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (wire, category_name) = row?;
            // The JSON as 0101 sent it: decoded as the SDK decodes 0101.
            let goods = crate::lenient::from_value(serde_json::from_str(&wire)?)?;
            out.push(LocalGoods { goods, category_name });
        }
        Ok(out)
    }
}

/// Whether the trigram index follows the goods (its triggers exist); see `LocalCatalog::sync`.
pub(super) fn fts_live(conn: &rusqlite::Connection) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'goods_fts_insert')")?
        .query_row([], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_phrases_escape_their_syntax() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("커피"), "%커피%");
        assert_eq!(fts_phrase("아메\"리카노"), "\"아메\"\"리카노\"");
    }
}
