//! The commands behind the CLI: load, run, report. `main` only wires this up.
//! One file per command; this file holds the dispatch and the helpers they share.

mod compare;
mod fit;
mod forecast;
mod limits;
mod plan;
mod prices;
mod run;
mod sweep;
mod validate;

use std::io::Write;
use std::path::Path;

use crate::catalog::{Catalog, TierSel};
use crate::cli::{
    Cli, Command, CompareArgs, CompareByArgs, FitArgs, ForecastArgs, LimitsArgs, PlanArgs,
    PricesArgs, RunArgs, SweepArgs,
};
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

/// How a command that did its work ended, for the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit code 0.
    Done,
    /// `plan` found no tier that meets the SLO at the scenario's own load: exit code 3 (its
    /// files are written all the same).
    NoTierMeetsSlo,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::NoTierMeetsSlo => 3,
        }
    }
}

pub fn execute(cli: Cli, out: &mut dyn Write) -> Result<Outcome> {
    if let Command::Plan(args) = &cli.command {
        return plan::plan(args, out);
    }
    match cli.command {
        Command::Run(args) => run::run(&args, out),
        Command::Validate { files } => validate::validate(&files, out),
        Command::Limits(args) => limits::limits(&args, out),
        Command::Prices(args) => prices::prices(&args, out),
        Command::Forecast(args) => forecast::forecast(&args, out),
        Command::Sweep(args) => sweep::sweep(&args, out),
        Command::CompareTiers(args) => compare::compare_tiers(&args, out),
        Command::Compare(args) => compare::compare_by(&args, out),
        Command::Merge {
            dirs,
            out: dest,
            no_charts,
        } => sweep::merge(&dirs, dest.as_deref(), !no_charts, out),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ratesim", &mut buf);
            emit(out, &String::from_utf8_lossy(&buf))
        }
        Command::Schema => emit(out, &crate::scenario::schema::schema_text()),
        Command::Presets => {
            let mut s = String::from(
                "client presets (use as [client] preset = \"NAME\"; any field can be overridden):\n",
            );
            for (name, version, what) in PRESETS {
                s.push_str(&format!("  {name:<18} {what}\n"));
                if *version != "-" {
                    s.push_str(&format!("  {:<18} (follows {version})\n", ""));
                }
            }
            emit(out, &s)
        }
        Command::Plan(_) => unreachable!("handled above"),
        Command::Fit(args) => fit::fit(&args, out),
    }
    .map(|()| Outcome::Done)
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

/// "s" unless there is exactly one.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn fmt_opt(x: Option<f64>, digits: usize) -> String {
    x.map_or("-".into(), |v| format!("{v:.digits$}"))
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

/// Whether two paths name the same existing folder.
fn same_folder(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
