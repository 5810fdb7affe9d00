//! The sandbox's gateway fault (`sandbox = true` only): a decorator around the configured
//! gateway that refuses, for good, every message of a send whose tr_id starts with
//! [`GATEWAY_FAULT_PREFIX`], so an integrator sees `발송실패` in 0201. Every other message goes to
//! the real gateway unchanged.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Gateway, GatewayAnswer, Message};

/// tr_ids starting with this fail at the gateway (short, so the rest of the 25 bytes is free).
pub const GATEWAY_FAULT_PREFIX: &str = "FG_";
/// `sendRstCd`/`sendRstMsg` of a message failed by the sandbox.
pub const GATEWAY_FAULT_CODE: &str = "9001";
pub const GATEWAY_FAULT_MSG: &str = "Sandbox delivery failure";

pub struct SandboxGateway {
    inner: Arc<dyn Gateway>,
}

impl SandboxGateway {
    pub fn new(inner: Arc<dyn Gateway>) -> SandboxGateway {
        SandboxGateway { inner }
    }
}

#[async_trait]
impl Gateway for SandboxGateway {
    fn name(&self) -> &'static str {
        match self.inner.name() {
            "log" => "sandbox(log)",
            "webhook" => "sandbox(webhook)",
            _ => "sandbox",
        }
    }

    async fn deliver(&self, message: &Message) -> GatewayAnswer {
        if message.tr_id.as_str().starts_with(GATEWAY_FAULT_PREFIX) {
            tracing::info!(tr_id = %message.tr_id, "sandbox fault: delivery refused");
            return GatewayAnswer::Rejected { code: GATEWAY_FAULT_CODE.into(), msg: GATEWAY_FAULT_MSG.into() };
        }
        self.inner.deliver(message).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use giftbiz_core::delivery::MessageKind;

    struct Always;

    #[async_trait]
    impl Gateway for Always {
        fn name(&self) -> &'static str {
            "log"
        }
        async fn deliver(&self, _: &Message) -> GatewayAnswer {
            GatewayAnswer::Delivered { code: "1000".into(), msg: "Success".into() }
        }
    }

    fn message(tr_id: &str) -> Message {
        Message {
            key: "k".into(),
            kind: MessageKind::Mms,
            tr_id: giftbiz_core::send::TrId::parse(tr_id, giftbiz_core::send::TrId::SPEC_MAX_LEN).unwrap(),
            order_no: "1".into(),
            recipient: "01012345678".into(),
            callback: "15880108".into(),
            title: None,
            text: "t".into(),
            coupon_image_url: None,
            pin: giftbiz_core::send::Pin::new("900343630367"),
            image_token: "x".into(),
            request_id: None,
        }
    }

    #[tokio::test]
    async fn only_the_prefixed_tr_ids_fail() {
        let g = SandboxGateway::new(Arc::new(Always));
        assert_eq!(g.name(), "sandbox(log)");
        assert!(matches!(g.deliver(&message("FG_1")).await, GatewayAnswer::Rejected { code, .. } if code == GATEWAY_FAULT_CODE));
        assert!(matches!(g.deliver(&message("fg_1")).await, GatewayAnswer::Delivered { .. }));
        assert!(matches!(g.deliver(&message("shop_FG_1")).await, GatewayAnswer::Delivered { .. }));
    }
}
