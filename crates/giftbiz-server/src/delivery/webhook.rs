//! The `webhook` gateway: a JSON POST to the operator's SMS/MMS adapter.
//!
//! Request: `{message_id, kind, recipient, callback, title, text, coupon_image_url}` with
//! `X-Giftbiz-Signature: sha256=<hex HMAC-SHA256 of the exact body>` (so the adapter knows the
//! platform sent it) and `Idempotency-Key: <message_id>`, the same on every retry and from
//! every worker (a worker whose lease ran out mid-request may have reached the adapter: it
//! dedupes on this key).
//!
//! Answer: 2xx → delivered, with the body's `result_code`/`result_message` (default
//! `1000`/`Success`); 4xx → rejected for good (but 408 and 429 mean "later"); anything else, a
//! timeout or a connection error → transient.

use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde::Serialize;
use sha2::Sha256;

use super::{Gateway, GatewayAnswer, Message};

/// A request the adapter has not answered by then is transient (and retried).
const TIMEOUT: Duration = Duration::from_secs(10);

pub const SIGNATURE_HEADER: &str = "X-Giftbiz-Signature";
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

pub struct WebhookGateway {
    client: reqwest::Client,
    url: String,
    secret: Vec<u8>,
}

#[derive(Serialize)]
struct Body<'a> {
    message_id: &'a str,
    kind: &'static str,
    recipient: &'a str,
    callback: &'a str,
    title: Option<&'a str>,
    text: &'a str,
    coupon_image_url: Option<&'a str>,
}

/// `sha256=<hex>`: the HMAC-SHA256 of `body` under `secret`, as the signature header carries it.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl WebhookGateway {
    pub fn new(url: &str, secret: &[u8]) -> anyhow::Result<WebhookGateway> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A redirect would resend (or drop) a signed POST somewhere else: not followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(WebhookGateway { client, url: url.to_owned(), secret: secret.to_vec() })
    }
}

/// The adapter's `result_code`/`result_message`, strings or numbers, if its body has them.
fn adapter_result(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else { return (None, None) };
    let field = |name: &str| match &v[name] {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    (field("result_code"), field("result_message"))
}

#[async_trait]
impl Gateway for WebhookGateway {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn deliver(&self, m: &Message) -> GatewayAnswer {
        let body = Body {
            message_id: &m.key,
            kind: m.kind.code(),
            recipient: &m.recipient,
            callback: &m.callback,
            title: m.title.as_deref(),
            text: &m.text,
            coupon_image_url: m.coupon_image_url.as_deref(),
        };
        let body = match serde_json::to_vec(&body) {
            Ok(b) => b,
            Err(e) => return GatewayAnswer::Transient(format!("webhook body: {e}")),
        };
        let request = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(&self.secret, &body))
            .header(IDEMPOTENCY_HEADER, &m.key);
        let request = match &m.request_id {
            Some(id) => request.header("X-Request-Id", id),
            None => request,
        };
        let sent = request.body(body).send().await;
        let resp = match sent {
            Ok(r) => r,
            // The error names the adapter's URL, never the message.
            Err(e) => return GatewayAnswer::Transient(format!("webhook: {e}")),
        };
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        let (code, msg) = adapter_result(&body);
        if status.is_success() {
            GatewayAnswer::Delivered {
                code: code.unwrap_or_else(|| "1000".into()),
                msg: msg.unwrap_or_else(|| "Success".into()),
            }
        } else if status.is_client_error() && !matches!(status, StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS) {
            GatewayAnswer::Rejected {
                code: code.unwrap_or_else(|| status.as_u16().to_string()),
                msg: msg.unwrap_or_else(|| status.canonical_reason().unwrap_or("rejected").to_owned()),
            }
        } else {
            GatewayAnswer::Transient(format!("webhook answered HTTP {status}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_the_rfc_4231_hmac() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn adapter_results_may_be_strings_or_numbers() {
        assert_eq!(adapter_result(br#"{"result_code":1000,"result_message":"ok"}"#), (Some("1000".into()), Some("ok".into())));
        assert_eq!(adapter_result(b"not json"), (None, None));
    }
}
