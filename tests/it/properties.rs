//! Conservation laws on randomly generated scenarios.

use proptest::prelude::*;

use super::{assert_conserved, scenario, totals};

const PRESETS: [&str; 3] = ["none", "xai-docs", "openai-python"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn requests_and_attempts_are_conserved(
        seed in 0u64..1_000_000,
        tier in 0u32..5,
        rate in 1.0f64..400.0,
        constant in any::<bool>(),
        preset in 0..PRESETS.len(),
        prompt_mean in 10.0f64..200_000.0,
        hard_stop in any::<bool>(),
        count_rejected in any::<bool>(),
    ) {
        let process = if constant { "constant" } else { "poisson" };
        let stop = if hard_stop { "stop_at = \"25s\"" } else { "" };
        let src = format!(r#"
name = "p"
seed = {seed}
duration = "20s"
tier = {tier}
{stop}

[server]
count_rejected = {count_rejected}

[client]
preset = "{}"

[[traffic]]
model = "grok-4.20-multi-agent-0309"
arrivals = {{ process = "{process}", rate_per_sec = {rate} }}
prompt_tokens = {{ dist = "lognormal", mean = {prompt_mean}, std = {} }}
completion_tokens = {{ dist = "uniform", min = 1, max = 2000 }}
"#, PRESETS[preset], prompt_mean * 2.0);
        let s = scenario(&src);
        let (t, outcome, rec) = totals(&s);
        assert_conserved(&t, &outcome);
        // The time series adds up to the totals.
        let sum = |f: fn(&ratesim::metrics::Second) -> u64| rec.buckets.iter().map(f).sum::<u64>();
        prop_assert_eq!(sum(|s| s.attempts), t.attempts);
        prop_assert_eq!(sum(|s| s.admitted), t.admitted);
        prop_assert_eq!(sum(|s| s.rate_limited), t.rate_limited);
        prop_assert_eq!(sum(|s| s.completions), t.succeeded);
        prop_assert_eq!(sum(|s| s.gave_up), t.gave_up);
        prop_assert_eq!(sum(|s| s.arrivals), t.requests);
        prop_assert_eq!(*rec.in_flight_series().last().unwrap_or(&0), outcome.in_flight_at_end);
    }
}
