//! coffer's cron engine against tests/reference/cron_cases.jsonl: cases produced by an
//! independent AWS cron implementation (pyawscron; see the generator script next to the
//! file), plus known disagreements where the AWS documentation wins.

use crate::support::repo;
use chrono::{DateTime, SecondsFormat, Utc};
use coffer::schedule::Schedule;
use serde_json::Value;

fn cases() -> (Value, Vec<Value>) {
    let text = std::fs::read_to_string(repo().join("tests/reference/cron_cases.jsonl"))
        .expect("reference file");
    let mut lines = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"));
    let header = lines.next().expect("header");
    (header, lines.collect())
}

fn next_five(expression: &str, start: &str) -> Vec<String> {
    let schedule =
        Schedule::parse(expression, None).unwrap_or_else(|e| panic!("{expression}: {}", e.message));
    let mut cursor: DateTime<Utc> = DateTime::parse_from_rfc3339(start)
        .unwrap()
        .with_timezone(&Utc);
    let mut out = Vec::new();
    for _ in 0..5 {
        let Some(t) = schedule.next_after(cursor) else {
            break;
        };
        out.push(t.to_rfc3339_opts(SecondsFormat::Secs, true));
        cursor = t;
    }
    out
}

#[test]
fn the_reference_file_is_what_the_issue_asks_for() {
    let (header, cases) = cases();
    assert_eq!(header["reference"], "pyawscron");
    assert!(header["reference_version"].as_str().is_some());
    assert_eq!(header["cases"].as_u64().unwrap() as usize, cases.len());
    let from_reference = cases.iter().filter(|c| c["source"] == "pyawscron").count();
    assert!(
        from_reference >= 2000,
        "only {from_reference} cases come from the reference implementation"
    );
    for c in cases.iter().filter(|c| c["source"] != "pyawscron") {
        assert!(
            c["known_disagreement"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{c}"
        );
    }
    // AWS's documentation examples are in the file
    for doc in [
        "cron(0/30 20-2 ? * MON-FRI *)",
        "cron(15 10 ? * 6L 2019-2022)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 6 ? * 7#1 *)",
    ] {
        assert!(
            cases.iter().any(|c| c["expression"] == doc),
            "{doc} missing"
        );
    }
}

#[test]
fn coffer_matches_every_reference_case_exactly() {
    let (_, cases) = cases();
    let mut failures = Vec::new();
    for c in &cases {
        let expression = c["expression"].as_str().unwrap();
        let start = c["start"].as_str().unwrap();
        let expected: Vec<String> = c["next"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let got = next_five(expression, start);
        if got != expected {
            failures.push(format!(
                "{expression} from {start} ({}): expected {expected:?}, got {got:?}",
                c["source"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
