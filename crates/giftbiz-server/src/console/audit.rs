//! `/console/audit`: the operators' actions, newest first, filtered by target, operator and
//! action, in pages; and the same as CSV (`/console/audit.csv`, every matching entry).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use giftbiz_core::console::{AuditFilter, AuditLogEntry, Capability};

use super::pages::{kst, page, ErrorPage, Me};
use super::session::SignedIn;
use super::texts::Texts;
use crate::http::AppState;

const PAGE: u32 = 50;

pub fn router() -> Router<AppState> {
    Router::new().route("/console/audit", get(audit)).route("/console/audit.csv", get(audit_csv))
}

pub struct Line {
    pub when: String,
    pub operator: String,
    pub action: String,
    pub target: String,
    pub reason: String,
    pub before: String,
    pub after: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    t: &'static Texts,
    me: Option<Me>,
    filter: AuditFilter,
    /// The filter as query parameters (`target=…&operator=…`), for the older page and the CSV.
    filter_query: String,
    entries: Vec<Line>,
    older: Option<i64>,
}

#[derive(serde::Deserialize)]
struct AuditQuery {
    #[serde(flatten)]
    filter: AuditFilter,
    before: Option<i64>,
}

fn query_of(filter: &AuditFilter) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (name, value) in [("target", &filter.target), ("operator", &filter.operator), ("action", &filter.action)] {
        if let Some(v) = value {
            q.append_pair(name, v);
        }
    }
    q.finish()
}

async fn audit(State(state): State<AppState>, signed_in: SignedIn, Query(query): Query<AuditQuery>) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    let filter = query.filter.tidy();
    let entries = match state.store.audit_log(&filter, query.before, PAGE).await {
        Ok(e) => e,
        Err(e) => return ErrorPage::failed(signed_in.texts, e).into_response(),
    };
    let older = (entries.len() == PAGE as usize).then(|| entries.last().map(|e| e.id)).flatten();
    let view = AuditPage {
        t: signed_in.texts,
        me: Some(Me::of(&signed_in)),
        filter_query: query_of(&filter),
        filter,
        entries: entries.into_iter().map(line).collect(),
        older,
    };
    page(StatusCode::OK, &view)
}

fn line(e: AuditLogEntry) -> Line {
    Line {
        when: kst(e.at_ms),
        operator: e.operator_name,
        action: e.action,
        target: e.target,
        reason: e.reason,
        before: e.before.unwrap_or_default(),
        after: e.after.unwrap_or_default(),
        source: e.source,
    }
}

async fn audit_csv(State(state): State<AppState>, signed_in: SignedIn, Query(query): Query<AuditQuery>) -> Response {
    if let Err(r) = signed_in.require(Capability::Read) {
        return r.into_response();
    }
    let filter = query.filter.tidy();
    let mut out = String::from("id,at_kst,operator,action,target,before,after,reason,source\r\n");
    let mut before = None;
    loop {
        let entries = match state.store.audit_log(&filter, before, 1000).await {
            Ok(e) => e,
            Err(e) => return ErrorPage::failed(signed_in.texts, e).into_response(),
        };
        let Some(last) = entries.last().map(|e| e.id) else { break };
        for e in entries {
            let id = e.id.to_string();
            let fields = [&id, &kst(e.at_ms), &e.operator_name, &e.action, &e.target, &e.before.unwrap_or_default(), &e.after.unwrap_or_default(), &e.reason, &e.source];
            out.push_str(&fields.map(|f| csv_field(f)).join(","));
            out.push_str("\r\n");
        }
        before = Some(last);
    }
    csv_response("giftbiz-audit.csv", out)
}

/// A CSV file download.
pub fn csv_response(name: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    ([(CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (CONTENT_DISPOSITION, disposition)], body).into_response()
}

/// One RFC 4180 field; one that a spreadsheet would run as a formula is prefixed with `'`.
pub fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err() { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field(r#"{"a":1,"b":2}"#), r#""{""a"":1,""b"":2}""#);
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-5000"), "-5000", "a negative amount stays a number");
    }
}
