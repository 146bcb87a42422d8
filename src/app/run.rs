//! `ratesim run`: one scenario, its summary, files, charts and page.

use std::io::Write;
use std::path::PathBuf;

use super::*;

pub(super) fn run(args: &RunArgs, out: &mut dyn Write) -> Result<()> {
    let overrides = Overrides::from(args.overrides);
    let doc = scenario::Document::load(&args.file)?;
    let (scenario, warnings) = doc.resolve(&overrides, &[])?;
    for w in &warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    // Every output path is checked before the run, so that a run writes its whole set or
    // nothing.
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&scenario.name));
    if !args.no_files {
        report::check_output_dir(&dir, "--out")?;
    }
    if let Some(path) = &args.attempt_log {
        report::check_output_file(path, "--attempt-log")?;
    }
    let mut rec = Recorder::for_scenario(&scenario);
    let (outcome, pending_log) = match &args.attempt_log {
        Some(path) => {
            let streams = scenario
                .streams
                .iter()
                .map(|s| (s.name.clone(), s.model_name.clone()))
                .collect();
            let mut log = AttemptLog::create(path, streams, &scenario.tier, &mut rec)?;
            let outcome = crate::engine::run(&scenario, &mut log);
            (outcome, Some(log.finish()?))
        }
        None => (crate::engine::run(&scenario, &mut rec), None),
    };
    let summary = report::summarize(&scenario, &rec, &outcome);
    let json = serde_json::to_vec_pretty(&summary).expect("summary serialises");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    if !args.no_files {
        files = vec![
            ("summary.json".into(), [json.as_slice(), b"\n"].concat()),
            ("timeseries.csv".into(), report::timeseries_csv(&rec)),
        ];
        if !args.no_charts {
            let charts = [
                (
                    "timeseries",
                    report::figures::timeseries(&scenario, &rec, &tier_marks(&summary)),
                    "Attempts sent, 429s, admissions, completions and give-ups per second with each model's RPS cap; tokens admitted over the trailing minute with each TPM cap (when a model has one); requests in flight.",
                ),
                (
                    "latency-cdf",
                    report::figures::latency_cdf(&scenario, &rec),
                    "Share of all requests completed within a given end-to-end latency (arrival to completion, including backoff), per stream: each curve tops out at the share that succeeded; the rest gave up or never fit.",
                ),
            ];
            let mut figures = Vec::new();
            for (stem, chart, caption) in charts {
                let r = report::charts::render(&chart).map_err(|m| chart_error(stem, m))?;
                files.push((format!("{stem}.png"), r.png));
                files.push((format!("{stem}.svg"), r.svg.clone().into_bytes()));
                figures.push((r.svg, caption.to_string()));
            }
            let source = &doc.source;
            files.push((
                "index.html".into(),
                report::pages::run_page(&summary, source, figures).into_bytes(),
            ));
        }
        report::write_set(&dir, &files, report::RUN_FILES)?;
    }
    // The attempt log goes into place only once everything else is written.
    if let Some(log) = pending_log {
        log.commit()?;
    }
    if !args.no_files || args.attempt_log.is_some() {
        let mut wrote: Vec<String> = Vec::new();
        if !args.no_files {
            wrote.push(format!(
                "{}: {}",
                dir.display(),
                files
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(path) = &args.attempt_log {
            wrote.push(format!("attempt log {}", path.display()));
        }
        eprintln!("wrote {}", wrote.join("; "));
    }
    if args.json {
        emit(out, &format!("{}\n", String::from_utf8_lossy(&json)))
    } else {
        emit(out, &report::table::render(&summary))
    }
}

/// The tier changes of a run, as chart marks: (seconds, "tier A -> B").
pub(super) fn tier_marks(summary: &report::summary::Summary) -> Vec<(f64, String)> {
    summary.account.as_ref().map_or_else(Vec::new, |a| {
        a.tier_changes
            .iter()
            .map(|c| (c.time_s, format!("tier {} -> tier {}", c.from, c.to)))
            .collect()
    })
}
