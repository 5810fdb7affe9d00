//! The console tests' helpers: an HTTP client that shows redirects, logins, pages and posts
//! with a session's cookie and CSRF token.

use giftbiz_core::console::{OperatorRole, Password, Username};
use giftbiz_server::operator;
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;

use super::TestApp;

pub const PASSWORD: &str = "correct horse battery";

/// A client that shows redirects instead of following them.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub async fn post_login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    browser().post(app.url("/console/login")).form(&[("username", username), ("password", password)]).send().await.unwrap()
}

pub async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = browser().get(app.url(path));
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    req.send().await.unwrap()
}

/// The CSRF token the page's logout form carries.
pub fn csrf_of(html: &str) -> String {
    let at = html.find(r#"name="csrf_token" value=""#).expect("a csrf_token field") + r#"name="csrf_token" value=""#.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// A new operator of `role`, signed in: its session cookie and CSRF token.
pub async fn operator_session(app: &TestApp, name: &str, role: OperatorRole) -> (String, String) {
    let username = Username::parse(name).unwrap();
    operator::create_console_operator(app.store.as_ref(), &username, role, &Password::parse(PASSWORD).unwrap()).await.unwrap();
    let resp = post_login(app, name, PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{name} logs in");
    let cookie = resp.headers()[SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf = csrf_of(&get(app, "/console", Some(&cookie)).await.text().await.unwrap());
    (cookie, csrf)
}

pub async fn post_as(app: &TestApp, (cookie, csrf): &(String, String), path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", csrf)];
    form.extend_from_slice(fields);
    browser().post(app.url(path)).header(COOKIE, cookie).form(&form).send().await.unwrap()
}
