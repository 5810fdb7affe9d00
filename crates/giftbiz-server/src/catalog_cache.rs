//! An in-memory snapshot of the catalog, so the goods list (clients page through thousands of
//! goods, up to 5000 a page) is served without reading the catalog per request.
//!
//! Each listed goods is kept as its 0101 JSON, serialized once, split around the two fields that
//! depend on the caller's grade (`discountRate`, `discountPrice`); a page is then a copy of
//! those fragments with two numbers filled in. That is both the fastest page we can write and
//! the smallest form to hold: the parsed goods are not kept. The snapshot is keyed by the
//! store's catalog revision, which every API call learns with its authentication (from the auth
//! cache, which sees an import by this process at once and one by another process or instance
//! within `cache_max_stale_ms`).
//!
//! A send (0204) finds its goods here too, by code ([`CatalogSnapshot::goods_for_send`]): the
//! fragment already holds every field a send reads, so the snapshot keeps only a sorted index
//! of the codes beside it, and a send saves a database round trip. A fragment's send view is
//! decoded on its goods' first send and kept for the next.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use giftbiz_core::catalog::Validity;
use giftbiz_core::catalog_import::goods_from_wire;
use giftbiz_core::{Brand, BrandCode, Goods, GoodsCode, GoodsState, Grade, GradePrice, GradePrices, Store, StoreError, Won};

use crate::catalog_view::{goods_list_item, ImageUrls};

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
    /// Where the goods code is in `json`, as its JSON string (quotes and escapes included).
    code_at: u32,
    code_len: u32,
    prices: GradePrices,
    /// What a send reads of it, decoded on the first send of this goods and kept: the goods
    /// that are sent are few, the listed ones many.
    send_view: OnceLock<Arc<GoodsForSend>>,
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
        // No string value can hold this pattern: inside one, every quote is escaped.
        let key = format!("\"goodsCode\":{}", json_string(goods.goods_code.as_str()));
        let code_at = json.find(&key).ok_or_else(corrupt)? + "\"goodsCode\":".len();
        let code_len = key.len() - "\"goodsCode\":".len();
        Ok(GoodsFragment {
            json: json.into(),
            rate_at: rate_at as u32,
            price_at: price_at as u32,
            code_at: code_at as u32,
            code_len: code_len as u32,
            prices: goods.prices,
            send_view: OnceLock::new(),
        })
    }

    /// The goods code as a JSON string, e.g. `"G0001"`.
    fn code_json(&self) -> &str {
        let at = self.code_at as usize;
        &self.json[at..at + self.code_len as usize]
    }

    /// The goods a send reads, decoded from the fragment the way an import reads a 0101 item
    /// (the fragment holds every field a send reads; its prices are every grade's).
    fn goods_for_send(&self) -> Result<Arc<GoodsForSend>, StoreError> {
        if let Some(view) = self.send_view.get() {
            return Ok(view.clone());
        }
        let view = Arc::new(self.decode_for_send()?);
        Ok(self.send_view.get_or_init(|| view).clone())
    }

    fn decode_for_send(&self) -> Result<GoodsForSend, StoreError> {
        let mut bytes = Vec::with_capacity(self.json.len() + 40);
        self.write(Grade::Basic, &mut bytes);
        let corrupt = |e: String| StoreError::Corrupt(format!("cached goods: {e}"));
        let entry: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let mut goods = goods_from_wire(&entry).map_err(corrupt)?;
        goods.prices = self.prices;
        Ok(GoodsForSend { goods })
    }

    fn write(&self, grade: Grade, out: &mut Vec<u8>) {
        let p = self.prices.for_grade(grade);
        let (a, b) = (self.rate_at as usize, self.price_at as usize);
        let bytes = self.json.as_bytes();
        out.extend_from_slice(&bytes[..a]);
        out.extend_from_slice(itoa::Buffer::new().format(p.rate).as_bytes());
        out.extend_from_slice(&bytes[a..b]);
        out.extend_from_slice(itoa::Buffer::new().format(p.price.get()).as_bytes());
        out.extend_from_slice(&bytes[b..]);
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}

/// What a send reads of a goods: its code, names, prices, validity and whether it is on sale.
/// Built from the store's [`Goods`] or from a snapshot's fragment, with the same answers: the
/// fragment's goods lacks what a 0101 item does not carry, so only these accessors are open.
#[derive(Debug, Clone)]
pub struct GoodsForSend {
    goods: Goods,
}

impl GoodsForSend {
    pub fn goods_code(&self) -> &GoodsCode {
        &self.goods.goods_code
    }

    pub fn goods_name(&self) -> &str {
        &self.goods.goods_name
    }

    pub fn brand_code(&self) -> &BrandCode {
        &self.goods.brand_code
    }

    pub fn brand_name(&self) -> &str {
        &self.goods.brand_name
    }

    pub fn sale_price(&self) -> Won {
        self.goods.sale_price
    }

    pub fn state(&self) -> GoodsState {
        self.goods.state
    }

    pub fn price_for(&self, grade: Grade) -> GradePrice {
        self.goods.price_for(grade)
    }

    pub fn valid_until(&self, issued_at: DateTime<Utc>) -> DateTime<Utc> {
        self.goods.valid_until(issued_at)
    }

    pub fn is_on_sale(&self, now: DateTime<Utc>) -> bool {
        self.goods.is_on_sale(now)
    }
}

impl From<Goods> for GoodsForSend {
    fn from(goods: Goods) -> GoodsForSend {
        GoodsForSend { goods }
    }
}

/// Equal when a send would read the same: the fields behind the accessors.
impl PartialEq for GoodsForSend {
    fn eq(&self, other: &GoodsForSend) -> bool {
        fn view(g: &Goods) -> (&GoodsCode, &str, &BrandCode, &str, Won, GradePrices, &Validity, &str, GoodsState) {
            (&g.goods_code, &g.goods_name, &g.brand_code, &g.brand_name, g.sale_price, g.prices, &g.validity, &g.end_date, g.state)
        }
        view(&self.goods) == view(&other.goods)
    }
}

pub struct CatalogSnapshot {
    pub revision: i64,
    /// Listed goods (not withdrawn) in the list's stable order.
    goods: Vec<GoodsFragment>,
    /// Indexes into `goods`, in the byte order of their codes' JSON strings.
    by_code: Vec<u32>,
    pub brands: Vec<Brand>,
    brand_index: HashMap<BrandCode, usize>,
}

impl CatalogSnapshot {
    fn new(revision: i64, goods: Vec<GoodsFragment>, brands: Vec<Brand>) -> CatalogSnapshot {
        let mut by_code: Vec<u32> = (0..goods.len() as u32).collect();
        by_code.sort_unstable_by(|&a, &b| goods[a as usize].code_json().cmp(goods[b as usize].code_json()));
        let brand_index = brands.iter().enumerate().map(|(i, b)| (b.brand_code.clone(), i)).collect();
        CatalogSnapshot { revision, goods, by_code, brands, brand_index }
    }

    pub fn goods_count(&self) -> usize {
        self.goods.len()
    }

    /// A listed (not withdrawn) goods, as a send reads it; `None` if there is none by that code.
    pub fn goods_for_send(&self, goods_code: &GoodsCode) -> Result<Option<Arc<GoodsForSend>>, StoreError> {
        let key = json_string(goods_code.as_str());
        match self.by_code.binary_search_by(|&i| self.goods[i as usize].code_json().cmp(&key)) {
            Ok(at) => self.goods[self.by_code[at] as usize].goods_for_send().map(Some),
            Err(_) => Ok(None),
        }
    }

    pub fn brand(&self, brand_code: &BrandCode) -> Option<&Brand> {
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
    /// A background reload ([`CatalogCache::snapshot_if_loaded`]) is under way.
    loading: AtomicBool,
}

impl CatalogCache {
    pub fn new(store: Arc<dyn Store>, urls: Arc<ImageUrls>) -> CatalogCache {
        CatalogCache {
            store,
            urls,
            current: RwLock::new(None),
            reload: tokio::sync::Mutex::new(()),
            loading: AtomicBool::new(false),
        }
    }

    /// A snapshot at least as new as `revision` if one is loaded, without waiting. If none is,
    /// starts loading it in the background (once) and returns `None`: the caller reads what it
    /// needs from the store meanwhile, rather than waiting seconds for a large catalog.
    pub fn snapshot_if_loaded(self: &Arc<Self>, revision: i64) -> Option<Arc<CatalogSnapshot>> {
        if let Some(snap) = self.cached(revision) {
            return Some(snap);
        }
        if !self.loading.swap(true, Ordering::AcqRel) {
            let cache = Arc::clone(self);
            tokio::spawn(async move {
                if let Err(e) = cache.snapshot(revision).await {
                    tracing::warn!(error = %e, "loading the catalog snapshot failed");
                }
                cache.loading.store(false, Ordering::Release);
            });
        }
        None
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
        Ok(CatalogSnapshot::new(revision, goods, brands))
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
        Arc::new(CatalogSnapshot::new(1, goods, Vec::new()))
    }

    /// A send reads the same goods from the snapshot as from the store, and the same answers.
    #[test]
    fn goods_for_send_from_the_snapshot_equal_the_stores() {
        use chrono::TimeZone;
        let (_, mut goods) = demo_catalog(60);
        // The rarest code characters, a name that JSON escapes, both kinds of validity, past and
        // unparsable ends. (A code JSON would escape cannot be made: GoodsCode refuses it.)
        goods[0].goods_code = GoodsCode::parse("G_0-9").unwrap();
        goods[0].goods_name = "이름 \"따옴표\" \u{1}".into();
        goods[1].validity = Validity::Until { date: "20300101".into() };
        goods[2].validity = Validity::Days { days: 30 };
        goods[3].end_date = "2001-01-01T00:00:00.000+0000".into();
        goods[4].end_date = "someday".into();
        goods[5].state = GoodsState::Suspended;
        let urls = ImageUrls::new("http://x".into());
        let listed: Vec<Goods> = goods.iter().filter(|g| g.is_listed()).cloned().collect();
        let snap = snapshot(&listed, &urls);
        let nows = [Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).unwrap(), Utc.with_ymd_and_hms(2026, 11, 29, 16, 0, 0).unwrap()];
        for g in &goods {
            if !g.is_listed() {
                assert_eq!(snap.goods_for_send(&g.goods_code).unwrap(), None, "{}", g.goods_code);
                continue;
            }
            let cached = snap.goods_for_send(&g.goods_code).unwrap().expect("listed goods found");
            let stored = Arc::new(GoodsForSend::from(g.clone()));
            assert_eq!(cached, stored, "{}", g.goods_code);
            for now in nows {
                assert_eq!(cached.valid_until(now), g.valid_until(now));
                assert_eq!(cached.is_on_sale(now), g.is_on_sale(now));
            }
            for grade in Grade::ALL {
                assert_eq!(cached.price_for(grade), g.price_for(grade));
            }
        }
        assert_eq!(snap.goods_for_send(&GoodsCode::parse("G99999999999").unwrap()).unwrap(), None);
        assert_eq!(snap.goods_for_send(&GoodsCode::parse("G").unwrap()).unwrap(), None);
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
