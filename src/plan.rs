//! Capacity planning: for each tier, the highest load multiplier that meets a service-level
//! objective (SLO), found by bisection over load with replications.
//!
//! Each evaluation pools `replications` runs (their counters and histograms are merged, so a
//! p99 is the p99 of all requests of all replications). Replication k uses the same seed at
//! every load and on every tier (common random numbers), so the search sees a smooth, nearly
//! monotone response instead of fresh noise at each step, and tiers are compared on the same
//! workload.
//!
//! A latency term (quantile or mean) counts requests that did not succeed (gave up, never fit,
//! cut off) as infinitely slow: `p99<=10s` fails once more than 1 % of requests fail, and
//! `mean<=8s` once any request fails, whatever the latency of the others. Every term must get
//! harder to meet as load grows (latency, 429s, give-ups and attempts bounded above; success
//! bounded below), which the bisection relies on.
//!
//! The search is bounded: it never goes past [`SATURATION`] times the load at which every model
//! reaches its binding cap (RPS or TPM), nor past [`MAX_LOAD`] or `--max-load`. A term that does
//! not bind by then (say `attempts<=10` with a client that stops at 6) gives the clear answer
//! "meets the SLO at every load searched" rather than a search that runs for hours.

use rayon::prelude::*;
use serde::Serialize;

use crate::metrics::Counters;
use crate::scenario::{Document, Edit, Overrides, Scenario};
use crate::sweep::run_seed;

/// Which number an SLO term constrains.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum SloMetric {
    /// A latency quantile over all requests, failed ones counted as infinitely slow (0.5, 0.9,
    /// 0.99, 0.999), in seconds.
    Latency(f64),
    /// Mean latency over all requests (infinite if any failed), seconds.
    LatencyMean,
    /// Succeeded / requests, percent.
    Success,
    /// 429s / attempts, percent.
    RateLimited,
    /// Gave up / requests, percent.
    GaveUp,
    /// Mean attempts per request.
    Attempts,
    /// First arrival to the last end of a finite job (the longest replication), seconds.
    Makespan,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    Le,
    Lt,
    Ge,
    Gt,
}

/// One term of an SLO, such as `p99<=10s`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SloTerm {
    pub text: String,
    pub metric: SloMetric,
    pub op: Op,
    pub threshold: f64,
}

const SLO_HELP: &str = "an SLO term is METRIC OP VALUE: p50|p90|p99|p999|mean (latency with its unit s or ms, e.g. p99<=10s, p50<=800ms), success (e.g. success>=99.9%), rate_limited (429s per attempt, e.g. rate_limited<=1%), gave_up (e.g. gave_up<=0.1%), attempts (mean attempts per request, e.g. attempts<=1.5), makespan (a finite job's first arrival to last end, e.g. makespan<=90m; the search then grows the job); OP is <=, <, >= or >";

/// Parses one or more comma-separated SLO terms.
pub fn parse_slo(text: &str) -> Result<Vec<SloTerm>, String> {
    let mut out = Vec::new();
    for raw in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let t: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let (pos, op, width) = ["<=", ">=", "<", ">"]
            .iter()
            .filter_map(|o| t.find(o).map(|p| (p, *o, o.len())))
            .min_by_key(|(p, _, w)| (*p, std::cmp::Reverse(*w)))
            .ok_or_else(|| format!("`{raw}` has no comparison; {SLO_HELP}"))?;
        let (name, value) = (&t[..pos], &t[pos + width..]);
        let op_str = op;
        let op = match op {
            "<=" => Op::Le,
            "<" => Op::Lt,
            ">=" => Op::Ge,
            _ => Op::Gt,
        };
        let metric = match name {
            "p50" => SloMetric::Latency(0.5),
            "p90" => SloMetric::Latency(0.9),
            "p99" => SloMetric::Latency(0.99),
            "p999" | "p99.9" => SloMetric::Latency(0.999),
            "mean" => SloMetric::LatencyMean,
            "success" => SloMetric::Success,
            "rate_limited" | "429" => SloMetric::RateLimited,
            "gave_up" => SloMetric::GaveUp,
            "attempts" => SloMetric::Attempts,
            "makespan" => SloMetric::Makespan,
            other => {
                return Err(format!(
                    "unknown SLO metric `{other}` in `{raw}`; {SLO_HELP}"
                ));
            }
        };
        let number = |s: &str| -> Result<f64, String> {
            s.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| format!("`{raw}`: `{s}` is not a number >= 0; {SLO_HELP}"))
        };
        let threshold = match metric {
            SloMetric::Latency(_) | SloMetric::LatencyMean => {
                // The unit is required, so that `p99<=500` meant as milliseconds is not read
                // as 500 s.
                if let Some(ms) = value.strip_suffix("ms") {
                    number(ms)? / 1000.0
                } else if let Some(secs) = value.strip_suffix('s') {
                    number(secs)?
                } else {
                    number(value)?;
                    return Err(format!(
                        "`{raw}`: a latency needs its unit, s or ms, e.g. {name}{op_str}{value}s or {name}{op_str}{value}ms"
                    ));
                }
            }
            SloMetric::Success | SloMetric::RateLimited | SloMetric::GaveUp => {
                // The % is required, so that `success>=0.999` is not read as 0.999 %.
                let digits = value.strip_suffix('%').ok_or_else(|| {
                    format!(
                        "`{raw}`: write the value as a percentage with %, e.g. {name}{op_str}99.9%"
                    )
                })?;
                let v = number(digits)?;
                if v > 100.0 {
                    return Err(format!("`{raw}`: a percentage is at most 100"));
                }
                v
            }
            SloMetric::Attempts => number(value)?,
            SloMetric::Makespan => crate::time::parse_duration(value)
                .map_err(|e| format!("`{raw}`: {e}"))?
                .as_secs_f64(),
        };
        let upper_bound = matches!(op, Op::Le | Op::Lt);
        let wants_upper = !matches!(metric, SloMetric::Success);
        if upper_bound != wants_upper {
            return Err(format!(
                "`{raw}`: {name} must be bounded {} (an objective that gets harder as load grows), e.g. {}",
                if wants_upper {
                    "above, with <= or <"
                } else {
                    "below, with >= or >"
                },
                if wants_upper {
                    format!("{name}<={value}")
                } else {
                    format!("{name}>={value}")
                }
            ));
        }
        out.push(SloTerm {
            text: raw.to_string(),
            metric,
            op,
            threshold,
        });
    }
    if out.is_empty() {
        return Err(format!("no SLO given; {SLO_HELP}"));
    }
    Ok(out)
}

/// Pooled results of the replications at one load.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub load: f64,
    /// Requests over the pooled replications, and those that did not succeed.
    pub requests: u64,
    pub failed: u64,
    pub offered_rps: f64,
    pub goodput_rps: f64,
    pub success_pct: f64,
    pub rate_limited_pct: f64,
    pub gave_up_pct: f64,
    /// Latency quantiles and mean of succeeded requests only.
    pub p50_s: Option<f64>,
    pub p99_s: Option<f64>,
    pub mean_s: Option<f64>,
    /// p99 over all requests, failed ones counted as infinitely slow (what an SLO term
    /// checks): infinite when more than 1 % of requests failed.
    pub p99_all_s: f64,
    pub attempts_mean: f64,
    /// First arrival to the last end (pooled: the longest replication), seconds.
    pub makespan_s: Option<f64>,
    /// What the succeeded requests cost per day of simulated time (`None` without prices).
    pub cost_per_day_usd: Option<f64>,
    pub meets: bool,
}

impl Evaluation {
    fn from_counters(
        load: f64,
        c: &Counters,
        window_s: f64,
        simulated_s: f64,
        slo: &[SloTerm],
        priced: bool,
    ) -> Evaluation {
        let pct = |a: u64, b: u64| {
            if b == 0 {
                0.0
            } else {
                100.0 * a as f64 / b as f64
            }
        };
        let q = |p: f64| c.latency_us.quantile(p).map(|v| v as f64 / 1e6);
        // Over all requests, with those that did not succeed counted as infinitely slow.
        let q_all = |p: f64| {
            Some(
                c.latency_quantile_all_us(p)
                    .map_or(f64::INFINITY, |v| v as f64 / 1e6),
            )
        };
        let mut e = Evaluation {
            load,
            requests: c.requests,
            failed: c.requests - c.succeeded,
            offered_rps: c.requests as f64 / window_s,
            goodput_rps: c.succeeded as f64 / simulated_s,
            success_pct: pct(c.succeeded, c.requests),
            rate_limited_pct: pct(c.rate_limited, c.attempts),
            gave_up_pct: pct(c.gave_up, c.requests),
            p50_s: q(0.5),
            p99_s: q(0.99),
            mean_s: c.latency_us.mean().map(|m| m / 1e6),
            p99_all_s: q_all(0.99).unwrap_or(f64::INFINITY),
            makespan_s: c.makespan_s(),
            attempts_mean: c.attempts_per_request.mean().unwrap_or(0.0),
            cost_per_day_usd: (priced && simulated_s > 0.0)
                .then(|| crate::prices::usd(c.cost.total()) / simulated_s * 86_400.0),
            meets: false,
        };
        e.meets = slo.iter().all(|t| {
            let v = match t.metric {
                SloMetric::Latency(p) => q_all(p),
                SloMetric::LatencyMean => {
                    if c.succeeded < c.requests {
                        Some(f64::INFINITY)
                    } else {
                        e.mean_s
                    }
                }
                SloMetric::Success => Some(e.success_pct),
                SloMetric::RateLimited => Some(e.rate_limited_pct),
                SloMetric::GaveUp => Some(e.gave_up_pct),
                SloMetric::Attempts => Some(e.attempts_mean),
                SloMetric::Makespan => e.makespan_s,
            };
            // No succeeded request means no latency: a latency objective is then not met.
            v.is_some_and(|v| match t.op {
                Op::Le => v <= t.threshold,
                Op::Lt => v < t.threshold,
                Op::Ge => v >= t.threshold,
                Op::Gt => v > t.threshold,
            })
        });
        e
    }
}

/// Settings of a plan.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub tiers: Vec<String>,
    pub slo: Vec<SloTerm>,
    pub replications: u32,
    /// Relative precision of the knee: the search stops when hi / lo - 1 <= precision.
    pub precision: f64,
    /// Points per tier on the chart's load grid.
    pub curve_points: usize,
    /// The highest load multiplier to search (`None`: [`SATURATION`] times the load at which
    /// every model reaches its binding cap, at most [`MAX_LOAD`]).
    pub max_load: Option<f64>,
}

impl PlanOptions {
    /// Whether the search grows the job (a makespan objective) rather than the arrival rate.
    pub fn by_job_size(&self) -> bool {
        self.slo.iter().any(|t| t.metric == SloMetric::Makespan)
    }
}

/// How far past the caps the search goes: up to this many times the load at which every model
/// of the scenario reaches its binding cap (RPS, or TPM at the mean request size).
pub const SATURATION: f64 = 8.0;

/// Finest relative precision a search accepts.
pub const MIN_PRECISION: f64 = 1e-6;

/// Loads searched: from 1/1024 to 1024 times the scenario's own.
pub const MIN_LOAD: f64 = 1.0 / 1024.0;
pub const MAX_LOAD: f64 = 1024.0;

/// The result for one tier.
#[derive(Clone, Debug, Serialize)]
pub struct TierPlan {
    pub tier: String,
    pub spend_usd: Option<f64>,
    /// Highest load multiplier found to meet the SLO (`None`: not even the smallest load).
    pub knee: Option<f64>,
    /// The smallest load found to fail (`None`: none up to [`MAX_LOAD`], or the highest load
    /// the scenario's rates allow).
    pub fails_at: Option<f64>,
    /// The evaluation at the scenario's own load (1.0).
    pub at_own_load: Evaluation,
    pub at_knee: Option<Evaluation>,
    /// The highest load the search could try (see [`SATURATION`]).
    pub max_load: f64,
    /// Every load evaluated by the search, in order.
    pub searched: Vec<Evaluation>,
    /// The chart's load grid.
    pub curve: Vec<Evaluation>,
}

/// The whole plan.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub scenario_name: String,
    pub slo: Vec<SloTerm>,
    pub replications: u32,
    pub precision: f64,
    /// Offered requests per second at load 1.0.
    pub base_offered_rps: f64,
    pub tiers: Vec<TierPlan>,
    /// The cheapest tier that meets the SLO at the scenario's own load.
    pub cheapest: Option<String>,
    /// The provider, its tables and the assumptions of the scenario.
    pub sources: crate::report::summary::CatalogInfo,
}

struct TierSearch<'a> {
    scenario: Scenario,
    key: u64,
    opts: &'a PlanOptions,
    /// Evaluations made before (an interrupted plan) and where new ones are recorded.
    journal: Option<&'a crate::journal::PlanJournal>,
    /// The highest load the search may try: [`MAX_LOAD`], or less where a stream's rate would
    /// exceed the largest rate a scenario allows.
    max_load: f64,
}

/// Called after each evaluation of the search, with the tier and the evaluation.
pub type Progress<'a> = &'a (dyn Fn(&str, &Evaluation) + Sync);

impl TierSearch<'_> {
    fn evaluate(&self, load: f64) -> Evaluation {
        if let Some(e) = self.journal.and_then(|j| j.get(&self.scenario.tier, load)) {
            return e;
        }
        let e = self.evaluate_now(load);
        if let Some(j) = self.journal {
            j.record(&self.scenario.tier, &e);
        }
        e
    }

    fn evaluate_now(&self, load: f64) -> Evaluation {
        // Rates over the measured part of each run (after the warm-up).
        let by_size = self.opts.by_job_size();
        let parts: Vec<(Counters, f64, f64)> = (0..self.opts.replications)
            .into_par_iter()
            .map(|k| {
                let mut s = self.scenario.clone();
                s.seed = run_seed(self.scenario.seed, self.key, k);
                if by_size {
                    s.scale_job(load);
                } else {
                    s.scale_load(load)
                        .expect("loads stay within max_load, which keeps every rate allowed");
                }
                let (rec, outcome) = crate::simulate(&s);
                let mut c = Counters::default();
                for sc in &rec.streams {
                    c.merge(sc);
                }
                let (window, simulated) = s.measured_spans(outcome.end, c.last_arrival);
                (c, window, simulated)
            })
            .collect();
        let mut all = Counters::default();
        let (mut window, mut simulated) = (0.0, 0.0);
        for (c, w, s) in &parts {
            all.merge(c);
            window += w;
            simulated += s;
        }
        let priced = self.scenario.models.iter().all(|m| m.prices.is_some());
        Evaluation::from_counters(load, &all, window, simulated, &self.opts.slo, priced)
    }

    /// Brackets the threshold by doubling or halving from load 1, then bisects.
    fn search(&self, progress: Progress) -> (Option<f64>, Option<f64>, Vec<Evaluation>) {
        let mut searched = Vec::new();
        let eval = |load: f64, searched: &mut Vec<Evaluation>| {
            let e = self.evaluate(load);
            progress(&self.scenario.tier, &e);
            let m = e.meets;
            searched.push(e);
            m
        };
        let (mut lo, mut hi) = (None, None);
        if eval(1.0, &mut searched) {
            lo = Some(1.0);
            let mut x = 1.0;
            while x < self.max_load {
                // Doubling, with the last step landing exactly on the bound.
                x = (x * 2.0).min(self.max_load);
                if eval(x, &mut searched) {
                    lo = Some(x);
                } else {
                    hi = Some(x);
                    break;
                }
            }
        } else {
            hi = Some(1.0);
            let mut x = 0.5;
            while x >= MIN_LOAD {
                if eval(x, &mut searched) {
                    lo = Some(x);
                    break;
                }
                hi = Some(x);
                x /= 2.0;
            }
        }
        if let (Some(mut l), Some(mut h)) = (lo, hi) {
            // Precision is at least MIN_PRECISION, so this ends within ~40 steps; the cap is a
            // guard against floating-point corner cases.
            for _ in 0..200 {
                if h / l - 1.0 <= self.opts.precision {
                    break;
                }
                let mid = (l + h) / 2.0;
                if eval(mid, &mut searched) {
                    l = mid;
                } else {
                    h = mid;
                }
            }
            lo = Some(l);
            hi = Some(h);
        }
        (lo, hi, searched)
    }
}

/// Runs the plan: a search per tier (tiers in parallel), then the chart's load grid.
pub fn plan(
    doc: &Document,
    overrides: &Overrides,
    opts: &PlanOptions,
    progress: Progress,
    journal: Option<&crate::journal::PlanJournal>,
) -> crate::error::Result<Plan> {
    let mut searches = Vec::new();
    for tier in &opts.tiers {
        let scenario = doc.variant(overrides, &[Edit::Tier(tier.clone())])?;
        // Common random numbers: the same seeds on every tier and at every load.
        let key = 0;
        // Rounded down a little, so that rate * load never exceeds the allowed rate (or the
        // allowed number of workers). A job-size search (makespan) has no rate to exceed and
        // no saturation: makespan grows without bound with the job, so the SLO fails in time.
        let by_size = opts.by_job_size();
        let max_load = scenario
            .streams
            .iter()
            .map(|st| match &st.arrivals.process {
                _ if by_size => MAX_LOAD,
                crate::workload::Process::Workers(w) => {
                    crate::scenario::MAX_WORKERS as f64 / w.count as f64
                }
                p => {
                    crate::scenario::MAX_RATE_PER_SEC / p.peak_rate_per_sec().unwrap_or(1.0)
                        * (1.0 - 1e-9)
                }
            })
            .fold(
                opts.max_load
                    .unwrap_or_else(|| {
                        if by_size {
                            MAX_LOAD
                        } else {
                            SATURATION * saturation_load(&scenario)
                        }
                    })
                    .min(MAX_LOAD),
                f64::min,
            )
            .max(1.0);
        searches.push(TierSearch {
            scenario,
            key,
            opts,
            journal,
            max_load,
        });
    }
    let results: Vec<(Option<f64>, Option<f64>, Vec<Evaluation>)> =
        searches.par_iter().map(|s| s.search(progress)).collect();
    // What load 1 offered, as measured (the same on every tier: common random numbers).
    let base_offered_rps = results
        .first()
        .and_then(|r| r.2.first())
        .map_or(0.0, |e| e.offered_rps);
    // One load grid for every tier, up to 1.5 times the largest finite knee.
    let top = results
        .iter()
        .filter_map(|(lo, hi, _)| hi.or(*lo))
        .fold(1.0f64, f64::max)
        * 1.5;
    let top = searches.iter().map(|s| s.max_load).fold(top, f64::min);
    let n = opts.curve_points.max(2);
    let grid: Vec<f64> = (1..=n)
        .map(|i| (top * i as f64 / n as f64).min(top))
        .collect();
    let curves: Vec<Vec<Evaluation>> = searches
        .par_iter()
        .map(|s| grid.par_iter().map(|&l| s.evaluate(l)).collect())
        .collect();
    let mut tiers = Vec::new();
    for ((s, (lo, hi, searched)), curve) in searches.iter().zip(results).zip(curves) {
        let at_own_load = searched[0].clone();
        let at_knee = lo.and_then(|l| searched.iter().rev().find(|e| e.load == l).cloned());
        tiers.push(TierPlan {
            tier: s.scenario.tier.clone(),
            spend_usd: s.scenario.tier_spend_usd,
            knee: lo,
            fails_at: hi,
            max_load: s.max_load,
            at_own_load,
            at_knee,
            searched,
            curve,
        });
    }
    let cheapest = tiers
        .iter()
        .filter(|t| t.at_own_load.meets)
        .min_by(|a, b| {
            let spend = |t: &TierPlan| t.spend_usd.unwrap_or(f64::INFINITY);
            spend(a).total_cmp(&spend(b))
        })
        .map(|t| t.tier.clone());
    Ok(Plan {
        scenario_name: searches
            .first()
            .map(|s| s.scenario.name.clone())
            .unwrap_or_default(),
        slo: opts.slo.clone(),
        replications: opts.replications,
        precision: opts.precision,
        base_offered_rps,
        tiers,
        cheapest,
        sources: crate::report::summary::CatalogInfo::of(&doc.variant(overrides, &[])?),
    })
}

/// The load multiplier at which every model reaches its binding cap: for each model, the load
/// at which its streams' peak arrival rate meets the RPS cap or their mean token rate meets the
/// TPM cap, whichever comes first; then the largest of those over the models.
pub fn saturation_load(s: &Scenario) -> f64 {
    s.models
        .iter()
        .enumerate()
        .filter_map(|(m, model)| {
            let streams = s.streams.iter().filter(|st| st.model == m);
            let rps: f64 = streams.clone().map(|st| st.peak_rate_per_sec()).sum();
            let tokens_per_min: f64 = streams
                .map(|st| 60.0 * st.peak_rate_per_sec() * st.mean_tokens())
                .sum();
            if rps <= 0.0 {
                return None;
            }
            let by_rps = model.limits.requests_per_sec() / rps;
            let by_tpm = model
                .limits
                .tpm
                .map_or(f64::INFINITY, |t| t.as_f64() / tokens_per_min);
            Some(by_rps.min(by_tpm))
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slo_terms_parse_with_units() {
        let t = parse_slo("p99<=10s, success>=99.9%,rate_limited <= 1%").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(
            (t[0].metric, t[0].op, t[0].threshold),
            (SloMetric::Latency(0.99), Op::Le, 10.0)
        );
        assert_eq!(
            (t[1].metric, t[1].op, t[1].threshold),
            (SloMetric::Success, Op::Ge, 99.9)
        );
        assert_eq!(t[2].metric, SloMetric::RateLimited);
        assert_eq!(parse_slo("p50<800ms").unwrap()[0].threshold, 0.8);
        assert_eq!(parse_slo("p50<800ms").unwrap()[0].op, Op::Lt);
    }

    #[test]
    fn bad_slo_terms_say_what_is_allowed() {
        for bad in ["p98<=1s", "success=99", "p99<=fast", "success>=101%", ""] {
            let e = parse_slo(bad).unwrap_err();
            assert!(
                e.contains("p50|p90|p99") || e.contains("at most 100"),
                "{bad}: {e}"
            );
        }
        assert!(parse_slo("success>=0.999").unwrap_err().contains("with %"));
        assert!(
            parse_slo("success<=99%")
                .unwrap_err()
                .contains("bounded below")
        );
        assert!(parse_slo("p99>=1s").unwrap_err().contains("bounded above"));
        assert!(
            parse_slo("rate_limited>=5%")
                .unwrap_err()
                .contains("bounded above")
        );
    }

    #[test]
    fn latency_quantiles_count_failed_requests_as_infinitely_slow() {
        let mut c = Counters {
            requests: 100,
            succeeded: 98,
            ..Counters::default()
        };
        for v in 1..=98u64 {
            c.latency_us.record(v * 1_000_000);
        }
        // 2 % failed: the p99 over all requests is infinite, although every success took <= 98 s.
        let slo = parse_slo("p99<=1000s").unwrap();
        assert!(!Evaluation::from_counters(1.0, &c, 1.0, 1.0, &slo, false).meets);
        // p90 over all is the succeeded quantile at 0.9 * 100 / 98 = 0.918, about 90 s.
        let slo = parse_slo("p90<=95s").unwrap();
        assert!(Evaluation::from_counters(1.0, &c, 1.0, 1.0, &slo, false).meets);
        let slo = parse_slo("p90<=85s").unwrap();
        assert!(!Evaluation::from_counters(1.0, &c, 1.0, 1.0, &slo, false).meets);
    }

    #[test]
    fn the_mean_term_counts_failed_requests_as_infinitely_slow() {
        // Issue 6, bug 1: the mean of succeeded requests levels off under overload, so a mean
        // term never failed and the search ran for ever.
        let mut c = Counters {
            requests: 100,
            succeeded: 100,
            ..Counters::default()
        };
        for _ in 0..100 {
            c.latency_us.record(2_000_000);
        }
        let slo = parse_slo("mean<=8s").unwrap();
        assert!(Evaluation::from_counters(1.0, &c, 1.0, 1.0, &slo, false).meets);
        c.requests = 101; // one request gave up
        c.gave_up = 1;
        let e = Evaluation::from_counters(1.0, &c, 1.0, 1.0, &slo, false);
        assert!(
            !e.meets,
            "a failed request makes the mean over all requests infinite"
        );
        assert_eq!(
            e.mean_s,
            Some(2.0),
            "the reported mean stays that of succeeded requests"
        );
    }

    #[test]
    fn latency_terms_require_their_unit() {
        // Issue 6, bug 7: `p99<=10` was read as 10 s; `p99<=500` meant as ms was 1000x looser.
        for bare in ["p99<=10", "p50<500", "mean<=8"] {
            let e = parse_slo(bare).unwrap_err();
            assert!(e.contains("needs its unit, s or ms"), "{bare}: {e}");
        }
        assert_eq!(parse_slo("p99<=500ms").unwrap()[0].threshold, 0.5);
        assert_eq!(parse_slo("p99<=10s").unwrap()[0].threshold, 10.0);
    }
}
