//! The readable summary printed on stdout.

use std::fmt::Write;

use super::summary::{Quantiles, Summary, Totals};

fn secs(x: Option<f64>) -> String {
    match x {
        None => "-".to_string(),
        Some(v) => format!("{v:.3}"),
    }
}

fn count(x: Option<f64>) -> String {
    x.map_or("-".to_string(), |v| format!("{v:.2}"))
}

/// Column heads of the counts table (after the row label).
pub const COUNT_HEADERS: [&str; 8] = [
    "requests",
    "attempts",
    "admitted",
    "429s",
    "succeeded",
    "gave up",
    "never fits",
    "in flight",
];

/// Column heads of the quantiles table (after the row label).
pub const QUANTILE_HEADERS: [&str; 6] = ["p50", "p90", "p99", "p99.9", "max", "mean"];

fn counts(t: &Totals) -> Vec<String> {
    [
        t.requests,
        t.attempts,
        t.admitted,
        t.rate_limited,
        t.succeeded,
        t.gave_up,
        t.never_fits,
        t.in_flight_at_end,
    ]
    .iter()
    .map(u64::to_string)
    .collect()
}

/// The rows of the counts table: the total, then each stream when there are several. The
/// terminal table and the HTML page show these same rows.
pub fn count_rows(s: &Summary) -> Vec<(String, Vec<String>)> {
    let mut rows = vec![("total".to_string(), counts(&s.totals))];
    if s.clients.len() > 1 {
        for c in &s.clients {
            rows.push((format!("client {}", c.client), counts(&c.totals)));
        }
    }
    if s.streams.len() > 1 {
        for st in &s.streams {
            rows.push((format!("stream {}", st.stream), counts(&st.totals)));
        }
    }
    rows
}

fn quantiles(q: &Quantiles, f: fn(Option<f64>) -> String) -> Vec<String> {
    [q.p50, q.p90, q.p99, q.p999, q.max, q.mean]
        .into_iter()
        .map(f)
        .collect()
}

/// The rows of the quantiles table: latency of succeeded requests, attempts per request, time
/// to give up (when some gave up), and each stream's latency when there are several.
pub fn quantile_rows(s: &Summary) -> Vec<(String, Vec<String>)> {
    let t = &s.totals;
    let mut rows = vec![
        ("latency (s)".to_string(), quantiles(&t.latency_s, secs)),
        (
            "attempts per request".to_string(),
            quantiles(&t.attempts_per_request, count),
        ),
    ];
    if t.gave_up > 0 {
        rows.push((
            "time to give up (s)".to_string(),
            quantiles(&t.give_up_after_s, secs),
        ));
    }
    if s.streams.len() > 1 {
        for st in &s.streams {
            rows.push((
                format!("latency {} (s)", st.stream),
                quantiles(&st.totals.latency_s, secs),
            ));
        }
    }
    rows
}

/// The line under the counts: success, give-ups, 429s, offered load and goodput.
pub fn headline(s: &Summary) -> String {
    let t = &s.totals;
    let mut line = format!(
        "success {:.2}% | gave up {:.2}% | 429s {:.2}% of attempts | offered {:.2} req/s | goodput {:.2} req/s",
        t.success_pct, t.gave_up_pct, t.rate_limited_pct, t.offered_rps, t.goodput_rps
    );
    if s.scenario.has_jobs()
        && let Some(m) = t.makespan_s
    {
        line.push_str(&format!(" | makespan {}", fmt_span(m)));
        if s.streams.len() > 1 {
            let each: Vec<String> = s
                .streams
                .iter()
                .filter_map(|st| Some(format!("{} {}", st.stream, fmt_span(st.totals.makespan_s?))))
                .collect();
            line.push_str(&format!("\n  makespan by stream: {}", each.join(", ")));
        }
    }
    line
}

/// A span of seconds for people: `5423.1 s (1h 30m 23s)`.
pub fn fmt_span(secs: f64) -> String {
    let whole = secs.round() as u64;
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60);
    let readable = if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    };
    format!("{secs:.1} s ({readable})")
}

/// The note under the latency row when some requests did not succeed.
pub fn latency_note(s: &Summary) -> Option<String> {
    let t = &s.totals;
    (t.succeeded < t.requests).then(|| {
        format!(
            "latency quantiles are of succeeded requests; {:.2}% did not succeed{}",
            100.0 - t.success_pct,
            match t.latency_p99_all_s {
                Some(p) =>
                    format!("; p99 over all requests (failed ones infinitely slow) is {p:.3} s"),
                None => ", so p99 over all requests is undefined (over 1% failed)".into(),
            }
        )
    })
}

/// What the succeeded requests cost, and what the account did (payments, tier changes).
pub fn cost_lines(s: &Summary) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(c) = &s.totals.cost {
        lines.push(format!(
            "cost ${} ({} per succeeded request) | ${:.2} per hour | ${:.2} per day",
            trim_usd(&c.total_usd),
            c.per_success_usd
                .map_or("-".to_string(), |v| format!("${v:.6}")),
            c.per_hour_usd,
            c.per_day_usd
        ));
        lines.push(format!(
            "  by kind: input ${}, cached input ${}, image ${}, completion ${}, reasoning ${}",
            trim_usd(&c.input_usd),
            trim_usd(&c.cached_input_usd),
            trim_usd(&c.image_usd),
            trim_usd(&c.completion_usd),
            trim_usd(&c.reasoning_usd)
        ));
        if s.models.len() > 1 {
            for m in &s.models {
                if let Some(mc) = &m.totals.cost {
                    lines.push(format!("  model {}: ${}", m.model, trim_usd(&mc.total_usd)));
                }
            }
        }
    } else {
        lines.push(format!(
            "cost: unknown (a model has no prices in {}; add [[prices]])",
            s.catalog.prices.source
        ));
    }
    if let Some(a) = &s.account {
        lines.push(format!(
            "account ({}): tier {} -> {} | paid ${} in the run ({} purchases, {} top-ups, {} invoices paid) | unpaid usage ${}",
            a.billing,
            a.start_tier,
            a.end_tier,
            trim_usd(&a.paid_usd),
            a.purchases,
            a.top_ups,
            a.invoices_paid,
            trim_usd(&a.unpaid_usage_usd)
        ));
        for c in &a.tier_changes {
            lines.push(format!(
                "  tier {} -> {} at {} (payments ${} to date)",
                c.from,
                c.to,
                fmt_span(c.time_s),
                trim_usd(&c.paid_usd)
            ));
        }
    }
    lines
}

/// An exact dollar amount for people: cents from a dollar up, four decimals below.
pub fn trim_usd(exact: &str) -> String {
    let v: f64 = exact.parse().unwrap_or(0.0);
    if v >= 1.0 || v == 0.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// One line per model: its caps and how much of each was used; then, when a stream has images,
/// cached or reasoning tokens, the tokens admitted by kind.
pub fn model_lines(s: &Summary) -> Vec<String> {
    let mut lines: Vec<String> = s
        .models
        .iter()
        .map(|m| {
            let mut caps: Vec<String> = m
                .utilisation
                .iter()
                .map(|u| {
                    format!(
                        "{} {}: {:.1}% {}",
                        u.cap.to_uppercase(),
                        u.limit,
                        100.0 * u.used,
                        if u.cap == "concurrent" {
                            "busy"
                        } else {
                            "used"
                        }
                    )
                })
                .collect();
            if m.tpm_cap.is_none() && m.caps.itpm.is_none() {
                caps.push("no TPM cap".to_string());
            }
            format!(
                "{}{}: {} | {} tokens admitted",
                m.model,
                match &s.account {
                    Some(a) if !a.tier_changes.is_empty() => format!(
                        " (caps of tier {}, where the run started; use is measured against them)",
                        a.start_tier
                    ),
                    _ => String::new(),
                },
                caps.join(" | "),
                m.totals.tokens_admitted
            )
        })
        .collect();
    if s.scenario
        .streams
        .iter()
        .any(|st| !st.extra_tokens.is_empty())
    {
        let k = &s.totals.tokens_by_kind;
        lines.push(format!(
            "tokens admitted by kind: prompt {} (cached {}), image {}, completion {}, reasoning {}",
            k.prompt, k.cached, k.image, k.completion, k.reasoning
        ));
    }
    lines
}

/// Why requests gave up (the causes that occurred), and where the latency of succeeded
/// requests went: queued in the client, backing off, being served.
pub fn client_lines(s: &Summary) -> Vec<String> {
    let mut lines = Vec::new();
    let causes = |t: &Totals| -> String {
        t.gave_up_by_cause
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{} {n}", k.replace('_', " ")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if s.totals.gave_up > 0 {
        lines.push(format!("gave up by cause: {}", causes(&s.totals)));
        if s.clients.len() > 1 {
            for c in s.clients.iter().filter(|c| c.totals.gave_up > 0) {
                lines.push(format!("  client {}: {}", c.client, causes(&c.totals)));
            }
        }
    }
    if s.totals.rate_limited > 0 {
        let by: Vec<String> = s
            .totals
            .rate_limited_by
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        lines.push(format!(
            "429s by the cap that refused them: {}",
            by.join(", ")
        ));
    }
    if s.totals.server_errors > 0 {
        lines.push(format!(
            "server errors (503/529: failed, or the server full): {} attempts (not 429s)",
            s.totals.server_errors
        ));
    }
    if s.totals.no_credit > 0 {
        lines.push(format!(
            "refused for lack of prepaid credit: {} requests (not 429s)",
            s.totals.no_credit
        ));
    }
    if let Some(l) = s.totals.latency_split_s {
        lines.push(format!(
            "mean latency of succeeded requests: queued in the client {:.3} s + backing off {:.3} s + served {:.3} s",
            l.queued, l.backoff, l.service
        ));
    }
    lines
}

fn row(out: &mut String, label: &str, cells: &[String], width: usize) {
    let _ = write!(out, "  {label:<22}");
    for c in cells {
        let _ = write!(out, " {c:>width$}");
    }
    out.push('\n');
}

/// Renders the summary as the table `ratesim run` prints.
pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    let spend = s
        .tier_spend_usd
        .map_or("no spend threshold given".to_string(), |v| {
            format!("unlocked at ${v} spend")
        });
    let _ = writeln!(
        out,
        "ratesim {} | scenario {} | seed {} | tier {} ({spend})",
        s.ratesim_version, s.scenario_name, s.seed, s.tier
    );
    for line in s.catalog.short_lines() {
        let _ = writeln!(out, "{line}");
    }
    let end = if s.cut_off {
        "cut off at the hard stop"
    } else {
        "drained: every request ended"
    };
    let warmup = if s.warmup_s > 0.0 {
        format!(
            "; totals leave out the {} s warm-up (requests arriving before it)",
            s.warmup_s
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "arrivals for {:.0} s, simulated {:.1} s ({end}), {} events{warmup}\n",
        s.duration_s, s.simulated_s, s.totals.events
    );
    let heads: Vec<String> = COUNT_HEADERS.iter().map(|h| h.to_string()).collect();
    row(&mut out, "", &heads, 10);
    for (label, cells) in count_rows(s) {
        row(&mut out, &label, &cells, 10);
    }
    let _ = writeln!(out, "\n  {}\n", headline(s));
    let heads: Vec<String> = QUANTILE_HEADERS.iter().map(|h| h.to_string()).collect();
    row(&mut out, "", &heads, 9);
    for (label, cells) in quantile_rows(s) {
        row(&mut out, &label, &cells, 9);
    }
    if let Some(note) = latency_note(s) {
        let _ = writeln!(out, "  note: {note}");
    }
    for line in client_lines(s) {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out);
    for line in cost_lines(s) {
        let _ = writeln!(out, "  {line}");
    }
    for line in model_lines(s) {
        let _ = writeln!(out, "  {line}");
    }
    out
}
