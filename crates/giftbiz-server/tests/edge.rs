//! The network edge against slow, idle, hostile and malformed clients (issue: a production-safe
//! edge): connections are capped and timed, bodies are bounded, and every rejection the
//! application shapes is JSON. Raw TCP where a client library would not misbehave on purpose.

mod common;

use std::time::Duration;

use common::{assert_code, Engine, TestApp};
use giftbiz_server::Settings;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A guard against a hang, never a measure: far above any deadline these tests set.
const HANG: Duration = Duration::from_secs(60);

fn tight() -> Settings {
    Settings {
        request_head_timeout_ms: 400,
        request_body_timeout_ms: 400,
        max_connections: 4,
        ..Settings::default()
    }
}

async fn app_with(settings: Settings) -> TestApp {
    TestApp::spawn_with(Engine::Sqlite, settings).await.expect("sqlite always runs")
}

/// Reads until the server closes the connection; what it wrote before, if anything.
async fn until_closed(conn: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    // A reset is a close too: only a hang fails.
    let _ = tokio::time::timeout(HANG, conn.read_to_end(&mut seen)).await.expect("the server closes the connection");
    seen
}

fn json_body(answer: &[u8]) -> Value {
    let text = String::from_utf8_lossy(answer);
    let (_, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("an HTTP answer: {text}"));
    serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON ({e}): {text}"))
}

#[tokio::test]
async fn idle_and_half_sent_heads_are_closed_at_the_head_deadline() {
    let app = app_with(tight()).await;
    // Connected, never a byte: closed without an answer.
    let mut idle = TcpStream::connect(app.server.addr).await.unwrap();
    assert!(until_closed(&mut idle).await.is_empty());
    // Half a head: closed (hyper may say 408 first).
    let mut half = TcpStream::connect(app.server.addr).await.unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n").await.unwrap();
    let seen = until_closed(&mut half).await;
    assert!(seen.is_empty() || seen.starts_with(b"HTTP/1.1 408"), "{}", String::from_utf8_lossy(&seen));
    // Kept alive after an answer, then idle: closed too.
    let mut kept = TcpStream::connect(app.server.addr).await.unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    let seen = until_closed(&mut kept).await;
    assert!(seen.starts_with(b"HTTP/1.1 200"), "answered before it was closed");
    app.finish().await;
}

/// A head sent a byte at a time does not extend its deadline: the server closes the
/// connection while the client is still dribbling.
#[tokio::test]
async fn a_head_dribbled_byte_by_byte_is_cut_off() {
    let app = app_with(tight()).await;
    let mut conn = TcpStream::connect(app.server.addr).await.unwrap();
    let head = format!("GET /health HTTP/1.1\r\nHost: t\r\nX-Pad: {}\r\n\r\n", "p".repeat(400));
    let mut sent = 0;
    for byte in head.bytes() {
        // The attack itself: one byte every 20 ms, 8 s for the whole head.
        tokio::time::sleep(Duration::from_millis(20)).await;
        if conn.write_all(&[byte]).await.is_err() {
            break;
        }
        sent += 1;
        let mut probe = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::ZERO, conn.read(&mut probe)).await {
            break;
        }
    }
    let seen = until_closed(&mut conn).await;
    assert!(!seen.starts_with(b"HTTP/1.1 200"), "the dribbled head was never served");
    assert!(sent < head.len(), "cut off before the head was complete ({sent} of {} bytes)", head.len());
    app.finish().await;
}

/// More idle connections than the cap: they wait or are closed at their deadline, and a
/// well-behaved client is served (/health and 0101).
#[tokio::test]
async fn connections_beyond_the_cap_do_not_starve_a_well_behaved_client() {
    let app = app_with(tight()).await;
    let mut attackers = Vec::new();
    for _ in 0..12 {
        let mut c = TcpStream::connect(app.server.addr).await.unwrap();
        c.write_all(b"POST /bizApi/goods HTTP/1.1\r\nHost: t\r\n").await.unwrap();
        attackers.push(c);
    }
    let health = tokio::time::timeout(HANG, app.client.get(app.url("/health")).send()).await.expect("served").unwrap();
    assert_eq!(health.status(), 200);
    let goods = tokio::time::timeout(HANG, app.call("/bizApi/goods", "0101", &[("size", "20")])).await.expect("served");
    assert_code(&goods, "0000");
    for mut c in attackers {
        until_closed(&mut c).await;
    }
    app.finish().await;
}

/// A body that stops short of its declared length is cut off at the body deadline (ERR0201);
/// one that outlasts the request deadline instead answers E9999, both as the envelope.
#[tokio::test]
async fn slow_bodies_are_cut_off_at_their_deadlines() {
    let app = app_with(tight()).await;
    let mut conn = TcpStream::connect(app.server.addr).await.unwrap();
    let head = "POST /bizApi/goods HTTP/1.1\r\nHost: t\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 1000\r\n\r\n";
    conn.write_all(format!("{head}api_code=0101").as_bytes()).await.unwrap();
    let answer = until_closed(&mut conn).await;
    let v = json_body(&answer);
    assert_code(&v, "ERR0201");
    assert!(v["message"].as_str().unwrap().contains("in time"), "{v}");
    app.finish().await;

    let app = app_with(Settings { request_timeout_ms: 400, request_body_timeout_ms: 60_000, ..tight() }).await;
    let mut conn = TcpStream::connect(app.server.addr).await.unwrap();
    conn.write_all(format!("{head}api_code=0101").as_bytes()).await.unwrap();
    let answer = until_closed(&mut conn).await;
    assert_code(&json_body(&answer), "E9999");
    app.finish().await;
}

/// Outside /bizApi the application's rejections are JSON too: a wrong method on /health, an
/// image that does not exist, an unknown coupon image.
#[tokio::test]
async fn rejections_outside_the_api_are_json() {
    let app = app_with(Settings::default()).await;
    for (method, path, status, error) in [
        (reqwest::Method::POST, "/health", 405, "method_not_allowed"),
        (reqwest::Method::GET, "/images/goods/G00000000000/small.png", 404, "not_found"),
        (reqwest::Method::GET, "/images/goods/G%00/small.png", 404, "not_found"),
        (reqwest::Method::GET, "/images/brands/BR%1B/banner.png", 404, "not_found"),
        (reqwest::Method::GET, "/coupon-images/nope.png", 404, "not_found"),
        (reqwest::Method::DELETE, "/coupon-images/nope.png", 405, "method_not_allowed"),
    ] {
        let resp = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), status, "{method} {path}");
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "{method} {path}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"], error, "{method} {path}: {v}");
        assert!(v["message"].is_string());
    }
    app.finish().await;
}

/// With a certificate configured the server speaks HTTPS (and only HTTPS): a client that trusts
/// the certificate gets the API as over HTTP; TLS below 1.2 is not offered.
#[tokio::test]
async fn https_round_trip_with_a_generated_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let generated = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, generated.cert.pem()).unwrap();
    std::fs::write(&key_path, generated.signing_key.serialize_pem()).unwrap();
    let settings = Settings {
        tls_cert_path: Some(cert_path.display().to_string()),
        tls_key_path: Some(key_path.display().to_string()),
        ..Settings::default()
    };
    let app = app_with(settings).await;
    assert!(app.server.base_url().starts_with("https://"));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(generated.cert.pem().as_bytes()).unwrap())
        .min_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    let health = client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let mut form = app.auth("0102");
    form.push(("user_id".into(), "acme".into()));
    let v: Value = client.post(app.url("/bizApi/brands")).form(&form).send().await.unwrap().json().await.unwrap();
    assert_code(&v, "0000");
    // Plain HTTP on the HTTPS port gets no API answer.
    let plain = app.client.get(format!("http://{}/health", app.server.addr)).send().await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true), "plain HTTP is not served");
    app.finish().await;
}

/// Renders cost CPU and need no credentials: past `image_renders_per_minute` a client address
/// gets 429 for a new image, while cached ones are still served.
#[tokio::test]
async fn image_renders_are_limited_per_address_and_cached_images_are_not() {
    let app = app_with(Settings { image_renders_per_minute: 3, ..Settings::default() }).await;
    let list = app.call("/bizApi/goods", "0101", &[("size", "5")]).await;
    let urls: Vec<String> =
        list["result"]["goodsList"].as_array().unwrap().iter().map(|g| g["goodsImgS"].as_str().unwrap().to_owned()).collect();
    let mut statuses = Vec::new();
    for url in &urls {
        statuses.push(app.client.get(url).send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let again = app.client.get(&urls[0]).send().await.unwrap();
    assert_eq!(again.status(), 200, "a cached image is no render");
    let refused = app.client.get(&urls[4]).send().await.unwrap();
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "rate_limited");
    app.finish().await;
}
