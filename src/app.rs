//! The commands behind the CLI: load, run, report. `main` only wires this up.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, TierSel};
use crate::cli::{Cli, Command, CompareArgs, LimitsArgs, PlanArgs, RunArgs, SweepArgs};
use crate::client::PRESETS;
use crate::error::{Error, InputError, Result};
use crate::metrics::Recorder;
use crate::report::{self, attempt_log::AttemptLog};
use crate::scenario::{self, Overrides};

/// Writes to stdout, treating a closed pipe (`ratesim ... | head`) as success.
fn emit(out: &mut dyn Write, text: &str) -> Result<()> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io(Path::new("<stdout>"), e))
        }
        _ => Ok(()),
    }
}

pub fn execute(cli: Cli, out: &mut dyn Write) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(&args, out),
        Command::Validate { files } => validate(&files, out),
        Command::Limits(args) => limits(&args, out),
        Command::Sweep(args) => sweep(&args, out),
        Command::CompareTiers(args) => compare_tiers(&args, out),
        Command::Plan(args) => plan(&args, out),
        Command::Merge { dirs, out: dest } => merge(&dirs, dest.as_deref(), out),
        Command::Presets => {
            let mut s = String::from(
                "client presets (use as [client] preset = \"NAME\"; any field can be overridden):\n",
            );
            for (name, what) in PRESETS {
                s.push_str(&format!("  {name:<15} {what}\n"));
            }
            emit(out, &s)
        }
    }
}

fn run(args: &RunArgs, out: &mut dyn Write) -> Result<()> {
    let overrides = Overrides::from(args.overrides);
    let (scenario, warnings) = scenario::load(&args.file, &overrides)?;
    for w in &warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    let mut rec = Recorder::new(scenario.streams.len());
    let (outcome, pending_log) = match &args.attempt_log {
        Some(path) => {
            let models = scenario
                .streams
                .iter()
                .map(|s| s.model_name.clone())
                .collect();
            let mut log = AttemptLog::create(path, models, &mut rec)?;
            let outcome = crate::engine::run(&scenario, &mut log);
            (outcome, Some(log.finish()?))
        }
        None => (crate::engine::run(&scenario, &mut rec), None),
    };
    let summary = report::summarize(&scenario, &rec, &outcome);
    let json = serde_json::to_vec_pretty(&summary).expect("summary serialises");
    if !args.no_files {
        let dir = args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("output").join(&scenario.name));
        let mut files: Vec<(String, Vec<u8>)> = vec![
            ("summary.json".into(), [json.as_slice(), b"\n"].concat()),
            ("timeseries.csv".into(), report::timeseries_csv(&rec)),
        ];
        if !args.no_charts {
            let charts = [
                (
                    "timeseries",
                    report::figures::timeseries(&scenario, &rec),
                    "Attempts offered, admitted, 429s and completions per second, with each model's RPS cap; below, requests in flight.",
                ),
                (
                    "latency-cdf",
                    report::figures::latency_cdf(&scenario, &rec),
                    "Cumulative distribution of end-to-end latency of succeeded requests (arrival to completion, including backoff), per stream.",
                ),
            ];
            let mut figures = Vec::new();
            for (stem, chart, caption) in charts {
                let r = report::charts::render(&chart).map_err(|m| chart_error(stem, m))?;
                files.push((format!("{stem}.png"), r.png));
                files.push((format!("{stem}.svg"), r.svg.clone().into_bytes()));
                figures.push((r.svg, caption.to_string()));
            }
            let source = std::fs::read_to_string(&args.file).unwrap_or_default();
            files.push((
                "index.html".into(),
                report::pages::run_page(&summary, &source, figures).into_bytes(),
            ));
        }
        report::write_set(&dir, &files, report::RUN_FILES)?;
        eprintln!(
            "wrote {}: {}",
            dir.display(),
            files
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    // The attempt log goes into place only once everything else is written.
    if let Some(log) = pending_log {
        log.commit()?;
    }
    if args.json {
        emit(out, &format!("{}\n", String::from_utf8_lossy(&json)))
    } else {
        emit(out, &report::table::render(&summary))
    }
}

fn validate(files: &[PathBuf], out: &mut dyn Write) -> Result<()> {
    let mut errors: Vec<InputError> = Vec::new();
    let mut report = String::new();
    for f in files {
        match scenario::load(f, &Overrides::default()) {
            Ok((s, warnings)) => {
                report.push_str(&format!(
                    "ok: {} (scenario {}, {} stream{}, tier {})\n",
                    f.display(),
                    s.name,
                    s.streams.len(),
                    if s.streams.len() == 1 { "" } else { "s" },
                    s.tier
                ));
                for w in warnings {
                    report.push_str(&format!("warning: {}: {w}\n", f.display()));
                }
            }
            Err(e) => errors.push(e),
        }
    }
    emit(out, &report)?;
    match errors.len() {
        0 => Ok(()),
        1 => Err(Error::Input(errors.remove(0))),
        _ => Err(Error::Inputs(errors)),
    }
}

fn limits(args: &LimitsArgs, out: &mut dyn Write) -> Result<()> {
    let mut catalog = Catalog::embedded();
    if let Some(f) = &args.limits_file {
        catalog = catalog.with_limits_file(f)?;
    }
    if let Some(m) = &args.model
        && !catalog.models().contains(&m.as_str())
    {
        return Err(Error::Usage(format!(
            "--model: unknown model {m:?}; known models: {}",
            catalog.models().join(", ")
        )));
    }
    if let Some(t) = &args.tier
        && !catalog.is_known_tier(t)
    {
        return Err(Error::Usage(format!(
            "--tier: unknown tier {t:?}; tiers: {}",
            catalog.tier_names().join(", ")
        )));
    }
    let mut s = format!(
        "limits: {} ({})\n\n{:<30} {:<9} {:<6} {:>8} {:>12}\n",
        catalog.limits_provenance.source,
        catalog.limits_provenance.date,
        "model",
        "kind",
        "tier",
        "rps",
        "tpm"
    );
    for r in &catalog.limits {
        let tier_ok = match (&args.tier, &r.tier) {
            (None, _) | (_, TierSel::All) => true,
            (Some(t), TierSel::Named(n)) => t == n,
        };
        if args.model.as_ref().is_some_and(|m| *m != r.model) || !tier_ok {
            continue;
        }
        let tpm = r.tpm.map_or("-".to_string(), |t| t.to_string());
        s.push_str(&format!(
            "{:<30} {:<9} {:<6} {:>8} {:>12}\n",
            r.model, r.kind, r.tier, r.rps, tpm
        ));
    }
    s.push_str(&format!(
        "\ntiers: {} ({})\n{:<12} {:>22}\n",
        catalog.tiers_provenance.source,
        catalog.tiers_provenance.date,
        "tier",
        "cumulative spend (USD)"
    ));
    for t in &catalog.tiers {
        if args.tier.as_ref().is_some_and(|x| *x != t.tier) {
            continue;
        }
        let spend = t
            .spend_usd
            .map_or("by request".to_string(), |v| v.to_string());
        s.push_str(&format!("{:<12} {:>22}\n", t.tier, spend));
    }
    emit(out, &s)
}

fn sweep(args: &SweepArgs, out: &mut dyn Write) -> Result<()> {
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
    let rows = sweep::execute(&grid, &runs);
    let dir = args.out.clone().unwrap_or_else(|| {
        let base = PathBuf::from("output").join(&grid.name).join("sweep");
        match args.shard {
            Some(s) => base.join(format!("shard-{}-of-{}", s.k, s.n)),
            None => base,
        }
    });
    let manifest = sweep::Manifest::of(&grid, args.shard, &doc.source, &overrides);
    write_sweep(&dir, &manifest, &rows, !args.no_charts)?;
    emit(
        out,
        &format!(
            "sweep {}: {} grid points x {} replications = {} runs{}; wrote {}\n",
            grid.name,
            grid.points.len(),
            grid.replications,
            grid.total_runs(),
            match args.shard {
                Some(s) => format!(" (shard {}/{}: {} runs)", s.k, s.n, rows.len()),
                None => String::new(),
            },
            dir.display()
        ),
    )
}

/// Writes a sweep folder: the manifest and runs, and (for a whole sweep) the aggregate.
fn write_sweep(
    dir: &Path,
    manifest: &crate::sweep::Manifest,
    rows: &[crate::sweep::RunRow],
    charts: bool,
) -> Result<()> {
    use crate::sweep;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "sweep.json".into(),
            [
                serde_json::to_vec_pretty(manifest).expect("manifest serialises"),
                b"\n".to_vec(),
            ]
            .concat(),
        ),
        ("runs.csv".into(), sweep::runs_csv(&manifest.axes, rows)),
    ];
    if manifest.shard.is_none() {
        let agg = sweep::aggregate(rows);
        files.push((
            "aggregate.csv".into(),
            sweep::aggregate_csv(&manifest.axes, &agg),
        ));
        if charts {
            sweep_report(manifest, &agg, &manifest.source, &mut files)?;
        }
    }
    report::write_set(dir, &files, report::SWEEP_FILES)
}

/// The sweep's charts (when it has a load axis) and its `index.html`.
fn sweep_report(
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
        let series = |metric: &str| -> Vec<(String, Vec<(f64, f64)>)> {
            groups
                .iter()
                .map(|(k, rows)| {
                    let mut pts: Vec<(f64, f64)> = rows
                        .iter()
                        .filter_map(|r| Some((r.mean("offered_rps")?, r.mean(metric)?)))
                        .collect();
                    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                    (k.clone(), pts)
                })
                .collect()
        };
        let amp = report::figures::amplification(
            &manifest.scenario_name,
            "offered load (requests/s)",
            &series("attempts_per_request_mean"),
        );
        let good = report::figures::lines(
            &format!("{}: goodput against load", manifest.scenario_name),
            "",
            "offered load (requests/s)",
            "succeeded requests per second (mean)",
            &series("goodput_rps"),
        );
        for (stem, chart, caption) in [
            (
                "goodput",
                good,
                "Goodput (mean over replications) against offered load, one line per combination of the other axes.",
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
        "Sweep of {}: {} grid points x {} replications = {} runs (base seed {}). Means over replications; aggregate.csv has the standard deviation and 95% confidence interval of every metric.",
        manifest.scenario_name,
        agg.len(),
        manifest.replications,
        manifest.total_runs,
        manifest.base_seed
    );
    let page = report::pages::simple_page(
        &format!("ratesim: sweep of {}", manifest.scenario_name),
        &lead,
        vec![("Grid points".into(), headers, table)],
        figures,
        source,
    );
    files.push(("index.html".into(), page.into_bytes()));
    Ok(())
}

fn merge(dirs: &[PathBuf], dest: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    let (manifest, rows) = crate::sweep::merge(dirs)?;
    let dir = dest.map(Path::to_path_buf).unwrap_or_else(|| {
        PathBuf::from("output")
            .join(&manifest.scenario_name)
            .join("sweep")
    });
    for d in dirs {
        if same_folder(d, &dir) {
            return Err(Error::Usage(format!(
                "--out {} is one of the shard folders being merged; choose another folder",
                dir.display()
            )));
        }
    }
    write_sweep(&dir, &manifest, &rows, true)?;
    emit(
        out,
        &format!(
            "merged {} runs from {} folders into {}\n",
            rows.len(),
            dirs.len(),
            dir.display()
        ),
    )
}

fn chart_error(stem: &str, message: String) -> Error {
    Error::io(
        Path::new(&format!("{stem}.png")),
        std::io::Error::other(format!("cannot draw the chart: {message}")),
    )
}

fn replications(arg: Option<u32>, doc: &scenario::Document) -> Result<u32> {
    let r = arg
        .or(doc.sweep.as_ref().map(|s| s.replications))
        .unwrap_or(5);
    if !(1..=scenario::MAX_REPLICATIONS).contains(&r) {
        return Err(Error::Usage(format!(
            "--replications {r}: allowed from 1 to {}",
            scenario::MAX_REPLICATIONS
        )));
    }
    Ok(r)
}

/// The tiers to use: those asked for (each checked), or every tier the scenario can run on.
fn pick_tiers(asked: &Option<Vec<String>>, base: &scenario::Scenario) -> Result<Vec<String>> {
    match asked {
        None => Ok(base.available_tiers.clone()),
        Some(list) => {
            let list: Vec<String> = list.iter().map(|t| t.trim().to_string()).collect();
            for (i, t) in list.iter().enumerate() {
                if list[..i].contains(t) {
                    return Err(Error::Usage(format!("--tiers: tier {t:?} is given twice")));
                }
                if !base.available_tiers.contains(t) {
                    return Err(Error::Usage(format!(
                        "--tiers: tier {t:?} has no limits for this scenario's models; available: {}",
                        base.available_tiers.join(", ")
                    )));
                }
            }
            Ok(list)
        }
    }
}

fn mean_ci(a: &crate::sweep::AggRow, metric: &str) -> (f64, Option<(f64, f64)>) {
    let i = crate::report::summary::metric_index(metric).expect("known metric");
    (a.stats[i].mean.unwrap_or(0.0), a.stats[i].ci95)
}

fn fmt_opt(x: Option<f64>, digits: usize) -> String {
    x.map_or("-".into(), |v| format!("{v:.digits$}"))
}

fn compare_tiers(args: &CompareArgs, out: &mut dyn Write) -> Result<()> {
    use crate::sweep;
    let doc = scenario::Document::load(&args.file)?;
    let overrides = Overrides::from(args.overrides);
    let (base, warnings) = doc.resolve(&overrides, &[])?;
    for w in &warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    let tiers = pick_tiers(&args.tiers, &base)?;
    let spec = scenario::SweepSpec {
        replications: replications(args.replications, &doc)?,
        tiers: Some(scenario::TierAxis::List(tiers.clone())),
        load: None,
        clients: None,
        params: Vec::new(),
    };
    let grid = sweep::expand(&doc, &spec, &overrides)?;
    // The same workload on every tier: replication k has the same seed on each tier.
    let rows = sweep::execute(&grid, &grid.runs_seeded(true));
    let agg = sweep::aggregate(&rows);
    let spend: Vec<Option<f64>> = grid
        .points
        .iter()
        .map(|p| p.scenario.tier_spend_usd)
        .collect();
    let headers: Vec<String> = [
        "tier",
        "spend (USD)",
        "goodput (req/s)",
        "goodput 95% CI",
        "success %",
        "429 %",
        "gave up %",
        "p50 (s)",
        "p99 (s)",
        "attempts/req",
        "RPS used %",
        "TPM used %",
    ]
    .map(String::from)
    .to_vec();
    let table: Vec<Vec<String>> = agg
        .iter()
        .zip(&spend)
        .map(|(a, sp)| {
            let (g, ci) = mean_ci(a, "goodput_rps");
            vec![
                a.labels[0].clone(),
                sp.map_or("by request".into(), |v| format!("{v}")),
                format!("{g:.2}"),
                ci.map_or("-".into(), |(lo, hi)| format!("{lo:.2} to {hi:.2}")),
                fmt_opt(a.mean("success_pct"), 2),
                fmt_opt(a.mean("rate_limited_pct"), 2),
                fmt_opt(a.mean("gave_up_pct"), 2),
                fmt_opt(a.mean("latency_p50_s"), 3),
                fmt_opt(a.mean("latency_p99_s"), 3),
                fmt_opt(a.mean("attempts_per_request_mean"), 2),
                fmt_opt(a.mean("rps_utilisation").map(|u| 100.0 * u), 1),
                fmt_opt(a.mean("tpm_utilisation").map(|u| 100.0 * u), 1),
            ]
        })
        .collect();
    let text = text_table(&headers, &table);
    let dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("output")
            .join(&grid.name)
            .join("compare-tiers")
    });
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&headers).expect("writing to memory");
    for r in &table {
        w.write_record(r).expect("writing to memory");
    }
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "tiers.csv".into(),
            w.into_inner().expect("writing to memory"),
        ),
        ("runs.csv".into(), sweep::runs_csv(&grid.axes, &rows)),
        (
            "aggregate.csv".into(),
            sweep::aggregate_csv(&grid.axes, &agg),
        ),
    ];
    if !args.no_charts {
        let bars: Vec<report::figures::TierBar> = agg
            .iter()
            .map(|a| report::figures::TierBar {
                tier: a.labels[0].clone(),
                goodput: mean_ci(a, "goodput_rps"),
                success_pct: mean_ci(a, "success_pct"),
                p99_s: mean_ci(a, "latency_p99_s"),
                attempts_per_request: mean_ci(a, "attempts_per_request_mean"),
            })
            .collect();
        let offered = agg
            .first()
            .and_then(|a| a.mean("offered_rps"))
            .unwrap_or(0.0);
        let chart = report::figures::compare_tiers(&grid.name, offered, &bars);
        let r = report::charts::render(&chart).map_err(|m| chart_error("compare-tiers", m))?;
        files.push(("compare-tiers.png".into(), r.png));
        files.push(("compare-tiers.svg".into(), r.svg.clone().into_bytes()));
        let lead = format!(
            "Scenario {} at its own load ({:.2} requests/s offered) on tiers {}, {} replications each; replication k has the same seed (derived from {}) on every tier, so each tier sees the same arrivals. Means over replications; the goodput interval is a 95% confidence interval (Student t).",
            grid.name,
            offered,
            tiers.join(", "),
            grid.replications,
            grid.base_seed
        );
        let page = report::pages::simple_page(
            &format!("ratesim: {} on each tier", grid.name),
            &lead,
            vec![("Tier comparison".into(), headers.clone(), table.clone())],
            vec![(
                r.svg,
                "Goodput, success, p99 latency and attempts per request on each tier.".into(),
            )],
            &std::fs::read_to_string(&args.file).unwrap_or_default(),
        );
        files.push(("index.html".into(), page.into_bytes()));
    }
    report::write_set(&dir, &files, report::COMPARE_FILES)?;
    eprintln!("wrote {}", dir.display());
    emit(
        out,
        &format!(
            "{} on each tier ({} replications; means):\n\n{text}",
            grid.name, grid.replications
        ),
    )
}

/// A plain-text table, columns right-aligned except the first.
fn text_table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    format!("{c:<w$}", w = widths[i])
                } else {
                    format!("{c:>w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut s = line(headers);
    s.push('\n');
    for r in rows {
        s.push_str(&line(r));
        s.push('\n');
    }
    s
}

fn plan(args: &PlanArgs, out: &mut dyn Write) -> Result<()> {
    use crate::plan;
    let doc = scenario::Document::load(&args.file)?;
    let overrides = Overrides::from(args.overrides);
    let mut slo = Vec::new();
    for s in &args.slo {
        slo.extend(plan::parse_slo(s).map_err(|m| Error::Usage(format!("--slo: {m}")))?);
    }
    if !(args.precision.is_finite() && (plan::MIN_PRECISION..=0.5).contains(&args.precision)) {
        return Err(Error::Usage(format!(
            "--precision {}: allowed: a relative precision from {} to 0.5",
            args.precision,
            plan::MIN_PRECISION
        )));
    }
    if !(2..=200).contains(&args.points) {
        return Err(Error::Usage(format!(
            "--points {}: allowed from 2 to 200",
            args.points
        )));
    }
    let (base, warnings) = doc.resolve(&overrides, &[])?;
    for w in &warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    let opts = plan::PlanOptions {
        tiers: pick_tiers(&args.tiers, &base)?,
        slo,
        replications: replications(args.replications, &doc)?,
        precision: args.precision,
        curve_points: args.points,
    };
    let p = plan::plan(&doc, &overrides, &opts)?;
    let slo_text = p
        .slo
        .iter()
        .map(|t| t.text.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let headers: Vec<String> = [
        "tier",
        "spend (USD)",
        "max load (x)",
        "max offered (req/s)",
        "fails at (x)",
        "meets SLO at own load",
        "goodput at max (req/s)",
        "p99 at max (s)",
        "success at max %",
    ]
    .map(String::from)
    .to_vec();
    let table: Vec<Vec<String>> = p
        .tiers
        .iter()
        .map(|t| {
            let k = t.at_knee.as_ref();
            vec![
                t.tier.clone(),
                t.spend_usd.map_or("by request".into(), |v| format!("{v}")),
                t.knee.map_or("none".into(), |l| format!("{l:.4}")),
                t.knee
                    .map_or("-".into(), |l| format!("{:.2}", l * p.base_offered_rps)),
                t.fails_at.map_or("not found".into(), |l| format!("{l:.4}")),
                if t.at_own_load.meets { "yes" } else { "no" }.into(),
                fmt_opt(k.map(|e| e.goodput_rps), 2),
                fmt_opt(k.and_then(|e| e.p99_s), 3),
                fmt_opt(k.map(|e| e.success_pct), 3),
            ]
        })
        .collect();
    let verdict = match &p.cheapest {
        Some(t) => {
            let spend = p
                .tiers
                .iter()
                .find(|x| &x.tier == t)
                .and_then(|x| x.spend_usd);
            format!(
                "cheapest tier that meets the SLO at the scenario's own load ({:.2} req/s): tier {t} (unlocked at {} cumulative spend)",
                p.base_offered_rps,
                spend.map_or("by request".into(), |v| format!("${v}"))
            )
        }
        None => format!(
            "no tier meets the SLO at the scenario's own load ({:.2} req/s)",
            p.base_offered_rps
        ),
    };
    let precision_note = format!(
        "Max load is the highest load multiplier found to meet the SLO; the threshold lies between it and `fails at`, which differ by at most {}% (the search precision; sampling noise between replications comes on top). Each load pools {} replication{}.",
        crate::sweep::fmt_f64(100.0 * p.precision),
        p.replications,
        if p.replications == 1 { "" } else { "s" }
    );
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&p.scenario_name).join("plan"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&headers).expect("writing to memory");
    for r in &table {
        w.write_record(r).expect("writing to memory");
    }
    let mut c = csv::Writer::from_writer(Vec::new());
    c.write_record([
        "tier",
        "load",
        "offered_rps",
        "goodput_rps",
        "success_pct",
        "rate_limited_pct",
        "gave_up_pct",
        "latency_p50_s",
        "latency_p99_s",
        "latency_mean_s",
        "attempts_per_request_mean",
        "meets_slo",
        "source",
    ])
    .expect("writing to memory");
    for t in &p.tiers {
        for (src, evals) in [("search", &t.searched), ("curve", &t.curve)] {
            for e in evals {
                let o = |x: Option<f64>| x.map_or(String::new(), crate::sweep::fmt_f64);
                c.write_record([
                    t.tier.clone(),
                    crate::sweep::fmt_f64(e.load),
                    crate::sweep::fmt_f64(e.offered_rps),
                    crate::sweep::fmt_f64(e.goodput_rps),
                    crate::sweep::fmt_f64(e.success_pct),
                    crate::sweep::fmt_f64(e.rate_limited_pct),
                    crate::sweep::fmt_f64(e.gave_up_pct),
                    o(e.p50_s),
                    o(e.p99_s),
                    o(e.mean_s),
                    crate::sweep::fmt_f64(e.attempts_mean),
                    e.meets.to_string(),
                    src.to_string(),
                ])
                .expect("writing to memory");
            }
        }
    }
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "plan.csv".into(),
            w.into_inner().expect("writing to memory"),
        ),
        (
            "curves.csv".into(),
            c.into_inner().expect("writing to memory"),
        ),
        (
            "plan.json".into(),
            [
                serde_json::to_vec_pretty(&p).expect("plan serialises"),
                b"\n".to_vec(),
            ]
            .concat(),
        ),
    ];
    if !args.no_charts {
        let point = |e: &plan::Evaluation| report::figures::CurvePoint {
            offered_rps: e.offered_rps,
            goodput_rps: e.goodput_rps,
            p99_s: e.p99_s,
            success_pct: e.success_pct,
        };
        let curves: Vec<report::figures::Curve> = p
            .tiers
            .iter()
            .map(|t| report::figures::Curve {
                tier: t.tier.clone(),
                points: t.curve.iter().map(point).collect(),
                knee: t.at_knee.as_ref().map(point),
            })
            .collect();
        let p99_slo = p
            .slo
            .iter()
            .find(|t| t.metric == plan::SloMetric::Latency(0.99))
            .map(|t| t.threshold);
        let success_slo = p
            .slo
            .iter()
            .find(|t| t.metric == plan::SloMetric::Success)
            .map(|t| t.threshold);
        let cap = report::figures::capacity(&p.scenario_name, &curves, p99_slo, success_slo);
        let amp_groups: Vec<(String, Vec<(f64, f64)>)> = p
            .tiers
            .iter()
            .map(|t| {
                (
                    format!("tier {}", t.tier),
                    t.curve
                        .iter()
                        .map(|e| (e.offered_rps, e.attempts_mean))
                        .collect(),
                )
            })
            .collect();
        let amp = report::figures::amplification(
            &p.scenario_name,
            "offered load (requests/s)",
            &amp_groups,
        );
        let mut figures = Vec::new();
        for (stem, chart, caption) in [
            ("capacity", cap, format!("Goodput, p99 latency and success against offered load per tier; SLO: {slo_text}. Rings mark each tier's highest load meeting the SLO.")),
            ("amplification", amp, "Mean attempts per request against offered load: retries multiply the load the server sees.".to_string()),
        ] {
            let r = report::charts::render(&chart).map_err(|m| chart_error(stem, m))?;
            files.push((format!("{stem}.png"), r.png));
            files.push((format!("{stem}.svg"), r.svg.clone().into_bytes()));
            figures.push((r.svg, caption));
        }
        let mut sentence = verdict.clone();
        if let Some(first) = sentence.get(..1) {
            sentence.replace_range(..1, &first.to_uppercase());
        }
        let lead = format!("SLO: {slo_text}. {sentence}. {precision_note}");
        let page = report::pages::simple_page(
            &format!("ratesim: capacity plan for {}", p.scenario_name),
            &lead,
            vec![(
                "Highest load meeting the SLO, per tier".into(),
                headers.clone(),
                table.clone(),
            )],
            figures,
            &std::fs::read_to_string(&args.file).unwrap_or_default(),
        );
        files.push(("index.html".into(), page.into_bytes()));
    }
    report::write_set(&dir, &files, report::PLAN_FILES)?;
    eprintln!("wrote {}", dir.display());
    emit(
        out,
        &format!(
            "capacity plan for {} with SLO {slo_text}\n\n{}\n{verdict}\n{precision_note}\n",
            p.scenario_name,
            text_table(&headers, &table)
        ),
    )
}

/// Whether two paths name the same existing folder.
fn same_folder(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
