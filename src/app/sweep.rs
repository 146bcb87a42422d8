//! `ratesim sweep` and `ratesim merge`: grids, shard folders and their report.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;

pub(super) fn sweep(args: &SweepArgs, out: &mut dyn Write) -> Result<()> {
    use crate::sweep;
    let doc = scenario::Document::load(&args.file)?;
    let mut spec = doc.sweep.clone().ok_or_else(|| {
        Error::Input(InputError::new(
            &doc.file,
            "this scenario has no [sweep] section; add one with tiers, load, clients, params or replications",
        ))
    })?;
    if let Some(r) = args.replications {
        if !(1..=scenario::MAX_REPLICATIONS).contains(&r) {
            return Err(Error::Usage(format!(
                "--replications {r}: allowed from 1 to {}",
                scenario::MAX_REPLICATIONS
            )));
        }
        spec.replications = r;
    }
    let overrides = Overrides::from(args.overrides);
    let grid = sweep::expand(&doc, &spec, &overrides)?;
    let runs: Vec<sweep::RunSpec> = grid
        .runs()
        .into_iter()
        .filter(|r| args.shard.is_none_or(|s| s.contains(r.index)))
        .collect();
    let dir = args.out.clone().unwrap_or_else(|| {
        let base = PathBuf::from("output").join(&grid.name).join("sweep");
        match args.shard {
            Some(s) => base.join(format!("shard-{}-of-{}", s.k, s.n)),
            None => base,
        }
    });
    report::check_output_dir(&dir, "--out")?;
    let manifest = sweep::Manifest::of(&grid, args.shard, &doc.source, &overrides);
    // Every finished run goes to the journal, so that an interrupted sweep can resume.
    let (journal, done) = crate::journal::Journal::open(&dir, &manifest, args.resume)?;
    if args.resume {
        eprintln!(
            "resuming {}: {} of {} runs done already",
            dir.display(),
            done.len(),
            runs.len()
        );
    }
    report::set_interrupt_hint(format!(
        "the finished runs are kept in {}: run the same command with --resume to finish the rest",
        crate::journal::Journal::dir_of(&dir).display()
    ));
    let finished: std::collections::HashSet<usize> = done.iter().map(|r| r.index).collect();
    let todo: Vec<sweep::RunSpec> = runs
        .iter()
        .filter(|r| !finished.contains(&r.index))
        .copied()
        .collect();
    // Rows stream, in index order, to runs.csv's temporary file and, a grid point at a time,
    // into the aggregate: memory does not grow with the number of runs.
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let runs_path = dir.join("runs.csv");
    let (runs_file, file) = report::PendingFile::create(&runs_path)?;
    let mut w = std::io::BufWriter::new(file);
    w.write_all(&sweep::runs_csv(&manifest.axes, &[]))
        .map_err(|e| Error::io(&runs_path, e))?;
    let whole = manifest.shard.is_none();
    let mut agg: Vec<sweep::AggRow> = Vec::new();
    let mut point: Vec<sweep::RunRow> = Vec::new();
    let mut count = 0usize;
    sweep::execute_in_order(
        &grid,
        &todo,
        done,
        sweep::BATCH_RUNS,
        Some(&journal),
        &mut |row| {
            let csv = sweep::runs_csv(&manifest.axes, std::slice::from_ref(&row));
            let line = csv
                .iter()
                .position(|&b| b == b'\n')
                .map_or(&csv[..], |i| &csv[i + 1..]);
            w.write_all(line).map_err(|e| Error::io(&runs_path, e))?;
            count += 1;
            if whole {
                if point.first().is_some_and(|p| p.point != row.point) {
                    agg.extend(sweep::aggregate(&point));
                    point.clear();
                }
                point.push(row);
            }
            Ok(())
        },
    )?;
    if !point.is_empty() {
        agg.extend(sweep::aggregate(&point));
    }
    let file = w
        .into_inner()
        .map_err(|e| Error::io(&runs_path, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(&runs_path, e))?;
    drop(file);
    finish_sweep(
        &dir,
        &manifest,
        Runs::Written(runs_file),
        whole.then_some(&agg[..]),
        !args.no_charts,
    )?;
    journal.finish();
    let rows_len = count;
    emit(
        out,
        &format!(
            "sweep {}: {} grid point{} x {} replication{} = {} run{}{}; wrote {}\n",
            grid.name,
            grid.points.len(),
            plural(grid.points.len()),
            grid.replications,
            plural(grid.replications as usize),
            grid.total_runs(),
            plural(grid.total_runs()),
            match args.shard {
                Some(s) => format!(" (shard {}/{}: {} runs)", s.k, s.n, rows_len),
                None => String::new(),
            },
            dir.display()
        ),
    )
}

/// Writes a sweep folder: the manifest and runs, and (for a whole sweep) the aggregate.
pub(super) fn write_sweep(
    dir: &Path,
    manifest: &crate::sweep::Manifest,
    rows: &[crate::sweep::RunRow],
    charts: bool,
) -> Result<()> {
    use crate::sweep;
    let agg = manifest.shard.is_none().then(|| sweep::aggregate(rows));
    finish_sweep(
        dir,
        manifest,
        Runs::Bytes(sweep::runs_csv(&manifest.axes, rows)),
        agg.as_deref(),
        charts,
    )
}

/// `runs.csv`: in memory, or already streamed to its temporary file.
enum Runs {
    Bytes(Vec<u8>),
    Written(report::PendingFile),
}

/// Writes a sweep folder's files as one set: the manifest, `runs.csv`, and for a whole sweep
/// (`agg`) the aggregate, its charts and page.
fn finish_sweep(
    dir: &Path,
    manifest: &crate::sweep::Manifest,
    runs: Runs,
    agg: Option<&[crate::sweep::AggRow]>,
    charts: bool,
) -> Result<()> {
    use crate::sweep;
    let mut files: Vec<(String, Vec<u8>)> = vec![(
        "sweep.json".into(),
        [
            serde_json::to_vec_pretty(manifest).expect("manifest serialises"),
            b"\n".to_vec(),
        ]
        .concat(),
    )];
    let mut written = Vec::new();
    match runs {
        Runs::Bytes(b) => files.push(("runs.csv".into(), b)),
        Runs::Written(p) => written.push(("runs.csv".to_string(), p)),
    }
    if let Some(agg) = agg {
        files.push((
            "aggregate.csv".into(),
            sweep::aggregate_csv(&manifest.axes, agg),
        ));
        if charts {
            sweep_report(manifest, agg, &manifest.source, &mut files)?;
        }
    }
    report::write_set_with(dir, &files, written, report::SWEEP_FILES)
}

/// The sweep's charts (when it has a load axis) and its `index.html`.
pub(super) fn sweep_report(
    manifest: &crate::sweep::Manifest,
    agg: &[crate::sweep::AggRow],
    source: &str,
    files: &mut Vec<(String, Vec<u8>)>,
) -> Result<()> {
    let load_axis = manifest.axes.iter().position(|a| a.name == "load");
    let mut figures = Vec::new();
    if let Some(li) = load_axis {
        // One line per combination of the other axes, x = offered load (mean over replications).
        let mut groups: Vec<(String, Vec<&crate::sweep::AggRow>)> = Vec::new();
        for a in agg {
            let key: Vec<String> = manifest
                .axes
                .iter()
                .zip(&a.labels)
                .enumerate()
                .filter(|(i, _)| *i != li)
                .map(|(_, (ax, l))| format!("{}={l}", ax.name))
                .collect();
            let key = if key.is_empty() {
                "all".to_string()
            } else {
                key.join(", ")
            };
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(a),
                None => groups.push((key, vec![a])),
            }
        }
        // Means over replications, with the 95 % confidence band of aggregate.csv.
        let series = |metric: &str| -> Vec<report::charts::Series> {
            let i = crate::report::summary::metric_index(metric).expect("known metric");
            groups
                .iter()
                .map(|(k, rows)| {
                    let mut rows: Vec<(f64, &crate::sweep::AggRow)> = rows
                        .iter()
                        .filter_map(|r| Some((r.mean("offered_rps")?, *r)))
                        .collect();
                    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
                    report::charts::Series {
                        name: k.clone(),
                        points: rows
                            .iter()
                            .filter_map(|(x, r)| Some((*x, r.stats[i].mean?)))
                            .collect(),
                        band: rows
                            .iter()
                            .filter_map(|(x, r)| r.stats[i].ci95.map(|(lo, hi)| (*x, lo, hi)))
                            .collect(),
                        ..Default::default()
                    }
                })
                .collect()
        };
        let amp = report::figures::amplification(
            &manifest.scenario_name,
            "offered load (req/s)",
            series("attempts_per_request_mean"),
        );
        let good = report::figures::lines(
            &format!("{}: goodput against load", manifest.scenario_name),
            "mean over replications, band: 95% confidence interval; goodput counts the drain",
            "offered load (req/s)",
            "goodput (req/s)",
            series("goodput_rps"),
            true,
        );
        for (stem, chart, caption) in [
            (
                "goodput",
                good,
                "Goodput (mean over replications, with its 95% confidence band) against offered load, one line per combination of the other axes; the grey diagonal is goodput = offered load.",
            ),
            (
                "amplification",
                amp,
                "Mean attempts per request against offered load: retry amplification.",
            ),
        ] {
            let r = report::charts::render(&chart).map_err(|m| chart_error(stem, m))?;
            files.push((format!("{stem}.png"), r.png));
            files.push((format!("{stem}.svg"), r.svg.clone().into_bytes()));
            figures.push((r.svg, caption.to_string()));
        }
    }
    let mut headers: Vec<String> = manifest.axes.iter().map(|a| a.name.clone()).collect();
    headers.extend(
        [
            "runs",
            "goodput (req/s)",
            "success %",
            "429 %",
            "gave up %",
            "p99 (s)",
            "attempts/req",
        ]
        .map(String::from),
    );
    let table: Vec<Vec<String>> = agg
        .iter()
        .map(|a| {
            let mut r = a.labels.clone();
            r.push(a.replications.to_string());
            r.push(fmt_opt(a.mean("goodput_rps"), 2));
            r.push(fmt_opt(a.mean("success_pct"), 2));
            r.push(fmt_opt(a.mean("rate_limited_pct"), 2));
            r.push(fmt_opt(a.mean("gave_up_pct"), 2));
            r.push(fmt_opt(a.mean("latency_p99_s"), 3));
            r.push(fmt_opt(a.mean("attempts_per_request_mean"), 2));
            r
        })
        .collect();
    let lead = format!(
        "Sweep of {}: {} grid point{} x {} replication{} = {} run{} (base seed {}). Means over replications; aggregate.csv has the standard deviation and 95% confidence interval of every metric.",
        manifest.scenario_name,
        agg.len(),
        plural(agg.len()),
        manifest.replications,
        plural(manifest.replications as usize),
        manifest.total_runs,
        plural(manifest.total_runs),
        manifest.base_seed
    );
    let page = report::pages::simple_page(
        &format!("ratesim: sweep of {}", manifest.scenario_name),
        &lead,
        vec![("Grid points".into(), headers, table)],
        figures,
        &manifest.sources,
        source,
    );
    files.push(("index.html".into(), page.into_bytes()));
    Ok(())
}

pub(super) fn merge(
    dirs: &[PathBuf],
    dest: Option<&Path>,
    charts: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let (manifest, rows) = crate::sweep::merge(dirs)?;
    let dir = dest.map(Path::to_path_buf).unwrap_or_else(|| {
        PathBuf::from("output")
            .join(&manifest.scenario_name)
            .join("sweep")
    });
    report::check_output_dir(&dir, "--out")?;
    for d in dirs {
        if same_folder(d, &dir) {
            return Err(Error::Usage(format!(
                "--out {} is one of the shard folders being merged; choose another folder",
                dir.display()
            )));
        }
    }
    write_sweep(&dir, &manifest, &rows, charts)?;
    emit(
        out,
        &format!(
            "merged {} run{} from {} folder{} into {}\n",
            rows.len(),
            plural(rows.len()),
            dirs.len(),
            plural(dirs.len()),
            dir.display()
        ),
    )
}
