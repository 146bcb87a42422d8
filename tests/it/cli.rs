//! The binary as a user meets it: exit codes, messages and files for good and bad input.

use std::path::PathBuf;

use super::{ratesim, write};
use predicates::prelude::*;

const GOOD: &str = r#"name = "good"
seed = 1
duration = "10s"
tier = 0

[[traffic]]
model = "grok-4.3"
arrivals = { process = "poisson", rate_per_sec = 5 }
prompt_tokens = { dist = "constant", value = 100 }
completion_tokens = { dist = "constant", value = 50 }
"#;

/// Runs `ratesim run` on a bad file: exit code 2, a message with every expected piece, no
/// panic, and no output folder.
fn refused(text: &str, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "bad.toml", text);
    let out = dir.path().join("out");
    let assert = ratesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml"))
        .stderr(predicate::str::contains("panicked").not());
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    for piece in expect {
        assert!(stderr.contains(piece), "missing {piece:?} in: {stderr}");
    }
    assert!(!out.exists(), "no output may be written for bad input");
    // validate agrees.
    ratesim().arg("validate").arg(&file).assert().code(2);
}

#[test]
fn a_good_scenario_runs_and_writes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "good.toml", GOOD);
    let out = dir.path().join("out");
    ratesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("requests"))
        .stdout(predicate::str::contains("latency (s)"));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "schema_version",
        "ratesim_version",
        "seed",
        "catalog",
        "scenario",
        "requests",
        "attempts",
        "admitted",
        "rate_limited",
        "succeeded",
        "gave_up",
        "never_fits",
        "in_flight_at_end",
        "events",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    for q in ["p50", "p90", "p99", "p999", "max", "mean"] {
        assert!(summary["latency_s"][q].as_f64().is_some(), "latency_s.{q}");
        assert!(
            summary["models"][0]["latency_s"][q].as_f64().is_some(),
            "per-model latency_s.{q}"
        );
    }
    assert_eq!(summary["catalog"]["limits"]["date"], "2026-06-20");
    assert_eq!(summary["models"][0]["model"], "grok-4.3");
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert!(csv.starts_with("second,arrivals,attempts,admitted,rate_limited,completions"));
    // Every output is there, and no temporary file is left behind.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "index.html",
            "latency-cdf.png",
            "latency-cdf.svg",
            "summary.json",
            "timeseries.csv",
            "timeseries.png",
            "timeseries.svg"
        ]
    );
}

#[test]
fn json_flag_prints_the_summary_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "good.toml", GOOD);
    let out = ratesim()
        .args(["run", "--no-files", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scenario_name"], "good");
}

#[test]
fn the_attempt_log_has_one_row_per_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("attempts.csv");
    let out = ratesim()
        .args([
            "run",
            "scenarios/burst.toml",
            "--no-files",
            "--json",
            "--attempt-log",
        ])
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "request_id,attempt,time_s,stream,model,tokens,prompt_tokens,cached_tokens,image_tokens,completion_tokens,reasoning_tokens,outcome,retry_after_s,gave_up_cause,tier"
        )
    );
    let all: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(all.iter().all(|r| r.len() == 15));
    assert!(
        all.iter().all(|r| r[14] == "2"),
        "burst.toml runs at tier 2"
    );
    // One row per attempt, and one per request that gave up, naming its cause.
    let (rows, gave_up): (Vec<_>, Vec<_>) = all.into_iter().partition(|r| r[11] != "gave_up");
    assert_eq!(rows.len() as u64, v["attempts"].as_u64().unwrap());
    assert_eq!(gave_up.len() as u64, v["gave_up"].as_u64().unwrap());
    assert!(!gave_up.is_empty(), "burst.toml has give-ups");
    for r in &gave_up {
        assert_eq!(
            r[13], "retries_exhausted",
            "xai-docs only runs out of retries"
        );
        assert_eq!(r[1], "5", "the docs loop makes five attempts");
        assert!(r[5].is_empty() && r[12].is_empty());
    }
    assert_eq!(
        v["gave_up_by_cause"]["retries_exhausted"].as_u64(),
        v["gave_up"].as_u64()
    );
    assert!(rows.iter().all(|r| r[13].is_empty()));
    let limited = rows
        .iter()
        .filter(|r| r[11].starts_with("rate_limited_"))
        .count() as u64;
    assert_eq!(limited, v["rate_limited"].as_u64().unwrap());
    // The kinds add up to the tokens counted toward TPM (cached is a part of the prompt).
    let n = |x: &str| x.parse::<u64>().unwrap();
    assert!(
        rows.iter()
            .all(|r| n(r[5]) == n(r[6]) + n(r[8]) + n(r[9]) + n(r[10]))
    );
    // Both streams of burst.toml appear, each with its own rows.
    for stream in ["steady", "surge"] {
        assert!(rows.iter().any(|r| r[3] == stream), "no row of {stream}");
    }
    assert!(
        rows.iter()
            .filter(|r| r[11].starts_with("rate_limited_"))
            .all(|r| !r[12].is_empty())
    );
    assert!(
        rows.iter()
            .filter(|r| r[11] == "admitted")
            .all(|r| r[12].is_empty())
    );
}

#[test]
fn unknown_key() {
    refused(
        &GOOD.replace("seed = 1", "seed = 1\nsed = 2"),
        &["bad.toml:3", "unknown field `sed`"],
    );
}

#[test]
fn wrong_type() {
    refused(
        &GOOD.replace("rate_per_sec = 5", "rate_per_sec = \"fast\""),
        &["bad.toml:8:50", "invalid type", "fast"],
    );
}

#[test]
fn zero_negative_nan_and_infinite_rates() {
    for bad in ["0", "-3", "nan", "inf"] {
        refused(
            &GOOD.replace("rate_per_sec = 5", &format!("rate_per_sec = {bad}")),
            &[
                "bad.toml:8:",
                "traffic[0].arrivals.rate_per_sec",
                bad,
                "must be a finite number > 0",
            ],
        );
    }
}

#[test]
fn unknown_model() {
    refused(
        &GOOD.replace("\"grok-4.3\"", "\"grok-9\""),
        &[
            "bad.toml:7:",
            "traffic[0].model",
            "grok-9",
            "known models: grok-4.20",
        ],
    );
}

#[test]
fn unknown_tier() {
    refused(
        &GOOD.replace("tier = 0", "tier = 7"),
        &["bad.toml:4:", "tier", "\"7\"", "0, 1, 2, 3, 4, enterprise"],
    );
}

#[test]
fn a_model_without_limits_at_the_tier() {
    refused(
        &GOOD.replace("tier = 0", "tier = \"enterprise\""),
        &["traffic[0].model", "no limits at tier \"enterprise\""],
    );
}

#[test]
fn empty_traffic() {
    let text = GOOD.split("[[traffic]]").next().unwrap().to_string();
    refused(&text, &["traffic", "at least one [[traffic]]"]);
    refused(
        &(text + "traffic = []\n"),
        &["bad.toml:6:", "at least one [[traffic]]"],
    );
}

#[test]
fn zero_duration() {
    refused(
        &GOOD.replace("\"10s\"", "\"0s\""),
        &["bad.toml:3:", "duration", "\"0s\"", "must be > 0"],
    );
}

#[test]
fn duration_without_unit() {
    refused(
        &GOOD.replace("\"10s\"", "10"),
        &["bad.toml:3:", "no unit", "\"10s\""],
    );
}

#[test]
fn malformed_limits_csv() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "limits.csv",
        "model,kind,tier,rps,tpm\ngrok-4.3,language,0,thirty,1000\n",
    );
    let file = write(
        dir.path(),
        "bad.toml",
        &GOOD.replace("tier = 0", "tier = 0\nlimits_file = \"limits.csv\""),
    );
    let out = dir.path().join("out");
    ratesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("limits.csv:2"))
        .stderr(predicate::str::contains("column `rps`"))
        .stderr(predicate::str::contains("thirty"))
        .stderr(predicate::str::contains("number > 0"));
    assert!(!out.exists());
}

#[test]
fn a_missing_limits_file_is_named() {
    refused(
        &GOOD.replace("tier = 0", "tier = 0\nlimits_file = \"nope.csv\""),
        &["bad.toml:5:", "limits_file", "nope.csv", "cannot read"],
    );
}

#[test]
fn a_user_limits_file_replaces_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "limits.csv",
        "# source: xAI Rate Limits, later version (RPS = RPM/48)\n# date: 2026-09-01\nmodel,kind,tier,rps,tpm\ngrok-4.3,language,0,37.5,10000000\n",
    );
    let file = write(
        dir.path(),
        "s.toml",
        &GOOD.replace("tier = 0", "tier = 0\nlimits_file = \"limits.csv\""),
    );
    let out = ratesim()
        .args(["run", "--no-files", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["models"][0]["rps_cap"], 37.5);
    assert_eq!(v["catalog"]["limits"]["date"], "2026-09-01");
}

#[test]
fn missing_scenario_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    ratesim()
        .args(["run", "no/such/file.toml", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/file.toml"))
        .stderr(predicate::str::contains("cannot read"));
    assert!(!out.exists());
}

#[test]
fn bad_token_distribution() {
    refused(
        &GOOD.replace(
            "{ dist = \"constant\", value = 100 }",
            "{ dist = \"lognormal\", mean = 100, std = -1 }",
        ),
        &["bad.toml:9:", "traffic[0].prompt_tokens.std", "-1"],
    );
    refused(
        &GOOD.replace(
            "{ dist = \"constant\", value = 100 }",
            "{ dist = \"lognormal\", mean = 100 }",
        ),
        &["traffic[0].prompt_tokens", "needs mean and std"],
    );
}

#[test]
fn unknown_preset() {
    refused(
        &(GOOD.to_string() + "\n[client]\npreset = \"boto\"\n"),
        &["bad.toml:13:", "client.preset", "boto", "xai-docs"],
    );
}

#[test]
fn validate_reports_every_bundled_scenario_ok() {
    let files: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    assert!(files.len() >= 4);
    let out = ratesim().arg("validate").args(&files).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("ok: ").count(), files.len());
}

#[test]
fn validate_warns_about_requests_that_never_fit() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "big.toml",
        &GOOD.replace("value = 100", "value = 20000000"),
    );
    ratesim()
        .arg("validate")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("warning"))
        .stdout(predicate::str::contains("never fit"));
}

#[test]
fn limits_filters_by_model_and_tier_and_refuses_unknown_ones() {
    ratesim()
        .args(["limits", "--model", "grok-4.3", "--tier", "4"])
        .assert()
        .success()
        .stdout(predicate::str::contains("166"))
        .stdout(predicate::str::contains("85000000"))
        .stdout(predicate::str::contains("2026-06-20"));
    ratesim()
        .args(["limits", "--model", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown model \"nope\""));
}

#[test]
fn lognormal_means_below_one_token_are_refused() {
    refused(
        &GOOD.replace(
            "{ dist = \"constant\", value = 100 }",
            "{ dist = \"lognormal\", mean = 1e-300, std = 0 }",
        ),
        &[
            "bad.toml:9:",
            "traffic[0].prompt_tokens.mean",
            "1e-300",
            "from 1 to",
        ],
    );
}

#[test]
fn duplicate_keys_are_named() {
    refused(
        &GOOD.replace("seed = 1", "seed = 1\nseed = 2"),
        &["bad.toml:3:", "duplicate key `seed`"],
    );
}

#[test]
fn a_bad_duration_override_blames_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "good.toml", GOOD);
    ratesim()
        .args(["run", "--no-files", "--duration", "401d"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--duration"))
        .stderr(predicate::str::contains("at most 400d"));
}

#[test]
fn a_tiers_file_with_a_duplicate_tier_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "tiers.csv",
        "tier,cumulative_spend_usd\n0,0\n0,5\n",
    );
    let file = write(
        dir.path(),
        "bad.toml",
        &GOOD.replace("tier = 0", "tier = 0\ntiers_file = \"tiers.csv\""),
    );
    ratesim()
        .arg("validate")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("tiers.csv:3"))
        .stderr(predicate::str::contains("tier `0` has a row already"));
}
