//! What a real `giftbiz serve` logs: a request's id on its answer and on every log line it
//! causes, down to the delivery of the message it queued.

mod common;

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The next JSON log line `matches` accepts; panics after `bound` without one.
fn line_where(logs: &Receiver<String>, bound: Duration, matches: impl Fn(&Value) -> bool) -> Value {
    let until = Instant::now() + bound;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let line = logs.recv_timeout(left).unwrap_or_else(|_| panic!("no such log line within {bound:?}"));
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            if matches(&v) {
                return v;
            }
        }
    }
}

/// The request id of a log line: its span's field (the request's, or the delivery's).
fn request_id_of(line: &Value) -> Option<&str> {
    line["span"]["request_id"].as_str()
}

#[tokio::test]
async fn a_request_id_reaches_the_answer_and_the_delivery_log_line() {
    let (served, logs) = common::serve_with_logs(&[("GIFTBIZ_DELIVERY_INTERVAL_MS", "50")]);
    let listed = served.client_command(&["goods", "list", "--size", "50", "--json"]).output().unwrap();
    let goods: Value = serde_json::from_str(&common::ok(&listed)).unwrap();
    let code = goods.as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SALE").unwrap()["goodsCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let send = |tr_id: &str, request_id: Option<&str>| {
        let form = [
            ("api_code", "0204"),
            ("custom_auth_code", served.auth_code.as_str()),
            ("custom_auth_token", served.auth_token.as_str()),
            ("dev_yn", "N"),
            ("goods_code", code.as_str()),
            ("mms_msg", "감사합니다"),
            ("mms_title", "선물"),
            ("callback_no", "15880108"),
            ("phone_no", "01012345678"),
            ("tr_id", tr_id),
            ("gubun", "N"),
            ("user_id", "demo"),
        ];
        let mut req = http.post(format!("{}/send", served.base_url())).form(&form);
        if let Some(id) = request_id {
            req = req.header("X-Request-Id", id);
        }
        req.send()
    };

    // The client's id comes back, and names the send's log line and the delivery's.
    let resp = send("log_req_1", Some("it-req-42")).await.unwrap();
    assert_eq!(resp.headers()["x-request-id"], "it-req-42");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["result"]["code"], "0000", "{body}");
    let issued = line_where(&logs, Duration::from_secs(30), |l| l["fields"]["message"] == "coupon issued");
    assert_eq!(request_id_of(&issued), Some("it-req-42"), "{issued}");
    assert_eq!(issued["fields"]["tr_id"], "log_req_1");
    let delivered = line_where(&logs, Duration::from_secs(30), |l| {
        l["fields"]["message"] == "message" && l["fields"]["tr_id"] == "log_req_1"
    });
    assert_eq!(request_id_of(&delivered), Some("it-req-42"), "{delivered}");
    assert_eq!(delivered["fields"]["outcome"], "delivered");
    // The phone is masked there; the PIN is nowhere in it.
    assert!(!delivered.to_string().contains("01012345678"), "{delivered}");

    // An id that is no sane one (too long) is replaced by one of ours, echoed the same way.
    let resp = send("log_req_2", Some(&"x".repeat(65))).await.unwrap();
    let made = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made.len(), 32, "{made}");
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()));
    let delivered = line_where(&logs, Duration::from_secs(30), |l| {
        l["fields"]["message"] == "message" && l["fields"]["tr_id"] == "log_req_2"
    });
    assert_eq!(request_id_of(&delivered), Some(made.as_str()), "{delivered}");

    // The delivery's message line in the gateway's file names the request too.
    let file = std::fs::read_to_string(served.dir.path().join("messages.jsonl")).unwrap();
    let first: Value = serde_json::from_str(file.lines().next().unwrap()).unwrap();
    assert_eq!(first["request_id"], "it-req-42");
}

/// A plain build refuses `otlp_endpoint` rather than drop the spans it asks for.
#[cfg(not(feature = "otlp"))]
#[test]
fn a_build_without_otlp_refuses_an_otlp_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_giftbiz"))
        .args(["serve", "--database", &format!("sqlite://{}", dir.path().join("x.db").display()), "--listen", "127.0.0.1:0"])
        .env("GIFTBIZ_OTLP_ENDPOINT", "http://127.0.0.1:9/v1/traces")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("built without the `otlp` feature"), "{out:?}");
}

/// `--features otlp`: the request's span reaches a real OTLP/HTTP receiver (a small HTTP server
/// of the test's), carrying the request's id.
#[cfg(feature = "otlp")]
#[tokio::test]
async fn spans_are_exported_over_otlp_with_the_request_id() {
    use std::io::{BufRead, BufReader, Read, Write};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    let (tx, bodies) = std::sync::mpsc::channel::<(String, Vec<u8>)>();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n");
            if tx.send((head, body)).is_err() {
                return;
            }
        }
    });
    let (served, _logs) =
        common::serve_with_logs(&[("GIFTBIZ_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_BSP_SCHEDULE_DELAY", "100")]);
    let resp = reqwest::Client::new().get(format!("{}/health", served.base)).header("X-Request-Id", "otlp-req-77").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let until = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        let (head, body) = bodies.recv_timeout(left).expect("an OTLP export within 30 s");
        assert!(head.starts_with("POST /v1/traces"), "{head}");
        assert!(head.to_ascii_lowercase().contains("application/x-protobuf"), "{head}");
        let text = String::from_utf8_lossy(&body);
        if text.contains("otlp-req-77") {
            assert!(text.contains("request_id") && text.contains("giftbiz"), "the request span, with its service");
            break;
        }
    }
}
