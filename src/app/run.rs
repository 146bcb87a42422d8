//! `ratesim run`: one scenario, its summary, files, charts and page.

use std::io::Write;
use std::path::PathBuf;

use super::*;
use crate::scenario::Scenario;
use crate::time::SimTime;

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
    let bar = run_progress(&scenario);
    let (outcome, pending_log) = match &args.attempt_log {
        Some(path) => {
            let streams = scenario
                .streams
                .iter()
                .map(|s| (s.name.clone(), s.model_name.clone()))
                .collect();
            let mut log = AttemptLog::create(path, streams, &scenario.tier, &mut rec)?;
            let outcome = match &bar {
                Some(b) => crate::engine::run(&scenario, &mut WithProgress::new(&mut log, b)),
                None => crate::engine::run(&scenario, &mut log),
            };
            (outcome, Some(log.finish()?))
        }
        None => match &bar {
            Some(b) => (
                crate::engine::run(&scenario, &mut WithProgress::new(&mut rec, b)),
                None,
            ),
            None => (crate::engine::run(&scenario, &mut rec), None),
        },
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
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

/// Requests a run must expect before it shows a progress bar (about a second of work).
const PROGRESS_FROM_REQUESTS: f64 = 500_000.0;

/// A progress bar over simulated time, with an ETA, on stderr when it is a terminal and the
/// run is long; `RATESIM_PROGRESS=always` shows it for any run on a terminal.
fn run_progress(s: &Scenario) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    let always = std::env::var("RATESIM_PROGRESS").is_ok_and(|v| v == "always");
    if !std::io::stderr().is_terminal()
        || !(always || crate::sweep::expected_requests(s) >= PROGRESS_FROM_REQUESTS)
    {
        return None;
    }
    // Whole simulated seconds; a job without a duration shows its elapsed simulated time.
    let pb = if s.until_done {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::new(s.duration.as_secs_f64().ceil() as u64)
    };
    let template = if s.until_done {
        "{msg}: {spinner} simulated {pos} s, {elapsed} elapsed"
    } else {
        "{msg} [{bar:40}] simulated {pos}/{len} s, {elapsed} elapsed, ETA {eta}"
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(s.name.clone());
    Some(pb)
}

/// An observer that passes everything on and moves a progress bar every 65,536 events.
struct WithProgress<'a, O: crate::engine::Observer> {
    inner: &'a mut O,
    bar: &'a indicatif::ProgressBar,
    events: u32,
}

impl<'a, O: crate::engine::Observer> WithProgress<'a, O> {
    fn new(inner: &'a mut O, bar: &'a indicatif::ProgressBar) -> Self {
        WithProgress {
            inner,
            bar,
            events: 0,
        }
    }
}

impl<O: crate::engine::Observer> crate::engine::Observer for WithProgress<'_, O> {
    #[inline]
    fn on_event(&mut self, now: SimTime, stream: u32) {
        self.events = self.events.wrapping_add(1);
        if self.events & 0xffff == 0 {
            self.bar.set_position(now.0 / 1_000_000_000);
        }
        self.inner.on_event(now, stream);
    }
    fn on_arrival(&mut self, now: SimTime, req: &crate::engine::Request) {
        self.inner.on_arrival(now, req);
    }
    fn on_attempt(
        &mut self,
        now: SimTime,
        req: &crate::engine::Request,
        decision: crate::limiter::Decision,
    ) {
        self.inner.on_attempt(now, req, decision);
    }
    fn on_success(&mut self, now: SimTime, req: &crate::engine::Request) {
        self.inner.on_success(now, req);
    }
    fn on_give_up(
        &mut self,
        now: SimTime,
        req: &crate::engine::Request,
        cause: crate::client::Cause,
    ) {
        self.inner.on_give_up(now, req, cause);
    }
    fn on_never_fits(&mut self, now: SimTime, req: &crate::engine::Request) {
        self.inner.on_never_fits(now, req);
    }
    fn on_no_credit(&mut self, now: SimTime, req: &crate::engine::Request) {
        self.inner.on_no_credit(now, req);
    }
    fn on_tier_change(&mut self, now: SimTime, from: &str, to: &str) {
        self.inner.on_tier_change(now, from, to);
    }
    fn on_server_error(&mut self, now: SimTime, req: &crate::engine::Request) {
        self.inner.on_server_error(now, req);
    }
}
