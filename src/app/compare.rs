//! `ratesim compare-tiers`: the same workload on each tier.

use std::io::Write;
use std::path::PathBuf;

use super::*;

pub(super) fn compare_tiers(args: &CompareArgs, out: &mut dyn Write) -> Result<()> {
    use crate::sweep;
    let doc = scenario::Document::load(&args.file)?;
    let overrides = Overrides::from(args.overrides);
    let (base, warnings) = doc.resolve(&overrides, &[])?;
    for w in &warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    let tiers = pick_tiers(&args.tiers, &base)?;
    let spec = scenario::SweepSpec {
        replications: replications(args.replications, &doc)?,
        tiers: Some(scenario::TierAxis::List(tiers.clone())),
        load: None,
        clients: None,
        params: Vec::new(),
    };
    let grid = sweep::expand(&doc, &spec, &overrides)?;
    let dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("output")
            .join(&grid.name)
            .join("compare-tiers")
    });
    report::check_output_dir(&dir, "--out")?;
    // The same workload on every tier: replication k has the same seed on each tier.
    let rows = sweep::execute(&grid, &grid.runs_seeded(true));
    let agg = sweep::aggregate(&rows);
    let spend: Vec<Option<f64>> = grid
        .points
        .iter()
        .map(|p| p.scenario.tier_spend_usd)
        .collect();
    // p99 over all requests is undefined in a run where more than 1 % of requests failed;
    // the table says in how many runs, rather than average the others.
    let p99_all = |a: &sweep::AggRow| {
        let i = crate::report::summary::metric_index("latency_p99_all_s").expect("known metric");
        (a.stats[i], a.replications - a.stats[i].n)
    };
    let jobs = base.has_jobs();
    let mut headers: Vec<String> = [
        "tier",
        "spend (USD)",
        "goodput (req/s)",
        "goodput 95% CI",
        "success %",
        "429 %",
        "gave up %",
        "p50 (s)",
        "p99 all (s)",
        "attempts/req",
        "RPS used %",
        "TPM used %",
    ]
    .map(String::from)
    .to_vec();
    if jobs {
        headers.push("makespan (s)".into());
    }
    let table: Vec<Vec<String>> = agg
        .iter()
        .zip(&spend)
        .map(|(a, sp)| {
            let (g, ci) = mean_ci(a, "goodput_rps");
            let (p99, undefined) = p99_all(a);
            let mut row = vec![
                a.labels[0].clone(),
                sp.map_or("by request".into(), |v| format!("{v}")),
                format!("{g:.2}"),
                ci.map_or("-".into(), |(lo, hi)| format!("{lo:.2} to {hi:.2}")),
                fmt_opt(a.mean("success_pct"), 2),
                fmt_opt(a.mean("rate_limited_pct"), 2),
                fmt_opt(a.mean("gave_up_pct"), 2),
                fmt_opt(a.mean("latency_p50_s"), 3),
                if undefined > 0 {
                    format!("over 1% failed ({undefined}/{})", a.replications)
                } else {
                    fmt_opt(p99.mean, 3)
                },
                fmt_opt(a.mean("attempts_per_request_mean"), 2),
                fmt_opt(a.mean("rps_utilisation").map(|u| 100.0 * u), 1),
                fmt_opt(a.mean("tpm_utilisation").map(|u| 100.0 * u), 1),
            ];
            if jobs {
                row.push(fmt_opt(a.mean("makespan_s"), 1));
            }
            row
        })
        .collect();
    let text = text_table(&headers, &table);
    // tiers.csv: tidy (snake_case, units in the names, unrounded, the CI as two columns).
    let mut w = csv::Writer::from_writer(Vec::new());
    let metrics = [
        ("goodput_rps", "goodput_rps"),
        ("success_pct", "success_pct"),
        ("rate_limited_pct", "rate_limited_pct"),
        ("gave_up_pct", "gave_up_pct"),
        ("latency_p50_s", "latency_p50_s"),
        ("latency_p99_s", "latency_p99_succeeded_s"),
        ("latency_p99_all_s", "latency_p99_all_s"),
        ("attempts_per_request_mean", "attempts_per_request"),
        ("rps_utilisation", "rps_utilisation"),
        ("tpm_utilisation", "tpm_utilisation"),
        ("makespan_s", "makespan_s"),
    ];
    let mut header = vec![
        "tier".to_string(),
        "spend_usd".into(),
        "replications".into(),
    ];
    for (_, name) in metrics {
        header.push(format!("{name}_mean"));
        header.push(format!("{name}_ci95_low"));
        header.push(format!("{name}_ci95_high"));
    }
    header.push("latency_p99_all_undefined_runs".into());
    w.write_record(&header).expect("writing to memory");
    let num = |x: Option<f64>| x.map_or(String::new(), crate::sweep::fmt_f64);
    for (a, sp) in agg.iter().zip(&spend) {
        let mut r = vec![a.labels[0].clone(), num(*sp), a.replications.to_string()];
        for (metric, _) in metrics {
            let i = crate::report::summary::metric_index(metric).expect("known metric");
            let st = a.stats[i];
            r.push(num(st.mean));
            r.push(num(st.ci95.map(|c| c.0)));
            r.push(num(st.ci95.map(|c| c.1)));
        }
        r.push(p99_all(a).1.to_string());
        w.write_record(&r).expect("writing to memory");
    }
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "tiers.csv".into(),
            w.into_inner().expect("writing to memory"),
        ),
        ("runs.csv".into(), sweep::runs_csv(&grid.axes, &rows)),
        (
            "aggregate.csv".into(),
            sweep::aggregate_csv(&grid.axes, &agg),
        ),
    ];
    if !args.no_charts {
        let bars: Vec<report::figures::TierBar> = agg
            .iter()
            .zip(&spend)
            .map(|(a, sp)| {
                let (p99, undefined) = p99_all(a);
                report::figures::TierBar {
                    tier: a.labels[0].clone(),
                    spend_usd: *sp,
                    goodput: mean_ci(a, "goodput_rps"),
                    success_pct: mean_ci(a, "success_pct"),
                    rate_limited_pct: mean_ci(a, "rate_limited_pct"),
                    gave_up_pct: mean_ci(a, "gave_up_pct"),
                    p99_all_s: (p99.mean.unwrap_or(0.0), p99.ci95),
                    undefined_runs: undefined,
                    runs: a.replications,
                    attempts_per_request: mean_ci(a, "attempts_per_request_mean"),
                    makespan_s: jobs.then(|| mean_ci(a, "makespan_s")),
                }
            })
            .collect();
        let offered = agg
            .first()
            .and_then(|a| a.mean("offered_rps"))
            .unwrap_or(0.0);
        // Closed-loop workers offer what the server lets them: the offered load then differs
        // by tier, and no single line can be drawn.
        let closed = base
            .streams
            .iter()
            .any(|s| matches!(s.arrivals.process, crate::workload::Process::Workers(_)));
        let chart = report::figures::compare_tiers(&grid.name, (!closed).then_some(offered), &bars);
        let r = report::charts::render(&chart).map_err(|m| chart_error("compare-tiers", m))?;
        files.push(("compare-tiers.png".into(), r.png));
        files.push(("compare-tiers.svg".into(), r.svg.clone().into_bytes()));
        let lead = format!(
            "Scenario {} at its own load ({:.2} req/s offered) on tiers {}, {} replication{} each; replication k has the same seed (derived from {}) on every tier, so each tier sees the same arrivals. Means over replications; the goodput interval is a 95% confidence interval (Student t). Goodput counts succeeded requests over the whole simulated time, drain included. p99 is over all requests, those that did not succeed counted as infinitely slow, and undefined where more than 1% failed.",
            grid.name,
            offered,
            tiers.join(", "),
            grid.replications,
            plural(grid.replications as usize),
            grid.base_seed
        );
        let page = report::pages::simple_page(
            &format!("ratesim: {} on each tier", grid.name),
            &lead,
            vec![("Tier comparison".into(), headers.clone(), table.clone())],
            vec![(
                r.svg,
                "Goodput, success, p99 latency and attempts per request on each tier.".into(),
            )],
            &doc.source,
        );
        files.push(("index.html".into(), page.into_bytes()));
    }
    report::write_set(&dir, &files, report::COMPARE_FILES)?;
    eprintln!("wrote {}", dir.display());
    emit(
        out,
        &format!(
            "{} on each tier ({} replication{}; means; p99 all: over all requests, failed ones infinitely slow):\n\n{text}",
            grid.name,
            grid.replications,
            plural(grid.replications as usize)
        ),
    )
}
