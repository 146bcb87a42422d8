//! Limiter algorithms and quantized enforcement, through scenarios.

use ratesim::client::Cause;
use ratesim::engine::{Observer, Request};
use ratesim::limiter::Decision;
use ratesim::time::SimTime;

use super::*;

fn one_stream(server: &str, rate: f64, prompt: u64) -> Scenario {
    scenario(&format!(
        r#"
name = "lim"
seed = 2
duration = "20s"
tier = 0

[server]
{server}

[client]
preset = "none"

[[limits]]
model = "m"
rps = 10
tpm = 60000

[[traffic]]
model = "m"
arrivals = {{ process = "constant", rate_per_sec = {rate} }}
prompt_tokens = {{ dist = "constant", value = {prompt} }}
completion_tokens = {{ dist = "constant", value = 1 }}
"#
    ))
}

#[test]
fn gcra_and_the_nodelay_queue_run_exactly_as_the_token_bucket() {
    let base = totals(&one_stream("", 25.0, 99)).0;
    // 25 req/s of 100 tokens against 10 RPS: the requests cap refuses them all.
    assert!(base.rate_limited > 0);
    assert_eq!(base.rate_limited_by[..2], [base.rate_limited, 0]);
    for a in ["gcra", "leaky-queue-nodelay"] {
        let t = totals(&one_stream(&format!("algorithm = \"{a}\""), 25.0, 99)).0;
        assert_eq!(
            (t.admitted, t.rate_limited, t.succeeded),
            (base.admitted, base.rate_limited, base.succeeded),
            "{a}"
        );
    }
}

#[test]
fn a_leaky_queue_admits_as_many_but_serves_them_later() {
    let nodelay = totals(&one_stream("algorithm = \"leaky-queue-nodelay\"", 25.0, 9)).0;
    let queue = totals(&one_stream("algorithm = \"leaky-queue\"", 25.0, 9)).0;
    assert_eq!(queue.admitted, nodelay.admitted);
    assert!(queue.latency_us.mean().unwrap() > nodelay.latency_us.mean().unwrap());
}

#[test]
fn a_quantum_enforces_a_per_minute_budget_over_each_second() {
    // 60,000 TPM is 1,000 tokens a second. 5 requests a second of 300 tokens: 1,500 tokens a
    // second, under the minute's 60,000 for the first 40 s of a full bucket, but over each
    // second's 1,000 once the budget is enforced per second.
    let whole = totals(&one_stream("", 5.0, 299)).0;
    let per_second = totals(&one_stream("quantum = \"1s\"", 5.0, 299)).0;
    assert_eq!(whole.rate_limited, 0);
    assert!(per_second.rate_limited > 0);
    // Each second admits at most 1,000 tokens + what refills within it: at most 3 requests
    // of 300 after the first second's bucket of 1,000.
    assert!(per_second.admitted <= 3 + 20 * 4, "{}", per_second.admitted);
}

#[test]
fn bad_server_settings_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    for (server, field, says) in [
        (
            "algorithm = \"token-bucket-9\"",
            "server.algorithm",
            "gcra, discrete-refill",
        ),
        (
            "tokens_algorithm = \"window\"",
            "server.tokens_algorithm",
            "unknown algorithm",
        ),
        (
            "fill_interval = \"2s\"",
            "server.fill_interval",
            "only with algorithm = \"discrete-refill\"",
        ),
        (
            "algorithm = \"discrete-refill\"\nfill_interval = \"0s\"",
            "server.fill_interval",
            "must be > 0",
        ),
        ("quantum = \"2m\"", "server.quantum", "at most 1m"),
        (
            "quantum = \"1s\"\nrequest_burst = 5",
            "server.quantum",
            "cannot be combined",
        ),
    ] {
        let text = format!(
            "name = \"b\"\nseed = 1\nduration = \"1m\"\ntier = 0\n[server]\n{server}\n[[traffic]]\nmodel = \"grok-4.3\"\narrivals = {{ process = \"poisson\", rate_per_sec = 1 }}\nprompt_tokens = {{ dist = \"constant\", value = 1 }}\ncompletion_tokens = {{ dist = \"constant\", value = 1 }}\n"
        );
        let f = write(dir.path(), "bad.toml", &text);
        let o = ratesim().arg("validate").arg(&f).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{server}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(field) && err.contains(says), "{server}: {err}");
    }
}

#[test]
fn a_reservation_is_refunded_exactly_under_every_algorithm_that_can_refund() {
    use ratesim::catalog::{Milli, ModelLimits};
    use ratesim::limiter::{Algorithm, Decision, LimiterConfig, ModelLimiter};
    use ratesim::time::SimTime;
    let limits = ModelLimits::rps_tpm(Milli::from_units(10), Some(Milli::from_units(60_000)));
    for a in [
        Algorithm::TokenBucket,
        Algorithm::Gcra,
        Algorithm::DiscreteRefill {
            interval: ratesim::time::SimDuration::from_secs(1),
        },
        Algorithm::FixedWindow,
        Algorithm::SlidingCounter,
        Algorithm::LeakyQueue { nodelay: true },
    ] {
        let cfg = LimiterConfig {
            tokens_algorithm: a,
            ..LimiterConfig::default()
        };
        let mut l = ModelLimiter::new(&limits, &cfg);
        // Prompt 1,000 + max_tokens 5,000 reserved; 200 generated: 4,800 come back.
        assert_eq!(l.check(SimTime::ZERO, 6_000), Decision::Admit, "{a:?}");
        assert_eq!(
            l.headers(SimTime::ZERO).tokens.unwrap().remaining,
            54_000,
            "{a:?}"
        );
        l.settle(SimTime::ZERO, -4_800);
        assert_eq!(
            l.headers(SimTime::ZERO).tokens.unwrap().remaining,
            58_800,
            "{a:?}"
        );
        // Output charged later (input-then-output) comes off the same way.
        l.settle(SimTime::ZERO, 300);
        assert_eq!(
            l.headers(SimTime::ZERO).tokens.unwrap().remaining,
            58_500,
            "{a:?}"
        );
    }
}

fn tpm_bound(server: &str, max_tokens: &str) -> Scenario {
    scenario(&format!(
        r#"
name = "acc"
seed = 8
duration = "5m"
tier = 0

[server]
quantum = "1s"
{server}

[client]
preset = "none"

[[limits]]
model = "m"
rps = 100
tpm = 600000

[[traffic]]
model = "m"
arrivals = {{ process = "constant", rate_per_sec = 8 }}
prompt_tokens = {{ dist = "constant", value = 800 }}
completion_tokens = {{ dist = "constant", value = 200 }}
cached_share = 0.5
{max_tokens}
"#
    ))
}

#[test]
fn accounting_modes_change_what_tpm_admits_as_documented() {
    // The budget of 600,000 TPM is enforced per second: 10,000 tokens. 8 req/s of 1,000
    // tokens (3 s each) stay under it when every token is counted as used.
    let actual = totals(&tpm_bound("", "max_tokens = 2800")).0;
    assert_eq!(actual.rate_limited, 0);
    // Reserving 800 + 2,800 = 3,600 a request takes 28,800 tokens a second until the first
    // refunds (3,400 each) come back 3 s later: refusals gather in the first seconds.
    let reserve = totals(&tpm_bound(
        "token_accounting = \"reserve\"",
        "max_tokens = 2800",
    ));
    assert!(reserve.0.rate_limited > 0);
    // Every one of them refused by the tokens cap (100 RPS never binds).
    assert_eq!(reserve.0.rate_limited_by[..2], [0, reserve.0.rate_limited]);
    let early: u64 = reserve.2.buckets[..10].iter().map(|b| b.rate_limited).sum();
    let late: u64 = reserve.2.buckets[10..].iter().map(|b| b.rate_limited).sum();
    assert!(
        late * 5 < early,
        "refunds keep the steady state near the cap: {early} then {late}"
    );
    // Input at admission only: never more refused than actual.
    let split = totals(&tpm_bound(
        "token_accounting = \"input-then-output\"",
        "max_tokens = 2800",
    ))
    .0;
    assert!(split.rate_limited <= actual.rate_limited);
    // Cached tokens not counted: 400 + 2,800 = 3,200 reserved, fewer refusals.
    let uncached = totals(&tpm_bound(
        "token_accounting = \"reserve\"\ncount_cached = false",
        "max_tokens = 2800",
    ))
    .0;
    assert!(
        uncached.rate_limited < reserve.0.rate_limited,
        "{} vs {}",
        uncached.rate_limited,
        reserve.0.rate_limited
    );
    // Generation stops at max_tokens.
    let capped = totals(&tpm_bound("", "max_tokens = 150")).0;
    assert_eq!(capped.tokens_by_kind.completion, 150 * capped.admitted);
}

#[test]
fn reserve_needs_max_tokens_on_every_stream() {
    let err = ratesim::scenario::parse(
        "name = \"r\"\nseed = 1\nduration = \"1m\"\ntier = 0\n[server]\ntoken_accounting = \"reserve\"\n[[traffic]]\nmodel = \"grok-4.3\"\narrivals = { process = \"poisson\", rate_per_sec = 1 }\nprompt_tokens = { dist = \"constant\", value = 1 }\ncompletion_tokens = { dist = \"constant\", value = 1 }\n",
        "r.toml",
        None,
        &ratesim::scenario::Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("traffic[0].max_tokens") && err.contains("reserve"),
        "{err}"
    );
}

fn served(server: &str, client: &str) -> Scenario {
    scenario(&format!(
        r#"
name = "srv"
seed = 21
duration = "2m"
tier = 0

[server]
{server}

[client]
{client}

[[limits]]
model = "m"
rps = 1000

[[traffic]]
model = "m"
arrivals = {{ process = "poisson", rate_per_sec = 20 }}
prompt_tokens = {{ dist = "constant", value = 10 }}
completion_tokens = {{ dist = "constant", value = 80 }}
"#
    ))
}

#[test]
fn a_failure_rate_fails_that_share_of_admitted_attempts() {
    let (t, outcome, _) = totals(&served("failure_rate = 0.1", "preset = \"openai-python\""));
    assert_conserved(&t, &outcome);
    // Binomial: p = 0.1 over the admitted attempts, within 4 sigma.
    let n = t.admitted as f64;
    let sd = (n * 0.1 * 0.9).sqrt();
    assert!(
        (t.server_errors as f64 - 0.1 * n).abs() < 4.0 * sd,
        "{} of {n}",
        t.server_errors
    );
    // openai-python retries 5xx: only requests failing three times give up (~0.1%).
    assert!(
        t.gave_up * 100 < t.requests,
        "{} of {}",
        t.gave_up,
        t.requests
    );
    // xAI's docs loop catches RateLimitError only: every server error ends the request.
    let (d, _, _) = totals(&served("failure_rate = 0.1", "preset = \"xai-docs\""));
    assert_eq!(d.gave_up, d.server_errors);
    assert_eq!(d.gave_up_by_cause[Cause::ServerError.index()], d.gave_up);
}

/// Tracks attempts in service: admitted until they complete or fail.
#[derive(Default)]
struct InService {
    now: i64,
}

impl Observer for InService {
    fn on_attempt(&mut self, _: SimTime, _: &Request, d: Decision) {
        if d == Decision::Admit {
            self.now += 1;
        }
    }
    fn on_server_error(&mut self, _: SimTime, _: &Request) {
        self.now -= 1;
    }
    fn on_success(&mut self, _: SimTime, _: &Request) {
        self.now -= 1;
    }
}

#[test]
fn a_full_server_queues_then_refuses_and_never_serves_more_than_its_capacity() {
    // 20 req/s of 1.5 s each: ~30 wanted in service against a capacity of 12 and a queue of 5.
    let s = served("capacity = 12\nqueue = 5", "preset = \"anthropic-python\"");
    let (t, outcome, _) = totals(&s);
    assert_conserved(&t, &outcome);
    assert!(t.server_errors > 0, "it was never full");
    assert_eq!(t.rate_limited, 0);
    // Admitted minus ended stays within capacity + queue at every instant.
    let mut o = InService::default();
    let mut most = 0;
    struct Watch<'a>(&'a mut InService, &'a mut i64);
    impl Observer for Watch<'_> {
        fn on_attempt(&mut self, n: SimTime, r: &Request, d: Decision) {
            self.0.on_attempt(n, r, d);
            *self.1 = (*self.1).max(self.0.now);
        }
        fn on_server_error(&mut self, n: SimTime, r: &Request) {
            self.0.on_server_error(n, r);
        }
        fn on_success(&mut self, n: SimTime, r: &Request) {
            self.0.on_success(n, r);
        }
    }
    ratesim::engine::run(&s, &mut Watch(&mut o, &mut most));
    assert!(most <= 12 + 5 + 1, "{most} in service or waiting");
}

fn extra_caps(caps: &str, rate: f64) -> Scenario {
    scenario(&format!(
        r#"
name = "caps"
seed = 4
duration = "3m"
tier = 0

[client]
preset = "none"

[[limits]]
model = "m"
rps = 100
tpm = 10000000
{caps}

[[traffic]]
model = "m"
arrivals = {{ process = "constant", rate_per_sec = {rate} }}
prompt_tokens = {{ dist = "constant", value = 100 }}
completion_tokens = {{ dist = "constant", value = 400 }}
"#
    ))
}

#[test]
fn more_caps_refuse_what_they_should_and_say_so() {
    use ratesim::limiter::Limit;
    let by = |t: &ratesim::metrics::Counters, l: Limit| t.rate_limited_by[l as usize];
    // 2 req/s against 60 RPM (a bucket of 60 refilled at 1/s): after the first 60 s of
    // surplus, one in two is refused, each by the RPM cap.
    let (t, o, _) = totals(&extra_caps("rpm = 60", 2.0));
    assert_conserved(&t, &o);
    assert!(t.rate_limited > 100);
    assert_eq!(by(&t, Limit::RequestsPerMinute), t.rate_limited);
    // At most 60 + 1 per second admitted over any span.
    assert!(t.admitted <= 60 + 180 + 1, "{}", t.admitted);
    // Input tokens: 100 a request against 6,000 ITPM = 1 req/s sustained.
    let (t, _, _) = totals(&extra_caps("itpm = 6000", 2.0));
    assert_eq!(by(&t, Limit::InputTokensPerMinute), t.rate_limited);
    assert!(t.admitted <= 60 + 180 + 1);
    // Output tokens are charged at completion: 400 a request against 12,000 OTPM = 0.5/s.
    let (t, o, _) = totals(&extra_caps("otpm = 12000", 2.0));
    assert_conserved(&t, &o);
    assert_eq!(by(&t, Limit::OutputTokensPerMinute), t.rate_limited);
    assert!(
        t.tokens_by_kind.completion <= 12_000 * 4 + 12_000,
        "{}",
        t.tokens_by_kind.completion
    );
    // A cap of 3 in service at once (each takes 5.5 s, 2 arrive a second).
    let (t, o, _) = totals(&extra_caps("concurrent = 3", 2.0));
    assert_conserved(&t, &o);
    assert_eq!(by(&t, Limit::Concurrent), t.rate_limited);
    assert!(
        t.admitted as f64 <= 3.0 * 185.0 / 5.5 + 3.0,
        "{}",
        t.admitted
    );
}
