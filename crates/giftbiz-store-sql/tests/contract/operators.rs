//! The console's operators, their sessions and failed logins.

use giftbiz_core::account::TokenHash;
use giftbiz_core::console::{AuditEvent, AuditFilter, NewOperator, OperatorRole, Password, PasswordHash, Username};
use giftbiz_core::StoreError;

use crate::harness::TestDb;

fn name(raw: &str) -> Username {
    Username::parse(raw).unwrap()
}

fn new_operator(username: &str, role: OperatorRole) -> NewOperator {
    let hash = PasswordHash::of(&Password::parse(&format!("password of {username}")).unwrap());
    NewOperator { username: name(username), role, password_hash: hash, created_at_ms: 1_000 }
}

pub async fn operators_sessions_and_failed_logins(db: &TestDb) {
    let store = &*db.store;
    let kim = store.create_operator(&new_operator("kim", OperatorRole::Support)).await.unwrap();
    let lee = store.create_operator(&new_operator("lee", OperatorRole::Finance)).await.unwrap();
    assert!(matches!(
        store.create_operator(&new_operator("kim", OperatorRole::Admin)).await,
        Err(StoreError::UsernameTaken(u)) if u.as_str() == "kim"
    ));
    assert_eq!(store.operator_by_username(&name("kim")).await.unwrap(), Some(kim.clone()));
    assert_eq!(store.operator_by_username(&name("nobody")).await.unwrap(), None);
    assert_eq!(store.list_operators().await.unwrap(), vec![kim.clone(), lee.clone()]);
    assert!(kim.password_hash.verify(&Password::presented("password of kim")));

    // Sessions by their token's hash, with their operator; touched forward only.
    let (one, two) = (TokenHash::of("session one"), TokenHash::of("session two"));
    store.create_session(&one, kim.id, "127.0.0.1", 5_000).await.unwrap();
    store.create_session(&two, lee.id, "127.0.0.2", 6_000).await.unwrap();
    let s = store.session(&one).await.unwrap().unwrap();
    assert_eq!((s.operator.clone(), s.created_at_ms, s.last_seen_ms), (kim.clone(), 5_000, 5_000));
    store.touch_session(&one, 9_000).await.unwrap();
    store.touch_session(&one, 7_000).await.unwrap();
    assert_eq!(store.session(&one).await.unwrap().unwrap().last_seen_ms, 9_000);
    assert_eq!(store.session(&TokenHash::of("made up")).await.unwrap(), None);
    store.end_session(&two).await.unwrap();
    assert_eq!(store.session(&two).await.unwrap(), None);

    // A new password ends the operator's sessions; so does disabling, which keeps its first
    // moment; enabling brings back no session.
    let new_hash = PasswordHash::of(&Password::parse("a brand new password").unwrap());
    assert!(store.set_operator_password(&name("kim"), &new_hash).await.unwrap());
    assert!(!store.set_operator_password(&name("nobody"), &new_hash).await.unwrap());
    assert_eq!(store.session(&one).await.unwrap(), None);
    let kim = store.operator_by_username(&name("kim")).await.unwrap().unwrap();
    assert!(kim.password_hash.verify(&Password::presented("a brand new password")));
    store.create_session(&one, kim.id, "127.0.0.1", 10_000).await.unwrap();
    assert!(store.set_operator_disabled(&name("kim"), Some(11_000)).await.unwrap());
    assert!(store.set_operator_disabled(&name("kim"), Some(12_000)).await.unwrap());
    assert!(!store.set_operator_disabled(&name("nobody"), Some(12_000)).await.unwrap());
    assert_eq!(store.session(&one).await.unwrap(), None);
    assert_eq!(store.operator_by_username(&name("kim")).await.unwrap().unwrap().disabled_at_ms, Some(11_000));
    assert!(store.set_operator_disabled(&name("kim"), None).await.unwrap());
    assert!(!store.operator_by_username(&name("kim")).await.unwrap().unwrap().is_disabled());

    // Failed logins are kept by the username tried, operator or not.
    for at in [100, 300, 200] {
        store.record_login_failure(&name("lee"), "10.0.0.1", at).await.unwrap();
    }
    store.record_login_failure(&name("ghost"), "10.0.0.1", 150).await.unwrap();
    assert_eq!(store.login_failures_since(&name("lee"), 150).await.unwrap(), vec![200, 300]);
    assert_eq!(store.login_failures_since(&name("ghost"), 0).await.unwrap(), vec![150]);
}

/// The audit log: appended, paged newest first by id, filtered by target, and never changed.
pub async fn the_audit_log_is_append_only(db: &TestDb) {
    let store = &*db.store;
    let kim = store.create_operator(&new_operator("kim", OperatorRole::Admin)).await.unwrap();
    for (n, target) in ["account:a", "account:b", "account:a", "account:a"].into_iter().enumerate() {
        let event = AuditEvent {
            at_ms: n as i64,
            operator_id: kim.id,
            operator_name: kim.username.clone(),
            action: "account.suspend",
            target: target.to_owned(),
            before: Some(r#"{"suspended":false}"#.into()),
            after: Some(r#"{"suspended":true}"#.into()),
            reason: format!("reason {n}"),
            source: "10.0.0.1".into(),
        };
        store.append_audit(&event).await.unwrap();
    }
    let all = store.audit_log(&AuditFilter::default(), None, 10).await.unwrap();
    assert_eq!(all.iter().map(|e| e.at_ms).collect::<Vec<_>>(), vec![3, 2, 1, 0]);
    assert_eq!((all[0].operator_name.as_str(), all[0].action.as_str(), all[0].reason.as_str()), ("kim", "account.suspend", "reason 3"));
    let page = store.audit_log(&AuditFilter::default(), None, 2).await.unwrap();
    let next = store.audit_log(&AuditFilter::default(), Some(page[1].id), 2).await.unwrap();
    assert_eq!(next.iter().map(|e| e.at_ms).collect::<Vec<_>>(), vec![1, 0]);
    let of_a = store.audit_log(&AuditFilter::target("account:a"), None, 10).await.unwrap();
    assert_eq!(of_a.iter().map(|e| e.at_ms).collect::<Vec<_>>(), vec![3, 2, 0]);

    // By operator and by action, an action matching those under it, never by a LIKE pattern.
    let lee = store.create_operator(&new_operator("lee", OperatorRole::Finance)).await.unwrap();
    let charge = AuditEvent { operator_id: lee.id, operator_name: lee.username.clone(), action: "bizmoney.charge", at_ms: 9, target: "account:c".into(), ..base_event(&kim) };
    store.append_audit(&charge).await.unwrap();
    let at = |f: AuditFilter| async move { store.audit_log(&f, None, 10).await.unwrap().iter().map(|e| e.at_ms).collect::<Vec<_>>() };
    let filter = |target: Option<&str>, operator: Option<&str>, action: Option<&str>| AuditFilter {
        target: target.map(Into::into),
        operator: operator.map(Into::into),
        action: action.map(Into::into),
    };
    assert_eq!(at(filter(None, Some("lee"), None)).await, vec![9]);
    assert_eq!(at(filter(None, Some("kim"), Some("account"))).await, vec![3, 2, 1, 0]);
    assert_eq!(at(filter(None, None, Some("bizmoney"))).await, vec![9]);
    assert_eq!(at(filter(None, None, Some("bizmoney.charge"))).await, vec![9]);
    for none in ["bizmo", "%", "bizmoney.%", "account.suspend.x"] {
        assert_eq!(at(filter(None, None, Some(none))).await, Vec::<i64>::new(), "{none}");
    }
    assert_eq!(at(filter(Some("account:b"), Some("kim"), Some("account.suspend"))).await, vec![1]);
    let raw = db.raw().await;
    for sql in ["UPDATE console_audit SET reason = 'x'", "DELETE FROM console_audit"] {
        assert!(raw.execute(sql).await.is_err(), "{sql}");
    }
    assert_eq!(store.audit_log(&AuditFilter::target("account:a"), None, 10).await.unwrap(), of_a, "nothing changed");
}

fn base_event(by: &giftbiz_core::console::Operator) -> AuditEvent {
    AuditEvent {
        at_ms: 0,
        operator_id: by.id,
        operator_name: by.username.clone(),
        action: "account.suspend",
        target: "account:a".into(),
        before: None,
        after: None,
        reason: String::new(),
        source: "10.0.0.1".into(),
    }
}
