//! The console's pages, each a template of `templates/console/` (askama: compiled and
//! type-checked with the code, escaped by default).

use std::borrow::Cow;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::session::SignedIn;
use super::texts::Texts;

/// What the header shows of the signed-in operator, with the logout form's CSRF token.
pub struct Me {
    pub username: String,
    pub role: &'static str,
    pub csrf_token: String,
}

impl Me {
    pub fn of(signed_in: &SignedIn) -> Me {
        Me {
            username: signed_in.operator.username.to_string(),
            role: signed_in.operator.role.as_str(),
            csrf_token: signed_in.token.csrf_token(),
        }
    }
}

/// A rendered page with its status; a template that fails to render is logged, never shown.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'";

pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        // Only the console's own embedded assets may run or style a page.
        Ok(html) => (status, [("cache-control", "no-store"), ("content-security-policy", CSP)], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a console page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "console/login.html")]
pub struct LoginPage {
    pub t: &'static Texts,
    pub me: Option<Me>,
    pub error: Option<&'static str>,
}

/// One day's bar of the dashboard's chart (SVG units: 300 wide, 100 high).
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub label: String,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
pub struct DashboardPage {
    pub t: &'static Texts,
    pub me: Option<Me>,
    pub today_sends: String,
    pub today_won: String,
    pub month_sends: String,
    pub month_won: String,
    pub pending: String,
    pub failed: String,
    pub bars: Vec<Bar>,
    pub low_balances: Vec<(String, String)>,
}

impl DashboardPage {
    /// The page of `figures` for the 30 KST days ending with `today` (a KST day number).
    pub fn new(t: &'static Texts, me: Me, figures: &giftbiz_core::console::ConsoleFigures, today: i64) -> DashboardPage {
        let days: Vec<(i64, i64, i64)> = (today - 29..=today)
            .map(|day| {
                let d = figures.daily.iter().find(|d| d.day == day);
                (day, d.map_or(0, |d| d.sends), d.map_or(0, |d| d.won))
            })
            .collect();
        let most = days.iter().map(|d| d.1).max().unwrap_or(0).max(1);
        let bars = days
            .iter()
            .enumerate()
            .map(|(n, &(day, sends, _))| {
                let height = (sends * 96 / most) as u32;
                let date = chrono::DateTime::from_timestamp(day * 86_400, 0).map(|d| d.format("%m-%d").to_string()).unwrap_or_default();
                Bar { x: n as u32 * 10 + 1, y: 100 - height, height, label: format!("{date}: {sends}") }
            })
            .collect();
        let (today_sends, today_won) = days.last().map_or((0, 0), |d| (d.1, d.2));
        DashboardPage {
            t,
            me: Some(me),
            today_sends: won(today_sends),
            today_won: won(today_won),
            month_sends: won(days.iter().map(|d| d.1).sum()),
            month_won: won(days.iter().map(|d| d.2).sum()),
            pending: won(figures.pending_messages),
            failed: won(figures.failed_messages),
            bars,
            low_balances: figures.low_balances.iter().map(|(u, b)| (u.clone(), won(*b))).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
pub struct ErrorPage {
    pub t: &'static Texts,
    pub me: Option<Me>,
    pub status: u16,
    pub message: Cow<'static, str>,
}

impl ErrorPage {
    pub fn status(t: &'static Texts, status: StatusCode, message: &'static str) -> ErrorResponse {
        ErrorResponse { status, page: ErrorPage { t, me: None, status: status.as_u16(), message: message.into() } }
    }

    /// `403` for a signed-in operator (their header and logout form stay).
    pub fn forbidden(signed_in: &SignedIn) -> ErrorResponse {
        ErrorPage::for_operator(signed_in, StatusCode::FORBIDDEN, signed_in.texts.forbidden)
    }

    /// An error page for a signed-in operator.
    pub fn for_operator(signed_in: &SignedIn, status: StatusCode, message: impl Into<Cow<'static, str>>) -> ErrorResponse {
        let page = ErrorPage { t: signed_in.texts, me: Some(Me::of(signed_in)), status: status.as_u16(), message: message.into() };
        ErrorResponse { status, page }
    }

    /// `500` for a failure of the platform: logged, shown only as "something went wrong".
    pub fn failed(t: &'static Texts, e: impl std::fmt::Display) -> ErrorResponse {
        tracing::error!(error = %e, "a console request failed");
        ErrorPage::status(t, StatusCode::INTERNAL_SERVER_ERROR, t.failed)
    }
}

pub struct ErrorResponse {
    status: StatusCode,
    page: ErrorPage,
}

impl IntoResponse for ErrorResponse {
    fn into_response(self) -> Response {
        page(self.status, &self.page)
    }
}

/// Whole won with thousands separators: `1,234,500`.
pub fn won(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (n, c) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if amount < 0 {
        out.insert(0, '-');
    }
    out
}

/// A time as the console shows it: KST, to the second.
pub fn kst(at_ms: i64) -> String {
    giftbiz_core::time::from_millis(at_ms)
        .with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).expect("KST"))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn won_has_thousands_separators() {
        assert_eq!(super::won(0), "0");
        assert_eq!(super::won(999), "999");
        assert_eq!(super::won(1_000), "1,000");
        assert_eq!(super::won(-1_234_500), "-1,234,500");
    }
}
