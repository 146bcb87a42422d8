//! Command-line types (clap derive). Nothing here touches files or the engine.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::time::{SimDuration, parse_duration};

#[derive(Parser, Debug)]
#[command(
    name = "ratesim",
    version,
    about = "Discrete-event simulator of LLM API rate limits: RPS and TPM caps, 429s, client retries",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario: print a summary; write summary.json, timeseries.csv, charts and index.html
    Run(RunArgs),
    /// Check scenario files without running them
    Validate {
        /// Scenario files (TOML)
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the rate-limit catalog (tiers, per-model RPS and TPM caps)
    Limits(LimitsArgs),
    /// List the built-in client retry presets
    Presets,
    /// Run a scenario's [sweep] grid (axes x replications) in parallel: runs.csv, aggregate.csv
    Sweep(SweepArgs),
    /// Run the same workload against each tier (with replications): table, CSV and chart
    CompareTiers(CompareArgs),
    /// Find each tier's highest load that meets an SLO, and the cheapest tier for your load
    Plan(PlanArgs),
    /// Combine sweep shard folders into the runs.csv and aggregate.csv of the whole sweep
    Merge {
        /// Shard folders written by `ratesim sweep --shard K/N`
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder [default: output/<scenario name>/sweep]
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Scenario file
    pub file: PathBuf,
    /// Tiers to compare [default: every tier with limits for the scenario's models]
    #[arg(long, value_delimiter = ',')]
    pub tiers: Option<Vec<String>>,
    /// Replications per tier [default: the scenario's [sweep] replications, or 5]
    #[arg(long)]
    pub replications: Option<u32>,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Output folder [default: output/<scenario name>/compare-tiers]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the chart and the HTML report
    #[arg(long)]
    pub no_charts: bool,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Scenario file
    pub file: PathBuf,
    /// Service-level objective terms, e.g. --slo 'p99<=10s' --slo 'success>=99.9%' (or comma-separated)
    #[arg(long, required = true)]
    pub slo: Vec<String>,
    /// Tiers to plan for [default: every tier with limits for the scenario's models]
    #[arg(long, value_delimiter = ',')]
    pub tiers: Option<Vec<String>>,
    /// Replications pooled at each load [default: the scenario's [sweep] replications, or 5]
    #[arg(long)]
    pub replications: Option<u32>,
    /// Relative precision of each tier's highest load (stop when hi/lo - 1 <= this)
    #[arg(long, default_value_t = 0.02)]
    pub precision: f64,
    /// Loads per tier on the capacity chart
    #[arg(long, default_value_t = 12)]
    pub points: usize,
    /// Highest load multiplier to search [default: 8 times the load at which every model
    /// reaches its binding cap, at most 1024]
    #[arg(long, value_name = "X")]
    pub max_load: Option<f64>,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Output folder [default: output/<scenario name>/plan]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the charts and the HTML report
    #[arg(long)]
    pub no_charts: bool,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Scenario file with a [sweep] section
    pub file: PathBuf,
    /// Run only shard K of N (1 <= K <= N) of the runs, for job arrays
    #[arg(long, value_name = "K/N", value_parser = crate::sweep::Shard::parse)]
    pub shard: Option<crate::sweep::Shard>,
    /// Replace the number of replications of every grid point
    #[arg(long)]
    pub replications: Option<u32>,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Output folder [default: output/<scenario name>/sweep, or .../sweep/shard-K-of-N]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write no charts
    #[arg(long)]
    pub no_charts: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario file (TOML)
    pub file: PathBuf,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Output folder [default: output/<scenario name>]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the summary as JSON on stdout instead of a table
    #[arg(long)]
    pub json: bool,
    /// Also write one CSV row per attempt to this file
    #[arg(long, value_name = "FILE.csv")]
    pub attempt_log: Option<PathBuf>,
    /// Write no files, only print the summary
    #[arg(long)]
    pub no_files: bool,
    /// Skip the charts and the HTML report
    #[arg(long)]
    pub no_charts: bool,
}

#[derive(Args, Debug)]
pub struct LimitsArgs {
    /// Only this model
    #[arg(long)]
    pub model: Option<String>,
    /// Only this tier
    #[arg(long)]
    pub tier: Option<String>,
    /// Show this limits file (columns model,kind,tier,rps,tpm) instead of the embedded catalog
    #[arg(long, value_name = "CSV")]
    pub limits_file: Option<PathBuf>,
}

/// Values that replace the scenario file's.
#[derive(Args, Debug, Clone, Copy)]
pub struct OverrideArgs {
    /// Replace the scenario's seed
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replace the scenario's duration (e.g. 24h)
    #[arg(long, value_parser = duration_arg)]
    pub duration: Option<SimDuration>,
}

impl From<OverrideArgs> for crate::scenario::Overrides {
    fn from(a: OverrideArgs) -> Self {
        crate::scenario::Overrides {
            seed: a.seed,
            duration: a.duration,
        }
    }
}

fn duration_arg(s: &str) -> Result<SimDuration, String> {
    match parse_duration(s) {
        Ok(d) if d > SimDuration::ZERO => Ok(d),
        Ok(_) => Err("the duration must be > 0".to_string()),
        Err(e) => Err(e.0),
    }
}
