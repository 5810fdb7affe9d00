use serde::{Deserialize, Serialize};

use crate::ResultCode;

/// The response envelope every API outcome travels in: `{"code","message","result"}`.
///
/// `code` and `message` are always present; `message` is `null` on success and the spec's text
/// on error, `result` is `null` on error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub code: String,
    pub message: Option<String>,
    pub result: Option<T>,
}

impl<T> Envelope<T> {
    pub fn ok(result: T) -> Self {
        Envelope { code: ResultCode::Ok.code().to_owned(), message: None, result: Some(result) }
    }

    /// Success without a result (`"result": null`): cancel, resend, sendFail cancel.
    pub fn ok_empty() -> Self {
        Envelope { code: ResultCode::Ok.code().to_owned(), message: None, result: None }
    }

    /// An error; `detail` (e.g. the offending parameter's name) is added in parentheses.
    pub fn error(code: ResultCode, detail: Option<&str>) -> Self {
        let message = match detail {
            Some(d) => format!("{} ({d})", code.message()),
            None => code.message().to_owned(),
        };
        Envelope { code: code.code().to_owned(), message: Some(message), result: None }
    }

    pub fn result_code(&self) -> Option<ResultCode> {
        ResultCode::parse(&self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_envelope_has_all_three_keys() {
        let e: Envelope<()> = Envelope::error(ResultCode::MissingParameter, Some("tr_id"));
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"code":"ERR0201","message":"필수 파라미터가 누락되었습니다. (tr_id)","result":null})
        );
    }

    #[test]
    fn ok_envelope_has_null_message() {
        let v = serde_json::to_value(Envelope::ok(1)).unwrap();
        assert_eq!(v, serde_json::json!({"code":"0000","message":null,"result":1}));
    }
}
