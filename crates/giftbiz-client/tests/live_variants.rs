//! The SDK against a canned HTTP responder: what the requests look like on the wire, the live
//! service's answer variants end to end, and the transport-level errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use giftbiz_client::{ApiCode, Client, Config, Credentials, Error, Gubun, ResultCode, SendRequest, Timeouts};
use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "c2VjcmV0LXRva2VuLTEyMw==";

#[derive(Clone)]
enum Reply {
    Json(&'static str),
    Status(u16),
    /// Reads the request and never answers.
    Hang,
    /// Reads the request and closes the connection.
    Close,
}

#[derive(Debug, Clone)]
struct Captured {
    request_line: String,
    content_type: String,
    form: Vec<(String, String)>,
}

impl Captured {
    fn get(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Answers each connection with the next reply (the last one repeats) and records what came.
struct Fake {
    base_url: String,
    seen: Arc<Mutex<Vec<Captured>>>,
}

async fn fake(replies: Vec<Reply>) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/bizApi", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for i in 0.. {
            let Ok((conn, _)) = listener.accept().await else { return };
            let reply = replies[i.min(replies.len() - 1)].clone();
            let log = log.clone();
            tokio::spawn(async move { answer(conn, reply, log).await });
        }
    });
    Fake { base_url, seen }
}

async fn answer(mut conn: TcpStream, reply: Reply, log: Arc<Mutex<Vec<Captured>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = conn.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned()))
            .unwrap_or_default()
    };
    let len: usize = header("content-length").parse().unwrap_or(0);
    while buf.len() < head_end + len {
        let n = conn.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
    let form = Url::parse(&format!("http://x/?{body}")).unwrap().query_pairs().into_owned().collect();
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    log.lock().unwrap().push(Captured { request_line, content_type: header("content-type"), form });
    let (status, body) = match reply {
        Reply::Json(json) => (200, json.to_owned()),
        Reply::Status(code) => (code, "oops".to_owned()),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return;
        }
        Reply::Close => return,
    };
    let resp = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(resp.as_bytes()).await;
    let _ = conn.shutdown().await;
}

fn client(base_url: &str) -> Client {
    let config = Config::new(Credentials::new("REAL0123456789abcdef0123456789abcdef", TOKEN, "acme")).with_base_url(base_url);
    Client::new(config).unwrap()
}

#[tokio::test]
async fn requests_are_forms_with_the_spec_names() {
    let ok = r#"{"code":"0000","message":null,"result":{"code":"0000","message":null,"result":{"orderNo":"1"}}}"#;
    let f = fake(vec![Reply::Json(ok)]).await;
    // A trailing slash on the base URL is fine.
    let c = client(&format!("{}/", f.base_url));
    let req = SendRequest::new("shop_0001", "G00000280009", Gubun::Mms, "01012345678")
        .callback_no("15880108")
        .title("선물 도착")
        .message("감사합니다 & 즐거운 하루!")
        .reserve("20991231", "0930");
    c.send(&req).await.unwrap();
    let _ = c.goods_detail("G0001/../x").await;
    let seen = f.seen.lock().unwrap().clone();
    let send = &seen[0];
    assert_eq!(send.request_line, "POST /bizApi/send HTTP/1.1");
    assert_eq!(send.content_type, "application/x-www-form-urlencoded");
    for (name, want) in [
        ("api_code", "0204"),
        ("custom_auth_code", "REAL0123456789abcdef0123456789abcdef"),
        ("custom_auth_token", TOKEN),
        ("dev_yn", "N"),
        ("user_id", "acme"),
        ("goods_code", "G00000280009"),
        ("tr_id", "shop_0001"),
        ("gubun", "N"),
        ("phone_no", "01012345678"),
        ("callback_no", "15880108"),
        ("mms_title", "선물 도착"),
        ("mms_msg", "감사합니다 & 즐거운 하루!"),
        ("rev_info_yn", "Y"),
        ("rev_info_date", "20991231"),
        ("rev_info_time", "0930"),
    ] {
        assert_eq!(send.get(name), Some(want), "{name}");
    }
    // The code is one percent-encoded path segment.
    assert_eq!(seen[1].request_line, "POST /bizApi/goods/G0001%2F..%2Fx HTTP/1.1");
    assert_eq!(seen[1].get("api_code"), Some("0111"));
}

#[tokio::test]
async fn live_answer_variants_decode() {
    let f = fake(vec![Reply::Json(r#"{"code":"0000","message":null,"balance":"250000"}"#)]).await;
    assert_eq!(client(&f.base_url).bizmoney().await.unwrap(), 250_000);

    let f = fake(vec![Reply::Json(r#"{"code":"0000","message":"","result":{"balance":98000}}"#)]).await;
    assert_eq!(client(&f.base_url).bizmoney().await.unwrap(), 98_000);

    let goods = r#"{"code":"0000","message":null,"result":{"listNum":"1","goodsList":[
        {"goodsCode":"G1","goodsName":"아메리카노","salePrice":"800","discountPrice":"752","goodsNo":"17","popular":null}]}}"#;
    let f = fake(vec![Reply::Json(goods)]).await;
    let page = client(&f.base_url).goods_list(1, 20).await.unwrap();
    let g = &page.goods_list[0];
    assert_eq!((page.list_num, g.sale_price, g.discount_price, g.goods_no, g.popular), (1, 800, 752, 17, 0));
    assert_eq!((g.brand_code.as_str(), g.goods_img_s.as_str()), ("", ""));
    let f = fake(vec![Reply::Json(r#"{"code":"0000","message":null,"result":{"orderNo":202512046,"pinNo":"911259415286"}}"#)]).await;
    let sent = client(&f.base_url).send(&SendRequest::new("t", "G1", Gubun::Pin, "01012345678")).await.unwrap();
    assert_eq!((sent.order_no.as_str(), sent.pin.unwrap().expose()), ("202512046", "911259415286"));
}

#[tokio::test]
async fn api_errors_are_typed_even_with_a_numeric_code_or_no_message() {
    let f = fake(vec![Reply::Json(r#"{"code":"ERR0215","result":null}"#)]).await;
    let e = client(&f.base_url).cancel("t").await.unwrap_err();
    assert!(e.is(ResultCode::TrIdDuplicate));
    assert_eq!(e.to_string(), "ERR0215 TR ID 가 중복되었습니다.");
    let f = fake(vec![Reply::Json(r#"{"code":"COUPON.0099","message":"새 오류","result":null}"#)]).await;
    let e = client(&f.base_url).resend("t", Default::default()).await.unwrap_err();
    assert_eq!(e.code().map(|c| c.as_str()), Some("COUPON.0099"));
    assert!(e.code().unwrap().result_code().is_none());
}

#[tokio::test]
async fn transport_errors_say_whether_the_request_may_have_arrived() {
    // Not JSON: decoded nothing, but the server answered, so it may have acted.
    let f = fake(vec![Reply::Json("<html>maintenance</html>")]).await;
    let e = client(&f.base_url).bizmoney().await.unwrap_err();
    assert!(matches!(e, Error::Decode { api: ApiCode::Bizmoney, .. }) && e.is_ambiguous(), "{e}");

    let f = fake(vec![Reply::Status(502)]).await;
    let e = client(&f.base_url).brands().await.unwrap_err();
    assert!(matches!(&e, Error::Transport { detail, maybe_delivered: true, .. } if detail.contains("502")), "{e}");

    let f = fake(vec![Reply::Close]).await;
    let e = client(&f.base_url).cancel("t").await.unwrap_err();
    assert!(matches!(e, Error::Transport { maybe_delivered: true, .. }), "{e}");

    // Nobody listens: the request never left.
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let e = client(&format!("http://127.0.0.1:{port}/bizApi")).bizmoney().await.unwrap_err();
    assert!(matches!(e, Error::Transport { maybe_delivered: false, .. }) && !e.is_ambiguous(), "{e}");
    assert!(!e.to_string().contains(TOKEN));
}

#[tokio::test]
async fn each_call_has_its_own_timeout() {
    assert_eq!(Timeouts::default().get(ApiCode::Send), Duration::from_secs(15));
    assert_eq!(Timeouts::default().get(ApiCode::GoodsList), Duration::from_secs(10));
    let f = fake(vec![Reply::Hang]).await;
    let timeouts = Timeouts::uniform(Duration::from_millis(200)).with(ApiCode::Send, Duration::from_millis(600));
    let config = Config::new(Credentials::new("REALx", TOKEN, "acme")).with_base_url(&f.base_url).with_timeouts(timeouts);
    let c = Client::new(config).unwrap();
    let started = std::time::Instant::now();
    let e = c.bizmoney().await.unwrap_err();
    assert!(matches!(e, Error::Timeout { api: ApiCode::Bizmoney, after } if after == Duration::from_millis(200)), "{e}");
    assert!(e.is_ambiguous());
    let e = c.send(&SendRequest::new("t", "G1", Gubun::Pin, "01012345678")).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { api: ApiCode::Send, .. }), "{e}");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(800) && took < Duration::from_secs(5), "{took:?}");
}
