//! The charts users look at, built from results (no statistics here beyond arranging points).

use super::charts::{BarPanel, Chart, HLine, Legend, LinePanel, Marker, Panel, Series};
use crate::metrics::{Counters, Recorder};
use crate::scenario::Scenario;

/// Longest series drawn point per second; longer runs are shown as means over buckets.
const MAX_POINTS: usize = 1_200;

/// Attempts, admissions, 429s and completions per second, and requests in flight.
pub fn timeseries(scenario: &Scenario, rec: &Recorder) -> Chart {
    let n = rec.buckets.len();
    let bucket = n.div_ceil(MAX_POINTS).max(1);
    let width = rec.bucket_s as f64;
    let in_flight = rec.in_flight_series();
    let mean_per_s = |f: &dyn Fn(usize) -> u64| -> Vec<(f64, f64)> {
        (0..n)
            .step_by(bucket)
            .map(|start| {
                let end = (start + bucket).min(n);
                let sum: u64 = (start..end).map(f).sum();
                (
                    start as f64 * width,
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
    let series = vec![
        Series {
            name: "attempts offered".into(),
            points: mean_per_s(&|i| s[i].attempts),
            dots: false,
        },
        Series {
            name: "admitted".into(),
            points: mean_per_s(&|i| s[i].admitted),
            dots: false,
        },
        Series {
            name: "429s".into(),
            points: mean_per_s(&|i| s[i].rate_limited),
            dots: false,
        },
        Series {
            name: "completions".into(),
            points: mean_per_s(&|i| s[i].completions),
            dots: false,
        },
    ];
    let caps: Vec<HLine> = scenario
        .models
        .iter()
        .map(|m| HLine {
            y: m.limits.rps.as_f64(),
            label: format!("{} RPS cap ({})", m.name, m.limits.rps),
        })
        .collect();
    Chart {
        title: format!(
            "{}: traffic per second (tier {})",
            scenario.name, scenario.tier
        ),
        panels: vec![
            Panel::Line(LinePanel {
                title: format!("attempts, admissions, 429s and completions ({per})"),
                x_label: "simulated time (s)".into(),
                y_label: "events per second".into(),
                series,
                hlines: caps,
                ..LinePanel::default()
            }),
            Panel::Line(LinePanel {
                title: "requests in flight (arrived, not yet ended) at the end of each second"
                    .into(),
                x_label: "simulated time (s)".into(),
                y_label: "requests".into(),
                series: vec![Series {
                    name: "in flight".into(),
                    points: (0..n)
                        .step_by(bucket)
                        .map(|i| (i as f64, in_flight[i] as f64))
                        .collect(),
                    dots: false,
                }],
                ..LinePanel::default()
            }),
        ],
        rows: 2,
        cols: 1,
        width: 1000,
        height: 760,
    }
}

/// End-to-end latency CDF of succeeded requests, per stream (and all streams), log time axis.
pub fn latency_cdf(scenario: &Scenario, rec: &Recorder) -> Chart {
    let mut series: Vec<Series> = scenario
        .streams
        .iter()
        .zip(&rec.streams)
        .filter(|(_, c)| c.succeeded > 0)
        .map(|(s, c)| Series {
            name: s.name.clone(),
            points: c.latency_us.cdf(1e6),
            dots: false,
        })
        .collect();
    if scenario.streams.len() > 1 {
        let mut all = Counters::default();
        for c in &rec.streams {
            all.merge(c);
        }
        if all.succeeded > 0 {
            series.push(Series {
                name: "all streams".into(),
                points: all.latency_us.cdf(1e6),
                dots: false,
            });
        }
    }
    Chart {
        title: format!(
            "{}: latency of succeeded requests (arrival to completion)",
            scenario.name
        ),
        panels: vec![Panel::Line(LinePanel {
            title: "cumulative distribution, log time axis".into(),
            x_label: "end-to-end latency (s)".into(),
            y_label: "fraction of succeeded requests".into(),
            log_x: true,
            series,
            y_range: Some((0.0, 1.0)),
            legend: Legend::LowerRight,
            ..LinePanel::default()
        })],
        rows: 1,
        cols: 1,
        width: 1000,
        height: 520,
    }
}

/// A mean and its 95 % confidence interval, if there is one.
pub type MeanCi = (f64, Option<(f64, f64)>);

/// One tier's aggregated results, for the comparison chart.
pub struct TierBar {
    pub tier: String,
    pub goodput: MeanCi,
    pub success_pct: MeanCi,
    pub p99_s: MeanCi,
    pub attempts_per_request: MeanCi,
}

/// Goodput, success, p99 latency and retry amplification per tier, with 95 % intervals.
pub fn compare_tiers(name: &str, offered_rps: f64, bars: &[TierBar]) -> Chart {
    let cats: Vec<String> = bars.iter().map(|b| format!("tier {}", b.tier)).collect();
    let panel = |title: &str, y: &str, f: &dyn Fn(&TierBar) -> MeanCi, hl: Vec<HLine>| {
        Panel::Bar(BarPanel {
            title: title.into(),
            x_label: "tier".into(),
            y_label: y.into(),
            categories: cats.clone(),
            values: bars.iter().map(|b| f(b).0).collect(),
            intervals: bars.iter().map(|b| f(b).1).collect(),
            hlines: hl,
        })
    };
    Chart {
        title: format!("{name}: the same workload on each tier (bars: mean, whiskers: 95% CI)"),
        panels: vec![
            panel(
                "goodput",
                "succeeded requests per second",
                &|b| b.goodput,
                vec![HLine {
                    y: offered_rps,
                    label: format!("offered load ({offered_rps:.1} req/s)"),
                }],
            ),
            panel(
                "success",
                "succeeded requests (%)",
                &|b| b.success_pct,
                vec![],
            ),
            panel(
                "p99 latency",
                "p99 end-to-end latency (s)",
                &|b| b.p99_s,
                vec![],
            ),
            panel(
                "retry amplification",
                "attempts per request (mean)",
                &|b| b.attempts_per_request,
                vec![],
            ),
        ],
        rows: 2,
        cols: 2,
        width: 1100,
        height: 800,
    }
}

/// Results at one offered load.
#[derive(Clone, Copy, Debug)]
pub struct CurvePoint {
    pub offered_rps: f64,
    pub goodput_rps: f64,
    pub p99_s: Option<f64>,
    pub success_pct: f64,
}

/// One tier's curve against offered load, and its knee (highest load meeting the SLO).
pub struct Curve {
    pub tier: String,
    pub points: Vec<CurvePoint>,
    pub knee: Option<CurvePoint>,
}

/// Capacity planning: goodput, p99 latency and success against offered load, one line per
/// tier, the SLO drawn and each tier's knee marked.
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
                name: format!("tier {}", c.tier),
                points: c
                    .points
                    .iter()
                    .filter_map(|p| f(p).map(|y| (p.offered_rps, y)))
                    .collect(),
                dots: true,
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
    let (g, gm) = line(&|p| Some(p.goodput_rps));
    let (l, lm) = line(&|p| p.p99_s);
    let (s, sm) = line(&|p| Some(p.success_pct));
    Chart {
        title: format!("{name}: capacity by tier (rings: highest load meeting the SLO)"),
        panels: vec![
            Panel::Line(LinePanel {
                title: "goodput".into(),
                x_label: "offered load (requests/s)".into(),
                y_label: "succeeded requests per second".into(),
                series: g,
                markers: gm,
                ..LinePanel::default()
            }),
            Panel::Line(LinePanel {
                title: "p99 latency".into(),
                x_label: "offered load (requests/s)".into(),
                y_label: "p99 end-to-end latency (s)".into(),
                series: l,
                markers: lm,
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
                title: "success".into(),
                x_label: "offered load (requests/s)".into(),
                y_label: "succeeded requests (%)".into(),
                series: s,
                markers: sm,
                y_range: Some((0.0, 102.0)),
                legend: Legend::LowerLeft,
                hlines: success_slo
                    .map(|y| HLine {
                        y,
                        label: format!("SLO success >= {y}%"),
                    })
                    .into_iter()
                    .collect(),
                ..LinePanel::default()
            }),
        ],
        rows: 1,
        cols: 3,
        width: 1500,
        height: 560,
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
pub fn amplification(name: &str, x_label: &str, groups: &[(String, Vec<(f64, f64)>)]) -> Chart {
    lines(
        &format!("{name}: retry amplification against load"),
        "mean attempts per request (1 = no retries)",
        x_label,
        "attempts per request (mean)",
        groups,
    )
}

/// A single panel of named lines (e.g. a metric against load, one line per group).
pub fn lines(
    title: &str,
    subtitle: &str,
    x_label: &str,
    y_label: &str,
    groups: &[(String, Vec<(f64, f64)>)],
) -> Chart {
    Chart {
        title: title.to_string(),
        panels: vec![Panel::Line(LinePanel {
            title: lines_note(subtitle, groups.len())
                .trim_start_matches("; ")
                .to_string(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: groups
                .iter()
                .map(|(n, pts)| Series {
                    name: n.clone(),
                    points: pts.clone(),
                    dots: true,
                })
                .collect(),
            ..LinePanel::default()
        })],
        rows: 1,
        cols: 1,
        width: 1000,
        height: 560,
    }
}
