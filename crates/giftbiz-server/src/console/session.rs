//! The console's cookies and the signed-in operator: every page but the login takes
//! [`SignedIn`], which reads the session cookie and checks the session (expiry, a disabled
//! operator) on the server, and every state-changing route checks its CSRF token.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{COOKIE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use giftbiz_core::console::{Capability, Operator};
use giftbiz_core::RequestId;

use super::pages::ErrorPage;
use super::{field, form};
use super::texts::{self, Texts};
use crate::http::AppState;
use crate::usecases::console_accounts::Actor;
use crate::usecases::console_auth::{self, SessionToken};

pub const SESSION_COOKIE: &str = "giftbiz_session";
pub const LANG_COOKIE: &str = "giftbiz_lang";

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// The request's language.
pub fn texts_of(parts: &Parts) -> &'static Texts {
    let query_lang = parts.uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes()).find_map(|(k, v)| (k == "lang").then(|| if v == "en" { "en" } else { "ko" }))
    });
    texts::pick(query_lang, cookie(&parts.headers, LANG_COOKIE))
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Strict, Secure when served over TLS (or
/// behind an `https` public URL), living as long as a session may.
pub fn session_cookie(state: &AppState, token: &SessionToken) -> String {
    let secure = if served_over_tls(state) { "; Secure" } else { "" };
    let max_age = state.settings.console_session_max_ms / 1000;
    format!("{SESSION_COOKIE}={}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}", token.expose())
}

/// `Set-Cookie` that removes the session cookie.
pub fn cleared_session_cookie(state: &AppState) -> String {
    let secure = if served_over_tls(state) { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

fn served_over_tls(state: &AppState) -> bool {
    state.settings.tls_cert_path.is_some() || state.settings.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
}

/// A request from another site: an `Origin` header whose host is not this request's `Host`.
/// (Browsers send `Origin` with every POST; a request without one is not a browser's.)
pub fn is_cross_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    !authority.eq_ignore_ascii_case(host)
}

/// The signed-in operator of a console request, with the session's token (for its CSRF token).
pub struct SignedIn {
    pub operator: Operator,
    pub token: SessionToken,
    pub texts: &'static Texts,
}

impl SignedIn {
    /// `403` unless the operator's role may do `what`.
    pub fn require(&self, what: Capability) -> Result<(), Refused> {
        if self.operator.role.may(what) {
            Ok(())
        } else {
            Err(Refused(Box::new(ErrorPage::forbidden(self).into_response())))
        }
    }

    /// `403` unless `presented` is the session's CSRF token.
    pub fn require_csrf(&self, presented: Option<&str>) -> Result<(), Refused> {
        if presented.is_some_and(|p| self.token.csrf_matches(p)) {
            Ok(())
        } else {
            Err(Refused(Box::new(ErrorPage::forbidden(self).into_response())))
        }
    }
}

/// A state-changing console request: its signed-in operator, its form (urlencoded), and the
/// operator's address; extracting it checks the session's CSRF token (form field `csrf_token`
/// or header `X-CSRF-Token`) first, so a handler that takes one cannot forget to.
pub struct Posted<const MAX_BYTES: usize = MAX_FORM_BYTES> {
    pub signed_in: SignedIn,
    form: Vec<(String, String)>,
    source: String,
    request_id: Option<RequestId>,
}

/// A console form is small; anything bigger is no console form (but a catalog import, which
/// says its own size).
pub const MAX_FORM_BYTES: usize = 16 * 1024;

impl<const MAX_BYTES: usize> Posted<MAX_BYTES> {
    /// The form field `name`, or `""`.
    pub fn field(&self, name: &str) -> &str {
        field(&self.form, name).unwrap_or("")
    }

    pub fn actor(&self, now_ms: i64) -> Actor<'_> {
        Actor { operator: &self.signed_in.operator, source: &self.source, now_ms, request_id: self.request_id.as_ref() }
    }
}

impl<const MAX_BYTES: usize> FromRequest<AppState> for Posted<MAX_BYTES> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Posted<MAX_BYTES>, Response> {
        let (mut parts, body) = req.into_parts();
        let signed_in = SignedIn::from_request_parts(&mut parts, state).await?;
        let source = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default();
        let body = axum::body::to_bytes(body, MAX_BYTES)
            .await
            .map_err(|_| ErrorPage::for_operator(&signed_in, StatusCode::PAYLOAD_TOO_LARGE, signed_in.texts.failed).into_response())?;
        let form = form(&body);
        let presented = field(&form, "csrf_token").or_else(|| parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()));
        signed_in.require_csrf(presented).map_err(IntoResponse::into_response)?;
        let request_id = parts.extensions.get::<RequestId>().cloned();
        Ok(Posted { signed_in, form, source, request_id })
    }
}

/// A console request refused (its `403` page).
pub struct Refused(Box<Response>);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<SignedIn, Response> {
        let texts = texts_of(parts);
        let token = cookie(&parts.headers, SESSION_COOKIE).map(SessionToken::presented);
        let now_ms = state.clock.now_ms();
        let session = match &token {
            Some(token) => console_auth::session(state.store.as_ref(), &state.settings.console_policy(), token, now_ms)
                .await
                .map_err(|e| ErrorPage::failed(texts, e).into_response())?,
            None => None,
        };
        match (session, token) {
            (Some(session), Some(token)) => Ok(SignedIn { operator: session.operator, token, texts }),
            // A page asked for without a session goes to the login; anything else is refused.
            _ if parts.method == Method::GET || parts.method == Method::HEAD => Err(Redirect::to("/console/login").into_response()),
            _ => Err(ErrorPage::status(texts, StatusCode::FORBIDDEN, texts.forbidden).into_response()),
        }
    }
}
