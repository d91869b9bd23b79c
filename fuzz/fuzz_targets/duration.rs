//! Durations (`35d`, `6mo`, `1y2w`): parsing never panics, and a duration that parses prints
//! as text that parses back to itself.
#![no_main]

use coffer_core::config::duration::Duration;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(d) = Duration::parse(text) else {
        return;
    };
    let printed = d.to_string();
    let again = Duration::parse(&printed).unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}: {e:?}"));
    assert_eq!(again, d, "{text:?} printed as {printed:?}");
});
