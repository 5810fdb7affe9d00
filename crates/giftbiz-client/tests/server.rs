//! The SDK against the real giftbiz server on loopback: every endpoint, typed results and typed
//! errors.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{Server, USER_ID};
use giftbiz_client::wire::coupon::CouponInfo;
use giftbiz_client::{Client, Code, Credentials, Error, Gubun, ResendVia, ResultCode, SendRequest, TrIdGenerator};
use giftbiz_core::time::{from_millis, kst, Clock, SystemClock};
use giftbiz_core::Grade;
use giftbiz_server::operator;

const PHONE: &str = "01012345678";

fn request(tr_id: &str, goods: &str, gubun: Gubun) -> SendRequest {
    SendRequest::new(tr_id, goods, gubun, PHONE)
        .callback_no("15880108")
        .title("선물 도착")
        .message("감사합니다. 선물이 도착했습니다.")
}

/// The first goods on sale, and its price for the caller.
async fn on_sale(client: &Client) -> (String, i64) {
    let page = client.goods_list(1, 50).await.unwrap();
    let g = page.goods_list.iter().find(|g| g.goods_state_cd == "SALE").expect("a goods on sale");
    (g.goods_code.clone(), g.discount_price)
}

#[track_caller]
fn assert_api(result: Result<impl std::fmt::Debug, Error>, code: ResultCode) {
    match result {
        Err(Error::Api { code: got, message }) => {
            assert_eq!(got, Code::Known(code), "{message}");
            // The service's text is the spec's, perhaps with the parameter in parentheses.
            assert!(message.starts_with(code.message()), "{code:?}: {message}");
        }
        other => panic!("expected {} but got {other:?}", code.code()),
    }
}

async fn coupon(client: &Client, tr_id: &str) -> CouponInfo {
    let mut list = client.coupon_detail(tr_id).await.unwrap();
    assert_eq!(list.len(), 1, "one coupon per send");
    list.remove(0)
}

/// Waits for the server's delivery worker to report the message's fate.
async fn delivered(client: &Client, tr_id: &str) -> CouponInfo {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let c = coupon(client, tr_id).await;
        if c.send_status_cd.as_deref() == Some("발송완료") || Instant::now() > deadline {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goods_pages_details_and_brands() {
    let server = Server::start(Grade::Gold, 0).await;
    let client = server.client();

    let first = client.goods_list(1, 50).await.unwrap();
    let second = client.goods_list(2, 50).await.unwrap();
    assert!(first.list_num > 100, "the demo catalog lists hundreds of goods: {}", first.list_num);
    assert_eq!((first.goods_list.len(), second.goods_list.len()), (50, 50));
    assert_eq!(first.list_num, second.list_num, "listNum is the total, not the page's count");
    let past_end = (first.list_num / 50 + 2) as u32;
    assert!(client.goods_list(past_end, 50).await.unwrap().goods_list.is_empty());

    let all = client.goods_list_all(64).await.unwrap();
    assert_eq!(all.len() as u64, first.list_num);
    let codes: HashSet<&str> = all.iter().map(|g| g.goods_code.as_str()).collect();
    assert_eq!(codes.len(), all.len(), "no goods twice across pages");
    assert_eq!(all[..50], first.goods_list[..], "the same stable order");
    assert_eq!(all[50..100], second.goods_list[..]);
    assert!(all.iter().any(|g| g.goods_state_cd == "SUS"), "suspended goods are listed too");

    // A gold account: the list's price is its grade price, and the detail shows every grade.
    let item = all.iter().find(|g| g.goods_state_cd == "SALE").unwrap();
    let d = client.goods_detail(&item.goods_code).await.unwrap();
    assert_eq!((d.goods_code.as_str(), d.goods_name.as_str()), (item.goods_code.as_str(), item.goods_name.as_str()));
    assert_eq!((d.sale_price, d.discount_price, d.gold_price), (item.sale_price, item.discount_price, item.discount_price));
    assert!(d.platinum_price <= d.vip_price && d.vip_price <= d.gold_price && d.gold_price < d.sale_price, "{d:?}");
    assert!(d.gold_discount_rate > 0 && d.platinum_discount_rate >= d.vip_discount_rate);
    assert_api(client.goods_detail("G99999999999").await, ResultCode::ProductNotFound);

    let brands = client.brands().await.unwrap();
    assert_eq!(brands.list_num as usize, brands.brand_list.len());
    assert!(brands.brand_list.len() >= 40, "{}", brands.brand_list.len());
    let b = &brands.brand_list[3];
    assert_eq!(&client.brand_detail(&b.brand_code).await.unwrap(), b);
    assert!(b.brand_icon_img.starts_with("http"), "absolute image URL {}", b.brand_icon_img);
    assert_api(client.brand_detail("BR99999").await, ResultCode::ProductNotFound);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_detail_resend_cancel_and_bizmoney() {
    let server = Server::start(Grade::Basic, 100_000).await;
    let client = server.client();
    let (goods, price) = on_sale(&client).await;
    assert_eq!(client.bizmoney().await.unwrap(), 100_000);

    // gubun Y: the PIN comes back (12 digits), the price is charged once.
    let tr_pin = client.new_tr_id();
    assert_eq!(tr_pin.as_str().len(), 20);
    let sent = client.send(&request(tr_pin.as_str(), &goods, Gubun::Pin)).await.unwrap();
    let pin = sent.pin.clone().expect("gubun Y returns the PIN");
    assert!(pin.expose().len() == 12 && pin.expose().bytes().all(|b| b.is_ascii_digit()));
    assert!(!format!("{sent:?}").contains(pin.expose()), "Debug hides the PIN");
    assert!(!sent.order_no.is_empty() && sent.coupon_img_url.is_none());
    assert_eq!(client.bizmoney().await.unwrap(), 100_000 - price);

    // gubun I: the PIN and an image URL that serves a PNG.
    let tr_img = TrIdGenerator::default().generate();
    let sent = client.send(&request(tr_img.as_str(), &goods, Gubun::Image)).await.unwrap();
    let url = sent.coupon_img_url.expect("gubun I returns the image URL");
    assert!(sent.pin.is_some() && !url.contains(sent.pin.as_ref().unwrap().expose()));
    let img = reqwest::get(&url).await.unwrap();
    assert_eq!(img.status(), 200);
    assert_eq!(img.headers()["content-type"], "image/png");

    // gubun N: only the order number; the platform delivers the MMS.
    let tr_mms = client.new_tr_id();
    let sent = client.send(&request(tr_mms.as_str(), &goods, Gubun::Mms)).await.unwrap();
    assert!(sent.pin.is_none() && sent.coupon_img_url.is_none() && !sent.order_no.is_empty());
    assert_eq!(client.bizmoney().await.unwrap(), 100_000 - 3 * price);

    // A reserved MMS (tomorrow noon, KST): issued and charged now, delivered at its time.
    let tomorrow = from_millis(SystemClock.now_ms() + 86_400_000).with_timezone(&kst()).format("%Y%m%d").to_string();
    let tr_rev = client.new_tr_id();
    client.send(&request(tr_rev.as_str(), &goods, Gubun::Mms).reserve(tomorrow, "1200")).await.unwrap();
    let c = coupon(&client, tr_rev.as_str()).await;
    assert_eq!(c.pin_status_cd.as_deref(), Some("01"));
    assert_ne!(c.send_status_cd.as_deref(), Some("발송완료"));
    client.cancel(&tr_rev).await.unwrap();

    // 0201: the coupon's 17 fields, typed.
    let c = coupon(&client, tr_pin.as_str()).await;
    assert_eq!(c.goods_cd.as_deref(), Some(goods.as_str()));
    assert_eq!(c.pin_status_cd.as_deref(), Some("01"));
    assert_eq!(c.sell_price_amt, Some(price.to_string()));
    assert_eq!(c.recver_tel_no.as_deref(), Some(PHONE));
    assert_eq!(c.valid_prd_end_dt.as_ref().map(String::len), Some(14));
    let c = delivered(&client, tr_mms.as_str()).await;
    assert_eq!((c.send_status_cd.as_deref(), c.send_rst_cd.as_deref()), (Some("발송완료"), Some("1000")));

    // 0203: the MMS again, or an SMS with the PIN; only for an MMS send.
    client.resend(&tr_mms, ResendVia::Mms).await.unwrap();
    client.resend(&tr_mms, ResendVia::Sms).await.unwrap();
    assert_eq!(delivered(&client, tr_mms.as_str()).await.send_status_cd.as_deref(), Some("발송완료"));
    assert_api(client.resend(&tr_pin, ResendVia::Mms).await, ResultCode::ResendTargetNotFound);
    assert_api(client.resend("never_sent", ResendVia::Mms).await, ResultCode::ResendTargetNotFound);

    // 0202: refunds once; the coupon shows 07; a second cancel is ERR0808.
    client.cancel(&tr_pin).await.unwrap();
    assert_eq!(client.bizmoney().await.unwrap(), 100_000 - 2 * price);
    let c = coupon(&client, tr_pin.as_str()).await;
    assert_eq!(c.pin_status_cd.as_deref(), Some("07"));
    assert_api(client.cancel(&tr_pin).await, ResultCode::AlreadyCancelled);
    client.cancel(&tr_mms).await.unwrap();
    assert_api(client.resend(&tr_mms, ResendVia::Mms).await, ResultCode::ResendFailed);
    assert_eq!(client.bizmoney().await.unwrap(), 100_000 - price);

    // A used tr_id stays used, cancelled or not.
    assert_api(client.send(&request(tr_pin.as_str(), &goods, Gubun::Pin)).await, ResultCode::TrIdDuplicate);
    assert_api(client.send(&request(tr_img.as_str(), &goods, Gubun::Pin)).await, ResultCode::TrIdDuplicate);

    // 0205: an unknown tr_id answers ERR0214 and is tombstoned; an issued one is ERR0805.
    let tr_lost = client.new_tr_id();
    assert_api(client.send_fail_cancel(&tr_lost).await, ResultCode::TrIdNotFound);
    assert_api(client.send(&request(tr_lost.as_str(), &goods, Gubun::Pin)).await, ResultCode::TrIdDuplicate);
    assert_api(client.send_fail_cancel(&tr_img).await, ResultCode::CancelFailed);
    assert_eq!(client.bizmoney().await.unwrap(), 100_000 - price, "nothing charged by refused calls");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_errors() {
    let server = Server::start(Grade::Basic, 10_000).await;
    let client = server.client();
    let (goods, _) = on_sale(&client).await;

    // Unknown tr_ids.
    assert_api(client.coupon_detail("no_such_tr").await, ResultCode::TrIdNotFound);
    assert_api(client.cancel("no_such_tr_2").await, ResultCode::TrIdNotFound);

    // Credentials: a wrong token, an unknown auth code, another account's user id.
    let creds = server.credentials();
    let bad_token = Credentials::new(creds.auth_code.clone(), "AAAAAAAAAAAAAAAAAAAAAA==", USER_ID);
    let c = server.client_as(bad_token);
    let e = c.goods_list(1, 1).await.unwrap_err();
    assert!(e.is(ResultCode::InvalidAuthToken) && !e.is_ambiguous(), "{e}");
    assert!(!e.to_string().contains(creds.auth_token.expose()));
    let unknown = Credentials::new("REAL00000000000000000000000000000000", creds.auth_token.expose(), USER_ID);
    let c = server.client_as(unknown);
    assert_api(c.brands().await, ResultCode::InvalidAuthCode);
    let other_user = Credentials::new(creds.auth_code.clone(), creds.auth_token.expose(), operator::DEMO_USER_ID);
    let c = server.client_as(other_user);
    assert_api(c.bizmoney().await, ResultCode::MemberLookupFailed);

    // Send validation, in the spec's codes.
    let tr = || TrIdGenerator::default().generate().into_string();
    assert_api(client.send(&request(&tr(), "G99999999999", Gubun::Pin)).await, ResultCode::InvalidGoodsCode);
    let mut r = request(&tr(), &goods, Gubun::Pin);
    r.phone_no = "0212345678".into();
    assert_api(client.send(&r).await, ResultCode::InvalidPhoneNo);
    assert_api(client.send(&request(&"t".repeat(26), &goods, Gubun::Pin)).await, ResultCode::TrIdTooLong);
    assert_api(client.send(&request("bad tr id", &goods, Gubun::Pin)).await, ResultCode::InvalidTrId);
    assert_api(client.send(&request(&tr(), &goods, Gubun::Pin).title("")).await, ResultCode::MissingParameter);
    let past = request(&tr(), &goods, Gubun::Mms).reserve("20200101", "1200");
    assert_api(client.send(&past).await, ResultCode::ReserveOutOfRange);

    // Not enough bizmoney: E0010, and nothing charged.
    let poor = operator::create_account(server.store.as_ref(), &common::user("poor"), Grade::Basic).await.unwrap();
    let creds = Credentials::new(poor.account.auth_code.clone(), poor.token.expose(), "poor");
    let c = server.client_as(creds);
    assert_api(c.send(&request(&tr(), &goods, Gubun::Pin)).await, ResultCode::InsufficientBizmoney);
    assert_eq!(c.bizmoney().await.unwrap(), 0);
    server.stop().await;
}
