//! Values the scenarios build, the same on every engine.

use std::sync::atomic::{AtomicU64, Ordering};

use giftbiz_core::account::TokenHash;
use giftbiz_core::catalog::{BrandImages, GoodsImages, Validity};
use giftbiz_core::coupon::{LedgerEntry, LedgerReason, NewCoupon};
use giftbiz_core::send::{CallbackNo, Gubun, PhoneNo, Pin, TrId};
use giftbiz_core::{AccountId, Brand, BrandCode, Goods, GoodsCode, GoodsState, Grade, GradePrices, NewAccount, Store, UserId, Won};

pub fn new_account(user_id: &str, auth_code: &str) -> NewAccount {
    NewAccount {
        user_id: user(user_id),
        auth_code: auth_code.to_owned(),
        token_hash: TokenHash::of(&format!("token of {user_id}")),
        grade: Grade::Basic,
        created_at_ms: 1_700_000_000_000,
    }
}

pub fn brand(code: &str, sort: i64) -> Brand {
    Brand {
        brand_code: bc(code),
        brand_seq: sort * 10,
        brand_name: format!("브랜드 {code}"),
        content: String::new(),
        category1_name: "카페".to_owned(),
        category1_seq: 1,
        category2_name: String::new(),
        category2_seq: 0,
        sort,
        images: BrandImages {
            icon: Some("https://img.example/icon.png".to_owned()),
            ..Default::default()
        },
    }
}

pub fn goods(code: &str, goods_no: i64, brand_code: &str) -> Goods {
    Goods {
        goods_code: gc(code),
        goods_no,
        goods_name: format!("상품 {code}"),
        brand_code: bc(brand_code),
        brand_name: format!("브랜드 {brand_code}"),
        content: "설명".to_owned(),
        content_add_desc: String::new(),
        goods_type_cd: "GNR".to_owned(),
        goods_type_nm: "일반상품".to_owned(),
        goods_type_dtl_nm: "커피".to_owned(),
        category1_seq: 1,
        category_name1: "카페".to_owned(),
        images: GoodsImages::default(),
        sale_price: Won::new(4_500),
        real_price: Won::new(4_500),
        prices: GradePrices::standard(Won::new(4_500), false),
        validity: Validity::Days { days: 30 },
        srch_keyword: String::new(),
        end_date: "2999-12-30T15:00:00.000+0000".to_owned(),
        goods_com_id: "G0001".to_owned(),
        goods_com_name: "공급사".to_owned(),
        affiliate_id: String::new(),
        affiliate: String::new(),
        exh_gender_cd: "0".to_owned(),
        exh_age_cd: "0".to_owned(),
        mms_reserve_flag: "Y".to_owned(),
        state: GoodsState::Sale,
        mms_barcd_create_yn: "Y".to_owned(),
        rm_cnt_flag: "N".to_owned(),
        sale_date_flag_cd: "PERIOD_SALE".to_owned(),
        sale_date_flag: "기간".to_owned(),
        rm_id_buy_cnt_flag_cd: "N".to_owned(),
        md_code: "M000".to_owned(),
        popular: 0,
    }
}

/// A user id the scenarios know to be valid.
pub fn gc(raw: &str) -> GoodsCode {
    GoodsCode::parse(raw).expect("a goods code")
}

pub fn bc(raw: &str) -> BrandCode {
    BrandCode::parse(raw).expect("a brand code")
}

pub fn user(raw: &str) -> UserId {
    UserId::parse(raw).expect("a valid user id")
}

/// A tr_id the scenarios know to be valid.
pub fn tr(raw: &str) -> TrId {
    TrId::parse(raw, TrId::SPEC_MAX_LEN).expect("a valid tr_id")
}

pub fn codes(goods: &[Goods]) -> Vec<&str> {
    goods.iter().map(|g| g.goods_code.as_str()).collect()
}


// --- bizmoney and coupons ---

/// 2026-11-28 15:30 UTC: already 2026-11-29 in Korea, so order numbers must use the KST date.
pub fn t0_ms() -> i64 {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2026, 11, 28, 15, 30, 0).unwrap().timestamp_millis()
}

/// The KST date of [`t0_ms`], as order numbers start.
pub const T0_KST_DATE: &str = "20261129";

pub const HOUR_MS: i64 = 3_600_000;

/// A coupon for `tr_id` with a fresh PIN and image token (unique within the process), issued
/// at [`t0_ms`].
pub fn new_coupon(account_id: AccountId, tr_id: &str, price: i64, gubun: Gubun) -> NewCoupon {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let issued_at_ms = t0_ms();
    NewCoupon {
        account_id,
        tr_id: tr(tr_id),
        pin: Pin::new(format!("9{n:011}")),
        image_token: format!("img-{n:08}"),
        goods_code: gc("G00000001"),
        goods_name: "아메리카노 T".to_owned(),
        brand_code: bc("BR001"),
        brand_name: "카페".to_owned(),
        sale_price: Won::new(price + price / 10),
        price: Won::new(price),
        gubun,
        phone_no: PhoneNo::parse("01012345678").unwrap(),
        callback_no: CallbackNo::parse("15880108").unwrap(),
        mms_title: "선물".to_owned(),
        mms_msg: "선물이 도착했습니다".to_owned(),
        issued_at_ms,
        valid_until_ms: issued_at_ms + 30 * 24 * HOUR_MS,
        reserved_at_ms: None,
        request_id: None,
    }
}

/// Asserts the account's ledger is a running sum ending at its balance, and returns it.
pub async fn consistent_ledger(store: &dyn Store, account_id: AccountId) -> Vec<LedgerEntry> {
    let ledger = store.ledger(account_id).await.unwrap();
    let mut sum = Won::ZERO;
    for (i, e) in ledger.iter().enumerate() {
        assert_eq!(e.account_id, account_id);
        sum = sum + e.amount;
        assert_eq!(e.balance_after, sum, "entry {i} of {ledger:#?}");
        assert!(e.balance_after >= Won::ZERO);
        if i > 0 {
            assert!(e.id > ledger[i - 1].id);
        }
    }
    assert_eq!(store.bizmoney_balance(account_id).await.unwrap(), sum);
    ledger
}

pub async fn charge(store: &dyn Store, user_id: &str, amount: i64) -> i64 {
    store.change_bizmoney(&user(user_id), Won::new(amount), LedgerReason::Charge, "charge", t0_ms()).await.unwrap().get()
}

pub fn entries_for<'a>(ledger: &'a [LedgerEntry], tr_id: &str, reason: LedgerReason) -> Vec<&'a LedgerEntry> {
    ledger.iter().filter(|e| e.tr_id.as_deref() == Some(tr_id) && e.reason == reason).collect()
}

