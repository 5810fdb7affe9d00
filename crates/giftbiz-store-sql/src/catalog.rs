//! Goods and brands: each stored as the serde_json of its domain struct (`doc`), beside copies
//! of the fields it is ordered and looked up by.

use std::collections::HashMap;

use giftbiz_core::{Brand, BrandCode, CatalogCounts, Goods, GoodsCode, StoreError};

use crate::rows::{decode_doc, decode_docs, GOODS_DOC_SQL};
use crate::{backend, sql_impl, Dialect};

sql_impl! { impl CatalogStore {
    async fn catalog_revision(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT revision FROM catalog_meta WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn upsert_catalog(&self, brands: &[Brand], goods: &[Goods]) -> Result<CatalogCounts, StoreError> {
        let brands = with_docs(last_per_key(brands, |b| b.brand_code.as_str()))?;
        let goods = with_docs(last_per_key(goods, |g| g.goods_code.as_str()))?;

        let mut tx = D::begin_write(&self.pool).await.map_err(backend)?;
        // First, so that its row lock queues concurrent catalog writers: two of them upserting
        // the same codes in different orders would otherwise deadlock.
        sqlx::query("UPDATE catalog_meta SET revision = revision + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;

        for chunk in brands.chunks(D::MAX_BIND_PARAMS / 4) {
            let sql = format!(
                "INSERT INTO brands (brand_code, brand_seq, sort, doc) VALUES {}
                 ON CONFLICT (brand_code) DO UPDATE SET
                 brand_seq = excluded.brand_seq, sort = excluded.sort, doc = excluded.doc",
                placeholders::<D>(chunk.len(), 4)
            );
            let mut insert = sqlx::query(&sql);
            for (brand, doc) in chunk {
                insert = insert.bind(brand.brand_code.as_str()).bind(brand.brand_seq).bind(brand.sort).bind(doc.as_str());
            }
            // Not persistent: caching statements this large in every connection buys nothing.
            insert.persistent(false).execute(&mut *tx).await.map_err(backend)?;
        }

        for chunk in goods.chunks(D::MAX_BIND_PARAMS / 5) {
            let sql = format!(
                "INSERT INTO goods (goods_code, goods_no, brand_code, state, doc) VALUES {}
                 ON CONFLICT (goods_code) DO UPDATE SET goods_no = excluded.goods_no,
                 brand_code = excluded.brand_code, state = excluded.state, doc = excluded.doc",
                placeholders::<D>(chunk.len(), 5)
            );
            let mut insert = sqlx::query(&sql);
            for (g, doc) in chunk {
                insert = insert
                    .bind(g.goods_code.as_str())
                    .bind(g.goods_no)
                    .bind(g.brand_code.as_str())
                    .bind(g.state.code())
                    .bind(doc.as_str());
            }
            insert.persistent(false).execute(&mut *tx).await.map_err(backend)?;
        }

        tx.commit().await.map_err(backend)?;
        self.changes.bump();
        Ok(CatalogCounts { brands: brands.len(), goods: goods.len() })
    }

    async fn all_goods(&self) -> Result<Vec<Goods>, StoreError> {
        let rows = sqlx::query_as("SELECT goods_code, doc FROM goods ORDER BY goods_no, goods_code")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        decode_docs("goods", rows)
    }

    async fn goods_batch(&self, after: Option<(i64, GoodsCode)>, limit: u32) -> Result<Vec<Goods>, StoreError> {
        // No code is empty: ("", MIN) sorts before every row.
        let (no, code) = after.map_or((i64::MIN, String::new()), |(no, code)| (no, String::from(code)));
        let rows = sqlx::query_as(
            "SELECT goods_code, doc FROM goods WHERE (goods_no, goods_code) > ($1, $2) \
             ORDER BY goods_no, goods_code LIMIT $3",
        )
        .bind(no)
        .bind(code)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        decode_docs("goods", rows)
    }

    async fn goods_by_code(&self, goods_code: &GoodsCode) -> Result<Option<Goods>, StoreError> {
        // On every send's path: the engine's fast read if it has one.
        let doc = match self.dialect.hot_goods_doc(goods_code.as_str()) {
            Some(doc) => doc?,
            None => sqlx::query_scalar(GOODS_DOC_SQL)
                .bind(goods_code.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?,
        };
        doc.map(|doc: String| decode_doc("goods", goods_code.as_str(), &doc)).transpose()
    }

    async fn all_brands(&self) -> Result<Vec<Brand>, StoreError> {
        let rows = sqlx::query_as("SELECT brand_code, doc FROM brands ORDER BY sort, brand_code")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        decode_docs("brand", rows)
    }

    async fn brand_by_code(&self, brand_code: &BrandCode) -> Result<Option<Brand>, StoreError> {
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM brands WHERE brand_code = $1")
            .bind(brand_code.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        doc.map(|doc| decode_doc("brand", brand_code.as_str(), &doc)).transpose()
    }
} }

/// Keeps the last item of each key, in input order. Upserting a batch must behave like
/// upserting its items one by one, where a later duplicate replaces an earlier one (and
/// PostgreSQL refuses to let one statement's `ON CONFLICT DO UPDATE` touch a row twice).
fn last_per_key<T>(items: &[T], key: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(key(item), i);
    }
    items.iter().enumerate().filter(|&(i, item)| last[key(item)] == i).map(|(_, item)| item).collect()
}

/// Serializes each item to its `doc`.
fn with_docs<T: serde::Serialize>(items: Vec<&T>) -> Result<Vec<(&T, String)>, StoreError> {
    items.into_iter().map(|item| Ok((item, serde_json::to_string(item).map_err(backend)?))).collect()
}

/// `($1, $2), ($3, $4)` (SQLite: `(?, ?), (?, ?)`) for `rows` rows of `columns` values each.
fn placeholders<D: Dialect>(rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 7);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            sql.push_str(if column == 0 { "" } else { ", " });
            D::push_bulk_placeholder(&mut sql, row * columns + column + 1);
        }
        sql.push(')');
    }
    sql
}
