//! `ratesim forecast`: the tier timeline and costs over days or weeks, and whether buying
//! credit earlier would pay.
//!
//! Every path is simulated in full over the horizon (the engine's time series keeps memory
//! bounded; a month at tens of requests per second takes seconds). The paths: the account as
//! the file gives it, and for each higher tier a purchase on day 0 that unlocks it at once.

use std::io::Write;
use std::path::PathBuf;

use rayon::prelude::*;

use super::*;
use crate::prices::{usd, usd_exact};
use crate::report::charts::{Chart, HLine, LinePanel, Panel, Series, VLine};
use crate::report::summary::Summary;
use crate::time::{SimDuration, parse_duration};

/// Most requests a forecast simulates per path.
const MAX_REQUESTS: f64 = 2e9;

/// One day of one path.
#[derive(Clone, Debug, Default)]
struct Day {
    arrivals: u64,
    succeeded: u64,
    gave_up: u64,
    no_credit: u64,
    cost: u64,
    /// The tier at the end of the day.
    tier: String,
}

struct PathResult {
    label: String,
    /// Extra purchase on day 0, nano-USD (0 for the file's own path).
    prepay: u64,
    summary: Summary,
    days: Vec<Day>,
}

fn days_of(rec: &Recorder, summary: &Summary, horizon: SimDuration) -> Vec<Day> {
    let n_days = horizon.0.div_ceil(86_400 * 1_000_000_000) as usize;
    let mut days = vec![Day::default(); n_days];
    for (i, b) in rec.buckets.iter().enumerate() {
        // Requests still in flight at the horizon end in the drain: the last day counts them.
        let d = ((i as u64 * rec.bucket_s / 86_400) as usize).min(n_days - 1);
        if let Some(day) = days.get_mut(d) {
            day.arrivals += b.arrivals;
            day.succeeded += b.completions;
            day.gave_up += b.gave_up + b.never_fits;
            day.no_credit += b.no_credit;
            day.cost += b.cost;
        }
    }
    let acc = summary.account.as_ref();
    for (d, day) in days.iter_mut().enumerate() {
        let end = ((d + 1) * 86_400) as f64;
        day.tier = acc
            .and_then(|a| {
                a.tier_changes
                    .iter()
                    .rev()
                    .find(|c| c.time_s < end)
                    .map(|c| c.to.clone())
                    .or_else(|| Some(a.start_tier.clone()))
            })
            .unwrap_or_default();
    }
    days
}

pub(super) fn forecast(args: &ForecastArgs, out: &mut dyn Write) -> Result<()> {
    let horizon = parse_duration(&args.horizon)
        .map_err(|e| Error::Usage(format!("--horizon {:?}: {}", args.horizon, e.0)))?;
    if horizon < SimDuration::from_secs(86_400) || horizon > scenario::MAX_DURATION {
        return Err(Error::Usage(format!(
            "--horizon {:?}: a forecast covers from 1d to {}",
            args.horizon,
            scenario::MAX_DURATION
        )));
    }
    let doc = scenario::Document::load(&args.file)?;
    let overrides = Overrides {
        seed: args.seed,
        duration: Some(horizon),
    };
    let (base, warnings) = doc.resolve(&overrides, &[])?;
    for w in &warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    let Some(account) = base.account.clone() else {
        return Err(Error::Usage(format!(
            "{}: forecast needs an [account] section (spend to date, billing), which sets the tier and how payments move it",
            args.file.display()
        )));
    };
    let per_sec: f64 = base.streams.iter().map(|s| s.mean_rate_per_sec()).sum();
    let requests = per_sec * horizon.as_secs_f64();
    if requests > MAX_REQUESTS {
        return Err(Error::Usage(format!(
            "--horizon {}: about {requests:.2e} requests per path; a forecast simulates at most {MAX_REQUESTS:.0e} (shorten the horizon)",
            args.horizon
        )));
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&base.name).join("forecast"));
    report::check_output_dir(&dir, "--out")?;

    // The file's own path, then a purchase on day 0 reaching each higher tier.
    let mut variants: Vec<(String, u64, scenario::Scenario)> =
        vec![("as planned".into(), 0, base.clone())];
    for step in account.ladder.iter().skip(1) {
        let need = step.spend.saturating_sub(account.spend_to_date);
        let mut s = base.clone();
        if let Some(a) = &mut s.account {
            a.purchases.insert(0, (SimDuration::ZERO, need));
        }
        variants.push((
            format!(
                "prepay ${} on day 0 (tier {})",
                crate::report::table::trim_usd(&usd_exact(need)),
                step.tier
            ),
            need,
            s,
        ));
    }
    let started = std::time::Instant::now();
    let paths: Vec<PathResult> = variants
        .into_par_iter()
        .map(|(label, prepay, s)| {
            let (rec, outcome) = crate::simulate(&s);
            let summary = report::summarize(&s, &rec, &outcome);
            let days = days_of(&rec, &summary, horizon);
            PathResult {
                label,
                prepay,
                summary,
                days,
            }
        })
        .collect();
    let wall = started.elapsed().as_secs_f64();

    let base_path = &paths[0];
    let t = &base_path.summary.totals;
    let acc = base_path.summary.account.as_ref().expect("an account");
    let mut text = format!(
        "{}: forecast over {} (simulated in full: {} paths, {} requests and {} events on the planned path, {:.1} s)\n",
        base.name,
        horizon,
        paths.len(),
        t.requests,
        t.events,
        wall
    );
    text.push_str(&format!(
        "prices: {} ({}); tiers: {} ({})\n\n",
        base.prices_provenance.source,
        base.prices_provenance.date,
        base.tiers_provenance.source,
        base.tiers_provenance.date
    ));
    text.push_str(&format!(
        "tier timeline (as planned): tier {} on day 0",
        acc.start_tier
    ));
    for c in &acc.tier_changes {
        text.push_str(&format!(
            "; tier {} on day {:.2} (payments ${})",
            c.to,
            c.time_s / 86_400.0,
            crate::report::table::trim_usd(&c.paid_usd)
        ));
    }
    text.push_str("\n\n");
    let headers: Vec<String> = [
        "day",
        "tier",
        "requests",
        "succeeded",
        "gave up",
        "no credit",
        "cost (USD)",
        "goodput (req/s)",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = base_path
        .days
        .iter()
        .enumerate()
        .map(|(d, day)| {
            vec![
                (d + 1).to_string(),
                day.tier.clone(),
                day.arrivals.to_string(),
                day.succeeded.to_string(),
                day.gave_up.to_string(),
                day.no_credit.to_string(),
                format!("{:.2}", usd(day.cost)),
                format!("{:.2}", day.succeeded as f64 / 86_400.0),
            ]
        })
        .collect();
    text.push_str(&text_table(&headers, &rows));
    text.push('\n');
    // The paths compared with the planned one.
    let base_ok = t.succeeded;
    let base_paid = base_path.prepay + nano_of(&acc.paid_usd);
    let path_headers: Vec<String> = [
        "path",
        "final tier",
        "succeeded",
        "vs planned",
        "usage (USD)",
        "paid in the horizon (USD)",
        "vs planned (USD)",
    ]
    .map(String::from)
    .to_vec();
    let mut path_rows = Vec::new();
    let mut advice = Vec::new();
    for p in &paths {
        let a = p.summary.account.as_ref().expect("an account");
        let paid = nano_of(&a.paid_usd);
        let more = p.summary.totals.succeeded as i64 - base_ok as i64;
        let extra_paid = paid as i128 - base_paid as i128;
        path_rows.push(vec![
            p.label.clone(),
            a.end_tier.clone(),
            p.summary.totals.succeeded.to_string(),
            format!("{more:+}"),
            crate::report::table::trim_usd(&a.usage_usd),
            crate::report::table::trim_usd(&a.paid_usd),
            format!("{:+.2}", extra_paid as f64 / 1e9),
        ]);
        if p.prepay > 0 && more > 0 {
            advice.push(format!(
                "{}: {} more successful requests over the horizon, paying ${:+.2} within it (${:.4} per extra success)",
                p.label,
                more,
                extra_paid as f64 / 1e9,
                extra_paid.max(0) as f64 / 1e9 / more as f64
            ));
        }
    }
    text.push_str(&format!(
        "paths (each simulated in full with the same seed):\n{}",
        text_table(&path_headers, &path_rows)
    ));
    let best = paths
        .iter()
        .map(|p| p.summary.totals.succeeded)
        .max()
        .unwrap_or(0);
    if let Some(cheapest) = paths
        .iter()
        .filter(|p| p.summary.totals.succeeded == best)
        .min_by_key(|p| p.prepay)
        && cheapest.prepay > 0
    {
        advice.push(format!(
            "cheapest way to the most successful requests: {}",
            cheapest.label
        ));
    }
    if advice.is_empty() {
        text.push_str("\nbuying earlier does not add successful requests: the planned path is the cheaper one.\n");
    } else {
        text.push('\n');
        for a in &advice {
            text.push_str(&format!("{a}\n"));
        }
    }

    // Files: days.csv (every path), paths.csv, the chart and the page.
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "path",
        "day",
        "tier",
        "requests",
        "succeeded",
        "gave_up",
        "no_credit",
        "cost_usd",
    ])
    .expect("writing to memory");
    for p in &paths {
        for (d, day) in p.days.iter().enumerate() {
            w.write_record([
                p.label.clone(),
                (d + 1).to_string(),
                day.tier.clone(),
                day.arrivals.to_string(),
                day.succeeded.to_string(),
                day.gave_up.to_string(),
                day.no_credit.to_string(),
                usd_exact(day.cost),
            ])
            .expect("writing to memory");
        }
    }
    let days_csv = w.into_inner().expect("writing to memory");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "path",
        "prepay_usd",
        "final_tier",
        "succeeded",
        "gave_up",
        "no_credit",
        "usage_usd",
        "paid_usd",
        "tier_changes",
    ])
    .expect("writing to memory");
    for p in &paths {
        let a = p.summary.account.as_ref().expect("an account");
        let changes: Vec<String> = a
            .tier_changes
            .iter()
            .map(|c| format!("{}@{}s", c.to, c.time_s))
            .collect();
        w.write_record([
            p.label.clone(),
            usd_exact(p.prepay),
            a.end_tier.clone(),
            p.summary.totals.succeeded.to_string(),
            p.summary.totals.gave_up.to_string(),
            p.summary.totals.no_credit.to_string(),
            a.usage_usd.clone(),
            a.paid_usd.clone(),
            changes.join(" "),
        ])
        .expect("writing to memory");
    }
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("days.csv".into(), days_csv),
        (
            "paths.csv".into(),
            w.into_inner().expect("writing to memory"),
        ),
    ];
    if !args.no_charts {
        let chart = forecast_chart(&base.name, &paths, &account);
        let r = report::charts::render(&chart).map_err(|m| chart_error("forecast", m))?;
        files.push(("forecast.png".into(), r.png));
        files.push(("forecast.svg".into(), r.svg.clone().into_bytes()));
        let page = report::pages::simple_page(
            &format!("ratesim: {} forecast over {}", base.name, horizon),
            &format!(
                "Every path simulated in full over {horizon} with the same seed: the account as the file gives it, and a purchase on day 0 that unlocks each higher tier at once. Tiers count payments (purchases, top-ups, paid invoices) and never go down; the caps change at the instant a payment lands."
            ),
            vec![
                ("Days (as planned)".into(), headers, rows),
                ("Paths".into(), path_headers, path_rows),
            ],
            vec![(
                r.svg,
                "Daily cost and successful requests per path, and cumulative payments against each tier's threshold.".into(),
            )],
            &[crate::report::summary::CatalogInfo::of(&base)],
            &doc.source,
        );
        files.push(("index.html".into(), page.into_bytes()));
    }
    report::write_set(&dir, &files, report::FORECAST_FILES)?;
    eprintln!("wrote {}", dir.display());
    emit(out, &text)
}

fn nano_of(exact: &str) -> u64 {
    let (i, f) = exact.split_once('.').unwrap_or((exact, "0"));
    let frac = format!("{f:0<9}");
    i.parse::<u64>().unwrap_or(0) * 1_000_000_000 + frac[..9].parse::<u64>().unwrap_or(0)
}

fn forecast_chart(
    name: &str,
    paths: &[PathResult],
    account: &crate::account::AccountSpec,
) -> Chart {
    let day_series = |f: &dyn Fn(&Day) -> f64| -> Vec<Series> {
        paths
            .iter()
            .map(|p| Series {
                name: p.label.clone(),
                points: p
                    .days
                    .iter()
                    .enumerate()
                    .map(|(d, day)| (d as f64 + 0.5, f(day)))
                    .collect(),
                dots: true,
                ..Series::default()
            })
            .collect()
    };
    let base = &paths[0];
    let vlines: Vec<VLine> = base
        .summary
        .account
        .as_ref()
        .map(|a| {
            a.tier_changes
                .iter()
                .map(|c| VLine {
                    x: c.time_s / 86_400.0,
                    label: format!("tier {}", c.to),
                })
                .collect()
        })
        .unwrap_or_default();
    // The planned path: usage to date at the end of each day, and the payments counted toward
    // the tier (spend to date included) at each tier change.
    let spend0 = account.spend_to_date as f64 / 1e9;
    let changes = &base
        .summary
        .account
        .as_ref()
        .expect("an account")
        .tier_changes;
    let mut usage = 0u64;
    let usage_points: Vec<(f64, f64)> = base
        .days
        .iter()
        .enumerate()
        .map(|(d, day)| {
            usage += day.cost;
            ((d + 1) as f64, spend0 + usd(usage))
        })
        .collect();
    let paid_points: Vec<(f64, f64)> = changes
        .iter()
        .map(|c| (c.time_s / 86_400.0, nano_of(&c.paid_usd) as f64 / 1e9))
        .collect();
    let n_days = base.days.len() as f64;
    let thresholds: Vec<HLine> = account
        .ladder
        .iter()
        .skip(1)
        .map(|s| HLine {
            y: s.spend as f64 / 1e9,
            label: format!("tier {} (${})", s.tier, s.spend / 1_000_000_000),
        })
        .collect();
    let daily = |title: &str, y_label: &str, f: &dyn Fn(&Day) -> f64| {
        Panel::Line(LinePanel {
            title: title.into(),
            x_label: "day of the horizon".into(),
            y_label: y_label.into(),
            series: day_series(f),
            vlines: vlines.clone(),
            keep_legend: true,
            x_range: Some((0.0, n_days)),
            ..LinePanel::default()
        })
    };
    let panels = vec![
        daily("cost per day", "USD per day", &|d| usd(d.cost)),
        daily("successful requests per day", "requests", &|d| d.succeeded as f64),
        daily(
            "requests that gave up or were refused, per day",
            "requests",
            &|d| (d.gave_up + d.no_credit) as f64,
        ),
        Panel::Line(LinePanel {
            title: "as planned: usage to date, and payments to date when each tier was reached (log scale)".into(),
            x_label: "day of the horizon".into(),
            y_label: "USD".into(),
            series: vec![
                Series {
                    name: "usage to date".into(),
                    points: usage_points,
                    dots: true,
                    ..Series::default()
                },
                Series {
                    name: "payments at each tier change".into(),
                    points: paid_points,
                    dots: true,
                    ..Series::default()
                },
            ],
            hlines: thresholds,
            vlines,
            keep_legend: true,
            log_y: true,
            x_range: Some((0.0, n_days)),
            ..LinePanel::default()
        }),
    ];
    Chart {
        title: format!("{name}: forecast, tier by tier"),
        rows: panels.len(),
        panels,
        cols: 1,
        width: 1100,
        height: 1240,
    }
}
