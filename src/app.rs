//! The commands behind the CLI: load, run, report. `main` only wires this up.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, TierSel};
use crate::cli::{Cli, Command, LimitsArgs, RunArgs, SweepArgs};
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
    let overrides = Overrides {
        seed: args.seed,
        duration: args.duration,
    };
    let (scenario, warnings) = scenario::load(&args.file, &overrides)?;
    for w in &warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    let mut rec = Recorder::new(scenario.streams.len());
    let outcome = match &args.attempt_log {
        Some(path) => {
            let models = scenario
                .streams
                .iter()
                .map(|s| s.model_name.clone())
                .collect();
            let mut log = AttemptLog::create(path, models, &mut rec)?;
            let outcome = crate::engine::run(&scenario, &mut log);
            log.finish()?;
            outcome
        }
        None => crate::engine::run(&scenario, &mut rec),
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
                ("timeseries", report::figures::timeseries(&scenario, &rec), "Attempts offered, admitted, 429s and completions per second, with each model's RPS cap; below, requests in flight."),
                ("latency-cdf", report::figures::latency_cdf(&scenario, &rec), "Cumulative distribution of end-to-end latency of succeeded requests (arrival to completion, including backoff), per stream."),
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
        let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
        report::write_all(&dir, &refs)?;
        eprintln!(
            "wrote {}: {}",
            dir.display(),
            files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
        );
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
    let overrides = Overrides {
        seed: args.seed,
        duration: args.duration,
    };
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
    let manifest = sweep::Manifest::of(&grid, args.shard);
    write_sweep(&dir, &manifest, &rows, args.shard.is_none() && !args.no_charts)?;
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
fn write_sweep(dir: &Path, manifest: &crate::sweep::Manifest, rows: &[crate::sweep::RunRow], whole_extras: bool) -> Result<()> {
    use crate::sweep;
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("sweep.json", [serde_json::to_vec_pretty(manifest).expect("manifest serialises"), b"\n".to_vec()].concat()),
        ("runs.csv", sweep::runs_csv(&manifest.axes, rows)),
    ];
    if manifest.shard.is_none() {
        let agg = sweep::aggregate(rows);
        files.push(("aggregate.csv", sweep::aggregate_csv(&manifest.axes, &agg)));
        let _ = whole_extras;
    }
    report::write_all(dir, &files)
}

fn merge(dirs: &[PathBuf], dest: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    let (manifest, rows) = crate::sweep::merge(dirs)?;
    let dir = dest
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("output").join(&manifest.scenario_name).join("sweep"));
    write_sweep(&dir, &manifest, &rows, false)?;
    emit(
        out,
        &format!("merged {} runs from {} folders into {}\n", rows.len(), dirs.len(), dir.display()),
    )
}

fn chart_error(stem: &str, message: String) -> Error {
    Error::io(
        Path::new(&format!("{stem}.png")),
        std::io::Error::other(format!("cannot draw the chart: {message}")),
    )
}
