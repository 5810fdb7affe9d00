//! The shared catalog scenario (0101, 0111, 0102, 0112), run against SQLite and PostgreSQL over
//! real HTTP on loopback.

mod common;

use common::{assert_code, TestApp};
use giftbiz_core::Grade;
use giftbiz_server::operator;
use serde_json::Value;

both_engines!(
    goods_list_has_the_live_shape_and_pages,
    goods_list_paging_errors,
    goods_list_price_follows_the_callers_grade,
    goods_detail_shows_every_grade,
    brands_and_brand_detail,
    detail_endpoints_answer_err0401_for_unknown_codes,
    images_linked_from_the_catalog_really_serve_pngs,
    catalog_import_shows_on_the_next_request,
    goods_pages_compress_when_asked,
    an_unchanged_page_costs_no_body,
);

const GOODS_NUMBERS: [&str; 8] =
    ["goodsNo", "salePrice", "realPrice", "discountPrice", "discountRate", "limitDay", "category1Seq", "popular"];
const GOODS_STRINGS: [&str; 30] = [
    "goodsCode", "goodsName", "brandCode", "brandName", "content", "contentAddDesc", "goodsTypeNm", "goodsImgS",
    "goodsImgB", "goodsDescImgWeb", "brandIconImg", "mmsGoodsImg", "srchKeyword", "validPrdTypeCd", "validPrdDay",
    "endDate", "goodsComId", "goodsComName", "affiliateId", "affiliate", "exhGenderCd", "exhAgeCd",
    "mmsReserveFlag", "goodsStateCd", "mmsBarcdCreateYn", "rmCntFlag", "saleDateFlagCd", "goodsTypeDtlNm",
    "saleDateFlag", "rmIdBuyCntFlagCd",
];

fn goods_list(v: &Value) -> &Vec<Value> {
    v["result"]["goodsList"].as_array().expect("goodsList array")
}

async fn goods_list_has_the_live_shape_and_pages(app: &TestApp) {
    let first = app.call("/bizApi/goods", "0101", &[]).await;
    assert_code(&first, "0000");
    assert!(first["message"].is_null());
    let total = first["result"]["listNum"].as_u64().expect("listNum is a number");
    assert!(total >= 300, "demo catalog has 300+ goods, got {total}");
    let page = goods_list(&first);
    assert_eq!(page.len(), 20, "default size is 20");
    for g in page {
        for k in GOODS_NUMBERS {
            assert!(g[k].is_i64(), "{k} must be a JSON integer in {g}");
        }
        for k in GOODS_STRINGS {
            assert!(g[k].is_string(), "{k} must be a string in {g}");
        }
        for k in ["goodsImgS", "goodsImgB", "mmsGoodsImg", "brandIconImg", "goodsDescImgWeb"] {
            assert!(g[k].as_str().unwrap().starts_with(&app.server.base_url()), "{k} is absolute");
        }
    }

    // Paging through everything with start/size visits each goods once, in a stable order.
    let mut seen = Vec::new();
    for start in 1.. {
        let v = app.call("/bizApi/goods/", "0101", &[("start", &start.to_string()), ("size", "100")]).await;
        assert_code(&v, "0000");
        assert_eq!(v["result"]["listNum"].as_u64(), Some(total), "listNum is the total on every page");
        let items = goods_list(&v);
        if items.is_empty() {
            break;
        }
        seen.extend(items.iter().map(|g| g["goodsCode"].as_str().unwrap().to_owned()));
    }
    assert_eq!(seen.len() as u64, total);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no goods twice");
    assert_eq!(&seen[..20], page.iter().map(|g| g["goodsCode"].as_str().unwrap()).collect::<Vec<_>>());

    // Suspended goods are listed, marked SUS.
    let all = app.call("/bizApi/goods", "0101", &[("size", "5000")]).await;
    let states: Vec<&str> = goods_list(&all).iter().map(|g| g["goodsStateCd"].as_str().unwrap()).collect();
    assert!(states.contains(&"SUS") && states.contains(&"SALE"));
    let types: Vec<&str> = goods_list(&all).iter().map(|g| g["validPrdTypeCd"].as_str().unwrap()).collect();
    assert!(types.contains(&"01") && types.contains(&"02"), "both validity types");

    // A page past the end is success with an empty list.
    let past = app.call("/bizApi/goods", "0101", &[("start", "999999"), ("size", "5000")]).await;
    assert_code(&past, "0000");
    assert!(goods_list(&past).is_empty());
}

async fn goods_list_paging_errors(app: &TestApp) {
    for (start, size) in [("0", "20"), ("1", "0"), ("-1", "20"), ("abc", "20"), ("1", "5001"), ("1", "2.5")] {
        let v = app.call("/bizApi/goods", "0101", &[("start", start), ("size", size)]).await;
        assert_code(&v, "PAG0001");
    }
}

async fn goods_list_price_follows_the_callers_grade(app: &TestApp) {
    let basic = app.call("/bizApi/goods", "0101", &[("size", "5")]).await;
    operator::set_grade(app.store.as_ref(), &common::user("acme"), Grade::Platinum).await.unwrap();
    let platinum = app.call("/bizApi/goods", "0101", &[("size", "5")]).await;
    for (b, p) in goods_list(&basic).iter().zip(goods_list(&platinum)) {
        let code = b["goodsCode"].as_str().unwrap();
        let detail = app.call(&format!("/bizApi/goods/{code}"), "0111", &[]).await;
        let d = &detail["result"]["goodsDetail"];
        assert_eq!(p["discountPrice"], d["platinumPrice"], "list price = caller's grade price");
        assert_eq!(p["discountRate"], d["platinumDiscountRate"]);
        assert!(b["discountPrice"].as_i64() > p["discountPrice"].as_i64(), "platinum pays less than basic");
        assert!(p["discountPrice"].as_i64() < p["salePrice"].as_i64());
    }
}

async fn goods_detail_shows_every_grade(app: &TestApp) {
    let list = app.call("/bizApi/goods", "0101", &[("size", "1")]).await;
    let code = goods_list(&list)[0]["goodsCode"].as_str().unwrap().to_owned();
    // The path wins over a goods_code in the body; a trailing slash is fine.
    let v = app.call(&format!("/bizApi/goods/{code}/"), "0111", &[("goods_code", "G99999999999")]).await;
    assert_code(&v, "0000");
    let d = &v["result"]["goodsDetail"];
    assert_eq!(d["goodsCode"], code.as_str());
    for k in [
        "goodsNo", "salePrice", "realPrice", "discountPrice", "discountRate", "goldPrice", "vipPrice",
        "platinumPrice", "goldDiscountRate", "vipDiscountRate", "platinumDiscountRate", "categorySeq1", "limitDay",
    ] {
        assert!(d[k].is_i64(), "{k} must be a JSON integer in {d}");
    }
    for k in ["goodsImgS", "goodsImgB", "goodsDescImgWeb", "brandIconImg", "mmsGoodsImg", "categoryName1", "goodsTypeCd"] {
        assert!(d[k].is_string(), "{k} in {d}");
    }
    assert!(d.get("category1Seq").is_none(), "the detail spells it categorySeq1");
    let (gold, vip, plat) = (d["goldPrice"].as_i64(), d["vipPrice"].as_i64(), d["platinumPrice"].as_i64());
    assert!(gold >= vip && vip >= plat);
    assert_eq!(d["discountPrice"], list["result"]["goodsList"][0]["discountPrice"], "basic caller sees basic");
}

async fn brands_and_brand_detail(app: &TestApp) {
    let v = app.call("/bizApi/brands", "0102", &[]).await;
    assert_code(&v, "0000");
    let brands = v["result"]["brandList"].as_array().unwrap();
    assert!(brands.len() >= 30);
    assert_eq!(v["result"]["listNum"].as_u64(), Some(brands.len() as u64));
    let categories: std::collections::BTreeSet<_> = brands.iter().map(|b| b["category1Name"].as_str().unwrap()).collect();
    assert!(categories.len() >= 9, "brands across the live categories: {categories:?}");
    for b in brands {
        for k in ["brandSeq", "sort", "category1Seq", "category2Seq"] {
            assert!(b[k].is_i64(), "{k} in {b}");
        }
        for k in ["brandCode", "brandName", "brandBannerImg", "brandIConImg", "mmsThumImg", "content", "category1Name", "category2Name"] {
            assert!(b[k].is_string(), "{k} in {b}");
        }
    }
    let code = brands[0]["brandCode"].as_str().unwrap();
    let d = app.call(&format!("/bizApi/brands/{code}"), "0112", &[]).await;
    assert_code(&d, "0000");
    assert_eq!(&d["result"]["brandDetail"], &brands[0]);
}

async fn detail_endpoints_answer_err0401_for_unknown_codes(app: &TestApp) {
    assert_code(&app.call("/bizApi/goods/G00000000000", "0111", &[]).await, "ERR0401");
    assert_code(&app.call("/bizApi/brands/BR99999", "0112", &[]).await, "ERR0401");
    // Percent-encoded Hangul in the path is just an unknown code.
    assert_code(&app.call("/bizApi/goods/%EC%BB%A4%ED%94%BC", "0111", &[]).await, "ERR0401");
    assert_code(&app.call("/bizApi/brands/BR%00%20", "0112", &[]).await, "ERR0401");
}

async fn images_linked_from_the_catalog_really_serve_pngs(app: &TestApp) {
    let list = app.call("/bizApi/goods", "0101", &[("size", "1")]).await;
    let g = &goods_list(&list)[0];
    let brands = app.call("/bizApi/brands", "0102", &[]).await;
    let b = &brands["result"]["brandList"][0];
    for url in [&g["goodsImgS"], &g["goodsImgB"], &g["mmsGoodsImg"], &g["brandIconImg"], &b["brandIConImg"], &b["brandBannerImg"], &b["mmsThumImg"]] {
        let resp = app.client.get(url.as_str().unwrap()).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        assert_eq!(resp.headers()["content-type"], "image/png");
        let bytes = resp.bytes().await.unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{url} is a PNG");
    }
    let missing = app.client.get(app.url("/images/goods/G00000000000/s.png")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

async fn catalog_import_shows_on_the_next_request(app: &TestApp) {
    let before = app.call("/bizApi/goods", "0101", &[]).await;
    let total = before["result"]["listNum"].as_u64().unwrap();
    // What a live 0101 dump looks like, loaded while the server runs.
    let dump = r#"{"code":"0000","message":null,"result":{"listNum":1,"goodsList":[{
        "goodsCode":"G00009990811","goodsNo":21445,"goodsName":"광동)비타500 100ml 병","brandCode":"BR00046",
        "brandName":"세븐일레븐","discountPrice":750,"discountRate":6,"salePrice":800,"realPrice":800,
        "validPrdTypeCd":"01","limitDay":30,"goodsStateCd":"SALE","category1Seq":4,
        "goodsImgS":"https://biz.giftishow.com/Resource/goods/G00000280811/G00000280811_250.jpg"}]}}"#;
    operator::import_catalog_files(app.store.as_ref(), &["dump.json".into()], &[dump.to_owned()]).await.unwrap();
    let after = app.call("/bizApi/goods", "0101", &[]).await;
    assert_eq!(after["result"]["listNum"].as_u64(), Some(total + 1));
    let d = app.call("/bizApi/goods/G00009990811", "0111", &[]).await;
    let d = &d["result"]["goodsDetail"];
    assert_eq!(d["goodsName"], "광동)비타500 100ml 병");
    assert_eq!(d["discountPrice"], 750);
    assert_eq!(d["goodsImgS"], "https://biz.giftishow.com/Resource/goods/G00000280811/G00000280811_250.jpg");

    // A bad file changes nothing.
    let bad = r#"[{"goodsCode":"G00009990811","goodsName":"바뀐 이름","brandCode":"B","salePrice":900},
                  {"goodsCode":"G2","goodsName":"x","brandCode":"B","salePrice":-1}]"#;
    let err = operator::import_catalog_files(app.store.as_ref(), &["bad.json".into()], &[bad.to_owned()]).await;
    assert!(err.unwrap_err().to_string().contains("bad.json"));
    let d = app.call("/bizApi/goods/G00009990811", "0111", &[]).await;
    assert_eq!(d["result"]["goodsDetail"]["goodsName"], "광동)비타500 100ml 병");

    // Export writes the same shapes, and importing it into the same catalog changes nothing.
    let export = operator::export_catalog(app.store.as_ref()).await.unwrap();
    assert_eq!(export["goods"]["result"]["listNum"].as_u64(), Some(total + 1));
    assert!(export["brands"]["result"]["brandList"][0].get("brandIConImg").is_some());
    let text = serde_json::to_string(&export).unwrap();
    let goods_before = app.store.all_goods().await.unwrap();
    operator::import_catalog_files(app.store.as_ref(), &["export.json".into()], &[text]).await.unwrap();
    let goods_after = app.store.all_goods().await.unwrap();
    assert_eq!(goods_after.len(), goods_before.len());
    for (a, b) in goods_after.iter().zip(&goods_before) {
        assert!(a == b, "export → import is lossless, but {} came back as\n{a:?}\nwas\n{b:?}", b.goods_code);
    }
}

/// `Accept-Encoding: gzip` or `zstd` gets the page compressed (and the same JSON once
/// decoded); no `Accept-Encoding`, the bytes as they are.
async fn goods_pages_compress_when_asked(app: &TestApp) {
    let raw = reqwest::Client::builder().no_gzip().no_zstd().build().unwrap();
    let decoding = reqwest::Client::builder().gzip(true).zstd(true).build().unwrap();
    let mut form = app.auth("0101");
    form.push(("size".into(), "100".into()));
    let url = app.url("/bizApi/goods");
    let plain = raw.post(&url).form(&form).send().await.unwrap();
    assert_eq!(plain.headers().get("content-encoding"), None);
    let plain = plain.bytes().await.unwrap();
    assert!(plain.starts_with(b"{\"code\":\"0000\""));
    for (encoding, magic) in [("gzip", &[0x1f, 0x8b][..]), ("zstd", &[0x28, 0xb5, 0x2f, 0xfd][..])] {
        let resp = raw.post(&url).header("accept-encoding", encoding).form(&form).send().await.unwrap();
        assert_eq!(resp.headers()["content-encoding"], encoding);
        let body = resp.bytes().await.unwrap();
        assert!(body.starts_with(magic), "{encoding}");
        assert!(body.len() * 3 < plain.len(), "{encoding}: {} of {} bytes", body.len(), plain.len());
        let decoded = decoding.post(&url).header("accept-encoding", encoding).form(&form).send().await.unwrap();
        assert_eq!(decoded.bytes().await.unwrap(), plain, "{encoding} decodes to the same page");
    }
}

/// 0101 pages carry an ETag; `If-None-Match` with it is answered 412 (RFC 9110 for a POST)
/// with no body while the catalog, grade and page are the same, and the page again once the
/// catalog changed.
async fn an_unchanged_page_costs_no_body(app: &TestApp) {
    let page = |etag: Option<String>, size: &'static str| {
        let mut form = app.auth("0101");
        form.push(("size".into(), size.into()));
        let mut req = app.client.post(app.url("/bizApi/goods")).form(&form);
        if let Some(etag) = etag {
            req = req.header("if-none-match", etag);
        }
        req.send()
    };
    let first = page(None, "20").await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let again = page(Some(etag.clone()), "20").await.unwrap();
    assert_eq!(again.status(), 412);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());
    // Weak, in a list: the same.
    assert_eq!(page(Some(format!("\"x\", W/{etag}")), "20").await.unwrap().status(), 412);
    // Another page size, another tag: the page.
    let other = page(Some(etag.clone()), "21").await.unwrap();
    assert_eq!(other.status(), 200);
    assert_ne!(other.headers()["etag"], etag.as_str());
    // Wrong credentials are refused as ever, tag or not.
    let mut form = app.auth("0101");
    form[2].1 = "wrong".into();
    let v = common::envelope_of(app.client.post(app.url("/bizApi/goods")).header("if-none-match", &etag).form(&form).send().await.unwrap()).await;
    assert_code(&v, "E0009");

    // The catalog changes: the old tag no longer matches.
    let goods = app.store.all_goods().await.unwrap();
    let g = goods.iter().find(|g| g.is_listed()).unwrap();
    operator::set_grade_price(app.store.as_ref(), &g.goods_code, Grade::Basic, g.sale_price).await.unwrap();
    let changed = page(Some(etag.clone()), "20").await.unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"], etag.as_str());
    assert_code(&changed.json().await.unwrap(), "0000");
}
