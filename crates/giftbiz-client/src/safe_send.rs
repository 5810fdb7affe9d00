//! Safe send: a send whose answer is lost (timeout, dropped connection, unreadable answer,
//! `E9999`) is chased with cancels of the same tr_id until the service says what became of it.
//!
//! The chase, per NOTES §5 of the project: 0205 first (refunds a send that charged but issued
//! no PIN, or tombstones a tr_id the service never saw so a late send is refused); if the send
//! did issue a PIN (`ERR0805`), 0202 cancels and refunds it. Transport failures (refused
//! connections included: the service may be restarting) and `E9999` on the way are retried
//! with exponential backoff; anything else ends the chase.

use std::time::Duration;

use giftbiz_wire::ResultCode;

use crate::client::Client;
use crate::error::{Code, Error};
use crate::send::{SendRequest, Sent};

/// What became of a send.
#[derive(Debug)]
pub enum SendOutcome {
    /// Issued and charged; for gubun `Y`/`I` the PIN is here.
    Issued(Sent),
    /// Nothing issued, nothing charged. `refusal` is the service's answer to the send when it
    /// refused it outright; `None` when the send's answer was lost and the chase proved it
    /// issued nothing (the tr_id is now tombstoned or its charge refunded).
    NotIssued { refusal: Option<Error> },
    /// The send issued a coupon whose answer was lost; the chase cancelled it and the charge
    /// was refunded.
    Cancelled,
    /// The send issued a coupon whose answer was lost and the cancel was refused (the coupon
    /// was already used, or is past the cancel window): it stands, charged, and its PIN is not
    /// known to the caller.
    Kept { cancel_refusal: Code },
}

impl SendOutcome {
    /// A short name, as the journal stores it.
    pub fn state(&self) -> &'static str {
        match self {
            SendOutcome::Issued(_) => "issued",
            SendOutcome::NotIssued { .. } => "not_issued",
            SendOutcome::Cancelled => "cancelled",
            SendOutcome::Kept { .. } => "kept",
        }
    }

    /// Whether the account was charged for it in the end.
    pub fn charged(&self) -> bool {
        matches!(self, SendOutcome::Issued(_) | SendOutcome::Kept { .. })
    }
}

/// How long the chase keeps trying: delays double from `first_delay` up to `max_delay`, for at
/// most `max_attempts` cancel calls in all. The default tries for about five minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChasePolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub max_attempts: u32,
}

impl Default for ChasePolicy {
    fn default() -> Self {
        ChasePolicy { first_delay: Duration::from_millis(500), max_delay: Duration::from_secs(30), max_attempts: 16 }
    }
}

/// Whether an error of the send leaves its fate unknown.
fn unknown_fate(e: &Error) -> bool {
    e.is_ambiguous() || e.is(ResultCode::Unexpected)
}

impl Client {
    /// 0204, made safe: on an answer that leaves the send's fate unknown, chases it with
    /// [`Client::settle`] and reports what became of it. `Err` only when the chase gave up
    /// ([`Error::Unsettled`]): then settle the tr_id later (`giftbiz reconcile` does).
    ///
    /// ```no_run
    /// use giftbiz_client::{ChasePolicy, Gubun, SendOutcome, SendRequest};
    ///
    /// # async fn demo(client: giftbiz_client::Client) -> Result<(), giftbiz_client::Error> {
    /// let tr_id = client.new_tr_id();
    /// let req = SendRequest::new(tr_id.as_str(), "G00000280009", Gubun::Pin, "01012345678")
    ///     .callback_no("15880108")
    ///     .title("선물 도착")
    ///     .message("감사합니다.");
    /// match client.safe_send(&req, &ChasePolicy::default()).await? {
    ///     SendOutcome::Issued(sent) => println!("order {}", sent.order_no),
    ///     SendOutcome::NotIssued { refusal: Some(e) } => println!("refused: {e}"),
    ///     other => println!("not delivered to us, settled as {}", other.state()),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn safe_send(&self, req: &SendRequest, policy: &ChasePolicy) -> Result<SendOutcome, Error> {
        match self.send(req).await {
            Ok(sent) => Ok(SendOutcome::Issued(sent)),
            Err(e) if unknown_fate(&e) => {
                tracing::info!(tr_id = %req.tr_id, error = %e, "send fate unknown; chasing it with cancels");
                self.settle(&req.tr_id, policy).await
            }
            Err(e @ Error::Config(_)) => Err(e),
            Err(e) => Ok(SendOutcome::NotIssued { refusal: Some(e) }),
        }
    }

    /// Settles a send whose answer was lost: 0205, then 0202 if it issued a PIN, retrying
    /// transport failures and `E9999` with backoff. Never [`SendOutcome::Issued`]: a coupon
    /// whose PIN the caller never saw is cancelled.
    pub async fn settle(&self, tr_id: &str, policy: &ChasePolicy) -> Result<SendOutcome, Error> {
        let mut delay = policy.first_delay;
        // 0205 first; 0202 once the send proved to have issued a PIN (ERR0805), or 0205 did
        // not know the tr_id (a service that does not tombstone on 0205; 0202 does).
        let mut next_is_0202 = false;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let answer = if next_is_0202 { self.cancel(tr_id).await } else { self.send_fail_cancel(tr_id).await };
            let done = match answer {
                Ok(()) if next_is_0202 => Some(SendOutcome::Cancelled),
                Ok(()) => Some(SendOutcome::NotIssued { refusal: None }),
                Err(e) => match e.code().and_then(Code::result_code) {
                    Some(ResultCode::CancelFailed | ResultCode::TrIdNotFound) if !next_is_0202 => {
                        // A definitive answer: on to 0202 at once, without counting an attempt.
                        next_is_0202 = true;
                        attempts -= 1;
                        continue;
                    }
                    Some(ResultCode::TrIdNotFound) => Some(SendOutcome::NotIssued { refusal: None }),
                    Some(ResultCode::AlreadyCancelled) => Some(SendOutcome::Cancelled),
                    Some(code @ (ResultCode::AlreadyExchanged | ResultCode::NotCancellable)) => {
                        Some(SendOutcome::Kept { cancel_refusal: Code::Known(code) })
                    }
                    // A cancel that never connected (the service restarting) leaves the
                    // question open as much as a lost answer does: try again.
                    _ if (unknown_fate(&e) || matches!(e, Error::Transport { .. })) && attempts < policy.max_attempts => {
                        tracing::info!(tr_id, attempts, error = %e, "cancel unanswered; retrying");
                        None
                    }
                    _ => return Err(Error::Unsettled { tr_id: tr_id.to_owned(), attempts, last: Box::new(e) }),
                },
            };
            if let Some(outcome) = done {
                tracing::info!(tr_id, outcome = outcome.state(), attempts, "send settled");
                return Ok(outcome);
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(policy.max_delay);
        }
    }
}
