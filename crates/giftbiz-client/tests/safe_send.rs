//! Safe send and reconcile against the real server in sandbox mode: each fault a caller must
//! survive ends with the outcome reported as it happened and no charge without a coupon.

mod common;

use std::time::{Duration, Instant};

use common::{Server, USER_ID};
use giftbiz_client::wire::coupon::CouponInfo;
use giftbiz_client::{
    ApiCode, ChasePolicy, Client, Config, Credentials, Error, Gubun, Journal, ResultCode, SendOutcome, SendRequest,
    Timeouts, TrId,
};
use giftbiz_core::coupon::LedgerReason;
use giftbiz_core::Grade;
use giftbiz_server::operator;

const START: i64 = 100_000;

/// Short waits so a test's timeouts and chase take seconds, not minutes.
fn fast() -> ChasePolicy {
    ChasePolicy { first_delay: Duration::from_millis(20), max_delay: Duration::from_millis(200), max_attempts: 5 }
}

fn client(server: &Server) -> Client {
    let timeouts = Timeouts::uniform(Duration::from_secs(10)).with(ApiCode::Send, Duration::from_secs(1));
    Client::new(server.config().with_timeouts(timeouts)).unwrap()
}

fn request(tr_id: &str, goods: &str, gubun: Gubun) -> SendRequest {
    SendRequest::new(tr_id, goods, gubun, "01012345678")
        .callback_no("15880108")
        .title("선물 도착")
        .message("감사합니다.")
}

async fn on_sale(client: &Client) -> (String, i64) {
    let page = client.goods_list(1, 50).await.unwrap();
    let g = page.goods_list.iter().find(|g| g.goods_state_cd == "SALE").expect("a goods on sale");
    (g.goods_code.clone(), g.discount_price)
}

async fn pin_status(client: &Client, tr_id: &str) -> Option<String> {
    match client.coupon_detail(tr_id).await {
        Ok(list) => Some(list[0].pin_status_cd.clone().unwrap_or_default()),
        Err(e) if e.is(ResultCode::TrIdNotFound) => None,
        Err(e) => panic!("0201 {tr_id}: {e}"),
    }
}

/// The ledger's own word: the server's balance equals the sum of its entries, and the
/// account's sends and refunds pair up with its coupons.
async fn assert_books(server: &Server, expected_balance: i64) {
    let account = server.store.account_by_user_id(&giftbiz_core::UserId::parse(USER_ID).unwrap()).await.unwrap().unwrap();
    let ledger = server.store.ledger(account.id).await.unwrap();
    let sum: i64 = ledger.iter().map(|e| e.amount.get()).sum();
    assert_eq!(server.store.bizmoney_balance(account.id).await.unwrap().get(), sum);
    assert_eq!(sum, expected_balance);
    for e in ledger.iter().filter(|e| e.reason == LedgerReason::Send) {
        let tr_id = TrId::parse(e.tr_id.as_deref().unwrap(), TrId::SPEC_MAX_LEN).unwrap();
        assert!(server.store.coupon_by_tr_id(account.id, &tr_id).await.unwrap().is_some(), "{tr_id}: charge without coupon");
    }
}

#[tokio::test]
async fn an_answered_send_is_issued_and_a_refused_one_is_not() {
    let server = Server::start_sandbox(Grade::Basic, START).await;
    let client = client(&server);
    let (goods, price) = on_sale(&client).await;
    let outcome = client.safe_send(&request("ok_1", &goods, Gubun::Pin), &fast()).await.unwrap();
    let SendOutcome::Issued(sent) = outcome else { panic!("{outcome:?}") };
    assert_eq!(sent.pin.unwrap().expose().len(), 12);
    assert_eq!(pin_status(&client, "ok_1").await.as_deref(), Some("01"));

    let outcome = client.safe_send(&request("ok_1", &goods, Gubun::Pin), &fast()).await.unwrap();
    assert!(matches!(&outcome, SendOutcome::NotIssued { refusal: Some(e) } if e.is(ResultCode::TrIdDuplicate)), "{outcome:?}");
    assert!(!outcome.charged());
    assert_books(&server, START - price).await;
}

#[tokio::test]
async fn a_dropped_answer_is_cancelled_and_refunded() {
    let server = Server::start_sandbox(Grade::Basic, START).await;
    let client = client(&server);
    let (goods, _) = on_sale(&client).await;
    let outcome = client.safe_send(&request("FD_drop1", &goods, Gubun::Pin), &fast()).await.unwrap();
    assert!(matches!(outcome, SendOutcome::Cancelled), "{outcome:?}");
    assert_eq!(pin_status(&client, "FD_drop1").await.as_deref(), Some("07"));
    assert_eq!(client.bizmoney().await.unwrap(), START);
    assert_books(&server, START).await;
}

#[tokio::test]
async fn a_late_answer_is_cancelled_and_refunded() {
    let server = Server::start_sandbox(Grade::Basic, START).await;
    let client = client(&server);
    let (goods, _) = on_sale(&client).await;
    // The server commits, then answers after 3 s; the client gives up after 1 s. (Should the
    // commit itself take over a second, the chase meets the send in flight: then the cancel
    // may win, and nothing is issued. Either way the outcome must be what 0201 shows.)
    let outcome = client.safe_send(&request("FW3_late1", &goods, Gubun::Image), &fast()).await.unwrap();
    let status = pin_status(&client, "FW3_late1").await;
    match outcome {
        SendOutcome::Cancelled => assert_eq!(status.as_deref(), Some("07")),
        SendOutcome::NotIssued { refusal: None } => assert_eq!(status, None),
        other => panic!("{other:?}"),
    }
    assert_books(&server, START).await;
}

#[tokio::test]
async fn an_e9999_before_commit_is_not_issued() {
    let server = Server::start_sandbox(Grade::Basic, START).await;
    let client = client(&server);
    let (goods, _) = on_sale(&client).await;
    let outcome = client.safe_send(&request("FE_fail1", &goods, Gubun::Pin), &fast()).await.unwrap();
    assert!(matches!(outcome, SendOutcome::NotIssued { refusal: None }), "{outcome:?}");
    assert_eq!(pin_status(&client, "FE_fail1").await, None);
    assert_books(&server, START).await;
}

#[tokio::test]
async fn a_gateway_failure_leaves_an_issued_coupon_whose_delivery_failed() {
    let server = Server::start_sandbox(Grade::Basic, START).await;
    let client = client(&server);
    let (goods, price) = on_sale(&client).await;
    let outcome = client.safe_send(&request("FG_gw1", &goods, Gubun::Mms), &fast()).await.unwrap();
    assert!(matches!(&outcome, SendOutcome::Issued(s) if s.pin.is_none()), "{outcome:?}");
    // The delivery worker reports the gateway's failure in 0201.
    let info = delivery_result(&client, "FG_gw1").await;
    assert_eq!(info.send_status_cd.as_deref(), Some("발송실패"), "{info:?}");
    assert_books(&server, START - price).await;
}

async fn delivery_result(client: &Client, tr_id: &str) -> CouponInfo {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let c = client.coupon_detail(tr_id).await.unwrap().remove(0);
        let settled = matches!(c.send_status_cd.as_deref(), Some("발송완료" | "발송실패"));
        if settled || Instant::now() > deadline {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A peer that accepts every connection and closes it unanswered: the send and every cancel
/// after it may or may not have arrived.
async fn black_hole() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    format!("http://{addr}/bizApi")
}

#[tokio::test]
async fn a_chase_that_never_gets_an_answer_gives_up_unsettled_and_the_journal_keeps_it_pending() {
    let config = Config::new(Credentials::new("REALx", "token", "acme")).with_base_url(black_hole().await);
    let client = Client::new(config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("journal.db")).unwrap();
    let err = client.journaled_send(&journal, &request("lost_1", "G1", Gubun::Pin), &fast()).await.unwrap_err();
    assert!(matches!(&err, Error::Unsettled { tr_id, attempts: 5, .. } if tr_id == "lost_1"), "{err:?}");
    assert!(err.is_ambiguous());
    let pending = journal.unsettled().unwrap();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].detail.as_deref().unwrap().contains("not settled"), "{:?}", pending[0]);
    assert_eq!(pending[0].phone_masked, "010****5678");
}

#[tokio::test]
async fn a_chase_waits_out_a_service_that_refuses_connections_while_it_restarts() {
    // A port nothing listens on yet: the chase's first cancels are refused at connect time.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let config = Config::new(Credentials::new("REALx", "token", USER_ID)).with_base_url(format!("http://{addr}/bizApi"));
    let chase = ChasePolicy { first_delay: Duration::from_millis(20), max_delay: Duration::from_millis(200), max_attempts: 100 };
    let early = Client::new(config).unwrap();
    let settling = tokio::spawn(async move { early.settle("lost_restart", &chase).await });
    // The service comes up on that port (its start takes far longer than a refused connect).
    let server = Server::start_at(Grade::Basic, START, &addr).await;
    // The credentials were made up before the service existed, so its answer is a refusal:
    // what matters is that the chase lasted until the service answered at all.
    let outcome = settling.await.unwrap();
    assert!(
        matches!(&outcome, Err(Error::Unsettled { last, .. }) if matches!(**last, Error::Api { .. })),
        "the chase gave up before the service answered: {outcome:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn reconcile_settles_what_a_crashed_caller_left_and_reports_drift() {
    let server = Server::start_sandbox(Grade::Basic, START).await;
    let client = client(&server);
    let (goods, price) = on_sale(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("journal.db")).unwrap();

    // Crash after the send was answered but before its outcome was journaled ...
    let answered = request("crash_after", &goods, Gubun::Pin);
    journal.record_pending(&answered).unwrap();
    client.send(&answered).await.unwrap();
    // ... and crash before the call left.
    journal.record_pending(&request("crash_before", &goods, Gubun::Pin)).unwrap();
    // One send that went well.
    let outcome = client.journaled_send(&journal, &request("fine_1", &goods, Gubun::Pin), &fast()).await.unwrap();
    assert!(matches!(outcome, SendOutcome::Issued(_)));
    drop(journal);

    // The restarted caller reconciles.
    let journal = Journal::open(dir.path().join("journal.db")).unwrap();
    let report = client.reconcile(&journal, &fast()).await.unwrap();
    let mut settled = report.settled.clone();
    settled.sort();
    assert_eq!(
        settled,
        vec![("crash_after".to_owned(), "cancelled".to_owned()), ("crash_before".to_owned(), "not_issued".to_owned())]
    );
    assert!(report.is_consistent(), "{report:?}");
    assert_eq!(report.checked, 3);
    assert_eq!((report.balance, report.journal_spent, report.balance_drift), (START - price, price, None));
    assert!(journal.unsettled().unwrap().is_empty());
    // The tombstone holds: the send that never left can no longer land.
    let late = client.send(&request("crash_before", &goods, Gubun::Pin)).await;
    assert!(matches!(&late, Err(e) if e.is(ResultCode::TrIdDuplicate)), "{late:?}");

    // Outside the journal: the operator charges 5,000 and someone cancels fine_1 directly.
    operator::change_bizmoney(server.store.as_ref(), &common::user(USER_ID), giftbiz_core::Won::new(5_000), LedgerReason::Charge, "top-up").await.unwrap();
    client.cancel("fine_1").await.unwrap();
    let report = client.reconcile(&journal, &fast()).await.unwrap();
    assert!(report.settled.is_empty());
    assert_eq!(report.coupon_drift.len(), 1, "{report:?}");
    assert_eq!((report.coupon_drift[0].tr_id.as_str(), report.coupon_drift[0].journal.as_str()), ("fine_1", "issued"));
    assert!(report.coupon_drift[0].service.starts_with("07"), "{report:?}");
    // The balance rose by the charge and the refund, which the journal does not explain.
    assert_eq!(report.balance, START + 5_000);
    assert_eq!(report.balance_drift, Some(-(5_000 + price)));
    assert_books(&server, START + 5_000).await;
}

#[tokio::test]
async fn settling_a_used_coupon_keeps_it_and_a_cancelled_one_stays_cancelled() {
    use giftbiz_core::time::{Clock, SystemClock};

    let server = Server::start_sandbox(Grade::Basic, START).await;
    let client = client(&server);
    let (goods, price) = on_sale(&client).await;
    let SendOutcome::Issued(used) = client.safe_send(&request("used_1", &goods, Gubun::Pin), &fast()).await.unwrap() else {
        panic!("issued")
    };
    client.safe_send(&request("gone_1", &goods, Gubun::Pin), &fast()).await.unwrap();

    // A partner redeems used_1 at the counter; gone_1 is cancelled by someone else.
    let brand = client.goods_detail(&goods).await.unwrap().brand_code;
    let partner = operator::create_partner(server.store.as_ref(), "매장", &brand).await.unwrap().partner;
    let pin = used.pin.unwrap();
    // The SDK's PIN is the server's own type.
    server.store.redeem(partner.id, &pin, &partner.brand_codes, SystemClock.now_ms()).await.unwrap();
    client.cancel("gone_1").await.unwrap();

    // A caller that lost both answers settles them.
    let kept = client.settle("used_1", &fast()).await.unwrap();
    assert!(matches!(&kept, SendOutcome::Kept { cancel_refusal } if *cancel_refusal == ResultCode::AlreadyExchanged), "{kept:?}");
    assert!(kept.charged());
    let gone = client.settle("gone_1", &fast()).await.unwrap();
    assert!(matches!(gone, SendOutcome::Cancelled), "{gone:?}");
    assert_books(&server, START - price).await;
}
