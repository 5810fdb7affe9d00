//! An in-memory snapshot of the catalog, so the goods list (clients page through thousands of
//! goods, up to 5000 a page) is served without reading the catalog per request.
//!
//! Each listed goods is kept as its 0101 JSON, serialized once, split around the two fields that
//! depend on the caller's grade (`discountRate`, `discountPrice`); a page is then a copy of
//! those fragments with two numbers filled in. That is both the fastest page we can write and
//! the smallest form to hold: the parsed goods are not kept. The snapshot is keyed by the
//! store's catalog revision, which every API call reads with its auth lookup, so an import by
//! another process (the operator CLI) shows on the very next request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use giftbiz_core::{Brand, Goods, Grade, GradePrices, Store, StoreError};

use crate::http::catalog::{goods_list_item, ImageUrls};

/// Rate and price placeholders: no real rate or price serializes like these.
const RATE_SENTINEL: i64 = i64::MIN + 1;
const PRICE_SENTINEL: i64 = i64::MIN + 2;
/// Goods read from the store at a time while loading.
const LOAD_BATCH: u32 = 2000;

/// One goods' 0101 JSON with holes for the grade-dependent rate and price.
struct GoodsFragment {
    json: Box<str>,
    rate_at: u32,
    price_at: u32,
    prices: GradePrices,
}

impl GoodsFragment {
    fn new(goods: &Goods, urls: &ImageUrls) -> Result<GoodsFragment, StoreError> {
        let mut item = goods_list_item(goods, Grade::Basic, urls);
        item.discount_rate = RATE_SENTINEL;
        item.discount_price = PRICE_SENTINEL;
        let text = serde_json::to_string(&item).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (rate, price) = (RATE_SENTINEL.to_string(), PRICE_SENTINEL.to_string());
        let corrupt = || StoreError::Corrupt(format!("goods {} did not serialize as expected", goods.goods_code));
        let rate_at = text.find(&rate).ok_or_else(corrupt)?;
        let price_at = text.find(&price).ok_or_else(corrupt)?;
        let json = format!(
            "{}{}{}",
            &text[..rate_at],
            &text[rate_at + rate.len()..price_at],
            &text[price_at + price.len()..]
        );
        let price_at = price_at - rate.len();
        Ok(GoodsFragment { json: json.into(), rate_at: rate_at as u32, price_at: price_at as u32, prices: goods.prices })
    }

    fn write(&self, grade: Grade, out: &mut Vec<u8>) {
        let p = self.prices.for_grade(grade);
        let (a, b) = (self.rate_at as usize, self.price_at as usize);
        let bytes = self.json.as_bytes();
        out.extend_from_slice(&bytes[..a]);
        out.extend_from_slice(itoa::Buffer::new().format(p.rate).as_bytes());
        out.extend_from_slice(&bytes[a..b]);
        out.extend_from_slice(itoa::Buffer::new().format(p.price).as_bytes());
        out.extend_from_slice(&bytes[b..]);
    }
}

pub struct CatalogSnapshot {
    pub revision: i64,
    /// Listed goods (not withdrawn) in the list's stable order.
    goods: Vec<GoodsFragment>,
    pub brands: Vec<Brand>,
    brand_index: HashMap<String, usize>,
}

impl CatalogSnapshot {
    pub fn goods_count(&self) -> usize {
        self.goods.len()
    }

    pub fn brand(&self, brand_code: &str) -> Option<&Brand> {
        self.brand_index.get(brand_code).map(|&i| &self.brands[i])
    }

    /// The whole 0101 response for one page, in chunks of about `chunk` bytes.
    pub fn goods_page(self: &Arc<Self>, grade: Grade, skip: usize, take: usize, chunk: usize) -> GoodsPage {
        let start = skip.min(self.goods.len());
        let end = start.saturating_add(take).min(self.goods.len());
        GoodsPage { snap: self.clone(), grade, page_start: start, next: start, end, chunk, state: PageState::Head }
    }
}

enum PageState {
    Head,
    Items,
    Done,
}

/// An iterator over the bytes of one 0101 response:
/// `{"code":"0000","message":null,"result":{"listNum":N,"goodsList":[...]}}`.
pub struct GoodsPage {
    snap: Arc<CatalogSnapshot>,
    grade: Grade,
    /// The first goods of the page gets no comma before it.
    page_start: usize,
    next: usize,
    end: usize,
    chunk: usize,
    state: PageState,
}

impl Iterator for GoodsPage {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        let mut out = Vec::with_capacity(self.chunk + 4096);
        if let PageState::Head = self.state {
            out.extend_from_slice(b"{\"code\":\"0000\",\"message\":null,\"result\":{\"listNum\":");
            out.extend_from_slice(itoa::Buffer::new().format(self.snap.goods.len()).as_bytes());
            out.extend_from_slice(b",\"goodsList\":[");
            self.state = PageState::Items;
        }
        if let PageState::Done = self.state {
            return None;
        }
        while self.next < self.end && out.len() < self.chunk {
            if self.next > self.page_start {
                out.push(b',');
            }
            self.snap.goods[self.next].write(self.grade, &mut out);
            self.next += 1;
        }
        if self.next >= self.end {
            out.extend_from_slice(b"]}}");
            self.state = PageState::Done;
        }
        Some(Bytes::from(out))
    }
}

pub struct CatalogCache {
    store: Arc<dyn Store>,
    urls: Arc<ImageUrls>,
    current: RwLock<Option<Arc<CatalogSnapshot>>>,
    /// One reload at a time; the others wait and then take its result.
    reload: tokio::sync::Mutex<()>,
}

impl CatalogCache {
    pub fn new(store: Arc<dyn Store>, urls: Arc<ImageUrls>) -> CatalogCache {
        CatalogCache { store, urls, current: RwLock::new(None), reload: tokio::sync::Mutex::new(()) }
    }

    /// A snapshot at least as new as `revision` (read from the store by the caller).
    pub async fn snapshot(&self, revision: i64) -> Result<Arc<CatalogSnapshot>, StoreError> {
        if let Some(snap) = self.cached(revision) {
            return Ok(snap);
        }
        let _guard = self.reload.lock().await;
        if let Some(snap) = self.cached(revision) {
            return Ok(snap);
        }
        let snap = Arc::new(self.load().await?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(snap.clone());
        tracing::debug!(revision = snap.revision, goods = snap.goods.len(), "catalog snapshot loaded");
        Ok(snap)
    }

    /// The snapshot of the catalog as it is now in the store.
    pub async fn current(&self) -> Result<Arc<CatalogSnapshot>, StoreError> {
        let revision = self.store.catalog_revision().await?;
        self.snapshot(revision).await
    }

    fn cached(&self, revision: i64) -> Option<Arc<CatalogSnapshot>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current.as_ref().filter(|s| s.revision >= revision).cloned()
    }

    /// Walks the catalog in batches, so loading never holds every parsed goods at once.
    async fn load(&self) -> Result<CatalogSnapshot, StoreError> {
        // Read the revision first: what we load is at least that new.
        let revision = self.store.catalog_revision().await?;
        let mut goods = Vec::new();
        let mut after = None;
        loop {
            let batch = self.store.goods_batch(after.take(), LOAD_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = Some((last.goods_no, last.goods_code.clone()));
            for g in batch.iter().filter(|g| g.is_listed()) {
                goods.push(GoodsFragment::new(g, &self.urls)?);
            }
        }
        goods.shrink_to_fit();
        let brands = self.store.all_brands().await?;
        let brand_index = brands.iter().enumerate().map(|(i, b)| (b.brand_code.clone(), i)).collect();
        Ok(CatalogSnapshot { revision, goods, brands, brand_index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::catalog::demo_catalog;
    use giftbiz_wire::catalog::GoodsListResult;
    use giftbiz_wire::Envelope;

    fn snapshot(goods: &[Goods], urls: &ImageUrls) -> Arc<CatalogSnapshot> {
        let goods = goods.iter().map(|g| GoodsFragment::new(g, urls).unwrap()).collect();
        Arc::new(CatalogSnapshot { revision: 1, goods, brands: Vec::new(), brand_index: HashMap::new() })
    }

    /// The hand-assembled page is exactly what serializing the wire types would give.
    #[test]
    fn pages_equal_the_serde_serialization_for_every_grade_and_chunking() {
        let (_, goods) = demo_catalog(40);
        let urls = ImageUrls::new("http://x".into());
        let snap = snapshot(&goods, &urls);
        for grade in Grade::ALL {
            for (skip, take, chunk) in [(0, 20, 1 << 16), (5, 30, 100), (38, 20, 1), (40, 5, 10), (0, 0, 10)] {
                let bytes: Vec<u8> = snap.goods_page(grade, skip, take, chunk).flat_map(|b| b.to_vec()).collect();
                let got: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
                let goods_list = goods.iter().skip(skip).take(take).map(|g| goods_list_item(g, grade, &urls)).collect();
                let want = serde_json::to_value(Envelope::ok(GoodsListResult { list_num: 40, goods_list })).unwrap();
                assert_eq!(got, want, "grade {grade}, skip {skip}, take {take}, chunk {chunk}");
            }
        }
    }
}
