//! The readable summary printed on stdout.

use std::fmt::Write;

use super::summary::{Quantiles, Summary, Totals};

fn secs(x: Option<f64>) -> String {
    match x {
        None => "-".to_string(),
        Some(v) if v >= 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.3}"),
    }
}

fn count(x: Option<f64>) -> String {
    x.map_or("-".to_string(), |v| format!("{v:.2}"))
}

fn quantile_row(out: &mut String, label: &str, q: &Quantiles, f: fn(Option<f64>) -> String) {
    let _ = writeln!(
        out,
        "  {label:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        f(q.p50),
        f(q.p90),
        f(q.p99),
        f(q.p999),
        f(q.max),
        f(q.mean)
    );
}

fn counts_row(out: &mut String, label: &str, t: &Totals) {
    let _ = writeln!(
        out,
        "  {label:<22} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9} {:>10} {:>9}",
        t.requests,
        t.attempts,
        t.admitted,
        t.rate_limited,
        t.succeeded,
        t.gave_up,
        t.never_fits,
        t.in_flight_at_end
    );
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
    let _ = writeln!(
        out,
        "limits: {} ({})",
        s.catalog.limits.source, s.catalog.limits.date
    );
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
    let _ = writeln!(
        out,
        "  {:<22} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9} {:>10} {:>9}",
        "",
        "requests",
        "attempts",
        "admitted",
        "429s",
        "succeeded",
        "gave up",
        "never fits",
        "in flight"
    );
    counts_row(&mut out, "total", &s.totals);
    if s.streams.len() > 1 {
        for st in &s.streams {
            counts_row(&mut out, &format!("stream {}", st.stream), &st.totals);
        }
    }
    let t = &s.totals;
    let _ = writeln!(
        out,
        "\n  success {:.2}% | gave up {:.2}% | 429s {:.2}% of attempts | offered {:.2} req/s | goodput {:.2} req/s",
        t.success_pct, t.gave_up_pct, t.rate_limited_pct, t.offered_rps, t.goodput_rps
    );
    let _ = writeln!(
        out,
        "\n  {:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "", "p50", "p90", "p99", "p99.9", "max", "mean"
    );
    quantile_row(&mut out, "latency (s)", &t.latency_s, secs);
    if t.succeeded < t.requests {
        let _ = writeln!(
            out,
            "  {:<22} (of succeeded requests; {:.2}% did not succeed)",
            "",
            100.0 - t.success_pct
        );
    }
    quantile_row(
        &mut out,
        "attempts per request",
        &t.attempts_per_request,
        count,
    );
    if t.gave_up > 0 {
        quantile_row(&mut out, "time to give up (s)", &t.give_up_after_s, secs);
    }
    if s.streams.len() > 1 {
        for st in &s.streams {
            quantile_row(
                &mut out,
                &format!("latency {} (s)", st.stream),
                &st.totals.latency_s,
                secs,
            );
        }
    }
    let _ = writeln!(out);
    for m in &s.models {
        let tpm = match (m.tpm_cap, m.tpm_utilisation) {
            (Some(cap), Some(u)) => format!("TPM {cap}: {:.1}% used", 100.0 * u),
            _ => "no TPM cap".to_string(),
        };
        let _ = writeln!(
            out,
            "  {}: RPS {}: {:.1}% used | {tpm} | {} tokens admitted",
            m.model,
            m.rps_cap,
            100.0 * m.rps_utilisation,
            m.totals.tokens_admitted
        );
    }
    out
}
