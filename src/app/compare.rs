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
    let headers: Vec<String> = [
        "tier",
        "spend (USD)",
        "goodput (req/s)",
        "goodput 95% CI",
        "success %",
        "429 %",
        "gave up %",
        "p50 (s)",
        "p99 (s)",
        "attempts/req",
        "RPS used %",
        "TPM used %",
    ]
    .map(String::from)
    .to_vec();
    let table: Vec<Vec<String>> = agg
        .iter()
        .zip(&spend)
        .map(|(a, sp)| {
            let (g, ci) = mean_ci(a, "goodput_rps");
            vec![
                a.labels[0].clone(),
                sp.map_or("by request".into(), |v| format!("{v}")),
                format!("{g:.2}"),
                ci.map_or("-".into(), |(lo, hi)| format!("{lo:.2} to {hi:.2}")),
                fmt_opt(a.mean("success_pct"), 2),
                fmt_opt(a.mean("rate_limited_pct"), 2),
                fmt_opt(a.mean("gave_up_pct"), 2),
                fmt_opt(a.mean("latency_p50_s"), 3),
                fmt_opt(a.mean("latency_p99_s"), 3),
                fmt_opt(a.mean("attempts_per_request_mean"), 2),
                fmt_opt(a.mean("rps_utilisation").map(|u| 100.0 * u), 1),
                fmt_opt(a.mean("tpm_utilisation").map(|u| 100.0 * u), 1),
            ]
        })
        .collect();
    let text = text_table(&headers, &table);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&headers).expect("writing to memory");
    for r in &table {
        w.write_record(r).expect("writing to memory");
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
            .map(|a| report::figures::TierBar {
                tier: a.labels[0].clone(),
                goodput: mean_ci(a, "goodput_rps"),
                success_pct: mean_ci(a, "success_pct"),
                p99_s: mean_ci(a, "latency_p99_s"),
                attempts_per_request: mean_ci(a, "attempts_per_request_mean"),
            })
            .collect();
        let offered = agg
            .first()
            .and_then(|a| a.mean("offered_rps"))
            .unwrap_or(0.0);
        let chart = report::figures::compare_tiers(&grid.name, offered, &bars);
        let r = report::charts::render(&chart).map_err(|m| chart_error("compare-tiers", m))?;
        files.push(("compare-tiers.png".into(), r.png));
        files.push(("compare-tiers.svg".into(), r.svg.clone().into_bytes()));
        let lead = format!(
            "Scenario {} at its own load ({:.2} requests/s offered) on tiers {}, {} replications each; replication k has the same seed (derived from {}) on every tier, so each tier sees the same arrivals. Means over replications; the goodput interval is a 95% confidence interval (Student t).",
            grid.name,
            offered,
            tiers.join(", "),
            grid.replications,
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
            "{} on each tier ({} replications; means):\n\n{text}",
            grid.name, grid.replications
        ),
    )
}
