//! The HTML pages: what each command's `index.html` shows.

use super::html::{Block, page};
use super::summary::{Summary, Totals};

fn f2(x: f64) -> String {
    format!("{x:.2}")
}

fn secs(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.3}"))
}

fn counts_row(label: &str, t: &Totals) -> Vec<String> {
    vec![
        label.to_string(),
        t.requests.to_string(),
        t.attempts.to_string(),
        t.admitted.to_string(),
        t.rate_limited.to_string(),
        t.succeeded.to_string(),
        t.gave_up.to_string(),
        t.never_fits.to_string(),
        t.in_flight_at_end.to_string(),
        f2(t.success_pct),
        f2(t.goodput_rps),
    ]
}

fn latency_row(label: &str, t: &Totals) -> Vec<String> {
    let l = &t.latency_s;
    vec![
        label.to_string(),
        secs(l.p50),
        secs(l.p90),
        secs(l.p99),
        secs(l.p999),
        secs(l.max),
        secs(l.mean),
        t.attempts_per_request.mean.map_or("-".into(), f2),
        t.attempts_per_request
            .max
            .map_or("-".into(), |v| format!("{v:.0}")),
    ]
}

/// `index.html` of `ratesim run`: the scenario, the summary tables and the charts.
pub fn run_page(s: &Summary, source: &str, figures: Vec<(String, String)>) -> String {
    let spend = s
        .tier_spend_usd
        .map_or("by request".into(), |v| format!("${v}"));
    let mut blocks = vec![Block::P(format!(
        "{} Seed {}, tier {} ({spend}). Limits: {} ({}). Arrivals for {:.0} s; simulated {:.1} s, {}; {} events.",
        s.scenario
            .description
            .clone()
            .map(|d| format!("{d}."))
            .unwrap_or_default(),
        s.seed,
        s.tier,
        s.catalog.limits.source,
        s.catalog.limits.date,
        s.duration_s,
        s.simulated_s,
        if s.cut_off {
            "cut off at the hard stop"
        } else {
            "drained until every request ended"
        },
        s.totals.events
    ))];
    blocks.push(Block::H2("Requests and attempts".into()));
    let mut rows = vec![counts_row("total", &s.totals)];
    for m in &s.models {
        rows.push(counts_row(&format!("model {}", m.model), &m.totals));
    }
    if s.streams.len() > 1 {
        for st in &s.streams {
            rows.push(counts_row(&format!("stream {}", st.stream), &st.totals));
        }
    }
    blocks.push(Block::Table {
        headers: [
            "",
            "requests",
            "attempts",
            "admitted",
            "429s",
            "succeeded",
            "gave up",
            "never fits",
            "in flight",
            "success %",
            "goodput (req/s)",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    blocks.push(Block::H2("Latency (s) and attempts per request".into()));
    let mut rows = vec![latency_row("total", &s.totals)];
    for st in &s.streams {
        rows.push(latency_row(&format!("stream {}", st.stream), &st.totals));
    }
    blocks.push(Block::Table {
        headers: [
            "",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max",
            "mean",
            "attempts mean",
            "attempts max",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    blocks.push(Block::H2("Caps".into()));
    blocks.push(Block::Table {
        headers: [
            "model",
            "RPS cap",
            "RPS used",
            "TPM cap",
            "TPM used",
            "tokens admitted",
        ]
        .map(String::from)
        .to_vec(),
        rows: s
            .models
            .iter()
            .map(|m| {
                vec![
                    m.model.clone(),
                    m.rps_cap.to_string(),
                    format!("{:.1}%", 100.0 * m.rps_utilisation),
                    m.tpm_cap.map_or("none".into(), |t| t.to_string()),
                    m.tpm_utilisation
                        .map_or("-".into(), |u| format!("{:.1}%", 100.0 * u)),
                    m.totals.tokens_admitted.to_string(),
                ]
            })
            .collect(),
    });
    blocks.push(Block::H2("Charts".into()));
    for (svg, caption) in figures {
        blocks.push(Block::Figure { svg, caption });
    }
    blocks.push(Block::H2("Scenario file".into()));
    blocks.push(Block::Pre(source.to_string()));
    blocks.push(Block::P(
        "Files beside this page: summary.json (every number above, and the resolved scenario), timeseries.csv, and each chart as PNG and SVG.".into(),
    ));
    page(
        &format!("ratesim: {}", s.scenario_name),
        &format!("ratesim {} run report", s.ratesim_version),
        &blocks,
    )
}

/// A generic page: a lead paragraph, tables, figures and the scenario file. Figures come
/// before a long table (a sweep's grid), after short ones.
pub fn simple_page(
    title: &str,
    lead: &str,
    tables: Vec<(String, Vec<String>, Vec<Vec<String>>)>,
    figures: Vec<(String, String)>,
    source: &str,
) -> String {
    let long = tables.iter().any(|(_, _, rows)| rows.len() > 15);
    let mut table_blocks = Vec::new();
    for (heading, headers, rows) in tables {
        table_blocks.push(Block::H2(heading));
        table_blocks.push(Block::Table { headers, rows });
    }
    let mut figure_blocks = Vec::new();
    if !figures.is_empty() {
        figure_blocks.push(Block::H2("Charts".into()));
        for (svg, caption) in figures {
            figure_blocks.push(Block::Figure { svg, caption });
        }
    }
    let mut blocks = vec![Block::P(lead.to_string())];
    if long {
        blocks.extend(figure_blocks);
        blocks.extend(table_blocks);
    } else {
        blocks.extend(table_blocks);
        blocks.extend(figure_blocks);
    }
    blocks.push(Block::H2("Scenario file".into()));
    blocks.push(Block::Pre(source.to_string()));
    page(
        title,
        &format!("ratesim {}", env!("CARGO_PKG_VERSION")),
        &blocks,
    )
}
