//! The `giftbiz` binary as operators and scripts use it: real processes on a real SQLite file.

mod common;

use std::process::{Command, Output};

use serde_json::Value;

/// `giftbiz ARGS --database DB`, with none of the environment's settings.
fn command(db: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_giftbiz"));
    cmd.args(args)
        .args(["--database", db])
        .env_remove("GIFTBIZ_DATABASE_URL")
        .env_remove("GIFTBIZ_CONFIG")
        .env_remove("GIFTBIZ_PIN_KEY")
        .env_remove("GIFTBIZ_PIN_KEY_FILE");
    cmd
}

fn giftbiz(db: &str, args: &[&str]) -> Output {
    command(db, args).output().expect("run giftbiz")
}

use common::ok;

fn temp_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ops.db").display());
    (dir, url)
}

#[test]
fn account_commands_create_list_grade_and_rotate() {
    let (_dir, db) = temp_db();
    let created: Value = serde_json::from_str(&ok(&giftbiz(&db, &["account", "create", "--user-id", "acme", "--grade", "gold", "--json"]))).unwrap();
    let keys: Vec<_> = created.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 3, "exactly user_id, custom_auth_code, custom_auth_token: {created}");
    assert_eq!(created["user_id"], "acme");
    assert!(created["custom_auth_code"].as_str().unwrap().starts_with("REAL"));
    assert_eq!(created["custom_auth_token"].as_str().unwrap().len(), 24);

    let dup = giftbiz(&db, &["account", "create", "--user-id", "acme"]);
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already taken"));

    let bad_grade = giftbiz(&db, &["account", "create", "--user-id", "x", "--grade", "diamond"]);
    assert!(!bad_grade.status.success());

    ok(&giftbiz(&db, &["account", "set-grade", "--user-id", "acme", "--grade", "vip"]));
    let list: Value = serde_json::from_str(&ok(&giftbiz(&db, &["account", "list", "--json"]))).unwrap();
    assert_eq!(list[0]["grade"], "vip");
    let text = serde_json::to_string(&list).unwrap();
    assert!(!text.contains(created["custom_auth_token"].as_str().unwrap()), "tokens are never listed");

    let rotated: Value = serde_json::from_str(&ok(&giftbiz(&db, &["account", "rotate-token", "--user-id", "acme", "--json"]))).unwrap();
    assert_eq!(rotated["custom_auth_code"], created["custom_auth_code"]);
    assert_ne!(rotated["custom_auth_token"], created["custom_auth_token"]);

    let unknown = giftbiz(&db, &["account", "set-grade", "--user-id", "nobody", "--grade", "vip"]);
    assert!(!unknown.status.success());

    // Suspension shows in the list and is lifted whole; an unknown user id is an error.
    ok(&giftbiz(&db, &["account", "suspend", "--user-id", "acme"]));
    let list = ok(&giftbiz(&db, &["account", "list"]));
    assert!(list.lines().any(|l| l.starts_with("acme") && l.contains("suspended")), "{list}");
    let listed: Value = serde_json::from_str(&ok(&giftbiz(&db, &["account", "list", "--json"]))).unwrap();
    assert!(listed[0]["suspended_at_ms"].is_i64(), "{listed}");
    ok(&giftbiz(&db, &["account", "reactivate", "--user-id", "acme"]));
    let listed: Value = serde_json::from_str(&ok(&giftbiz(&db, &["account", "list", "--json"]))).unwrap();
    assert!(listed[0]["suspended_at_ms"].is_null(), "{listed}");
    let unknown = giftbiz(&db, &["account", "suspend", "--user-id", "nobody"]);
    assert!(!unknown.status.success() && String::from_utf8_lossy(&unknown.stderr).contains("no account"));
}

#[test]
fn catalog_import_refuses_bad_files_and_export_round_trips() {
    let (dir, db) = temp_db();
    let good = dir.path().join("goods.json");
    std::fs::write(
        &good,
        r#"{"code":"0000","message":null,"result":{"listNum":1,"goodsList":[{"goodsCode":"G1","goodsNo":1,
        "goodsName":"아메리카노","brandCode":"BR1","brandName":"카페","salePrice":4500,"discountPrice":4230,"discountRate":6}]}}"#,
    )
    .unwrap();
    let brands = dir.path().join("brands.json");
    std::fs::write(&brands, r#"{"code":"0000","message":null,"result":{"listNum":1,"brandList":[{"brandCode":"BR1","brandName":"카페","category1Seq":1,"category1Name":"커피/음료"}]}}"#).unwrap();
    let out = ok(&giftbiz(&db, &["catalog", "import", good.to_str().unwrap(), brands.to_str().unwrap()]));
    assert!(out.contains("1 brands and 1 goods"), "{out}");

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"[{"goodsCode":"G2","goodsName":"x","brandCode":"BR1"}]"#).unwrap();
    let refused = giftbiz(&db, &["catalog", "import", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("bad.json") && err.contains("salePrice is missing"), "{err}");

    let out_file = dir.path().join("export.json");
    ok(&giftbiz(&db, &["catalog", "export", "--out", out_file.to_str().unwrap()]));
    let export: Value = serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let goods = export["goods"]["result"]["goodsList"].as_array().unwrap();
    assert_eq!(goods.len(), 1, "the bad file added nothing");
    assert_eq!(goods[0]["goodsName"], "아메리카노");
    assert_eq!(goods[0]["discountPrice"], 4230);
    assert_eq!(export["brands"]["result"]["brandList"][0]["brandIConImg"], "");
}

/// `serve` on a fresh file seeds the demo, prints working credentials, and stops cleanly on
/// SIGTERM.
#[test]
fn serve_seeds_the_demo_and_prints_working_credentials() {
    let served = common::serve(&[]);
    let (base, code, token) = (served.base.clone(), served.auth_code.clone(), served.auth_token.clone());
    assert!(served.printed.iter().any(|l| l.contains("curl")), "a ready-to-paste curl command");
    let export = served.printed.iter().find(|l| l.trim().starts_with("export GIFTBIZ_BASE_URL=")).expect("an export line");
    assert!(export.contains(&format!("GIFTBIZ_AUTH_CODE={code}")) && export.contains(&format!("GIFTBIZ_AUTH_TOKEN='{token}'")));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let v: Value = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{base}/bizApi/brands"))
            .form(&[("api_code", "0102"), ("custom_auth_code", &code), ("custom_auth_token", &token), ("dev_yn", "N")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(v["code"], "0000", "{v}");
    assert!(v["result"]["listNum"].as_u64().unwrap() >= 30);

    let status = served.terminate();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

/// `serve` never mixes the demo into a database that holds anything: after a catalog import,
/// it creates no account and adds no goods.
#[test]
fn serve_seeds_nothing_into_a_database_with_an_imported_catalog() {
    use std::io::{BufRead, BufReader};
    let (dir, db) = temp_db();
    let file = dir.path().join("catalog.json");
    std::fs::write(&file, r#"[{"goodsCode":"G1","goodsName":"아메리카노","brandCode":"B1","salePrice":4500}]"#).unwrap();
    ok(&giftbiz(&db, &["catalog", "import", file.to_str().unwrap()]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_giftbiz"))
        .args(["serve", "--database", &db, "--listen", "127.0.0.1:0"])
        .env_remove("GIFTBIZ_DATABASE_URL")
        .env_remove("GIFTBIZ_CONFIG")
        .env("GIFTBIZ_GATEWAY_LOG_PATH", dir.path().join("messages.jsonl"))
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let listening = line.starts_with("giftbiz listening on ");
        printed.push(line);
        if listening {
            break;
        }
    }
    // Keep reading what it prints until it exits: a closed pipe would fail its next print.
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    assert!(child.wait().unwrap().success());
    printed.extend(rest.join().unwrap());
    assert!(!printed.iter().any(|l| l.contains("custom_auth_token")), "no demo account: {printed:?}");
    let accounts: Value = serde_json::from_str(&ok(&giftbiz(&db, &["account", "list", "--json"]))).unwrap();
    assert_eq!(accounts, serde_json::json!([]));
    let export: Value = serde_json::from_str(&ok(&giftbiz(&db, &["catalog", "export"]))).unwrap();
    assert_eq!(export["goods"]["result"]["listNum"], 1, "the imported goods alone");
}

#[test]
fn bizmoney_charge_adjust_and_statement() {
    let (_dir, db) = temp_db();
    ok(&giftbiz(&db, &["account", "create", "--user-id", "acme"]));
    let out = ok(&giftbiz(&db, &["bizmoney", "charge", "--user-id", "acme", "--amount", "50000", "--memo", "11월 충전"]));
    assert!(out.contains("balance 50000"), "{out}");
    ok(&giftbiz(&db, &["bizmoney", "adjust", "--user-id", "acme", "--amount", "-20000", "--memo", "정정"]));
    let too_much = giftbiz(&db, &["bizmoney", "adjust", "--user-id", "acme", "--amount", "-30001", "--memo", "x"]);
    assert!(!too_much.status.success(), "never below zero");
    let negative_charge = giftbiz(&db, &["bizmoney", "charge", "--user-id", "acme", "--amount", "-1"]);
    assert!(!negative_charge.status.success());
    let unknown = giftbiz(&db, &["bizmoney", "charge", "--user-id", "nobody", "--amount", "1"]);
    assert!(!unknown.status.success());

    let statement: Value = serde_json::from_str(&ok(&giftbiz(&db, &["bizmoney", "statement", "--user-id", "acme", "--json"]))).unwrap();
    assert_eq!(statement["balance"], 30000);
    let entries = statement["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "the refused changes wrote nothing");
    assert_eq!(entries[0]["reason"], "charge");
    assert_eq!(entries[0]["memo"], "11월 충전");
    assert_eq!(entries[1]["amount"], -20000);
    assert_eq!(entries[1]["balance_after"], 30000);
    let text = ok(&giftbiz(&db, &["bizmoney", "statement", "--user-id", "acme"]));
    assert!(text.contains("balance: 30000 KRW (2 entries)"), "{text}");
}

#[test]
fn partner_create_prints_credentials_once_and_list_never_shows_tokens() {
    let (_dir, db) = temp_db();
    let out = giftbiz(&db, &["partner", "create", "--name", "카페 본점", "--brands", "BR00001, BR00002", "--json"]);
    let created: Value = serde_json::from_str(&ok(&out)).unwrap();
    let keys: Vec<_> = created.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 4, "exactly partner_code, token, name, brands: {created}");
    let code = created["partner_code"].as_str().unwrap();
    assert!(code.starts_with("PT") && code.len() == 18 && code[2..].bytes().all(|b| b.is_ascii_hexdigit()), "{code}");
    let token = created["token"].as_str().unwrap();
    assert_eq!(token.len(), 24);
    assert_eq!(created["name"], "카페 본점");
    assert_eq!(created["brands"], serde_json::json!(["BR00001", "BR00002"]));
    // An empty catalog: allowed, with a word to the operator.
    assert!(String::from_utf8_lossy(&out.stderr).contains("BR00001 is not in the catalog"));

    let text = ok(&giftbiz(&db, &["partner", "create", "--name", "편의점", "--brands", "BR00003"]));
    assert!(text.contains("partner_code = PT") && text.contains("token        = "), "{text}");

    let refused = giftbiz(&db, &["partner", "create", "--name", "x", "--brands", "BR 1"]);
    assert!(!refused.status.success());
    let refused = giftbiz(&db, &["partner", "create", "--name", " ", "--brands", "BR1"]);
    assert!(!refused.status.success());

    let list: Value = serde_json::from_str(&ok(&giftbiz(&db, &["partner", "list", "--json"]))).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "the refused ones wrote nothing");
    assert_eq!(list[0]["partner_code"], code);
    assert_eq!(list[0]["brand_codes"], serde_json::json!(["BR00001", "BR00002"]));
    assert_eq!(list[1]["name"], "편의점");
    let text = ok(&giftbiz(&db, &["partner", "list"]));
    assert!(text.contains(code) && text.contains("BR00001,BR00002") && text.contains("편의점"), "{text}");
    for listed in [serde_json::to_string(&list).unwrap(), text] {
        assert!(!listed.contains(token), "tokens are never listed");
        assert!(!listed.contains("token_hash"));
    }

    // A new token for the partner, printed once; an unknown code is refused.
    let text = ok(&giftbiz(&db, &["partner", "rotate-token", "--partner-code", code]));
    let rotated = text.lines().find_map(|l| l.strip_prefix("token        = ")).expect("the new token");
    assert!(rotated.len() == 24 && rotated != token, "{text}");
    assert!(!giftbiz(&db, &["partner", "rotate-token", "--partner-code", "PT0000000000000000"]).status.success());
}

/// `config show` prints each setting's effective value and its layer, never a secret.
#[test]
fn config_show_tells_where_each_setting_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("giftbiz.toml");
    std::fs::write(&file, "page_size_cap = 100\nwebhook_secret = \"file-s3cret\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_giftbiz"))
        .args(["config", "show", "--config", file.to_str().unwrap(), "--listen", "127.0.0.1:9"])
        .env_remove("GIFTBIZ_DATABASE_URL")
        .env_remove("GIFTBIZ_CONFIG")
        .env("GIFTBIZ_ADMIN_TOKEN", "env-t0ken")
        .env("GIFTBIZ_TITLE_MAX_CHARS", "10")
        .output()
        .expect("run giftbiz");
    let text = ok(&out);
    let line = |key: &str| text.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap_or_else(|| panic!("{key}: {text}"));
    assert_eq!(line("listen"), "listen = \"127.0.0.1:9\"  # flag --listen");
    assert_eq!(line("page_size_cap"), format!("page_size_cap = 100  # file {}", file.display()));
    assert_eq!(line("title_max_chars"), "title_max_chars = 10  # env GIFTBIZ_TITLE_MAX_CHARS");
    assert_eq!(line("database_url"), "database_url = \"sqlite://giftbiz.db\"  # default");
    assert_eq!(line("webhook_secret"), format!("webhook_secret = \"***\"  # file {}", file.display()));
    assert_eq!(line("admin_token"), "admin_token = \"***\"  # env GIFTBIZ_ADMIN_TOKEN");
    assert!(!text.contains("s3cret") && !text.contains("t0ken"), "{text}");
}

/// The embedded default makes its PIN key file owner-only beside the database and says so;
/// `pin-key generate` makes keys a ring accepts; `pin-key rotate` runs over a two-key ring;
/// PostgreSQL without a key is refused before any connection.
#[test]
fn pin_keys_are_made_owner_only_generated_and_rotated() {
    let (dir, db) = temp_db();
    let created = giftbiz(&db, &["account", "create", "--user-id", "acme"]);
    ok(&created);
    let said = String::from_utf8_lossy(&created.stderr);
    let key_file = dir.path().join("ops.db.pin-key");
    assert!(said.contains("made the PIN key file") && said.contains("ops.db.pin-key"), "{said}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let again = giftbiz(&db, &["account", "list"]);
    ok(&again);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("made the PIN key file"), "made once");

    let generate = || ok(&Command::new(env!("CARGO_BIN_EXE_giftbiz")).args(["pin-key", "generate"]).output().unwrap());
    let (a, b) = (generate(), generate());
    assert_ne!(a, b);
    let (id, key) = a.trim().split_once(':').expect("ID:KEY");
    assert!(!id.is_empty() && key.len() == 43, "{a}");
    let mut ring = std::fs::read_to_string(&key_file).unwrap();
    ring.push_str(&a);
    std::fs::write(&key_file, ring).unwrap();
    assert!(ok(&giftbiz(&db, &["pin-key", "rotate"])).contains("re-sealed 0 PINs"));

    let pg = giftbiz("postgres://giftbiz@127.0.0.1:1/none", &["account", "list"]);
    assert!(!pg.status.success());
    assert!(String::from_utf8_lossy(&pg.stderr).contains("needs a PIN key"), "{pg:?}");
}

/// `backup` writes a new file that `check` finds consistent; an existing file and PostgreSQL
/// are refused with what to do instead.
#[test]
fn backup_and_check() {
    let (dir, db) = temp_db();
    ok(&giftbiz(&db, &["account", "create", "--user-id", "acme"]));
    ok(&giftbiz(&db, &["bizmoney", "charge", "--user-id", "acme", "--amount", "5000"]));
    assert!(ok(&giftbiz(&db, &["check"])).contains("every rule holds"));
    let out = dir.path().join("copy.db");
    let out_s = out.display().to_string();
    let said = ok(&giftbiz(&db, &["backup", "--out", &out_s]));
    assert!(said.contains("backed up") && said.contains("PIN key"), "{said}");
    let copy = format!("sqlite://{out_s}");
    let key = dir.path().join("ops.db.pin-key").display().to_string();
    let checked = Command::new(env!("CARGO_BIN_EXE_giftbiz"))
        .args(["check", "--json", "--database", &copy])
        .env("GIFTBIZ_PIN_KEY_FILE", &key)
        .output()
        .unwrap();
    let report: Value = serde_json::from_str(&ok(&checked)).unwrap();
    assert_eq!((report["accounts"].as_u64(), report["ledger_entries"].as_u64()), (Some(1), Some(1)), "{report}");
    assert!(!giftbiz(&db, &["backup", "--out", &out_s]).status.success(), "an existing file is refused");
    let pg = giftbiz("postgres://giftbiz@127.0.0.1:1/none", &["backup", "--out", "x.db"]);
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_dump"), "{pg:?}");
}

/// SIGTERM: the listener closes at once, a request in flight is answered, and the server exits
/// 0; a connection that never finishes its head is dropped at the shutdown deadline.
#[test]
fn sigterm_finishes_requests_in_flight_and_exits_zero() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    let mut served = common::serve(&[("GIFTBIZ_SHUTDOWN_TIMEOUT_MS", "60000")]);
    let addr = served.base.trim_start_matches("http://").to_owned();
    let body = format!(
        "api_code=0301&custom_auth_code={}&custom_auth_token={}&dev_yn=N&user_id=demo",
        served.auth_code, served.auth_token
    );
    let mut conn = accepted(&addr);
    let head = format!("POST /bizApi/bizmoney HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    conn.write_all(head.as_bytes()).unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    conn.write_all(first.as_bytes()).unwrap();
    served.send_term();
    let mut refused = false;
    for _ in 0..500 {
        if TcpStream::connect(&addr).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(refused, "new connections are refused once shutdown begins");
    conn.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("\"code\":\"0000\""), "{answer}");
    let status = served.exit_within(std::time::Duration::from_secs(30)).expect("exits");
    assert!(status.success(), "{status}");

    // A body that never finishes keeps its request in flight (a half head is dropped at once).
    let slow = [("GIFTBIZ_REQUEST_BODY_TIMEOUT_MS", "600000"), ("GIFTBIZ_REQUEST_TIMEOUT_MS", "600000")];
    let mut served = common::serve(&[slow[0], slow[1], ("GIFTBIZ_SHUTDOWN_TIMEOUT_MS", "300")]);
    let mut stuck = accepted(served.base.trim_start_matches("http://"));
    stuck.write_all(b"POST /bizApi/bizmoney HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\napi_code=0301").unwrap();
    served.send_term();
    let status = served.exit_within(std::time::Duration::from_secs(60)).expect("the deadline ends a request that never finishes");
    assert!(status.success(), "{status}");
}

/// A kept connection the server has accepted: one `/health` answered on it.
fn accepted(addr: &str) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.ends_with(b"}") {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "the server closed the connection");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&got));
    conn
}

/// `giftbiz` with `stdin` on its standard input (a pipe, as a script gives it).
fn giftbiz_with_input(db: &str, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = command(db, args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run giftbiz");
    // A command refused on its arguments exits before it reads: the pipe may be closed by then.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

#[test]
fn console_operators_are_created_with_a_hashed_password_listed_disabled_and_reset() {
    let (dir, db) = temp_db();
    let created = ok(&giftbiz_with_input(&db, &["operator", "create", "--username", "Kim", "--role", "finance"], "correct horse battery\n"));
    assert!(created.contains("operator kim created with role finance"), "{created}");
    let dup = giftbiz_with_input(&db, &["operator", "create", "--username", "kim", "--role", "admin"], "another long password\n");
    assert!(!dup.status.success() && String::from_utf8_lossy(&dup.stderr).contains("already taken"));
    let short = giftbiz_with_input(&db, &["operator", "create", "--username", "lee", "--role", "admin"], "short\n");
    assert!(!short.status.success() && String::from_utf8_lossy(&short.stderr).contains("at least 12"));
    let role = giftbiz_with_input(&db, &["operator", "create", "--username", "lee", "--role", "root"], "long enough password\n");
    assert!(!role.status.success());

    let listed: Value = serde_json::from_str(&ok(&giftbiz(&db, &["operator", "list", "--json"]))).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!((listed[0]["username"].as_str(), listed[0]["role"].as_str()), (Some("kim"), Some("finance")));
    assert!(listed[0].get("password_hash").is_none(), "{listed}");
    let stored_hash = || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
            let hash: String = sqlx::query_scalar("SELECT password_hash FROM operators WHERE username = 'kim'").fetch_one(&mut conn).await.unwrap();
            giftbiz_core::console::PasswordHash::from_stored(hash)
        })
    };
    let presented = giftbiz_core::console::Password::presented;
    assert!(stored_hash().verify(&presented("correct horse battery")));
    let file = std::fs::read(dir.path().join("ops.db")).unwrap();
    assert!(!file.windows(13).any(|w| w == b"correct horse"), "no clear password in the file");

    ok(&giftbiz(&db, &["operator", "disable", "--username", "kim"]));
    assert!(ok(&giftbiz(&db, &["operator", "list"])).lines().any(|l| l.starts_with("kim") && l.contains("disabled")));
    ok(&giftbiz(&db, &["operator", "enable", "--username", "kim"]));
    ok(&giftbiz_with_input(&db, &["operator", "reset-password", "--username", "kim"], "a brand new password\n"));
    assert!(stored_hash().verify(&presented("a brand new password")));
    assert!(!stored_hash().verify(&presented("correct horse battery")));
    let unknown = giftbiz(&db, &["operator", "disable", "--username", "nobody"]);
    assert!(!unknown.status.success() && String::from_utf8_lossy(&unknown.stderr).contains("no operator"));

    // A second factor: its key is printed once and stored sealed, never in clear.
    let enabled = ok(&giftbiz(&db, &["operator", "totp-enable", "--username", "kim"]));
    let key = enabled.lines().find_map(|l| l.strip_prefix("key: ")).expect("the key line").to_owned();
    assert!(enabled.contains(&format!("uri: otpauth://totp/giftbiz:kim?secret={key}&issuer=giftbiz")), "{enabled}");
    assert!(ok(&giftbiz(&db, &["operator", "list"])).lines().any(|l| l.starts_with("kim") && l.contains(" on ")));
    let listed: Value = serde_json::from_str(&ok(&giftbiz(&db, &["operator", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["totp_enabled"], true, "{listed}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stored: Option<String> = rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
        sqlx::query_scalar("SELECT totp_sealed FROM operators WHERE username = 'kim'").fetch_one(&mut conn).await.unwrap()
    });
    let stored = stored.expect("a sealed key");
    assert!(!stored.contains(&key), "the key is sealed");
    ok(&giftbiz(&db, &["operator", "totp-disable", "--username", "kim"]));
    assert!(ok(&giftbiz(&db, &["operator", "list"])).lines().any(|l| l.starts_with("kim") && l.contains(" off ")));
    let unknown = giftbiz(&db, &["operator", "totp-enable", "--username", "nobody"]);
    assert!(!unknown.status.success() && String::from_utf8_lossy(&unknown.stderr).contains("no operator"));
}
