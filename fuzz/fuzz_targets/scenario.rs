//! The scenario parser and validator on arbitrary text: an error is fine, a panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ratesim::scenario::{Overrides, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse(text, "fuzz.toml", None, &Overrides::default());
});
