//! One test per bug of issue 6 ("what a new user hit"), each failing before its fix.

use std::path::Path;

use super::{assert_conserved, ratesim, scenario, totals, write};
use predicates::prelude::*;
use ratesim::scenario::{Overrides, parse};

/// Constant arrivals at 10 req/s for 60 s, no retries: tier 0's cap (30 RPS) is reached at
/// load 3, so every model is saturated at load 3 and the default search bound is 8 x 3 = 24.
const STEADY: &str = r#"name = "steady"
seed = 3
duration = "60s"
tier = 0

[client]
preset = "none"

[[traffic]]
model = "grok-4.3"
arrivals = { process = "constant", rate_per_sec = 10 }
prompt_tokens = { dist = "constant", value = 10 }
completion_tokens = { dist = "constant", value = 10 }
"#;

#[test]
fn bug1_a_term_that_never_binds_ends_at_the_search_bound_with_a_clear_answer() {
    // Attempts per request cannot exceed 1 without retries: the term never fails. Before the
    // fix the bracket doubled to 1024x; now it stops at 8x the saturating load (3) and says so.
    let doc = ratesim::scenario::Document::parse(STEADY, "steady.toml", None).unwrap();
    let opts = ratesim::plan::PlanOptions {
        tiers: vec!["0".into()],
        slo: ratesim::plan::parse_slo("attempts<=2").unwrap(),
        replications: 1,
        precision: 0.02,
        curve_points: 2,
        max_load: None,
    };
    let seen = std::sync::Mutex::new(Vec::new());
    let plan = ratesim::plan::plan(
        &doc,
        &Default::default(),
        &opts,
        &|tier, e| {
            seen.lock().unwrap().push((tier.to_string(), e.load));
        },
        None,
    )
    .unwrap();
    let t = &plan.tiers[0];
    assert!((t.max_load - 24.0).abs() < 1e-9, "bound {}", t.max_load);
    assert_eq!(t.fails_at, None);
    assert_eq!(t.knee, Some(t.max_load));
    let seen = seen.into_inner().unwrap();
    // 1, 2, 4, 8, 16, 24: every evaluation was reported to the progress callback.
    let loads: Vec<f64> = seen.iter().map(|(_, l)| *l).collect();
    assert_eq!(loads, vec![1.0, 2.0, 4.0, 8.0, 16.0, 24.0]);
    assert!(seen.iter().all(|(tier, _)| tier == "0"));
}

#[test]
fn bug1_plan_prints_progress_and_exits_3_when_no_tier_meets_the_slo() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "steady.toml", STEADY);
    // Service time is 0.5 s + 10/80 s: a 100 ms p50 cannot be met at any load.
    ratesim()
        .args([
            "plan",
            "--slo",
            "p50<=100ms",
            "--tiers",
            "0",
            "--replications",
            "1",
        ])
        .arg(&file)
        .arg("--no-charts")
        .arg("--out")
        .arg(dir.path().join("plan"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("plan: tier 0: load 1.0000x"))
        .stdout(predicate::str::contains("no tier meets the SLO"));
    assert!(dir.path().join("plan/plan.csv").exists());
    // A mean term on a load that fails some requests must fail (it used to pass for ever).
    ratesim()
        .args([
            "plan",
            "--slo",
            "mean<=8s",
            "--tiers",
            "0",
            "--replications",
            "1",
        ])
        .arg(&file)
        .arg("--no-charts")
        .arg("--out")
        .arg(dir.path().join("plan2"))
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success()
        .stdout(predicate::str::contains("cheapest way to meet the SLO at the scenario's own load (10.00 req/s): tier 0: $0.00 still to pay"));
    let csv = std::fs::read_to_string(dir.path().join("plan2/plan.csv")).unwrap();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let fails_at: f64 = row[4].parse().expect("the mean term fails at some load");
    assert!(
        fails_at <= 3.1,
        "fails just past the cap (load 3), got {fails_at}"
    );
}

#[test]
fn bug2_validate_expands_and_checks_the_sweep_as_sweep_does() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[sweep]\ntiers = [0, 7]\n", "sweep.tiers[1]"),
        (
            "[sweep]\n[[sweep.params]]\npath = \"traffic[3].arrivals.rate_per_sec\"\nvalues = [1, 2]\n",
            "sweep.params[0].values[0]",
        ),
        (
            "[sweep]\n[[sweep.params]]\npath = \"traffic[0].prompt_tokens.mean\"\nvalues = [5]\n",
            "sweep.params[0].values[0]",
        ),
        (
            "[sweep]\nclients = [{ preset = \"none\", bogus = 1 }]\n",
            "sweep.clients[0]",
        ),
    ];
    for (i, (sweep, at)) in cases.iter().enumerate() {
        let file = write(
            dir.path(),
            &format!("s{i}.toml"),
            &format!("{STEADY}\n{sweep}"),
        );
        let v = ratesim().arg("validate").arg(&file).assert().code(2);
        let v_err = String::from_utf8_lossy(&v.get_output().stderr).into_owned();
        assert!(v_err.contains(at), "validate, case {i}: {v_err}");
        // sweep refuses the same file with the same message.
        let s = ratesim()
            .arg("sweep")
            .arg(&file)
            .arg("--out")
            .arg(dir.path().join(format!("o{i}")))
            .assert()
            .code(2);
        assert_eq!(
            v_err,
            String::from_utf8_lossy(&s.get_output().stderr),
            "case {i}"
        );
    }
    // A good sweep is expanded and counted.
    let file = write(
        dir.path(),
        "good.toml",
        &format!("{STEADY}\n[sweep]\ntiers = [0, 1]\nload = [1, 2, 3]\nreplications = 2\n"),
    );
    ratesim()
        .arg("validate")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "sweep of 6 grid points x 2 replications = 12 runs",
        ));
}

#[test]
fn bug7b_a_bad_value_at_the_end_of_a_long_axis_is_found_quickly() {
    // Each grid point used to re-parse the whole file (with its 10,000 values) and sample
    // 20,000 request sizes: 33 s for this file in a release build. Linear now: well under a
    // second in release; the generous limit keeps a debug build on a slow machine green.
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<String> = (0..9_999).map(|i| (100 + i).to_string()).collect();
    let file = write(
        dir.path(),
        "long.toml",
        &format!(
            "{STEADY}\n[sweep]\n[[sweep.params]]\npath = \"traffic[0].prompt_tokens.value\"\nvalues = [{}, -5]\n",
            values.join(", ")
        ),
    );
    ratesim()
        .arg("validate")
        .arg(&file)
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sweep.params[0].values[9999]"));
}

/// Hidden temporary files (`.NAME.tmp-PID`) left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn bug3_an_interrupted_run_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "long.toml",
        &STEADY
            .replace("duration = \"60s\"", "duration = \"720h\"")
            .replace("rate_per_sec = 10", "rate_per_sec = 200"),
    );
    let log = dir.path().join("attempts.csv");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ratesim"))
        .arg("run")
        .arg(&file)
        .arg("--attempt-log")
        .arg(&log)
        .arg("--out")
        .arg(dir.path().join("out"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the log's temporary file exists and is being written.
    let started = std::time::Instant::now();
    while leftovers(dir.path()).is_empty() {
        assert!(
            started.elapsed().as_secs() < 60,
            "the run never started its log"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "Ctrl-C exits with 130");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    assert!(!log.exists());
    assert!(!dir.path().join("out").exists());
}

#[test]
fn bug4_every_output_path_is_checked_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "steady.toml", STEADY);
    let out = dir.path().join("out");
    ratesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .arg("--attempt-log")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "this is a folder; give a file name",
        ));
    assert!(
        !out.exists(),
        "nothing is written when an output path is bad"
    );
    // --out naming a file: a sentence, not `File exists (os error 17)`.
    let blocker = write(dir.path(), "a-file", "x");
    for cmd in [
        &["run"][..],
        &["compare-tiers", "--tiers", "0", "--replications", "1"],
    ] {
        ratesim()
            .args(cmd)
            .arg(&file)
            .arg("--out")
            .arg(&blocker)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("this is a file; give a folder"))
            .stderr(predicate::str::contains("os error").not());
    }
}

#[test]
fn bug7a_merge_refuses_a_manifest_with_an_impossible_shard() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.toml",
        &format!("{STEADY}\n[sweep]\nload = [1, 2]\nreplications = 2\n"),
    );
    let shard = dir.path().join("shard");
    ratesim()
        .arg("sweep")
        .arg(&file)
        .args(["--shard", "1/2", "--out"])
        .arg(&shard)
        .assert()
        .success();
    let manifest = shard.join("sweep.json");
    let good = std::fs::read_to_string(&manifest).unwrap();
    for (k, n) in [(1, 0), (0, 2), (3, 2)] {
        let bad = good.replace(
            "\"k\": 1,\n    \"n\": 2",
            &format!("\"k\": {k},\n    \"n\": {n}"),
        );
        assert_ne!(bad, good);
        std::fs::write(&manifest, bad).unwrap();
        ratesim()
            .arg("merge")
            .arg(&shard)
            .arg("--out")
            .arg(dir.path().join("merged"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "shard {k}/{n} is not valid"
            )))
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn bug7c_input_files_are_read_with_care() {
    let dir = tempfile::tempdir().unwrap();
    // Not UTF-8: the error has a line and column.
    let bytes = [STEADY.as_bytes(), b"# caf\xE9\n"].concat();
    let bad = dir.path().join("latin1.toml");
    std::fs::write(&bad, bytes).unwrap();
    let lines = STEADY.lines().count();
    ratesim()
        .arg("validate")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "latin1.toml:{}:6:",
            lines + 1
        )))
        .stderr(predicate::str::contains("not valid UTF-8"));
    // An endless input is refused at once instead of read until memory runs out.
    ratesim()
        .args(["validate", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a regular file"));
    // An attempt log in a place that cannot hold files names the path the user gave.
    let file = write(dir.path(), "steady.toml", STEADY);
    let blocker = write(dir.path(), "a-file", "x");
    let log = blocker.join("log.csv");
    ratesim()
        .arg("run")
        .arg(&file)
        .arg("--no-files")
        .arg("--attempt-log")
        .arg(&log)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "--attempt-log {}",
            log.display()
        )))
        .stderr(predicate::str::contains(".tmp-").not());
}

#[test]
fn parse_errors_name_the_field_and_say_what_is_allowed_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            STEADY.replace(
                "dist = \"constant\", value = 10 }\ncompletion",
                "dist = \"log-normal\", value = 10 }\ncompletion",
            ),
            vec![
                "traffic[0].prompt_tokens.dist",
                "unknown value `log-normal`",
                "`lognormal`",
            ],
        ),
        (
            STEADY.replace("rate_per_sec = 10", "rate_per_sec = \"10\""),
            vec![
                "traffic[0].arrivals.rate_per_sec",
                "expected a number",
                "without quotes",
            ],
        ),
        (
            STEADY.replace("[[traffic]]", "[traffic]"),
            vec!["traffic:", "must be written `[[traffic]]`"],
        ),
    ];
    let mut files = Vec::new();
    for (i, (text, expect)) in cases.iter().enumerate() {
        let f = write(dir.path(), &format!("bad{i}.toml"), text);
        let a = ratesim().arg("validate").arg(&f).assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        for piece in expect {
            assert!(err.contains(piece), "case {i}: missing {piece:?} in {err}");
        }
        files.push(f);
    }
    // Several files: every error on its own line, each prefixed.
    let a = ratesim().arg("validate").args(&files).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error: ")).count(),
        3,
        "{err}"
    );
}

#[test]
fn merge_says_what_differs_and_client_variants_carry_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = "[sweep]\nclients = [\"none\", { name = \"sdk-5\", preset = \"openai-python\", max_retries = 5 }]\n";
    let file = write(dir.path(), "s.toml", &format!("{STEADY}\n{sweep}"));
    for (k, seed) in [(1, "3"), (2, "4")] {
        ratesim()
            .arg("sweep")
            .arg(&file)
            .args(["--shard", &format!("{k}/2"), "--seed", seed, "--out"])
            .arg(dir.path().join(format!("s{k}")))
            .assert()
            .success();
    }
    let runs = std::fs::read_to_string(dir.path().join("s1/runs.csv")).unwrap();
    assert!(runs.lines().nth(1).unwrap().contains(",none,"), "{runs}");
    let runs2 = std::fs::read_to_string(dir.path().join("s2/runs.csv")).unwrap();
    assert!(
        runs2.contains(",sdk-5,"),
        "the client's name is its label: {runs2}"
    );
    ratesim()
        .arg("merge")
        .arg(dir.path().join("s1"))
        .arg(dir.path().join("s2"))
        .arg("--out")
        .arg(dir.path().join("m"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the seed (3 against 4) differs"));
    // The same name twice is refused.
    let twice = "[sweep]\nclients = [{ name = \"a\", preset = \"none\" }, { name = \"a\", preset = \"xai-docs\" }]\n";
    let file = write(dir.path(), "t.toml", &format!("{STEADY}\n{twice}"));
    ratesim()
        .arg("validate")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("given twice"));
}

#[test]
fn every_command_help_shows_an_example_and_its_outputs() {
    for cmd in [
        "run",
        "validate",
        "limits",
        "presets",
        "sweep",
        "compare-tiers",
        "plan",
        "merge",
    ] {
        let a = ratesim().args([cmd, "--help"]).assert().success();
        let help = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
        assert!(
            help.contains("Example"),
            "{cmd} --help has no example:\n{help}"
        );
        assert!(help.contains(&format!("ratesim {cmd}")), "{cmd}: {help}");
    }
    ratesim()
        .args(["limits", "--help"])
        .assert()
        .stdout(predicate::str::contains("0, 1, 2, 3, 4, enterprise"));
    ratesim()
        .args(["merge", "--help"])
        .assert()
        .stdout(predicate::str::contains("--no-charts"));
}

/// Found by fuzzing (`fuzz/`, target `trace`): a looped trace whose rows all sit at time 0
/// repeated every nanosecond, so a 30 s run never ended. Such a loop is now refused.
#[test]
fn a_looped_trace_at_time_zero_is_refused_not_replayed_forever() {
    let dir = tempfile::tempdir().unwrap();
    // The fuzzer's input: its first byte picked CSV, a loop and skipped bad rows.
    let input = std::fs::read("tests/data/fuzz/trace-loop-at-zero").unwrap();
    assert_eq!(input[0], 6);
    let trace = write(dir.path(), "t.csv", &String::from_utf8_lossy(&input[1..]));
    let toml = format!(
        "name = \"t\"\nseed = 1\nduration = \"30s\"\ntier = 0\n[client]\npreset = \"none\"\n[[traffic]]\nmodel = \"grok-4.3\"\narrivals = {{ process = \"trace\", file = {:?}, on_bad_row = \"skip\", loop = true }}\n",
        trace.display().to_string()
    );
    let e = parse(&toml, "t.toml", None, &Overrides::default()).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("traffic[0].arrivals.loop"));
    assert!(e.message.contains("give `end`"), "{e}");
    // The simplest case: two rows at 0.
    let zero = write(
        dir.path(),
        "z.csv",
        "timestamp,prompt_tokens,completion_tokens\n0,10,10\n0,5,5\n",
    );
    let e = parse(
        &toml.replace(&trace.display().to_string(), &zero.display().to_string()),
        "t.toml",
        None,
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(e.message.contains("endlessly many"), "{e}");
    // With an end, the loop has a period and runs.
    let ended = toml
        .replace(&trace.display().to_string(), &zero.display().to_string())
        .replace("loop = true", "loop = true, end = \"2s\"");
    let s = scenario(&ended);
    let (t, o, _) = totals(&s);
    assert_conserved(&t, &o);
    assert_eq!(t.requests, 30, "two rows every 2 s for 30 s");
}
