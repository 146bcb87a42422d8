//! The trace reader on arbitrary bytes (CSV or JSON Lines, the first byte picks), through the
//! real path: a scenario that replays the file is validated (the trace is scanned) and, when
//! it is small, run (the trace is replayed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ratesim::scenario::{Overrides, parse};
use ratesim::workload::Process;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("ratesim-fuzz-trace-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let name = if pick % 2 == 0 { "t.csv" } else { "t.jsonl" };
    let path = dir.join(name);
    std::fs::write(&path, rest).expect("temporary directory is writable");
    let loop_it = if pick & 2 != 0 { ", loop = true" } else { "" };
    let text = format!(
        "name = \"t\"\nseed = 1\nduration = \"30s\"\ntier = 0\n[client]\npreset = \"none\"\n[[traffic]]\nmodel = \"grok-4.3\"\narrivals = {{ process = \"trace\", file = {:?}, on_bad_row = \"{}\"{loop_it} }}\n",
        path.display().to_string(),
        if pick & 4 != 0 { "skip" } else { "error" },
    );
    let Ok((s, _)) = parse(&text, "fuzz.toml", None, &Overrides::default()) else {
        return;
    };
    let small = s.streams.iter().all(|st| match &st.arrivals.process {
        Process::Trace(t) => t.rows <= 5_000,
        _ => false,
    });
    if small {
        let (rec, outcome) = ratesim::simulate(&s);
        let _ = ratesim::report::summarize(&s, &rec, &outcome);
    }
});
