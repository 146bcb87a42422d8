//! Engine throughput on the bundled `overload` scenario over 1 h and 24 h of simulated time,
//! over 1 h with clients that keep shared state (paced, adaptive, header-driven), over 1 h
//! with each limiter algorithm, and under a backlog of over a million requests in flight
//! (`benches/backlog.toml`), with the memory each request in flight takes.
//!
//! Criterion reports the time per run and, through `Throughput::Elements`, events per second.
//! A counting global allocator measures the peak heap of one 24 h run, printed before the
//! timings. Run with `cargo bench --bench engine`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ratesim::scenario::{Overrides, Scenario, load};
use ratesim::time::SimDuration;

mod common;

fn overload(hours: u64) -> Scenario {
    let overrides = Overrides {
        duration: Some(SimDuration::from_secs(hours * 3600)),
        ..Overrides::default()
    };
    load(Path::new("scenarios/overload.toml"), &overrides)
        .expect("bundled scenario is valid")
        .0
}

fn bench_overload(c: &mut Criterion) {
    let mut group = c.benchmark_group("overload");
    for hours in [1, 24] {
        let s = overload(hours);
        let ((rec, outcome, summary), peak) = common::peak_heap(|| {
            let (rec, outcome) = ratesim::simulate(&s);
            let summary = ratesim::report::summarize(&s, &rec, &outcome);
            (rec, outcome, summary)
        });
        eprintln!(
            "overload {hours} h: {} events, {} requests, peak heap {:.2} MB during run and summary",
            outcome.events,
            outcome.requests,
            peak as f64 / 1e6
        );
        drop((rec, summary));
        group.throughput(Throughput::Elements(outcome.events));
        if hours == 24 {
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(40));
        } else {
            group.sample_size(20);
            group.measurement_time(Duration::from_secs(10));
        }
        group.bench_function(format!("{hours}h"), |b| {
            b.iter(|| ratesim::simulate(black_box(&s)).1.events)
        });
    }
    group.finish();
}

/// The overload hour with its client replaced by `policy` and `shared`.
fn with_client(preset: &str, edit: impl Fn(&mut ratesim::client::SharedSpec)) -> Scenario {
    let mut s = overload(1);
    let (policy, mut shared) = ratesim::client::presets::preset(preset).expect("a preset");
    edit(&mut shared);
    s.clients[0].policy = policy;
    s.clients[0].shared = shared;
    s
}

fn bench_clients(c: &mut Criterion) {
    use ratesim::catalog::Milli;
    use ratesim::client::shared::{Breaker, Pace};
    let mut group = c.benchmark_group("clients");
    let cases: Vec<(&str, Scenario)> = vec![
        ("stateless-openai", with_client("openai-python", |_| {})),
        (
            "paced",
            with_client("openai-python", |s| {
                s.pace = Some(Pace {
                    share: Milli(900),
                    requests: true,
                    tokens: true,
                    pause_after_429: SimDuration::from_secs(15),
                })
            }),
        ),
        ("aws-adaptive", with_client("aws-adaptive", |_| {})),
        (
            "header-pacing",
            with_client("anthropic-python", |s| s.header_pacing = true),
        ),
        (
            "concurrency-breaker",
            with_client("openai-python", |s| {
                s.max_concurrency = Some(64);
                s.breaker = Some(Breaker::default());
            }),
        ),
    ];
    for (name, s) in &cases {
        let ((_, outcome), peak) = common::peak_heap(|| ratesim::simulate(s));
        eprintln!(
            "clients {name}: {} events, {} requests, peak heap {:.2} MB",
            outcome.events,
            outcome.requests,
            peak as f64 / 1e6
        );
        group.throughput(Throughput::Elements(outcome.events));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(8));
        group.bench_function(*name, |b| {
            b.iter(|| ratesim::simulate(black_box(s)).1.events)
        });
    }
    group.finish();
}

fn bench_algorithms(c: &mut Criterion) {
    use ratesim::limiter::Algorithm;
    let mut group = c.benchmark_group("algorithms");
    for a in [
        Algorithm::TokenBucket,
        Algorithm::Gcra,
        Algorithm::DiscreteRefill {
            interval: SimDuration::from_secs(1),
        },
        Algorithm::FixedWindow,
        Algorithm::SlidingLog,
        Algorithm::SlidingCounter,
        Algorithm::LeakyQueue { nodelay: false },
        Algorithm::LeakyQueue { nodelay: true },
    ] {
        let mut s = overload(1);
        s.server.algorithm = a;
        s.server.tokens_algorithm = a;
        let (_, outcome) = ratesim::simulate(&s);
        group.throughput(Throughput::Elements(outcome.events));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(5));
        group.bench_function(a.name(), |b| {
            b.iter(|| ratesim::simulate(black_box(&s)).1.events)
        });
    }
    group.finish();
}

// No HTML plots: criterion would draw them with plotters, whose text needs fonts that only
// ratesim's own charts register.
fn bench_backlog(c: &mut Criterion) {
    let s = load(Path::new("benches/backlog.toml"), &Overrides::default())
        .expect("the backlog scenario is valid")
        .0;
    let ((rec, outcome), peak) = common::peak_heap(|| ratesim::simulate(&s));
    let most = rec.in_flight_series().into_iter().max().unwrap_or(0);
    eprintln!(
        "backlog: {} events, {} requests, at most {most} in flight, peak heap {:.1} MB: {:.0} bytes per request in flight (an event of {} bytes on {} of the slab and a queue entry of {} bytes each, the rest vectors' spare capacity)",
        outcome.events,
        outcome.requests,
        peak as f64 / 1e6,
        peak as f64 / most.max(1) as f64,
        ratesim::engine::EVENT_BYTES,
        ratesim::engine::queue::slab_bytes(ratesim::engine::EVENT_BYTES),
        ratesim::engine::queue::ENTRY_BYTES,
    );
    drop(rec);
    let mut group = c.benchmark_group("backlog");
    group.throughput(Throughput::Elements(outcome.events));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("1.2M in flight", |b| {
        b.iter(|| ratesim::simulate(black_box(&s)).1.events)
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_overload, bench_clients, bench_algorithms, bench_backlog
}
criterion_main!(benches);
