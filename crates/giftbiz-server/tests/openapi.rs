//! The OpenAPI document itself: a 3.1 document whose every `$ref` resolves, that names the ten
//! `/bizApi` operations and every result code, and whose every path the running server
//! serves (schemathesis in CI checks the answers against it: `.ci/schemathesis`).

mod common;

use std::collections::BTreeSet;

use common::{Engine, TestApp};
use giftbiz_server::Settings;
use giftbiz_wire::{ApiCode, ResultCode};
use serde_json::Value;

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_whole_and_every_path_is_served() {
    let app = TestApp::spawn_with(Engine::Sqlite, Settings { sandbox: true, admin_token: Some("a-sandbox-admin-token".into()), ..Settings::default() })
        .await
        .unwrap();
    let resp = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));

    // Every reference names a component.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("a schema reference: {r}"));
        assert!(doc["components"]["schemas"].get(name).is_some(), "{r} resolves");
    }

    // The ten operations, each with its request body (form, JSON, multipart) and answer.
    let paths = doc["paths"].as_object().unwrap();
    for code in ApiCode::ALL {
        let op = paths
            .iter()
            .filter(|(p, _)| p.starts_with("/bizApi/"))
            .find_map(|(_, item)| item["post"].as_object().filter(|op| op["operationId"] == format!("biz_{}", code.code())))
            .unwrap_or_else(|| panic!("{code} is documented"));
        let content = op["requestBody"]["content"].as_object().unwrap();
        let types: BTreeSet<&str> = content.keys().map(String::as_str).collect();
        assert_eq!(types, BTreeSet::from(["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]));
        let required = content["application/x-www-form-urlencoded"]["schema"]["required"].as_array().unwrap();
        for common in giftbiz_wire::params::COMMON {
            assert!(required.iter().any(|r| r == common), "{code}: {common} required");
        }
        assert!(op["responses"]["200"]["content"]["application/json;charset=UTF-8"]["schema"]["anyOf"].is_array());
    }
    // 0201's coupon has the 17 keys; the send nests the envelope twice.
    assert_eq!(doc["components"]["schemas"]["CouponInfo"]["properties"].as_object().unwrap().len(), 17);
    let send = &paths["/bizApi/send"]["post"]["responses"]["200"]["content"]["application/json;charset=UTF-8"]["schema"]["anyOf"][0];
    assert_eq!(send["properties"]["result"]["properties"]["result"]["$ref"], "#/components/schemas/SendResult");

    // Every result code but 0000 is a documented error code.
    let documented: BTreeSet<&str> =
        doc["components"]["schemas"]["ErrorEnvelope"]["properties"]["code"]["enum"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let expected: BTreeSet<&str> = ResultCode::ALL.iter().filter(|c| **c != ResultCode::Ok).map(|c| c.code()).collect();
    assert_eq!(documented, expected);
    assert_eq!(
        doc["components"]["schemas"]["Advance"]["properties"]["seconds"]["maximum"],
        giftbiz_server::http::sandbox::MAX_ADVANCE_SECS,
        "the sandbox's bound as the handler checks it"
    );

    // The server serves every documented path: none is an unknown path to it.
    for (path, item) in paths {
        let concrete = path.replace("{goodsCode}", "G0000000001").replace("{brandCode}", "B1").replace("{goods_code}", "G1").replace("{brand_code}", "B1").replace("{file}", "x.png");
        for method in item.as_object().unwrap().keys() {
            let req = match method.as_str() {
                "get" => app.client.get(app.url(&concrete)),
                "post" => app.client.post(app.url(&concrete)),
                other => panic!("{other} {path}"),
            };
            let body = req.send().await.unwrap().text().await.unwrap();
            assert!(!body.contains("no such API path"), "{method} {path} is served: {body}");
        }
    }

    // The page people read: every operation, with no outside asset.
    let page = app.client.get(app.url("/docs")).send().await.unwrap();
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    for code in ApiCode::ALL {
        assert!(html.contains(&format!("id=\"biz_{}\"", code.code())), "{code} on /docs");
    }
    assert!(html.contains("쿠폰발송요청 / Send a coupon"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no outside asset");
    assert_eq!(app.client.get(app.url("/docs/docs.css")).send().await.unwrap().status(), 200);
    app.finish().await;
}
