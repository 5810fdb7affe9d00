//! A real `giftbiz serve` child process on a fresh SQLite file (demo catalog and the demo
//! account, user id `demo`), and `giftbiz` client commands run against it with the printed
//! credentials in the environment.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Output, Stdio};

pub struct Served {
    child: Child,
    /// Everything `serve` printed up to its address line.
    pub printed: Vec<String>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub auth_code: String,
    pub auth_token: String,
    /// Holds the server's database, its message log and whatever a test puts there.
    pub dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `giftbiz serve --listen 127.0.0.1:0` with these extra environment variables.
pub fn serve(env: &[(&str, &str)]) -> Served {
    spawn(&[&[("RUST_LOG", "warn")], env].concat(), Stdio::null()).0
}

/// As [`serve`], logging at info level as JSON: each line it logs arrives on the receiver.
pub fn serve_with_logs(env: &[(&str, &str)]) -> (Served, std::sync::mpsc::Receiver<String>) {
    let (served, stderr) = spawn(&[&[("RUST_LOG", "info"), ("GIFTBIZ_LOG_FORMAT", "json")], env].concat(), Stdio::piped());
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = stderr.expect("stderr piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (served, rx)
}

fn spawn(env: &[(&str, &str)], stderr: Stdio) -> (Served, Option<std::process::ChildStderr>) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("server.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_giftbiz"))
        .args(["serve", "--database", &db, "--listen", "127.0.0.1:0"])
        .env("GIFTBIZ_GATEWAY_LOG_PATH", dir.path().join("messages.jsonl"))
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let stderr = child.stderr.take();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let base = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix("giftbiz listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let mut served = Served { child, printed, base, auth_code: String::new(), auth_token: String::new(), dir };
    served.auth_code = served.field("custom_auth_code");
    served.auth_token = served.field("custom_auth_token");
    (served, stderr)
}

impl Served {
    /// A `name = value` line `serve` printed.
    pub fn field(&self, name: &str) -> String {
        self.printed
            .iter()
            .find_map(|l| l.trim().strip_prefix(name).map(|r| r.trim_start_matches([' ', '=']).trim().to_owned()))
            .unwrap_or_else(|| panic!("{name} printed in {:?}", self.printed))
    }

    pub fn base_url(&self) -> String {
        format!("{}/bizApi", self.base)
    }

    /// `giftbiz ARGS` as the demo account, from the environment only (no profile file).
    pub fn client_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_giftbiz"));
        c.args(args)
            .env("GIFTBIZ_BASE_URL", self.base_url())
            .env("GIFTBIZ_AUTH_CODE", &self.auth_code)
            .env("GIFTBIZ_AUTH_TOKEN", &self.auth_token)
            .env("GIFTBIZ_USER_ID", "demo")
            .env("GIFTBIZ_CLIENT_CONFIG", self.dir.path().join("none.toml"))
            .env_remove("GIFTBIZ_PROFILE");
        c
    }

    /// SIGTERM, and the exit status of the graceful shutdown.
    pub fn terminate(mut self) -> ExitStatus {
        self.send_term();
        self.child.wait().unwrap()
    }

    /// SIGTERM, without waiting for the exit.
    pub fn send_term(&self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    }

    /// The exit status, waiting at most `bound` for it (`None`: still running).
    pub fn exit_within(&mut self, bound: std::time::Duration) -> Option<ExitStatus> {
        let until = std::time::Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if std::time::Instant::now() > until {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// The command's stdout, after asserting it succeeded.
pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}
