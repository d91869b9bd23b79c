//! The dashboard: GET routes for each view as HTML ([`html`]) and as JSON under `/api/v1/`,
//! and the embedded stylesheet. Every page reads the read model of [`source`]; a job's and
//! a resource's page also read their own rows by index.

pub mod html;
pub mod source;

use crate::dashboard::{audit, jobs, matrix, overview, resource, schedule, vaults, Status};
use crate::jobs::JobKind;
use axum::extract::{Path, RawQuery, State as Extract};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use source::Source;
use std::collections::BTreeMap;
use std::sync::Arc;

const CSS: &str = include_str!("assets/coffer.css");
const ICON: &str = include_str!("assets/favicon.svg");

/// The JSON endpoints, with the schema each follows (in schema/).
pub const ENDPOINTS: [(&str, &str); 8] = [
    ("/api/v1/overview", "dashboard-overview"),
    ("/api/v1/matrix?days=30", "dashboard-matrix"),
    ("/api/v1/jobs", "dashboard-jobs"),
    ("/api/v1/jobs/{id}", "dashboard-job"),
    ("/api/v1/resources/{arn}", "dashboard-resource"),
    ("/api/v1/vaults", "dashboard-vaults"),
    ("/api/v1/schedule", "dashboard-schedule"),
    ("/api/v1/audit", "dashboard-audit"),
];

/// Each view of the whole estate: its page, and its JSON under `/api/v1`.
const VIEWS: [(&str, &str, View); 6] = [
    ("/", "/api/v1/overview", View::Overview),
    ("/matrix", "/api/v1/matrix", View::Matrix),
    ("/jobs", "/api/v1/jobs", View::Jobs),
    ("/vaults", "/api/v1/vaults", View::Vaults),
    ("/schedule", "/api/v1/schedule", View::Schedule),
    ("/audit", "/api/v1/audit", View::Audit),
];

/// The dashboard's routes.
pub fn routes(source: Arc<Source>) -> Router {
    let mut router = Router::new();
    for (page, api, v) in VIEWS {
        router = router
            .route(page, get(move |s, q| view(s, q, v, Format::Html)))
            .route(api, get(move |s, q| view(s, q, v, Format::Json)));
    }
    for (prefix, format) in [("", Format::Html), ("/api/v1", Format::Json)] {
        router = router
            .route(
                &format!("{prefix}/jobs/{{id}}"),
                get(move |s, p| job(s, p, format)),
            )
            .route(
                &format!("{prefix}/resources/{{arn}}"),
                get(move |s, p| one_resource(s, p, format)),
            );
    }
    router
        .route("/api/v1", get(api_index))
        .route("/assets/coffer.css", get(css))
        .route("/assets/favicon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .with_state(source)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Html,
    Json,
}

#[derive(Clone, Copy)]
enum View {
    Overview,
    Matrix,
    Jobs,
    Vaults,
    Schedule,
    Audit,
}

/// Decodes `application/x-www-form-urlencoded` text; empty values count as absent.
pub fn parse_query(raw: Option<&str>) -> BTreeMap<String, String> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    raw.unwrap_or("")
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = decode(v);
            (!k.is_empty() && !v.trim().is_empty()).then(|| (decode(k), v.trim().to_string()))
        })
        .collect()
}

/// What went wrong, as the format wants it.
fn problem(
    status: StatusCode,
    message: &str,
    format: Format,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    match format {
        Format::Json => {
            let mut r = json(&serde_json::json!({ "error": message }));
            *r.status_mut() = status;
            r
        }
        Format::Html => {
            let page = html::parts::page(
                if status == StatusCode::NOT_FOUND {
                    "Not found"
                } else {
                    "Cannot show this page"
                },
                "",
                "/api/v1",
                now,
                maud::html! { p { (message) } p { a href="/" { "Back to the overview" } } },
            );
            let mut r = html_page(page);
            *r.status_mut() = status;
            r
        }
    }
}

fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_string_pretty(value) {
        Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text + "\n").into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write JSON: {e}\n"),
        )
            .into_response(),
    }
}

/// A view as JSON, or as the page `render` makes of it.
fn respond<T: Serialize>(
    format: Format,
    view: &T,
    render: impl FnOnce(&T) -> maud::Markup,
) -> Response {
    match format {
        Format::Json => json(view),
        Format::Html => html_page(render(view)),
    }
}

fn html_page(m: maud::Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        m.into_string(),
    )
        .into_response()
}

async fn model(source: &Arc<Source>) -> Result<Arc<crate::dashboard::Model>, String> {
    let s = source.clone();
    tokio::task::spawn_blocking(move || s.model())
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
}

fn number(q: &BTreeMap<String, String>, key: &str, default: i64) -> Result<i64, String> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("`{key}` must be a whole number, not `{v}`")),
    }
}

async fn view(
    Extract(source): Extract<Arc<Source>>,
    RawQuery(raw): RawQuery,
    view: View,
    format: Format,
) -> Response {
    let now = chrono::Utc::now();
    let m = match model(&source).await {
        Ok(m) => m,
        Err(e) => {
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("cannot read state and catalog: {e}"),
                format,
                now,
            )
        }
    };
    let q = parse_query(raw.as_deref());
    let bad = |e: String| problem(StatusCode::BAD_REQUEST, &e, format, m.now);
    match view {
        View::Overview => respond(format, &overview::build(&m), html::overview::render),
        View::Matrix => {
            let query = match (number(&q, "days", 30), number(&q, "page", 1)) {
                (Ok(days), Ok(page)) => matrix::Query {
                    days,
                    page: page.max(1) as usize,
                    resource_type: q.get("type").cloned(),
                    vault: q.get("vault").cloned(),
                    tag: q.get("tag").cloned(),
                },
                (Err(e), _) | (_, Err(e)) => return bad(e),
            };
            respond(format, &matrix::build(&m, query), html::matrix::render)
        }
        View::Jobs => {
            let kind = match q.get("kind") {
                None => None,
                Some(k) => match JobKind::parse(k) {
                    Some(k) => Some(k),
                    None => return bad(format!("`kind` `{k}` is not a job kind (backup, copy, restore, delete, cold, prune)")),
                },
            };
            let status = match q.get("status") {
                None => None,
                Some(s) => match Status::parse(s) {
                    Some(s) => Some(s),
                    None => return bad(format!("`status` `{s}` is not a status (ok, ok_with_issues, failed, running, expired)")),
                },
            };
            let page = match number(&q, "page", 1) {
                Ok(p) => p.max(1) as usize,
                Err(e) => return bad(e),
            };
            respond(
                format,
                &jobs::build(
                    &m,
                    jobs::Query {
                        kind,
                        status,
                        resource: q.get("resource").cloned(),
                        page,
                    },
                ),
                html::jobs::render,
            )
        }
        View::Vaults => respond(format, &vaults::build(&m), html::vaults::render),
        View::Schedule => respond(format, &schedule::build(&m), html::schedule::render),
        View::Audit => respond(format, &audit::build(&m), html::audit::render),
    }
}

async fn job(
    Extract(source): Extract<Arc<Source>>,
    Path(id): Path<String>,
    format: Format,
) -> Response {
    let s = source.clone();
    let found = {
        let id = id.clone();
        tokio::task::spawn_blocking(move || s.job(&id))
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
    };
    let now = model(&source)
        .await
        .map(|m| m.now)
        .unwrap_or_else(|_| chrono::Utc::now());
    match found {
        Err(e) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("cannot read the catalog: {e}"),
            format,
            now,
        ),
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            &format!("no job {id} in the catalog"),
            format,
            now,
        ),
        Ok(Some(j)) => respond(format, &jobs::detail(&j), |d| {
            html::jobs::render_detail(d, now)
        }),
    }
}

async fn one_resource(
    Extract(source): Extract<Arc<Source>>,
    Path(arn): Path<String>,
    format: Format,
) -> Response {
    let m = match model(&source).await {
        Ok(m) => m,
        Err(e) => {
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("cannot read state and catalog: {e}"),
                format,
                chrono::Utc::now(),
            )
        }
    };
    if m.resource(&arn).is_none() {
        return problem(
            StatusCode::NOT_FOUND,
            &format!("no resource {arn} in the inventory"),
            format,
            m.now,
        );
    }
    let s = source.clone();
    let wanted = arn.clone();
    let points = tokio::task::spawn_blocking(move || s.points_of(&wanted))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let points = match points {
        Ok(p) => p,
        Err(e) => {
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("cannot read the catalog: {e}"),
                format,
                m.now,
            )
        }
    };
    match resource::build(&m, &arn, &points) {
        None => problem(
            StatusCode::NOT_FOUND,
            &format!("no resource {arn}"),
            format,
            m.now,
        ),
        Some(r) => respond(format, &r, html::resource::render),
    }
}

async fn api_index() -> Response {
    let list: Vec<serde_json::Value> = ENDPOINTS
        .iter()
        .map(|(path, schema)| serde_json::json!({ "path": path, "schema": format!("schema/{schema}.schema.json") }))
        .collect();
    json(&serde_json::json!({ "endpoints": list }))
}

async fn icon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}
