//! The client's errors. None of them ever carries the auth token or a PIN.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use giftbiz_wire::{ApiCode, ResultCode};

use crate::lenient::DecodeError;

/// A result code the service answered with: one the spec lists, or a raw code it does not.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Code {
    Known(ResultCode),
    /// A code outside the spec's appendix (the live service has a few undocumented ones).
    Other(String),
}

impl Code {
    pub fn parse(raw: &str) -> Code {
        ResultCode::parse(raw).map_or_else(|| Code::Other(raw.to_owned()), Code::Known)
    }

    /// The code as it travels, e.g. `ERR0215`.
    pub fn as_str(&self) -> &str {
        match self {
            Code::Known(c) => c.code(),
            Code::Other(s) => s,
        }
    }

    pub fn result_code(&self) -> Option<ResultCode> {
        match self {
            Code::Known(c) => Some(*c),
            Code::Other(_) => None,
        }
    }

    /// The spec's Korean message for a known code.
    pub fn spec_message(&self) -> Option<&'static str> {
        self.result_code().map(ResultCode::message)
    }
}

impl PartialEq<ResultCode> for Code {
    fn eq(&self, other: &ResultCode) -> bool {
        self.result_code() == Some(*other)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service answered with a result code other than `0000`. `message` is the service's
    /// text (the spec's Korean message, perhaps with the offending parameter in parentheses),
    /// or the spec's message when the service sent none.
    #[error("{code} {message}")]
    Api { code: Code, message: String },
    /// The request did not complete: connection refused or reset, TLS, a non-200 HTTP status.
    #[error("{api}: transport error: {detail}")]
    Transport {
        api: ApiCode,
        detail: String,
        /// Whether the request may have reached the server (false only when the connection
        /// was never made).
        maybe_delivered: bool,
        #[source]
        source: Option<reqwest::Error>,
    },
    /// No answer within the call's timeout. The request may have been processed: for a send,
    /// cancel with the same tr_id.
    #[error("{api}: no answer within {}s", after.as_secs_f32())]
    Timeout { api: ApiCode, after: Duration },
    /// An answer arrived but is not the expected JSON.
    #[error("{api}: undecodable response: {source}")]
    Decode {
        api: ApiCode,
        #[source]
        source: DecodeError,
    },
    /// A send's answer was lost and chasing it with cancels gave up before the service said
    /// what became of it (see [`Client::settle`](crate::Client::settle)). The tr_id must be
    /// settled later; until then a coupon may exist and be charged.
    #[error("tr_id {tr_id}: send not settled after {attempts} cancel attempts: {last}")]
    Unsettled { tr_id: String, attempts: u32, last: Box<Error> },
    /// The send journal (feature `journal`) could not be read or written; for a send, nothing
    /// was sent when this happens before the call.
    #[error("journal: {0}")]
    Journal(String),
    /// The client is not configured for this call.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl Error {
    /// The result code of an API error.
    pub fn code(&self) -> Option<&Code> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// True for an API error with this result code.
    pub fn is(&self, code: ResultCode) -> bool {
        self.code().is_some_and(|c| *c == code)
    }

    /// Whether the server may have acted on the request although no answer says so: a
    /// timeout, a transport failure after connecting, or an unreadable answer. After a send,
    /// this is when the tr_id must be cancelled (or looked up) before giving up.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Decode { .. } | Error::Unsettled { .. } => true,
            Error::Transport { maybe_delivered, .. } => *maybe_delivered,
            Error::Api { .. } | Error::Config(_) | Error::Journal(_) => false,
        }
    }

    pub(crate) fn api(code: &str, message: Option<&str>) -> Error {
        let code = Code::parse(code);
        let message = match message.filter(|m| !m.is_empty()) {
            Some(m) => m.to_owned(),
            None => code.spec_message().unwrap_or_default().to_owned(),
        };
        Error::Api { code, message }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("no profile {name:?} in {}", path.display())]
    NoProfile { name: String, path: PathBuf },
    #[error("invalid {what}: {why}")]
    Invalid { what: &'static str, why: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_carry_the_spec_message_when_the_service_sent_none() {
        let e = Error::api("ERR0215", None);
        assert!(e.is(ResultCode::TrIdDuplicate));
        assert_eq!(e.to_string(), "ERR0215 TR ID 가 중복되었습니다.");
        let e = Error::api("ERR0201", Some("필수 파라미터가 누락되었습니다. (tr_id)"));
        assert_eq!(e.to_string(), "ERR0201 필수 파라미터가 누락되었습니다. (tr_id)");
        let e = Error::api("X9999", None);
        assert_eq!(e.code(), Some(&Code::Other("X9999".into())));
        assert!(!e.is_ambiguous());
    }
}
