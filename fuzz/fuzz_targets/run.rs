//! A whole short run of an arbitrary scenario: validated, simulated for at most 20 s of
//! simulated time when its traffic is small, summarised, and checked for conservation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ratesim::scenario::{Overrides, parse};
use ratesim::time::SimDuration;
use ratesim::workload::Process;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let overrides = Overrides {
        duration: Some(SimDuration::from_secs(20)),
        ..Overrides::default()
    };
    let Ok((s, _)) = parse(text, "fuzz.toml", None, &overrides) else {
        return;
    };
    // Small enough to run thousands a second: few requests, few workers, no trace files.
    let small = s.streams.iter().all(|st| {
        let p = &st.arrivals.process;
        let bounded = match p {
            Process::Trace(_) => false,
            Process::Workers(w) => w.count <= 50,
            _ => st.peak_rate_per_sec() * 20.0 <= 2_000.0,
        };
        bounded && st.arrivals.requests.is_none_or(|n| n <= 2_000)
    });
    if !small || s.stop_at.is_some_and(|t| t > SimDuration::from_secs(3_600)) {
        return;
    }
    let (rec, outcome) = ratesim::simulate(&s);
    let summary = ratesim::report::summarize(&s, &rec, &outcome);
    if s.warmup > SimDuration::ZERO {
        return;
    }
    let t = &summary.totals;
    assert_eq!(
        t.attempts,
        t.admitted + t.rate_limited + t.never_fits_attempts,
        "attempts = admitted + 429s + never-fits attempts"
    );
    assert_eq!(
        t.requests,
        t.succeeded + t.gave_up + t.never_fits + t.no_credit + t.in_flight_at_end,
        "every request is accounted for"
    );
});
