//! The `log` gateway, the sandbox default: every message becomes one JSON line appended to a
//! file, so an integrator sees what the recipient would have got without any carrier. The
//! phone is masked and the PIN and image token starred out (both hand out the coupon; PINs are
//! bearer value and never go into a log).

use std::path::PathBuf;

use async_trait::async_trait;
use giftbiz_core::send::mask_phone;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::{mask_secrets, Gateway, GatewayAnswer, Message};

pub struct LogGateway {
    path: PathBuf,
    /// One writer at a time, so concurrent deliveries never interleave their lines.
    lock: Mutex<()>,
}

#[derive(Serialize)]
struct Line<'a> {
    at: String,
    message_id: &'a str,
    kind: &'static str,
    tr_id: &'a str,
    order_no: &'a str,
    recipient: String,
    callback: &'a str,
    title: Option<&'a str>,
    text: String,
    coupon_image_url: Option<String>,
    request_id: Option<&'a str>,
}

impl LogGateway {
    /// The file is created on the first message, not before.
    pub fn new(path: impl Into<PathBuf>) -> LogGateway {
        LogGateway { path: path.into(), lock: Mutex::new(()) }
    }

    async fn append(&self, line: &[u8]) -> std::io::Result<()> {
        let _turn = self.lock.lock().await;
        let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(&self.path).await?;
        file.write_all(line).await?;
        file.flush().await
    }
}

#[async_trait]
impl Gateway for LogGateway {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn deliver(&self, m: &Message) -> GatewayAnswer {
        let mask = |s: &str| mask_secrets(s, m.pin.expose(), &m.image_token);
        let line = Line {
            at: chrono::Utc::now().with_timezone(&giftbiz_core::time::kst()).to_rfc3339(),
            message_id: &m.key,
            kind: m.kind.code(),
            tr_id: m.tr_id.as_str(),
            order_no: &m.order_no,
            recipient: mask_phone(&m.recipient),
            callback: &m.callback,
            title: m.title.as_deref(),
            text: mask(&m.text),
            coupon_image_url: m.coupon_image_url.as_deref().map(mask),
            request_id: m.request_id.as_deref(),
        };
        let mut bytes = match serde_json::to_vec(&line) {
            Ok(b) => b,
            Err(e) => return GatewayAnswer::Transient(format!("log gateway: {e}")),
        };
        bytes.push(b'\n');
        match self.append(&bytes).await {
            Ok(()) => GatewayAnswer::Delivered { code: "1000".into(), msg: "Success".into() },
            Err(e) => GatewayAnswer::Transient(format!("log gateway: {}: {e}", self.path.display())),
        }
    }
}
