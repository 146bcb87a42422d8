//! A sweep of 5 tiers x 9 loads x 10 replications of a 1 h scenario (`benches/sweep-1h.toml`,
//! 450 runs) on rayon pools of 1 and 2 threads: wall time per sweep, and so the speed-up.
//! Run with `cargo bench --bench sweep` (about 8 minutes on 2 cores).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ratesim::scenario::{Document, Overrides};
use ratesim::sweep::{Grid, execute_with, expand};

fn grid() -> Grid {
    let doc = Document::load(Path::new("benches/sweep-1h.toml")).expect("bench scenario is valid");
    let spec = doc.sweep.clone().expect("it has a [sweep] section");
    expand(&doc, &spec, &Overrides::default()).expect("every grid point validates")
}

fn bench_sweep(c: &mut Criterion) {
    let grid = grid();
    let runs = grid.runs();
    assert_eq!(runs.len(), 450);
    let mut group = c.benchmark_group("sweep-5x9x10-1h");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(60));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        group.bench_function(format!("{threads}-thread"), |b| {
            b.iter(|| {
                pool.install(|| execute_with(black_box(&grid), black_box(&runs), false, None))
                    .len()
            })
        });
    }
    group.finish();
}

// No HTML plots: criterion would draw them with plotters, whose text needs fonts that only
// ratesim's own charts register.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_sweep
}
criterion_main!(benches);
