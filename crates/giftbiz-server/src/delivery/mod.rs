//! Gateways: how a claimed message leaves the platform. The worker (`jobs::delivery`) composes
//! the message from its outbox row and hands it to the configured gateway, which answers
//! delivered, rejected (permanent) or transient (try again later).
//!
//! - `log` (the default, for a sandbox): one JSON line per message in a file, phone and PIN
//!   masked.
//! - `webhook`: a signed JSON POST to the operator's SMS/MMS adapter.

use std::sync::Arc;

use async_trait::async_trait;
use giftbiz_core::delivery::{MessageKind, OutboxMessage};
use giftbiz_core::send::{Pin, TrId};
use giftbiz_core::time::{from_millis, kst};

use crate::config::Settings;
use crate::catalog_view::ImageUrls;

pub mod log;
pub mod sandbox;
pub mod webhook;

pub use log::LogGateway;
pub use webhook::WebhookGateway;

/// A message ready to go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Stable across retries and workers: the gateway's idempotency key.
    pub key: String,
    pub kind: MessageKind,
    pub tr_id: TrId,
    pub order_no: String,
    /// The real number: the adapter needs it (logs mask it).
    pub recipient: String,
    pub callback: String,
    /// The MMS subject; an SMS has none.
    pub title: Option<String>,
    pub text: String,
    /// The MMS's coupon image; none for an SMS.
    pub coupon_image_url: Option<String>,
    /// Only so a gateway can mask them wherever they appear (the SMS text carries the PIN, the
    /// image URL the token); never sent as fields of their own.
    pub pin: Pin,
    pub image_token: String,
    /// The request that queued it: the webhook passes it on as `X-Request-Id`.
    pub request_id: Option<String>,
}

/// What a gateway made of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayAnswer {
    /// Sent; `code`/`msg` become the coupon's `sendRstCd`/`sendRstMsg`.
    Delivered { code: String, msg: String },
    /// Refused for good (a bad number, a blocked recipient): recorded as failed, no retry.
    Rejected { code: String, msg: String },
    /// Not sent this time (adapter down, timeout): retried with backoff.
    Transient(String),
}

#[async_trait]
pub trait Gateway: Send + Sync + 'static {
    /// `log` or `webhook`, for logs.
    fn name(&self) -> &'static str;
    async fn deliver(&self, message: &Message) -> GatewayAnswer;
}

/// The gateway `settings` choose (after `Settings::validate_delivery`), wrapped in the
/// sandbox's fault decorator when `sandbox` is on.
pub fn gateway_from_settings(settings: &Settings) -> anyhow::Result<Arc<dyn Gateway>> {
    settings.validate_delivery()?;
    let gateway: Arc<dyn Gateway> = match settings.gateway.as_str() {
        "webhook" => {
            let url = settings.webhook_url.as_deref().unwrap_or_default().trim();
            let secret = settings.webhook_secret.as_ref().map(|s| s.expose()).unwrap_or_default();
            Arc::new(WebhookGateway::new(url, secret.as_bytes())?)
        }
        _ => Arc::new(LogGateway::new(&settings.gateway_log_path)),
    };
    Ok(if settings.sandbox { Arc::new(sandbox::SandboxGateway::new(gateway)) } else { gateway })
}

/// The outgoing message of an outbox row: an MMS is the send's title and text with the coupon
/// image's URL appended (phones without MMS still get a link); an SMS is a short text with the
/// PIN.
pub fn compose(m: &OutboxMessage, urls: &ImageUrls) -> Message {
    let (title, text, coupon_image_url) = match m.kind {
        MessageKind::Mms => {
            let url = urls.coupon_image(&m.image_token);
            (Some(m.title.clone()), format!("{}\n\n{url}", m.text), Some(url))
        }
        MessageKind::Sms => (None, sms_text(m), None),
    };
    Message {
        key: m.key.clone(),
        kind: m.kind,
        tr_id: m.tr_id.clone(),
        order_no: m.order_no.as_str().to_owned(),
        recipient: m.phone_no.as_str().to_owned(),
        callback: m.callback_no.as_str().to_owned(),
        title,
        text,
        coupon_image_url,
        pin: m.pin.clone(),
        image_token: m.image_token.clone(),
        request_id: m.request_id.as_ref().map(|r| r.as_str().to_owned()),
    }
}

/// `[브랜드] 상품명 / 쿠폰번호 9003 4363 0367 / 유효기간 ~2026.12.29`, one per line.
pub fn sms_text(m: &OutboxMessage) -> String {
    let until = from_millis(m.valid_until_ms).with_timezone(&kst()).format("%Y.%m.%d");
    format!("[{}] {}\n쿠폰번호 {}\n유효기간 ~{until}", m.brand_name, m.goods_name, group_pin(m.pin.expose()))
}

/// The PIN in groups of four, as printed on coupons.
pub fn group_pin(pin: &str) -> String {
    let chars: Vec<char> = pin.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// `text` with the PIN (plain or grouped) and the image token starred out: either one hands
/// out the coupon.
pub fn mask_secrets(text: &str, pin: &str, image_token: &str) -> String {
    let mut out = text.to_owned();
    for (secret, stars) in [
        (group_pin(pin), group_pin(&"*".repeat(pin.len()))),
        (pin.to_owned(), "*".repeat(pin.len())),
        (image_token.to_owned(), "*".repeat(8)),
    ] {
        if !secret.is_empty() {
            out = out.replace(&secret, &stars);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox(kind: MessageKind) -> OutboxMessage {
        OutboxMessage {
            id: 1,
            key: "k".into(),
            kind,
            attempts: 1,
            coupon_id: 1,
            account_id: giftbiz_core::AccountId::from_stored(1),
            tr_id: TrId::parse("t1", TrId::SPEC_MAX_LEN).unwrap(),
            order_no: giftbiz_core::coupon::OrderNo::from_stored("20261129000001".into()),
            phone_no: giftbiz_core::send::PhoneNo::parse("01012345678").unwrap(),
            callback_no: giftbiz_core::send::CallbackNo::parse("15880108").unwrap(),
            title: "선물".into(),
            text: "감사합니다".into(),
            pin: Pin::new("900343630367"),
            goods_name: "아메리카노 T".into(),
            brand_name: "카페".into(),
            // 2026-12-29 23:59:59 KST
            valid_until_ms: 1_798_556_399_000,
            image_token: "abcdef0123456789".into(),
            request_id: None,
        }
    }

    #[test]
    fn mms_carries_the_image_link_and_sms_the_grouped_pin() {
        let urls = ImageUrls::new("http://gift.example".into());
        let mms = compose(&outbox(MessageKind::Mms), &urls);
        assert_eq!(mms.text, "감사합니다\n\nhttp://gift.example/coupon-images/abcdef0123456789.png");
        assert_eq!(mms.title.as_deref(), Some("선물"));
        let sms = compose(&outbox(MessageKind::Sms), &urls);
        assert_eq!(sms.text, "[카페] 아메리카노 T\n쿠폰번호 9003 4363 0367\n유효기간 ~2026.12.29");
        assert_eq!((sms.title, sms.coupon_image_url), (None, None));
    }

    #[test]
    fn secrets_are_masked_in_any_form() {
        let masked = mask_secrets("a 900343630367 b 9003 4363 0367 c /x/abcdef0123456789.png", "900343630367", "abcdef0123456789");
        assert_eq!(masked, "a ************ b **** **** **** c /x/********.png");
    }
}
