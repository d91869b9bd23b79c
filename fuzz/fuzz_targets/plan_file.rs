//! Saved plan files (`coffer plan --out`), possibly damaged or from another version: parsing
//! never panics, and a plan that parses renders and saves as a file that parses again.
#![no_main]

use coffer_core::plan::Plan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(plan) = Plan::parse(text) else {
        return;
    };
    coffer_core::render::render_text(&plan, coffer_core::render::Style::PLAIN);
    coffer_core::render::render_markdown(&plan);
    let saved = plan.to_json_text();
    let again = Plan::parse(&saved).unwrap_or_else(|e| panic!("a saved plan does not parse: {e}"));
    assert_eq!(again.to_json_text(), saved);
});
