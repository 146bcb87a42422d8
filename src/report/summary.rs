//! The run summary: what `summary.json` holds and the table prints.

use serde::Serialize;

use crate::catalog::{Milli, Provenance};
use crate::client::Cause;
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
    /// Quantiles of `d`, with every value divided by `per_unit` (1e6 turns microseconds into
    /// seconds; division keeps `9502719 µs` as `9.502719`, where `* 1e-6` would not).
    fn of(d: &Distribution, per_unit: f64) -> Quantiles {
        let q = |p: f64| d.quantile(p).map(|v| v as f64 / per_unit);
        Quantiles {
            count: d.count(),
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            max: d.max().map(|v| v as f64 / per_unit),
            mean: d.mean().map(|m| m / per_unit),
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
    /// Requests refused because a prepaid account had no credit left (not 429s).
    pub no_credit: u64,
    /// Admitted attempts that failed on the server or found it full (503/529, not 429s).
    pub server_errors: u64,
    /// 429s by the cap that refused them (the one with the longer wait where both did).
    pub rate_limited_by: std::collections::BTreeMap<&'static str, u64>,
    pub in_flight_at_end: u64,
    pub events: u64,
    pub tokens_admitted: u64,
    /// Tokens admitted by kind: prompt (of which cached), image, completion, reasoning.
    pub tokens_by_kind: crate::metrics::TokensByKind,
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
    /// p99 latency over all requests, those that did not succeed counted as infinitely slow
    /// (what `--slo 'p99<=...'` checks); `null` when more than 1 % did not succeed.
    pub latency_p99_all_s: Option<f64>,
    /// First arrival to the last end of a request, seconds (a finite job's makespan).
    pub makespan_s: Option<f64>,
    /// Attempts per ended request.
    pub attempts_per_request: Quantiles,
    /// Time from first attempt to giving up, seconds.
    pub give_up_after_s: Quantiles,
    /// Give-ups by cause (every cause listed, zeros included).
    pub gave_up_by_cause: std::collections::BTreeMap<&'static str, u64>,
    /// Mean latency of succeeded requests split into queued in the client, backing off, and
    /// served (429 round trips included), seconds; `null` when none succeeded.
    pub latency_split_s: Option<LatencySplit>,
    /// The same over every ended request (given-up ones too).
    pub latency_split_all_s: Option<LatencySplit>,
    /// What the succeeded requests cost; `null` where a model has no prices.
    pub cost: Option<CostSummary>,
}

/// Cost of the succeeded requests (a 429 costs nothing; a request is billed once).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CostSummary {
    /// Exact: nano-dollar sums written as decimals.
    pub total_usd: String,
    pub per_success_usd: Option<f64>,
    /// Over the measured simulated time.
    pub per_hour_usd: f64,
    pub per_day_usd: f64,
    /// By token kind, exact.
    pub input_usd: String,
    pub cached_input_usd: String,
    pub image_usd: String,
    pub completion_usd: String,
    pub reasoning_usd: String,
    #[serde(skip)]
    pub total_nano: u64,
}

impl CostSummary {
    fn of(c: &Counters, simulated_s: f64) -> CostSummary {
        use crate::prices::{usd, usd_exact};
        let k = &c.cost;
        let total = k.total();
        let per_s = if simulated_s > 0.0 {
            usd(total) / simulated_s
        } else {
            0.0
        };
        CostSummary {
            total_usd: usd_exact(total),
            per_success_usd: (c.succeeded > 0).then(|| usd(total) / c.succeeded as f64),
            per_hour_usd: per_s * 3600.0,
            per_day_usd: per_s * 86_400.0,
            input_usd: usd_exact(k.input),
            cached_input_usd: usd_exact(k.cached_input),
            image_usd: usd_exact(k.image),
            completion_usd: usd_exact(k.completion),
            reasoning_usd: usd_exact(k.reasoning),
            total_nano: total,
        }
    }
}

/// Mean seconds a request spent in each part of its latency.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct LatencySplit {
    pub queued: f64,
    pub backoff: f64,
    pub service: f64,
}

impl LatencySplit {
    fn of(sums: &[u128; 3], n: u64) -> Option<LatencySplit> {
        let mean = |x: u128| x as f64 / n as f64 / 1e9;
        (n > 0).then(|| LatencySplit {
            queued: mean(sums[0]),
            backoff: mean(sums[1]),
            service: mean(sums[2]),
        })
    }
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

impl Totals {
    fn of(c: &Counters, window_s: f64, simulated_s: f64, priced: bool) -> Totals {
        Totals {
            requests: c.requests,
            attempts: c.attempts,
            admitted: c.admitted,
            rate_limited: c.rate_limited,
            never_fits_attempts: c.never_fits_attempts,
            succeeded: c.succeeded,
            gave_up: c.gave_up,
            never_fits: c.never_fits,
            no_credit: c.no_credit,
            server_errors: c.server_errors,
            rate_limited_by: crate::limiter::Limit::ALL
                .iter()
                .map(|l| (l.name(), c.rate_limited_by[*l as usize]))
                .collect(),
            in_flight_at_end: c.in_flight(),
            events: c.events,
            tokens_admitted: c.tokens_admitted,
            tokens_by_kind: c.tokens_by_kind,
            offered_rps: c.requests as f64 / window_s,
            goodput_rps: if simulated_s > 0.0 {
                c.succeeded as f64 / simulated_s
            } else {
                0.0
            },
            success_pct: pct(c.succeeded, c.requests),
            rate_limited_pct: pct(c.rate_limited, c.attempts),
            gave_up_pct: pct(c.gave_up, c.requests),
            latency_s: Quantiles::of(&c.latency_us, 1e6),
            latency_p99_all_s: c.latency_quantile_all_us(0.99).map(|v| v as f64 / 1e6),
            makespan_s: c.makespan_s(),
            attempts_per_request: Quantiles::of(&c.attempts_per_request, 1.0),
            give_up_after_s: Quantiles::of(&c.give_up_us, 1e6),
            gave_up_by_cause: Cause::ALL
                .iter()
                .map(|k| (k.name(), c.gave_up_by_cause[k.index()]))
                .collect(),
            latency_split_s: LatencySplit::of(&c.split_succeeded_ns, c.succeeded),
            latency_split_all_s: LatencySplit::of(
                &c.split_all_ns,
                c.succeeded + c.gave_up + c.never_fits + c.no_credit,
            ),
            cost: priced.then(|| CostSummary::of(c, simulated_s)),
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ModelSummary {
    pub model: String,
    /// Every cap of the model (at the starting tier).
    pub caps: crate::catalog::ModelLimits,
    pub rps_cap: Option<Milli>,
    pub tpm_cap: Option<Milli>,
    /// Admitted attempts / what the request bucket admits at most over the span (its
    /// capacity + its rate × the span); the cap is the RPS, or RPM / 60 a second.
    pub rps_utilisation: f64,
    /// Admitted tokens / what the tokens bucket admits at most over the span (its capacity +
    /// TPM / 60 × the span); `null` without a token cap.
    pub tpm_utilisation: Option<f64>,
    /// Every cap's share used, in the order of the limits table's columns.
    pub utilisation: Vec<CapUse>,
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

/// The results of one client: every stream that sends through it, together.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClientSummary {
    pub client: String,
    pub preset: Option<String>,
    pub streams: Vec<String>,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct CatalogInfo {
    /// The provider profile, the version of its tables, and each assumption it made.
    pub provider: crate::provider::ProviderInfo,
    pub limits: Provenance,
    pub tiers: Provenance,
    pub prices: Provenance,
}

impl CatalogInfo {
    /// Where a scenario's numbers and settings came from.
    pub fn of(scenario: &Scenario) -> CatalogInfo {
        CatalogInfo {
            provider: scenario.provider.clone(),
            limits: scenario.limits_provenance.clone(),
            tiers: scenario.tiers_provenance.clone(),
            prices: scenario.prices_provenance.clone(),
        }
    }

    /// The provider and its limits table: the first lines of both forms below.
    fn head(&self) -> Vec<String> {
        let p = &self.provider;
        vec![
            format!(
                "provider: {} ({}), tables version {}",
                p.name, p.title, p.version
            ),
            format!("limits: {} ({})", self.limits.source, self.limits.date),
        ]
    }

    /// The same, as lines of text for tables and pages: the provider and its tables, then
    /// each assumption kept and each setting the scenario replaced.
    pub fn lines(&self) -> Vec<String> {
        let p = &self.provider;
        let mut out = self.head();
        out.push(format!(
            "tiers: {} ({})",
            self.tiers.source, self.tiers.date
        ));
        for a in &p.assumptions {
            out.push(format!("assumed: {} = {} ({})", a.setting, a.value, a.why));
        }
        for o in &p.overridden {
            out.push(format!("set by the scenario: {o}"));
        }
        out
    }

    /// The same, short, for the terminal: the assumptions on one line, without their reasons
    /// (which `summary.json` and the page give).
    pub fn short_lines(&self) -> Vec<String> {
        let p = &self.provider;
        let mut out = self.head();
        let assumed: Vec<String> = p
            .assumptions
            .iter()
            .map(|a| format!("{} = {}", a.setting, a.value))
            .collect();
        out.push(format!(
            "assumed: {} (why: summary.json, index.html)",
            assumed.join("; ")
        ));
        if !p.overridden.is_empty() {
            out.push(format!("set by the scenario: {}", p.overridden.join("; ")));
        }
        out
    }
}

/// The account over the run: billing, payments, and each tier change.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AccountSummary {
    pub billing: String,
    pub start_tier: String,
    pub end_tier: String,
    pub spend_to_date_usd: String,
    /// Usage billed over the run (every succeeded request, warm-up included).
    pub usage_usd: String,
    /// Payments during the run: purchases, top-ups and paid invoices.
    pub paid_usd: String,
    pub purchases: u64,
    pub top_ups: u64,
    pub invoices_paid: u64,
    /// Usage not paid by the end: invoiced but not yet due, or not yet invoiced.
    pub unpaid_usage_usd: String,
    pub refused_no_credit: u64,
    pub tier_changes: Vec<TierChangeSummary>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TierChangeSummary {
    pub time_s: f64,
    pub from: String,
    pub to: String,
    /// Payments counted toward the tier at that instant, spend to date included.
    pub paid_usd: String,
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
    /// The account, where the scenario has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountSummary>,
    /// The arrival window, seconds.
    pub duration_s: f64,
    /// From time zero to the last event (or the hard stop), seconds.
    pub simulated_s: f64,
    /// Requests that arrived before this are left out of every total; rates are over the
    /// measured part (arrival window and simulated time less the warm-up).
    pub warmup_s: f64,
    /// Whether a hard stop cut the run off before every request ended.
    pub cut_off: bool,
    #[serde(flatten)]
    pub totals: Totals,
    pub models: Vec<ModelSummary>,
    pub clients: Vec<ClientSummary>,
    pub streams: Vec<StreamSummary>,
    /// The scenario as resolved and run (defaults filled in, limits looked up).
    pub scenario: Scenario,
}

/// Builds the summary of one run.
pub fn summarize(scenario: &Scenario, rec: &Recorder, outcome: &RunOutcome) -> Summary {
    let warmup = scenario.warmup;
    let mut total = Counters::default();
    for c in &rec.streams {
        total.merge(c);
    }
    let (window_s, simulated_s) = scenario.measured_spans(outcome.end, total.last_arrival);
    let simulated = SimDuration::from_secs_f64(simulated_s);
    // The arrival window as reported: the duration, or (a job without one) its last arrival.
    let arrivals_end = if scenario.until_done {
        total
            .last_arrival
            .map_or(SimDuration::ZERO, |t| SimDuration(t.0))
    } else {
        scenario.duration
    };
    debug_assert_eq!(total.events, outcome.events);
    let priced = scenario.models.iter().all(|m| m.prices.is_some());
    debug_assert!(warmup > SimDuration::ZERO || total.in_flight() == outcome.in_flight_at_end);
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
            // Utilisation counts what the limiter admitted after the warm-up, whoever sent it
            // (from the time series, in whole buckets), over the same span.
            let (admitted, tokens, secs) = if rec.models == scenario.models.len() {
                let bucket_ns = NANOS_PER_SEC * rec.bucket_s;
                let from = scenario.warmup.0.div_ceil(bucket_ns) * bucket_ns;
                let t = rec.model_totals_from(mi, crate::time::SimTime(from));
                let end = outcome.end.0.max(arrivals_end.0);
                (t.admitted, t.tokens, end.saturating_sub(from) as f64 / 1e9)
            } else {
                (c.admitted, c.tokens_admitted, simulated.0 as f64 / 1e9)
            };
            // What each bucket admits at most over the span: its capacity (full at the start)
            // and its rate over the span.
            let ((req_cap, _, _), tok) =
                crate::limiter::ModelLimiter::shape(&m.limits, &scenario.server);
            let rps_utilisation =
                admitted as f64 / (req_cap.as_f64() + m.limits.requests_per_sec() * secs);
            let tpm_utilisation =
                tok.map(|(cap, tpm)| tokens as f64 / (cap.as_f64() + tpm.as_f64() / 60.0 * secs));
            ModelSummary {
                model: m.name.clone(),
                caps: m.limits,
                rps_cap: m.limits.rps,
                tpm_cap: m.limits.tpm,
                rps_utilisation,
                tpm_utilisation,
                utilisation: cap_uses(
                    &m.limits,
                    &c,
                    &scenario.server,
                    rps_utilisation,
                    tpm_utilisation,
                    simulated_s,
                ),
                totals: Totals::of(&c, window_s, simulated_s, priced),
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
            totals: Totals::of(c, window_s, simulated_s, priced),
        })
        .collect();
    let clients = scenario
        .clients
        .iter()
        .enumerate()
        .map(|(ci, cl)| {
            let mut c = Counters::default();
            let mut names = Vec::new();
            for (s, sc) in scenario.streams.iter().zip(&rec.streams) {
                if s.client == ci {
                    c.merge(sc);
                    names.push(s.name.clone());
                }
            }
            ClientSummary {
                client: cl.name.clone(),
                preset: cl.policy.preset.clone(),
                streams: names,
                totals: Totals::of(&c, window_s, simulated_s, priced),
            }
        })
        .collect();
    Summary {
        schema_version: SCHEMA_VERSION,
        ratesim_version: env!("CARGO_PKG_VERSION"),
        scenario_name: scenario.name.clone(),
        seed: scenario.seed,
        tier: scenario.tier.clone(),
        tier_spend_usd: scenario.tier_spend_usd,
        catalog: CatalogInfo::of(scenario),
        account: scenario
            .account
            .as_ref()
            .zip(outcome.account.as_ref())
            .map(|(spec, a)| {
                use crate::prices::usd_exact;
                AccountSummary {
                    billing: match spec.billing {
                        crate::account::Billing::Prepaid { .. } => "prepaid".into(),
                        crate::account::Billing::Invoice { .. } => "invoice".into(),
                    },
                    start_tier: spec.ladder[0].tier.clone(),
                    end_tier: a
                        .tier_changes
                        .last()
                        .map_or_else(|| spec.ladder[0].tier.clone(), |c| c.to.clone()),
                    spend_to_date_usd: usd_exact(spec.spend_to_date),
                    usage_usd: usd_exact(a.usage),
                    paid_usd: usd_exact(a.paid),
                    purchases: a.purchases,
                    top_ups: a.top_ups,
                    invoices_paid: a.invoices_paid,
                    unpaid_usage_usd: usd_exact(a.unpaid_usage),
                    refused_no_credit: a.refused_no_credit,
                    tier_changes: a
                        .tier_changes
                        .iter()
                        .map(|c| TierChangeSummary {
                            time_s: c.time_ns as f64 / 1e9,
                            from: c.from.clone(),
                            to: c.to.clone(),
                            paid_usd: usd_exact(c.paid),
                        })
                        .collect(),
                }
            }),
        duration_s: arrivals_end.as_secs_f64(),
        simulated_s: SimDuration(outcome.end.0.max(arrivals_end.0)).as_secs_f64(),
        warmup_s: warmup.as_secs_f64(),
        cut_off: outcome.cut_off,
        totals: Totals::of(&total, window_s, simulated_s, priced),
        models,
        clients,
        streams,
        scenario: scenario.clone(),
    }
}

/// Names of the per-run metrics of sweeps (`runs.csv`, `aggregate.csv`), in column order.
pub const METRICS: &[&str] = &[
    "requests",
    "attempts",
    "admitted",
    "rate_limited",
    "succeeded",
    "gave_up",
    "never_fits",
    "in_flight_at_end",
    "events",
    "tokens_admitted",
    "offered_rps",
    "goodput_rps",
    "success_pct",
    "rate_limited_pct",
    "gave_up_pct",
    "latency_p50_s",
    "latency_p90_s",
    "latency_p99_s",
    "latency_p999_s",
    "latency_max_s",
    "latency_mean_s",
    "attempts_per_request_mean",
    "attempts_per_request_p99",
    "attempts_per_request_max",
    "give_up_after_mean_s",
    "rps_utilisation",
    "tpm_utilisation",
    "latency_p99_all_s",
    "makespan_s",
    "queued_mean_s",
    "backoff_mean_s",
    "service_mean_s",
    "gave_up_retries_exhausted_pct",
    "gave_up_time_budget_pct",
    "gave_up_deadline_pct",
    "gave_up_budget_empty_pct",
    "gave_up_breaker_open_pct",
    "gave_up_retry_after_too_large_pct",
    "gave_up_not_retried_pct",
    "gave_up_server_error_pct",
    "no_credit",
    "server_errors",
    "cost_usd",
    "cost_per_day_usd",
    "cost_per_success_usd",
];

impl Summary {
    /// The values of [`METRICS`], in order; `None` where a run has no value (e.g. no latency
    /// when nothing succeeded). Utilisation is the highest over the scenario's models.
    pub fn metric_values(&self) -> Vec<Option<f64>> {
        let t = &self.totals;
        let max_over = |f: &dyn Fn(&ModelSummary) -> Option<f64>| {
            self.models.iter().filter_map(f).reduce(f64::max)
        };
        let v = vec![
            Some(t.requests as f64),
            Some(t.attempts as f64),
            Some(t.admitted as f64),
            Some(t.rate_limited as f64),
            Some(t.succeeded as f64),
            Some(t.gave_up as f64),
            Some(t.never_fits as f64),
            Some(t.in_flight_at_end as f64),
            Some(t.events as f64),
            Some(t.tokens_admitted as f64),
            Some(t.offered_rps),
            Some(t.goodput_rps),
            Some(t.success_pct),
            Some(t.rate_limited_pct),
            Some(t.gave_up_pct),
            t.latency_s.p50,
            t.latency_s.p90,
            t.latency_s.p99,
            t.latency_s.p999,
            t.latency_s.max,
            t.latency_s.mean,
            t.attempts_per_request.mean,
            t.attempts_per_request.p99,
            t.attempts_per_request.max,
            t.give_up_after_s.mean,
            max_over(&|m| Some(m.rps_utilisation)),
            max_over(&|m| m.tpm_utilisation),
            t.latency_p99_all_s,
            t.makespan_s,
            t.latency_split_s.map(|l| l.queued),
            t.latency_split_s.map(|l| l.backoff),
            t.latency_split_s.map(|l| l.service),
        ];
        let mut v = v;
        v.extend(
            Cause::ALL
                .iter()
                .map(|k| Some(pct(t.gave_up_by_cause[k.name()], t.requests))),
        );
        v.push(Some(t.no_credit as f64));
        v.push(Some(t.server_errors as f64));
        v.push(t.cost.as_ref().map(|c| crate::prices::usd(c.total_nano)));
        v.push(t.cost.as_ref().map(|c| c.per_day_usd));
        v.push(t.cost.as_ref().and_then(|c| c.per_success_usd));
        debug_assert_eq!(v.len(), METRICS.len());
        v
    }
}

/// Index of a metric in [`METRICS`].
pub fn metric_index(name: &str) -> Option<usize> {
    METRICS.iter().position(|m| *m == name)
}

/// How much of one cap a run used.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CapUse {
    /// The cap's column name: `rps`, `rpm`, `rpd`, `tpm`, `tpd`, `itpm`, `otpm`, `ipm` or
    /// `concurrent`.
    pub cap: &'static str,
    pub limit: Milli,
    /// What was used over the measured span, as a share of what the cap admits at most over
    /// it (its capacity, full at the start, plus its rate × the span): at most 1, except for
    /// output charged after admission (OTPM), which can overshoot; for `concurrent`, the mean
    /// number in service over the cap.
    pub used: f64,
}

/// The share of each cap used: the request cap and TPM as measured from the time series; the
/// others from what was admitted after the warm-up (`c`) over `secs`.
fn cap_uses(
    l: &crate::catalog::ModelLimits,
    c: &Counters,
    server: &crate::limiter::LimiterConfig,
    request_use: f64,
    tpm_use: Option<f64>,
    secs: f64,
) -> Vec<CapUse> {
    let k = &c.tokens_by_kind;
    let input = k.prompt + k.image - if server.count_cached { 0 } else { k.cached };
    let output = k.completion + k.reasoning;
    // What TPM and TPD are charged once requests settle: input, and output unless the
    // accounting counts input only.
    let charged = match server.accounting {
        crate::limiter::Accounting::Input => input,
        _ => input + output,
    };
    let served_s = c.split_all_ns[2] as f64 / 1e9;
    let primary = l.request_cap().map(|r| r.limit);
    crate::catalog::CAP_COLUMNS
        .iter()
        .filter_map(|&cap| {
            let limit = l.get(cap)?;
            // What the cap admits at most over the span: its capacity (a full bucket at the
            // start: one period's amount, or rate x quantum) and its rate over the span.
            let per = |amount: u64, period_s: f64| {
                let capacity = crate::limiter::ModelLimiter::extra_capacity(
                    limit,
                    server,
                    crate::time::SimDuration::from_secs(period_s as u64),
                );
                amount as f64 / (capacity.as_f64() + limit.as_f64() / period_s * secs)
            };
            let used = match cap {
                "rps" => request_use,
                "rpm" if primary == Some(crate::limiter::Limit::RequestsPerMinute) => request_use,
                "rpm" => per(c.admitted, 60.0),
                "rpd" => per(c.admitted, 86_400.0),
                "tpm" => tpm_use?,
                "tpd" => per(charged, 86_400.0),
                "itpm" => per(input, 60.0),
                "otpm" => per(output, 60.0),
                "ipm" => per(k.images, 60.0),
                _ => served_s / secs / limit.as_f64(),
            };
            Some(CapUse { cap, limit, used })
        })
        .collect()
}
