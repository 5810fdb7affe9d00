//! The storage trait. SQLite (the embedded default) and PostgreSQL implement it, each with its
//! own migrations; one shared test scenario runs against both.

use async_trait::async_trait;

use crate::account::TokenHash;
use crate::{Account, Brand, Goods, Grade, NewAccount};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("user id {0:?} is already taken")]
    UserIdTaken(String),
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// What a catalog upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogCounts {
    pub brands: usize,
    pub goods: usize,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`, for logs.
    fn engine(&self) -> &'static str;

    // --- accounts ---
    async fn create_account(&self, new: &NewAccount) -> Result<Account, StoreError>;
    async fn account_by_auth_code(&self, auth_code: &str) -> Result<Option<Account>, StoreError>;
    /// The account with this auth code and the current catalog revision, in one round trip:
    /// the hot path of every API call needs both.
    async fn auth_lookup(&self, auth_code: &str) -> Result<Option<(Account, i64)>, StoreError>;
    async fn account_by_user_id(&self, user_id: &str) -> Result<Option<Account>, StoreError>;
    async fn list_accounts(&self) -> Result<Vec<Account>, StoreError>;
    /// Returns false when no such account exists.
    async fn set_grade(&self, user_id: &str, grade: Grade) -> Result<bool, StoreError>;
    /// Returns false when no such account exists.
    async fn set_token_hash(&self, user_id: &str, hash: &TokenHash) -> Result<bool, StoreError>;

    // --- catalog ---
    /// A number that changes with every catalog write, so readers can cache the catalog.
    async fn catalog_revision(&self) -> Result<i64, StoreError>;
    /// Inserts or replaces brands by brand code and goods by goods code, all in one
    /// transaction (all or nothing), and bumps the catalog revision.
    async fn upsert_catalog(&self, brands: &[Brand], goods: &[Goods]) -> Result<CatalogCounts, StoreError>;
    /// Every stored goods, withdrawn ones too, ordered by goods number then code.
    async fn all_goods(&self) -> Result<Vec<Goods>, StoreError>;
    /// Up to `limit` goods (withdrawn ones too) after `after` = (goods_no, goods_code) in the
    /// order of `all_goods`, so a caller can walk the catalog without holding all of it.
    async fn goods_batch(&self, after: Option<(i64, String)>, limit: u32) -> Result<Vec<Goods>, StoreError>;
    async fn goods_by_code(&self, goods_code: &str) -> Result<Option<Goods>, StoreError>;
    /// Every brand, ordered by sort then brand code.
    async fn all_brands(&self) -> Result<Vec<Brand>, StoreError>;
    async fn brand_by_code(&self, brand_code: &str) -> Result<Option<Brand>, StoreError>;
}
