//! Provider profiles: their settings, their dated tables, caps per minute and per day, tiers
//! that retune every cap, and what each run records of them.

use super::*;
use ratesim::catalog::{Milli, ModelLimits};
use ratesim::limiter::{Accounting, Algorithm, Decision, Limit, LimiterConfig, ModelLimiter};
use ratesim::report::summary::summarize;
use ratesim::time::{SimDuration, SimTime};

fn on(provider: &str, extra_top: &str, model: &str, tier: &str, stream: &str) -> String {
    format!(
        r#"
name = "p"
seed = 3
duration = "3m"
provider = "{provider}"
tier = "{tier}"
{extra_top}

[client]
preset = "none"

[latency]
base = "0.5s"
output_tokens_per_sec = inf

[[traffic]]
model = "{model}"
prompt_tokens = {{ dist = "constant", value = 100 }}
completion_tokens = {{ dist = "constant", value = 50 }}
{stream}
"#
    )
}

#[test]
fn each_profile_sets_its_documented_rules_and_the_scenario_can_replace_them() {
    let s = scenario(&on(
        "openai",
        "",
        "gpt-4o-mini",
        "1",
        "arrivals = { process = \"poisson\", rate_per_sec = 1 }\nmax_tokens = 100",
    ));
    assert_eq!(s.server.accounting, Accounting::Reserve);
    assert!(s.server.count_rejected);
    assert_eq!(s.server.overload_status, 503);
    let l = s.models[0].limits;
    assert_eq!(
        (l.rps, l.rpm, l.tpm, l.rpd),
        (
            None,
            Some(Milli::from_units(500)),
            Some(Milli::from_units(200_000)),
            Some(Milli::from_units(10_000))
        )
    );
    assert_eq!(s.provider.name, "openai");
    assert_eq!(s.provider.version, "2026-09-24");
    assert_eq!(s.tier_spend_usd, Some(5.0));
    assert!(s.limits_provenance.source.contains("OpenAI"));
    assert!(s.prices_provenance.source.contains("OpenAI"));
    assert!(s.models[0].prices.is_some(), "gpt-4o-mini is priced");

    let s = scenario(&on(
        "anthropic",
        "limits_version = \"2025\"",
        "claude-sonnet-4.x",
        "2",
        "arrivals = { process = \"poisson\", rate_per_sec = 1 }",
    ));
    assert_eq!(s.server.accounting, Accounting::InputThenOutput);
    assert!(!s.server.count_cached);
    assert_eq!(s.server.overload_status, 529);
    assert_eq!(s.models[0].limits.otpm, Some(Milli::from_units(90_000)));
    assert_eq!(s.provider.version, "2025");

    let s = scenario(&on(
        "gemini",
        "",
        "gemini-2.5-pro",
        "free",
        "arrivals = { process = \"poisson\", rate_per_sec = 1 }",
    ));
    assert_eq!(s.server.algorithm, Algorithm::FixedWindow);
    assert_eq!(s.server.accounting, Accounting::Input);

    // A [server] key replaces the profile's, and the record says so.
    let s = scenario(&on(
        "openai",
        "[server]\ncount_rejected = false\nquantum = \"1s\"",
        "gpt-4o-mini",
        "1",
        "arrivals = { process = \"poisson\", rate_per_sec = 1 }\nmax_tokens = 100",
    ));
    assert!(!s.server.count_rejected);
    assert_eq!(s.server.quantum, Some(SimDuration::from_secs(1)));
    assert_eq!(s.server.accounting, Accounting::Reserve, "kept");
    assert!(
        s.provider
            .overridden
            .iter()
            .any(|o| o.starts_with("server.quantum") && o.contains("requests dimension")),
        "{:?}",
        s.provider.overridden
    );
    assert!(
        !s.provider
            .assumptions
            .iter()
            .any(|a| a.setting == "requests dimension")
    );
    assert!(
        s.provider
            .overridden
            .iter()
            .any(|o| o.starts_with("server.count_rejected")),
        "{:?}",
        s.provider.overridden
    );
    assert!(
        !s.provider
            .assumptions
            .iter()
            .any(|a| a.setting == "server.count_rejected")
    );
}

#[test]
fn provider_and_version_errors_name_the_field_and_what_is_allowed() {
    let bad = |toml: &str| parse(toml, "t.toml", None, &Overrides::default()).unwrap_err();
    let stream = "arrivals = { process = \"poisson\", rate_per_sec = 1 }";
    let e = bad(&on("azure", "", "gpt-4o", "1", stream));
    assert_eq!(e.field.as_deref(), Some("provider"));
    assert!(e.message.contains("xai, openai, anthropic, gemini"), "{e}");
    let e = bad(&on(
        "xai",
        "limits_version = \"V3\"",
        "grok-4.3",
        "0",
        stream,
    ));
    assert_eq!(e.field.as_deref(), Some("limits_version"));
    assert!(e.message.contains("\"2026-06-20\" (or \"V1\")"), "{e}");
    assert!(e.message.contains("\"V2\""), "{e}");
    // A model of another provider's table.
    let e = bad(&on("anthropic", "", "grok-4.3", "start", stream));
    assert_eq!(e.field.as_deref(), Some("traffic[0].model"));
    assert!(e.message.contains("claude-opus-5"), "{e}");
    // OpenAI reserves max_tokens: a stream without it is refused, and the message says why.
    let e = bad(&on("openai", "", "gpt-4o-mini", "1", stream));
    assert_eq!(e.field.as_deref(), Some("traffic[0].max_tokens"));
    assert!(e.message.contains("openai profile"), "{e}");
    // Tier 2 has no rows in the Gemini table read.
    let e = bad(&on("gemini", "", "gemini-2.5-pro", "2", stream));
    assert!(e.message.contains("no limits at tier \"2\""), "{e}");
}

#[test]
fn limits_version_selects_the_dated_table() {
    let stream = "arrivals = { process = \"poisson\", rate_per_sec = 1 }";
    let v1 = scenario(&on("xai", "", "grok-4.3", "0", stream));
    let v2 = scenario(&on(
        "xai",
        "limits_version = \"V2\"",
        "grok-4.3",
        "0",
        stream,
    ));
    let alias = scenario(&on(
        "xai",
        "limits_version = \"V1\"",
        "grok-4.3",
        "0",
        stream,
    ));
    assert_eq!(v1.models[0].limits.rps, Some(Milli::from_units(30)));
    assert_eq!(v2.models[0].limits.rps, Some(Milli::from_units(37)));
    assert_eq!(alias.models[0].limits, v1.models[0].limits);
    assert_eq!(v2.provider.version, "V2");
    assert!(v2.limits_provenance.date.contains("undated"));
    // V2 has models V1 has not.
    scenario(&on(
        "xai",
        "limits_version = \"V2\"",
        "grok-4.6",
        "4",
        stream,
    ));
}

#[test]
fn a_per_minute_request_cap_holds_a_minute_and_refills_per_second() {
    let cfg = LimiterConfig {
        retry_after_granularity: SimDuration(1),
        ..LimiterConfig::default()
    };
    let limits = ModelLimits {
        rpm: Some(Milli::from_units(60)),
        ..ModelLimits::default()
    };
    let mut l = ModelLimiter::new(&limits, &cfg);
    for _ in 0..60 {
        assert_eq!(l.check(SimTime::ZERO, 1), Decision::Admit);
    }
    assert_eq!(
        l.check(SimTime::ZERO, 1),
        Decision::Limited {
            retry_after: SimDuration::from_secs(1),
            by: Limit::RequestsPerMinute
        }
    );
    let h = l.headers(SimTime::ZERO);
    assert_eq!((h.requests.limit, h.requests.remaining), (60, 0));
    assert_eq!(h.requests.reset, SimDuration::from_secs(60));
    let one = SimTime(SimDuration::from_secs(1).0);
    assert!(matches!(
        l.check(SimTime(one.0 - 1), 1),
        Decision::Limited { .. }
    ));
    assert_eq!(l.check(one, 1), Decision::Admit);

    // Quantized to 1 s (as Anthropic says 60 RPM may be): one request, then one a second.
    let q = LimiterConfig {
        quantum: Some(SimDuration::from_secs(1)),
        ..cfg.clone()
    };
    let mut l = ModelLimiter::new(&limits, &q);
    assert_eq!(l.check(SimTime::ZERO, 1), Decision::Admit);
    assert!(matches!(
        l.check(SimTime::ZERO, 1),
        Decision::Limited { retry_after, .. } if retry_after == SimDuration::from_secs(1)
    ));
}

#[test]
fn an_rpm_model_in_a_run_admits_a_minute_then_one_a_second() {
    // 10 requests/s against 60 RPM (no RPS): admitted by t is min(10 t + 1, 60 + t) until
    // the bucket empties at t = 59/9 = 6.56 s, then one a second: 60 + 30 = 90 in 30 s.
    let s = scenario(
        r#"
name = "rpm"
seed = 1
duration = "30s"
tier = 0

[client]
preset = "none"

[[limits]]
model = "m"
rpm = 60

[[traffic]]
model = "m"
arrivals = { process = "constant", rate_per_sec = 10 }
prompt_tokens = { dist = "constant", value = 10 }
completion_tokens = { dist = "constant", value = 10 }
"#,
    );
    let mut trace = Trace::default();
    let outcome = ratesim::engine::run(&s, &mut trace);
    let admitted: Vec<SimTime> = trace
        .attempts
        .iter()
        .filter(|a| a.decision == Decision::Admit)
        .map(|a| a.time)
        .collect();
    assert!(
        (89..=90).contains(&admitted.len()),
        "admitted {}",
        admitted.len()
    );
    let first_429 = trace
        .attempts
        .iter()
        .find(|a| matches!(a.decision, Decision::Limited { .. }))
        .unwrap();
    assert_eq!(
        first_429.time,
        SimTime(SimDuration::from_millis(6_600).0),
        "the 67th arrival is the first refused"
    );
    assert!(trace.attempts.iter().all(|a| matches!(
        a.decision,
        Decision::Admit
            | Decision::Limited {
                by: Limit::RequestsPerMinute,
                ..
            }
    )));
    assert_eq!(outcome.requests, 300);
}

#[test]
fn gemini_days_are_windows_that_reset_at_the_day_boundary() {
    // One request a minute against the free tier's 5 RPM and 100 RPD, fixed windows: the
    // first 100 of each day pass, the rest of the day is refused, and the next day starts
    // at exactly 86,400 s.
    let s = scenario(
        r#"
name = "g"
seed = 1
duration = "2d"
provider = "gemini"
tier = "free"

[client]
preset = "none"

[[traffic]]
model = "gemini-2.5-pro"
arrivals = { process = "constant", rate_per_sec = 0.0166666666666666667 }
prompt_tokens = { dist = "constant", value = 100 }
completion_tokens = { dist = "constant", value = 10 }
"#,
    );
    let mut trace = Trace::default();
    ratesim::engine::run(&s, &mut trace);
    let day = 86_400 * 1_000_000_000u64;
    let admitted_in = |d: u64| {
        trace
            .attempts
            .iter()
            .filter(|a| a.decision == Decision::Admit && a.time.0 / day == d)
            .count()
    };
    assert_eq!((admitted_in(0), admitted_in(1)), (100, 100));
    let first_day2 = trace
        .attempts
        .iter()
        .find(|a| a.decision == Decision::Admit && a.time.0 >= day)
        .unwrap();
    assert_eq!(first_day2.time.0, day, "the window opens at midnight");
    assert!(trace.attempts.iter().all(|a| matches!(
        a.decision,
        Decision::Admit
            | Decision::Limited {
                by: Limit::RequestsPerDay,
                ..
            }
    )));
}

#[test]
fn images_per_minute_count_the_images_of_each_request() {
    // 1 request a second with 3 images each, against 120 images a minute (2 a second): a full
    // bucket of 120 images, then 2 a second: 120 + 2 x 180 = 480 images over 3 minutes, 160
    // requests (one less where the last images do not fit).
    let s = scenario(
        r#"
name = "ipm"
seed = 1
duration = "3m"
tier = 0

[client]
preset = "none"

[latency]
base = "0.5s"
output_tokens_per_sec = inf

[[limits]]
model = "m"
rps = 100
ipm = 120

[[traffic]]
model = "m"
arrivals = { process = "constant", rate_per_sec = 1 }
prompt_tokens = { dist = "constant", value = 10 }
completion_tokens = { dist = "constant", value = 10 }
images = { dist = "constant", value = 3 }
image_tokens = { dist = "constant", value = 100 }
"#,
    );
    let (t, o, rec) = totals(&s);
    assert_conserved(&t, &o);
    assert_eq!(
        t.rate_limited,
        t.rate_limited_by[Limit::ImagesPerMinute as usize]
    );
    assert!((159..=160).contains(&t.admitted), "{}", t.admitted);
    assert_eq!(t.tokens_by_kind.images, 3 * t.admitted);
    let sum = summarize(&s, &rec, &o);
    let ipm = sum.models[0]
        .utilisation
        .iter()
        .find(|u| u.cap == "ipm")
        .unwrap();
    // Images admitted over what the bucket admits at most: 120 + 2 a second over the span.
    let expect = t.tokens_by_kind.images as f64 / (120.0 + 2.0 * sum.simulated_s);
    assert!((ipm.used - expect).abs() < 1e-9, "{} vs {expect}", ipm.used);
    assert!((0.97..=1.0).contains(&ipm.used), "{}", ipm.used);
}

#[test]
fn a_tier_change_drops_a_cap_the_new_tier_has_not_and_retunes_the_others() {
    let cfg = LimiterConfig {
        retry_after_granularity: SimDuration(1),
        ..LimiterConfig::default()
    };
    let tier1 = ModelLimits {
        rpm: Some(Milli::from_units(600)),
        rpd: Some(Milli::from_units(100)),
        tpm: Some(Milli::from_units(1_000)),
        ..ModelLimits::default()
    };
    let tier2 = ModelLimits {
        rpm: Some(Milli::from_units(6_000)),
        tpm: Some(Milli::from_units(60_000)),
        ..ModelLimits::default()
    };
    let costs = |tokens| ratesim::limiter::Costs {
        tokens,
        input: tokens,
        images: 0,
    };
    let mut l = ModelLimiter::new(&tier1, &cfg);
    let at = |s: u64| SimTime(SimDuration::from_secs(s).0);
    // 100 requests of 1 token use up the day.
    for i in 0..100 {
        assert_eq!(l.check_all(at(i), costs(1)), Decision::Admit, "{i}");
    }
    assert!(matches!(
        l.check_all(at(100), costs(1)),
        Decision::Limited {
            by: Limit::RequestsPerDay,
            ..
        }
    ));
    // A 1,000-token request fits tier 1's TPM only when its bucket is full.
    assert!(matches!(
        l.check_all(at(100), costs(1_001)),
        Decision::NeverFits
    ));
    l.retune(at(100), &tier2, &cfg);
    // Tier 2 has no daily cap: the next request passes.
    assert_eq!(l.check_all(at(100), costs(1)), Decision::Admit);
    // The tokens bucket keeps its level (full at tier 1: 1,000, less the 1 just taken) and
    // refills at 60,000 a minute: 5,000 tokens are 4,001 short, 4.001 s.
    assert_eq!(
        l.check_all(at(100), costs(5_000)),
        Decision::Limited {
            retry_after: SimDuration::from_millis(4_001),
            by: Limit::Tokens
        }
    );
    assert!(!matches!(
        l.check_all(at(100), costs(60_000)),
        Decision::NeverFits
    ));
    // The request cap kept its level: 600 a minute at tier 1 refilled to full after 100 s
    // (600 - 100 + 100 x 10 capped at 600), then capped at 6,000; one more since: 599.
    let h = l.headers(at(100));
    assert_eq!((h.requests.limit, h.requests.remaining), (6_000, 599));
}

#[test]
fn window_algorithms_carry_a_later_charge_until_it_is_paid_back() {
    // 600 OTPM (a window of 60 s holding 600), 6,000 output tokens charged at completion:
    // the debt of 5,400 takes nine windows to repay, as the token bucket's does (540 s).
    for (algorithm, earliest) in [
        (Algorithm::TokenBucket, 540),
        (Algorithm::FixedWindow, 540),
        (Algorithm::SlidingCounter, 540),
    ] {
        let cfg = LimiterConfig {
            retry_after_granularity: SimDuration(1),
            algorithm,
            tokens_algorithm: algorithm,
            ..LimiterConfig::default()
        };
        let limits = ModelLimits {
            rpm: Some(Milli::from_units(1_000)),
            otpm: Some(Milli::from_units(600)),
            ..ModelLimits::default()
        };
        let mut l = ModelLimiter::new(&limits, &cfg);
        let costs = ratesim::limiter::Costs {
            tokens: 0,
            input: 10,
            images: 0,
        };
        assert_eq!(l.check_all(SimTime::ZERO, costs), Decision::Admit);
        l.complete(SimTime::ZERO, 6_000);
        let Decision::Limited { retry_after, by } = l.check_all(SimTime(1), costs) else {
            panic!("{algorithm:?}: refused while in debt");
        };
        assert_eq!(by, Limit::OutputTokensPerMinute);
        let at = SimTime(1 + retry_after.0);
        assert!(
            at.0 >= SimDuration::from_secs(earliest).0,
            "{algorithm:?}: passes at {at:?}"
        );
        // Retry-After is exact: an attempt made at it passes.
        assert_eq!(l.check_all(at, costs), Decision::Admit, "{algorithm:?}");
    }
}

#[test]
fn a_window_cap_takes_its_new_window_at_a_tier_change() {
    // Fixed windows; at 60 s the tier moves from 5 to 150 RPM. From then on the limiter must
    // admit what a fresh 150 RPM limiter admits (it kept a window of 12 s x 5/5 before).
    let rpm = |n| ModelLimits {
        rpm: Some(Milli::from_units(n)),
        ..ModelLimits::default()
    };
    // One attempt every 100 ms over [from, to) seconds.
    let count = |l: &mut ModelLimiter, from_s: u64, to_s: u64| {
        (from_s * 10..to_s * 10)
            .filter(|i| l.check(SimTime(i * 100_000_000), 1) == Decision::Admit)
            .count()
    };
    for quantum in [None, Some(SimDuration::from_secs(1))] {
        let cfg = LimiterConfig {
            algorithm: Algorithm::FixedWindow,
            tokens_algorithm: Algorithm::FixedWindow,
            quantum,
            ..LimiterConfig::default()
        };
        let mut l = ModelLimiter::new(&rpm(5), &cfg);
        let before = count(&mut l, 0, 60);
        l.retune(SimTime(SimDuration::from_secs(60).0), &rpm(150), &cfg);
        let after = count(&mut l, 60, 180);
        let mut fresh = ModelLimiter::new(&rpm(150), &cfg);
        let expected = count(&mut fresh, 0, 120);
        assert_eq!(after, expected, "quantum {quantum:?} ({before} before)");
    }
    // Without a quantum: 150 per minute window, so 300 in two minutes.
    let cfg = LimiterConfig {
        algorithm: Algorithm::FixedWindow,
        ..LimiterConfig::default()
    };
    let mut fresh = ModelLimiter::new(&rpm(150), &cfg);
    assert_eq!(count(&mut fresh, 0, 120), 300);
}

#[test]
fn a_concurrency_refusal_that_counts_still_says_come_back_in_a_second() {
    let cfg = LimiterConfig {
        count_rejected: true,
        ..LimiterConfig::default()
    };
    let limits = ModelLimits {
        rps: Some(Milli::from_units(100)),
        concurrent: Some(Milli::from_units(1)),
        ..ModelLimits::default()
    };
    let mut l = ModelLimiter::new(&limits, &cfg);
    let costs = ratesim::limiter::Costs {
        tokens: 1,
        input: 1,
        images: 0,
    };
    assert_eq!(l.check_all(SimTime::ZERO, costs), Decision::Admit);
    assert_eq!(
        l.check_all(SimTime::ZERO, costs),
        Decision::Limited {
            retry_after: SimDuration::from_secs(1),
            by: Limit::Concurrent
        }
    );
}

#[test]
fn a_sliding_log_cannot_carry_output_charged_after_admission() {
    let bad = |toml: &str| parse(toml, "t.toml", None, &Overrides::default()).unwrap_err();
    // Anthropic's accounting charges output later: refused for the tokens dimension.
    let e = bad(&on(
        "anthropic",
        "[server]\ntokens_algorithm = \"sliding-log\"",
        "claude-opus-5",
        "start",
        "arrivals = { process = \"poisson\", rate_per_sec = 1 }",
    ));
    assert_eq!(e.field.as_deref(), Some("server.tokens_algorithm"));
    // An OTPM cap is charged at completion whatever the accounting.
    let e = bad(&on(
        "xai",
        "[server]\nalgorithm = \"sliding-log\"\n[[limits]]\nmodel = \"m\"\nrps = 10\notpm = 1000",
        "m",
        "0",
        "arrivals = { process = \"poisson\", rate_per_sec = 1 }",
    ));
    assert_eq!(e.field.as_deref(), Some("server.algorithm"));
    assert!(e.message.contains("\"m\""), "{e}");
}

#[test]
fn a_tier_change_in_a_run_retunes_the_caps_of_another_provider() {
    // OpenAI tier 1 (500 RPM, 10,000 RPD) to tier 2 (5,000 RPM, no RPD) when a purchase
    // brings payments to $50 at 60 s. 20 requests/s: tier 1 admits its minute's 500 and
    // then 500/60 a second; tier 2 admits all 20 a second.
    let s = scenario(
        r#"
name = "oa"
seed = 1
duration = "2m"
provider = "openai"

[account]
spend_to_date = 5
billing = "prepaid"
credit = 100
purchases = [{ at = "60s", usd = 45 }]

[client]
preset = "none"

[latency]
base = "0.5s"
output_tokens_per_sec = inf

[[traffic]]
model = "gpt-4o-mini"
arrivals = { process = "constant", rate_per_sec = 20 }
prompt_tokens = { dist = "constant", value = 10 }
completion_tokens = { dist = "constant", value = 10 }
max_tokens = 10
"#,
    );
    assert_eq!(s.tier, "1");
    let (rec, outcome) = ratesim::simulate(&s);
    let sum = summarize(&s, &rec, &outcome);
    let a = sum.account.as_ref().unwrap();
    assert_eq!(a.tier_changes.len(), 1);
    assert_eq!(a.tier_changes[0].to, "2");
    let admitted: Vec<u64> = rec.buckets[..120].iter().map(|b| b.admitted).collect();
    // Tier 1: the full bucket of 500 and 500/60 a second admit min(20 t + 1, 500 + 8.33 t)
    // by t, until t = 499 / 11.67 = 42.77 s: arrivals 0 to 855, 856 admitted. After that,
    // refused attempts count against the cap (OpenAI documents it): each puts the bucket
    // deeper in debt than the refill pays back, so nothing more is admitted until the tier
    // changes. Tier 2 refills 83.3 a second: the debt (about 200) is repaid in about 3 s,
    // then every request passes.
    let first_minute: u64 = admitted[..60].iter().sum();
    assert_eq!(first_minute, 856);
    assert!(admitted[43..60].iter().all(|&n| n == 0), "{admitted:?}");
    assert!(
        admitted[64..120].iter().all(|&n| n == 20),
        "{:?}",
        &admitted[60..]
    );
    let by_rpm = sum.totals.rate_limited_by["rpm"];
    assert_eq!(by_rpm, sum.totals.rate_limited);
}

#[test]
fn every_output_records_the_provider_its_tables_and_assumptions() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oa");
    let assert = ratesim()
        .args(["run", "scenarios/openai.toml", "--duration", "2m", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(stdout.contains("provider: openai"), "{stdout}");
    assert!(
        stdout.contains("server.token_accounting = reserve"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let p = &json["catalog"]["provider"];
    assert_eq!(p["name"], "openai");
    assert_eq!(p["version"], "2026-09-24");
    assert!(p["assumptions"].as_array().unwrap().len() >= 5);
    assert!(
        json["catalog"]["limits"]["source"]
            .as_str()
            .unwrap()
            .contains("OpenAI")
    );
    let caps: Vec<&str> = json["models"][0]["utilisation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["cap"].as_str().unwrap())
        .collect();
    assert_eq!(caps, ["rpm", "rpd", "tpm"]);
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("Provider, tables and assumptions"));

    // A sweep's manifest records them too.
    let sweep = dir.path().join("sw");
    ratesim()
        .args([
            "sweep",
            "scenarios/sweep.toml",
            "--duration",
            "20s",
            "--out",
        ])
        .arg(&sweep)
        .assert()
        .success();
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sweep.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(m["sources"][0]["provider"]["name"], "xai");
    assert_eq!(m["sources"][0]["limits"]["date"], "2026-06-20");

    // A comparison across table versions records each.
    let cmp = dir.path().join("cmp");
    ratesim()
        .args([
            "compare",
            "scenarios/burst.toml",
            "--by",
            "limits_version=2026-06-20,V2",
            "--replications",
            "1",
            "--out",
        ])
        .arg(&cmp)
        .assert()
        .success();
    let page = std::fs::read_to_string(cmp.join("index.html")).unwrap();
    assert!(page.contains("tables version 2026-06-20"), "{page}");
    assert!(page.contains("tables version V2"));
}

#[test]
fn limits_shows_each_provider_with_its_sources() {
    let out = ratesim()
        .args([
            "limits",
            "--provider",
            "anthropic",
            "--limits-version",
            "2025",
            "--tier",
            "2",
        ])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("tables version 2025"), "{text}");
    assert!(text.contains("itpm"), "{text}");
    assert!(text.contains("claude-sonnet-4.x"), "{text}");
    assert!(text.contains("server.token_accounting = input-then-output"));
    assert!(text.contains("platform.claude.com"));
    // Every provider and version shows.
    for (p, v) in [
        ("xai", "2026-06-20"),
        ("xai", "V2"),
        ("openai", "2026-09-24"),
        ("anthropic", "2026-09-12"),
        ("gemini", "2025-09-05"),
    ] {
        ratesim()
            .args(["limits", "--provider", p, "--limits-version", v])
            .assert()
            .success()
            .stdout(predicates::str::contains(format!("tables version {v}")));
    }
    ratesim()
        .args(["limits", "--provider", "azure"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("xai, openai, anthropic, gemini"));
}
