//! State files and apply journals, as a crash or a damaged disk may leave them: the input is a
//! state text and a journal text separated by a NUL byte. Parsing and replay never panic; a
//! state that parses (and replays) writes back as text that parses to the same state.
#![no_main]

use coffer_core::state::model::replay;
use coffer_core::state::State;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (state, journal) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(state) = std::str::from_utf8(state) else {
        return;
    };
    let Ok(mut state) = State::parse(state) else {
        return;
    };
    round_trip(&state);
    if let Ok(journal) = std::str::from_utf8(journal) {
        if replay(&mut state, journal).is_ok() {
            round_trip(&state);
        }
    }
});

fn round_trip(state: &State) {
    let text = state.to_text();
    let again = State::parse(&text).unwrap_or_else(|e| panic!("a written state does not parse: {e}\n{text}"));
    assert_eq!(again.to_text(), text);
}
