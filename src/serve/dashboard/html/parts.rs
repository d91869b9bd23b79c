//! Pieces every page shares: the layout with its landmarks and navigation, status badges,
//! times (absolute UTC with a relative age), byte sizes, and links to resources and jobs.

use crate::dashboard::Status;
use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// The views in the navigation, by path.
pub const VIEWS: [(&str, &str); 7] = [
    ("/", "Overview"),
    ("/matrix", "Protection matrix"),
    ("/jobs", "Jobs"),
    ("/vaults", "Vaults"),
    ("/schedule", "Schedule"),
    ("/audit", "Compliance and restore tests"),
    ("/api/v1", "JSON"),
];

/// A whole page: `active` is the navigation entry it belongs to, `api` its JSON twin.
pub fn page(title: &str, active: &str, api: &str, now: DateTime<Utc>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · coffer" }
                link rel="stylesheet" href="/assets/coffer.css";
                link rel="icon" href="/assets/favicon.svg" type="image/svg+xml";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    a.brand href="/" { "coffer" }
                    nav aria-label="Views" {
                        ul {
                            @for (path, name) in &VIEWS[..6] {
                                li {
                                    @if *path == active {
                                        a href=(path) aria-current="page" { (name) }
                                    } @else {
                                        a href=(path) { (name) }
                                    }
                                }
                            }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
                footer {
                    "As of " (time(now, now)) ". Read-only. This page as JSON: "
                    a href=(api) { code { (api) } }
                }
            }
        }
    }
}

/// An icon and a word, coloured by class; never the colour alone.
pub fn badge(s: Status) -> Markup {
    html! {
        span class={ "badge s-" (s.key()) } {
            span aria-hidden="true" { (s.icon()) } " " (s.word())
        }
    }
}

/// A badge for an optional status (none: no run was due).
pub fn maybe_badge(s: Option<Status>) -> Markup {
    match s {
        Some(s) => badge(s),
        None => html! { span.muted { "no run due" } },
    }
}

/// How long ago (or until) `t`, in the largest whole unit.
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    let a = secs.unsigned_abs();
    let amount = match a {
        0..=59 => format!("{a}s"),
        60..=3599 => format!("{}m", a / 60),
        3600..=172_799 => format!("{}h", a / 3600),
        _ => format!("{}d", a / 86_400),
    };
    if secs >= 0 {
        format!("{amount} ago")
    } else {
        format!("in {amount}")
    }
}

/// A `<time>` with the UTC time to the minute and how long ago it is.
pub fn time(t: DateTime<Utc>, now: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(crate::render::rfc3339(t)) {
            (crate::render::minute(t))
        }
        @if t != now { " " span.muted { "(" (relative(t, now)) ")" } }
    }
}

pub fn maybe_time(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Markup {
    match t {
        Some(t) => time(t, now),
        None => html! { span.muted { "never" } },
    }
}

/// Bytes in binary units, as `jobs list` writes them.
pub fn bytes(n: u64) -> String {
    crate::render::jobs::size(Some(n))
}

/// Seconds as people say them: `45s`, `12m`, `3h 5m`, `2d 4h`.
pub fn seconds(s: i64) -> String {
    let a = s.unsigned_abs();
    match a {
        0..=59 => format!("{a}s"),
        60..=3599 => format!("{}m", a / 60),
        3600..=86_399 => format!("{}h {}m", a / 3600, a % 3600 / 60),
        _ => format!("{}d {}h", a / 86_400, a % 86_400 / 3600),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters: one path segment or
/// query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn resource_href(arn: &str) -> String {
    format!("/resources/{}", encode(arn))
}

/// A link to a resource, by name when it has one.
pub fn resource_link(arn: &str, name: Option<&str>) -> Markup {
    html! {
        a href=(resource_href(arn)) {
            @match name {
                Some(n) => { (n) " " span.muted { "(" (arn) ")" } },
                None => { (arn) },
            }
        }
    }
}

pub fn job_link(id: &str) -> Markup {
    html! { a href={ "/jobs/" (encode(id)) } { code { (id) } } }
}

/// Links to the previous and next page, `href` giving a page's address.
pub fn pager(page: usize, pages: usize, href: impl Fn(usize) -> String) -> Markup {
    html! {
        nav.pager aria-label="Pages" {
            @if page > 1 { a href=(href(page - 1)) rel="prev" { "Previous page" } }
            @if page < pages { a href=(href(page + 1)) rel="next" { "Next page" } }
        }
    }
}

/// The legend of the status vocabulary.
pub fn legend() -> Markup {
    html! {
        ul.legend aria-label="Status legend" {
            @for s in Status::ALL {
                li { (badge(s)) }
            }
        }
    }
}

/// A page for what does not exist.
pub fn not_found(what: &str, now: DateTime<Utc>) -> Markup {
    page(
        "Not found",
        "",
        "/api/v1",
        now,
        html! { p { (what) } p { a href="/" { "Back to the overview" } } },
    )
}

/// Text that is already HTML-safe (an SVG built by [`super::svg`]).
pub fn raw(s: String) -> Markup {
    PreEscaped(s)
}
