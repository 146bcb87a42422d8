//! The HTML pages: what each command's `index.html` shows.

use super::html::{Block, page};
use super::summary::Summary;
use super::table::{
    COUNT_HEADERS, QUANTILE_HEADERS, client_lines, cost_lines, count_rows, headline, latency_note,
    model_lines, quantile_rows,
};

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
    if s.warmup_s > 0.0 {
        blocks.push(Block::P(format!(
            "The totals leave out the requests that arrived during the first {} s (warm-up); the charts show every request.",
            s.warmup_s
        )));
    }
    // The same rows as the table `ratesim run` prints.
    let table = |heads: &[&str], rows: Vec<(String, Vec<String>)>| Block::Table {
        headers: std::iter::once(String::new())
            .chain(heads.iter().map(|h| h.to_string()))
            .collect(),
        rows: rows
            .into_iter()
            .map(|(label, cells)| std::iter::once(label).chain(cells).collect())
            .collect(),
    };
    blocks.push(Block::H2("Requests and attempts".into()));
    blocks.push(table(&COUNT_HEADERS, count_rows(s)));
    blocks.push(Block::P(headline(s)));
    blocks.push(Block::H2("Latency and attempts per request".into()));
    blocks.push(table(&QUANTILE_HEADERS, quantile_rows(s)));
    if let Some(note) = latency_note(s) {
        blocks.push(Block::P(note));
    }
    for line in client_lines(s) {
        blocks.push(Block::P(line));
    }
    blocks.push(Block::H2("Cost and account".into()));
    for line in cost_lines(s) {
        blocks.push(Block::P(line));
    }
    blocks.push(Block::H2("Caps".into()));
    for line in model_lines(s) {
        blocks.push(Block::P(line));
    }
    blocks.push(Block::H2("Charts".into()));
    for (svg, caption) in figures {
        blocks.push(Block::Figure { svg, caption });
    }
    blocks.push(Block::H2("Provider, tables and assumptions".into()));
    blocks.push(Block::Pre(s.catalog.lines().join("\n")));
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
    sources: &[super::summary::CatalogInfo],
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
    blocks.push(Block::H2("Provider, tables and assumptions".into()));
    blocks.push(Block::Pre(
        sources
            .iter()
            .map(|c| c.lines().join("\n"))
            .collect::<Vec<_>>()
            .join("\n\n"),
    ));
    blocks.push(Block::H2("Scenario file".into()));
    blocks.push(Block::Pre(source.to_string()));
    page(
        title,
        &format!("ratesim {}", env!("CARGO_PKG_VERSION")),
        &blocks,
    )
}
