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
pub struct SweepArgs {
    /// Scenario file with a [sweep] section
    pub file: PathBuf,
    /// Run only shard K of N (1 <= K <= N) of the runs, for job arrays
    #[arg(long, value_name = "K/N", value_parser = crate::sweep::Shard::parse)]
    pub shard: Option<crate::sweep::Shard>,
    /// Replace the number of replications of every grid point
    #[arg(long)]
    pub replications: Option<u32>,
    /// Replace the scenario's seed
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replace the scenario's duration (e.g. 10m)
    #[arg(long, value_parser = duration_arg)]
    pub duration: Option<SimDuration>,
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
    /// Replace the scenario's seed
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replace the scenario's duration (e.g. 24h)
    #[arg(long, value_parser = duration_arg)]
    pub duration: Option<SimDuration>,
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

fn duration_arg(s: &str) -> Result<SimDuration, String> {
    match parse_duration(s) {
        Ok(d) if d > SimDuration::ZERO => Ok(d),
        Ok(_) => Err("the duration must be > 0".to_string()),
        Err(e) => Err(e.0),
    }
}
