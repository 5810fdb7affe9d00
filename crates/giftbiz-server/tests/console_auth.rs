//! Console logins and sessions (the use cases under the console's pages), on both engines:
//! the lockout, expiry, logout and disabling, at times the test chooses.

mod common;

use common::TestApp;
use giftbiz_core::console::{LockoutPolicy, OperatorRole, Password, Username};
use giftbiz_server::operator;
use giftbiz_core::totp::TotpSecret;
use giftbiz_server::usecases::console_auth::{self, ConsolePolicy, Credentials, LoginError, LoginRefusal, SessionToken};

both_engines!(
    the_right_password_opens_a_session_and_nothing_else_does,
    five_failures_lock_the_username_even_for_the_right_password,
    sessions_end_when_idle_when_old_at_logout_and_when_disabled,
    a_second_factor_needs_its_current_code_once,
);

const MIN: i64 = 60_000;
const POLICY: ConsolePolicy = ConsolePolicy {
    lockout: LockoutPolicy { max_failures: 5, window_ms: 15 * MIN, lockout_ms: 15 * MIN },
    idle_ms: 30 * MIN,
    absolute_ms: 12 * 60 * MIN,
};
const PASSWORD: &str = "correct horse battery";

async fn kim(app: &TestApp) {
    let name = Username::parse("kim").unwrap();
    operator::create_console_operator(app.store.as_ref(), &name, OperatorRole::Support, &Password::parse(PASSWORD).unwrap())
        .await
        .unwrap();
}

async fn log_in(app: &TestApp, username: &str, password: &str, at: i64) -> Result<SessionToken, LoginError> {
    let credentials = Credentials { username, password, code: "" };
    console_auth::log_in(app.store.as_ref(), &POLICY, credentials, "127.0.0.1", at).await.map(|(token, _)| token)
}

fn refused(r: Result<SessionToken, LoginError>) -> LoginRefusal {
    match r {
        Err(LoginError::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn the_right_password_opens_a_session_and_nothing_else_does(app: &TestApp) {
    kim(app).await;
    assert_eq!(refused(log_in(app, "kim", "correct horse batterz", 0).await), LoginRefusal::BadCredentials);
    assert_eq!(refused(log_in(app, "nobody", PASSWORD, 0).await), LoginRefusal::BadCredentials);
    assert_eq!(refused(log_in(app, "no such name!", PASSWORD, 0).await), LoginRefusal::BadCredentials);
    let token = log_in(app, "KIM", PASSWORD, 1_000).await.unwrap();
    let session = console_auth::session(app.store.as_ref(), &POLICY, &token, 2_000).await.unwrap().unwrap();
    assert_eq!((session.operator.username.as_str(), session.operator.role), ("kim", OperatorRole::Support));
    assert!(console_auth::session(app.store.as_ref(), &POLICY, &SessionToken::presented("made up"), 2_000).await.unwrap().is_none());
    // The database holds the token's hash, never the token.
    assert_eq!(app.rows_in("console_sessions").await, 1);
    let failures = app.store.login_failures_since(&Username::parse("kim").unwrap(), 0).await.unwrap();
    assert_eq!(failures, vec![0], "the wrong password was recorded");
}

async fn five_failures_lock_the_username_even_for_the_right_password(app: &TestApp) {
    kim(app).await;
    for n in 0..5 {
        assert_eq!(refused(log_in(app, "kim", "wrong password!", n * MIN).await), LoginRefusal::BadCredentials);
    }
    // Locked 15 minutes from the fifth failure (at 4 min): until 19 min.
    assert_eq!(refused(log_in(app, "kim", PASSWORD, 5 * MIN).await), LoginRefusal::Locked { until_ms: 19 * MIN });
    // Attempts while locked count too, so the lock lasts while someone keeps guessing.
    assert_eq!(refused(log_in(app, "kim", PASSWORD, 19 * MIN).await), LoginRefusal::Locked { until_ms: 20 * MIN });
    assert!(log_in(app, "kim", PASSWORD, 35 * MIN).await.is_ok(), "the lock ends");
    // Another username is not locked by kim's failures.
    assert_eq!(refused(log_in(app, "lee", PASSWORD, 5 * MIN).await), LoginRefusal::BadCredentials);
}

async fn sessions_end_when_idle_when_old_at_logout_and_when_disabled(app: &TestApp) {
    kim(app).await;
    let store = app.store.as_ref();
    let session = |token: SessionToken, at: i64| async move { console_auth::session(store, &POLICY, &token, at).await.unwrap() };

    let idle = log_in(app, "kim", PASSWORD, 0).await.unwrap();
    assert!(session(idle.clone(), 29 * MIN).await.is_some(), "used at 29 min");
    assert!(session(idle.clone(), 58 * MIN).await.is_some(), "used again within 30 min of the last use");
    assert!(session(idle.clone(), 89 * MIN).await.is_none(), "idle 31 min: ended");
    assert!(session(idle.clone(), 90 * MIN).await.is_none(), "and stays ended");

    let old = log_in(app, "kim", PASSWORD, 0).await.unwrap();
    let mut at = 0;
    while at + 20 * MIN <= 12 * 60 * MIN {
        at += 20 * MIN;
        assert!(session(old.clone(), at).await.is_some(), "in use at {at}");
    }
    assert!(session(old.clone(), 12 * 60 * MIN + 1).await.is_none(), "past 12 hours: ended however used");

    let out = log_in(app, "kim", PASSWORD, 0).await.unwrap();
    console_auth::log_out(store, &out).await.unwrap();
    assert!(session(out, MIN).await.is_none());

    let kept = log_in(app, "kim", PASSWORD, 0).await.unwrap();
    operator::set_console_operator_disabled(store, &Username::parse("kim").unwrap(), true).await.unwrap();
    assert!(session(kept, MIN).await.is_none());
    assert_eq!(refused(log_in(app, "kim", PASSWORD, MIN).await), LoginRefusal::BadCredentials, "a disabled operator cannot log in");
}

async fn a_second_factor_needs_its_current_code_once(app: &TestApp) {
    kim(app).await;
    let store = app.store.as_ref();
    let name = Username::parse("kim").unwrap();
    let before = log_in(app, "kim", PASSWORD, 0).await.unwrap();
    let secret = operator::enable_console_operator_totp(store, &name).await.unwrap();
    assert!(console_auth::session(store, &POLICY, &before, MIN).await.unwrap().is_none(), "enabling ends the sessions");
    let stored = store.operator_by_username(&name).await.unwrap().unwrap();
    assert_eq!(stored.totp.as_ref(), Some(&secret), "the sealed key opens to the same key");

    // Lenient on failures here, to see each refusal as itself rather than as the lockout.
    let policy = ConsolePolicy { lockout: LockoutPolicy { max_failures: 100, ..POLICY.lockout }, ..POLICY };
    let with_code = |password: &'static str, code: String, at: i64| {
        async move {
            let credentials = Credentials { username: "kim", password, code: &code };
            console_auth::log_in(store, &policy, credentials, "127.0.0.1", at).await.map(|(token, _)| token)
        }
    };
    let at = 1_800_000_000_000; // the start of a step
    let step = TotpSecret::step_of(at);
    let code = |step: i64| secret.code_at_step(step);
    assert_eq!(refused(with_code(PASSWORD, String::new(), at).await), LoginRefusal::BadCredentials, "no code");
    let wrong = if code(step) == "000000" { "111111" } else { "000000" };
    assert_eq!(refused(with_code(PASSWORD, wrong.to_owned(), at).await), LoginRefusal::BadCredentials, "a wrong code");
    assert_eq!(refused(with_code("wrong password!", code(step), at).await), LoginRefusal::BadCredentials);
    // The wrong password spent no code: the right one still opens a session with it.
    assert!(with_code(PASSWORD, code(step), at).await.is_ok());
    assert_eq!(refused(with_code(PASSWORD, code(step), at + 1_000).await), LoginRefusal::BadCredentials, "a code opens one session");
    // A phone a step ahead: the next step's code is accepted now, and once only.
    assert!(with_code(PASSWORD, code(step + 1), at + 1_000).await.is_ok(), "drift");
    assert_eq!(refused(with_code(PASSWORD, code(step + 1), at + 30_000).await), LoginRefusal::BadCredentials);
    // The previous step's code is accepted for drift too, but not once a later step was used.
    assert_eq!(refused(with_code(PASSWORD, code(step), at + 30_000).await), LoginRefusal::BadCredentials);
    assert!(with_code(PASSWORD, code(step + 2), at + 60_000).await.is_ok());
    let failures = store.login_failures_since(&name, at).await.unwrap();
    assert_eq!(failures.len(), 6, "each refused code is a failed login: {failures:?}");

    operator::disable_console_operator_totp(store, &name).await.unwrap();
    assert!(log_in(app, "kim", PASSWORD, at + 60 * MIN).await.is_ok(), "the password alone again");
}
