//! The bad-input catalogue: every section, flag and file kind, each bad input refused with exit
//! code 2, a message that names the file, the line and column (or the flag), the field and
//! the bad value, and nothing written. Then near-boundary inputs that must be accepted.

use super::*;

const BASE: &str = include_str!("../data/catalogue-base.toml");

/// One bad scenario: the line to replace (exactly one in the base), its replacement, the
/// field path the message must name, and a piece of the message (the value, or what is
/// allowed).
struct Case {
    old: &'static str,
    new: &'static str,
    field: &'static str,
    says: &'static str,
}

const fn case(
    old: &'static str,
    new: &'static str,
    field: &'static str,
    says: &'static str,
) -> Case {
    Case {
        old,
        new,
        field,
        says,
    }
}

const SCENARIO_CASES: &[Case] = &[
    // Top level.
    case("name = \"cat\"", "name = \"a/b\"", "name", "a/b"),
    case("seed = 1", "seed = -1", "seed", "-1"),
    case("seed = 1", "seed = \"one\"", "seed", "one"),
    case(
        "seed = 1",
        "seed = 1\nspeed = 2",
        "speed",
        "unknown field `speed`",
    ),
    case("duration = \"1m\"", "duration = \"0s\"", "duration", "0s"),
    case(
        "duration = \"1m\"",
        "duration = \"1h1h\"",
        "duration",
        "given twice",
    ),
    case(
        "duration = \"1m\"",
        "duration = \"5min\"",
        "duration",
        "5min",
    ),
    case("duration = \"1m\"", "duration = 60", "duration", "no unit"),
    case(
        "duration = \"1m\"",
        "duration = \"1m\"\nstop_at = \"30s\"",
        "stop_at",
        "30s",
    ),
    case(
        "duration = \"1m\"",
        "duration = \"1m\"\nwarmup = \"2m\"",
        "warmup",
        "2m",
    ),
    case("tier = 1", "tier = 9", "tier", "\"9\""),
    case(
        "tier = 1",
        "tier = 1\nprovider = \"azure\"",
        "provider",
        "azure",
    ),
    case(
        "tier = 1",
        "tier = 1\nlimits_version = \"V9\"",
        "limits_version",
        "V9",
    ),
    case(
        "tier = 1",
        "tier = 1\nlimits_file = \"nope.csv\"",
        "limits_file",
        "nope.csv",
    ),
    case(
        "tier = 1",
        "tier = 1\ntiers_file = \"nope.csv\"",
        "tiers_file",
        "nope.csv",
    ),
    case(
        "tier = 1",
        "tier = 1\nprices_file = \"nope.csv\"",
        "prices_file",
        "nope.csv",
    ),
    // [server]
    case(
        "algorithm = \"token-bucket\"",
        "algorithm = \"token_bucket\"",
        "server.algorithm",
        "token_bucket",
    ),
    case(
        "algorithm = \"token-bucket\"",
        "algorithm = \"token-bucket\"\nquantum = \"2m\"",
        "server.quantum",
        "2m",
    ),
    case(
        "algorithm = \"token-bucket\"",
        "algorithm = \"token-bucket\"\nfill_interval = \"1s\"",
        "server.fill_interval",
        "discrete-refill",
    ),
    case(
        "algorithm = \"token-bucket\"",
        "algorithm = \"token-bucket\"\ntoken_accounting = \"later\"",
        "server.token_accounting",
        "later",
    ),
    case(
        "algorithm = \"token-bucket\"",
        "algorithm = \"token-bucket\"\ninitial_level = \"half\"",
        "server.initial_level",
        "half",
    ),
    case(
        "algorithm = \"token-bucket\"",
        "algorithm = \"token-bucket\"\nretry_after_granularity = \"0s\"",
        "server.retry_after_granularity",
        "0s",
    ),
    case(
        "algorithm = \"token-bucket\"",
        "algorithm = \"token-bucket\"\nrequest_burst = 0.5",
        "server.request_burst",
        "0.5",
    ),
    case(
        "failure_rate = 0.01",
        "failure_rate = 1.0",
        "server.failure_rate",
        "1",
    ),
    case(
        "failure_rate = 0.01",
        "failure_rate = -0.1",
        "server.failure_rate",
        "-0.1",
    ),
    case(
        "failure_rate = 0.01",
        "failure_rate = 0.01\noverload_status = 500",
        "server.overload_status",
        "500",
    ),
    case("capacity = 50", "capacity = 0", "server.capacity", "0"),
    case("queue = 10", "queue = -1", "server.queue", "-1"),
    case(
        "queue = 10",
        "queue = 10\nburst = 5",
        "burst",
        "unknown field `burst`",
    ),
    // [client]
    case(
        "preset = \"openai-python\"",
        "preset = \"openai\"",
        "client.preset",
        "openai",
    ),
    case(
        "max_retries = 3",
        "max_retries = -1",
        "client.max_retries",
        "-1",
    ),
    case(
        "max_retries = 3",
        "max_retries = 1001",
        "client.max_retries",
        "1001",
    ),
    case(
        "max_retries = 3",
        "max_retries = 3\nmultiplier = 0",
        "client.multiplier",
        "0",
    ),
    case(
        "max_retries = 3",
        "max_retries = 3\njitter = \"some\"",
        "client.jitter",
        "some",
    ),
    case(
        "max_retries = 3",
        "max_retries = 3\nbase_delay = \"soon\"",
        "client.base_delay",
        "soon",
    ),
    case(
        "max_retries = 3",
        "max_retries = 3\nname = \"x\"",
        "client.name",
        "[[clients]]",
    ),
    // [latency]
    case("base = \"0.5s\"", "base = \"-1s\"", "latency.base", "-1s"),
    case(
        "output_tokens_per_sec = 80",
        "output_tokens_per_sec = 0",
        "latency.output_tokens_per_sec",
        "0",
    ),
    // [account]
    case(
        "billing = \"prepaid\"",
        "billing = \"card\"",
        "account.billing",
        "card",
    ),
    case("credit = 100", "credit = -5", "account.credit", "-5"),
    case(
        "credit = 100",
        "credit = 100\ntop_up = { below = 5, buy = 0 }",
        "account.top_up.buy",
        "0",
    ),
    case(
        "purchases = [{ at = \"10s\", usd = 50 }]",
        "purchases = [{ at = \"10s\", usd = 50 }, { at = \"5s\", usd = 10 }]",
        "account.purchases",
        "5s",
    ),
    // [[limits]]
    case("rps = 5", "rps = 0", "limits[0].rps", "0"),
    case("tpm = 100000", "tpm = -1", "limits[0].tpm", "-1"),
    case("itpm = 50000", "itpm = 0.5", "limits[0].itpm", "0.5"),
    case(
        "rps = 5",
        "rpm_cap = 5",
        "rpm_cap",
        "unknown field `rpm_cap`",
    ),
    // [[prices]]
    case("input = 1", "input = -1", "prices[0].input", "-1"),
    case("input = 1", "input = 1.2345", "prices[0].input", "1.2345"),
    case(
        "model = \"mine\"\ninput",
        "model = \"zzz\"\ninput",
        "prices[0].model",
        "zzz",
    ),
    // [[traffic]]
    case(
        "model = \"grok-4.3\"",
        "model = \"grok-9\"",
        "traffic[0].model",
        "grok-9",
    ),
    case(
        "arrivals = { process = \"poisson\", rate_per_sec = 5 }",
        "arrivals = { process = \"burst\", rate_per_sec = 5 }",
        "traffic[0].arrivals.process",
        "burst",
    ),
    case(
        "arrivals = { process = \"poisson\", rate_per_sec = 5 }",
        "arrivals = { process = \"poisson\", rate_per_sec = -3 }",
        "traffic[0].arrivals.rate_per_sec",
        "-3",
    ),
    case(
        "arrivals = { process = \"poisson\", rate_per_sec = 5 }",
        "arrivals = { process = \"poisson\", rate_per_sec = 1e9 }",
        "traffic[0].arrivals.rate_per_sec",
        "1000000000",
    ),
    case(
        "arrivals = { process = \"poisson\", rate_per_sec = 5 }",
        "arrivals = { process = \"poisson\" }",
        "traffic[0].arrivals",
        "rate_per_sec",
    ),
    case(
        "prompt_tokens = { dist = \"constant\", value = 100 }",
        "prompt_tokens = { dist = \"zipf\", value = 100 }",
        "traffic[0].prompt_tokens.dist",
        "zipf",
    ),
    case(
        "completion_tokens = { dist = \"uniform\", min = 10, max = 20 }",
        "completion_tokens = { dist = \"uniform\", min = 20, max = 10 }",
        "traffic[0].completion_tokens",
        "min",
    ),
    case(
        "prompt_tokens = { dist = \"lognormal\", mean = 100, std = 50 }",
        "prompt_tokens = { dist = \"lognormal\", mean = 100, std = -50 }",
        "traffic[1].prompt_tokens.std",
        "-50",
    ),
    case(
        "max_tokens = 100",
        "max_tokens = 0",
        "traffic[1].max_tokens",
        "0",
    ),
    case(
        "cached_share = 0.5",
        "cached_share = 1.5",
        "traffic[1].cached_share",
        "1.5",
    ),
    case(
        "cached_share = 0.5",
        "cached_share = 0.5\nimages = { dist = \"constant\", value = 1 }",
        "traffic[1].images",
        "image_tokens",
    ),
    case(
        "cached_share = 0.5",
        "cached_share = 0.5\nclient = \"nobody\"",
        "traffic[1].client",
        "nobody",
    ),
    case(
        "cached_share = 0.5",
        "cached_share = 0.5\nrequests = 0",
        "traffic[1].requests",
        "0",
    ),
    case("name = \"b\"", "name = \"a\"", "traffic[1].name", "\"a\""),
    // [sweep]
    case(
        "cached_share = 0.5",
        "cached_share = 0.5\n\n[sweep]\nload = [0]",
        "sweep.load",
        "0",
    ),
    case(
        "cached_share = 0.5",
        "cached_share = 0.5\n\n[sweep]\nreplications = 0",
        "sweep.replications",
        "0",
    ),
    case(
        "cached_share = 0.5",
        "cached_share = 0.5\n\n[sweep]\nparams = [{ path = \"server.nope\", values = [1] }]",
        "server.nope",
        "unknown field `nope`",
    ),
];

#[test]
fn every_bad_scenario_names_file_line_column_field_and_value_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(SCENARIO_CASES.len() >= 60, "{} cases", SCENARIO_CASES.len());
    let mut failures = Vec::new();
    for (i, c) in SCENARIO_CASES.iter().enumerate() {
        assert_eq!(
            BASE.matches(c.old).count(),
            1,
            "case {i}: {:?} not unique",
            c.old
        );
        let text = BASE.replacen(c.old, c.new, 1);
        let file = write(dir.path(), &format!("bad{i}.toml"), &text);
        let out = dir.path().join(format!("out{i}"));
        // A sweep's parameter paths are checked when its grid is expanded: by `validate`
        // and `sweep`, not by `run`, which ignores the grid.
        let command = if c.new.contains("params =") {
            "validate"
        } else {
            "run"
        };
        let mut cmd = ratesim();
        cmd.arg(command).arg(&file);
        if command == "run" {
            cmd.arg("--out").arg(&out);
        }
        let assert = cmd.assert().code(2);
        let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        // file:line:column: field: message
        let at = BASE.find(c.old).expect("unique");
        let first_line = BASE[..at].matches('\n').count() + 1;
        let line = first_line + c.new.matches('\n').count();
        let located = (first_line..=line)
            .chain(first_line.saturating_sub(8)..first_line)
            .any(|l| err.contains(&format!("bad{i}.toml:{l}:")));
        let ok = located
            && err.contains(c.field)
            && err.contains(c.says)
            && !err.contains("panicked")
            && !out.exists();
        if !ok {
            failures.push(format!("case {i} ({} -> {}): {err}", c.old, c.new));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs the scenario `text` (written as `stem.toml` in `dir`): it must be refused with exit
/// code 2, a message holding `at` and every piece of `says`, and no output.
fn refused_at(dir: &std::path::Path, stem: &str, text: &str, at: &str, says: &[&str]) {
    let file = write(dir, &format!("{stem}.toml"), text);
    let out = dir.join(format!("{stem}-out"));
    let assert = ratesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(err.contains(at), "{stem}: {err}");
    for piece in says {
        assert!(err.contains(piece), "{stem}: {piece:?} missing in {err}");
    }
    assert!(!out.exists());
}

/// Bad table and trace files: (kind, file name, content, the scenario line that uses it, the
/// line of the file and the column the message must name, a piece of the message).
#[test]
fn every_bad_table_or_trace_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str, usize, &str, &str)] = &[
        (
            "limits_file",
            "l1.csv",
            "model,tier,rps,tpm\nmine,1,fast,10\n",
            2,
            "column `rps`",
            "fast",
        ),
        (
            "limits_file",
            "l2.csv",
            "model,tier,rps,speed\nmine,1,5,10\n",
            1,
            "speed",
            "unknown column",
        ),
        (
            "limits_file",
            "l3.csv",
            "model,tier,tpm\nmine,1,10\n",
            1,
            "rpm",
            "no request cap",
        ),
        (
            "limits_file",
            "l4.csv",
            "model,tier,rpm,itpm\nmine,1,5,0.5\n",
            2,
            "column `itpm`",
            "0.5",
        ),
        (
            "tiers_file",
            "t1.csv",
            "tier,cumulative_spend_usd\n0,0\n1,lots\n",
            3,
            "cumulative_spend_usd",
            "lots",
        ),
        (
            "tiers_file",
            "t2.csv",
            "tier,spend\n0,0\n",
            1,
            "tier,cumulative_spend_usd",
            "expected exactly",
        ),
        (
            "prices_file",
            "p1.csv",
            "model,input,cached_input,output,long_context_from,long_input,long_cached_input,long_output\ngrok-4.3,1,x,2,,,,\n",
            2,
            "column `cached_input`",
            "x",
        ),
    ];
    for (i, (key, name, content, line, column, says)) in cases.iter().enumerate() {
        write(dir.path(), name, content);
        // Tier 1 of a table that has it: the tiers files above give 0 and 1.
        let text = BASE.replacen("tier = 1", &format!("tier = 1\n{key} = \"{name}\""), 1);
        refused_at(
            dir.path(),
            &format!("s{i}"),
            &text,
            &format!("{name}:{line}"),
            &[column, says],
        );
    }
    // Traces: CSV and JSON Lines.
    let traces: &[(&str, &str, usize, &str, &str)] = &[
        (
            "r1.csv",
            "timestamp,prompt_tokens,completion_tokens\n0.5,10,10\n1.0,ten,10\n",
            3,
            "prompt_tokens",
            "ten",
        ),
        (
            "r2.csv",
            "timestamp,prompt,completion_tokens\n0.5,10,10\n",
            1,
            "prompt",
            "unknown column",
        ),
        (
            "r3.csv",
            "timestamp,prompt_tokens,completion_tokens\n2.0,10,10\n1.0,10,10\n",
            3,
            "timestamp",
            "1.000000000 s",
        ),
        (
            "r4.jsonl",
            "{\"timestamp\": 0.5, \"prompt_tokens\": 10, \"completion_tokens\": 10}\n{\"timestamp\": 1, \"prompt_tokens\": -4, \"completion_tokens\": 1}\n",
            2,
            "prompt_tokens",
            "-4",
        ),
    ];
    for (i, (name, content, line, column, says)) in traces.iter().enumerate() {
        write(dir.path(), name, content);
        let text = BASE.replacen(
            "arrivals = { process = \"poisson\", rate_per_sec = 5 }",
            &format!("arrivals = {{ process = \"trace\", file = \"{name}\" }}"),
            1,
        );
        refused_at(
            dir.path(),
            &format!("tr{i}"),
            &text,
            &format!("{name}:{line}"),
            &[column, says],
        );
    }
}

#[test]
fn every_bad_flag_names_the_flag_and_its_value_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &[
                "run",
                "scenarios/quickstart.toml",
                "--duration",
                "0s",
                "--out",
                o,
            ],
            "--duration",
            "0s",
        ),
        (
            &[
                "run",
                "scenarios/quickstart.toml",
                "--duration",
                "5min",
                "--out",
                o,
            ],
            "--duration",
            "5min",
        ),
        (
            &["run", "scenarios/quickstart.toml", "--seed=-1", "--out", o],
            "--seed",
            "-1",
        ),
        (
            &[
                "sweep",
                "scenarios/sweep.toml",
                "--shard",
                "5/3",
                "--out",
                o,
            ],
            "--shard",
            "5/3",
        ),
        (
            &[
                "sweep",
                "scenarios/sweep.toml",
                "--replications",
                "0",
                "--out",
                o,
            ],
            "--replications",
            "0",
        ),
        (
            &[
                "plan",
                "scenarios/plan.toml",
                "--slo",
                "p99<=10",
                "--out",
                o,
            ],
            "--slo",
            "p99<=10s",
        ),
        (
            &[
                "compare",
                "scenarios/clients.toml",
                "--by",
                "client",
                "--out",
                o,
            ],
            "--by",
            "KEY=V1,V2",
        ),
        (
            &[
                "compare-tiers",
                "scenarios/compare-tiers.toml",
                "--tiers",
                "0,9",
                "--out",
                o,
            ],
            "--tiers",
            "9",
        ),
        (
            &[
                "forecast",
                "scenarios/growth.toml",
                "--horizon",
                "soon",
                "--out",
                o,
            ],
            "--horizon",
            "soon",
        ),
        (&["limits", "--provider", "azure"], "--provider", "azure"),
        (
            &["limits", "--limits-version", "V9"],
            "--limits-version",
            "V9",
        ),
        (&["completions", "tcsh"], "<SHELL>", "tcsh"),
    ];
    for (args, flag, value) in cases {
        let assert = ratesim().args(*args).assert().code(2);
        let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(err.contains(flag) && err.contains(value), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
        assert!(!out.exists(), "{args:?} wrote output");
    }
}

#[test]
fn inputs_at_the_edge_of_what_is_allowed_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let edges: &[(&str, &str)] = &[
        ("failure_rate = 0.01", "failure_rate = 0.999"),
        ("failure_rate = 0.01", "failure_rate = 0"),
        ("capacity = 50", "capacity = 10000000"),
        ("queue = 10", "queue = 0"),
        (
            "algorithm = \"token-bucket\"",
            "algorithm = \"token-bucket\"\nquantum = \"1m\"",
        ),
        (
            "algorithm = \"token-bucket\"",
            "algorithm = \"token-bucket\"\nquantum = \"1ns\"",
        ),
        (
            "algorithm = \"token-bucket\"",
            "algorithm = \"token-bucket\"\nrequest_burst = 1",
        ),
        ("max_retries = 3", "max_retries = 1000"),
        ("max_retries = 3", "max_retries = 0"),
        ("seed = 1", "seed = 0"),
        ("seed = 1", "seed = 9223372036854775807"),
        ("duration = \"1m\"", "duration = \"400d\""),
        ("duration = \"1m\"", "duration = \"1ns\""),
        ("rps = 5", "rps = 0.001"),
        ("itpm = 50000", "itpm = 1"),
        ("input = 1", "input = 0.001"),
        ("input = 1", "input = 0"),
        ("max_tokens = 100", "max_tokens = 10000000"),
        ("max_tokens = 100", "max_tokens = 1"),
        ("cached_share = 0.5", "cached_share = 1"),
        ("cached_share = 0.5", "cached_share = [0, 1]"),
        (
            "arrivals = { process = \"poisson\", rate_per_sec = 5 }",
            "arrivals = { process = \"poisson\", rate_per_sec = 10000000 }",
        ),
        (
            "arrivals = { process = \"poisson\", rate_per_sec = 5 }",
            "arrivals = { process = \"poisson\", rate_per_sec = 0.000001 }",
        ),
        ("credit = 100", "credit = 0"),
        ("tier = 1", "tier = \"1\""),
        ("tier = 1", "tier = 1\nlimits_version = \"V1\""),
    ];
    for (i, (old, new)) in edges.iter().enumerate() {
        assert_eq!(BASE.matches(old).count(), 1, "{old}");
        let file = write(
            dir.path(),
            &format!("e{i}.toml"),
            &BASE.replacen(old, new, 1),
        );
        let out = ratesim().arg("validate").arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "{new}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
