//! The limits, tiers and prices table readers on arbitrary text (the first byte picks one).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match pick % 3 {
        0 => {
            if let Ok((_, rows)) = ratesim::catalog::parse_limits("fuzz.csv", text) {
                // Every row the parser accepts has a request cap.
                assert!(rows.iter().all(|r| r.limits.request_cap().is_some()));
            }
        }
        1 => {
            let _ = ratesim::catalog::parse_tiers("fuzz.csv", text);
        }
        _ => {
            let _ = ratesim::prices::PriceCatalog::from_text("fuzz.csv", text);
        }
    }
});
