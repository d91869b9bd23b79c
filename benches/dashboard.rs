//! Dashboard benchmark (issue 19): 5,000 resources backed up nightly for 207 days, about a
//! million recovery points and as many jobs, with a framework's controls. Builds the read
//! model once (what the server does in the background every 15 s), then renders each page
//! from it, view and HTML, as a request does; target under 100 ms per page. Reports the
//! model's build time and each page's median of 20 renders.
//!
//! Run with `cargo bench --bench dashboard`.

use coffer::dashboard::fixture;
use coffer::dashboard::{audit, jobs, matrix, overview, resource, schedule, vaults, Status};
use coffer::serve::dashboard::html;
use std::time::{Duration, Instant};

const RESOURCES: usize = 5_000;
const DAYS: i64 = 207;
const RENDERS: usize = 20;
const TARGET: Duration = Duration::from_millis(100);

/// Renders one page and returns its size in bytes.
type Render<'a> = Box<dyn Fn() -> usize + 'a>;

fn median(mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::with_capacity(RENDERS);
    let mut size = 0;
    for _ in 0..RENDERS {
        let t = Instant::now();
        size = f();
        times.push(t.elapsed());
    }
    times.sort();
    (times[RENDERS / 2], size)
}

fn main() {
    let t = Instant::now();
    let estate = fixture::scaled(RESOURCES, DAYS);
    println!(
        "estate: {} resources, {} jobs, {} recovery points, {} controls (made in {:.1?})",
        estate.inventory.resources.len(),
        estate.jobs.len(),
        estate.points.len(),
        estate.controls.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let m = estate.model();
    println!(
        "read model built in {:.2?} (once per refresh, in the background)",
        t.elapsed()
    );
    let arn = m.resources[0].arn.clone();
    let points = estate.points_of(&arn);
    let job = estate.jobs.last().expect("a job").clone();
    let pages: Vec<(&str, Render<'_>)> = vec![
        (
            "/",
            Box::new(|| {
                html::overview::render(&overview::build(&m))
                    .into_string()
                    .len()
            }),
        ),
        (
            "/matrix?days=30",
            Box::new(|| {
                let q = matrix::Query {
                    days: 30,
                    page: 1,
                    ..Default::default()
                };
                html::matrix::render(&matrix::build(&m, q))
                    .into_string()
                    .len()
            }),
        ),
        (
            "/matrix?days=90&tag=Env=prod&page=40",
            Box::new(|| {
                let q = matrix::Query {
                    days: 90,
                    page: 40,
                    tag: Some("Env=prod".into()),
                    ..Default::default()
                };
                html::matrix::render(&matrix::build(&m, q))
                    .into_string()
                    .len()
            }),
        ),
        (
            "/jobs",
            Box::new(|| {
                html::jobs::render(&jobs::build(
                    &m,
                    jobs::Query {
                        page: 1,
                        ..Default::default()
                    },
                ))
                .into_string()
                .len()
            }),
        ),
        (
            "/jobs?status=failed&page=3",
            Box::new(|| {
                let q = jobs::Query {
                    status: Some(Status::Failed),
                    page: 3,
                    ..Default::default()
                };
                html::jobs::render(&jobs::build(&m, q)).into_string().len()
            }),
        ),
        (
            "/jobs/{id}",
            Box::new(|| {
                html::jobs::render_detail(&jobs::detail(&job), m.now)
                    .into_string()
                    .len()
            }),
        ),
        (
            "/resources/{arn}",
            Box::new(|| {
                let v = resource::build(&m, &arn, &points).expect("the resource");
                html::resource::render(&v).into_string().len()
            }),
        ),
        (
            "/vaults",
            Box::new(|| html::vaults::render(&vaults::build(&m)).into_string().len()),
        ),
        (
            "/schedule",
            Box::new(|| {
                html::schedule::render(&schedule::build(&m))
                    .into_string()
                    .len()
            }),
        ),
        (
            "/audit",
            Box::new(|| html::audit::render(&audit::build(&m)).into_string().len()),
        ),
    ];
    let mut worst = Duration::ZERO;
    for (path, render) in &pages {
        let (t, size) = median(render);
        worst = worst.max(t);
        println!(
            "{path:<40} {:>8.2} ms  {:>8} bytes",
            t.as_secs_f64() * 1000.0,
            size
        );
    }
    println!(
        "slowest page {:.2} ms: {}",
        worst.as_secs_f64() * 1000.0,
        if worst < TARGET {
            "within the 100 ms target"
        } else {
            "OVER the 100 ms target"
        }
    );
}
