//! Trace replay against the same load generated as Poisson arrivals.
//!
//! A 10-million-row trace (Poisson gaps at 100 req/s, constant sizes, made here in a temporary
//! folder) is replayed against caps high enough that every request is admitted, and compared
//! with the same scenario generating its arrivals. Criterion reports events per second of each;
//! a counting global allocator measures the peak heap of one replay, printed before the timings
//! (the trace is streamed, so memory must not grow with its length). Run with
//! `cargo bench --bench trace`.

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ratesim::scenario::{Overrides, Scenario, parse};

mod common;

const ROWS: u64 = 10_000_000;
const RATE: f64 = 100.0;

fn scenario(arrivals: &str, dir: &std::path::Path) -> Scenario {
    let src = format!(
        r#"name = "bench"
seed = 1
tier = 0

[client]
preset = "none"

[[limits]]
model = "big"
rps = 100000

[[traffic]]
model = "big"
requests = {ROWS}
arrivals = {arrivals}
prompt_tokens = {{ dist = "constant", value = 1000 }}
completion_tokens = {{ dist = "constant", value = 200 }}
"#
    );
    parse(&src, "bench.toml", Some(dir), &Overrides::default())
        .expect("bench scenario is valid")
        .0
}

fn bench_trace(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("trace.csv");
    {
        // Poisson gaps from a fixed linear congruential generator, to the millisecond.
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        writeln!(f, "timestamp,prompt_tokens,completion_tokens").expect("write");
        let mut state: u64 = 12345;
        let mut t_ms: u64 = 0;
        for _ in 0..ROWS {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            t_ms += (-u.ln() / RATE * 1000.0).round() as u64;
            writeln!(f, "{}.{:03},1000,200", t_ms / 1000, t_ms % 1000).expect("write");
        }
    }
    let replay = scenario(r#"{ process = "trace", file = "trace.csv" }"#, dir.path());
    let poisson = scenario(
        &format!(r#"{{ process = "poisson", rate_per_sec = {RATE} }}"#),
        dir.path(),
    );
    let mut group = c.benchmark_group("trace");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    for (name, s) in [("replay-10M", &replay), ("poisson-10M", &poisson)] {
        let ((rec, outcome), peak) = common::peak_heap(|| ratesim::simulate(s));
        eprintln!(
            "{name}: {} events, {} requests, peak heap {:.2} MB during the run",
            outcome.events,
            outcome.requests,
            peak as f64 / 1e6
        );
        drop(rec);
        group.throughput(Throughput::Elements(outcome.events));
        group.bench_function(name, |b| {
            b.iter(|| ratesim::simulate(black_box(s)).1.events)
        });
    }
    group.finish();
}

// No HTML plots: criterion would draw them with plotters, whose text needs fonts that only
// ratesim's own charts register.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_trace
}
criterion_main!(benches);
