//! Closed-form and hand-computed cases.

use ratesim::limiter::Decision;
use ratesim::time::{NANOS_PER_SEC, SimDuration, SimTime};

use super::{Trace, assert_conserved, scenario, totals};

fn secs(s: f64) -> SimTime {
    SimTime(SimDuration::from_secs_f64(s).0)
}

/// A scenario with one stream; `extra` is appended (client, latency, server sections...).
fn one_stream(tier: u32, arrivals: &str, prompt: &str, extra: &str) -> String {
    format!(
        r#"
name = "t"
seed = 5
duration = "60s"
tier = {tier}

{extra}

[[traffic]]
model = "grok-4.3"
arrivals = {arrivals}
prompt_tokens = {prompt}
completion_tokens = {{ dist = "constant", value = 100 }}
"#
    )
}

#[test]
fn below_the_caps_there_are_no_429s() {
    for tier in 0..=4 {
        // Tier 0 has 30 RPS; 20/s Poisson has a small chance of 31 in one second, but a full
        // bucket of 30 absorbs it: use 15/s to stay far below every tier's cap.
        let s = scenario(&one_stream(
            tier,
            r#"{ process = "poisson", rate_per_sec = 15 }"#,
            r#"{ dist = "lognormal", mean = 2000, std = 1000 }"#,
            "",
        ));
        let (t, outcome, _) = totals(&s);
        assert!(t.requests > 800, "tier {tier}: {} requests", t.requests);
        assert_eq!(t.rate_limited, 0, "tier {tier}");
        assert_eq!(t.succeeded, t.requests, "tier {tier}");
        assert_conserved(&t, &outcome);
    }
}

#[test]
fn constant_arrivals_at_twice_the_rps_cap_admit_the_cap_plus_the_burst() {
    for (tier, rps) in [(0, 30.0), (2, 60.0), (4, 166.0)] {
        let s = scenario(&one_stream(
            tier,
            &format!(
                r#"{{ process = "constant", rate_per_sec = {} }}"#,
                2.0 * rps
            ),
            r#"{ dist = "constant", value = 100 }"#,
            "[client]\npreset = \"none\"",
        ));
        let (t, outcome, _) = totals(&s);
        let expected = rps * 60.0 + rps;
        assert_eq!(t.requests as f64, 2.0 * rps * 60.0);
        assert!(
            (t.admitted as f64 - expected).abs() <= 1.0,
            "tier {tier}: admitted {} expected {expected}",
            t.admitted
        );
        assert_eq!(t.gave_up, t.rate_limited, "no retries: each 429 gives up");
        assert_conserved(&t, &outcome);
    }
}

#[test]
fn constant_arrivals_at_twice_the_token_rate_admit_the_token_cap_plus_the_burst() {
    // Inline model: 1000 RPS (never binds), 600,000 TPM = 10,000 tokens/s, capacity 600,000.
    // 20 requests/s of 1,000 tokens = 20,000 tokens/s for 60 s.
    let src = one_stream(
        0,
        r#"{ process = "constant", rate_per_sec = 20 }"#,
        r#"{ dist = "constant", value = 900 }"#,
        "[client]\npreset = \"none\"\n\n[[limits]]\nmodel = \"grok-4.3\"\nrps = 1000\ntpm = 600000",
    );
    let s = scenario(&src);
    let (t, outcome, _) = totals(&s);
    // (600,000 burst + 10,000/s * 60 s) / 1,000 tokens = 1,200 requests.
    assert!(
        (t.admitted as i64 - 1200).abs() <= 1,
        "admitted {}",
        t.admitted
    );
    assert_eq!(t.tokens_admitted, t.admitted * 1000);
    assert_conserved(&t, &outcome);
}

#[test]
fn a_request_larger_than_the_token_capacity_never_fits_and_is_not_retried() {
    let src = one_stream(
        0,
        r#"{ process = "constant", rate_per_sec = 1 }"#,
        r#"{ dist = "constant", value = 10000000 }"#,
        "[client]\npreset = \"xai-docs\"",
    );
    let s = scenario(&src);
    let (t, outcome, _) = totals(&s);
    assert_eq!(t.requests, 60);
    assert_eq!((t.never_fits, t.never_fits_attempts), (60, 60));
    assert_eq!((t.admitted, t.rate_limited, t.attempts), (0, 0, 60));
    assert_conserved(&t, &outcome);
}

#[test]
fn xai_docs_waits_exactly_1_2_4_8_16_seconds() {
    // One request per 1000 s can pass: the first takes it, the second gets 429s throughout.
    let src = r#"
name = "t"
seed = 1
duration = "1s"
tier = 0

[client]
preset = "xai-docs"

[server]
request_burst = 1

[[limits]]
model = "slow"
rps = 0.001

[[traffic]]
model = "slow"
arrivals = { process = "constant", rate_per_sec = 1000, end = "2ms" }
prompt_tokens = { dist = "constant", value = 10 }
completion_tokens = { dist = "constant", value = 10 }
"#;
    let s = scenario(src);
    let mut trace = Trace::default();
    let outcome = ratesim::engine::run(&s, &mut trace);
    let second: Vec<(u32, SimTime)> = trace
        .attempts
        .iter()
        .filter(|a| a.id == 1)
        .map(|a| {
            assert!(matches!(a.decision, Decision::Limited { .. }));
            (a.attempt, a.time)
        })
        .collect();
    let ms = 1_000_000;
    assert_eq!(
        second,
        [
            (1, SimTime(ms)),
            (2, SimTime(ms + NANOS_PER_SEC)),
            (3, SimTime(ms + 3 * NANOS_PER_SEC)),
            (4, SimTime(ms + 7 * NANOS_PER_SEC)),
            (5, SimTime(ms + 15 * NANOS_PER_SEC)),
        ]
    );
    // It also sleeps 16 s after the fifth 429 before giving up.
    assert!(
        trace
            .ends
            .contains(&(1, SimTime(ms + 31 * NANOS_PER_SEC), "gave_up"))
    );
    assert_eq!(outcome.end, SimTime(ms + 31 * NANOS_PER_SEC));
}

#[test]
fn a_hand_computed_tiny_run() {
    // 2 RPS (bucket of 2), arrivals at 0, 0.25, 0.5, 0.75 s; service takes exactly 1 s.
    // Levels: 2 -> 1 (admit) | 1.5 -> 0.5 (admit) | 1.0 -> 0 (admit) | 0.5: 429, Retry-After
    // 0.25 s. The client honours it: at 1.0 s the level is 1.0 -> admitted, done at 2.0 s.
    let src = r#"
name = "t"
seed = 1
duration = "1s"
tier = 0

[client]
max_retries = 1
retry_after = "honour"
jitter = "none"

[latency]
base = "1s"
output_tokens_per_sec = inf

[server]
retry_after_granularity = "1ns"

[[limits]]
model = "m"
rps = 2

[[traffic]]
model = "m"
arrivals = { process = "constant", rate_per_sec = 4 }
prompt_tokens = { dist = "constant", value = 1 }
completion_tokens = { dist = "constant", value = 1 }
"#;
    let s = scenario(src);
    let mut trace = Trace::default();
    ratesim::engine::run(&s, &mut trace);
    let got: Vec<(u64, u32, SimTime, Decision)> = trace
        .attempts
        .iter()
        .map(|a| (a.id, a.attempt, a.time, a.decision))
        .collect();
    let limited = Decision::Limited {
        retry_after: SimDuration::from_millis(250),
        by: ratesim::limiter::Limit::Requests,
    };
    assert_eq!(
        got,
        [
            (0, 1, secs(0.0), Decision::Admit),
            (1, 1, secs(0.25), Decision::Admit),
            (2, 1, secs(0.5), Decision::Admit),
            (3, 1, secs(0.75), limited),
            (3, 2, secs(1.0), Decision::Admit),
        ]
    );
    assert_eq!(
        trace.ends,
        [
            (0, secs(1.0), "succeeded"),
            (1, secs(1.25), "succeeded"),
            (2, secs(1.5), "succeeded"),
            (3, secs(2.0), "succeeded"),
        ]
    );
}

#[test]
fn a_hard_stop_counts_what_is_still_in_flight() {
    let src = one_stream(
        0,
        r#"{ process = "constant", rate_per_sec = 60 }"#,
        r#"{ dist = "constant", value = 100 }"#,
        "stop_at = \"60s\"\n[client]\npreset = \"xai-docs\"\n[latency]\nbase = \"2s\"",
    );
    let s = scenario(&src);
    let (t, outcome, _) = totals(&s);
    assert!(outcome.cut_off);
    assert!(outcome.in_flight_at_end > 0);
    assert_eq!(outcome.end, SimTime(60 * NANOS_PER_SEC));
    assert_conserved(&t, &outcome);
    // Without the hard stop the same run drains to zero in flight.
    let drained = scenario(&src.replace("stop_at = \"60s\"\n", ""));
    let (t2, o2, _) = totals(&drained);
    assert!(!o2.cut_off);
    assert_eq!(t2.requests, t.requests);
    assert_conserved(&t2, &o2);
}

#[test]
fn utilisation_of_a_saturated_cap_is_near_one() {
    let s = scenario(&one_stream(
        0,
        r#"{ process = "poisson", rate_per_sec = 60 }"#,
        r#"{ dist = "constant", value = 100 }"#,
        "[client]\npreset = \"none\"",
    ));
    let (rec, outcome) = ratesim::simulate(&s);
    let summary = ratesim::report::summarize(&s, &rec, &outcome);
    let u = summary.models[0].rps_utilisation;
    // Admitted / (30 burst + 30 * simulated seconds): at most 1 for a bucket, and the drain
    // (~2 s without arrivals) keeps it a little below.
    assert!((0.95..=1.0).contains(&u), "utilisation {u}");
    let entry = &summary.models[0].utilisation[0];
    assert_eq!((entry.cap, entry.used), ("rps", u));
}

#[test]
fn very_long_delays_keep_the_time_series_bounded() {
    // A 200,000 h service time puts the last event ~23 years out: the time series must
    // coarsen instead of allocating a bucket per second.
    let src = one_stream(
        0,
        r#"{ process = "constant", rate_per_sec = 1 }"#,
        r#"{ dist = "constant", value = 100 }"#,
        "[latency]\nbase = \"200000h\"",
    );
    let s = scenario(&src);
    let (t, outcome, rec) = totals(&s);
    assert_conserved(&t, &outcome);
    assert!(rec.buckets.len() <= ratesim::metrics::MAX_BUCKETS);
    assert!(rec.bucket_s >= 4096, "bucket width {}", rec.bucket_s);
    let sum: u64 = rec.buckets.iter().map(|b| b.completions).sum();
    assert_eq!(sum, 60);
}

#[test]
fn a_cap_below_one_request_per_second_admits_at_that_rate() {
    // 0.5 RPS (30 RPM): a bucket of one request refilled every 2 s; 60 s of 1 req/s.
    let src = one_stream(
        0,
        r#"{ process = "constant", rate_per_sec = 1 }"#,
        r#"{ dist = "constant", value = 100 }"#,
        "[client]\npreset = \"none\"\n\n[[limits]]\nmodel = \"grok-4.3\"\nrps = 0.5",
    );
    let (t, outcome, _) = totals(&scenario(&src));
    assert_eq!(t.never_fits, 0);
    assert_eq!(t.admitted, 30, "one every 2 s from t = 0");
    assert_conserved(&t, &outcome);
}

#[test]
fn buckets_that_start_empty_or_half_full_admit_exactly_their_level_less() {
    // Same as the tokens case above with server.initial_level: the initial burst of 600,000
    // tokens (600 requests) shrinks to level x 600,000 tokens.
    for (level, expected) in [("\"empty\"", 600.0), ("0.5", 900.0), ("\"full\"", 1200.0)] {
        let src = one_stream(
            0,
            r#"{ process = "constant", rate_per_sec = 20 }"#,
            r#"{ dist = "constant", value = 900 }"#,
            &format!(
                "[client]\npreset = \"none\"\n\n[server]\ninitial_level = {level}\nrequest_burst = 1000\n\n[[limits]]\nmodel = \"grok-4.3\"\nrps = 1000\ntpm = 600000"
            ),
        );
        let (t, outcome, _) = totals(&scenario(&src));
        assert!(
            (t.admitted as f64 - expected).abs() <= 1.0,
            "initial_level {level}: admitted {} expected {expected}",
            t.admitted
        );
        assert_conserved(&t, &outcome);
    }
}

#[test]
fn a_warm_up_leaves_out_exactly_the_requests_that_arrive_before_it() {
    // Constant 10/s for 60 s: 600 arrivals, 200 of them in the first 20 s.
    let src = one_stream(
        0,
        r#"{ process = "constant", rate_per_sec = 10 }"#,
        r#"{ dist = "constant", value = 100 }"#,
        "",
    )
    .replace("duration = \"60s\"", "duration = \"60s\"\nwarmup = \"20s\"");
    let s = scenario(&src);
    let (t, outcome, rec) = totals(&s);
    assert_eq!(t.requests, 400);
    assert_eq!(t.succeeded, 400);
    // The time series keeps every request.
    assert_eq!(rec.buckets.iter().map(|b| b.arrivals).sum::<u64>(), 600);
    assert_eq!(outcome.requests, 600);
    let summary = ratesim::report::summarize(&s, &rec, &outcome);
    assert_eq!(summary.warmup_s, 20.0);
    // 400 requests over the 40 measured seconds of the arrival window.
    assert!((summary.totals.offered_rps - 10.0).abs() < 1e-9);
}
