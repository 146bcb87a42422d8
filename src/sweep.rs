//! Sweeps: expand axes × replications into independent runs, run them in parallel, aggregate.
//!
//! Every run is seeded from (base seed, grid point, replication), where the grid point is
//! identified by its axis values, not by its position: a run's result depends neither on the
//! other runs of the sweep nor on the thread count. Results are collected in input order.

use std::io::IsTerminal;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::{derive_seed, mix64};
use crate::error::{Error, InputError, Result};
use crate::report::summary::{METRICS, Summary};
use crate::scenario::{Document, Edit, Overrides, Scenario, SweepSpec, TierAxis};

/// Most grid points a sweep may have (each holds a validated scenario in memory).
pub const MAX_POINTS: usize = 100_000;
/// Most runs (grid points x replications) a sweep may have.
pub const MAX_RUNS: usize = 10_000_000;

/// One axis of a sweep: its name (a column of the CSV files) and the labels of its values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Axis {
    pub name: String,
    pub labels: Vec<String>,
}

/// One point of the grid: a validated scenario and its axis labels.
#[derive(Clone, Debug)]
pub struct GridPoint {
    pub labels: Vec<String>,
    pub scenario: Scenario,
    /// Stable identity of the point (from its axis names and labels), for seeding.
    pub key: u64,
}

/// The expanded sweep: axes, points (cartesian product, first axis outermost) and replications.
#[derive(Clone, Debug)]
pub struct Grid {
    pub name: String,
    pub base_seed: u64,
    pub axes: Vec<Axis>,
    pub points: Vec<GridPoint>,
    pub replications: u32,
}

/// One run of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunSpec {
    /// Position in the full sweep: `point * replications + replication`.
    pub index: usize,
    pub point: usize,
    pub replication: u32,
    pub seed: u64,
}

/// The result of one run: its place in the sweep and its metric values ([`METRICS`] order).
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    pub index: usize,
    pub point: usize,
    pub replication: u32,
    pub seed: u64,
    pub labels: Vec<String>,
    pub values: Vec<Option<f64>>,
}

/// FNV-1a over the bytes, then mixed: the identity of a grid point.
fn point_key(axes: &[Axis], labels: &[String]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for (a, l) in axes.iter().zip(labels) {
        for b in a.name.bytes().chain([b'=']).chain(l.bytes()).chain([0x1F]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01B3);
        }
    }
    mix64(h)
}

/// The seed of replication `k` of a grid point.
pub fn run_seed(base_seed: u64, point_key: u64, k: u32) -> u64 {
    derive_seed(base_seed, point_key, u64::from(k))
}

/// The label of a client axis value: its `name` if it has one, else the value itself.
pub fn client_label(c: &toml::Value) -> String {
    match c.get("name").and_then(toml::Value::as_str) {
        Some(name) => name.trim().to_string(),
        None => value_label(c),
    }
}

/// A client table without its `name` (a label, not a client setting).
fn without_name(c: &toml::Value) -> toml::Value {
    let mut c = c.clone();
    if let toml::Value::Table(t) = &mut c {
        t.remove("name");
    }
    c
}

/// A label for a TOML value: strings without quotes, tables as `{k = v, ...}` on one line.
pub fn value_label(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Table(t) => {
            let parts: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{k}={}", value_label(v)))
                .collect();
            format!("{{{}}}", parts.join(" "))
        }
        toml::Value::Array(a) => {
            format!(
                "[{}]",
                a.iter().map(value_label).collect::<Vec<_>>().join(" ")
            )
        }
        other => other.to_string(),
    }
}

/// Shortest decimal that reads back as the same `f64`.
pub fn fmt_f64(x: f64) -> String {
    format!("{x}")
}

/// What one axis value does to the document, and to the load.
#[derive(Clone)]
enum Step {
    Edit(Edit),
    Load(f64),
}

/// The path in the `[sweep]` section of value `j` of the axis named `axis`.
fn axis_value_path(spec: &SweepSpec, axis: &str, j: usize) -> Option<String> {
    match axis {
        "tier" => Some(format!("sweep.tiers[{j}]")),
        "client" => Some(format!("sweep.clients[{j}]")),
        "load" => Some(format!("sweep.load[{j}]")),
        path => spec
            .params
            .iter()
            .position(|p| p.path == path)
            .map(|i| format!("sweep.params[{i}].values[{j}]")),
    }
}

/// The path of the sweep value behind an error in field `field` at a grid point, if one is.
fn sweep_value_path(
    spec: &SweepSpec,
    field: Option<&str>,
    axes: &[Axis],
    choice: &[usize],
) -> Option<String> {
    let field = field?;
    let pick = |name: &str| axes.iter().position(|a| a.name == name).map(|i| choice[i]);
    if let Some(i) = spec
        .params
        .iter()
        .position(|p| field == p.path || field.starts_with(&format!("{}.", p.path)))
    {
        return Some(format!(
            "sweep.params[{i}].values[{}]",
            pick(&spec.params[i].path)?
        ));
    }
    if (field == "tier" || field.ends_with(".model")) && spec.tiers.is_some() {
        return Some(format!("sweep.tiers[{}]", pick("tier")?));
    }
    if (field == "client" || field.starts_with("client.")) && spec.clients.is_some() {
        return Some(format!("sweep.clients[{}]", pick("client")?));
    }
    None
}

/// Expands a sweep specification into a grid of validated scenarios.
pub fn expand(doc: &Document, spec: &SweepSpec, overrides: &Overrides) -> Result<Grid> {
    let (base, _) = doc.resolve(overrides, &[])?;
    let mut axes: Vec<(Axis, Vec<Step>)> = Vec::new();
    if let Some(t) = &spec.tiers {
        let tiers = match t {
            TierAxis::All => base.available_tiers.clone(),
            TierAxis::List(l) => l.clone(),
        };
        let steps = tiers
            .iter()
            .map(|t| Step::Edit(Edit::Tier(t.clone())))
            .collect();
        axes.push((
            Axis {
                name: "tier".into(),
                labels: tiers,
            },
            steps,
        ));
    }
    if let Some(clients) = &spec.clients {
        axes.push((
            Axis {
                name: "client".into(),
                labels: clients.iter().map(client_label).collect(),
            },
            clients
                .iter()
                .map(|c| Step::Edit(Edit::Client(without_name(c))))
                .collect(),
        ));
    }
    for p in &spec.params {
        axes.push((
            Axis {
                name: p.path.clone(),
                labels: p.values.iter().map(value_label).collect(),
            },
            p.values
                .iter()
                .map(|v| {
                    Step::Edit(Edit::Set {
                        path: p.path.clone(),
                        value: v.clone(),
                    })
                })
                .collect(),
        ));
    }
    if let Some(load) = &spec.load {
        axes.push((
            Axis {
                name: "load".into(),
                labels: load.iter().map(|l| fmt_f64(*l)).collect(),
            },
            load.iter().map(|l| Step::Load(*l)).collect(),
        ));
    }
    let (axes, steps): (Vec<Axis>, Vec<Vec<Step>>) = axes.into_iter().unzip();
    let too_big = || {
        InputError::new(
            &doc.file,
            format!(
                "the sweep has {} grid points x {} replication{}, more than allowed (at most {MAX_POINTS} grid points and {MAX_RUNS} runs); split it into several sweeps",
                steps.iter().map(|s| s.len().to_string()).collect::<Vec<_>>().join(" x "),
                spec.replications,
                if spec.replications == 1 { "" } else { "s" }
            ),
        )
        .field("sweep")
    };
    let total = steps
        .iter()
        .try_fold(1usize, |acc, s| acc.checked_mul(s.len()))
        .filter(|&n| n <= MAX_POINTS)
        .ok_or_else(too_big)?;
    if total
        .checked_mul(spec.replications as usize)
        .is_none_or(|n| n > MAX_RUNS)
    {
        return Err(too_big().into());
    }
    let mut points = Vec::with_capacity(total);
    // The load axis only scales rates: points that differ only in load share one validated
    // scenario (the last axis varies fastest, so they come one after another).
    let mut last: Option<(Vec<usize>, Scenario)> = None;
    for flat in 0..total {
        // Mixed-radix digits, last axis fastest.
        let mut rest = flat;
        let mut choice = vec![0; steps.len()];
        for (i, s) in steps.iter().enumerate().rev() {
            choice[i] = rest % s.len();
            rest /= s.len();
        }
        let labels: Vec<String> = axes
            .iter()
            .zip(&choice)
            .map(|(a, &c)| a.labels[c].clone())
            .collect();
        let edits: Vec<Edit> = steps
            .iter()
            .zip(&choice)
            .filter_map(|(s, &c)| match &s[c] {
                Step::Edit(e) => Some(e.clone()),
                Step::Load(_) => None,
            })
            .collect();
        let edit_choice: Vec<usize> = steps
            .iter()
            .zip(&choice)
            .map(|(s, &c)| if matches!(s[c], Step::Load(_)) { 0 } else { c })
            .collect();
        let reused = match &last {
            Some((key, s)) if *key == edit_choice => Some(s.clone()),
            _ => None,
        };
        let mut scenario = match reused {
            Some(s) => s,
            None => {
                let s = validated_point(doc, spec, overrides, &axes, &steps, &choice, &edits)?;
                last = Some((edit_choice, s.clone()));
                s
            }
        };
        for (s, &c) in steps.iter().zip(&choice) {
            if let Step::Load(f) = s[c] {
                scenario.scale_load(f).map_err(|m| {
                    InputError::new(
                        &doc.file,
                        format!("{m} (in sweep grid point {})", point_name(&axes, &choice)),
                    )
                    .field("sweep.load")
                })?;
            }
        }
        let key = point_key(&axes, &labels);
        points.push(GridPoint {
            labels,
            scenario,
            key,
        });
    }
    Ok(Grid {
        name: base.name.clone(),
        base_seed: base.seed,
        axes,
        points,
        replications: spec.replications,
    })
}

/// `tier=0, load=2`: a grid point in words.
fn point_name(axes: &[Axis], choice: &[usize]) -> String {
    axes.iter()
        .zip(choice)
        .map(|(a, &c)| format!("{}={}", a.name, a.labels[c]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scenario of one grid point, validated; an error points at the sweep value behind it.
fn validated_point(
    doc: &Document,
    spec: &SweepSpec,
    overrides: &Overrides,
    axes: &[Axis],
    steps: &[Vec<Step>],
    choice: &[usize],
    edits: &[Edit],
) -> Result<Scenario> {
    let where_ = || point_name(axes, choice);
    doc.variant(overrides, edits)
        .map_err(|mut e| {
            e.message = format!("{} (in sweep grid point {})", e.message, where_());
            // Point at the sweep value that caused it, not at the file's own value.
            let at = sweep_value_path(spec, e.field.as_deref(), axes, choice).or_else(|| {
                // No field (a type error in an edited table): find the one axis value that
                // fails on its own.
                axes.iter()
                    .enumerate()
                    .find_map(|(i, a)| match &steps[i][choice[i]] {
                        Step::Edit(edit)
                            if doc.variant(overrides, std::slice::from_ref(edit)).is_err() =>
                        {
                            axis_value_path(spec, &a.name, choice[i])
                        }
                        _ => None,
                    })
            });
            if let Some(at) = at {
                e.location = doc.locate(&at);
                e.field = Some(match e.field.take() {
                    Some(f) => format!("{at} (sets {f})"),
                    None => at,
                });
            }
            e
        })
        .map_err(Into::into)
}

impl Grid {
    /// Every run of the sweep, in order, each seeded from (base seed, grid point, replication).
    pub fn runs(&self) -> Vec<RunSpec> {
        self.runs_seeded(false)
    }

    /// Every run, with common random numbers if asked: replication k then has the same seed at
    /// every grid point, so each point sees the same workload (the same arrivals and sizes).
    pub fn runs_seeded(&self, common_random_numbers: bool) -> Vec<RunSpec> {
        let reps = self.replications as usize;
        (0..self.points.len() * reps)
            .map(|index| {
                let point = index / reps;
                let replication = (index % reps) as u32;
                RunSpec {
                    index,
                    point,
                    replication,
                    seed: run_seed(
                        self.base_seed,
                        if common_random_numbers {
                            0
                        } else {
                            self.points[point].key
                        },
                        replication,
                    ),
                }
            })
            .collect()
    }

    /// Each distinct provider, tables and assumptions of the grid's points, in point order.
    pub fn sources(&self) -> Vec<crate::report::summary::CatalogInfo> {
        let mut out: Vec<crate::report::summary::CatalogInfo> = Vec::new();
        for p in &self.points {
            let c = crate::report::summary::CatalogInfo::of(&p.scenario);
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    pub fn total_runs(&self) -> usize {
        self.points.len() * self.replications as usize
    }

    /// Runs one replication and returns its summary.
    pub fn summarize(&self, run: &RunSpec) -> Summary {
        let mut s = self.points[run.point].scenario.clone();
        s.seed = run.seed;
        let (rec, outcome) = crate::simulate(&s);
        crate::report::summarize(&s, &rec, &outcome)
    }

    pub fn run(&self, run: &RunSpec) -> RunRow {
        let summary = self.summarize(run);
        RunRow {
            index: run.index,
            point: run.point,
            replication: run.replication,
            seed: run.seed,
            labels: self.points[run.point].labels.clone(),
            values: summary.metric_values(),
        }
    }
}

/// Which part of a sweep to run: shard `k` (from 1) of `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub k: usize,
    pub n: usize,
}

impl Shard {
    pub fn parse(text: &str) -> std::result::Result<Shard, String> {
        if let Some(rest) = text.strip_prefix("auto") {
            let n = match rest.strip_prefix('/') {
                Some(n) => Some(
                    n.trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| {
                            format!("`{text}`: expected auto or auto/N with N >= 1, e.g. auto/20")
                        })?,
                ),
                None if rest.is_empty() => None,
                None => return Err(format!("`{text}`: expected auto or auto/N, e.g. auto/20")),
            };
            return Shard::from_env(n, &|k| std::env::var(k).ok());
        }
        let bad = || format!("`{text}`: expected K/N with 1 <= K <= N, e.g. 3/10, or auto");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }

    /// The shard of a job array, from its environment: Slurm (`SLURM_ARRAY_TASK_ID`, less
    /// `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`), a Kubernetes indexed job
    /// (`JOB_COMPLETION_INDEX`, from 0) or an AWS Batch array job (`AWS_BATCH_JOB_ARRAY_INDEX`,
    /// from 0). `n` is the number of shards where the platform does not give it.
    pub fn from_env(
        n: Option<usize>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> std::result::Result<Shard, String> {
        let num = |name: &str| -> std::result::Result<Option<usize>, String> {
            match env(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<usize>()
                    .map(Some)
                    .map_err(|_| format!("--shard auto: {name}={v:?} is not a whole number")),
            }
        };
        let (k, platform_n, platform) = if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            if id < min {
                return Err(format!(
                    "--shard auto: SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"
                ));
            }
            (id - min + 1, num("SLURM_ARRAY_TASK_COUNT")?, "Slurm")
        } else if let Some(i) = num("JOB_COMPLETION_INDEX")? {
            (i + 1, None, "Kubernetes")
        } else if let Some(i) = num("AWS_BATCH_JOB_ARRAY_INDEX")? {
            (i + 1, None, "AWS Batch")
        } else {
            return Err("--shard auto: no job array index in the environment (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX); give --shard K/N".into());
        };
        let n = match (n, platform_n) {
            (Some(n), Some(p)) if n != p => {
                return Err(format!(
                    "--shard auto/{n}: {platform} says the array has {p} tasks"
                ));
            }
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) => {
                return Err(format!(
                    "--shard auto: {platform} does not say how many tasks the array has; give --shard auto/N"
                ));
            }
        };
        if k > n {
            return Err(format!(
                "--shard auto: {platform} task {k} (from 1) is past the {n} shards"
            ));
        }
        Ok(Shard { k, n })
    }

    /// Runs are dealt round-robin, so every shard gets a similar mix of grid points.
    pub fn contains(&self, index: usize) -> bool {
        index % self.n == self.k - 1
    }
}

/// A progress bar on stderr when it is a terminal; nothing otherwise.
pub fn progress(len: usize, what: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:40}] {pos}/{len} runs, {elapsed} elapsed, ETA {eta}",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    Some(pb)
}

/// A rough cost of a run: requests it will generate (offered rate times the window).
pub fn expected_requests(s: &Scenario) -> f64 {
    s.streams
        .iter()
        .map(|st| {
            let open = st.mean_rate_per_sec() * s.duration.as_secs_f64();
            st.arrivals.requests.map_or(open, |n| (n as f64).min(open))
        })
        .sum()
}

/// Runs the given runs in parallel; results come back in the order of `runs`, whatever the
/// thread count. The largest runs start first and every run is its own task, so no thread is
/// left with a long run at the end while the others idle.
pub fn execute(grid: &Grid, runs: &[RunSpec]) -> Vec<RunRow> {
    execute_with(grid, runs, true, None)
}

/// [`execute`], with the progress bar only if `show_progress` (and stderr is a terminal).
pub fn execute_with(
    grid: &Grid,
    runs: &[RunSpec],
    show_progress: bool,
    journal: Option<&crate::journal::Journal>,
) -> Vec<RunRow> {
    let pb = if show_progress {
        progress(runs.len(), &format!("sweep {}", grid.name))
    } else {
        None
    };
    let mut order: Vec<usize> = (0..runs.len()).collect();
    let cost: Vec<f64> = runs
        .iter()
        .map(|r| expected_requests(&grid.points[r.point].scenario))
        .collect();
    // Stable sort: ties keep input order (scheduling only; results are re-sorted below).
    order.sort_by(|&a, &b| cost[b].total_cmp(&cost[a]));
    let mut rows: Vec<(usize, RunRow)> = order
        .par_iter()
        .with_max_len(1)
        .map(|&i| {
            let row = grid.run(&runs[i]);
            if let Some(j) = journal {
                j.record(&grid.axes, &row);
            }
            if let Some(pb) = &pb {
                pb.inc(1);
            }
            (i, row)
        })
        .collect();
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    rows.sort_by_key(|(i, _)| *i);
    rows.into_iter().map(|(_, r)| r).collect()
}

/// Runs per batch of [`execute_in_order`]: enough that two threads stay busy to its end,
/// few enough that the rows held at once stay small.
pub const BATCH_RUNS: usize = 4096;

/// Runs `runs` (in index order) in batches of `batch`, each in parallel as [`execute_with`]
/// does, and hands every row to `sink` in index order, together with the `done` rows (of
/// runs an earlier attempt finished, not in `runs`). Only one batch of rows is
/// held at a time, so memory does not grow with the number of runs.
pub fn execute_in_order(
    grid: &Grid,
    runs: &[RunSpec],
    done: Vec<RunRow>,
    batch: usize,
    journal: Option<&crate::journal::Journal>,
    sink: &mut dyn FnMut(RunRow) -> Result<()>,
) -> Result<()> {
    let pb = progress(runs.len(), &format!("sweep {}", grid.name));
    let mut done = done;
    done.sort_by_key(|r| r.index);
    let mut done = done.into_iter().peekable();
    for chunk in runs.chunks(batch.max(1)) {
        let last = chunk.last().map_or(0, |r| r.index);
        let rows = execute_with(grid, chunk, false, journal);
        if let Some(pb) = &pb {
            pb.inc(chunk.len() as u64);
        }
        // Merge with the earlier attempt's rows up to this batch's last index.
        let mut rows = rows.into_iter().peekable();
        loop {
            let take_done = match (done.peek(), rows.peek()) {
                (Some(d), Some(r)) => d.index < r.index,
                (Some(d), None) => d.index <= last,
                (None, _) => false,
            };
            if take_done {
                sink(done.next().expect("peeked"))?;
            } else if let Some(r) = rows.next() {
                sink(r)?;
            } else {
                break;
            }
        }
    }
    for d in done {
        sink(d)?;
    }
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    Ok(())
}

/// Two-sided 95 % quantile of Student's t with `df` degrees of freedom.
pub fn t95(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    // Beyond 30, interpolate linearly in 1/df between 30, 40, 60, 120 and infinity.
    const TAIL: [(f64, f64); 5] = [
        (30.0, 2.042),
        (40.0, 2.021),
        (60.0, 2.000),
        (120.0, 1.980),
        (f64::INFINITY, 1.960),
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        _ => {
            let x = 1.0 / df as f64;
            for w in TAIL.windows(2) {
                let (d0, t0) = w[0];
                let (d1, t1) = w[1];
                if (df as f64) <= d1 {
                    let (x0, x1) = (1.0 / d0, 1.0 / d1);
                    return t0 + (t1 - t0) * (x0 - x) / (x0 - x1);
                }
            }
            1.960
        }
    }
}

/// Mean, standard deviation and 95 % confidence interval of one metric at one grid point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    pub n: usize,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub ci95: Option<(f64, f64)>,
}

impl Stat {
    pub fn of(values: impl Iterator<Item = f64>) -> Stat {
        let xs: Vec<f64> = values.collect();
        let n = xs.len();
        if n == 0 {
            return Stat {
                n,
                mean: None,
                std: None,
                ci95: None,
            };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Stat {
                n,
                mean: Some(mean),
                std: None,
                ci95: None,
            };
        }
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let std = var.sqrt();
        let half = t95(n - 1) * std / (n as f64).sqrt();
        Stat {
            n,
            mean: Some(mean),
            std: Some(std),
            ci95: Some((mean - half, mean + half)),
        }
    }
}

/// One row of `aggregate.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct AggRow {
    pub point: usize,
    pub labels: Vec<String>,
    pub replications: usize,
    pub stats: Vec<Stat>,
}

impl AggRow {
    pub fn mean(&self, metric: &str) -> Option<f64> {
        crate::report::summary::metric_index(metric).and_then(|i| self.stats[i].mean)
    }
}

/// Aggregates rows (sorted by run index, so each point's rows are together) per grid point.
pub fn aggregate(rows: &[RunRow]) -> Vec<AggRow> {
    let mut out: Vec<AggRow> = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let point = rows[start].point;
        let end = start
            + rows[start..]
                .iter()
                .take_while(|r| r.point == point)
                .count();
        let group = &rows[start..end];
        let stats = (0..METRICS.len())
            .map(|m| {
                let mut st = Stat::of(group.iter().filter_map(|r| r.values[m]));
                // An empty p99 over all requests means "infinite" (over 1 % failed): a mean over
                // the other runs would look better than the point is. `n` still says how many
                // runs had a value.
                if METRICS[m] == "latency_p99_all_s" && st.n < group.len() {
                    st.mean = None;
                    st.std = None;
                    st.ci95 = None;
                }
                st
            })
            .collect();
        out.push(AggRow {
            point,
            labels: group[0].labels.clone(),
            replications: group.len(),
            stats,
        });
        start = end;
    }
    out
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(String::new, fmt_f64)
}

/// `runs.csv`: one row per run.
pub fn runs_csv(axes: &[Axis], rows: &[RunRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["run".to_string(), "point".to_string()];
    header.extend(axes.iter().map(|a| a.name.clone()));
    header.extend(["replication".to_string(), "seed".to_string()]);
    header.extend(METRICS.iter().map(|m| m.to_string()));
    w.write_record(&header).expect("writing to memory");
    for r in rows {
        let mut rec = vec![r.index.to_string(), r.point.to_string()];
        rec.extend(r.labels.iter().cloned());
        rec.extend([r.replication.to_string(), r.seed.to_string()]);
        rec.extend(r.values.iter().map(|v| opt(*v)));
        w.write_record(&rec).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// `aggregate.csv`: one row per grid point, with mean, sd and 95 % CI of every metric.
pub fn aggregate_csv(axes: &[Axis], agg: &[AggRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(axes.iter().map(|a| a.name.clone()));
    header.push("replications".to_string());
    for m in METRICS {
        for s in ["mean", "std", "ci95_low", "ci95_high"] {
            header.push(format!("{m}_{s}"));
        }
    }
    w.write_record(&header).expect("writing to memory");
    for a in agg {
        let mut rec = vec![a.point.to_string()];
        rec.extend(a.labels.iter().cloned());
        rec.push(a.replications.to_string());
        for s in &a.stats {
            rec.push(opt(s.mean));
            rec.push(opt(s.std));
            rec.push(opt(s.ci95.map(|c| c.0)));
            rec.push(opt(s.ci95.map(|c| c.1)));
        }
        w.write_record(&rec).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// What a sweep folder holds besides its CSV files: enough to check and merge shards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub ratesim_version: String,
    pub scenario_name: String,
    pub base_seed: u64,
    pub replications: u32,
    pub axes: Vec<Axis>,
    pub total_runs: usize,
    pub shard: Option<Shard>,
    /// The scenario file's text, so that merge can tell shards of different scenarios apart.
    pub source: String,
    /// A `--duration` given on the command line, if any.
    pub duration_override: Option<String>,
    /// The provider, its tables (source and date) and the assumptions: each distinct one of
    /// the grid's points, in point order (several when an axis changes them).
    pub sources: Vec<crate::report::summary::CatalogInfo>,
}

impl Manifest {
    /// What differs between two manifests, in words (for merge's message).
    pub fn differences(&self, other: &Manifest) -> Vec<String> {
        let mut d = Vec::new();
        let mut check = |same: bool, what: String| {
            if !same {
                d.push(what);
            }
        };
        check(
            self.source == other.source && self.scenario_name == other.scenario_name,
            "the scenario file's text".into(),
        );
        check(
            self.duration_override == other.duration_override,
            format!(
                "--duration ({} against {})",
                self.duration_override.as_deref().unwrap_or("none"),
                other.duration_override.as_deref().unwrap_or("none")
            ),
        );
        check(
            self.base_seed == other.base_seed,
            format!("the seed ({} against {})", self.base_seed, other.base_seed),
        );
        check(self.axes == other.axes, "the axes".into());
        check(
            self.replications == other.replications && self.total_runs == other.total_runs,
            format!(
                "the replications ({} against {})",
                self.replications, other.replications
            ),
        );
        check(
            self.ratesim_version == other.ratesim_version
                && self.schema_version == other.schema_version,
            format!(
                "the ratesim version ({} against {})",
                self.ratesim_version, other.ratesim_version
            ),
        );
        d
    }

    pub fn of(grid: &Grid, shard: Option<Shard>, source: &str, overrides: &Overrides) -> Manifest {
        Manifest {
            schema_version: crate::report::SCHEMA_VERSION,
            ratesim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_name: grid.name.clone(),
            base_seed: grid.base_seed,
            replications: grid.replications,
            axes: grid.axes.clone(),
            total_runs: grid.total_runs(),
            shard,
            source: source.to_string(),
            duration_override: overrides.duration.map(|d| d.to_string()),
            sources: grid.sources(),
        }
    }

    /// The axis labels of grid point `point` (last axis fastest).
    pub fn labels(&self, point: usize) -> Vec<String> {
        let mut rest = point;
        let mut out = vec![String::new(); self.axes.len()];
        for (i, a) in self.axes.iter().enumerate().rev() {
            let n = a.labels.len().max(1);
            out[i] = a.labels.get(rest % n).cloned().unwrap_or_default();
            rest /= n;
        }
        out
    }

    /// The header `runs.csv` must have.
    fn runs_header(&self) -> Vec<String> {
        let mut h = vec!["run".to_string(), "point".to_string()];
        h.extend(self.axes.iter().map(|a| a.name.clone()));
        h.extend(["replication".to_string(), "seed".to_string()]);
        h.extend(METRICS.iter().map(|m| m.to_string()));
        h
    }
}

/// Reads the `runs.csv` and `sweep.json` of a sweep folder (a shard or a whole sweep).
pub fn read_dir(dir: &Path) -> Result<(Manifest, Vec<RunRow>)> {
    let mpath = dir.join("sweep.json");
    let bad = |path: &Path, m: String| Error::Input(InputError::new(path.display().to_string(), m));
    let text =
        crate::input::read_text(&mpath, "sweep manifest", 4 * crate::input::MAX_INPUT_BYTES)?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| bad(&mpath, format!("not a ratesim sweep manifest: {e}")))?;
    // Everything read back is checked like user input.
    if let Some(s) = manifest.shard
        && !(1 <= s.k && s.k <= s.n)
    {
        return Err(bad(
            &mpath,
            format!(
                "shard {}/{} is not valid: a shard is K/N with 1 <= K <= N",
                s.k, s.n
            ),
        ));
    }
    let points = manifest
        .axes
        .iter()
        .try_fold(1usize, |acc, a| acc.checked_mul(a.labels.len()))
        .filter(|&p| (1..=MAX_POINTS).contains(&p))
        .ok_or_else(|| {
            bad(
                &mpath,
                format!("the manifest's axes give no grid points or more than {MAX_POINTS}"),
            )
        })?;
    if !(1..=crate::scenario::MAX_REPLICATIONS).contains(&manifest.replications)
        || points.checked_mul(manifest.replications as usize) != Some(manifest.total_runs)
    {
        return Err(bad(
            &mpath,
            "the manifest's axes and replications do not add up to its total_runs".into(),
        ));
    }
    let rpath = dir.join("runs.csv");
    if !std::fs::metadata(&rpath).is_ok_and(|m| m.is_file()) {
        return Err(bad(
            &rpath,
            "missing or not a regular file: a sweep folder holds runs.csv and sweep.json".into(),
        ));
    }
    let mut rdr =
        csv::Reader::from_path(&rpath).map_err(|e| bad(&rpath, format!("cannot read: {e}")))?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| bad(&rpath, format!("malformed CSV: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if header != manifest.runs_header() {
        return Err(bad(
            &rpath,
            "the header does not match sweep.json's axes and ratesim's metrics".into(),
        ));
    }
    let naxes = manifest.axes.len();
    let reps = manifest.replications as usize;
    let keys: Vec<u64> = (0..points)
        .map(|p| point_key(&manifest.axes, &manifest.labels(p)))
        .collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(&rpath, format!("malformed CSV: {e}")))?;
        let line = rec.position().map_or(0, |p| p.line());
        let bad_row = |m: &str| bad(&rpath, format!("line {line}: {m}"));
        if rec.len() != header.len() {
            return Err(bad_row(&format!(
                "{} fields, expected {}",
                rec.len(),
                header.len()
            )));
        }
        let num = |i: usize| {
            rec[i]
                .parse::<u64>()
                .map_err(|_| bad_row(&format!("bad number `{}`", &rec[i])))
        };
        let index = num(0)? as usize;
        if index >= manifest.total_runs {
            return Err(bad_row(&format!(
                "run {index} is outside the sweep's {} runs",
                manifest.total_runs
            )));
        }
        // Everything but the metrics follows from the run index and the manifest.
        let (point, replication) = (index / reps, (index % reps) as u32);
        let labels = manifest.labels(point);
        let seed = run_seed(manifest.base_seed, keys[point], replication);
        if num(1)? as usize != point
            || num(2 + naxes)? != u64::from(replication)
            || num(3 + naxes)? != seed
            || (0..naxes).any(|i| rec[2 + i] != labels[i])
        {
            return Err(bad_row(&format!(
                "run {index}: point, axis values, replication or seed differ from what sweep.json implies"
            )));
        }
        let values = (0..METRICS.len())
            .map(|m| {
                let f = &rec[4 + naxes + m];
                if f.is_empty() {
                    Ok(None)
                } else {
                    // Every metric is a count, rate, share, time or ratio: never negative.
                    f.parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite() && *x >= 0.0)
                        .map(Some)
                        .ok_or_else(|| {
                            bad_row(&format!(
                                "bad value `{f}` for {}: a finite number >= 0, or empty",
                                METRICS[m]
                            ))
                        })
                }
            })
            .collect::<Result<Vec<_>>>()?;
        rows.push(RunRow {
            index,
            point,
            replication,
            seed,
            labels,
            values,
        });
    }
    if let Some(shard) = manifest.shard
        && let Some(r) = rows.iter().find(|r| !shard.contains(r.index))
    {
        return Err(bad(
            &rpath,
            format!(
                "run {} does not belong to shard {}/{}",
                r.index, shard.k, shard.n
            ),
        ));
    }
    Ok((manifest, rows))
}

/// Combines shard folders into the rows a single run of the whole sweep would give.
pub fn merge(dirs: &[std::path::PathBuf]) -> Result<(Manifest, Vec<RunRow>)> {
    let mut manifest: Option<Manifest> = None;
    let mut rows = Vec::new();
    let mut origin: Vec<(usize, &std::path::PathBuf)> = Vec::new();
    for d in dirs {
        let (m, r) = read_dir(d)?;
        origin.extend(r.iter().map(|row| (row.index, d)));
        let whole = Manifest {
            shard: None,
            ..m.clone()
        };
        match &manifest {
            None => manifest = Some(whole),
            Some(first) if *first != whole => {
                return Err(Error::Usage(format!(
                    "{}: this folder belongs to another sweep than {}: {} differ{}",
                    d.display(),
                    dirs[0].display(),
                    first.differences(&whole).join(", "),
                    if first.differences(&whole).len() == 1 {
                        "s"
                    } else {
                        ""
                    }
                )));
            }
            Some(_) => {}
        }
        rows.extend(r);
    }
    let manifest =
        manifest.ok_or_else(|| Error::Usage("merge needs at least one folder".into()))?;
    rows.sort_by_key(|r| r.index);
    origin.sort_by_key(|(i, _)| *i);
    for w in origin.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(Error::Usage(format!(
                "run {} appears twice: in {} and in {}",
                w[0].0,
                w[0].1.display(),
                w[1].1.display()
            )));
        }
    }
    if rows.len() != manifest.total_runs || rows.iter().enumerate().any(|(i, r)| r.index != i) {
        let have: std::collections::BTreeSet<usize> = rows.iter().map(|r| r.index).collect();
        let missing: Vec<String> = (0..manifest.total_runs)
            .filter(|i| !have.contains(i))
            .take(10)
            .map(|i| i.to_string())
            .collect();
        return Err(Error::Usage(format!(
            "the folders hold {} of the sweep's {} runs; missing runs include {}: merge every shard",
            rows.len(),
            manifest.total_runs,
            missing.join(", ")
        )));
    }
    Ok((manifest, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_table_and_approach_the_normal() {
        assert_eq!(t95(1), 12.706);
        assert_eq!(t95(9), 2.262);
        assert!((t95(35) - 2.030).abs() < 0.005);
        assert!((t95(1000) - 1.962).abs() < 0.002);
        let mut last = f64::INFINITY;
        for df in 1..500 {
            assert!(t95(df) <= last, "t95 must not increase with df ({df})");
            last = t95(df);
        }
    }

    #[test]
    fn a_p99_over_all_requests_undefined_in_one_run_is_undefined_for_the_point() {
        let row = |index: usize, p99_all: Option<f64>| {
            let mut values = vec![Some(1.0); METRICS.len()];
            values[crate::report::summary::metric_index("latency_p99_all_s").unwrap()] = p99_all;
            RunRow {
                index,
                point: 0,
                replication: index as u32,
                seed: 0,
                labels: vec![],
                values,
            }
        };
        let i = crate::report::summary::metric_index("latency_p99_all_s").unwrap();
        let agg = aggregate(&[row(0, Some(10.0)), row(1, None)]);
        assert_eq!(agg[0].stats[i].n, 1);
        assert_eq!(
            agg[0].stats[i].mean, None,
            "not the mean of the one defined run"
        );
        let agg = aggregate(&[row(0, Some(10.0)), row(1, Some(12.0))]);
        assert_eq!(agg[0].stats[i].mean, Some(11.0));
    }

    #[test]
    fn stats_of_known_values() {
        let s = Stat::of([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0].into_iter());
        assert_eq!(s.mean, Some(5.0));
        assert!((s.std.unwrap() - 2.138).abs() < 0.001);
        let (lo, hi) = s.ci95.unwrap();
        assert!((hi - 5.0 - 2.365 * 2.138 / 8f64.sqrt()).abs() < 0.001);
        assert!((5.0 - lo - (hi - 5.0)).abs() < 1e-12);
        assert_eq!(Stat::of(std::iter::empty()).mean, None);
        assert_eq!(Stat::of([3.0].into_iter()).std, None);
    }

    #[test]
    fn shards_partition_the_runs() {
        let shards: Vec<Shard> = (1..=3).map(|k| Shard { k, n: 3 }).collect();
        for i in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.contains(i)).count(), 1);
        }
        assert_eq!(Shard::parse("2/5"), Ok(Shard { k: 2, n: 5 }));
        for bad in ["0/3", "4/3", "1", "a/b", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formatted_floats_read_back_exactly() {
        for x in [0.1, 1.0 / 3.0, 123456.789e-300, 2.5e17, 99.9] {
            assert_eq!(fmt_f64(x).parse::<f64>().unwrap(), x);
        }
    }
}
