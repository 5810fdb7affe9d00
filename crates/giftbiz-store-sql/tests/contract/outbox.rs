//! Message delivery (the outbox): claims and leases, finishing under the claim's guard,
//! resends, and concurrent claimers.

use std::collections::HashSet;

use giftbiz_core::coupon::{DeliveryStatus, LedgerReason};
use giftbiz_core::delivery::{Claim, DeliveryOutcome, MessageKind, ResendError};
use giftbiz_core::send::Gubun;
use giftbiz_core::{AccountId, RequestId, Store, Won};

use crate::harness::TestDb;
use crate::kit::{user, tr, new_account, new_coupon, t0_ms};

fn delivered() -> DeliveryOutcome {
    DeliveryOutcome::Delivered { result_code: "1000".into(), result_message: "Success".into() }
}

async fn delivery_of(store: &dyn Store, account_id: AccountId, tr_id: &str) -> (DeliveryStatus, Option<(String, String)>) {
    let c = store.coupon_by_tr_id(account_id, &tr(tr_id)).await.unwrap().unwrap();
    (c.delivery, c.delivery_result)
}

/// Claims, leases, finishes and resends, one step at a time.
pub async fn outbox_delivery(db: &TestDb) {
    let store = &*db.store;
    let t = t0_ms();
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    let bob = store.create_account(&new_account("bob", "REALbbbb")).await.unwrap();
    store.change_bizmoney(&user("alice"), Won::new(100_000), LedgerReason::Charge, "", t).await.unwrap().get();
    let mut first = new_coupon(alice.id, "T1", 1_000, Gubun::Mms);
    first.request_id = RequestId::parse("req-send-1");
    let now = store.issue_coupon(&first).await.unwrap();
    let mut later = new_coupon(alice.id, "T2", 1_000, Gubun::Mms);
    later.reserved_at_ms = Some(t + 60_000);
    store.issue_coupon(&later).await.unwrap();
    store.issue_coupon(&new_coupon(alice.id, "T3", 1_000, Gubun::Pin)).await.unwrap();

    // Only the due MMS, with everything a gateway needs.
    let claimed = store.claim_due_messages(&Claim { now_ms: t, limit: 10, lease_ms: 1_000, worker: "a" }).await.unwrap();
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    let m = &claimed[0];
    assert_eq!((m.kind, m.attempts, m.coupon_id, m.account_id), (MessageKind::Mms, 1, now.id, alice.id));
    assert_eq!((m.tr_id.as_str(), m.order_no.as_str(), m.pin.expose()), ("T1", now.order_no.as_str(), now.new.pin.expose()));
    assert_eq!((m.phone_no.as_str(), m.callback_no.as_str()), ("01012345678", "15880108"));
    assert_eq!((m.title.as_str(), m.text.as_str()), ("선물", "선물이 도착했습니다"));
    assert_eq!((m.goods_name.as_str(), m.brand_name.as_str()), ("아메리카노 T", "카페"));
    assert_eq!((m.valid_until_ms, m.image_token.as_str()), (now.new.valid_until_ms, now.new.image_token.as_str()));
    assert_eq!(m.key.len(), 32);
    assert_eq!(m.request_id.as_ref().map(RequestId::as_str), Some("req-send-1"), "the send's request id");
    let (id, key) = (m.id, m.key.clone());

    // The lease holds until it runs out; then another worker gets it, same key.
    assert!(store.claim_due_messages(&Claim { now_ms: t + 1_000, limit: 10, lease_ms: 1_000, worker: "b" }).await.unwrap().is_empty());
    let again = store.claim_due_messages(&Claim { now_ms: t + 1_001, limit: 10, lease_ms: 1_000, worker: "b" }).await.unwrap();
    assert_eq!(again.iter().map(|m| (m.id, m.key.as_str(), m.attempts)).collect::<Vec<_>>(), [(id, key.as_str(), 2)]);
    assert!(!store.finish_message(id, "a", &delivered(), t + 1_002).await.unwrap(), "a lost its claim");

    // A retry frees the message until its next attempt; the coupon stays pending.
    let retry = DeliveryOutcome::Retry { next_attempt_at_ms: t + 5_000, error: "adapter down".into() };
    assert!(store.finish_message(id, "b", &retry, t + 1_002).await.unwrap());
    assert_eq!(delivery_of(store, alice.id, "T1").await, (DeliveryStatus::Pending, None));
    assert!(store.claim_due_messages(&Claim { now_ms: t + 4_999, limit: 10, lease_ms: 1_000, worker: "a" }).await.unwrap().is_empty());
    let third = store.claim_due_messages(&Claim { now_ms: t + 5_000, limit: 10, lease_ms: 1_000, worker: "a" }).await.unwrap();
    assert_eq!((third[0].id, third[0].attempts), (id, 3));
    assert!(store.finish_message(id, "a", &delivered(), t + 5_001).await.unwrap());
    assert!(!store.finish_message(id, "a", &delivered(), t + 5_002).await.unwrap(), "finished once");
    let success = Some(("1000".to_owned(), "Success".to_owned()));
    assert_eq!(delivery_of(store, alice.id, "T1").await, (DeliveryStatus::Delivered, success.clone()));

    // Cancelled while claimed: the outcome is dropped, the message stays cancelled.
    let reserved = store.claim_due_messages(&Claim { now_ms: t + 60_000, limit: 10, lease_ms: 1_000, worker: "a" }).await.unwrap();
    assert_eq!(reserved.iter().map(|m| m.tr_id.as_str()).collect::<Vec<_>>(), ["T2"]);
    store.cancel_coupon(alice.id, &tr("T2"), t + 60_000).await.unwrap();
    assert!(!store.finish_message(reserved[0].id, "a", &delivered(), t + 60_001).await.unwrap());
    assert_eq!(delivery_of(store, alice.id, "T2").await, (DeliveryStatus::Cancelled, None));
    assert!(store.claim_due_messages(&Claim { now_ms: t + 600_000, limit: 10, lease_ms: 1_000, worker: "a" }).await.unwrap().is_empty());

    // Resend: a new message (its own key) due now; the coupon is pending again.
    let resend_request = RequestId::parse("req-resend-1");
    store.enqueue_resend(alice.id, &tr("T1"), MessageKind::Sms, t + 70_000, resend_request.as_ref()).await.unwrap();
    assert_eq!(delivery_of(store, alice.id, "T1").await, (DeliveryStatus::Pending, None));
    assert!(store.claim_due_messages(&Claim { now_ms: t + 69_999, limit: 10, lease_ms: 1_000, worker: "a" }).await.unwrap().is_empty());
    let sms = store.claim_due_messages(&Claim { now_ms: t + 70_000, limit: 10, lease_ms: 1_000, worker: "a" }).await.unwrap();
    assert_eq!((sms.len(), sms[0].kind, sms[0].attempts), (1, MessageKind::Sms, 1));
    assert_ne!(sms[0].key, key);
    assert_eq!(sms[0].request_id, resend_request);
    let failed = DeliveryOutcome::Failed { result_code: "4001".into(), result_message: "blocked".into() };
    assert!(store.finish_message(sms[0].id, "a", &failed, t + 70_001).await.unwrap());
    assert_eq!(
        delivery_of(store, alice.id, "T1").await,
        (DeliveryStatus::Failed, Some(("4001".to_owned(), "blocked".to_owned())))
    );

    // Refusals: not an MMS send, unknown, a tombstone, another account's; cancelled, expired.
    let not_found = |r: Result<(), ResendError>| matches!(r, Err(ResendError::NotFound));
    let refused = |r: Result<(), ResendError>| matches!(r, Err(ResendError::NotResendable));
    assert!(not_found(store.enqueue_resend(alice.id, &tr("T3"), MessageKind::Mms, t, None).await));
    assert!(not_found(store.enqueue_resend(alice.id, &tr("T9"), MessageKind::Mms, t, None).await));
    assert!(store.cancel_coupon(alice.id, &tr("T8"), t).await.is_err());
    assert!(not_found(store.enqueue_resend(alice.id, &tr("T8"), MessageKind::Mms, t, None).await));
    assert!(not_found(store.enqueue_resend(bob.id, &tr("T1"), MessageKind::Mms, t, None).await));
    assert!(refused(store.enqueue_resend(alice.id, &tr("T2"), MessageKind::Mms, t, None).await));
    let expired = now.new.valid_until_ms + 1;
    assert!(store.enqueue_resend(alice.id, &tr("T1"), MessageKind::Mms, now.new.valid_until_ms, None).await.is_ok());
    assert!(refused(store.enqueue_resend(alice.id, &tr("T1"), MessageKind::Mms, expired, None).await));

    // The limit.
    for i in 0..5 {
        store.issue_coupon(&new_coupon(alice.id, &format!("L{i}"), 1_000, Gubun::Mms)).await.unwrap();
    }
    assert_eq!(store.claim_due_messages(&Claim { now_ms: expired, limit: 2, lease_ms: 1_000, worker: "a" }).await.unwrap().len(), 2);
}

/// Four claimers race over 40 messages: each message is claimed, and finished, exactly once.
pub async fn concurrent_claims(db: &TestDb) {
    let store = db.store.clone();
    let t = t0_ms();
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    store.change_bizmoney(&user("alice"), Won::new(100_000), LedgerReason::Charge, "", t).await.unwrap().get();
    for i in 0..40 {
        store.issue_coupon(&new_coupon(alice.id, &format!("C{i}"), 1_000, Gubun::Mms)).await.unwrap();
    }
    let workers = (0..4).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let name = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_due_messages(&Claim { now_ms: t, limit: 3, lease_ms: 60_000, worker: &name }).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                for m in batch {
                    assert!(store.finish_message(m.id, &name, &delivered(), t).await.unwrap());
                    mine.push(m.id);
                }
            }
        })
    });
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    assert_eq!(all.len(), 40, "every message once");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 40, "none twice");
}
