//! Request parameters, merged the way live clients send them (NOTES §1): from the urlencoded,
//! multipart or JSON body, the query string and, for the four common fields, HTTP headers. The
//! body wins over the query, the query over headers; an empty value counts as missing (a blank
//! one is kept: a whitespace-only title is its own error); unknown names are kept but never
//! looked at.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};
use giftbiz_core::send::{parse_tr_id, TrId};
use giftbiz_wire::{params, ResultCode};

use super::error::ApiError;
use super::AppState;

#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, String>,
}

impl Params {
    /// The value of `name`, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of `name`, or ERR0201 naming it.
    pub fn require(&self, name: &'static str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| ApiError::with(ResultCode::MissingParameter, name))
    }

    /// The required `tr_id`, parsed as every endpoint that takes one parses it (NOTES §4):
    /// ERR0201 when missing, ERR0807 over `max_bytes`, COUPON.0004 for other characters.
    pub fn tr_id(&self, max_chars: usize) -> Result<TrId, ApiError> {
        Ok(parse_tr_id(self.require(params::TR_ID)?, max_chars)?)
    }

    /// Sets a value taken from the path, which wins over every other source.
    pub fn set_from_path(&mut self, name: &str, value: String) {
        if !value.is_empty() {
            self.values.insert(name.to_owned(), value);
        }
    }

    /// Adds `value` under `name` unless a higher-priority source already gave one.
    fn offer(&mut self, name: &str, value: &str) {
        let name = if name == params::DEV_FLAG { params::DEV_YN } else { name };
        if value.is_empty() || self.values.contains_key(name) {
            return;
        }
        self.values.insert(name.to_owned(), value.to_owned());
    }

    /// `dev_yn` wins over its alias `dev_flag` within one source.
    fn offer_all<'a>(&mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let pairs: Vec<_> = pairs.into_iter().collect();
        for (k, v) in pairs.iter().filter(|(k, _)| *k != params::DEV_FLAG) {
            self.offer(k, v);
        }
        for (k, v) in pairs.iter().filter(|(k, _)| *k == params::DEV_FLAG) {
            self.offer(k, v);
        }
    }

    /// Merges the three sources, highest priority first.
    pub async fn parse(headers: &HeaderMap, query: Option<&str>, body: Bytes) -> Result<Params, ApiError> {
        let mut p = Params::default();
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        p.offer_body(content_type, body).await?;
        if let Some(q) = query {
            let pairs = decode_form(q.as_bytes()).map_err(|_| ApiError::with(ResultCode::MissingParameter, "query"))?;
            p.offer_all(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        let header_pairs: Vec<(&str, &str)> = params::COMMON
            .iter()
            .chain(std::iter::once(&params::DEV_FLAG))
            .filter_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()).map(|v| (*name, v.trim())))
            .collect();
        p.offer_all(header_pairs);
        Ok(p)
    }

    async fn offer_body(&mut self, content_type: &str, body: Bytes) -> Result<(), ApiError> {
        if body.is_empty() {
            return Ok(());
        }
        let bad_body = || ApiError::with(ResultCode::MissingParameter, "body");
        let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if mime == "multipart/form-data" {
            let boundary = multer::parse_boundary(content_type).map_err(|_| bad_body())?;
            let pairs = decode_multipart(body, boundary).await.map_err(|_| bad_body())?;
            self.offer_all(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        } else if mime.ends_with("json") || (mime != "application/x-www-form-urlencoded" && looks_like_json(&body)) {
            let value: serde_json::Value = serde_json::from_slice(&body).map_err(|_| bad_body())?;
            let serde_json::Value::Object(map) = value else { return Err(bad_body()) };
            let pairs: Vec<(String, String)> =
                map.into_iter().filter_map(|(k, v)| json_scalar(v).map(|v| (k, v))).collect();
            self.offer_all(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        } else {
            let pairs = decode_form(&body).map_err(|_| bad_body())?;
            self.offer_all(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Ok(())
    }
}

fn looks_like_json(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// JSON clients send numbers and booleans where the spec says String.
fn json_scalar(v: serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(if b { "Y" } else { "N" }.to_owned()),
        _ => None,
    }
}

struct NotUtf8;

/// Decodes `a=1&b=%ED%95%9C`; percent-decoded bytes must be UTF-8.
fn decode_form(raw: &[u8]) -> Result<Vec<(String, String)>, NotUtf8> {
    std::str::from_utf8(raw).map_err(|_| NotUtf8)?;
    form_urlencoded::parse(raw)
        .map(|(k, v)| {
            // form_urlencoded decodes lossily; a replacement character the raw text did not
            // carry means the client sent another encoding (EUC-KR), which we refuse.
            if k.contains('\u{FFFD}') || v.contains('\u{FFFD}') {
                Err(NotUtf8)
            } else {
                Ok((k.into_owned(), v.into_owned()))
            }
        })
        .collect()
}

async fn decode_multipart(body: Bytes, boundary: String) -> Result<Vec<(String, String)>, multer::Error> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut pairs = Vec::new();
    while let Some(field) = multipart.next_field().await? {
        let Some(name) = field.name().map(str::to_owned) else { continue };
        let text = field.text().await?;
        pairs.push((name, text));
    }
    Ok(pairs)
}

impl FromRequest<AppState> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Params, ApiError> {
        let (parts, body) = req.into_parts();
        let deadline = std::time::Duration::from_millis(state.settings.request_body_timeout_ms);
        let bytes = read_body(body, state.settings.max_body_bytes, deadline).await?;
        Params::parse(&parts.headers, parts.uri.query(), bytes).await
    }
}

/// The body, up to `limit` bytes, within `deadline` as a whole (a client dribbling a byte at a
/// time is cut off at it, however steadily it sends).
async fn read_body(body: Body, limit: usize, deadline: std::time::Duration) -> Result<Bytes, ApiError> {
    let refused = |why: &'static str| ApiError::with(ResultCode::MissingParameter, why);
    // A declared length over the limit is refused before a byte of the body is read.
    if axum::body::HttpBody::size_hint(&body).lower() > limit as u64 {
        return Err(refused("body too large"));
    }
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(refused("body too large or unreadable")),
        Err(_) => Err(refused("body not received in time")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[tokio::test]
    async fn body_wins_over_query_and_query_over_headers() {
        let h = headers(&[
            ("content-type", "application/x-www-form-urlencoded"),
            ("api_code", "0111"),
            ("custom_auth_code", "H"),
            ("dev_yn", "N"),
        ]);
        let p = Params::parse(&h, Some("api_code=0102&custom_auth_code=Q"), Bytes::from("api_code=0101"))
            .await
            .unwrap_or_default();
        assert_eq!(p.get("api_code"), Some("0101"));
        assert_eq!(p.get("custom_auth_code"), Some("Q"));
        assert_eq!(p.get("dev_yn"), Some("N"));
    }

    #[tokio::test]
    async fn empty_values_are_missing_and_dev_flag_is_an_alias() {
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let p = Params::parse(&h, None, Bytes::from("tr_id=&dev_flag=N&mms_title=%ED%95%9C")).await.unwrap();
        assert_eq!(p.get("tr_id"), None);
        assert_eq!(p.get("dev_yn"), Some("N"));
        assert_eq!(p.get("mms_title"), Some("한"));
    }

    #[tokio::test]
    async fn json_numbers_become_strings() {
        let h = headers(&[("content-type", "application/json")]);
        let p = Params::parse(&h, None, Bytes::from(r#"{"start":2,"size":"5","x":{"y":1}}"#)).await.unwrap();
        assert_eq!(p.get("start"), Some("2"));
        assert_eq!(p.get("size"), Some("5"));
        assert_eq!(p.get("x"), None);
    }

    #[tokio::test]
    async fn undecodable_bodies_are_refused() {
        let h = headers(&[("content-type", "application/json")]);
        assert!(Params::parse(&h, None, Bytes::from("{not json")).await.is_err());
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        // EUC-KR "한" percent-encoded.
        assert!(Params::parse(&h, None, Bytes::from("mms_title=%C7%D1")).await.is_err());
    }

    #[tokio::test]
    async fn multipart_text_fields_are_read() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"api_code\"\r\n\r\n0101\r\n--XX--\r\n";
        let h = headers(&[("content-type", "multipart/form-data; boundary=XX")]);
        let p = Params::parse(&h, None, Bytes::from(body)).await.unwrap();
        assert_eq!(p.get("api_code"), Some("0101"));
    }
}
