//! Configuration text through load, plan and the plan's renderings: nothing panics, every
//! diagnostic points inside the text it is about, and a configuration that loads plans.
#![no_main]

use coffer_core::config::{load, ConfigInput};
use coffer_core::diag::SourceFile;
use coffer_core::objects::desired;
use coffer_core::plan::{compute, Mode, PlanInput};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap();
    let loaded = load(ConfigInput {
        files: vec![SourceFile::new("main.hcl", text)],
        now,
        ..Default::default()
    });
    for d in &loaded.diagnostics {
        for span in d.span.iter().chain(d.related.iter().map(|l| &l.span)) {
            let file = loaded.sources.get(span.file).expect("a diagnostic's file is loaded");
            assert!(
                span.range.start <= span.range.end && span.range.end <= file.text.len(),
                "span {:?} outside a text of {} bytes: {d:?}",
                span.range,
                file.text.len()
            );
            assert!(file.text.is_char_boundary(span.range.start));
            assert!(file.text.is_char_boundary(span.range.end));
            file.position(span.range.start);
        }
    }
    let Some(config) = loaded.config else {
        assert!(loaded.has_errors(), "no configuration and no error");
        return;
    };
    let objects = desired(&config);
    let plan = compute(&PlanInput {
        mode: Mode::Normal,
        desired: &objects,
        state: None,
        recovery_points: &BTreeMap::new(),
        points: &Default::default(),
        now,
        inventory: None,
    });
    if let Ok(plan) = plan {
        coffer_core::render::render_text(&plan, coffer_core::render::Style::PLAIN);
        coffer_core::render::render_markdown(&plan);
        let saved = plan.to_json_text();
        coffer_core::plan::Plan::parse(&saved).expect("a plan's own file parses");
    }
});
