//! The run summary: what `summary.json` holds and the table prints.

use serde::Serialize;

use crate::catalog::{Milli, Provenance};
use crate::engine::RunOutcome;
use crate::metrics::{Counters, Distribution, Recorder};
use crate::scenario::Scenario;
use crate::time::{NANOS_PER_SEC, SimDuration};

use super::SCHEMA_VERSION;

/// Quantiles of a distribution, in the unit its name says; `null` where nothing was recorded.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Quantiles {
    pub count: u64,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub p999: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
}

impl Quantiles {
    fn of(d: &Distribution, scale: f64) -> Quantiles {
        let q = |p: f64| d.quantile(p).map(|v| v as f64 * scale);
        Quantiles {
            count: d.count(),
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            max: d.max().map(|v| v as f64 * scale),
            mean: d.mean().map(|m| m * scale),
        }
    }
}

/// Counts and distributions of a group of requests (the run, a model, or a stream).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Totals {
    pub requests: u64,
    pub attempts: u64,
    pub admitted: u64,
    pub rate_limited: u64,
    pub never_fits_attempts: u64,
    pub succeeded: u64,
    pub gave_up: u64,
    pub never_fits: u64,
    pub in_flight_at_end: u64,
    pub events: u64,
    pub tokens_admitted: u64,
    /// Requests per second offered over the arrival window.
    pub offered_rps: f64,
    /// Succeeded requests per second over the simulated time.
    pub goodput_rps: f64,
    /// Succeeded / requests, in percent.
    pub success_pct: f64,
    /// 429s / attempts, in percent.
    pub rate_limited_pct: f64,
    /// Gave up / requests, in percent.
    pub gave_up_pct: f64,
    /// End-to-end latency of succeeded requests (first attempt to completion), seconds.
    pub latency_s: Quantiles,
    /// Attempts per ended request.
    pub attempts_per_request: Quantiles,
    /// Time from first attempt to giving up, seconds.
    pub give_up_after_s: Quantiles,
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

impl Totals {
    fn of(c: &Counters, window_s: f64, simulated_s: f64) -> Totals {
        Totals {
            requests: c.requests,
            attempts: c.attempts,
            admitted: c.admitted,
            rate_limited: c.rate_limited,
            never_fits_attempts: c.never_fits_attempts,
            succeeded: c.succeeded,
            gave_up: c.gave_up,
            never_fits: c.never_fits,
            in_flight_at_end: c.in_flight(),
            events: c.events,
            tokens_admitted: c.tokens_admitted,
            offered_rps: c.requests as f64 / window_s,
            goodput_rps: if simulated_s > 0.0 {
                c.succeeded as f64 / simulated_s
            } else {
                0.0
            },
            success_pct: pct(c.succeeded, c.requests),
            rate_limited_pct: pct(c.rate_limited, c.attempts),
            gave_up_pct: pct(c.gave_up, c.requests),
            latency_s: Quantiles::of(&c.latency_us, 1e-6),
            attempts_per_request: Quantiles::of(&c.attempts_per_request, 1.0),
            give_up_after_s: Quantiles::of(&c.give_up_us, 1e-6),
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ModelSummary {
    pub model: String,
    pub rps_cap: Milli,
    pub tpm_cap: Option<Milli>,
    /// Admitted attempts / (RPS × simulated seconds).
    pub rps_utilisation: f64,
    /// Admitted tokens / (TPM / 60 × simulated seconds); `null` without a token cap.
    pub tpm_utilisation: Option<f64>,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StreamSummary {
    pub stream: String,
    pub model: String,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CatalogInfo {
    pub limits: Provenance,
    pub tiers: Provenance,
}

/// Everything `summary.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub schema_version: u32,
    pub ratesim_version: &'static str,
    pub scenario_name: String,
    pub seed: u64,
    pub tier: String,
    pub tier_spend_usd: Option<f64>,
    pub catalog: CatalogInfo,
    /// The arrival window, seconds.
    pub duration_s: f64,
    /// From time zero to the last event (or the hard stop), seconds.
    pub simulated_s: f64,
    /// Whether a hard stop cut the run off before every request ended.
    pub cut_off: bool,
    #[serde(flatten)]
    pub totals: Totals,
    pub models: Vec<ModelSummary>,
    pub streams: Vec<StreamSummary>,
    /// The scenario as resolved and run (defaults filled in, limits looked up).
    pub scenario: Scenario,
}

/// Builds the summary of one run.
pub fn summarize(scenario: &Scenario, rec: &Recorder, outcome: &RunOutcome) -> Summary {
    let window_s = scenario.duration.as_secs_f64();
    let simulated = SimDuration(outcome.end.0.max(scenario.duration.0));
    let simulated_s = simulated.as_secs_f64();
    let mut total = Counters::default();
    for c in &rec.streams {
        total.merge(c);
    }
    debug_assert_eq!(total.events, outcome.events);
    debug_assert_eq!(total.in_flight(), outcome.in_flight_at_end);
    let models = scenario
        .models
        .iter()
        .enumerate()
        .map(|(mi, m)| {
            let mut c = Counters::default();
            for (s, sc) in scenario.streams.iter().zip(&rec.streams) {
                if s.model == mi {
                    c.merge(sc);
                }
            }
            let secs = simulated.0 as f64 / NANOS_PER_SEC as f64;
            ModelSummary {
                model: m.name.clone(),
                rps_cap: m.limits.rps,
                tpm_cap: m.limits.tpm,
                rps_utilisation: c.admitted as f64 / (m.limits.rps.as_f64() * secs),
                tpm_utilisation: m
                    .limits
                    .tpm
                    .map(|t| c.tokens_admitted as f64 / (t.as_f64() / 60.0 * secs)),
                totals: Totals::of(&c, window_s, simulated_s),
            }
        })
        .collect();
    let streams = scenario
        .streams
        .iter()
        .zip(&rec.streams)
        .map(|(s, c)| StreamSummary {
            stream: s.name.clone(),
            model: s.model_name.clone(),
            totals: Totals::of(c, window_s, simulated_s),
        })
        .collect();
    Summary {
        schema_version: SCHEMA_VERSION,
        ratesim_version: env!("CARGO_PKG_VERSION"),
        scenario_name: scenario.name.clone(),
        seed: scenario.seed,
        tier: scenario.tier.clone(),
        tier_spend_usd: scenario.tier_spend_usd,
        catalog: CatalogInfo {
            limits: scenario.limits_provenance.clone(),
            tiers: scenario.tiers_provenance.clone(),
        },
        duration_s: window_s,
        simulated_s,
        cut_off: outcome.cut_off,
        totals: Totals::of(&total, window_s, simulated_s),
        models,
        streams,
        scenario: scenario.clone(),
    }
}
