//! The console in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven
//! through WebDriver), at a phone's window size. A failing step leaves a screenshot in
//! `target/browser-artifacts/`. Skipped with a message when chromedriver is not installed,
//! except with `GIFTBIZ_REQUIRE_BROWSER` set (`.ci/run` installs it and sets that).

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Engine, TestApp};
use fantoccini::{ClientBuilder, Locator};
use giftbiz_core::console::{OperatorRole, Password, Username};
use giftbiz_server::operator;

const PASSWORD: &str = "correct horse battery";

fn url_of(raw: &str) -> reqwest::Url {
    reqwest::Url::parse(raw).expect("a URL")
}

struct Browser {
    driver: std::process::Child,
    client: fantoccini::Client,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

async fn browser() -> Option<Browser> {
    let driver = std::env::var("GIFTBIZ_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    if !std::path::Path::new(&driver).exists() {
        assert!(std::env::var_os("GIFTBIZ_REQUIRE_BROWSER").is_none(), "the browser tests must run: {driver} is missing");
        eprintln!("skipped: no chromedriver at {driver} (apt-get install chromium chromium-driver)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start chromedriver");
    // Ready when its status endpoint answers.
    let status = format!("http://127.0.0.1:{port}/status");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(&status).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut caps = serde_json::Map::new();
    let binary = std::env::var("GIFTBIZ_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=390,844"],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    Some(Browser { driver: child, client })
}

impl Browser {
    /// A step's result, or a screenshot of the page and the test's failure.
    async fn step<T, E: std::fmt::Debug>(&self, name: &str, result: Result<T, E>) -> T {
        match result {
            Ok(v) => v,
            Err(e) => {
                let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts");
                let _ = std::fs::create_dir_all(&dir);
                let file = dir.join(format!("{}.png", name.replace(' ', "_")));
                if let Ok(png) = self.client.screenshot().await {
                    let _ = std::fs::write(&file, png);
                }
                panic!("browser step {name:?} failed: {e:?} (screenshot: {})", file.display());
            }
        }
    }

    async fn check(&self, name: &str, ok: bool, what: impl std::fmt::Display) {
        let result: Result<(), String> = if ok { Ok(()) } else { Err(what.to_string()) };
        self.step(name, result).await
    }

    async fn log_in(&self, app: &TestApp, username: &str, password: &str) {
        self.step("open the login page", self.client.goto(&app.url("/console/login")).await).await;
        let form = self.step("find the login form", self.client.form(Locator::Css("form[action='/console/login']")).await).await;
        self.step("type the username", form.set_by_name("username", username).await).await;
        self.step("type the password", form.set_by_name("password", password).await).await;
        self.step("submit the login", form.submit().await).await;
    }

    /// Keeps a picture of the page as `target/browser-artifacts/NAME.png` (the README's comes
    /// from here).
    async fn snapshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts");
        let _ = std::fs::create_dir_all(&dir);
        let png = self.step("take a screenshot", self.client.screenshot().await).await;
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }

    /// After a refused login: the fresh login page (a GET has none) shows its error.
    async fn login_error(&self) -> String {
        let error = self.step("wait for the login's error", self.client.wait().for_element(Locator::Css("p.error")).await).await;
        self.step("read the error", error.text().await).await
    }

    /// After a navigation the test started: until the browser is at `path`.
    async fn arrive(&self, app: &TestApp, path: &str) {
        let url = url_of(&app.url(path));
        self.step(&format!("arrive at {path}"), self.client.wait().for_url(&url).await).await;
    }

    async fn path(&self) -> String {
        self.step("read the URL", self.client.current_url().await).await.path().to_owned()
    }

    async fn text(&self) -> String {
        let body = self.step("find the body", self.client.find(Locator::Css("body")).await).await;
        self.step("read the page", body.text().await).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_logs_in_is_locked_out_by_wrong_passwords_and_logs_out() {
    let Some(b) = browser().await else { return };
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    for (name, role) in [("kim", OperatorRole::Admin), ("lee", OperatorRole::Viewer)] {
        let username = Username::parse(name).unwrap();
        operator::create_console_operator(app.store.as_ref(), &username, role, &Password::parse(PASSWORD).unwrap()).await.unwrap();
    }

    // A page without a session leads to the login; the right password to the dashboard.
    b.step("open the console", b.client.goto(&app.url("/console")).await).await;
    b.check("redirected to the login", b.path().await == "/console/login", b.path().await).await;
    b.log_in(&app, "kim", PASSWORD).await;
    b.arrive(&app, "/console").await;
    let text = b.text().await;
    b.check("the dashboard names the operator", text.contains("kim") && text.contains("대시보드"), &text).await;

    // A charge through the account's page: the API's 0301 shows it at once.
    b.step("open the accounts", b.client.goto(&app.url("/console/accounts")).await).await;
    let link = b.step("find acme", b.client.find(Locator::Css("a[href='/console/accounts/acme']")).await).await;
    b.step("open acme", link.click().await).await;
    b.arrive(&app, "/console/accounts/acme").await;
    let form = b.step("find the charge form", b.client.form(Locator::Css("form[action='/console/accounts/acme/bizmoney']")).await).await;
    b.step("type the amount", form.set_by_name("amount", "12,000").await).await;
    b.step("type the reason", form.set_by_name("reason", "browser top-up").await).await;
    b.step("submit the charge", form.submit().await).await;
    b.step("wait for the notice", b.client.wait().for_element(Locator::Css("p.notice")).await).await;
    let balance = app.call("/bizApi/bizmoney", "0301", &[("user_id", "acme")]).await;
    b.check("0301 shows the charge", balance["balance"] == "12000", &balance).await;
    b.snapshot("account").await;
    let shown = b.step("find the balance", b.client.find(Locator::Id("balance")).await).await;
    let shown = b.step("read the balance", shown.text().await).await;
    b.check("the page shows it", shown == "12,000", &shown).await;

    // A coupon sent through the API, found by its tr_id and cancelled with a confirmation:
    // 0201 then shows 07.
    let goods = app.call("/bizApi/goods", "0101", &[("size", "50")]).await["result"]["goodsList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["goodsStateCd"] == "SALE" && g["discountPrice"].as_i64().unwrap() <= 12_000)
        .unwrap()["goodsCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = app.call("/bizApi/send", "0204", &common::send_params(&goods, "browser_tr", "Y", &[])).await;
    b.check("the API sent a coupon", sent["code"] == "0000", &sent).await;
    b.step("open the coupons", b.client.goto(&app.url("/console/coupons")).await).await;
    let search = b.step("find the search", b.client.form(Locator::Css("form[action='/console/coupons']")).await).await;
    b.step("type the tr_id", search.set_by_name("q", "browser_tr").await).await;
    b.step("search", search.submit().await).await;
    let cancel = b.step("find the cancel form", b.client.wait().for_element(Locator::Css("form[action='/console/coupons/cancel']")).await).await;
    let reason = b.step("find the reason", cancel.find(Locator::Css("input[name='reason']")).await).await;
    b.step("type the reason", reason.send_keys("customer asked").await).await;
    let confirm = b.step("find the confirmation", cancel.find(Locator::Css("input[name='confirm']")).await).await;
    b.step("confirm", confirm.click().await).await;
    let button = b.step("find the cancel button", cancel.find(Locator::Css("button")).await).await;
    b.step("cancel the coupon", button.click().await).await;
    b.step("wait for the notice", b.client.wait().for_element(Locator::Css("p.notice")).await).await;
    let detail = app.call("/bizApi/coupons", "0201", &[("tr_id", "browser_tr")]).await;
    b.check("0201 shows 07", detail["result"][0]["couponInfoList"][0]["pinStatusCd"] == "07", &detail).await;

    // Logging out ends the session: the console leads to the login again.
    let logout = b.step("find the logout button", b.client.find(Locator::Css("form[action='/console/logout'] button")).await).await;
    b.step("log out", logout.click().await).await;
    b.arrive(&app, "/console/login").await;
    b.step("open the console again", b.client.goto(&app.url("/console")).await).await;
    b.check("the session is gone", b.path().await == "/console/login", b.path().await).await;

    // Five wrong passwords lock lee; then even the right one is refused.
    for _ in 0..5 {
        b.log_in(&app, "lee", "wrong password!").await;
        let error = b.login_error().await;
        b.check("a wrong password is refused", error.contains("올바르지 않습니다"), &error).await;
    }
    b.log_in(&app, "lee", PASSWORD).await;
    let error = b.login_error().await;
    b.check("locked even with the right password", error.contains("잠시 잠겼습니다"), &error).await;

    // The English switch.
    b.step("switch to English", b.client.goto(&app.url("/console/login?lang=en")).await).await;
    let text = b.text().await;
    b.check("the page is in English", text.contains("Sign in"), &text).await;
    b.step("end the WebDriver session", b.client.clone().close().await).await;
}
