//! Filling a database with coupons, for benchmarks and the fault harness at scale: each one a
//! send of the send use case, in process (no HTTP), so every coupon has its tr_id, its charge
//! and its ledger entry exactly as a real send leaves them, and the money rules hold after it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context;
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::send::{CallbackNo, Gubun, MmsMsg, MmsTitle, PhoneNo, TrId};
use giftbiz_core::{GoodsCode, Store, UserId, Won};

use crate::catalog_cache::CatalogCache;
use crate::catalog_view::ImageUrls;
use crate::operator;
use crate::usecases::send::{send, SendOrder};
use crate::usecases::Caller;

/// Issues `count` coupons of `goods` (gubun Y: no message to deliver), spread over `users` in
/// turn, `concurrency` sends at a time; their tr_ids are `load{n}`. Each account is first charged
/// what its share costs at the goods' sale price (its grade price is never more).
pub async fn load_coupons(
    store: Arc<dyn Store>,
    users: &[UserId],
    goods: &GoodsCode,
    count: u64,
    concurrency: usize,
) -> anyhow::Result<()> {
    anyhow::ensure!(!users.is_empty(), "coupons need an account to belong to");
    let sale_price = store.goods_by_code(goods).await?.context("the goods to load")?.sale_price;
    let mut callers = Vec::new();
    for (n, user) in users.iter().enumerate() {
        let share = count / users.len() as u64 + u64::from((n as u64) < count % users.len() as u64);
        let charge = Won::new(sale_price.get() * share as i64);
        if charge > Won::ZERO {
            operator::change_bizmoney(store.as_ref(), user, charge, LedgerReason::Charge, "coupon load").await?;
        }
        let account = store.account_by_user_id(user).await?.with_context(|| format!("no account {user}"))?;
        callers.push(Caller { account, catalog_revision: store.catalog_revision().await? });
    }
    let callers = Arc::new(callers);
    let catalog = Arc::new(CatalogCache::new(store.clone(), Arc::new(ImageUrls::for_export())));
    // The fields every send shares, parsed once.
    let fixed = |e: giftbiz_core::send::Invalid| anyhow::anyhow!("a loader constant: {e:?}");
    let title = MmsTitle::parse("load", usize::MAX).map_err(fixed)?;
    let msg = MmsMsg::parse("load").map_err(fixed)?;
    let phone = PhoneNo::parse("01012345678").map_err(fixed)?;
    let callback = CallbackNo::parse("15880108").map_err(fixed)?;
    let next = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (store, catalog, callers, next, goods) = (store.clone(), catalog.clone(), callers.clone(), next.clone(), goods.clone());
            let (title, msg, phone, callback) = (title.clone(), msg.clone(), phone.clone(), callback.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= count {
                        return anyhow::Ok(());
                    }
                    let caller = &callers[(n % callers.len() as u64) as usize];
                    let order = SendOrder {
                        tr_id: TrId::parse(&format!("load{n}"), usize::MAX)?,
                        gubun: Gubun::Pin,
                        goods_code: goods.clone(),
                        title: title.clone(),
                        msg: msg.clone(),
                        phone: phone.clone(),
                        callback: callback.clone(),
                        reserved_at: None,
                        request_id: None,
                    };
                    send(store.as_ref(), &catalog, caller, order, chrono::Utc::now())
                        .await
                        .map_err(|e| anyhow::anyhow!("loading coupon {n}: {e}"))?;
                }
            })
        })
        .collect();
    for w in workers {
        w.await??;
    }
    Ok(())
}
