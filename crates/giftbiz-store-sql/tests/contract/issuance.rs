//! Bizmoney, its ledger and coupons: sends, cancels and sendFail cancels, alone and at once,
//! and the schema's own guards behind them.

use std::sync::Arc;

use giftbiz_core::coupon::{
    BizmoneyError, CancelError, CancelRefusal, DeliveryStatus, IssueError, LedgerReason, PinStatus, SendFailOutcome,
    CANCEL_WINDOW_MS,
};
use giftbiz_core::send::Gubun;
use giftbiz_core::{StoreError, Won};

use crate::harness::{Engine, TestDb};
use crate::kit::{user, tr, charge, consistent_ledger, entries_for, new_account, new_coupon, t0_ms, HOUR_MS, T0_KST_DATE};

/// Operator charges and adjustments: the balance never goes below zero and always equals the
/// sum of the ledger.
pub async fn bizmoney_ledger(db: &TestDb) {
    let store = &*db.store;
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    let bob = store.create_account(&new_account("bob", "REALbbbb")).await.unwrap();
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 0);
    assert!(store.ledger(alice.id).await.unwrap().is_empty());

    let t = t0_ms();
    assert_eq!(store.change_bizmoney(&user("alice"), Won::new(10_000), LedgerReason::Charge, "입금 1", t).await.unwrap().get(), 10_000);
    assert_eq!(
        store.change_bizmoney(&user("alice"), Won::new(-3_000), LedgerReason::Adjustment, "정정", t + 1).await.unwrap().get(),
        7_000
    );
    assert!(matches!(
        store.change_bizmoney(&user("alice"), Won::new(-7_001), LedgerReason::Adjustment, "too much", t + 2).await,
        Err(BizmoneyError::WouldGoNegative)
    ));
    assert!(matches!(
        store.change_bizmoney(&user("nobody"), Won::new(1_000), LedgerReason::Charge, "", t + 2).await,
        Err(BizmoneyError::UnknownAccount)
    ));
    assert!(matches!(
        store.change_bizmoney(&user("nobody"), Won::new(-1_000), LedgerReason::Adjustment, "", t + 2).await,
        Err(BizmoneyError::UnknownAccount)
    ));
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 7_000);
    assert_eq!(store.ledger(alice.id).await.unwrap().len(), 2);

    // Down to exactly zero is allowed.
    assert_eq!(store.change_bizmoney(&user("alice"), Won::new(-7_000), LedgerReason::Adjustment, "", t + 3).await.unwrap().get(), 0);
    assert_eq!(store.change_bizmoney(&user("bob"), Won::new(500), LedgerReason::Charge, "", t + 4).await.unwrap().get(), 500);

    let ledger = consistent_ledger(store, alice.id).await;
    // Keyset pages, newest first, are the ledger reversed.
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = store.ledger_page(alice.id, before, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 2);
        before = Some(last.id);
        paged.extend(page);
    }
    paged.reverse();
    assert_eq!(paged, ledger);
    let summary: Vec<(i64, i64, LedgerReason, &str, i64)> = ledger
        .iter()
        .map(|e| (e.amount.get(), e.balance_after.get(), e.reason, e.memo.as_str(), e.created_at_ms))
        .collect();
    assert_eq!(
        summary,
        [
            (10_000, 10_000, LedgerReason::Charge, "입금 1", t),
            (-3_000, 7_000, LedgerReason::Adjustment, "정정", t + 1),
            (-7_000, 0, LedgerReason::Adjustment, "", t + 3),
        ]
    );
    assert!(ledger.iter().all(|e| e.tr_id.is_none()));
    assert_eq!(consistent_ledger(store, bob.id).await.len(), 1);
    assert_eq!(store.bizmoney_balance(bob.id).await.unwrap().get(), 500);
    let mut balances = store.bizmoney_balances().await.unwrap();
    balances.sort_by_key(|(id, _)| id.get());
    assert_eq!(balances, vec![(alice.id, Won::ZERO), (bob.id, Won::new(500))]);
}

/// Past the millionth coupon the order number widens to seven digits instead of wrapping to
/// the number of an earlier coupon (which failed the send on `coupons_order_no_key`).
pub async fn order_numbers_never_repeat(db: &TestDb) {
    let store = &*db.store;
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    charge(store, "alice", 10_000).await;
    let first = store.issue_coupon(&new_coupon(alice.id, "R0", 100, Gubun::Pin)).await.unwrap();
    // Coupon 1's number, 999,999 ids later, is what the id modulo 10^6 would give again.
    let raw = db.raw().await;
    let skip = match db.engine {
        Engine::Sqlite => "UPDATE sqlite_sequence SET seq = 999999 WHERE name = 'coupons'",
        Engine::Postgres => "SELECT setval('coupons_id_seq', 999999)",
    };
    raw.execute(skip).await.unwrap();
    raw.close().await;
    let mut numbers = vec![first.order_no.as_str().to_owned()];
    for (i, tr_id) in ["R1", "R2", "R3"].iter().enumerate() {
        let c = store.issue_coupon(&new_coupon(alice.id, tr_id, 100, Gubun::Pin)).await.expect("no collision");
        assert_eq!(c.id, 1_000_000 + i as i64);
        assert_eq!(c.order_no.as_str(), format!("{T0_KST_DATE}{}", c.id), "seven digits, not wrapped");
        numbers.push(c.order_no.as_str().to_owned());
    }
    assert!(first.order_no.as_str().ends_with(&format!("{:06}", first.id)));
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 4);
}

/// A send: the coupon it creates, its charge, and the refusals that leave nothing behind.
pub async fn issue_coupons(db: &TestDb) {
    let store = &*db.store;
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    let bob = store.create_account(&new_account("bob", "REALbbbb")).await.unwrap();
    charge(store, "alice", 10_000).await;

    let new = new_coupon(alice.id, "T1", 940, Gubun::Pin);
    let coupon = store.issue_coupon(&new).await.unwrap();
    assert_eq!(coupon.new, new);
    assert_eq!(coupon.order_no.as_str().len(), 14);
    assert!(coupon.order_no.as_str().bytes().all(|b| b.is_ascii_digit()));
    assert!(coupon.order_no.as_str().starts_with(T0_KST_DATE), "{}", coupon.order_no);
    assert!(coupon.order_no.as_str().ends_with(&format!("{:06}", coupon.id)));
    assert_eq!(coupon.status, PinStatus::Issued);
    assert_eq!(coupon.status_changed_at_ms, new.issued_at_ms);
    assert_eq!(coupon.delivery, DeliveryStatus::NotSent);
    assert_eq!(coupon.delivery_result, None);
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 9_060);
    let ledger = consistent_ledger(store, alice.id).await;
    let last = ledger.last().unwrap();
    assert_eq!(
        (last.amount.get(), last.balance_after.get(), last.reason, last.tr_id.as_deref(), last.created_at_ms),
        (-940, 9_060, LedgerReason::Send, Some("T1"), new.issued_at_ms)
    );

    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("T1")).await.unwrap(), Some(coupon.clone()));
    assert_eq!(store.coupon_by_image_token(&new.image_token).await.unwrap(), Some(coupon.clone()));
    assert_eq!(store.coupon_by_image_token(new.pin.expose()).await.unwrap(), None);
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("T0")).await.unwrap(), None);
    assert_eq!(store.coupon_by_tr_id(bob.id, &tr("T1")).await.unwrap(), None);

    // The same tr_id again: refused, not charged twice.
    let again = new_coupon(alice.id, "T1", 940, Gubun::Pin);
    assert!(matches!(store.issue_coupon(&again).await, Err(IssueError::DuplicateTrId)));
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 9_060);
    assert_eq!(store.ledger(alice.id).await.unwrap().len(), 2);
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("T1")).await.unwrap(), Some(coupon.clone()));

    // tr_ids are per account.
    charge(store, "bob", 1_000).await;
    let bobs = store.issue_coupon(&new_coupon(bob.id, "T1", 1_000, Gubun::Image)).await.unwrap();
    assert_eq!(store.bizmoney_balance(bob.id).await.unwrap().get(), 0);
    assert_ne!(bobs.order_no, coupon.order_no);

    // Too little money: nothing charged and the tr_id stays free.
    let big = new_coupon(alice.id, "T2", 50_000, Gubun::Pin);
    assert!(matches!(store.issue_coupon(&big).await, Err(IssueError::InsufficientBizmoney)));
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 9_060);
    assert_eq!(store.ledger(alice.id).await.unwrap().len(), 2);
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("T2")).await.unwrap(), None);
    charge(store, "alice", 50_000).await;
    let big = store.issue_coupon(&big).await.unwrap();
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 9_060);

    // A PIN (or image token) that exists: refused, nothing charged, the tr_id stays free.
    let mut clash = new_coupon(alice.id, "T3", 100, Gubun::Pin);
    clash.pin = coupon.new.pin.clone();
    assert!(matches!(store.issue_coupon(&clash).await, Err(IssueError::PinTaken)));
    let mut clash = new_coupon(alice.id, "T3", 100, Gubun::Pin);
    clash.image_token = big.new.image_token.clone();
    assert!(matches!(store.issue_coupon(&clash).await, Err(IssueError::PinTaken)));
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 9_060);
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("T3")).await.unwrap(), None);
    let third = store.issue_coupon(&new_coupon(alice.id, "T3", 100, Gubun::Pin)).await.unwrap();

    // An MMS waits for delivery, at its reserved time if it has one.
    let mut mms = new_coupon(alice.id, "T4", 100, Gubun::Mms);
    mms.reserved_at_ms = Some(mms.issued_at_ms + 2 * HOUR_MS);
    let mms = store.issue_coupon(&mms).await.unwrap();
    assert_eq!(mms.delivery, DeliveryStatus::Pending);
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("T4")).await.unwrap(), Some(mms.clone()));

    let ids = [coupon.id, bobs.id, big.id, third.id, mms.id];
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 8_860);
    let ledger = consistent_ledger(store, alice.id).await;
    assert_eq!(ledger.iter().filter(|e| e.reason == LedgerReason::Send).count(), 4);
}

/// 0202: a cancel refunds once, leaves a tombstone for an unknown tr_id, and keeps to the
/// cancel window.
pub async fn cancel_coupons(db: &TestDb) {
    let store = &*db.store;
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    charge(store, "alice", 10_000).await;
    let t = t0_ms();

    let issued = store.issue_coupon(&new_coupon(alice.id, "T1", 1_000, Gubun::Pin)).await.unwrap();
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 9_000);
    let cancelled = store.cancel_coupon(alice.id, &tr("T1"), t + HOUR_MS).await.unwrap();
    assert_eq!(cancelled.status, PinStatus::Cancelled);
    assert_eq!(cancelled.status_changed_at_ms, t + HOUR_MS);
    assert_eq!(cancelled.delivery, DeliveryStatus::NotSent);
    assert_eq!((cancelled.id, &cancelled.order_no, &cancelled.new), (issued.id, &issued.order_no, &issued.new));
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("T1")).await.unwrap(), Some(cancelled.clone()));
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 10_000);
    let ledger = consistent_ledger(store, alice.id).await;
    let last = ledger.last().unwrap();
    assert_eq!(
        (last.amount.get(), last.balance_after.get(), last.reason, last.tr_id.as_deref(), last.created_at_ms),
        (1_000, 10_000, LedgerReason::CancelRefund, Some("T1"), t + HOUR_MS)
    );

    // Refunded once only.
    assert!(matches!(
        store.cancel_coupon(alice.id, &tr("T1"), t + 2 * HOUR_MS).await,
        Err(CancelError::Refused(CancelRefusal::AlreadyCancelled))
    ));
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 10_000);
    assert_eq!(store.ledger(alice.id).await.unwrap().len(), ledger.len());
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("T1")).await.unwrap(), Some(cancelled));

    // An unknown tr_id: refused, and the send it chased is refused when it arrives.
    assert!(matches!(
        store.cancel_coupon(alice.id, &tr("U1"), t).await,
        Err(CancelError::Refused(CancelRefusal::UnknownTrId))
    ));
    assert!(matches!(
        store.issue_coupon(&new_coupon(alice.id, "U1", 1_000, Gubun::Pin)).await,
        Err(IssueError::DuplicateTrId)
    ));
    assert!(matches!(
        store.cancel_coupon(alice.id, &tr("U1"), t).await,
        Err(CancelError::Refused(CancelRefusal::UnknownTrId))
    ));
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("U1")).await.unwrap(), None);
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 10_000);

    // Seven days after issue, and not a millisecond more.
    store.issue_coupon(&new_coupon(alice.id, "T2", 1_000, Gubun::Pin)).await.unwrap();
    store.issue_coupon(&new_coupon(alice.id, "T3", 1_000, Gubun::Pin)).await.unwrap();
    assert!(matches!(
        store.cancel_coupon(alice.id, &tr("T2"), t + CANCEL_WINDOW_MS + 1).await,
        Err(CancelError::Refused(CancelRefusal::NotCancellable))
    ));
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("T2")).await.unwrap().unwrap().status, PinStatus::Issued);
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 8_000);
    store.cancel_coupon(alice.id, &tr("T3"), t + CANCEL_WINDOW_MS).await.unwrap();
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 9_000);

    // An MMS not yet delivered is cancelled with its coupon.
    let mut mms = new_coupon(alice.id, "T4", 2_000, Gubun::Mms);
    mms.reserved_at_ms = Some(t + 24 * HOUR_MS);
    assert_eq!(store.issue_coupon(&mms).await.unwrap().delivery, DeliveryStatus::Pending);
    let cancelled = store.cancel_coupon(alice.id, &tr("T4"), t + HOUR_MS).await.unwrap();
    assert_eq!((cancelled.status, cancelled.delivery), (PinStatus::Cancelled, DeliveryStatus::Cancelled));
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("T4")).await.unwrap(), Some(cancelled));
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 9_000);

    // Another account's tr_id is unknown here (and tombstoned for this account only).
    let bob = store.create_account(&new_account("bob", "REALbbbb")).await.unwrap();
    assert!(matches!(
        store.cancel_coupon(bob.id, &tr("T2"), t).await,
        Err(CancelError::Refused(CancelRefusal::UnknownTrId))
    ));
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("T2")).await.unwrap().unwrap().status, PinStatus::Issued);

    let ledger = consistent_ledger(store, alice.id).await;
    assert_eq!(ledger.iter().filter(|e| e.reason == LedgerReason::CancelRefund).count(), 3);
    assert!(consistent_ledger(store, bob.id).await.is_empty());
}

/// 0205: an unknown tr_id is tombstoned (once); a send that issued a PIN is left as it is.
pub async fn send_fail_cancels(db: &TestDb) {
    let store = &*db.store;
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    charge(store, "alice", 10_000).await;
    let t = t0_ms();

    assert_eq!(store.send_fail_cancel(alice.id, &tr("F1"), t).await.unwrap(), SendFailOutcome::Tombstoned);
    assert!(matches!(
        store.issue_coupon(&new_coupon(alice.id, "F1", 1_000, Gubun::Pin)).await,
        Err(IssueError::DuplicateTrId)
    ));
    assert_eq!(store.send_fail_cancel(alice.id, &tr("F1"), t).await.unwrap(), SendFailOutcome::AlreadyTombstoned);
    assert!(matches!(
        store.cancel_coupon(alice.id, &tr("F1"), t).await,
        Err(CancelError::Refused(CancelRefusal::UnknownTrId))
    ));

    let issued = store.issue_coupon(&new_coupon(alice.id, "F2", 1_000, Gubun::Pin)).await.unwrap();
    assert_eq!(store.send_fail_cancel(alice.id, &tr("F2"), t).await.unwrap(), SendFailOutcome::IssuedPin);
    assert_eq!(store.coupon_by_tr_id(alice.id, &tr("F2")).await.unwrap(), Some(issued));
    store.cancel_coupon(alice.id, &tr("F2"), t).await.unwrap();
    assert_eq!(store.send_fail_cancel(alice.id, &tr("F2"), t).await.unwrap(), SendFailOutcome::IssuedPin);

    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 10_000);
    let ledger = consistent_ledger(store, alice.id).await;
    assert!(ledger.iter().all(|e| e.reason != LedgerReason::SendFailRefund));
    assert_eq!(ledger.len(), 3);
}

/// splitmix64: a deterministic stream for the "random" mix.
struct Mix(u64);

impl Mix {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// What one operation of the concurrent mix did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Did {
    Issued,
    Cancelled,
    Adjusted,
    Nothing,
}

async fn join_all<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Sends, cancels and operator changes at once: a tr_id is claimed once, money is charged once
/// per coupon and refunded once per cancel, and the balance never leaves its ledger.
pub async fn coupon_concurrency(db: &TestDb) {
    let store = db.store.clone();
    let t = t0_ms();

    // 50 sends of one tr_id: one coupon, one charge.
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    charge(&*store, "alice", 1_000_000).await;
    let tasks = (0..50)
        .map(|_| {
            let (store, new) = (Arc::clone(&store), new_coupon(alice.id, "SAME", 1_000, Gubun::Pin));
            tokio::spawn(async move { store.issue_coupon(&new).await })
        })
        .collect();
    let (mut ok, mut dup) = (0, 0);
    for r in join_all(tasks).await {
        match r {
            Ok(_) => ok += 1,
            Err(IssueError::DuplicateTrId) => dup += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, dup), (1, 49));
    let ledger = consistent_ledger(&*store, alice.id).await;
    assert_eq!(entries_for(&ledger, "SAME", LedgerReason::Send).len(), 1);
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 999_000);

    // 20 sends of 1,000 on 7,500: exactly seven go through.
    let bob = store.create_account(&new_account("bob", "REALbbbb")).await.unwrap();
    charge(&*store, "bob", 7_500).await;
    let tasks = (0..20)
        .map(|i| {
            let (store, new) = (Arc::clone(&store), new_coupon(bob.id, &format!("B{i}"), 1_000, Gubun::Pin));
            tokio::spawn(async move { store.issue_coupon(&new).await })
        })
        .collect();
    let (mut ok, mut poor) = (0, 0);
    for r in join_all(tasks).await {
        match r {
            Ok(_) => ok += 1,
            Err(IssueError::InsufficientBizmoney) => poor += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, poor), (7, 13));
    assert_eq!(store.bizmoney_balance(bob.id).await.unwrap().get(), 500);
    let ledger = consistent_ledger(&*store, bob.id).await;
    assert_eq!(ledger.iter().filter(|e| e.reason == LedgerReason::Send).count(), 7);
    let mut coupons = 0;
    for i in 0..20 {
        coupons += usize::from(store.coupon_by_tr_id(bob.id, &tr(&format!("B{i}"))).await.unwrap().is_some());
    }
    assert_eq!(coupons, 7);

    // A mix of sends, cancels (0202, 0205) and operator adjustments on a few shared tr_ids.
    let carol = store.create_account(&new_account("carol", "REALcccc")).await.unwrap();
    charge(&*store, "carol", 20_000).await;
    let tr_ids: Vec<String> = (0..12).map(|i| format!("M{i}")).collect();
    // Half the tr_ids are issued before the race so cancels always meet real coupons; on the
    // other half a cancel may come first and tombstone the tr_id, as a scheduler allows.
    let pre_issued = 6;
    for tr_id in &tr_ids[..pre_issued] {
        store.issue_coupon(&new_coupon(carol.id, tr_id, 500, Gubun::Mms)).await.unwrap();
    }
    let mut mix = Mix(0x5eed);
    let mut tasks = Vec::new();
    for _ in 0..160 {
        let store = Arc::clone(&store);
        let tr_id = tr_ids[mix.below(tr_ids.len() as u64) as usize].clone();
        let op = mix.below(10);
        let price = 500 * (1 + mix.below(4) as i64);
        let gubun = [Gubun::Mms, Gubun::Pin, Gubun::Image][mix.below(3) as usize];
        let adjustment = 1_000 * (mix.below(5) as i64 - 2);
        let at = t + mix.below(1_000) as i64;
        tasks.push(tokio::spawn(async move {
            match op {
                0..=3 => match store.issue_coupon(&new_coupon(carol.id, &tr_id, price, gubun)).await {
                    Ok(_) => Did::Issued,
                    Err(IssueError::DuplicateTrId | IssueError::InsufficientBizmoney) => Did::Nothing,
                    Err(e) => panic!("send {tr_id}: {e:?}"),
                },
                4..=6 => match store.cancel_coupon(carol.id, &tr(&tr_id), at).await {
                    Ok(c) => {
                        assert_eq!(c.status, PinStatus::Cancelled);
                        Did::Cancelled
                    }
                    Err(CancelError::Refused(CancelRefusal::UnknownTrId | CancelRefusal::AlreadyCancelled)) => {
                        Did::Nothing
                    }
                    Err(e) => panic!("cancel {tr_id}: {e:?}"),
                },
                7 | 8 => match store.send_fail_cancel(carol.id, &tr(&tr_id), at).await {
                    Ok(_) => Did::Nothing,
                    other => panic!("send fail cancel {tr_id}: {other:?}"),
                },
                _ => match store.change_bizmoney(&user("carol"), Won::new(adjustment), LedgerReason::Adjustment, "", at).await {
                    Ok(_) => Did::Adjusted,
                    Err(BizmoneyError::WouldGoNegative) => Did::Nothing,
                    Err(e) => panic!("adjustment: {e:?}"),
                },
            }
        }));
    }
    let did = join_all(tasks).await;
    let count = |what: Did| did.iter().filter(|&&d| d == what).count();

    let ledger = consistent_ledger(&*store, carol.id).await;
    let (mut issued, mut cancelled) = (0, 0);
    for tr_id in &tr_ids {
        let sends = entries_for(&ledger, tr_id, LedgerReason::Send);
        let refunds = entries_for(&ledger, tr_id, LedgerReason::CancelRefund);
        match store.coupon_by_tr_id(carol.id, &tr(tr_id)).await.unwrap() {
            None => assert!(sends.is_empty() && refunds.is_empty(), "{tr_id}: money moved without a coupon"),
            Some(c) => {
                issued += 1;
                assert_eq!(sends.len(), 1, "{tr_id}");
                assert_eq!(sends[0].amount, -c.new.price);
                if c.status == PinStatus::Cancelled {
                    cancelled += 1;
                    assert_eq!(refunds.len(), 1, "{tr_id}");
                    assert_eq!(refunds[0].amount, c.new.price);
                    assert!(refunds[0].id > sends[0].id);
                    if c.new.gubun == Gubun::Mms {
                        assert_eq!(c.delivery, DeliveryStatus::Cancelled);
                    }
                } else {
                    assert_eq!(c.status, PinStatus::Issued);
                    assert!(refunds.is_empty(), "{tr_id}");
                }
            }
        }
    }
    assert_eq!((issued, cancelled), (pre_issued + count(Did::Issued), count(Did::Cancelled)));
    let adjustments = ledger.iter().filter(|e| e.reason == LedgerReason::Adjustment).count();
    assert_eq!(adjustments, count(Did::Adjusted));
    assert_eq!(ledger.len(), 1 + issued + cancelled + adjustments);
    assert!(cancelled > 0, "the mix cancelled nothing: {did:?}");
}

/// What the trait does not show: the outbox row of an MMS send, and the schema's own guards.
pub async fn outbox_rows_and_schema_guards(db: &TestDb) {
    let store = &*db.store;
    let alice = store
        .create_account(&new_account("alice", "REALaaaa"))
        .await
        .unwrap();
    store
        .change_bizmoney(&user("alice"), Won::new(10_000), LedgerReason::Charge, "", t0_ms())
        .await
        .unwrap();
    let mut mms = new_coupon(alice.id, "T1", 1_000, Gubun::Mms);
    mms.reserved_at_ms = Some(t0_ms() + 60_000);
    let mms = store.issue_coupon(&mms).await.unwrap();
    let now = store
        .issue_coupon(&new_coupon(alice.id, "T2", 1_000, Gubun::Mms))
        .await
        .unwrap();
    store
        .issue_coupon(&new_coupon(alice.id, "T3", 1_000, Gubun::Pin))
        .await
        .unwrap();

    let raw = db.raw().await;
    type Outbox = (i64, String, i64, String, i64, i64, Option<i64>, i64);
    let outbox = || {
        raw.fetch::<Outbox>(
            "SELECT coupon_id, kind, due_at_ms, state, CAST(attempts AS BIGINT), next_attempt_at_ms, \
             claimed_until_ms, created_at_ms FROM outbox ORDER BY id",
        )
    };
    let t = t0_ms();
    let pending = |id, due| {
        (
            id,
            "mms".to_owned(),
            due,
            "pending".to_owned(),
            0,
            due,
            None,
            t,
        )
    };
    assert_eq!(
        outbox().await,
        [pending(mms.id, t + 60_000), pending(now.id, t)]
    );
    store.cancel_coupon(alice.id, &tr("T1"), t).await.unwrap();
    let mut cancelled = pending(mms.id, t + 60_000);
    cancelled.3 = "cancelled".to_owned();
    assert_eq!(outbox().await, [cancelled, pending(now.id, t)]);

    // The ledger is append-only and a balance cannot go below zero, whatever the SQL.
    for sql in [
        "UPDATE ledger SET amount = 0",
        "DELETE FROM ledger",
        "UPDATE account_balances SET balance = -1",
    ] {
        assert!(raw.execute(sql).await.is_err(), "{sql}");
    }
    assert_eq!(store.bizmoney_balance(alice.id).await.unwrap().get(), 8_000);

    // Unknown codes are corrupt data.
    raw.execute(&format!("UPDATE coupons SET status = '99' WHERE id = {}", now.id)).await.unwrap();
    assert!(matches!(
        store.coupon_by_tr_id(alice.id, &tr("T2")).await,
        Err(StoreError::Corrupt(_))
    ));
    raw.execute(&format!(
        "INSERT INTO ledger (account_id, amount, balance_after, reason, created_at_ms) \
         VALUES ({}, 0, 8000, 'gift', 0)",
        alice.id
    ))
    .await
    .unwrap();
    assert!(matches!(
        store.ledger(alice.id).await,
        Err(StoreError::Corrupt(_))
    ));
    raw.close().await;
}

/// The console's lookups: by tr_id across accounts, by order number, by the phone's last four
/// digits, newest first and limited.
pub async fn coupons_are_found_across_accounts(db: &TestDb) {
    use giftbiz_core::coupon::CouponSearch;
    use giftbiz_core::send::PhoneNo;
    let store = &*db.store;
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    let bob = store.create_account(&new_account("bob", "REALbbbb")).await.unwrap();
    charge(store, "alice", 100_000).await;
    charge(store, "bob", 100_000).await;
    let a1 = store.issue_coupon(&new_coupon(alice.id, "SAME", 1_000, Gubun::Pin)).await.unwrap();
    let b1 = store.issue_coupon(&new_coupon(bob.id, "SAME", 1_000, Gubun::Pin)).await.unwrap();
    let mut other_phone = new_coupon(bob.id, "OTHER", 1_000, Gubun::Pin);
    other_phone.phone_no = PhoneNo::parse("01099990000").unwrap();
    let b2 = store.issue_coupon(&other_phone).await.unwrap();
    let ids = |found: Vec<giftbiz_core::coupon::Coupon>| found.iter().map(|c| c.id).collect::<Vec<_>>();

    assert_eq!(ids(store.find_coupons(&CouponSearch::TrId(tr("SAME")), 10).await.unwrap()), vec![b1.id, a1.id]);
    assert_eq!(ids(store.find_coupons(&CouponSearch::TrId(tr("SAME")), 1).await.unwrap()), vec![b1.id]);
    assert_eq!(ids(store.find_coupons(&CouponSearch::OrderNo(b2.order_no.to_string()), 10).await.unwrap()), vec![b2.id]);
    assert_eq!(ids(store.find_coupons(&CouponSearch::PhoneLast4("5678".into()), 10).await.unwrap()), vec![b1.id, a1.id]);
    assert_eq!(ids(store.find_coupons(&CouponSearch::PhoneLast4("0000".into()), 10).await.unwrap()), vec![b2.id]);
    assert!(store.find_coupons(&CouponSearch::TrId(tr("NONE")), 10).await.unwrap().is_empty());
    let found = store.find_coupons(&CouponSearch::OrderNo(a1.order_no.to_string()), 10).await.unwrap();
    assert_eq!(found[0].new.pin, a1.new.pin, "found coupons open their PIN like every read");
}

/// The dashboard's rollup: sends and won per KST day across accounts, kept by the send itself.
pub async fn the_dashboard_counts_sends_per_kst_day(db: &TestDb) {
    use giftbiz_core::console::DailySends;
    let store = &*db.store;
    let alice = store.create_account(&new_account("alice", "REALaaaa")).await.unwrap();
    let bob = store.create_account(&new_account("bob", "REALbbbb")).await.unwrap();
    charge(store, "alice", 100_000).await;
    charge(store, "bob", 50_000).await;
    // t0 is 00:30 KST on 2026-11-29; an hour before is still 2026-11-28 in Korea.
    let kst_day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap().signed_duration_since(chrono::NaiveDate::default()).num_days();
    let (day28, day29) = (kst_day(2026, 11, 28), kst_day(2026, 11, 29));
    let mut late = new_coupon(alice.id, "LATE", 700, Gubun::Pin);
    late.issued_at_ms = t0_ms() - HOUR_MS;
    store.issue_coupon(&late).await.unwrap();
    store.issue_coupon(&new_coupon(alice.id, "A", 1_000, Gubun::Pin)).await.unwrap();
    store.issue_coupon(&new_coupon(bob.id, "B", 2_500, Gubun::Pin)).await.unwrap();

    let figures = store.console_figures(day28, 60_000).await.unwrap();
    assert_eq!(
        figures.daily,
        vec![DailySends { day: day28, sends: 1, won: 700 }, DailySends { day: day29, sends: 2, won: 3_500 }]
    );
    assert_eq!(store.console_figures(day29, 60_000).await.unwrap().daily, vec![DailySends { day: day29, sends: 2, won: 3_500 }]);
    assert_eq!(figures.low_balances, vec![("bob".to_string(), 47_500)], "below 60,000 won, lowest first");
}
