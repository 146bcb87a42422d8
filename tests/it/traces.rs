//! Trace replay: every arrival time and size reproduced, time scaling, windows, loops, JSON
//! Lines and RFC 3339, and bad rows refused with their line.

use std::path::Path;

use super::ratesim;
use predicates::prelude::*;

fn scenario_with(dir: &Path, arrivals: &str) -> std::path::PathBuf {
    let p = dir.join("replay.toml");
    std::fs::write(
        &p,
        format!(
            r#"name = "t"
seed = 1
tier = 4

[client]
preset = "none"

[[traffic]]
model = "grok-4.3"
arrivals = {arrivals}
"#
        ),
    )
    .unwrap();
    p
}

/// (time in ns, prompt, cached, image, completion, reasoning) of each first attempt.
fn first_attempts(log: &Path) -> Vec<(u64, u64, u64, u64, u64, u64)> {
    let text = std::fs::read_to_string(log).unwrap();
    let mut rows: Vec<(u64, u64, u64, u64, u64, u64, u64)> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r[1] == "1")
        .map(|r| {
            let n = |i: usize| r[i].parse::<u64>().unwrap();
            (
                n(0),
                r[2].replace('.', "").parse().unwrap(),
                n(6),
                n(7),
                n(8),
                n(9),
                n(10),
            )
        })
        .collect();
    rows.sort();
    rows.into_iter()
        .map(|(_, t, p, c, i, o, r)| (t, p, c, i, o, r))
        .collect()
}

#[test]
fn a_replay_reproduces_every_arrival_time_and_size_exactly() {
    let trace = std::fs::read_to_string("scenarios/traces/product-10min.csv").unwrap();
    let expected: Vec<(u64, u64, u64, u64, u64, u64)> = trace
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let (s, ms) = c[0].split_once('.').unwrap();
            let t = s.parse::<u64>().unwrap() * 1_000_000_000
                + format!("{ms:0<9}").parse::<u64>().unwrap();
            let n = |i: usize| c[i].parse::<u64>().unwrap();
            (t, n(1), n(3), n(4), n(2), n(5))
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    ratesim()
        .args([
            "run",
            "scenarios/replay.toml",
            "--no-files",
            "--attempt-log",
        ])
        .arg(&log)
        .assert()
        .success();
    let got = first_attempts(&log);
    assert_eq!(got.len(), expected.len());
    assert_eq!(
        got, expected,
        "every arrival time and size, to the nanosecond"
    );
}

#[test]
fn time_scale_windows_loops_jsonl_and_rfc3339() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.jsonl"),
        concat!(
            r#"{"timestamp": "2026-11-26T10:00:00Z", "prompt_tokens": 10, "completion_tokens": 5}"#,
            "\n",
            r#"{"timestamp": "2026-11-26T10:00:03Z", "prompt_tokens": 20, "completion_tokens": 5, "reasoning_tokens": 7}"#,
            "\n",
            r#"{"timestamp": "2026-11-26T10:00:09Z", "prompt_tokens": 30, "completion_tokens": 5, "model": "grok-4.3"}"#,
            "\n",
            r#"{"timestamp": "2026-11-26T10:00:10Z", "prompt_tokens": 40, "completion_tokens": 5, "model": "other"}"#,
            "\n",
        ),
    )
    .unwrap();
    let log = dir.path().join("log.csv");
    let run = |arrivals: &str| {
        let file = scenario_with(dir.path(), arrivals);
        ratesim()
            .arg("run")
            .arg(&file)
            .args(["--no-files", "--attempt-log"])
            .arg(&log)
            .assert()
            .success();
        first_attempts(&log)
            .into_iter()
            .map(|r| (r.0, r.1))
            .collect::<Vec<_>>()
    };
    // RFC 3339: the first timestamp is time zero; rows of another model are not replayed.
    assert_eq!(
        run(r#"{ process = "trace", file = "t.jsonl" }"#),
        vec![(0, 10), (3_000_000_000, 20), (9_000_000_000, 30)]
    );
    // 3x faster.
    assert_eq!(
        run(r#"{ process = "trace", file = "t.jsonl", time_scale = 3 }"#),
        vec![(0, 10), (1_000_000_000, 20), (3_000_000_000, 30)]
    );
    // A window of trace time [2 s, 9 s) holds one row (at 3 s): replayed 1 s after the start,
    // then again every 7 s (the window's length); a looped trace needs a finite job.
    assert_eq!(
        run(
            "{ process = \"trace\", file = \"t.jsonl\", start = \"2s\", end = \"9s\", loop = true }\nrequests = 3"
        ),
        vec![
            (1_000_000_000, 20),
            (8_000_000_000, 20),
            (15_000_000_000, 20)
        ]
    );
}

#[test]
fn bad_rows_are_refused_with_their_line_or_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "timestamp,prompt_tokens,completion_tokens\n1.0,10,5\n2.0,ten,5\n3.0,10,5\n",
    )
    .unwrap();
    let file = scenario_with(dir.path(), r#"{ process = "trace", file = "t.csv" }"#);
    let out = dir.path().join("out");
    ratesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "t.csv:3: prompt_tokens: column prompt_tokens: value `ten` is not allowed",
        ))
        .stderr(predicate::str::contains("on_bad_row"));
    assert!(!out.exists(), "nothing is written");
    let file = scenario_with(
        dir.path(),
        r#"{ process = "trace", file = "t.csv", on_bad_row = "skip" }"#,
    );
    ratesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("1 bad rows of"))
        .stdout(predicate::str::contains(
            "total                           2",
        ));
    // Out of time order, an unknown column, a missing file.
    for (text, expect) in [
        (
            "timestamp,prompt_tokens,completion_tokens\n2.0,1,1\n1.0,1,1\n",
            "time order",
        ),
        (
            "timestamp,prompt,completion_tokens\n1.0,1,1\n",
            "unknown column `prompt`",
        ),
    ] {
        std::fs::write(dir.path().join("t.csv"), text).unwrap();
        let file = scenario_with(dir.path(), r#"{ process = "trace", file = "t.csv" }"#);
        ratesim()
            .arg("validate")
            .arg(&file)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expect));
    }
    let file = scenario_with(dir.path(), r#"{ process = "trace", file = "none.csv" }"#);
    ratesim()
        .arg("validate")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("traffic[0].arrivals.file"));
}

#[test]
fn fit_recovers_a_known_profile_and_sizes_within_sampling_error() {
    use rand::SeedableRng;
    use ratesim::time::SimDuration;
    use ratesim::workload::{ArrivalSpec, Arrivals, Process, TokenDist};
    // A day-like ramp over 20 minutes: 5/s up to 25/s at 10 min, back to 5/s at 20 min.
    let points = vec![(0.0, 5.0), (600.0, 25.0), (1200.0, 5.0)];
    let rate_at = |t: f64| {
        if t < 600.0 {
            5.0 + 20.0 * t / 600.0
        } else {
            25.0 - 20.0 * (t - 600.0) / 600.0
        }
    };
    let spec = ArrivalSpec {
        process: Process::Profile {
            points: points.clone(),
            repeat: None,
        },
        start: SimDuration::ZERO,
        end: None,
        requests: None,
    };
    let mut arrivals = Arrivals::new(&spec, SimDuration::from_secs(1200));
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(77);
    let prompt = TokenDist::Lognormal {
        mean: 2000.0,
        std: 1000.0,
    }
    .sampler();
    let mut csv = String::from("timestamp,prompt_tokens,completion_tokens\n");
    while let Some(t) = arrivals.next(&mut rng) {
        let p = prompt.sample(&mut rng);
        csv.push_str(&format!(
            "{}.{:09},{p},100\n",
            t.0 / 1_000_000_000,
            t.0 % 1_000_000_000
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("known.csv");
    std::fs::write(&trace, csv).unwrap();
    let out = dir.path().join("fitted.toml");
    ratesim()
        .arg("fit")
        .arg(&trace)
        .args(["--bin", "60s", "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    // The fitted scenario validates, and its profile points (at bin middles) lie within 4
    // standard deviations of the true rate there (a bin's count is Poisson with mean ~ rate x 60).
    ratesim().arg("validate").arg(&out).assert().success();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let stream = &doc["traffic"].as_array().unwrap()[0];
    let pts = stream["arrivals"]["points"].as_array().unwrap();
    let mut checked = 0;
    for p in &pts[1..pts.len() - 1] {
        let t = ratesim::time::parse_duration(p[0].as_str().unwrap())
            .unwrap()
            .as_secs_f64();
        let got = p[1]
            .as_float()
            .or(p[1].as_integer().map(|i| i as f64))
            .unwrap();
        let want = rate_at(t);
        // The bin's mean rate differs from the midpoint rate of a straight line only at the peak.
        let sd = (want * 60.0).sqrt() / 60.0;
        assert!(
            (got - want).abs() < 4.0 * sd + 0.2,
            "at {t} s: fitted {got}, true {want}"
        );
        checked += 1;
    }
    assert_eq!(checked, 20);
    let mean = stream["prompt_tokens"]["mean"].as_integer().unwrap() as f64;
    assert!((mean - 2000.0).abs() < 60.0, "prompt mean {mean}");
    assert_eq!(
        stream["completion_tokens"]["value"].as_integer(),
        Some(100),
        "a constant column fits a constant"
    );
}
