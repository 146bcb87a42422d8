//! Workloads: closed-loop workers, finite jobs and their makespan, the new arrival processes.

use ratesim::engine::{Observer, Request};
use ratesim::limiter::Decision;
use ratesim::time::SimTime;

use super::{assert_conserved, scenario, totals};

/// Tracks requests in flight per stream (arrived, not ended) and the most seen.
#[derive(Default)]
struct InFlight {
    now: Vec<i64>,
    most: Vec<i64>,
    arrivals: Vec<SimTime>,
}

impl InFlight {
    fn end(&mut self, req: &Request) {
        self.now[req.stream as usize] -= 1;
    }
}

impl Observer for InFlight {
    fn on_arrival(&mut self, now: SimTime, req: &Request) {
        let s = req.stream as usize;
        if self.now.len() <= s {
            self.now.resize(s + 1, 0);
            self.most.resize(s + 1, 0);
        }
        self.now[s] += 1;
        self.most[s] = self.most[s].max(self.now[s]);
        self.arrivals.push(now);
    }
    fn on_attempt(&mut self, _: SimTime, _: &Request, _: Decision) {}
    fn on_success(&mut self, _: SimTime, req: &Request) {
        self.end(req);
    }
    fn on_give_up(&mut self, _: SimTime, req: &Request, _: ratesim::client::Cause) {
        self.end(req);
    }
    fn on_never_fits(&mut self, _: SimTime, req: &Request) {
        self.end(req);
    }
}

const JOB: &str = r#"
name = "job"
seed = 9
tier = 0

[client]
preset = "openai-python"

[latency]
base = "1s"
output_tokens_per_sec = 80

[[traffic]]
model = "grok-4.3"
requests = REQUESTS
arrivals = ARRIVALS
prompt_tokens = { dist = "constant", value = 100 }
completion_tokens = { dist = "constant", value = 80 }
"#;

fn job(requests: u64, arrivals: &str) -> ratesim::scenario::Scenario {
    scenario(
        &JOB.replace("REQUESTS", &requests.to_string())
            .replace("ARRIVALS", arrivals),
    )
}

#[test]
fn workers_never_exceed_their_count_and_a_job_ends_exactly_its_requests() {
    // 64 workers against tier 0's 30 RPS: 429s and retries, yet never more than 64 in flight.
    let s = job(5_000, r#"{ process = "workers", count = 64 }"#);
    let mut obs = InFlight::default();
    let outcome = ratesim::engine::run(&s, &mut obs);
    assert_eq!(obs.most, vec![64]);
    assert_eq!(outcome.requests, 5_000);
    assert_eq!(outcome.in_flight_at_end, 0);
    // At time zero all 64 start at once (a thundering herd).
    assert_eq!(obs.arrivals.iter().filter(|t| t.0 == 0).count(), 64);
    let (t, outcome, _) = totals(&s);
    assert_eq!(t.requests, 5_000);
    assert!(t.rate_limited > 0, "the herd must hit the cap");
    assert_conserved(&t, &outcome);
}

#[test]
fn a_job_far_below_the_caps_has_its_closed_form_makespan() {
    // 4 workers, 100 requests, each taking exactly 1 s + 80 tokens / 80 per s = 2 s, no 429s:
    // each worker runs 25 requests back to back, so the makespan is 25 x 2 s = 50 s.
    let s = job(100, r#"{ process = "workers", count = 4 }"#);
    let (t, _, _) = totals(&s);
    assert_eq!(t.rate_limited, 0);
    assert_eq!(t.makespan_s(), Some(50.0));
    // With a think time of 0.5 s between requests: 25 x 2 s + 24 x 0.5 s = 62 s.
    let s = job(100, r#"{ process = "workers", count = 4, think = "0.5s" }"#);
    assert_eq!(totals(&s).0.makespan_s(), Some(62.0));
    // A ramp spreads the starts: worker i starts at i s (i/4 of 4 s) and issues at i + 2k. By
    // 49 s the workers have issued 25 + 25 + 24 + 24 = 98 requests, so the 99th and 100th are
    // issued at 50 s (workers 0 and 2) and end at 52 s.
    let s = job(100, r#"{ process = "workers", count = 4, ramp = "4s" }"#);
    assert_eq!(totals(&s).0.makespan_s(), Some(52.0));
    // Open loop, constant 10/s: the last of 100 arrives at 9.9 s and ends 2 s later.
    let s = job(100, r#"{ process = "constant", rate_per_sec = 10 }"#);
    let (t, outcome, _) = totals(&s);
    assert_eq!(t.requests, 100);
    assert_eq!(t.makespan_s(), Some(11.9));
    assert_eq!(outcome.end, SimTime(11_900_000_000));
}

#[test]
fn the_summary_and_table_report_the_makespan() {
    let s = job(100, r#"{ process = "workers", count = 4 }"#);
    let (rec, outcome) = ratesim::simulate(&s);
    let summary = ratesim::report::summarize(&s, &rec, &outcome);
    assert_eq!(summary.totals.makespan_s, Some(50.0));
    // Without a duration, the arrival window is the last arrival (48 s: the 25th round).
    assert_eq!(summary.duration_s, 48.0);
    let table = ratesim::report::table::render(&summary);
    assert!(table.contains("makespan 50.0 s (50s)"), "{table}");
}

#[test]
fn bad_processes_are_refused_with_the_field() {
    for (arrivals, expect) in [
        (
            r#"{ process = "workers" }"#,
            "process = \"workers\" needs count",
        ),
        (
            r#"{ process = "workers", count = 0 }"#,
            "count (workers) must be from 1",
        ),
        (
            r#"{ process = "gamma", rate_per_sec = 5, cv = 0 }"#,
            "cv (the gaps' coefficient of variation",
        ),
        (
            r#"{ process = "poisson", rate_per_sec = 5, cv = 2 }"#,
            "`cv` does not apply to process = \"poisson\"",
        ),
        (
            r#"{ process = "onoff", rate_on = 0, rate_off = 0, mean_on = "1s", mean_off = "1s" }"#,
            "both 0",
        ),
        (
            r#"{ process = "profile", points = [["5s", 1]] }"#,
            "must be at \"0s\"",
        ),
        (
            r#"{ process = "profile", points = [["0s", 1], ["10s", 2]], repeat = "5s" }"#,
            "the period must be after the last point",
        ),
        (
            r#"{ process = "workers", count = 2, think = { dist = "weibull", mean = "1s" } }"#,
            "constant, uniform, exponential or lognormal",
        ),
    ] {
        let src = JOB.replace("REQUESTS", "10").replace("ARRIVALS", arrivals);
        let e = ratesim::scenario::parse(&src, "bad.toml", None, &Default::default())
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains(expect), "{arrivals}: {e}");
        assert!(
            e.to_string().contains("traffic[0].arrivals"),
            "{arrivals}: {e}"
        );
    }
    // Without a duration, every stream must be a finite job.
    let src = JOB
        .replace("requests = REQUESTS\n", "")
        .replace("ARRIVALS", r#"{ process = "poisson", rate_per_sec = 1 }"#);
    let e = ratesim::scenario::parse(&src, "bad.toml", None, &Default::default()).unwrap_err();
    assert!(e.to_string().contains("traffic[0].requests"), "{e}");
}

#[test]
fn every_token_kind_counts_toward_tpm_and_generated_tokens_take_output_time() {
    // 100 prompt (a quarter cached) + 2 images x 300 + 50 completion + 200 reasoning = 950
    // tokens a request. The inline cap of 57,000 TPM refills 950 tokens/s: one request a second,
    // after a full bucket of 60. Constant 2/s for 60 s, no retries: 60 + 60 admitted.
    let src = r#"
name = "kinds"
seed = 2
duration = "60s"
tier = 0

[client]
preset = "none"

[latency]
base = "1s"
output_tokens_per_sec = 250

[[limits]]
model = "vision"
rps = 1000
tpm = 57000

[[traffic]]
model = "vision"
arrivals = { process = "constant", rate_per_sec = 2 }
prompt_tokens = { dist = "constant", value = 100 }
cached_share = 0.25
images = { dist = "constant", value = 2 }
image_tokens = { dist = "constant", value = 300 }
completion_tokens = { dist = "constant", value = 50 }
reasoning_tokens = { dist = "constant", value = 200 }
"#;
    let s = scenario(src);
    let (t, outcome, _) = totals(&s);
    assert!(
        (t.admitted as i64 - 120).abs() <= 1,
        "admitted {}",
        t.admitted
    );
    assert_eq!(t.tokens_admitted, 950 * t.admitted);
    let k = t.tokens_by_kind;
    assert_eq!(
        (k.prompt, k.cached, k.image, k.completion, k.reasoning),
        (
            100 * t.admitted,
            25 * t.admitted,
            600 * t.admitted,
            50 * t.admitted,
            200 * t.admitted
        )
    );
    // Service time: 1 s + (50 + 200) / 250 per s = 2 s for every admitted request.
    assert_eq!(t.latency_us.max(), Some(2_000_000));
    assert_conserved(&t, &outcome);
    // Images without their tokens per image are refused.
    let bad = src.replace("image_tokens = { dist = \"constant\", value = 300 }\n", "");
    let e = ratesim::scenario::parse(&bad, "bad.toml", None, &Default::default()).unwrap_err();
    assert!(e.to_string().contains("images needs image_tokens"), "{e}");
    let bad = src.replace("cached_share = 0.25", "cached_share = 1.5");
    let e = ratesim::scenario::parse(&bad, "bad.toml", None, &Default::default()).unwrap_err();
    assert!(e.to_string().contains("traffic[0].cached_share"), "{e}");
}

#[test]
fn empirical_sizes_from_quantile_points_or_a_csv_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sizes.csv"),
        (1..=1000).fold(String::from("prompt_tokens\n"), |mut s, i| {
            s.push_str(&format!("{}\n", i * 10));
            s
        }),
    )
    .unwrap();
    let base = |prompt: &str| {
        format!(
            r#"name = "e"
seed = 1
duration = "60s"
tier = 0

[[traffic]]
model = "grok-4.3"
arrivals = {{ process = "constant", rate_per_sec = 5 }}
prompt_tokens = {prompt}
completion_tokens = {{ dist = "constant", value = 10 }}
"#
        )
    };
    let parse = |text: &str| {
        ratesim::scenario::parse(text, "e.toml", Some(dir.path()), &Default::default())
    };
    let (s, _) = parse(&base(
        r#"{ dist = "empirical", quantiles = [[0, 100], [0.5, 200], [1, 1000]] }"#,
    ))
    .unwrap();
    // Mean of the piecewise-linear inverse CDF: 0.5 x 150 + 0.5 x 600 = 375.
    assert!((s.streams[0].prompt_tokens.mean() - 375.0).abs() < 1e-9);
    let (s, _) = parse(&base(
        r#"{ dist = "empirical", file = "sizes.csv", column = "prompt_tokens" }"#,
    ))
    .unwrap();
    // 10 to 10,000 evenly: a mean near 5,005.
    let m = s.streams[0].prompt_tokens.mean();
    assert!((m - 5005.0).abs() < 60.0, "{m}");
    for (bad, expect) in [
        (
            r#"{ dist = "empirical", quantiles = [[0.1, 100], [1, 1000]] }"#,
            "start at probability 0",
        ),
        (
            r#"{ dist = "empirical", quantiles = [[0, 100], [0.5, 50], [1, 1000]] }"#,
            "values must not decrease",
        ),
        (
            r#"{ dist = "empirical", file = "sizes.csv", column = "nope" }"#,
            "no column `nope`",
        ),
        (
            r#"{ dist = "lognormal", mean = 5, std = 1, quantiles = [[0, 1], [1, 2]] }"#,
            "applies to dist = \"empirical\" only",
        ),
    ] {
        let e = parse(&base(bad)).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains(expect), "{bad}: {e}");
        assert!(e.to_string().contains("traffic[0].prompt_tokens"), "{e}");
    }
}

#[test]
fn a_bad_process_or_distribution_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (arrivals, prompt)) in [
        (
            r#"{ process = "gamma", rate_per_sec = 5, cv = -1 }"#,
            r#"{ dist = "constant", value = 10 }"#,
        ),
        (
            r#"{ process = "workers", count = 4 }"#,
            r#"{ dist = "empirical", quantiles = [[0, 5]] }"#,
        ),
    ]
    .iter()
    .enumerate()
    {
        let text = format!(
            "name = \"b\"\nseed = 1\ntier = 0\n\n[[traffic]]\nmodel = \"grok-4.3\"\nrequests = 10\narrivals = {arrivals}\nprompt_tokens = {prompt}\ncompletion_tokens = {{ dist = \"constant\", value = 1 }}\n"
        );
        let file = super::write(dir.path(), &format!("b{i}.toml"), &text);
        let out = dir.path().join(format!("out{i}"));
        super::ratesim()
            .arg("run")
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        assert!(!out.exists(), "case {i}: nothing is written");
    }
}

#[test]
fn no_request_outlives_its_time_budget_plus_one_service_time() {
    // Unlimited retries (backoff's law) stopped by a 20 s budget, against tier 0's 30 RPS at
    // 45 req/s; every service takes exactly 1 s + 80 / 80 s = 2 s.
    let src = r#"
name = "budget"
seed = 8
duration = "5m"
tier = 0

[client]
preset = "backoff-cookbook"
max_retries = "none"
time_budget = "20s"

[latency]
base = "1s"
output_tokens_per_sec = 80

[[traffic]]
model = "grok-4.3"
arrivals = { process = "poisson", rate_per_sec = 45 }
prompt_tokens = { dist = "constant", value = 100 }
completion_tokens = { dist = "constant", value = 80 }
"#;
    let s = scenario(src);
    assert_eq!(s.clients[s.streams[0].client].policy.max_retries, u32::MAX);
    let (t, outcome, _) = totals(&s);
    assert!(t.gave_up > 0, "the budget must stop some requests");
    assert!(
        t.give_up_us.max().unwrap() <= 20_000_000,
        "a give-up past the budget"
    );
    assert!(
        t.latency_us.max().unwrap() <= 22_000_000,
        "a success past budget + service"
    );
    assert_conserved(&t, &outcome);
    // Unlimited retries without a budget are refused.
    let bad = src.replace("time_budget = \"20s\"\n", "");
    let e = ratesim::scenario::parse(&bad, "b.toml", None, &Default::default()).unwrap_err();
    assert!(e.to_string().contains("needs a time_budget"), "{e}");
}
