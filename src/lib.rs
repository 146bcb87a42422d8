//! ratesim: a discrete-event simulator of LLM API rate limits.
//!
//! Traffic streams send requests to models whose per-tier caps (requests per second, tokens per
//! minute) come from a catalog with a source and a date; the server answers 429 when a cap has
//! no room; clients retry as real SDKs do; streaming metrics summarise the run. See
//! `ARCHITECTURE.md` for the map of the code and its invariants.
//!
//! ```
//! let (scenario, _warnings) = ratesim::scenario::parse(
//!     include_str!("../scenarios/quickstart.toml"),
//!     "quickstart.toml",
//!     None,
//!     &Default::default(),
//! )
//! .unwrap();
//! let (recorder, outcome) = ratesim::simulate(&scenario);
//! assert_eq!(outcome.in_flight_at_end, 0);
//! assert_eq!(recorder.streams[0].rate_limited, 0);
//! ```

pub mod account;
pub mod app;
pub mod catalog;
pub mod cli;
pub mod client;
pub mod engine;
pub mod error;
pub mod input;
pub mod journal;
pub mod latency;
pub mod limiter;
pub mod metrics;
pub mod plan;
pub mod prices;
pub mod provider;
pub mod random;
pub mod report;
pub mod scenario;
pub mod sweep;
pub mod time;
pub mod workload;

/// Runs a scenario with the standard metrics recorder.
pub fn simulate(scenario: &scenario::Scenario) -> (metrics::Recorder, engine::RunOutcome) {
    let mut rec = metrics::Recorder::for_scenario(scenario);
    let outcome = engine::run(scenario, &mut rec);
    (rec, outcome)
}
