//! The integrator's commands (`goods`, `brands`, `send`, `coupon`, `cancel`, `resend`,
//! `balance`, `reconcile`) as real processes against a real `giftbiz serve` in sandbox mode,
//! with credentials from the environment.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::Served;
use serde_json::Value;

/// `giftbiz serve` in sandbox mode (the tr_id fault prefixes work).
fn serve() -> Served {
    common::serve(&[("GIFTBIZ_SANDBOX", "true"), ("GIFTBIZ_ADMIN_TOKEN", "admin-secret-for-the-cli")])
}

/// The client commands of these tests, with the journal in the server's temp dir.
trait Client {
    fn journal(&self) -> String;
    fn run(&self, args: &[&str]) -> Output;
    fn ok(&self, args: &[&str]) -> String;
    fn json(&self, args: &[&str]) -> Value;
    fn send(&self, tr_id: &str, goods: &str, json: bool) -> Output;
    fn send_with_journal(&self, tr_id: &str, goods: &str, journal: &Path) -> Output;
}

impl Client for Served {
    fn journal(&self) -> String {
        self.dir.path().join("journal.db").display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.client_command(args).env("GIFTBIZ_JOURNAL", self.journal()).output().expect("run giftbiz")
    }

    fn ok(&self, args: &[&str]) -> String {
        common::ok(&self.run(args))
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(&args)).unwrap()
    }

    fn send(&self, tr_id: &str, goods: &str, json: bool) -> Output {
        let mut args = send_args(tr_id, goods);
        if json {
            args.push("--json");
        }
        self.run(&args)
    }

    fn send_with_journal(&self, tr_id: &str, goods: &str, journal: &Path) -> Output {
        let mut args = send_args(tr_id, goods);
        args.extend(["--journal", journal.to_str().unwrap()]);
        self.run(&args)
    }
}

fn send_args<'a>(tr_id: &'a str, goods: &'a str) -> Vec<&'a str> {
    vec![
        "send", "--goods", goods, "--phone", "01012345678", "--gubun", "y", "--callback", "15880108", "--title",
        "선물 도착", "--message", "감사합니다.", "--tr-id", tr_id,
    ]
}

fn stdout(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn catalog_commands_print_tables_and_json() {
    let s = serve();
    let goods = s.json(&["goods", "list", "--size", "5"]);
    assert_eq!(goods.as_array().unwrap().len(), 5);
    let code = goods[0]["goodsCode"].as_str().unwrap().to_owned();
    let name = goods[0]["goodsName"].as_str().unwrap().to_owned();
    let detail = s.json(&["goods", "show", &code]);
    assert_eq!(detail["goodsCode"], code.as_str());
    assert!(detail["platinumPrice"].as_i64().unwrap() > 0);
    let table = s.ok(&["goods", "show", &code]);
    assert!(table.contains(&name) && table.contains("goldPrice"), "{table}");

    let brands = s.json(&["brands", "list"]);
    let brand = brands[0]["brandCode"].as_str().unwrap().to_owned();
    let table = s.ok(&["brands", "list"]);
    assert!(table.contains(&brand) && table.contains(brands[0]["brandName"].as_str().unwrap()), "{table}");
    assert_eq!(s.json(&["brands", "show", &brand])["brandCode"], brand.as_str());

    let unknown = s.run(&["goods", "show", "G_NOPE"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("ERR0401"), "{unknown:?}");
}

#[test]
fn send_coupon_cancel_balance_and_reconcile() {
    let s = serve();
    let goods = s.json(&["goods", "list", "--size", "50"]);
    let on_sale = goods.as_array().unwrap().iter().find(|g| g["goodsStateCd"] == "SALE").unwrap();
    let (code, price) = (on_sale["goodsCode"].as_str().unwrap().to_owned(), on_sale["discountPrice"].as_i64().unwrap());
    let start = s.json(&["balance"])["balance"].as_i64().unwrap();

    let sent = stdout(&s.send("cli_1", &code, true));
    assert_eq!(sent["outcome"], "issued", "{sent}");
    assert_eq!(sent["pin"].as_str().unwrap().len(), 12);
    assert_eq!(s.json(&["balance"])["balance"].as_i64().unwrap(), start - price);

    // The sandbox drops the answer after committing: the CLI chases it and reports the cancel.
    let chased = stdout(&s.send("FD_cli2", &code, true));
    assert_eq!((chased["outcome"].as_str(), chased["charged"].as_bool()), (Some("cancelled"), Some(false)), "{chased}");

    // A reused tr_id: the journal refuses it before the call ...
    let dup = s.send("cli_1", &code, false);
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already in the journal"), "{dup:?}");
    // ... and the service refuses it with ERR0215, its message and a hint (another journal).
    let other = s.dir.path().join("other-journal.db");
    let dup = s.send_with_journal("cli_1", &code, &other);
    assert!(!dup.status.success());
    let text = String::from_utf8_lossy(&dup.stdout);
    assert!(text.contains("ERR0215") && text.contains("use a new one"), "{text}");

    let mut mms = send_args("cli_mms", &code);
    mms[6] = "n";
    mms.push("--json");
    assert_eq!(stdout(&s.run(&mms))["outcome"], "issued");
    assert!(s.ok(&["resend", "cli_mms"]).contains("resent by MMS"));

    let coupons = s.json(&["coupon", "cli_1"]);
    assert_eq!(coupons[0]["pinStatusCd"], "01");
    let resend = s.run(&["resend", "cli_1", "--sms"]);
    let err = String::from_utf8_lossy(&resend.stderr);
    assert!(!resend.status.success() && err.contains("ERR0212") && err.contains("only for MMS"), "{err}");
    assert!(s.ok(&["cancel", "cli_1"]).contains("cancelled"));
    let again = s.run(&["cancel", "cli_1"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("ERR0808"), "{again:?}");
    assert_eq!(s.json(&["balance"])["balance"].as_i64().unwrap(), start - price);

    // The journal says cli_1 was issued; it was cancelled behind its back.
    let rec = s.run(&["reconcile", "--json"]);
    assert!(!rec.status.success(), "drift makes reconcile fail");
    let report = stdout(&rec);
    assert_eq!(report["checked"], 3, "{report}");
    assert_eq!(report["coupon_drift"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["coupon_drift"][0]["tr_id"], "cli_1", "{report}");
    assert_eq!(report["balance"].as_i64().unwrap(), start - price);
    assert!(Path::new(&s.journal()).exists());
}

#[test]
fn missing_credentials_are_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_giftbiz"))
        .args(["balance"])
        .env_remove("GIFTBIZ_AUTH_CODE")
        .env_remove("GIFTBIZ_AUTH_TOKEN")
        .env_remove("GIFTBIZ_USER_ID")
        .env_remove("GIFTBIZ_PROFILE")
        .env("GIFTBIZ_CLIENT_CONFIG", "/nonexistent/giftbiz.toml")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GIFTBIZ_AUTH_CODE is not set"), "{err}");
}
