//! `ratesim plan`: the highest load per tier within an SLO.

use std::io::Write;
use std::path::PathBuf;

use super::*;

pub(super) fn plan(args: &PlanArgs, out: &mut dyn Write) -> Result<Outcome> {
    use crate::plan;
    let doc = scenario::Document::load(&args.file)?;
    let overrides = Overrides::from(args.overrides);
    let mut slo = Vec::new();
    for s in &args.slo {
        slo.extend(plan::parse_slo(s).map_err(|m| Error::Usage(format!("--slo: {m}")))?);
    }
    if !(args.precision.is_finite() && (plan::MIN_PRECISION..=0.5).contains(&args.precision)) {
        return Err(Error::Usage(format!(
            "--precision {}: allowed: a relative precision from {} to 0.5",
            args.precision,
            plan::MIN_PRECISION
        )));
    }
    if !(2..=200).contains(&args.points) {
        return Err(Error::Usage(format!(
            "--points {}: allowed from 2 to 200",
            args.points
        )));
    }
    if let Some(m) = args.max_load
        && !(m.is_finite() && (1.0..=plan::MAX_LOAD).contains(&m))
    {
        return Err(Error::Usage(format!(
            "--max-load {m}: allowed: a load multiplier from 1 to {}",
            plan::MAX_LOAD
        )));
    }
    let horizon = crate::time::parse_duration(&args.horizon)
        .ok()
        .filter(|h| *h >= crate::time::SimDuration::from_secs(3600))
        .ok_or_else(|| {
            Error::Usage(format!(
                "--horizon {:?}: a duration of at least 1h, such as 30d or 72h",
                args.horizon
            ))
        })?;
    let (base, warnings) = doc.resolve(&overrides, &[])?;
    for w in &warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    // What the team has paid so far: its account's spend to date, or its tier's threshold.
    let paid_usd = base.account.as_ref().map_or_else(
        || base.tier_spend_usd.unwrap_or(0.0),
        |a| a.spend_to_date as f64 / 1e9,
    );
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&base.name).join("plan"));
    report::check_output_dir(&dir, "--out")?;
    let opts = plan::PlanOptions {
        tiers: pick_tiers(&args.tiers, &base)?,
        slo,
        replications: replications(args.replications, &doc)?,
        precision: args.precision,
        curve_points: args.points,
        max_load: args.max_load,
    };
    eprintln!(
        "plan: searching tiers {} ({} replication{} pooled per load, {} simulated each); one line per load evaluated",
        opts.tiers.join(", "),
        opts.replications,
        if opts.replications == 1 { "" } else { "s" },
        base.duration
    );
    let progress = |tier: &str, e: &plan::Evaluation| {
        eprintln!(
            "plan: tier {tier}: load {:.4}x ({:.2} req/s offered): {} ({} of {} requests failed, p99 over all requests {})",
            e.load,
            e.offered_rps,
            if e.meets { "meets the SLO" } else { "fails" },
            e.failed,
            e.requests,
            if e.p99_all_s.is_finite() {
                format!("{:.3} s", e.p99_all_s)
            } else {
                "undefined: over 1% failed".into()
            }
        );
    };
    // Every evaluation goes to a journal, so that an interrupted plan can resume.
    let identity = format!(
        "{}\n{:?}\n{:?} {:?}\n{}",
        doc.source,
        opts,
        args.overrides.seed,
        args.overrides.duration,
        env!("CARGO_PKG_VERSION")
    );
    let journal = crate::journal::PlanJournal::open(&dir, &identity, args.resume)?;
    if args.resume {
        eprintln!(
            "resuming {}: {} evaluations made already",
            dir.display(),
            journal.len()
        );
    }
    report::set_interrupt_hint(format!(
        "the evaluations made are kept in {}: run the same command with --resume to finish",
        crate::journal::Journal::dir_of(&dir).display()
    ));
    let p = plan::plan(&doc, &overrides, &opts, &progress, Some(&journal))?;
    let slo_text = p
        .slo
        .iter()
        .map(|t| t.text.clone())
        .collect::<Vec<_>>()
        .join(", ");
    // With a makespan objective the search grows the job, not the arrival rate.
    let by_size = opts.by_job_size();
    let job: u64 = base
        .streams
        .iter()
        .filter_map(|s| s.arrivals.requests)
        .sum();
    let headers: Vec<String> = [
        "tier",
        "spend (USD)",
        if by_size {
            "max job (x)"
        } else {
            "max load (x)"
        },
        if by_size {
            "max job (requests)"
        } else {
            "max offered (req/s)"
        },
        "fails at (x)",
        "meets SLO at own load",
        "goodput at max (req/s)",
        "p99 at max (s, all requests)",
        "success at max %",
        "cost/day at own load (USD)",
        "days to reach",
    ]
    .map(String::from)
    .to_vec();
    // Days of spending at the scenario's own tier (and load) until a tier's threshold.
    let own_rate = p
        .tiers
        .iter()
        .find(|t| t.tier == base.tier)
        .or(p.tiers.first())
        .and_then(|t| t.at_own_load.cost_per_day_usd);
    let days_to = |spend: Option<f64>| -> String {
        match (spend, own_rate) {
            (Some(s), _) if s <= paid_usd => "reached".into(),
            (Some(s), Some(r)) if r > 0.0 => format!("{:.1}", (s - paid_usd) / r),
            _ => "-".into(),
        }
    };
    let mut headers = headers;
    if by_size {
        headers.push("makespan at max (s)".into());
    }
    let table: Vec<Vec<String>> = p
        .tiers
        .iter()
        .map(|t| {
            let k = t.at_knee.as_ref();
            let mut row = vec![
                t.tier.clone(),
                t.spend_usd.map_or("by request".into(), |v| format!("{v}")),
                t.knee.map_or("none".into(), |l| format!("{l:.4}")),
                if by_size {
                    t.knee
                        .map_or("-".into(), |l| format!("{:.0}", l * job as f64))
                } else {
                    k.map_or("-".into(), |e| format!("{:.2}", e.offered_rps))
                },
                t.fails_at
                    .map_or(format!("none up to {:.4}", t.max_load), |l| {
                        format!("{l:.4}")
                    }),
                if t.at_own_load.meets { "yes" } else { "no" }.into(),
                fmt_opt(k.map(|e| e.goodput_rps), 2),
                k.map_or("-".into(), |e| fmt_p99_all(e.p99_all_s)),
                fmt_opt(k.map(|e| e.success_pct), 3),
                fmt_opt(t.at_own_load.cost_per_day_usd, 2),
                days_to(t.spend_usd),
            ];
            if by_size {
                row.push(fmt_opt(k.and_then(|e| e.makespan_s), 1));
            }
            row
        })
        .collect();
    let own = if by_size {
        format!("the scenario's own job ({job} requests)")
    } else {
        format!("the scenario's own load ({:.2} req/s)", p.base_offered_rps)
    };
    let verdict = match cheapest_way(&p, paid_usd, horizon) {
        Some(w) => format!("cheapest way to meet the SLO at {own}: {w}"),
        None => format!("no tier meets the SLO at {own}"),
    };
    let unbound: Vec<String> = p
        .tiers
        .iter()
        .filter(|t| t.fails_at.is_none() && t.knee.is_some())
        .map(|t| format!("{} (up to {:.4}x)", t.tier, t.max_load))
        .collect();
    let unbound_note = if unbound.is_empty() {
        String::new()
    } else {
        format!(
            "\nThe SLO held at every load searched on tier{} {}: the search stops at {}x the load that saturates every model's caps (--max-load to go further); past the caps only retries and 429s grow, so an SLO that has not failed by then does not constrain the tier.",
            if unbound.len() == 1 { "" } else { "s" },
            unbound.join(", "),
            crate::sweep::fmt_f64(plan::SATURATION)
        )
    };
    let precision_note = format!(
        "Max load is the highest load multiplier found to meet the SLO; the threshold lies between it and `fails at`, which differ by at most {}% (the search precision; sampling noise between replications comes on top). Each load pools {} replication{}.",
        crate::sweep::fmt_f64(100.0 * p.precision),
        p.replications,
        if p.replications == 1 { "" } else { "s" }
    ) + &unbound_note;
    // plan.csv: tidy (snake_case headers with units, unrounded numbers, empty for none).
    let num = |x: Option<f64>| x.map_or(String::new(), crate::sweep::fmt_f64);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "tier",
        "spend_usd",
        "max_load",
        "max_offered_rps",
        "fails_at_load",
        "searched_up_to_load",
        "meets_slo_at_own_load",
        "goodput_at_max_rps",
        "latency_p99_all_at_max_s",
        "success_at_max_pct",
    ])
    .expect("writing to memory");
    for t in &p.tiers {
        let k = t.at_knee.as_ref();
        w.write_record([
            t.tier.clone(),
            num(t.spend_usd),
            num(t.knee),
            num(t.knee.map(|l| l * p.base_offered_rps)),
            num(t.fails_at),
            crate::sweep::fmt_f64(t.max_load),
            t.at_own_load.meets.to_string(),
            num(k.map(|e| e.goodput_rps)),
            num(k.map(|e| e.p99_all_s)),
            num(k.map(|e| e.success_pct)),
        ])
        .expect("writing to memory");
    }
    let mut c = csv::Writer::from_writer(Vec::new());
    c.write_record([
        "tier",
        "load",
        "offered_rps",
        "goodput_rps",
        "success_pct",
        "rate_limited_pct",
        "gave_up_pct",
        "latency_p50_s",
        "latency_p99_s",
        "latency_p99_all_s",
        "latency_mean_s",
        "attempts_per_request_mean",
        "makespan_s",
        "meets_slo",
        "source",
    ])
    .expect("writing to memory");
    for t in &p.tiers {
        for (src, evals) in [("search", &t.searched), ("curve", &t.curve)] {
            for e in evals {
                let o = |x: Option<f64>| x.map_or(String::new(), crate::sweep::fmt_f64);
                c.write_record([
                    t.tier.clone(),
                    crate::sweep::fmt_f64(e.load),
                    crate::sweep::fmt_f64(e.offered_rps),
                    crate::sweep::fmt_f64(e.goodput_rps),
                    crate::sweep::fmt_f64(e.success_pct),
                    crate::sweep::fmt_f64(e.rate_limited_pct),
                    crate::sweep::fmt_f64(e.gave_up_pct),
                    o(e.p50_s),
                    o(e.p99_s),
                    crate::sweep::fmt_f64(e.p99_all_s),
                    o(e.mean_s),
                    crate::sweep::fmt_f64(e.attempts_mean),
                    o(e.makespan_s),
                    e.meets.to_string(),
                    src.to_string(),
                ])
                .expect("writing to memory");
            }
        }
    }
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "plan.csv".into(),
            w.into_inner().expect("writing to memory"),
        ),
        (
            "curves.csv".into(),
            c.into_inner().expect("writing to memory"),
        ),
        (
            "plan.json".into(),
            [
                serde_json::to_vec_pretty(&p).expect("plan serialises"),
                b"\n".to_vec(),
            ]
            .concat(),
        ),
    ];
    if !args.no_charts {
        let point = |e: &plan::Evaluation| report::figures::CurvePoint {
            offered_rps: e.offered_rps,
            goodput_rps: e.goodput_rps,
            p99_all_s: e.p99_all_s,
            success_pct: e.success_pct,
        };
        let curves: Vec<report::figures::Curve> = p
            .tiers
            .iter()
            .map(|t| report::figures::Curve {
                tier: t.tier.clone(),
                spend_usd: t.spend_usd,
                points: t.curve.iter().map(point).collect(),
                knee: t.at_knee.as_ref().map(point),
            })
            .collect();
        let p99_slo = p
            .slo
            .iter()
            .find(|t| t.metric == plan::SloMetric::Latency(0.99))
            .map(|t| t.threshold);
        let success_slo = p
            .slo
            .iter()
            .find(|t| t.metric == plan::SloMetric::Success)
            .map(|t| t.threshold);
        let cap = report::figures::capacity(&p.scenario_name, &curves, p99_slo, success_slo);
        let amp_groups: Vec<report::charts::Series> = p
            .tiers
            .iter()
            .map(|t| report::charts::Series {
                name: format!("tier {}", report::figures::tier_label(&t.tier, t.spend_usd)),
                points: t
                    .curve
                    .iter()
                    .map(|e| (e.offered_rps, e.attempts_mean))
                    .collect(),
                ..Default::default()
            })
            .collect();
        let amp =
            report::figures::amplification(&p.scenario_name, "offered load (req/s)", amp_groups);
        let mut figures = Vec::new();
        for (stem, chart, caption) in [
            ("capacity", cap, format!("Goodput, p99 latency over all requests (failed ones counted as infinitely slow, as the SLO does) and the share of requests that failed, against offered load per tier; SLO: {slo_text}. Rings mark each tier's highest load meeting the SLO.")),
            ("amplification", amp, "Mean attempts per request against offered load: retries multiply the load the server sees.".to_string()),
        ] {
            let r = report::charts::render(&chart).map_err(|m| chart_error(stem, m))?;
            files.push((format!("{stem}.png"), r.png));
            files.push((format!("{stem}.svg"), r.svg.clone().into_bytes()));
            figures.push((r.svg, caption));
        }
        let mut sentence = verdict.clone();
        if let Some(first) = sentence.get(..1) {
            sentence.replace_range(..1, &first.to_uppercase());
        }
        let lead = format!("SLO: {slo_text}. {sentence}. {precision_note}");
        let page = report::pages::simple_page(
            &format!("ratesim: capacity plan for {}", p.scenario_name),
            &lead,
            vec![(
                "Highest load meeting the SLO, per tier".into(),
                headers.clone(),
                table.clone(),
            )],
            figures,
            std::slice::from_ref(&p.sources),
            &doc.source,
        );
        files.push(("index.html".into(), page.into_bytes()));
    }
    report::write_set(&dir, &files, report::PLAN_FILES)?;
    journal.finish();
    eprintln!("wrote {}", dir.display());
    emit(
        out,
        &format!(
            "capacity plan for {} with SLO {slo_text}\n\n{}\n{verdict}\n{precision_note}\n",
            p.scenario_name,
            text_table(&headers, &table)
        ),
    )?;
    Ok(if p.cheapest.is_some() {
        Outcome::Done
    } else {
        Outcome::NoTierMeetsSlo
    })
}

/// A p99 over all requests: infinite (undefined as a latency) when more than 1 % failed.
fn fmt_p99_all(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "over 1% failed".into()
    }
}

/// The least money over the horizon that meets the SLO at the scenario's own load, with the
/// reasoning: for each tier that meets it, the purchase that unlocks it (what is still missing
/// of its threshold; prepaid credit that then pays usage) and its running cost. The cash out
/// over the horizon is the larger of the two, since the purchase's credit is spent on usage.
fn cheapest_way(
    p: &crate::plan::Plan,
    paid_usd: f64,
    horizon: crate::time::SimDuration,
) -> Option<String> {
    let days = horizon.as_secs_f64() / 86_400.0;
    let mut ways: Vec<(f64, String)> = Vec::new();
    for t in p.tiers.iter().filter(|t| t.at_own_load.meets) {
        let Some(threshold) = t.spend_usd else {
            ways.push((
                f64::INFINITY,
                format!("tier {} (by request: no price known)", t.tier),
            ));
            continue;
        };
        let gap = (threshold - paid_usd).max(0.0);
        let Some(rate) = t.at_own_load.cost_per_day_usd else {
            ways.push((
                gap,
                format!(
                    "tier {}: ${gap:.2} to unlock it (no prices: running cost unknown)",
                    t.tier
                ),
            ));
            continue;
        };
        let running = rate * days;
        let cash = gap.max(running);
        ways.push((
            cash,
            format!(
                "tier {}: ${gap:.2} still to pay of its ${threshold} threshold, then ${rate:.2}/day: ${running:.2} over {horizon}; ${cash:.2} in all over {horizon} (the purchase's credit pays usage)",
                t.tier
            ),
        ));
    }
    ways.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (best, rest) = ways.split_first()?;
    let mut s = best.1.clone();
    for (_, w) in rest {
        s.push_str(&format!("\n  also meets it: {w}"));
    }
    Some(s)
}
