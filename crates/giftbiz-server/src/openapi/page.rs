//! `/docs`: the document as a page people read, rendered on the server from the same JSON
//! (no script, no CDN; its one stylesheet is embedded in the binary).

use std::sync::OnceLock;

use askama::Template;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage {
    title: String,
    version: String,
    description: String,
    tags: Vec<TagView>,
    schemas: Vec<(String, String)>,
}

struct TagView {
    name: String,
    description: String,
    operations: Vec<OperationView>,
}

struct OperationView {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    /// (name, where, required, description)
    parameters: Vec<(String, String, bool, String)>,
    /// The request body's content types and its schema, pretty JSON.
    body: Option<(String, String)>,
    /// (status, description, schema as pretty JSON)
    responses: Vec<(String, String, String)>,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// The body's properties as rows: a `/bizApi` form is a flat object of strings.
fn body_rows(schema: &Value) -> Vec<(String, String, bool, String)> {
    let required: Vec<&str> = schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let Some(props) = schema["properties"].as_object() else { return Vec::new() };
    props.iter().map(|(name, p)| (name.clone(), "body".into(), required.contains(&name.as_str()), text(&p["description"]))).collect()
}

fn page(doc: &Value) -> DocsPage {
    let mut tags: Vec<TagView> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| TagView { name: text(&t["name"]), description: text(&t["description"]), operations: Vec::new() })
        .collect();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let mut parameters: Vec<_> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| (text(&p["name"]), text(&p["in"]), p["required"].as_bool().unwrap_or(false), text(&p["description"])))
                .collect();
            let body = op["requestBody"]["content"].as_object().and_then(|content| {
                let types: Vec<&str> = content.keys().map(String::as_str).collect();
                let schema = &content.values().next()?["schema"];
                parameters.extend(body_rows(schema));
                Some((types.join(", "), pretty(schema)))
            });
            let responses = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, r)| {
                    let schema = r["content"].as_object().and_then(|c| c.values().next()).map(|c| pretty(&c["schema"])).unwrap_or_default();
                    (status.clone(), text(&r["description"]), schema)
                })
                .collect();
            let view = OperationView {
                anchor: text(&op["operationId"]),
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(&op["summary"]),
                description: text(&op["description"]),
                parameters,
                body,
                responses,
            };
            let tag = text(&op["tags"][0]);
            if let Some(t) = tags.iter_mut().find(|t| t.name == tag) {
                t.operations.push(view);
            }
        }
    }
    let schemas = doc["components"]["schemas"].as_object().into_iter().flatten().map(|(name, s)| (name.clone(), pretty(s))).collect();
    DocsPage {
        title: text(&doc["info"]["title"]),
        version: text(&doc["info"]["version"]),
        description: text(&doc["info"]["description"]),
        tags,
        schemas,
    }
}

/// 문서 페이지 / this document as a page.
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 200, description = "the page", content_type = "text/html; charset=utf-8", body = String)))]
pub async fn docs() -> Response {
    static HTML: OnceLock<String> = OnceLock::new();
    let html = HTML.get_or_init(|| {
        let doc = serde_json::to_value(super::document()).unwrap_or_default();
        page(&doc).render().unwrap_or_else(|e| format!("the docs page failed to render: {e}"))
    });
    let mut resp = Html(html.as_str()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    );
    resp
}

pub async fn stylesheet() -> Response {
    let mut resp = include_str!("../../assets/docs.css").into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}
