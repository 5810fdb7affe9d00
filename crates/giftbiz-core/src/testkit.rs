//! Shared pieces of the store conformance tests, so the SQLite and PostgreSQL test suites
//! build the same values and run the same scenarios (enable with the `testkit` feature, for
//! tests only).

use crate::account::TokenHash;
use crate::catalog::{BrandImages, GoodsImages, Validity};
use crate::{Brand, Goods, GoodsState, Grade, GradePrices, NewAccount, Store};

pub fn new_account(user_id: &str, auth_code: &str) -> NewAccount {
    NewAccount {
        user_id: user_id.to_owned(),
        auth_code: auth_code.to_owned(),
        token_hash: TokenHash::of(&format!("token of {user_id}")),
        grade: Grade::Basic,
        created_at_ms: 1_700_000_000_000,
    }
}

pub fn brand(code: &str, sort: i64) -> Brand {
    Brand {
        brand_code: code.to_owned(),
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
        goods_code: code.to_owned(),
        goods_no,
        goods_name: format!("상품 {code}"),
        brand_code: brand_code.to_owned(),
        brand_name: format!("브랜드 {brand_code}"),
        content: "설명".to_owned(),
        content_add_desc: String::new(),
        goods_type_cd: "GNR".to_owned(),
        goods_type_nm: "일반상품".to_owned(),
        goods_type_dtl_nm: "커피".to_owned(),
        category1_seq: 1,
        category_name1: "카페".to_owned(),
        images: GoodsImages::default(),
        sale_price: 4_500,
        real_price: 4_500,
        prices: GradePrices::standard(4_500, false),
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

pub fn codes(goods: &[Goods]) -> Vec<&str> {
    goods.iter().map(|g| g.goods_code.as_str()).collect()
}


/// The two reads on the API's hot path: auth with the catalog revision, and walking the
/// catalog in batches in `all_goods` order.
pub async fn hot_paths(store: &dyn Store) {
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    let (found, rev0) = store.auth_lookup("REALaaaa").await.unwrap().unwrap();
    assert_eq!(found, alice);
    assert!(store.auth_lookup("REALnope").await.unwrap().is_none());
    let many: Vec<Goods> = (0..50).map(|i| goods(&format!("G{:03}", 97 * i % 50), i % 9, "B1")).collect();
    store.upsert_catalog(&[], &many).await.unwrap();
    let (_, rev1) = store.auth_lookup("REALaaaa").await.unwrap().unwrap();
    assert!(rev1 > rev0);
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let batch = store.goods_batch(after.take(), 7).await.unwrap();
        let Some(last) = batch.last() else { break };
        assert!(batch.len() <= 7);
        after = Some((last.goods_no, last.goods_code.clone()));
        walked.extend(batch);
    }
    assert_eq!(walked, store.all_goods().await.unwrap());
}
