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
    #[command(
        after_help = "Example:\n  ratesim run scenarios/overload.toml --duration 24h --attempt-log attempts.csv\n\nWrites output/<scenario name>/ (or --out DIR): summary.json, timeseries.csv,\ntimeseries.png/svg, latency-cdf.png/svg and index.html; with --attempt-log, one CSV row per attempt."
    )]
    Run(RunArgs),
    /// Check scenario files without running them (and expand their [sweep] grids)
    #[command(
        after_help = "Example:\n  ratesim validate scenarios/*.toml\n\nPrints `ok` (with the sweep's size) or the error for each file, and warnings; writes nothing.\nExit code 2 if any file is invalid."
    )]
    Validate {
        /// Scenario files (TOML)
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the rate-limit catalog (tiers, per-model RPS and TPM caps)
    #[command(
        after_help = "Example:\n  ratesim limits --model grok-4.3 --tier 2\n\nPrints the table with its source and date; writes nothing."
    )]
    Limits(LimitsArgs),
    /// Print the price catalog (USD per million tokens per model, and media prices)
    #[command(
        after_help = "Example:\n  ratesim prices --model grok-4.3\n\nPrints the table with its source and date; writes nothing. A scenario bills succeeded\nrequests at these prices (prices_file or [[prices]] replace them)."
    )]
    Prices(PricesArgs),
    /// Forecast tiers and costs over days or weeks: when payments unlock each tier, and whether buying earlier pays
    #[command(
        after_help = "Example:\n  ratesim forecast scenarios/growth.toml --horizon 30d\n\nRuns the scenario (with its [account]) over the horizon, in full, and again with a purchase\non day 0 that unlocks each higher tier at once. Prints the tier timeline, a line per day\n(tier, cost, goodput, give-ups) and the comparison; writes output/<scenario name>/forecast/\n(or --out DIR): days.csv, paths.csv, forecast.png/svg and index.html."
    )]
    Forecast(ForecastArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(
        after_help = "Examples:\n  ratesim completions bash > ~/.local/share/bash-completion/completions/ratesim\n  ratesim completions zsh > ~/.zfunc/_ratesim\n  ratesim completions fish > ~/.config/fish/completions/ratesim.fish"
    )]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the JSON Schema of the scenario format (for editors: completion and checking)
    #[command(
        after_help = "Example:\n  ratesim schema > ratesim.schema.json\n\nEditors whose TOML support reads JSON Schema (VS Code's Even Better TOML, Taplo) can use it\nfor completion and checking: a `#:schema ./ratesim.schema.json` first line, or a taplo.toml rule."
    )]
    Schema,
    /// List the built-in client retry presets
    #[command(
        after_help = "Example:\n  ratesim presets\n\nUse one as [client] preset = \"NAME\" in a scenario; any field can be overridden."
    )]
    Presets,
    /// Run a scenario's [sweep] grid (axes x replications) in parallel: runs.csv, aggregate.csv
    #[command(
        after_help = "Examples:\n  ratesim sweep scenarios/sweep.toml\n  ratesim sweep scenarios/sweep.toml --shard 2/4 --out shards/2\n\nWrites output/<scenario name>/sweep/ (or --out DIR): sweep.json, runs.csv, aggregate.csv,\ngoodput.png/svg and amplification.png/svg (with a load axis) and index.html.\nA shard writes sweep.json and runs.csv only; `ratesim merge` combines shards."
    )]
    Sweep(SweepArgs),
    /// Run the same workload against each tier (with replications): table, CSV and chart
    #[command(
        after_help = "Example:\n  ratesim compare-tiers scenarios/compare-tiers.toml --tiers 1,2 --replications 10\n\nPrints the table; writes output/<scenario name>/compare-tiers/ (or --out DIR): tiers.csv,\nruns.csv, aggregate.csv, compare-tiers.png/svg and index.html."
    )]
    CompareTiers(CompareArgs),
    /// Compare the same workload under each value of one setting: client, tier or any field
    #[command(
        after_help = "Examples:\n  ratesim compare scenarios/clients.toml --by client=openai-python,anthropic-python,tenacity-cookbook\n  ratesim compare scenarios/burst.toml --by tier=0,1,2\n  ratesim compare scenarios/overload.toml --by client.max_retries=2,5,10\n\nclient= takes preset names or the names of the file's [[clients]] entries (each replaces the\ndefault [client]); tier= takes tier names; any other key is a dotted field path, as a sweep's\nparams take, with TOML values. Every value runs with the same seeds (common random numbers).\nWrites output/<scenario name>/compare/ (or --out DIR): compare.csv, runs.csv, aggregate.csv,\ncompare.png/svg and index.html."
    )]
    Compare(CompareByArgs),
    /// Find each tier's highest load that meets an SLO, and the cheapest way to meet it at your load
    #[command(
        after_help = "Example:\n  ratesim plan scenarios/plan.toml --slo 'p99<=25s' --slo 'success>=99.9%'\n\nPrints a progress line per load evaluated (stderr), then the table; writes\noutput/<scenario name>/plan/ (or --out DIR): plan.csv, curves.csv, plan.json,\ncapacity.png/svg, amplification.png/svg and index.html.\nExit code 3 when no tier meets the SLO at the scenario's own load (files are still written)."
    )]
    Plan(PlanArgs),
    /// Fit a synthetic scenario to a request log: a rate profile and token distributions
    #[command(
        after_help = "Example:\n  ratesim fit scenarios/traces/product-10min.csv --out my-workload.toml\n\nWrites a scenario (to --out, or stdout) whose comment block says what was fitted and how\nwell: rows per time bin and token means and quantiles, trace against fit. Scale it with a\nload axis, or sweep it, as any scenario."
    )]
    Fit(FitArgs),
    /// Combine sweep shard folders into the runs.csv and aggregate.csv of the whole sweep
    #[command(
        after_help = "Example:\n  ratesim merge shards/* --out results/big\n\nChecks that the shards belong to one sweep and hold every run once, then writes what\n`ratesim sweep` would have: sweep.json, runs.csv, aggregate.csv, charts and index.html."
    )]
    Merge {
        /// Shard folders written by `ratesim sweep --shard K/N`
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder [default: output/<scenario name>/sweep]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Skip the charts and the HTML page
        #[arg(long)]
        no_charts: bool,
    },
}

#[derive(Args, Debug)]
pub struct FitArgs {
    /// The trace: CSV with a header, or JSON Lines (.jsonl, .ndjson); see the README
    pub trace: PathBuf,
    /// Write the scenario here [default: print it]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Width of the time bins of the rate profile [default: the largest of 1h, 10m, 1m, 10s
    /// giving at least 6 bins]
    #[arg(long, value_parser = duration_arg)]
    pub bin: Option<SimDuration>,
    /// The model of the fitted stream [default: the first model of the built-in table]
    #[arg(long)]
    pub model: Option<String>,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Scenario file
    pub file: PathBuf,
    /// Tiers to compare, comma-separated names from the limits table, e.g. 0,2,4
    /// [default: every tier with limits for the scenario's models]
    #[arg(long, value_delimiter = ',', value_name = "T,T,...")]
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
pub struct CompareByArgs {
    /// Scenario file
    pub file: PathBuf,
    /// What to vary and its values: KEY=V1,V2,... (client=..., tier=..., or a dotted field path)
    #[arg(long, value_name = "KEY=V1,V2,...")]
    pub by: String,
    /// Replications per value [default: the scenario's [sweep] replications, or 5]
    #[arg(long)]
    pub replications: Option<u32>,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Output folder [default: output/<scenario name>/compare]
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
    /// Tiers to plan for, comma-separated names from the limits table, e.g. 0,2,4
    /// [default: every tier with limits for the scenario's models]
    #[arg(long, value_delimiter = ',', value_name = "T,T,...")]
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
    /// Finish an interrupted plan: reuse the evaluations its journal (OUT/.partial) holds
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Output folder [default: output/<scenario name>/plan]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the charts and the HTML report
    #[arg(long)]
    pub no_charts: bool,
    /// Horizon over which plan prices each tier's way: the purchase that unlocks it plus its
    /// running cost, e.g. 30d
    #[arg(long, default_value = "30d")]
    pub horizon: String,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Scenario file with a [sweep] section
    pub file: PathBuf,
    /// Run only shard K of N (1 <= K <= N) of the runs, for job arrays; `auto` reads K and N
    /// from Slurm's job array, `auto/N` reads K from a Kubernetes indexed job or an AWS Batch
    /// array job (or Slurm)
    #[arg(long, value_name = "K/N", value_parser = crate::sweep::Shard::parse)]
    pub shard: Option<crate::sweep::Shard>,
    /// Replace the number of replications of every grid point
    #[arg(long)]
    pub replications: Option<u32>,
    /// Finish an interrupted sweep: skip the runs its journal (OUT/.partial) holds
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Output folder [default: output/<scenario name>/sweep, or .../sweep/shard-K-of-N]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the charts and the HTML page
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
pub struct PricesArgs {
    /// Only this model
    #[arg(long)]
    pub model: Option<String>,
    /// Show this price file (columns model,input,cached_input,output,long_context_from,long_input,long_cached_input,long_output) instead of the embedded catalog
    #[arg(long, value_name = "CSV")]
    pub prices_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ForecastArgs {
    /// Scenario file (with an [account])
    pub file: PathBuf,
    /// How far ahead: a duration from 1d, such as 30d, 14d or 72h
    #[arg(long, default_value = "30d")]
    pub horizon: String,
    /// Seed instead of the file's
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder [default: output/<scenario name>/forecast]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the chart and the HTML page
    #[arg(long)]
    pub no_charts: bool,
}

#[derive(Args, Debug)]
pub struct LimitsArgs {
    /// The provider profile: xai (default), openai, anthropic or gemini
    #[arg(long, default_value = "xai")]
    pub provider: String,
    /// A version of the provider's tables (default: the profile's default; for xai,
    /// 2026-06-20 or V2)
    #[arg(long = "limits-version", value_name = "VERSION")]
    pub limits_version: Option<String>,
    /// Only this model
    #[arg(long)]
    pub model: Option<String>,
    /// Only this tier
    #[arg(long, help = tier_help())]
    pub tier: Option<String>,
    /// Show this limits file (columns by name: model, tier, rps or rpm, and any of rpd, tpm,
    /// tpd, itpm, otpm, ipm, concurrent) instead of the provider's table
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

/// `limits --tier` help: the tiers of the built-in table (data, not code).
fn tier_help() -> String {
    format!(
        "Only this tier; xAI's built-in table has: {}",
        crate::catalog::Catalog::embedded().tier_names().join(", ")
    )
}

fn duration_arg(s: &str) -> Result<SimDuration, String> {
    match parse_duration(s) {
        Ok(d) if d > SimDuration::ZERO => Ok(d),
        Ok(_) => Err("the duration must be > 0".to_string()),
        Err(e) => Err(e.0),
    }
}
