//! The charts users look at, built from results (no statistics here beyond arranging points).

use super::charts::{BarPanel, Chart, HLine, LinePanel, Marker, Panel, Series};
use crate::metrics::{Counters, Recorder};
use crate::scenario::Scenario;

/// Longest series drawn point per second; longer runs are shown as means over buckets.
const MAX_POINTS: usize = 1_200;

/// The unit of a time axis for a run of `span_s` seconds: seconds up to 20 minutes, minutes
/// up to 10 hours, then hours. Returns (seconds per unit, name).
pub fn time_unit(span_s: f64) -> (f64, &'static str) {
    if span_s <= 1_200.0 {
        (1.0, "s")
    } else if span_s <= 36_000.0 {
        (60.0, "min")
    } else {
        (3_600.0, "h")
    }
}

/// Requests per second (attempts, 429s, admitted, completions, gave up) with each model's RPS
/// cap; tokens per minute admitted with each TPM cap (when a model has one); requests in flight.
pub fn timeseries(scenario: &Scenario, rec: &Recorder, tier_changes: &[(f64, String)]) -> Chart {
    let n = rec.buckets.len();
    // Buckets per drawn point: a round number of seconds (1, 2, 5, 10, 15, 30 s, 1, 2, 5,
    // 10, 15, 30 min, 1 h, ...) that keeps the line under MAX_POINTS points.
    let needed = n.div_ceil(MAX_POINTS).max(1) as u64 * rec.bucket_s;
    let nice = [1u64, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]
        .into_iter()
        .find(|&s| s >= needed && s % rec.bucket_s == 0)
        .unwrap_or_else(|| needed.div_ceil(3600) * 3600);
    let bucket = (nice / rec.bucket_s).max(1) as usize;
    let width = rec.bucket_s as f64;
    let (unit_s, unit) = time_unit(n as f64 * width);
    let x_label = format!("simulated time ({unit})");
    let in_flight = rec.in_flight_series();
    // Mean per second of `f` over each drawn point's buckets.
    let mean_per_s = |f: &dyn Fn(usize) -> u64| -> Vec<(f64, f64)> {
        (0..n)
            .step_by(bucket)
            .map(|start| {
                let end = (start + bucket).min(n);
                let sum: u64 = (start..end).map(f).sum();
                (
                    start as f64 * width / unit_s,
                    sum as f64 / ((end - start) as f64 * width),
                )
            })
            .collect()
    };
    let s = &rec.buckets;
    let per = if bucket == 1 && rec.bucket_s == 1 {
        "per second".to_string()
    } else {
        format!("per second, mean over {} s", bucket as u64 * rec.bucket_s)
    };
    // Drawn in this order, so that each line stays visible on the one below it: attempts
    // under 429s, admitted under completions.
    let named: [(&str, &dyn Fn(usize) -> u64); 5] = [
        ("attempts sent", &|i| s[i].attempts),
        ("429s", &|i| s[i].rate_limited),
        ("admitted", &|i| s[i].admitted),
        ("completions", &|i| s[i].completions),
        ("gave up", &|i| s[i].gave_up + s[i].never_fits),
    ];
    let series = named
        .iter()
        .map(|(name, f)| Series {
            name: (*name).into(),
            points: mean_per_s(*f),
            ..Series::default()
        })
        .collect();
    let mut caps: Vec<HLine> = scenario
        .models
        .iter()
        .map(|m| HLine {
            y: m.limits.requests_per_sec(),
            label: format!("{} request cap ({})", m.name, request_cap_label(&m.limits)),
        })
        .collect();
    // Tier changes: a mark where each happened, and the RPS caps of each tier reached.
    let vlines: Vec<super::charts::VLine> = tier_changes
        .iter()
        .map(|(t, label)| super::charts::VLine {
            x: t / unit_s,
            label: label.clone(),
        })
        .collect();
    if let Some(acc) = &scenario.account {
        for step in acc.ladder.iter().skip(1) {
            if tier_changes
                .iter()
                .any(|(_, l)| l.ends_with(&format!("tier {}", step.tier)))
            {
                for (m, lim) in scenario.models.iter().zip(&step.limits) {
                    caps.push(HLine {
                        y: lim.requests_per_sec(),
                        label: format!(
                            "{} request cap at tier {} ({})",
                            m.name,
                            step.tier,
                            request_cap_label(lim)
                        ),
                    });
                }
            }
        }
    }
    let warmup = if scenario.warmup > crate::time::SimDuration::ZERO {
        format!(
            "; the first {} are warm-up, left out of the totals",
            scenario.warmup
        )
    } else {
        String::new()
    };
    let mut panels = vec![Panel::Line(LinePanel {
        title: format!("requests ({per}){warmup}"),
        x_label: x_label.clone(),
        y_label: "per second".into(),
        series,
        hlines: caps,
        vlines: vlines.clone(),
        ..LinePanel::default()
    })];
    if rec.models == scenario.models.len() && scenario.models.iter().any(|m| m.limits.tpm.is_some())
    {
        // Tokens admitted over the trailing minute, as the TPM bucket sees them.
        let window = (60 / rec.bucket_s).max(1) as usize;
        let scale = 60.0 / (window as f64 * width);
        let series = scenario
            .models
            .iter()
            .enumerate()
            .filter(|(_, m)| m.limits.tpm.is_some())
            .map(|(mi, m)| {
                let per_bucket: Vec<u64> = rec.model_series(mi).map(|b| b.tokens).collect();
                let mut trailing = Vec::with_capacity(n);
                let mut sum = 0u64;
                for i in 0..n {
                    sum += per_bucket[i];
                    if i >= window {
                        sum -= per_bucket[i - window];
                    }
                    trailing.push(sum as f64 * scale);
                }
                Series {
                    name: format!("{} tokens", m.name),
                    points: (0..n)
                        .step_by(bucket)
                        .map(|i| (i as f64 * width / unit_s, trailing[i]))
                        .collect(),
                    ..Series::default()
                }
            })
            .collect();
        let caps = scenario
            .models
            .iter()
            .filter_map(|m| {
                m.limits.tpm.map(|t| HLine {
                    y: t.as_f64(),
                    label: format!("{} TPM cap ({})", m.name, super::charts::tick(t.as_f64())),
                })
            })
            .collect();
        panels.push(Panel::Line(LinePanel {
            title: "tokens admitted over the trailing minute (what the TPM cap limits)".into(),
            x_label: x_label.clone(),
            y_label: "tokens per minute".into(),
            series,
            hlines: caps,
            vlines: vlines.clone(),
            ..LinePanel::default()
        }));
    }
    panels.push(Panel::Line(LinePanel {
        title: "requests in flight (arrived, not yet ended) at the end of each second".into(),
        x_label,
        y_label: "requests".into(),
        series: vec![Series {
            name: "in flight".into(),
            points: (0..n)
                .step_by(bucket)
                .map(|i| (i as f64 * width / unit_s, in_flight[i] as f64))
                .collect(),
            ..Series::default()
        }],
        keep_legend: true,
        vlines,
        ..LinePanel::default()
    }));
    let rows = panels.len();
    Chart {
        title: if tier_changes.is_empty() {
            format!(
                "{}: traffic over time (tier {})",
                scenario.name, scenario.tier
            )
        } else {
            format!(
                "{}: traffic over time (from tier {}; each tier change marked)",
                scenario.name, scenario.tier
            )
        },
        panels,
        rows,
        cols: 1,
        width: 1100,
        height: 300 * rows as u32 + 60,
    }
}

/// End-to-end latency over all requests, per stream (and all streams), on a log time axis:
/// each curve tops out at the share of requests that succeeded, so failures are not hidden.
pub fn latency_cdf(scenario: &Scenario, rec: &Recorder) -> Chart {
    let curve = |c: &Counters| -> Vec<(f64, f64)> {
        let share = c.succeeded as f64 / c.requests.max(1) as f64;
        c.latency_us
            .cdf(1e6)
            .into_iter()
            .map(|(x, y)| (x, y * share))
            .collect()
    };
    let mut series: Vec<Series> = scenario
        .streams
        .iter()
        .zip(&rec.streams)
        .filter(|(_, c)| c.succeeded > 0)
        .map(|(s, c)| Series {
            name: format!("{} ({:.1}% succeeded)", s.name, pct(c)),
            points: curve(c),
            ..Series::default()
        })
        .collect();
    let mut all = Counters::default();
    for c in &rec.streams {
        all.merge(c);
    }
    if scenario.streams.len() > 1 && all.succeeded > 0 {
        series.push(Series {
            name: format!("all streams ({:.1}% succeeded)", pct(&all)),
            points: curve(&all),
            ..Series::default()
        });
    }
    let hlines = if all.succeeded < all.requests {
        vec![HLine {
            y: all.succeeded as f64 / all.requests.max(1) as f64,
            label: format!(
                "succeeded: {:.2}%; the other {:.2}% never complete",
                pct(&all),
                100.0 - pct(&all)
            ),
        }]
    } else {
        Vec::new()
    };
    Chart {
        title: format!(
            "{}: latency of all requests (arrival to completion)",
            scenario.name
        ),
        panels: vec![Panel::Line(LinePanel {
            title: "share of requests completed within a time (log axis); a curve tops out at the share that succeeded".into(),
            x_label: "end-to-end latency (s)".into(),
            y_label: "share of all requests".into(),
            log_x: true,
            series,
            hlines,
            y_range: Some((0.0, 1.0)),
            ..LinePanel::default()
        })],
        rows: 1,
        cols: 1,
        width: 1100,
        height: 540,
    }
}

/// Succeeded / requests, in percent.
fn pct(c: &Counters) -> f64 {
    100.0 * c.succeeded as f64 / c.requests.max(1) as f64
}

/// A mean and its 95 % confidence interval, if there is one.
pub type MeanCi = (f64, Option<(f64, f64)>);

/// One tier's aggregated results, for the comparison chart.
pub struct CompareBar {
    /// The category's label (a tier with its spend, a client, a value).
    pub label: String,
    pub goodput: MeanCi,
    pub success_pct: MeanCi,
    pub rate_limited_pct: MeanCi,
    pub gave_up_pct: MeanCi,
    /// p99 over all requests (failed ones infinitely slow), over the replications where it is
    /// defined; `undefined_runs` replications had more than 1 % of requests fail.
    pub p99_all_s: MeanCi,
    pub undefined_runs: usize,
    pub runs: usize,
    pub attempts_per_request: MeanCi,
    /// A finite job's makespan (first arrival to last end), seconds.
    pub makespan_s: Option<MeanCi>,
    /// Mean share of requests that gave up, by cause (percent of requests).
    pub gave_up_by_cause: Vec<(String, f64)>,
    /// Mean latency of succeeded requests: queued, backing off, served (seconds).
    pub split: Option<(f64, f64, f64)>,
}

/// A tier's label with the spend that unlocks it: `2 ($250)`.
pub fn tier_label(tier: &str, spend_usd: Option<f64>) -> String {
    match spend_usd {
        Some(v) => format!("{tier} (${})", super::charts::tick(v)),
        None => format!("{tier} (by request)"),
    }
}

/// Goodput, success, p99 latency over all requests, 429s, give-ups and retry amplification
/// per tier, with 95 % intervals.
/// The same workload under each value of one setting (a tier, a client, any field): goodput,
/// success, p99 over all requests, 429s, give-ups by cause, attempts per request; a job's
/// makespan first; and where clients wait, the latency split.
pub fn compare(title: &str, x_label: &str, offered_rps: Option<f64>, bars: &[CompareBar]) -> Chart {
    let cats: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    let panel =
        |title: &str, y: &str, f: &dyn Fn(&CompareBar) -> MeanCi, hl: Vec<HLine>| BarPanel {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y.into(),
            categories: cats.clone(),
            values: bars.iter().map(|b| f(b).0).collect(),
            intervals: bars.iter().map(|b| f(b).1).collect(),
            notes: vec![None; bars.len()],
            hlines: hl,
            stacks: Vec::new(),
        };
    let mut p99 = panel(
        "p99 latency over all requests (failed = infinitely slow)",
        "p99 end-to-end latency (s)",
        &|b| b.p99_all_s,
        vec![],
    );
    for (i, b) in bars.iter().enumerate() {
        if b.undefined_runs > 0 {
            // Undefined in some replications: a mean over the others would mislead.
            p99.values[i] = 0.0;
            p99.intervals[i] = None;
            p99.notes[i] = Some(format!(
                "undefined: >1% failed ({}/{} runs)",
                b.undefined_runs, b.runs
            ));
        }
    }
    let mut panels = vec![
        Panel::Bar(panel(
            "goodput (succeeded / simulated time, drain included)",
            "goodput (req/s)",
            &|b| b.goodput,
            offered_rps
                .map(|y| HLine {
                    y,
                    label: format!("offered load ({y:.1} req/s)"),
                })
                .into_iter()
                .collect(),
        )),
        Panel::Bar(panel(
            "success",
            "succeeded requests (%)",
            &|b| b.success_pct,
            vec![],
        )),
        Panel::Bar(p99),
        Panel::Bar(panel(
            "429s",
            "429s (% of attempts)",
            &|b| b.rate_limited_pct,
            vec![],
        )),
        Panel::Bar(gave_up_panel(
            panel(
                "gave up, by cause",
                "requests that gave up (%)",
                &|b| b.gave_up_pct,
                vec![],
            ),
            bars,
        )),
        Panel::Bar(panel(
            "retry amplification",
            "attempts per request (mean)",
            &|b| b.attempts_per_request,
            vec![],
        )),
    ];
    if bars.iter().all(|b| b.makespan_s.is_some()) {
        // A finite job: how long it takes is the answer, first.
        panels.insert(
            0,
            Panel::Bar(panel(
                "makespan of the job (first arrival to last end)",
                "minutes",
                &|b| {
                    let (m, ci) = b.makespan_s.unwrap_or((0.0, None));
                    (m / 60.0, ci.map(|(lo, hi)| (lo / 60.0, hi / 60.0)))
                },
                vec![],
            )),
        );
    }
    if bars
        .iter()
        .any(|b| b.split.is_some_and(|(q, _, _)| q > 0.0))
    {
        let mut p = panel(
            "where succeeded requests spent their time (means)",
            "seconds",
            &|b| {
                let (q, bo, sv) = b.split.unwrap_or_default();
                (q + bo + sv, None)
            },
            vec![],
        );
        p.stacks = ["queued in the client", "backing off", "served"]
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let vals = bars
                    .iter()
                    .map(|b| {
                        let (q, bo, sv) = b.split.unwrap_or_default();
                        [q, bo, sv][k]
                    })
                    .collect();
                (name.to_string(), vals)
            })
            .collect();
        panels.push(Panel::Bar(p));
    }
    let rows = panels.len().div_ceil(2);
    // Wide enough for a legend beside the stacked panels, and for many categories.
    let width = if bars.len() > 6 { 1600 } else { 1300 };
    let upright = bars.len() > 6;
    Chart {
        title: format!("{title} (bars: mean, whiskers: 95% CI)"),
        panels,
        rows,
        cols: 2,
        width,
        height: (if upright { 480 } else { 380 }) * rows as u32 + 10,
    }
}

/// The gave-up panel, its bars split by cause where any request gave up.
fn gave_up_panel(mut p: BarPanel, bars: &[CompareBar]) -> BarPanel {
    let mut causes: Vec<&str> = Vec::new();
    for b in bars {
        for (c, v) in &b.gave_up_by_cause {
            if *v > 0.0 && !causes.contains(&c.as_str()) {
                causes.push(c);
            }
        }
    }
    if causes.len() == 1 {
        // One cause: it goes in the title rather than a one-entry legend.
        p.title = format!("gave up (all: {})", causes[0].replace('_', " "));
        return p;
    }
    p.stacks = causes
        .iter()
        .map(|c| {
            let vals = bars
                .iter()
                .map(|b| {
                    b.gave_up_by_cause
                        .iter()
                        .find(|(k, _)| k == c)
                        .map_or(0.0, |(_, v)| *v)
                })
                .collect();
            (c.replace('_', " "), vals)
        })
        .collect();
    p
}

/// Results at one offered load.
#[derive(Clone, Copy, Debug)]
pub struct CurvePoint {
    pub offered_rps: f64,
    pub goodput_rps: f64,
    /// p99 over all requests, failed ones infinitely slow: infinite when over 1 % failed.
    pub p99_all_s: f64,
    pub success_pct: f64,
}

/// One tier's curve against offered load, and its knee (highest load meeting the SLO).
pub struct Curve {
    pub tier: String,
    pub spend_usd: Option<f64>,
    pub points: Vec<CurvePoint>,
    pub knee: Option<CurvePoint>,
}

/// Lowest failure share drawn on the log axis; a load where nothing failed is drawn there.
pub const FAILED_FLOOR_PCT: f64 = 1e-3;

/// Capacity planning: goodput, p99 latency over all requests and the share of requests that
/// failed against offered load, one line per tier, the SLO drawn and each tier's knee marked.
pub fn capacity(
    name: &str,
    curves: &[Curve],
    p99_slo: Option<f64>,
    success_slo: Option<f64>,
) -> Chart {
    let line = |f: &dyn Fn(&CurvePoint) -> Option<f64>| -> (Vec<Series>, Vec<Marker>) {
        let series = curves
            .iter()
            .map(|c| Series {
                name: format!("tier {}", tier_label(&c.tier, c.spend_usd)),
                points: c
                    .points
                    .iter()
                    .filter_map(|p| f(p).map(|y| (p.offered_rps, y)))
                    .collect(),
                dots: true,
                ..Series::default()
            })
            .collect();
        let markers = curves
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.knee.as_ref().and_then(|k| {
                    f(k).map(|y| Marker {
                        series: i,
                        x: k.offered_rps,
                        y,
                    })
                })
            })
            .collect();
        (series, markers)
    };
    let (mut g, gm) = line(&|p| Some(p.goodput_rps));
    let (l, lm) = line(&|p| p.p99_all_s.is_finite().then_some(p.p99_all_s));
    let (f, fm) = line(&|p| Some((100.0 - p.success_pct).max(FAILED_FLOOR_PCT)));
    let top = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.offered_rps))
        .fold(0.0, f64::max);
    g.push(diagonal(top));
    let x_range = Some((0.0, top * 1.03));
    Chart {
        title: format!("{name}: capacity by tier (rings: highest load meeting the SLO)"),
        panels: vec![
            Panel::Line(LinePanel {
                title: "goodput (succeeded / simulated time, drain included)".into(),
                x_label: "offered load (req/s)".into(),
                y_label: "goodput (req/s)".into(),
                series: g,
                markers: gm,
                x_range,
                ..LinePanel::default()
            }),
            Panel::Line(LinePanel {
                title: "p99 over all requests; no point where over 1% failed (undefined)".into(),
                x_label: "offered load (req/s)".into(),
                y_label: "p99 end-to-end latency (s)".into(),
                series: l,
                markers: lm,
                x_range,
                hlines: p99_slo
                    .map(|y| HLine {
                        y,
                        label: format!("SLO p99 <= {y} s"),
                    })
                    .into_iter()
                    .collect(),
                ..LinePanel::default()
            }),
            Panel::Line(LinePanel {
                title: format!(
                    "requests that did not succeed (log axis; none drawn at {FAILED_FLOOR_PCT}%)"
                ),
                x_label: "offered load (req/s)".into(),
                y_label: "failed requests (%)".into(),
                log_y: true,
                series: f,
                markers: fm,
                x_range,
                y_range: Some((FAILED_FLOOR_PCT / 2.0, 100.0)),
                hlines: success_slo
                    .map(|y| HLine {
                        y: (100.0 - y).max(FAILED_FLOOR_PCT),
                        label: format!(
                            "SLO success >= {y}% (failed <= {})",
                            super::charts::tick(100.0 - y)
                        ),
                    })
                    .into_iter()
                    .collect(),
                ..LinePanel::default()
            }),
        ],
        rows: 3,
        cols: 1,
        width: 1100,
        height: 1300,
    }
}

/// The goodput = offered diagonal, from 0 to `top`: where every request succeeds.
fn diagonal(top: f64) -> Series {
    Series {
        name: "goodput = offered".into(),
        points: vec![(0.0, 0.0), (top, top)],
        reference: true,
        ..Series::default()
    }
}

/// A panel subtitle that says where the lines are named when there are too many for a legend.
fn lines_note(base: &str, groups: usize) -> String {
    if groups > super::charts::MAX_LEGEND {
        format!("{base}; {groups} lines, too many to label: see aggregate.csv")
    } else {
        base.to_string()
    }
}

/// Retry amplification (attempts per request) against offered load, one line per group.
pub fn amplification(name: &str, x_label: &str, series: Vec<Series>) -> Chart {
    lines(
        &format!("{name}: retry amplification against load"),
        "mean attempts per request (1 = no retries)",
        x_label,
        "attempts per request (mean)",
        series,
        false,
    )
}

/// A single panel of named lines (e.g. a metric against load, one line per group), with the
/// goodput = offered diagonal if `diagonal`.
pub fn lines(
    title: &str,
    subtitle: &str,
    x_label: &str,
    y_label: &str,
    mut series: Vec<Series>,
    with_diagonal: bool,
) -> Chart {
    let groups = series.len();
    for s in &mut series {
        s.dots = true;
    }
    if with_diagonal {
        let top = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold(0.0, f64::max);
        series.push(diagonal(top));
    }
    Chart {
        title: title.to_string(),
        panels: vec![Panel::Line(LinePanel {
            title: lines_note(subtitle, groups)
                .trim_start_matches("; ")
                .to_string(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series,
            ..LinePanel::default()
        })],
        rows: 1,
        cols: 1,
        width: 1100,
        height: 560,
    }
}

/// `30 RPS`, or `500 RPM = 8.33/s`.
fn request_cap_label(l: &crate::catalog::ModelLimits) -> String {
    match l.request_cap() {
        Some(c) if c.period_s == 1 => format!("{} RPS", c.amount),
        Some(c) => format!("{} RPM = {:.2}/s", c.amount, l.requests_per_sec()),
        None => "none".into(),
    }
}
