//! `ratesim compare` and `ratesim compare-tiers`: the same workload under each value of one
//! setting (a client, a tier, any field), with common random numbers.

use std::io::Write;
use std::path::PathBuf;

use super::*;
use crate::client::Cause;
use crate::sweep::{self, AggRow};

/// What a comparison varies, as the command line gave it.
struct By {
    /// The axis name (`tier`, `client` or a dotted path) and its column head.
    key: String,
    head: String,
    spec: scenario::SweepSpec,
}

/// `--by KEY=V1,V2,...`.
fn parse_by(
    by: &str,
    doc: &scenario::Document,
    base: &scenario::Scenario,
    replications: u32,
) -> Result<By> {
    let Some((key, values)) = by.split_once('=') else {
        return Err(Error::Usage(format!(
            "--by {by:?}: expected KEY=V1,V2,... such as client=openai-python,anthropic-python or tier=0,1,2"
        )));
    };
    let key = key.trim();
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if key.is_empty() || values.iter().any(String::is_empty) {
        return Err(Error::Usage(format!(
            "--by {by:?}: the key and every value must be non-empty (KEY=V1,V2,...)"
        )));
    }
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(Error::Usage(format!("--by: value {v:?} is given twice")));
        }
    }
    let mut spec = scenario::SweepSpec {
        replications,
        tiers: None,
        load: None,
        clients: None,
        params: Vec::new(),
    };
    let head = match key {
        "tier" => {
            let tiers = pick_tiers(&Some(values), base)?;
            spec.tiers = Some(scenario::TierAxis::List(tiers));
            "tier"
        }
        "client" => {
            let known: Vec<&str> = PRESETS.iter().map(|(n, _, _)| *n).collect();
            let mut clients = Vec::new();
            for v in &values {
                let table = match doc.named_client(v) {
                    Some(toml::Value::Table(mut t)) => {
                        t.insert("name".into(), toml::Value::String(v.clone()));
                        toml::Value::Table(t)
                    }
                    _ if known.contains(&v.as_str()) => {
                        let mut t = toml::Table::new();
                        t.insert("name".into(), toml::Value::String(v.clone()));
                        t.insert("preset".into(), toml::Value::String(v.clone()));
                        toml::Value::Table(t)
                    }
                    _ => {
                        return Err(Error::Usage(format!(
                            "--by client: {v:?} is neither a preset nor a [[clients]] entry of {}; presets: {}",
                            doc.file,
                            known.join(", ")
                        )));
                    }
                };
                clients.push(table);
            }
            spec.clients = Some(clients);
            "client"
        }
        path => {
            let parsed = values
                .iter()
                .map(|v| {
                    // A TOML value if it reads as one (3, 0.5, true, "x"), else a string.
                    toml::from_str::<toml::Table>(&format!("v = {v}"))
                        .ok()
                        .and_then(|mut t| t.remove("v"))
                        .unwrap_or_else(|| toml::Value::String(v.clone()))
                })
                .collect();
            spec.params.push(scenario::SweepParam {
                path: path.to_string(),
                values: parsed,
            });
            path
        }
    };
    Ok(By {
        key: key.to_string(),
        head: head.to_string(),
        spec,
    })
}

pub(super) fn compare_by(args: &CompareByArgs, out: &mut dyn Write) -> Result<()> {
    let doc = scenario::Document::load(&args.file)?;
    let overrides = Overrides::from(args.overrides);
    let (base, warnings) = doc.resolve(&overrides, &[])?;
    for w in &warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    let by = parse_by(
        &args.by,
        &doc,
        &base,
        replications(args.replications, &doc)?,
    )?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&base.name).join("compare"));
    run_comparison(
        &doc,
        &base,
        &overrides,
        by,
        &dir,
        args.no_charts,
        false,
        out,
    )
}

pub(super) fn compare_tiers(args: &CompareArgs, out: &mut dyn Write) -> Result<()> {
    let doc = scenario::Document::load(&args.file)?;
    let overrides = Overrides::from(args.overrides);
    let (base, warnings) = doc.resolve(&overrides, &[])?;
    for w in &warnings {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    let tiers = pick_tiers(&args.tiers, &base)?;
    let by = By {
        key: "tier".into(),
        head: "tier".into(),
        spec: scenario::SweepSpec {
            replications: replications(args.replications, &doc)?,
            tiers: Some(scenario::TierAxis::List(tiers)),
            load: None,
            clients: None,
            params: Vec::new(),
        },
    };
    let dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("output")
            .join(&base.name)
            .join("compare-tiers")
    });
    run_comparison(&doc, &base, &overrides, by, &dir, args.no_charts, true, out)
}

/// Runs every value with the same seeds and writes the table, CSV files, chart and page.
#[allow(clippy::too_many_arguments)]
fn run_comparison(
    doc: &scenario::Document,
    base: &scenario::Scenario,
    overrides: &Overrides,
    by: By,
    dir: &std::path::Path,
    no_charts: bool,
    tiers_files: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let grid = sweep::expand(doc, &by.spec, overrides)?;
    report::check_output_dir(dir, "--out")?;
    // The same workload under every value: replication k has the same seed for each.
    let rows = sweep::execute(&grid, &grid.runs_seeded(true));
    let agg = sweep::aggregate(&rows);
    let tiers = by.key == "tier";
    let spend: Vec<Option<f64>> = grid
        .points
        .iter()
        .map(|p| p.scenario.tier_spend_usd)
        .collect();
    let labels: Vec<String> = agg
        .iter()
        .zip(&spend)
        .map(|(a, sp)| {
            if tiers {
                report::figures::tier_label(&a.labels[0], *sp)
            } else {
                a.labels[0].clone()
            }
        })
        .collect();
    // p99 over all requests is undefined in a run where more than 1 % of requests failed;
    // the table says in how many runs, rather than average the others.
    let p99_all = |a: &AggRow| {
        let i = crate::report::summary::metric_index("latency_p99_all_s").expect("known metric");
        (a.stats[i], a.replications - a.stats[i].n)
    };
    let jobs = base.has_jobs();
    // Give-up causes that occur under some value, as a share of requests (percent).
    let cause_pct = |a: &AggRow, c: Cause| -> f64 {
        a.mean(&format!("gave_up_{}_pct", c.name())).unwrap_or(0.0)
    };
    let causes: Vec<Cause> = Cause::ALL
        .into_iter()
        .filter(|c| agg.iter().any(|a| cause_pct(a, *c) > 0.0))
        .collect();
    let waits = agg
        .iter()
        .any(|a| a.mean("queued_mean_s").is_some_and(|q| q > 0.0));
    let mut headers: Vec<String> = vec![by.head.clone()];
    if tiers {
        headers.push("spend (USD)".into());
    }
    headers.extend(
        [
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
        .map(String::from),
    );
    for c in &causes {
        headers.push(format!("{} %", c.name().replace('_', " ")));
    }
    if waits {
        headers.push("queued (s)".into());
    }
    headers.push("backoff (s)".into());
    if jobs {
        headers.push("makespan (s)".into());
    }
    let priced = agg.iter().any(|a| a.mean("cost_per_day_usd").is_some());
    // What the team has paid: its account's spend to date, or its tier's threshold; and the
    // spend per day at the scenario's own tier, from which the days to each threshold follow.
    let paid_usd = base.account.as_ref().map_or_else(
        || base.tier_spend_usd.unwrap_or(0.0),
        |a| a.spend_to_date as f64 / 1e9,
    );
    let own_rate = agg
        .iter()
        .find(|a| tiers && a.labels[0] == base.tier)
        .or(agg.first())
        .and_then(|a| a.mean("cost_per_day_usd"));
    if priced {
        headers.push("cost/day (USD)".into());
        if tiers {
            headers.push(format!("days to reach at tier {}'s spend", base.tier));
        }
    }
    let table: Vec<Vec<String>> = agg
        .iter()
        .zip(&spend)
        .map(|(a, sp)| {
            let (g, ci) = mean_ci(a, "goodput_rps");
            let (p99, undefined) = p99_all(a);
            let mut row = vec![a.labels[0].clone()];
            if tiers {
                row.push(sp.map_or("by request".into(), |v| format!("{v}")));
            }
            row.extend([
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
            ]);
            for c in &causes {
                row.push(format!("{:.2}", cause_pct(a, *c)));
            }
            if waits {
                row.push(fmt_opt(a.mean("queued_mean_s"), 3));
            }
            row.push(fmt_opt(a.mean("backoff_mean_s"), 3));
            if jobs {
                row.push(fmt_opt(a.mean("makespan_s"), 1));
            }
            if priced {
                row.push(fmt_opt(a.mean("cost_per_day_usd"), 2));
                if tiers {
                    row.push(match (sp, own_rate) {
                        (Some(s), _) if *s <= paid_usd => "reached".into(),
                        (Some(s), Some(r)) if r > 0.0 => format!("{:.1}", (s - paid_usd) / r),
                        _ => "-".into(),
                    });
                }
            }
            row
        })
        .collect();
    let text = text_table(&headers, &table);
    // The CSV: tidy (snake_case, units in the names, unrounded, the CI as two columns).
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut metrics: Vec<(String, String)> = [
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
        ("cost_per_day_usd", "cost_per_day_usd"),
        ("cost_per_success_usd", "cost_per_success_usd"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .to_vec();
    if !tiers_files {
        for m in ["queued_mean_s", "backoff_mean_s", "service_mean_s"] {
            metrics.push((m.into(), m.into()));
        }
        for c in Cause::ALL {
            let m = format!("gave_up_{}_pct", c.name());
            metrics.push((m.clone(), m));
        }
    }
    let mut header = vec![by.key.clone()];
    if tiers {
        header.push("spend_usd".into());
    }
    header.push("replications".into());
    for (_, name) in &metrics {
        header.push(format!("{name}_mean"));
        header.push(format!("{name}_ci95_low"));
        header.push(format!("{name}_ci95_high"));
    }
    header.push("latency_p99_all_undefined_runs".into());
    w.write_record(&header).expect("writing to memory");
    let num = |x: Option<f64>| x.map_or(String::new(), crate::sweep::fmt_f64);
    for (a, sp) in agg.iter().zip(&spend) {
        let mut r = vec![a.labels[0].clone()];
        if tiers {
            r.push(num(*sp));
        }
        r.push(a.replications.to_string());
        for (metric, _) in &metrics {
            let i = crate::report::summary::metric_index(metric).expect("known metric");
            let st = a.stats[i];
            r.push(num(st.mean));
            r.push(num(st.ci95.map(|c| c.0)));
            r.push(num(st.ci95.map(|c| c.1)));
        }
        r.push(p99_all(a).1.to_string());
        w.write_record(&r).expect("writing to memory");
    }
    let (csv_name, stem, allowed) = if tiers_files {
        ("tiers.csv", "compare-tiers", report::COMPARE_FILES)
    } else {
        ("compare.csv", "compare", report::COMPARE_BY_FILES)
    };
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (csv_name.into(), w.into_inner().expect("writing to memory")),
        ("runs.csv".into(), sweep::runs_csv(&grid.axes, &rows)),
        (
            "aggregate.csv".into(),
            sweep::aggregate_csv(&grid.axes, &agg),
        ),
    ];
    let offered = agg
        .first()
        .and_then(|a| a.mean("offered_rps"))
        .unwrap_or(0.0);
    let values = labels.join(", ");
    let what = if tiers {
        format!("on tiers {values}")
    } else {
        format!("with {} = {values}", by.key)
    };
    if !no_charts {
        let bars: Vec<report::figures::CompareBar> = agg
            .iter()
            .zip(&labels)
            .map(|(a, label)| {
                let (p99, undefined) = p99_all(a);
                report::figures::CompareBar {
                    label: label.clone(),
                    goodput: mean_ci(a, "goodput_rps"),
                    success_pct: mean_ci(a, "success_pct"),
                    rate_limited_pct: mean_ci(a, "rate_limited_pct"),
                    gave_up_pct: mean_ci(a, "gave_up_pct"),
                    p99_all_s: (p99.mean.unwrap_or(0.0), p99.ci95),
                    undefined_runs: undefined,
                    runs: a.replications,
                    attempts_per_request: mean_ci(a, "attempts_per_request_mean"),
                    makespan_s: jobs.then(|| mean_ci(a, "makespan_s")),
                    gave_up_by_cause: causes
                        .iter()
                        .map(|c| (c.name().to_string(), cause_pct(a, *c)))
                        .collect(),
                    split: match (
                        a.mean("queued_mean_s"),
                        a.mean("backoff_mean_s"),
                        a.mean("service_mean_s"),
                    ) {
                        (Some(q), Some(b), Some(s)) => Some((q, b, s)),
                        _ => None,
                    },
                }
            })
            .collect();
        // Closed-loop workers offer what the server lets them: the offered load then differs
        // by value, and no single line can be drawn.
        let closed = base
            .streams
            .iter()
            .any(|s| matches!(s.arrivals.process, crate::workload::Process::Workers(_)));
        let (title, x_label) = if tiers {
            (
                format!("{}: the same workload on each tier", grid.name),
                "tier (cumulative spend that unlocks it)".to_string(),
            )
        } else {
            (
                format!("{}: the same workload for each {}", grid.name, by.key),
                by.key.clone(),
            )
        };
        let chart = report::figures::compare(&title, &x_label, (!closed).then_some(offered), &bars);
        let r = report::charts::render(&chart).map_err(|m| chart_error(stem, m))?;
        files.push((format!("{stem}.png"), r.png));
        files.push((format!("{stem}.svg"), r.svg.clone().into_bytes()));
        let lead = format!(
            "Scenario {} at its own load ({:.2} req/s offered) {what}, {} replication{} each; replication k has the same seed (derived from {}) for every value, so each sees the same arrivals (common random numbers). Means over replications; the goodput interval is a 95% confidence interval (Student t). Goodput counts succeeded requests over the whole simulated time, drain included. p99 is over all requests, those that did not succeed counted as infinitely slow, and undefined where more than 1% failed. Give-ups by cause are shares of requests.",
            grid.name,
            offered,
            grid.replications,
            plural(grid.replications as usize),
            grid.base_seed
        );
        let page = report::pages::simple_page(
            &format!("ratesim: {} {what}", grid.name),
            &lead,
            vec![("Comparison".into(), headers.clone(), table.clone())],
            vec![(
                r.svg,
                "Goodput, success, p99 latency, 429s, give-ups by cause and attempts per request for each value.".into(),
            )],
            &grid.sources(),
            &doc.source,
        );
        files.push(("index.html".into(), page.into_bytes()));
    }
    report::write_set(dir, &files, allowed)?;
    eprintln!("wrote {}", dir.display());
    emit(
        out,
        &format!(
            "{} {what} ({} replication{}; means; p99 all: over all requests, failed ones infinitely slow):\n\n{text}",
            grid.name,
            grid.replications,
            plural(grid.replications as usize)
        ),
    )
}
