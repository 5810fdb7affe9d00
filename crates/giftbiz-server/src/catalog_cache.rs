//! An in-memory snapshot of the catalog, so the goods list (clients page through thousands of
//! goods) is served without reading every goods per request. The snapshot is keyed by the
//! store's catalog revision, read on every use, so an import by another process (the operator
//! CLI) shows on the very next request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use giftbiz_core::{Brand, Goods, Store, StoreError};

pub struct CatalogSnapshot {
    pub revision: i64,
    /// Listed goods (not withdrawn) in the list's stable order.
    pub goods: Vec<Goods>,
    goods_index: HashMap<String, usize>,
    pub brands: Vec<Brand>,
    brand_index: HashMap<String, usize>,
}

impl CatalogSnapshot {
    fn build(revision: i64, goods: Vec<Goods>, brands: Vec<Brand>) -> CatalogSnapshot {
        let goods: Vec<Goods> = goods.into_iter().filter(Goods::is_listed).collect();
        let goods_index = goods.iter().enumerate().map(|(i, g)| (g.goods_code.clone(), i)).collect();
        let brand_index = brands.iter().enumerate().map(|(i, b)| (b.brand_code.clone(), i)).collect();
        CatalogSnapshot { revision, goods, goods_index, brands, brand_index }
    }

    pub fn goods(&self, goods_code: &str) -> Option<&Goods> {
        self.goods_index.get(goods_code).map(|&i| &self.goods[i])
    }

    pub fn brand(&self, brand_code: &str) -> Option<&Brand> {
        self.brand_index.get(brand_code).map(|&i| &self.brands[i])
    }
}

pub struct CatalogCache {
    store: Arc<dyn Store>,
    current: RwLock<Option<Arc<CatalogSnapshot>>>,
    /// One reload at a time; the others wait and then take its result.
    reload: tokio::sync::Mutex<()>,
}

impl CatalogCache {
    pub fn new(store: Arc<dyn Store>) -> CatalogCache {
        CatalogCache { store, current: RwLock::new(None), reload: tokio::sync::Mutex::new(()) }
    }

    /// The snapshot of the catalog as it is now in the store.
    pub async fn snapshot(&self) -> Result<Arc<CatalogSnapshot>, StoreError> {
        let revision = self.store.catalog_revision().await?;
        if let Some(snap) = self.cached(revision) {
            return Ok(snap);
        }
        let _guard = self.reload.lock().await;
        if let Some(snap) = self.cached(revision) {
            return Ok(snap);
        }
        // Read the revision again inside the reload: what we load is at least that new.
        let revision = self.store.catalog_revision().await?;
        let goods = self.store.all_goods().await?;
        let brands = self.store.all_brands().await?;
        let snap = Arc::new(CatalogSnapshot::build(revision, goods, brands));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(snap.clone());
        tracing::debug!(revision, goods = snap.goods.len(), "catalog snapshot loaded");
        Ok(snap)
    }

    fn cached(&self, revision: i64) -> Option<Arc<CatalogSnapshot>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current.as_ref().filter(|s| s.revision >= revision).cloned()
    }
}
