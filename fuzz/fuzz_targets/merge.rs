//! Shard merge on arbitrary shard folders: the input is split at its first NUL byte into a
//! `sweep.json` and a `runs.csv`, written to two shard folders (the second a copy of the
//! first with its shard number bumped where it parses), and merged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (manifest, runs) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));
    let root = std::env::temp_dir().join(format!("ratesim-fuzz-merge-{}", std::process::id()));
    let a = root.join("a");
    let b = root.join("b");
    for d in [&a, &b] {
        std::fs::create_dir_all(d).expect("temporary directory is writable");
        std::fs::write(d.join("sweep.json"), manifest).expect("writable");
        std::fs::write(d.join("runs.csv"), runs).expect("writable");
    }
    let _ = ratesim::sweep::read_dir(&a);
    let _ = ratesim::sweep::merge(&[a.clone()]);
    let _ = ratesim::sweep::merge(&[a, b]);
});
