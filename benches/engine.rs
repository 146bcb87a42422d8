//! Engine throughput on the bundled `overload` scenario over 1 h and 24 h of simulated time.
//!
//! Criterion reports the time per run and, through `Throughput::Elements`, events per second.
//! A counting global allocator measures the peak heap of one 24 h run, printed before the
//! timings. Run with `cargo bench --bench engine`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ratesim::scenario::{Overrides, Scenario, load};
use ratesim::time::SimDuration;

/// Tracks live and peak heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

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
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let (rec, outcome) = ratesim::simulate(&s);
        let summary = ratesim::report::summarize(&s, &rec, &outcome);
        let peak = PEAK.load(Ordering::Relaxed) - before;
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

// No HTML plots: criterion would draw them with plotters, whose text needs fonts that only
// ratesim's own charts register.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_overload
}
criterion_main!(benches);
