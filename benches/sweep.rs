//! A sweep of 5 tiers x 9 loads x 10 replications of a 1 h scenario (`benches/sweep-1h.toml`,
//! 450 runs), and one of 10,000 runs of 20 s (`benches/sweep-short.toml`), on rayon pools of 1
//! and 2 threads: wall time per sweep, and so the speed-up; and the peak heap of the short
//! sweep at 1,000 and 10,000 runs. Run with `cargo bench --bench sweep` (about 10 minutes on
//! 2 cores).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ratesim::scenario::{Document, Overrides};
use ratesim::sweep::{Grid, RunSpec, execute_with, expand};

mod common;

fn grid_of(file: &str, replications: Option<u32>) -> Grid {
    let doc = Document::load(Path::new(file)).expect("bench scenario is valid");
    let mut spec = doc.sweep.clone().expect("it has a [sweep] section");
    if let Some(r) = replications {
        spec.replications = r;
    }
    expand(&doc, &spec, &Overrides::default()).expect("every grid point validates")
}

fn grid() -> Grid {
    grid_of("benches/sweep-1h.toml", None)
}

fn bench_short(c: &mut Criterion) {
    // Memory against the number of runs, rows streamed in index order as `ratesim sweep`
    // does (to runs.csv and, a point at a time, the aggregate): 10, 100 and 300 replications.
    for reps in [10, 100, 300] {
        let (n, peak) = common::peak_heap(|| {
            let g = grid_of("benches/sweep-short.toml", Some(reps));
            let runs = g.runs();
            let mut n = 0usize;
            let mut point: Vec<ratesim::sweep::RunRow> = Vec::new();
            let mut agg = Vec::new();
            ratesim::sweep::execute_in_order(
                &g,
                &runs,
                Vec::new(),
                ratesim::sweep::BATCH_RUNS,
                None,
                &mut |row| {
                    n += 1;
                    if point.first().is_some_and(|p| p.point != row.point) {
                        agg.extend(ratesim::sweep::aggregate(&point));
                        point.clear();
                    }
                    point.push(row);
                    Ok(())
                },
            )
            .expect("runs");
            n
        });
        eprintln!(
            "sweep-short with {reps} replications: {n} runs, peak heap {:.1} MB ({:.0} bytes per run)",
            peak as f64 / 1e6,
            peak as f64 / n as f64,
        );
    }
    let grid = grid_of("benches/sweep-short.toml", None);
    let runs = grid.runs();
    assert_eq!(runs.len(), 10_000);
    threads_bench(c, "sweep-10000-short", 20, &grid, &runs);
}

/// The sweep on pools of one and two threads, `seconds` of measurement each.
fn threads_bench(c: &mut Criterion, name: &str, seconds: u64, grid: &Grid, runs: &[RunSpec]) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(seconds));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        group.bench_function(format!("{threads}-thread"), |b| {
            b.iter(|| {
                pool.install(|| execute_with(black_box(grid), black_box(runs), false, None))
                    .len()
            })
        });
    }
    group.finish();
}

fn bench_sweep(c: &mut Criterion) {
    let grid = grid();
    let runs = grid.runs();
    assert_eq!(runs.len(), 450);
    threads_bench(c, "sweep-5x9x10-1h", 60, &grid, &runs);
}

// No HTML plots: criterion would draw them with plotters, whose text needs fonts that only
// ratesim's own charts register.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_short, bench_sweep
}
criterion_main!(benches);
