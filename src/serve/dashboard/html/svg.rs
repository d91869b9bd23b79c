//! Charts drawn by coffer as inline SVG: a matrix row of day cells, stacked bars of jobs per
//! day, and a sparkline of a vault's size. Each shape has a `<title>`, each chart a label, and
//! the pages put the same figures in a table beside it.

use super::parts::bytes;
use crate::dashboard::matrix::DayCell;
use crate::dashboard::Status;
use maud::{html, Markup};
use std::collections::BTreeMap;

const CELL: u32 = 16;
const GAP: u32 = 2;

/// One matrix row: a square per day, coloured by its worst status, with its letter and a
/// title such as `2026-12-09: 1 failed`.
pub fn day_cells(label: &str, cells: &[DayCell]) -> Markup {
    let width = cells.len() as u32 * (CELL + GAP);
    let bad = cells
        .iter()
        .filter(|c| c.status.is_some_and(Status::is_bad))
        .count();
    html! {
        svg.cells width=(width) height=(CELL) viewBox={ "0 0 " (width) " " (CELL) }
            role="img" aria-label={ (label) ": " (cells.len()) " days, " (bad) " without a point" } {
            @for (n, c) in cells.iter().enumerate() {
                @let x = n as u32 * (CELL + GAP);
                @let key = c.status.map_or("none", Status::key);
                g {
                    title { (c.date) ": " (c.summary) }
                    rect class={ "cell s-" (key) } x=(x) y="0" width=(CELL) height=(CELL) rx="2"
                        data-date=(c.date.to_string()) data-status=(key) {}
                    @if let Some(s) = c.status {
                        @if !s.letter().is_empty() {
                            text.letter x=(x + CELL / 2) y="12" text-anchor="middle" { (s.letter()) }
                        }
                    }
                }
            }
        }
    }
}

/// One part of a bar, bottom up: its top, its height, and the status and count it stands for.
type Segment = (u32, u32, Status, u64);

/// Stacked bars, one per day, of counts by status.
pub fn stacked_bars(label: &str, days: &[(String, BTreeMap<Status, u64>)]) -> Markup {
    const BAR: u32 = 22;
    const HEIGHT: u32 = 120;
    let max = days
        .iter()
        .map(|(_, c)| c.values().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let width = days.len() as u32 * (BAR + 6) + 10;
    let bars: Vec<(u32, &str, Vec<Segment>)> = days
        .iter()
        .enumerate()
        .map(|(n, (date, counts))| {
            let x = 5 + n as u32 * (BAR + 6);
            let mut top = HEIGHT;
            let segments = counts
                .iter()
                .rev()
                .map(|(s, count)| {
                    let h = ((*count as f64 / max as f64) * f64::from(HEIGHT - 4))
                        .round()
                        .max(1.0) as u32;
                    top = top.saturating_sub(h);
                    (top, h, *s, *count)
                })
                .collect();
            (x, date.as_str(), segments)
        })
        .collect();
    html! {
        svg.bars width=(width) height=(HEIGHT + 18) viewBox={ "0 0 " (width) " " (HEIGHT + 18) }
            role="img" aria-label=(label) {
            line.axis x1="0" y1=(HEIGHT) x2=(width) y2=(HEIGHT) {}
            @for (n, (x, date, segments)) in bars.iter().enumerate() {
                @for (y, h, s, count) in segments {
                    g {
                        title { (date) ": " (count) " " (s.word()) }
                        rect class={ "s-" (s.key()) } x=(x) y=(y) width=(BAR) height=(h) {}
                    }
                }
                @if n % 2 == 0 {
                    text.label x=(x) y=(HEIGHT + 14) { (date.get(5..).unwrap_or(date)) }
                }
            }
        }
    }
}

/// A line of sizes over days, oldest first.
pub fn sparkline(label: &str, points: &[(String, u64)]) -> Markup {
    const W: f64 = 180.0;
    const H: f64 = 36.0;
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let min = points.iter().map(|p| p.1).min().unwrap_or(0) as f64;
    let span = (max - min).max(1.0);
    let step = if points.len() > 1 {
        W / (points.len() - 1) as f64
    } else {
        0.0
    };
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(n, (_, v))| {
            let x = n as f64 * step;
            let y = H - 2.0 - ((*v as f64 - min) / span) * (H - 4.0);
            format!("{}{x:.1},{y:.1}", if n == 0 { "M" } else { "L" })
        })
        .collect();
    let first = points.first();
    let last = points.last();
    html! {
        svg.spark width=(W) height=(H) viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(label) {
            title {
                @if let (Some(a), Some(b)) = (first, last) {
                    (a.0) ": " (bytes(a.1)) " → " (b.0) ": " (bytes(b.1))
                }
            }
            path.spark d=(path.join(" ")) {}
        }
    }
}
