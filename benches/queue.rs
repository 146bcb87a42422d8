//! The event queue (a timing wheel) against a binary heap, at 10^2 to 10^7 pending events.
//!
//! The hold model: the queue holds N events; each operation pops the earliest and schedules
//! one a random delay later (exponential, mean 10 s, in ns), so N stays constant, as in a
//! simulation in steady state. Criterion reports the time per hold (pop + schedule); the
//! peak heap per pending event is printed before the timings. Run with
//! `cargo bench --bench queue`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use ratesim::engine::queue::{EventQueue, HeapQueue};
use ratesim::time::SimTime;

mod common;

/// A 64-byte event, the size of the engine's.
#[derive(Clone, Copy)]
struct Ev([u64; 8]);

const MEAN_NS: f64 = 10e9;

fn delay(rng: &mut rand::rngs::Xoshiro256PlusPlus) -> u64 {
    let u: f64 = rng.random();
    (-(1.0 - u).ln() * MEAN_NS) as u64
}

macro_rules! hold_bench {
    ($group:expr, $name:expr, $q:ty, $n:expr) => {{
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
        let (mut q, peak) = common::peak_heap(|| {
            let mut q = <$q>::default();
            for i in 0..$n {
                q.schedule(SimTime(delay(&mut rng)), Ev([i as u64; 8]));
            }
            q
        });
        if $name == "wheel" {
            eprintln!(
                "{} pending: {:.1} bytes per pending event (a 64-byte event included)",
                $n,
                peak as f64 / $n as f64
            );
        }
        $group.bench_function(format!("{} {}", $name, $n), |b| {
            b.iter(|| {
                let (t, e) = q.pop().expect("never empty");
                let tag = e.0[0];
                q.schedule(SimTime(t.0 + delay(&mut rng)), e);
                black_box((t, tag))
            })
        });
    }};
}

fn bench_hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("hold");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    for n in [100usize, 1_000, 10_000, 100_000, 1_000_000, 10_000_000] {
        hold_bench!(group, "wheel", EventQueue<Ev>, n);
        hold_bench!(group, "binary-heap", HeapQueue<Ev>, n);
    }
    group.finish();
}

// No HTML plots: criterion would draw them with plotters, whose text needs fonts that only
// ratesim's own charts register.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_hold
}
criterion_main!(benches);
