//! Limiter algorithms and quantized enforcement, through scenarios.

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
