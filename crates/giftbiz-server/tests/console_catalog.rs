//! The console's catalog and partner pages over real HTTP, on both engines: who may change
//! what, every change seen by the API at once and in the audit log, an import previewed
//! before it changes anything, and partner tokens shown once and rotated.

mod common;

use common::console::{get, operator_session, post_as};
use common::TestApp;
use giftbiz_core::console::AuditFilter;
use giftbiz_core::console::OperatorRole;
use giftbiz_core::{GoodsCode, GoodsState, Grade};
use reqwest::header::LOCATION;
use reqwest::StatusCode;

both_engines!(
    goods_are_found_by_filters_and_changed_by_admins_only,
    an_import_is_previewed_before_it_changes_anything,
    partners_are_created_and_their_tokens_rotated,
);

/// The first goods on sale in the demo catalog.
async fn some_goods(app: &TestApp) -> giftbiz_core::Goods {
    let all = app.store.all_goods().await.unwrap();
    all.into_iter().find(|g| g.state == GoodsState::Sale).expect("the demo catalog has goods on sale")
}

async fn stored(app: &TestApp, code: &GoodsCode) -> giftbiz_core::Goods {
    app.store.goods_by_code(code).await.unwrap().unwrap()
}

async fn goods_are_found_by_filters_and_changed_by_admins_only(app: &TestApp) {
    let viewer = operator_session(app, "vic", OperatorRole::Viewer).await;
    let support = operator_session(app, "sup", OperatorRole::Support).await;
    let admin = operator_session(app, "adm", OperatorRole::Admin).await;
    let goods = some_goods(app).await;
    let code = goods.goods_code.to_string();

    // Search by a word of the name, filter by brand and by state.
    let word: String = goods.goods_name.chars().take(4).collect();
    let q = format!("/console/catalog?q={}&brand={}", urlencode(&word), goods.brand_code);
    let page = get(app, &q, Some(&viewer.0)).await.text().await.unwrap();
    assert!(page.contains(&format!(r#"href="/console/catalog/goods/{code}""#)), "{page}");
    let page = get(app, &format!("/console/catalog?q={}&state=SUS", urlencode(&word)), Some(&viewer.0)).await.text().await.unwrap();
    assert!(!page.contains(&format!("/console/catalog/goods/{code}")), "not suspended yet");
    assert_eq!(get(app, "/console/catalog?state=NOPE", Some(&viewer.0)).await.status(), StatusCode::BAD_REQUEST);
    let brands = get(app, "/console/catalog/brands", Some(&viewer.0)).await.text().await.unwrap();
    assert!(brands.contains(&format!("/console/catalog?brand={}", goods.brand_code)), "{brands}");
    assert_eq!(get(app, "/console/catalog/goods/G00000000000", Some(&viewer.0)).await.status(), StatusCode::NOT_FOUND);

    // Only the admin sees the forms; the others' own cookie and token change nothing.
    let goods_page = format!("/console/catalog/goods/{code}");
    assert!(!get(app, &goods_page, Some(&viewer.0)).await.text().await.unwrap().contains("/state\""));
    assert!(get(app, &goods_page, Some(&admin.0)).await.text().await.unwrap().contains(&format!("{goods_page}/state")));
    let suspend = [("state", "SUS"), ("reason", "supplier out of stock")];
    for who in [&viewer, &support] {
        assert_eq!(post_as(app, who, &format!("/console/catalog/goods/{code}/state"), &suspend).await.status(), StatusCode::FORBIDDEN);
    }
    for bad in [[("state", "DEL"), ("reason", "x")], [("state", "SUS"), ("reason", " ")]] {
        assert_eq!(post_as(app, &admin, &format!("/console/catalog/goods/{code}/state"), &bad).await.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(stored(app, &goods.goods_code).await, goods, "nothing refused changed the goods");

    // The admin suspends it: 0111 shows SUS at once and a send of it is refused.
    let resp = post_as(app, &admin, &format!("/console/catalog/goods/{code}/state"), &suspend).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], format!("/console/catalog/goods/{code}?done=1"));
    let detail = app.call(&format!("/bizApi/goods/{code}"), "0111", &[]).await;
    assert_eq!(detail["result"]["goodsDetail"]["goodsStateCd"], "SUS");
    let send = app.call("/bizApi/send", "0204", &common::send_params(&code, "T-SUSPENDED", "Y", &[])).await;
    assert_ne!(send["code"], "0000", "{send}");
    let page = get(app, &format!("/console/catalog?state=SUS&brand={}", goods.brand_code), Some(&viewer.0)).await.text().await.unwrap();
    assert!(page.contains(&format!("/console/catalog/goods/{code}")));

    // A grade price: above zero and at most the sale price, else refused.
    let sale = goods.sale_price.get();
    for bad in [(sale + 10).to_string(), "0".into(), "12.5".into()] {
        let resp = post_as(app, &admin, &format!("/console/catalog/goods/{code}/price"), &[("grade", "gold"), ("price", &bad), ("reason", "promo")]).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let new_price = (sale - sale / 5).to_string();
    let resp = post_as(app, &admin, &format!("/console/catalog/goods/{code}/price"), &[("grade", "gold"), ("price", &new_price), ("reason", "promo")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let after = stored(app, &goods.goods_code).await;
    assert_eq!(after.prices.for_grade(Grade::Gold).price.get(), sale - sale / 5);
    assert_eq!(after.prices.for_grade(Grade::Gold).rate, 20);
    assert_eq!(after.prices.basic, goods.prices.basic, "the other grades stay");
    let detail = app.call(&format!("/bizApi/goods/{code}"), "0111", &[]).await;
    assert_eq!(detail["result"]["goodsDetail"]["goldPrice"].to_string().trim_matches('"'), new_price);

    let audit = app.store.audit_log(&AuditFilter::target(format!("goods:{code}")), None, 10).await.unwrap();
    let seen: Vec<(&str, &str)> = audit.iter().map(|e| (e.action.as_str(), e.reason.as_str())).collect();
    assert_eq!(seen, vec![("goods.grade_price", "promo"), ("goods.state", "supplier out of stock")]);
    assert_eq!(audit[1].before.as_deref(), Some(r#"{"goodsStateCd":"SALE"}"#));
    assert_eq!(audit[1].after.as_deref(), Some(r#"{"goodsStateCd":"SUS"}"#));
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn an_import_is_previewed_before_it_changes_anything(app: &TestApp) {
    let finance = operator_session(app, "fin", OperatorRole::Finance).await;
    let admin = operator_session(app, "adm", OperatorRole::Admin).await;
    let goods = some_goods(app).await;
    let code = goods.goods_code.to_string();
    let export = giftbiz_server::operator::export_catalog(app.store.as_ref()).await.unwrap();
    // The same catalog with one goods renamed.
    let mut changed = export.clone();
    for g in changed["goods"]["result"]["goodsList"].as_array_mut().unwrap() {
        if g["goodsCode"] == code.as_str() {
            g["goodsName"] = "새 이름 아메리카노".into();
        }
    }
    let text = changed.to_string();
    let total_before = app.store.all_goods().await.unwrap().len();

    assert_eq!(get(app, "/console/catalog/import", Some(&finance.0)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(post_as(app, &finance, "/console/catalog/import/preview", &[("catalog", &text)]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(get(app, "/console/catalog/import", Some(&admin.0)).await.status(), StatusCode::OK);

    // The preview names the one change and changes nothing.
    let resp = post_as(app, &admin, "/console/catalog/import/preview", &[("catalog", &text)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    assert!(page.contains(&format!("goodsName: {} → 새 이름 아메리카노", goods.goods_name)), "{page}");
    assert_eq!(page.matches(r#"<tr class="changed">"#).count(), 1, "{page}");
    assert_eq!(stored(app, &goods.goods_code).await.goods_name, goods.goods_name);
    // The unchanged export previews as nothing to do.
    let page = post_as(app, &admin, "/console/catalog/import/preview", &[("catalog", &export.to_string())]).await.text().await.unwrap();
    assert!(page.contains(r#"id="preview-empty""#), "{page}");

    // A broken file is refused with where it is wrong, and nothing changes.
    let resp = post_as(app, &admin, "/console/catalog/import", &[("catalog", r#"[{"goodsCode":"G1","brandCode":"B","salePrice":5}]"#), ("reason", "x")]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("goodsName is missing"));
    assert_eq!(post_as(app, &admin, "/console/catalog/import", &[("catalog", &text), ("reason", " ")]).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(stored(app, &goods.goods_code).await.goods_name, goods.goods_name);

    // Applied: the API lists the new name; the catalog's size is the same; it is audited.
    let resp = post_as(app, &admin, "/console/catalog/import", &[("catalog", &text), ("reason", "weekly supplier file")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console/catalog?done=imported");
    let detail = app.call(&format!("/bizApi/goods/{code}"), "0111", &[]).await;
    assert_eq!(detail["result"]["goodsDetail"]["goodsName"], "새 이름 아메리카노");
    assert_eq!(app.store.all_goods().await.unwrap().len(), total_before);
    let audit = app.store.audit_log(&AuditFilter::target("catalog"), None, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!((audit[0].action.as_str(), audit[0].reason.as_str(), audit[0].operator_name.as_str()), ("catalog.import", "weekly supplier file", "adm"));
}

async fn partners_are_created_and_their_tokens_rotated(app: &TestApp) {
    let finance = operator_session(app, "fin", OperatorRole::Finance).await;
    let admin = operator_session(app, "adm", OperatorRole::Admin).await;
    let create = [("name", "카페 본점"), ("brands", "BR00001")];
    assert_eq!(post_as(app, &finance, "/console/partners", &create).await.status(), StatusCode::FORBIDDEN);
    assert!(app.store.list_partners().await.unwrap().is_empty());
    assert_eq!(post_as(app, &admin, "/console/partners", &[("name", " "), ("brands", "BR00001")]).await.status(), StatusCode::BAD_REQUEST);

    // Created: the page shows the token this once; the partner API takes it.
    let resp = post_as(app, &admin, "/console/partners", &create).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let page = resp.text().await.unwrap();
    let code = between(&page, r#"<code id="partner-code">"#, "</code>");
    let first = between(&page, r#"<code id="partner-token">"#, "</code>");
    assert_eq!(lookup(app, &code, &first).await, StatusCode::NOT_FOUND, "authenticated; the PIN is unknown");
    let page = get(app, &format!("/console/partners/{code}"), Some(&finance.0)).await.text().await.unwrap();
    assert!(!page.contains(&first), "the token is never shown again");
    assert!(page.contains("not_found"), "the lookup is among the redemptions: {page}");
    assert!(get(app, "/console/partners", Some(&finance.0)).await.text().await.unwrap().contains(&format!("/console/partners/{code}")));

    // Rotated: the old token stops working, the new one works.
    assert_eq!(post_as(app, &finance, &format!("/console/partners/{code}/rotate-token"), &[("reason", "x")]).await.status(), StatusCode::FORBIDDEN);
    let resp = post_as(app, &admin, &format!("/console/partners/{code}/rotate-token"), &[("reason", "token leaked")]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let second = between(&resp.text().await.unwrap(), r#"<code id="partner-token">"#, "</code>");
    assert_ne!(first, second);
    assert_eq!(lookup(app, &code, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(lookup(app, &code, &second).await, StatusCode::NOT_FOUND);

    let audit = app.store.audit_log(&AuditFilter::target(format!("partner:{code}")), None, 10).await.unwrap();
    let seen: Vec<(&str, &str)> = audit.iter().map(|e| (e.action.as_str(), e.reason.as_str())).collect();
    assert_eq!(seen, vec![("partner.rotate_token", "token leaked"), ("partner.create", "")]);
    assert!(audit.iter().all(|e| !e.after.as_deref().unwrap_or("").contains(&first)), "no token in the audit");
}

fn between(html: &str, start: &str, end: &str) -> String {
    let at = html.find(start).unwrap_or_else(|| panic!("{start} in {html}")) + start.len();
    html[at..].split(end).next().unwrap().to_owned()
}

/// A partner API lookup of a PIN no coupon has: its HTTP status.
async fn lookup(app: &TestApp, code: &str, token: &str) -> StatusCode {
    let resp = app
        .client
        .post(app.url("/partner/v1/coupons/lookup"))
        .header("X-Partner-Code", code)
        .bearer_auth(token)
        .json(&serde_json::json!({ "pin": "123456789012" }))
        .send()
        .await
        .unwrap();
    resp.status()
}
