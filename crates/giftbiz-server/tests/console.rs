//! The console over real HTTP, on both engines: login and its cookie, pages that need a
//! session, logout that needs the CSRF token, cross-site logins refused, the lockout and the
//! per-address limit, the language switch.

mod common;

use common::console::{browser, csrf_of, get, operator_session, post_as, post_login, PASSWORD};
use common::{Engine, TestApp};
use giftbiz_core::console::AuditFilter;
use giftbiz_core::console::{OperatorRole, Password, Username};
use giftbiz_core::time::Clock;
use giftbiz_core::totp::TotpSecret;
use giftbiz_server::{operator, Settings};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

both_engines!(
    login_sets_a_strict_http_only_cookie_that_the_dashboard_needs,
    logout_needs_the_session_csrf_token,
    a_cross_site_login_is_refused,
    an_operator_with_a_second_factor_logs_in_with_its_code,
    five_failed_logins_lock_even_the_right_password,
    roles_decide_who_charges_and_suspends_and_each_action_is_audited,
    the_dashboard_counts_todays_and_the_months_sends_and_low_balances,
    an_admin_creates_an_account_and_rotates_its_token_shown_once,
    a_large_adjustment_waits_for_a_second_operator,
    support_sees_pending_deliveries_and_sends_a_message_again,
    support_finds_a_coupon_every_way_and_cancels_it_like_0202,
);

async fn operator_kim(app: &TestApp, role: OperatorRole) {
    let name = Username::parse("kim").unwrap();
    operator::create_console_operator(app.store.as_ref(), &name, role, &Password::parse(PASSWORD).unwrap()).await.unwrap();
}

/// Logs kim in; the session cookie (`name=value`).
async fn signed_in(app: &TestApp) -> String {
    let resp = post_login(app, "kim", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let set = resp.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    set.split(';').next().unwrap().to_owned()
}

async fn login_sets_a_strict_http_only_cookie_that_the_dashboard_needs(app: &TestApp) {
    operator_kim(app, OperatorRole::Viewer).await;
    let resp = get(app, "/console", None).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console/login");
    let login = get(app, "/console/login", None).await;
    assert_eq!(login.status(), StatusCode::OK);
    assert!(login.text().await.unwrap().contains(r#"<form method="post" action="/console/login""#));

    let resp = post_login(app, "kim", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console");
    let set = resp.headers()[SET_COOKIE].to_str().unwrap();
    for part in ["giftbiz_session=", "HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(set.contains(part), "{part} in {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP here: {set}");
    let cookie = set.split(';').next().unwrap();
    let page = get(app, "/console", Some(cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("kim (viewer)") && html.contains(r#"action="/console/logout""#), "{html}");
    assert_eq!(csrf_of(&html).len(), 64);
    // The database keys the session by the token's hash: the token itself names none.
    let token = cookie.split_once('=').unwrap().1;
    use giftbiz_core::account::TokenHash;
    assert!(app.store.session(&TokenHash::of(token)).await.unwrap().is_some());
    assert!(app.store.session(&TokenHash::from_stored(token.to_owned())).await.unwrap().is_none());

    let wrong = post_login(app, "kim", "correct horse batterz").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(SET_COOKIE).is_none());
    assert!(wrong.text().await.unwrap().contains("아이디, 비밀번호 또는 일회용 코드가 올바르지 않습니다."));
    // A made-up cookie is no session.
    assert_eq!(get(app, "/console", Some("giftbiz_session=made-up")).await.status(), StatusCode::SEE_OTHER);
}

async fn an_operator_with_a_second_factor_logs_in_with_its_code(app: &TestApp) {
    operator_kim(app, OperatorRole::Viewer).await;
    let secret = operator::enable_console_operator_totp(app.store.as_ref(), &Username::parse("kim").unwrap()).await.unwrap();
    let page = get(app, "/console/login", None).await.text().await.unwrap();
    assert!(page.contains(r#"name="code""#) && page.contains(r#"autocomplete="one-time-code""#), "{page}");
    let login = |code: String| async move {
        let form = [("username", "kim"), ("password", PASSWORD), ("code", code.as_str())];
        browser().post(app.url("/console/login")).form(&form).send().await.unwrap()
    };
    assert_eq!(login(String::new()).await.status(), StatusCode::UNAUTHORIZED, "the password alone no longer does");
    let code = secret.code_at_step(TotpSecret::step_of(app.clock.now_ms()));
    let resp = login(code.clone()).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = resp.headers()[SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert_eq!(get(app, "/console", Some(&cookie)).await.status(), StatusCode::OK);
    let replayed = login(code).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED, "a code opens one session");
    assert!(replayed.headers().get(SET_COOKIE).is_none());
}

async fn logout_needs_the_session_csrf_token(app: &TestApp) {
    operator_kim(app, OperatorRole::Support).await;
    let cookie = signed_in(app).await;
    let html = get(app, "/console", Some(&cookie)).await.text().await.unwrap();
    let csrf = csrf_of(&html);
    let logout = |token: Option<String>| {
        let cookie = cookie.clone();
        async move {
            let form: Vec<(&str, String)> = token.into_iter().map(|t| ("csrf_token", t)).collect();
            browser().post(app.url("/console/logout")).header(COOKIE, cookie).form(&form).send().await.unwrap()
        }
    };
    assert_eq!(logout(None).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(logout(Some("0".repeat(64))).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(get(app, "/console", Some(&cookie)).await.status(), StatusCode::OK, "a refused logout ends nothing");
    // Another session's token is not this one's.
    let other = signed_in(app).await;
    let other_csrf = csrf_of(&get(app, "/console", Some(&other)).await.text().await.unwrap());
    assert_eq!(logout(Some(other_csrf)).await.status(), StatusCode::FORBIDDEN);
    // The header works as the field does.
    let resp = browser().post(app.url("/console/logout")).header(COOKIE, &cookie).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console/login");
    assert!(resp.headers()[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(get(app, "/console", Some(&cookie)).await.status(), StatusCode::SEE_OTHER, "the session ended");
    assert_eq!(get(app, "/console", Some(&other)).await.status(), StatusCode::OK, "the other session lives on");
    // Without a session a POST is refused, not redirected.
    let anonymous = browser().post(app.url("/console/logout")).form(&[("csrf_token", csrf)]).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
}

async fn a_cross_site_login_is_refused(app: &TestApp) {
    operator_kim(app, OperatorRole::Admin).await;
    let form = [("username", "kim"), ("password", PASSWORD)];
    let evil = browser().post(app.url("/console/login")).header("origin", "http://evil.example").form(&form).send().await.unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    assert!(evil.headers().get(SET_COOKIE).is_none());
    assert_eq!(app.rows_in("console_sessions").await, 0);
    let host = app.url("").trim_end_matches('/').to_owned();
    let same = browser().post(app.url("/console/login")).header("origin", host).form(&form).send().await.unwrap();
    assert_eq!(same.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.rows_in("console_sessions").await, 1);
}

async fn five_failed_logins_lock_even_the_right_password(app: &TestApp) {
    operator_kim(app, OperatorRole::Finance).await;
    for _ in 0..5 {
        assert_eq!(post_login(app, "kim", "wrong password!").await.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = post_login(app, "kim", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::UNAUTHORIZED);
    assert!(locked.headers().get(SET_COOKIE).is_none());
    assert!(locked.text().await.unwrap().contains("잠시 잠겼습니다"));
    // The lock is the username's: it ends with the lockout (the test's clock moves on).
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(post_login(app, "kim", PASSWORD).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn failed_logins_from_one_address_are_limited() {
    let settings = Settings { console_login_failures_per_minute: 3, ..Settings::default() };
    let app = TestApp::spawn_with(Engine::Sqlite, settings).await.unwrap();
    // Different usernames, so no lockout: the address's own limit.
    for n in 0..3 {
        assert_eq!(post_login(&app, &format!("user{n}"), "wrong password!").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(post_login(&app, "user9", "wrong password!").await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_language_switch_is_remembered() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let ko = get(&app, "/console/login", None).await.text().await.unwrap();
    assert!(ko.contains(r#"<html lang="ko">"#) && ko.contains("로그인"));
    let en = get(&app, "/console/login?lang=en", None).await;
    let set = en.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(en.text().await.unwrap().contains("Sign in"));
    let cookie = set.split(';').next().unwrap();
    let again = get(&app, "/console/login", Some(cookie)).await.text().await.unwrap();
    assert!(again.contains(r#"<html lang="en">"#), "{again}");
    let css = get(&app, "/console/assets/console.css", None).await;
    assert_eq!(css.headers()["cache-control"], "public, max-age=86400");
    assert_eq!(get(&app, "/console/nothing-here", None).await.status(), StatusCode::NOT_FOUND);
}

async fn balance(app: &TestApp) -> serde_json::Value {
    app.call("/bizApi/bizmoney", "0301", &[("user_id", "acme")]).await
}

async fn roles_decide_who_charges_and_suspends_and_each_action_is_audited(app: &TestApp) {
    let viewer = operator_session(app, "vic", OperatorRole::Viewer).await;
    let support = operator_session(app, "sup", OperatorRole::Support).await;
    let finance = operator_session(app, "fin", OperatorRole::Finance).await;
    let admin = operator_session(app, "adm", OperatorRole::Admin).await;
    let charge = [("amount", "5000"), ("reason", "top-up"), ("kind", "charge")];

    // Everyone reads; only the roles that may act see the forms.
    let list = get(app, "/console/accounts?q=ACM", Some(&viewer.0)).await;
    assert_eq!(list.status(), StatusCode::OK);
    assert!(list.text().await.unwrap().contains(r#"href="/console/accounts/acme""#));
    let page = get(app, "/console/accounts/acme", Some(&viewer.0)).await.text().await.unwrap();
    assert!(!page.contains("/console/accounts/acme/bizmoney") && !page.contains("/console/accounts/acme/suspend"), "{page}");
    let page = get(app, "/console/accounts/acme", Some(&finance.0)).await.text().await.unwrap();
    assert!(page.contains("/console/accounts/acme/bizmoney") && !page.contains("/console/accounts/acme/suspend"), "{page}");
    assert_eq!(get(app, "/console/accounts/nobody", Some(&viewer.0)).await.status(), StatusCode::NOT_FOUND);

    // A forbidden action is 403 however it is sent: the viewer's and support's own valid
    // cookie and CSRF token, replayed by hand, charge nothing.
    let before = balance(app).await;
    for who in [&viewer, &support] {
        assert_eq!(post_as(app, who, "/console/accounts/acme/bizmoney", &charge).await.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(post_as(app, &finance, "/console/accounts/acme/suspend", &[("reason", "x")]).await.status(), StatusCode::FORBIDDEN);
    // Without the CSRF token, or with bad input, nothing happens either.
    let no_csrf = browser().post(app.url("/console/accounts/acme/bizmoney")).header(COOKIE, &finance.0).form(&charge).send().await.unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    for bad in [[("amount", "5000"), ("reason", " "), ("kind", "charge")], [("amount", "-5"), ("reason", "r"), ("kind", "charge")], [("amount", "5.5"), ("reason", "r"), ("kind", "charge")]] {
        assert_eq!(post_as(app, &finance, "/console/accounts/acme/bizmoney", &bad).await.status(), StatusCode::BAD_REQUEST, "{bad:?}");
    }
    assert_eq!(balance(app).await, before, "nothing refused moved money");

    // Finance charges; the API's 0301 shows it at once.
    let resp = post_as(app, &finance, "/console/accounts/acme/bizmoney", &charge).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console/accounts/acme?done=charged");
    let after = balance(app).await;
    let as_won = |v: &serde_json::Value| v["balance"].as_str().unwrap().parse::<i64>().unwrap();
    assert_eq!(as_won(&after), as_won(&before) + 5000);

    // The admin suspends: the account's API calls answer E0006 until reactivated.
    assert_eq!(post_as(app, &admin, "/console/accounts/acme/suspend", &[("reason", "fraud check")]).await.status(), StatusCode::SEE_OTHER);
    common::assert_code(&balance(app).await, "E0006");
    let page = get(app, "/console/accounts/acme", Some(&admin.0)).await.text().await.unwrap();
    assert!(page.contains("/console/accounts/acme/reactivate"), "{page}");
    assert_eq!(post_as(app, &admin, "/console/accounts/acme/reactivate", &[("reason", "cleared")]).await.status(), StatusCode::SEE_OTHER);
    common::assert_code(&balance(app).await, "0000");

    // The audit log has each action, newest first, with who, why and the states.
    let audit = app.store.audit_log(&AuditFilter::target("account:acme"), None, 10).await.unwrap();
    let seen: Vec<(&str, &str, &str)> = audit.iter().map(|e| (e.operator_name.as_str(), e.action.as_str(), e.reason.as_str())).collect();
    assert_eq!(seen, vec![("adm", "account.reactivate", "cleared"), ("adm", "account.suspend", "fraud check"), ("fin", "bizmoney.charge", "top-up")]);
    assert!(audit[2].after.as_deref().unwrap().contains(&format!("\"balance\":{}", as_won(&after))), "{:?}", audit[2]);
    assert_eq!(audit[2].source, "127.0.0.1");

    // The audit log's page and CSV, and the ledger's CSV.
    let page = get(app, "/console/audit?target=account:acme", Some(&viewer.0)).await.text().await.unwrap();
    assert!(page.contains("fraud check") && page.contains("account.reactivate") && page.contains("fin"), "{page}");
    let csv = get(app, "/console/audit.csv?target=account%3Aacme", Some(&viewer.0)).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert_eq!(lines[0], "id,at_kst,operator,action,target,before,after,reason,source");
    assert!(lines[3].contains(",fin,bizmoney.charge,account:acme,") && lines[3].ends_with(",top-up,127.0.0.1"), "{csv}");
    let ledger = get(app, "/console/accounts/acme/ledger.csv", Some(&viewer.0)).await.text().await.unwrap();
    assert!(ledger.lines().any(|l| l.contains(",charge,,5000,")), "{ledger}");

    // Filtered by operator and by action (and the actions under it); blank fields filter nothing.
    let csv_of = |query: &'static str| {
        let viewer = viewer.0.clone();
        async move { get(app, &format!("/console/audit.csv?{query}"), Some(&viewer)).await.text().await.unwrap() }
    };
    let rows = |csv: String| csv.lines().skip(1).map(|l| l.split(',').nth(3).unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(rows(csv_of("operator=fin").await), ["bizmoney.charge"]);
    assert_eq!(rows(csv_of("action=account&operator=adm").await), ["account.reactivate", "account.suspend"]);
    assert_eq!(rows(csv_of("action=account.suspend&target=&operator=").await), ["account.suspend"]);
    let page = get(app, "/console/audit?operator=fin", Some(&viewer.0)).await.text().await.unwrap();
    assert!(page.contains("bizmoney.charge") && !page.contains("fraud check"), "{page}");
    assert!(page.contains(r#"href="/console/audit.csv?operator=fin""#), "the CSV link keeps the filter: {page}");
}

async fn support_finds_a_coupon_every_way_and_cancels_it_like_0202(app: &TestApp) {
    let viewer = operator_session(app, "vic", OperatorRole::Viewer).await;
    let support = operator_session(app, "sup", OperatorRole::Support).await;
    let admin = operator_session(app, "adm", OperatorRole::Admin).await;
    assert_eq!(post_as(app, &admin, "/console/accounts/acme/bizmoney", &[("amount", "100000"), ("reason", "r")]).await.status(), StatusCode::SEE_OTHER);
    let goods = app.call("/bizApi/goods", "0101", &[("size", "50")]).await["result"]["goodsList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["goodsStateCd"] == "SALE")
        .unwrap()["goodsCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = app.call("/bizApi/send", "0204", &common::send_params(&goods, "where_is_it", "Y", &[])).await;
    common::assert_code(&sent, "0000");
    let order_no = sent["result"]["result"]["orderNo"].as_str().unwrap().to_owned();
    let pin = sent["result"]["result"]["pinNo"].as_str().unwrap().to_owned();

    // Found by tr_id, order number and the phone's last four in a link, by the PIN in a posted
    // form (never a URL); the PIN is never shown whole, not even the one searched for.
    let pin_search = post_as(app, &support, "/console/coupons/pin", &[("pin", pin.as_str())]).await;
    assert_eq!(pin_search.status(), StatusCode::OK);
    let by_pin = pin_search.text().await.unwrap();
    let in_a_link = get(app, &format!("/console/coupons?q={pin}"), Some(&support.0)).await.text().await.unwrap();
    assert!(!in_a_link.contains(&order_no), "a PIN in a URL finds nothing");
    let no_csrf = browser().post(app.url("/console/coupons/pin")).header(COOKIE, &support.0).form(&[("pin", pin.as_str())]).send().await.unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    for (q, html) in [
        ("where_is_it", get(app, "/console/coupons?q=where_is_it", Some(&support.0)).await.text().await.unwrap()),
        ("order", get(app, &format!("/console/coupons?q={order_no}"), Some(&support.0)).await.text().await.unwrap()),
        ("5678", get(app, "/console/coupons?q=5678", Some(&support.0)).await.text().await.unwrap()),
        ("pin", by_pin),
    ] {
        assert!(html.contains(&order_no) && html.contains("where_is_it"), "{q}: {html}");
        assert!(!html.contains(&pin), "{q}: the whole PIN is on the page");
        assert!(html.contains(&format!("********{}", &pin[8..])), "{q}: the PIN's last four");
        assert!(html.contains("010****5678"), "{q}: the phone masked");
    }
    let nothing = get(app, "/console/coupons?q=no_such_tr", Some(&support.0)).await.text().await.unwrap();
    assert!(nothing.contains("찾은 쿠폰이 없습니다"));

    // The viewer sees no cancel form and is refused when posting one anyway.
    let html = get(app, &format!("/console/coupons?q={order_no}"), Some(&viewer.0)).await.text().await.unwrap();
    assert!(!html.contains("/console/coupons/cancel"), "{html}");
    let cancel = [("order_no", order_no.as_str()), ("reason", "customer asked"), ("confirm", "yes")];
    assert_eq!(post_as(app, &viewer, "/console/coupons/cancel", &cancel).await.status(), StatusCode::FORBIDDEN);
    // The confirmation step is required.
    let unconfirmed = [("order_no", order_no.as_str()), ("reason", "customer asked")];
    assert_eq!(post_as(app, &support, "/console/coupons/cancel", &unconfirmed).await.status(), StatusCode::BAD_REQUEST);
    let detail = app.call("/bizApi/coupons", "0201", &[("tr_id", "where_is_it")]).await;
    assert_eq!(detail["result"][0]["couponInfoList"][0]["pinStatusCd"], "01", "nothing cancelled yet");

    // Support cancels: 0201 shows 07, the refund is in the balance, the audit has it.
    let before: i64 = app.call("/bizApi/bizmoney", "0301", &[("user_id", "acme")]).await["balance"].as_str().unwrap().parse().unwrap();
    let resp = post_as(app, &support, "/console/coupons/cancel", &cancel).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], format!("/console/coupons?q={order_no}&done=cancelled").as_str());
    let detail = app.call("/bizApi/coupons", "0201", &[("tr_id", "where_is_it")]).await;
    assert_eq!(detail["result"][0]["couponInfoList"][0]["pinStatusCd"], "07");
    let after: i64 = app.call("/bizApi/bizmoney", "0301", &[("user_id", "acme")]).await["balance"].as_str().unwrap().parse().unwrap();
    assert!(after > before, "refunded: {before} -> {after}");
    let audit = app.store.audit_log(&AuditFilter::target(format!("coupon:{order_no}")), None, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!((audit[0].operator_name.as_str(), audit[0].action.as_str(), audit[0].reason.as_str()), ("sup", "coupon.cancel", "customer asked"));
    // The coupon's timeline: issued by the API, cancelled by support with the reason.
    let html = get(app, &format!("/console/coupons?q={order_no}"), Some(&viewer.0)).await.text().await.unwrap();
    let issued = html.find("issued (01)").expect("issued in the timeline");
    let cancelled = html.find("coupon.cancel: customer asked <span class=\"muted\">— sup").expect("the cancel in the timeline");
    assert!(issued < cancelled, "oldest first: {html}");
    // A second cancel is the API's refusal, shown as a conflict; nothing moves.
    assert_eq!(post_as(app, &support, "/console/coupons/cancel", &cancel).await.status(), StatusCode::CONFLICT);
    let again: i64 = app.call("/bizApi/bizmoney", "0301", &[("user_id", "acme")]).await["balance"].as_str().unwrap().parse().unwrap();
    assert_eq!(again, after);
}

/// The dashboard's figures after known sends: today's and the month's counts and won, the
/// pending MMS, and the account below the low-balance mark.
async fn the_dashboard_counts_todays_and_the_months_sends_and_low_balances(app: &TestApp) {
    let admin = operator_session(app, "adm", OperatorRole::Admin).await;
    let v = app.call("/bizApi/goods", "0101", &[("size", "50")]).await;
    let g = v["result"]["goodsList"].as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SALE").unwrap().clone();
    let (goods, price) = (g["goodsCode"].as_str().unwrap().to_owned(), g["discountPrice"].as_i64().unwrap());
    assert_eq!(post_as(app, &admin, "/console/accounts/acme/bizmoney", &[("amount", "200000"), ("reason", "r")]).await.status(), StatusCode::SEE_OTHER);
    // Two sends 3 days ago, one (an MMS, still pending) today.
    app.clock.advance(chrono::Duration::days(-3));
    for tr in ["d1", "d2"] {
        common::assert_code(&app.call("/bizApi/send", "0204", &common::send_params(&goods, tr, "Y", &[])).await, "0000");
    }
    app.clock.advance(chrono::Duration::days(3));
    common::assert_code(&app.call("/bizApi/send", "0204", &common::send_params(&goods, "d3", "N", &[])).await, "0000");
    let html = get(app, "/console", Some(&admin.0)).await.text().await.unwrap();
    let figure = |id: &str| {
        let at = html.find(&format!(r#"id="{id}">"#)).unwrap_or_else(|| panic!("{id} in {html}")) + id.len() + 6;
        html[at..].split('<').next().unwrap().to_owned()
    };
    assert_eq!(figure("today-sends"), "1");
    assert_eq!(figure("month-sends"), "3");
    assert_eq!(figure("pending"), "1");
    assert_eq!(figure("failed"), "0");
    assert!(html.contains(&format!("{} 원", won_text(3 * price))), "the month's won: {html}");
    assert_eq!(html.matches("<rect ").count(), 30, "a bar a day");
    // acme holds 200,000 - 3 sends: above the 100,000 mark unless the sends cost more.
    let listed = html.contains(r#"href="/console/accounts/acme""#);
    assert_eq!(listed, 200_000 - 3 * price < 100_000, "{html}");
}

fn won_text(amount: i64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (n, c) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The text of the element with `id` in `html`.
fn by_id(html: &str, id: &str) -> String {
    let at = html.find(&format!(r#"id="{id}">"#)).unwrap_or_else(|| panic!("{id} in {html}")) + id.len() + 6;
    html[at..].split('<').next().unwrap().to_owned()
}

async fn an_admin_creates_an_account_and_rotates_its_token_shown_once(app: &TestApp) {
    let admin = operator_session(app, "adm", OperatorRole::Admin).await;
    let finance = operator_session(app, "fin", OperatorRole::Finance).await;
    let create = [("user_id", "newco"), ("grade", "gold")];
    assert_eq!(post_as(app, &finance, "/console/accounts", &create).await.status(), StatusCode::FORBIDDEN);
    let resp = post_as(app, &admin, "/console/accounts", &create).await;
    assert_eq!((resp.status(), resp.headers()["cache-control"].to_str().unwrap()), (StatusCode::OK, "no-store"));
    let html = resp.text().await.unwrap();
    let (code, token) = (by_id(&html, "auth-code"), by_id(&html, "auth-token"));
    let bizmoney = |code: String, token: String| async move {
        let form = [("api_code", "0301"), ("custom_auth_code", code.as_str()), ("custom_auth_token", token.as_str()), ("dev_yn", "N"), ("user_id", "newco")];
        let form: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        app.post_form("/bizApi/bizmoney", &form).await
    };
    common::assert_code(&bizmoney(code.clone(), token.clone()).await, "0000");
    assert_eq!(post_as(app, &admin, "/console/accounts", &create).await.status(), StatusCode::BAD_REQUEST, "taken");
    assert_eq!(post_as(app, &admin, "/console/accounts", &[("user_id", "bad id!"), ("grade", "gold")]).await.status(), StatusCode::BAD_REQUEST);

    let resp = post_as(app, &admin, "/console/accounts/newco/rotate-token", &[("reason", "leaked")]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let rotated = by_id(&resp.text().await.unwrap(), "auth-token");
    assert_ne!(rotated, token);
    common::assert_code(&bizmoney(code.clone(), token).await, "E0009");
    common::assert_code(&bizmoney(code, rotated).await, "0000");
    let audit = app.store.audit_log(&AuditFilter::target("account:newco"), None, 10).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["account.rotate_token", "account.create"]);
    assert!(audit.iter().all(|e| !e.after.as_deref().unwrap_or("").contains("token\":")), "no token in the audit");
}

async fn a_large_adjustment_waits_for_a_second_operator(app: &TestApp) {
    let first = operator_session(app, "fin1", OperatorRole::Finance).await;
    let second = operator_session(app, "fin2", OperatorRole::Finance).await;
    let viewer = operator_session(app, "vic", OperatorRole::Viewer).await;
    let won = |v: serde_json::Value| v["balance"].as_str().unwrap().parse::<i64>().unwrap();
    let adjust = |amount: &'static str| [("kind", "adjust"), ("amount", amount), ("reason", "reconciliation")];
    assert_eq!(post_as(app, &first, "/console/accounts/acme/bizmoney", &[("amount", "100000"), ("reason", "r")]).await.status(), StatusCode::SEE_OTHER);

    // Small adjustments go straight to the ledger, never below zero.
    let resp = post_as(app, &first, "/console/accounts/acme/bizmoney", &adjust("-50,000")).await;
    assert_eq!(resp.headers()[LOCATION], "/console/accounts/acme?done=adjusted");
    assert_eq!(won(balance(app).await), 50_000);
    assert_eq!(post_as(app, &first, "/console/accounts/acme/bizmoney", &adjust("-60000")).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(post_as(app, &first, "/console/accounts/acme/bizmoney", &adjust("0")).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(won(balance(app).await), 50_000);

    // A large one waits; its requester and a viewer cannot approve it; another finance can.
    let resp = post_as(app, &first, "/console/accounts/acme/bizmoney", &adjust("2000000")).await;
    assert_eq!(resp.headers()[LOCATION], "/console/accounts/acme?done=pending");
    assert_eq!(won(balance(app).await), 50_000, "nothing moves before the approval");
    let pending = app.store.pending_adjustments().await.unwrap();
    assert_eq!((pending.len(), pending[0].amount, pending[0].requested_by.as_str()), (1, 2_000_000, "fin1"));
    let page = get(app, "/console/adjustments", Some(&viewer.0)).await.text().await.unwrap();
    assert!(page.contains("+2,000,000") && !page.contains("/approve"), "{page}");
    let approve = format!("/console/adjustments/{}/approve", pending[0].id);
    assert_eq!(post_as(app, &first, &approve, &[]).await.status(), StatusCode::FORBIDDEN, "not one's own");
    assert_eq!(post_as(app, &viewer, &approve, &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(won(balance(app).await), 50_000);
    assert_eq!(post_as(app, &second, &approve, &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(won(balance(app).await), 2_050_000);
    assert_eq!(post_as(app, &second, &approve, &[]).await.status(), StatusCode::BAD_REQUEST, "approved once");
    assert_eq!(won(balance(app).await), 2_050_000);

    // One that would go below zero cannot be approved (it stays pending) and can be rejected.
    post_as(app, &first, "/console/accounts/acme/bizmoney", &adjust("-3000000")).await;
    let id = app.store.pending_adjustments().await.unwrap()[0].id;
    assert_eq!(post_as(app, &second, &format!("/console/adjustments/{id}/approve"), &[]).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.store.pending_adjustments().await.unwrap().len(), 1);
    assert_eq!(post_as(app, &second, &format!("/console/adjustments/{id}/reject"), &[]).await.status(), StatusCode::SEE_OTHER);
    assert!(app.store.pending_adjustments().await.unwrap().is_empty());
    assert_eq!(won(balance(app).await), 2_050_000);

    let actions: Vec<String> = app.store.audit_log(&AuditFilter::target("account:acme"), None, 20).await.unwrap().into_iter().map(|e| format!("{} {}", e.operator_name, e.action)).collect();
    assert_eq!(actions, [
        "fin2 bizmoney.adjust.reject", "fin1 bizmoney.adjust.request", "fin2 bizmoney.adjust.approve",
        "fin1 bizmoney.adjust.request", "fin1 bizmoney.adjust", "fin1 bizmoney.charge",
    ]);
    let report = giftbiz_server::invariants::check(app.store.as_ref()).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.violations);
}

async fn support_sees_pending_deliveries_and_sends_a_message_again(app: &TestApp) {
    let viewer = operator_session(app, "vic", OperatorRole::Viewer).await;
    let support = operator_session(app, "sup", OperatorRole::Support).await;
    let admin = operator_session(app, "adm", OperatorRole::Admin).await;
    post_as(app, &admin, "/console/accounts/acme/bizmoney", &[("amount", "100000"), ("reason", "r")]).await;
    let v = app.call("/bizApi/goods", "0101", &[("size", "50")]).await;
    let goods = v["result"]["goodsList"].as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SALE").unwrap()["goodsCode"].as_str().unwrap().to_owned();
    let mms = app.call("/bizApi/send", "0204", &common::send_params(&goods, "mms_1", "N", &[])).await;
    let order_no = mms["result"]["result"]["orderNo"].as_str().unwrap().to_owned();
    let pin = app.call("/bizApi/send", "0204", &common::send_params(&goods, "pin_1", "Y", &[])).await;
    let pin_order = pin["result"]["result"]["orderNo"].as_str().unwrap().to_owned();

    let pending = get(app, "/console/deliveries?state=pending", Some(&viewer.0)).await.text().await.unwrap();
    assert_eq!(pending.matches(&format!(">{order_no}<")).count(), 1, "{pending}");
    assert!(!pending.contains("/console/coupons/resend"), "no retry for a viewer: {pending}");
    let failed = get(app, "/console/deliveries", Some(&support.0)).await.text().await.unwrap();
    assert!(!failed.contains(&order_no), "nothing failed yet");

    let resend = [("order_no", order_no.as_str())];
    assert_eq!(post_as(app, &viewer, "/console/coupons/resend", &resend).await.status(), StatusCode::FORBIDDEN);
    let resp = post_as(app, &support, "/console/coupons/resend", &resend).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], format!("/console/coupons?q={order_no}&done=resent").as_str());
    let pending = get(app, "/console/deliveries?state=pending", Some(&support.0)).await.text().await.unwrap();
    assert_eq!(pending.matches(&format!(">{order_no}<")).count(), 2, "the message queued again: {pending}");
    let html = get(app, &format!("/console/coupons?q={order_no}"), Some(&viewer.0)).await.text().await.unwrap();
    assert_eq!(html.matches("mms message: pending after 0 attempt(s)").count(), 2, "{html}");
    assert!(html.contains("coupon.resend <span class=\"muted\">— sup"), "{html}");
    // A PIN send has no message to send again: 0203's own refusal.
    assert_eq!(post_as(app, &support, "/console/coupons/resend", &[("order_no", pin_order.as_str())]).await.status(), StatusCode::CONFLICT);
    let audit = app.store.audit_log(&AuditFilter::target(format!("coupon:{order_no}")), None, 10).await.unwrap();
    assert_eq!(audit.iter().map(|e| (e.operator_name.as_str(), e.action.as_str())).collect::<Vec<_>>(), vec![("sup", "coupon.resend")]);
}
