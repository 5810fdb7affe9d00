//! What the operator commands do (`giftbiz account …`, `giftbiz catalog …`) and the demo seed.
//! They work on the database directly, so they work while a server runs on the same one.

use anyhow::Context;
use giftbiz_core::account::{generate_auth_code, UserId};
use giftbiz_core::catalog_import::{parse_catalog, preview, ImportPreview, ParsedCatalog};
use giftbiz_core::console::{NewOperator, Operator, OperatorRole, Password, PasswordHash, Username};
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::totp::TotpSecret;
use giftbiz_core::{
    Account, AuthToken, BrandCode, CatalogCounts, Goods, GoodsCode, GoodsState, Grade, GradePrice, NewAccount, Store, StoreError, Won,
};
use giftbiz_wire::catalog::{BrandListResult, GoodsListResult};
use giftbiz_wire::Envelope;
use serde_json::json;

use crate::demo::catalog::{demo_catalog, DEMO_GOODS};
use crate::catalog_view::{brand_view, goods_export_entry, ImageUrls};

pub const DEMO_USER_ID: &str = "demo";
/// Bizmoney the demo account starts with, so a first send works out of the box.
pub const DEMO_BIZMONEY: Won = Won::new(1_000_000);

/// A new account and its token, which is shown now and never again.
pub struct IssuedAccount {
    pub account: Account,
    pub token: AuthToken,
}

pub async fn create_account(store: &dyn Store, user_id: &UserId, grade: Grade) -> anyhow::Result<IssuedAccount> {
    let token = AuthToken::generate();
    let new = NewAccount {
        user_id: user_id.clone(),
        auth_code: generate_auth_code(),
        token_hash: token.hash(),
        grade,
        created_at_ms: chrono::Utc::now().timestamp_millis(),
    };
    let account = store.create_account(&new).await?;
    Ok(IssuedAccount { account, token })
}

pub async fn set_grade(store: &dyn Store, user_id: &UserId, grade: Grade) -> anyhow::Result<()> {
    anyhow::ensure!(store.set_grade(user_id, grade).await?, "no account with user id \"{user_id}\"");
    Ok(())
}

/// Issues a new token; the old one stops working at once.
pub async fn rotate_token(store: &dyn Store, user_id: &UserId) -> anyhow::Result<IssuedAccount> {
    let token = AuthToken::generate();
    anyhow::ensure!(store.set_token_hash(user_id, &token.hash()).await?, "no account with user id \"{user_id}\"");
    let account = store.account_by_user_id(user_id).await?.context("account vanished")?;
    Ok(IssuedAccount { account, token })
}

/// Suspends (`true`) or reactivates an account; its credentials, balance and coupons stay as
/// they are.
pub async fn set_suspended(store: &dyn Store, user_id: &UserId, suspended: bool) -> anyhow::Result<()> {
    let at = suspended.then(|| chrono::Utc::now().timestamp_millis());
    anyhow::ensure!(store.set_suspended(user_id, at).await?, "no account with user id \"{user_id}\"");
    Ok(())
}

/// A console operator (`giftbiz operator create`); the password is hashed with argon2id here
/// and never stored or shown.
pub async fn create_console_operator(
    store: &dyn Store,
    username: &Username,
    role: OperatorRole,
    password: &Password,
) -> anyhow::Result<Operator> {
    let new = NewOperator {
        username: username.clone(),
        role,
        password_hash: PasswordHash::of(password),
        created_at_ms: chrono::Utc::now().timestamp_millis(),
    };
    Ok(store.create_operator(&new).await?)
}

/// Disables (`true`: no login, sessions ended) or enables a console operator.
pub async fn set_console_operator_disabled(store: &dyn Store, username: &Username, disabled: bool) -> anyhow::Result<()> {
    let at = disabled.then(|| chrono::Utc::now().timestamp_millis());
    anyhow::ensure!(store.set_operator_disabled(username, at).await?, "no operator \"{username}\"");
    Ok(())
}

/// A new password for a console operator; their sessions end.
pub async fn reset_console_operator_password(store: &dyn Store, username: &Username, password: &Password) -> anyhow::Result<()> {
    anyhow::ensure!(store.set_operator_password(username, &PasswordHash::of(password)).await?, "no operator \"{username}\"");
    Ok(())
}

/// Gives a console operator a new second factor (RFC 6238): returns its key, to show once (it
/// is stored sealed). Their sessions end; the next login needs a code of it.
pub async fn enable_console_operator_totp(store: &dyn Store, username: &Username) -> anyhow::Result<TotpSecret> {
    let secret = TotpSecret::generate();
    anyhow::ensure!(store.set_operator_totp(username, Some(&secret)).await?, "no operator \"{username}\"");
    Ok(secret)
}

/// Removes a console operator's second factor (a lost phone): the password alone logs in again.
pub async fn disable_console_operator_totp(store: &dyn Store, username: &Username) -> anyhow::Result<()> {
    anyhow::ensure!(store.set_operator_totp(username, None).await?, "no operator \"{username}\"");
    Ok(())
}

/// The operator's bizmoney change (`giftbiz bizmoney charge|adjust`); returns the new balance.
pub async fn change_bizmoney(
    store: &dyn Store,
    user_id: &UserId,
    amount: Won,
    reason: LedgerReason,
    memo: &str,
) -> anyhow::Result<Won> {
    anyhow::ensure!(amount != Won::ZERO, "the amount must not be zero");
    anyhow::ensure!(reason != LedgerReason::Charge || amount > Won::ZERO, "a charge must be positive (use adjust to take away)");
    Ok(store.change_bizmoney(user_id, amount, reason, memo, chrono::Utc::now().timestamp_millis()).await?)
}

/// A new partner (교환처) and its token, which is shown now and never again.
pub struct IssuedPartner {
    pub partner: giftbiz_core::partner::Partner,
    pub token: AuthToken,
    /// Brand codes the catalog does not (yet) hold: allowed, since a partner may be set up
    /// before its brands are imported, but worth telling the operator.
    pub unknown_brands: Vec<BrandCode>,
}

/// `brands` is a comma-separated list of brand codes (`BR00001,BR00002`).
pub async fn create_partner(store: &dyn Store, name: &str, brands: &str) -> anyhow::Result<IssuedPartner> {
    use giftbiz_core::partner::{generate_partner_code, parse_brand_codes, parse_partner_name, NewPartner};
    let name = parse_partner_name(name)?;
    let brand_codes = parse_brand_codes(brands)?;
    let mut unknown_brands = Vec::new();
    for code in &brand_codes {
        if store.brand_by_code(code).await?.is_none() {
            unknown_brands.push(code.clone());
        }
    }
    let token = AuthToken::generate();
    let new = NewPartner {
        partner_code: generate_partner_code(),
        name,
        token_hash: token.hash(),
        brand_codes,
        created_at_ms: chrono::Utc::now().timestamp_millis(),
    };
    let partner = store.create_partner(&new).await?;
    Ok(IssuedPartner { partner, token, unknown_brands })
}

/// A new token for a partner; the old one stops working at once.
pub async fn rotate_partner_token(store: &dyn Store, partner_code: &str) -> anyhow::Result<IssuedPartner> {
    let token = AuthToken::generate();
    anyhow::ensure!(store.set_partner_token_hash(partner_code, &token.hash()).await?, "no partner with code \"{partner_code}\"");
    let partner = store.partner_by_code(partner_code).await?.context("partner vanished")?;
    Ok(IssuedPartner { partner, token, unknown_brands: Vec::new() })
}

/// Loads catalog dumps (see `giftbiz_core::catalog_import`) in one transaction: a bad file
/// changes nothing. `names` label the texts in error messages.
pub async fn import_catalog_files(
    store: &dyn Store,
    names: &[std::path::PathBuf],
    texts: &[String],
) -> anyhow::Result<CatalogCounts> {
    let all = parse_catalog_files(store, names, texts).await?;
    Ok(store.upsert_catalog(&all.brands, &all.goods).await?)
}

/// The dumps parsed and completed from the stored brands, as an import would load them.
async fn parse_catalog_files(store: &dyn Store, names: &[std::path::PathBuf], texts: &[String]) -> anyhow::Result<ParsedCatalog> {
    let mut all = ParsedCatalog::default();
    for (name, text) in names.iter().zip(texts) {
        let parsed = parse_catalog(text).with_context(|| format!("{}", name.display()))?;
        all.brands.extend(parsed.brands);
        all.goods.extend(parsed.goods);
    }
    let mut known = all.brands.clone();
    known.extend(store.all_brands().await?);
    all.fill_from_brands(&known);
    Ok(all)
}

/// What importing the dumps would change, changing nothing.
pub async fn preview_catalog_import(store: &dyn Store, names: &[std::path::PathBuf], texts: &[String]) -> anyhow::Result<ImportPreview> {
    let all = parse_catalog_files(store, names, texts).await?;
    Ok(preview(&all, &store.all_brands().await?, &store.all_goods().await?))
}

/// Puts a goods on sale (`SALE`) or suspends it (`SUS`: listed, but a send is refused);
/// returns it before and after.
pub async fn set_goods_state(store: &dyn Store, goods_code: &GoodsCode, state: GoodsState) -> anyhow::Result<(Goods, Goods)> {
    change_goods(store, goods_code, |g| {
        g.state = state;
        Ok(())
    })
    .await
}

/// Sets one grade's price of a goods (whole won, above zero and at most its sale price); the
/// rate is the discount it makes, in whole percent. Returns the goods before and after.
pub async fn set_grade_price(store: &dyn Store, goods_code: &GoodsCode, grade: Grade, price: Won) -> anyhow::Result<(Goods, Goods)> {
    change_goods(store, goods_code, |g| {
        anyhow::ensure!(price > Won::ZERO && price <= g.sale_price, "a grade price is above zero and at most the sale price ({})", g.sale_price);
        let sale = g.sale_price.get();
        let rate = ((sale - price.get()) * 100 + sale / 2) / sale;
        let slot = match grade {
            Grade::Basic => &mut g.prices.basic,
            Grade::Gold => &mut g.prices.gold,
            Grade::Vip => &mut g.prices.vip,
            Grade::Platinum => &mut g.prices.platinum,
        };
        *slot = GradePrice { price, rate };
        Ok(())
    })
    .await
}

/// Changes one stored goods through the catalog's upsert (which moves the catalog revision, so
/// every instance's cache reloads it).
async fn change_goods(store: &dyn Store, goods_code: &GoodsCode, change: impl FnOnce(&mut Goods) -> anyhow::Result<()>) -> anyhow::Result<(Goods, Goods)> {
    let before = store.goods_by_code(goods_code).await?.with_context(|| format!("no goods with code {goods_code}"))?;
    anyhow::ensure!(before.is_listed(), "goods {goods_code} is withdrawn");
    let mut after = before.clone();
    change(&mut after)?;
    store.upsert_catalog(&[], std::slice::from_ref(&after)).await?;
    Ok((before, after))
}

/// The catalog as `{"goods": <0101 response>, "brands": <0102 response>}`; each goods also
/// carries every grade's price so an import elsewhere keeps them. Platform-rendered images are
/// written as empty strings.
pub async fn export_catalog(store: &dyn Store) -> anyhow::Result<serde_json::Value> {
    let urls = ImageUrls::for_export();
    let goods = store.all_goods().await?;
    let brands = store.all_brands().await?;
    let listed: Vec<_> = goods.iter().filter(|g| g.is_listed()).collect();
    let items = listed.iter().map(|g| goods_export_entry(g, &urls)).collect::<Result<Vec<_>, _>>()?;
    let goods_env = json!({"code": "0000", "message": null, "result": {"listNum": items.len(), "goodsList": items}});
    let brand_list: Vec<_> = brands.iter().map(|b| brand_view(b, &urls)).collect();
    let brands_env = Envelope::ok(BrandListResult { list_num: brand_list.len() as u64, brand_list });
    // Type-check the goods half against the wire shape it claims to be.
    debug_assert!(serde_json::from_value::<Envelope<GoodsListResult>>(goods_env.clone()).is_ok());
    Ok(json!({"goods": goods_env, "brands": brands_env}))
}

/// What `serve` seeded into an empty database.
#[derive(Default)]
pub struct DemoSeed {
    pub catalog: Option<CatalogCounts>,
    pub account: Option<IssuedAccount>,
}

/// Seeds the demo catalog and account into an empty database; a database that holds any
/// brand, goods or account (so any coupon) is left as it is, the demo never mixed into it.
pub async fn seed_demo(store: &dyn Store) -> anyhow::Result<DemoSeed> {
    let mut seed = DemoSeed::default();
    let empty = store.list_accounts().await?.is_empty()
        && store.all_brands().await?.is_empty()
        && store.goods_batch(None, 1).await?.is_empty();
    if !empty {
        return Ok(seed);
    }
    let (brands, goods) = demo_catalog(DEMO_GOODS);
    seed.catalog = Some(store.upsert_catalog(&brands, &goods).await?);
    let demo = UserId::parse(DEMO_USER_ID).expect("the demo user id is one");
    match create_account(store, &demo, Grade::Basic).await {
        Ok(issued) => {
            change_bizmoney(store, &demo, DEMO_BIZMONEY, LedgerReason::Charge, "demo").await?;
            seed.account = Some(issued);
        }
        // Another process seeded it between our check and insert.
        Err(e) if matches!(e.downcast_ref::<StoreError>(), Some(StoreError::UserIdTaken(_))) => {}
        Err(e) => return Err(e),
    }
    Ok(seed)
}

impl DemoSeed {
    /// Tells the operator what was seeded, with credentials and a ready-to-paste call.
    pub fn print(&self, listen: &str) {
        if let Some(c) = self.catalog {
            println!("seeded the demo catalog: {} brands, {} goods", c.brands, c.goods);
        }
        if let Some(issued) = &self.account {
            let a = &issued.account;
            println!("created the demo account (shown once; `giftbiz account rotate-token --user-id {}` issues a new token):", a.user_id);
            println!("  user_id           = {}", a.user_id);
            println!("  custom_auth_code  = {}", a.auth_code);
            println!("  custom_auth_token = {}", issued.token.expose());
            println!("  bizmoney          = {DEMO_BIZMONEY} KRW");
            println!("try it:");
            println!(
                "  curl -s -X POST http://{listen}/bizApi/goods -d api_code=0101 -d custom_auth_code={} --data-urlencode custom_auth_token={} -d dev_yn=N -d start=1 -d size=2",
                a.auth_code,
                issued.token.expose()
            );
            println!("or with the client commands (`giftbiz goods list`, `giftbiz send`, ...):");
            println!(
                "  export GIFTBIZ_BASE_URL=http://{listen}/bizApi GIFTBIZ_USER_ID={} GIFTBIZ_AUTH_CODE={} GIFTBIZ_AUTH_TOKEN='{}'",
                a.user_id,
                a.auth_code,
                issued.token.expose()
            );
        }
    }
}
