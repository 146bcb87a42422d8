//! Sweeps, shards, tier comparison, capacity planning and the charts they draw.

use std::io::Cursor;
use std::path::Path;

use super::{ratesim, write};

const SWEEP: &str = r#"name = "small-sweep"
seed = 99
duration = "30s"
tier = 0

[[traffic]]
model = "grok-4.3"
arrivals = { process = "poisson", rate_per_sec = 20 }
prompt_tokens = { dist = "lognormal", mean = 1500, std = 1000 }
completion_tokens = { dist = "lognormal", mean = 300, std = 200 }

[sweep]
tiers = [0, 2]
load = [1, 2.5]
clients = ["none", "xai-docs", { preset = "openai-python", max_retries = 4 }]
replications = 3

[[sweep.params]]
path = "latency.base"
values = ["0.2s", "1s"]
"#;

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn sweep(file: &Path, out: &Path, threads: &str, extra: &[&str]) {
    ratesim()
        .env("RAYON_NUM_THREADS", threads)
        .arg("sweep")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

#[test]
fn a_sweep_gives_identical_bytes_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "s.toml", SWEEP);
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    sweep(&file, &one, "1", &[]);
    sweep(&file, &two, "2", &[]);
    for f in [
        "runs.csv",
        "aggregate.csv",
        "sweep.json",
        "goodput.svg",
        "amplification.png",
        "index.html",
    ] {
        assert_eq!(
            read(&one, f),
            read(&two, f),
            "{f} differs between 1 and 2 threads"
        );
    }
    // 2 tiers x 3 clients x 2 latencies x 2 loads = 24 points, 3 replications each.
    let runs = String::from_utf8(read(&one, "runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 72);
    let agg = String::from_utf8(read(&one, "aggregate.csv")).unwrap();
    assert_eq!(agg.lines().count(), 1 + 24);
    assert!(
        agg.lines()
            .next()
            .unwrap()
            .starts_with("point,tier,client,latency.base,load,replications,")
    );
}

#[test]
fn merged_shards_equal_the_unsharded_sweep_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "s.toml", SWEEP);
    let whole = dir.path().join("whole");
    sweep(&file, &whole, "2", &[]);
    let mut shards = Vec::new();
    for k in 1..=3 {
        let d = dir.path().join(format!("shard{k}"));
        sweep(&file, &d, "1", &["--shard", &format!("{k}/3")]);
        assert!(
            !d.join("aggregate.csv").exists(),
            "a shard writes no partial aggregate"
        );
        shards.push(d);
    }
    let merged = dir.path().join("merged");
    // Shards may be given in any order.
    ratesim()
        .arg("merge")
        .args([&shards[2], &shards[0], &shards[1]])
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    for f in ["runs.csv", "aggregate.csv", "sweep.json"] {
        assert_eq!(read(&whole, f), read(&merged, f), "{f}");
    }
    // A shard of another sweep (here: another --duration) is refused.
    let other = dir.path().join("other");
    sweep(&file, &other, "1", &["--shard", "2/3", "--duration", "20s"]);
    ratesim()
        .arg("merge")
        .args([&shards[0], &other, &shards[2]])
        .arg("--out")
        .arg(dir.path().join("mixed"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("belongs to another sweep"));
    // So is a tampered runs.csv: a row moved to another grid point.
    let tampered = dir.path().join("tampered");
    std::fs::create_dir(&tampered).unwrap();
    std::fs::copy(shards[1].join("sweep.json"), tampered.join("sweep.json")).unwrap();
    let text = String::from_utf8(read(&shards[1], "runs.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    cells[1] = "5".into();
    lines[1] = cells.join(",");
    std::fs::write(tampered.join("runs.csv"), lines.join("\n") + "\n").unwrap();
    ratesim()
        .arg("merge")
        .args([&shards[0], &tampered, &shards[2]])
        .arg("--out")
        .arg(dir.path().join("bad"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "differ from what sweep.json implies",
        ));
    // Merging into one of the shard folders would overwrite it.
    ratesim()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&shards[0])
        .assert()
        .code(2);
    // A missing shard is refused, naming what is missing.
    ratesim()
        .arg("merge")
        .args([&shards[0], &shards[1]])
        .arg("--out")
        .arg(dir.path().join("partial"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("missing runs include"));
}

#[test]
fn a_runs_result_does_not_depend_on_the_other_runs_of_the_sweep() {
    // The same grid point in a smaller sweep has the same seed and the same results.
    let dir = tempfile::tempdir().unwrap();
    let big = write(dir.path(), "big.toml", SWEEP);
    let small = write(
        dir.path(),
        "small.toml",
        &SWEEP
            .replace("tiers = [0, 2]", "tiers = [2]")
            .replace("load = [1, 2.5]", "load = [2.5]"),
    );
    sweep(&big, &dir.path().join("big"), "2", &["--no-charts"]);
    sweep(&small, &dir.path().join("small"), "2", &["--no-charts"]);
    let rows = |d: &str| -> Vec<String> {
        String::from_utf8(read(&dir.path().join(d), "runs.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .filter(|l| l.split(',').nth(2) == Some("2") && l.split(',').nth(5) == Some("2.5"))
            // Drop the run and point indices, which depend on the grid's size.
            .map(|l| l.splitn(3, ',').nth(2).unwrap().to_string())
            .collect()
    };
    let (b, s) = (rows("big"), rows("small"));
    assert_eq!(b.len(), 18);
    assert_eq!(b, s);
}

#[test]
fn plan_finds_each_tiers_rps_cap_within_its_precision() {
    // Constant arrivals, no retries, tiny requests: success >= 99.9 % holds exactly up to
    // r* = C (T + 1) / (0.999 T), just above the RPS cap C (the bucket's initial burst of C).
    let src = r#"name = "cap"
seed = 1
duration = "300s"
tier = 0

[client]
preset = "none"

[[traffic]]
model = "grok-4.3"
arrivals = { process = "constant", rate_per_sec = 10 }
prompt_tokens = { dist = "constant", value = 10 }
completion_tokens = { dist = "constant", value = 10 }
"#;
    let doc = ratesim::scenario::Document::parse(src, "cap.toml", None).unwrap();
    let precision = 0.01;
    let opts = ratesim::plan::PlanOptions {
        tiers: ["0", "1", "2", "3", "4"].map(String::from).to_vec(),
        slo: ratesim::plan::parse_slo("success>=99.9%").unwrap(),
        replications: 1,
        precision,
        curve_points: 2,
        max_load: None,
    };
    let plan = ratesim::plan::plan(&doc, &Default::default(), &opts, &|_, _| {}, None).unwrap();
    let t = 300.0;
    for (tp, cap) in plan.tiers.iter().zip([30.0, 40.0, 60.0, 100.0, 166.0]) {
        let lo = tp.knee.unwrap() * 10.0;
        let hi = tp.fails_at.unwrap() * 10.0;
        let threshold = cap * (t + 1.0) / (0.999 * t);
        assert!(
            hi / lo - 1.0 <= precision + 1e-12,
            "tier {}: [{lo}, {hi}) wider than stated",
            tp.tier
        );
        // Rates are rounded to the nanosecond: allow 0.1 % around the closed form.
        assert!(
            lo <= threshold * 1.001 && hi >= threshold * 0.999,
            "tier {}: [{lo}, {hi}) misses {threshold}",
            tp.tier
        );
        assert!(
            (lo - cap).abs() <= cap * (precision + 0.005),
            "tier {}: {lo} vs cap {cap}",
            tp.tier
        );
    }
    // Every tier meets the SLO at the scenario's own 10 req/s; the cheapest is tier 0.
    assert_eq!(plan.cheapest.as_deref(), Some("0"));
}

#[test]
fn under_overload_goodput_rises_with_the_tier() {
    // 250 req/s overloads every tier (caps 30 to 166 RPS).
    let src = r#"name = "hot"
seed = 4
duration = "60s"
tier = 0

[[traffic]]
model = "grok-4.3"
arrivals = { process = "poisson", rate_per_sec = 250 }
prompt_tokens = { dist = "lognormal", mean = 1500, std = 1000 }
completion_tokens = { dist = "lognormal", mean = 300, std = 200 }
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "hot.toml", src);
    let out = dir.path().join("cmp");
    ratesim()
        .args(["compare-tiers", "--replications", "2", "--out"])
        .arg(&out)
        .arg(&file)
        .assert()
        .success()
        .stdout(predicates::str::contains("goodput"));
    let csv = String::from_utf8(read(&out, "tiers.csv")).unwrap();
    let col = csv
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|h| h == "goodput_rps_mean")
        .expect("tiers.csv has goodput_rps_mean");
    let goodput: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    assert_eq!(goodput.len(), 5);
    for w in goodput.windows(2) {
        assert!(
            w[1] > w[0],
            "goodput should rise with the tier: {goodput:?}"
        );
    }
    check_png(&out.join("compare-tiers.png"));
    check_svg(&out.join("compare-tiers.svg"), &["goodput", "4 ($5000)"]);
    let html = String::from_utf8(read(&out, "index.html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("<script"));
}

/// A PNG that decodes, has the expected size and is not blank.
fn check_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let decoder = png::Decoder::new(Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut px = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut px).unwrap();
    assert!(
        info.width >= 600 && info.height >= 300,
        "{}",
        path.display()
    );
    let drawn = px.chunks(3).filter(|p| p != &[255, 255, 255]).count();
    let share = drawn as f64 / (info.width * info.height) as f64;
    assert!(
        share > 0.02,
        "{}: only {:.1}% of pixels drawn",
        path.display(),
        100.0 * share
    );
}

/// An SVG document with the given texts.
fn check_svg(path: &Path, texts: &[&str]) {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{}",
        path.display()
    );
    assert!(
        svg.matches("<text").count() > 10,
        "{}: too little text",
        path.display()
    );
    assert!(svg.contains("<polyline") || svg.contains("<path") || svg.contains("<rect"));
    for t in texts {
        assert!(svg.contains(t), "{}: missing {t:?}", path.display());
    }
}

#[test]
fn run_charts_and_report_are_valid_and_not_blank() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("burst");
    ratesim()
        .args(["run", "scenarios/burst.toml", "--out"])
        .arg(&out)
        .assert()
        .success();
    for stem in ["timeseries", "latency-cdf"] {
        check_png(&out.join(format!("{stem}.png")));
    }
    check_svg(
        &out.join("timeseries.svg"),
        &[
            "429s",
            "admitted",
            "simulated time (s)",
            "request cap",
            "(60 RPS)",
        ],
    );
    check_svg(
        &out.join("latency-cdf.svg"),
        &["steady", "surge", "end-to-end latency (s)"],
    );
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("Scenario file") && html.contains("[[traffic]]"));
    assert!(!html.contains("<script") && !html.contains("src=\"http"));
    // --no-charts skips them.
    let bare = dir.path().join("bare");
    ratesim()
        .args(["run", "scenarios/burst.toml", "--no-charts", "--out"])
        .arg(&bare)
        .assert()
        .success();
    assert!(!bare.join("timeseries.png").exists() && bare.join("summary.json").exists());
    // Rerun into the folder that has charts: no stale chart may stay beside the new summary.
    ratesim()
        .args(["run", "scenarios/burst.toml", "--no-charts", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert!(!out.join("timeseries.png").exists() && !out.join("index.html").exists());
}

#[test]
fn plan_writes_its_table_and_capacity_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan");
    ratesim()
        .args([
            "plan",
            "scenarios/quickstart.toml",
            "--slo",
            "p99<=20s",
            "--slo",
            "success>=99%",
            "--replications",
            "1",
            "--tiers",
            "0,2",
            "--duration",
            "60s",
            "--points",
            "4",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "cheapest way to meet the SLO at the scenario's own load (10.05 req/s): tier 0: $0.00 still to pay",
        ))
        .stdout(predicates::str::contains("also meets it: tier 2: $250.00 still to pay"));
    check_png(&out.join("capacity.png"));
    check_svg(
        &out.join("capacity.svg"),
        &[
            "SLO p99 &lt;= 20 s",
            "tier 2 ($250)",
            "offered load (req/s)",
        ],
    );
    check_png(&out.join("amplification.png"));
    let plan = String::from_utf8(read(&out, "plan.csv")).unwrap();
    assert_eq!(plan.lines().count(), 3);
    ratesim()
        .args(["plan", "scenarios/quickstart.toml", "--slo", "p98<=1s"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("p50|p90|p99"));
}

#[test]
fn a_bad_sweep_value_is_reported_where_the_sweep_sets_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = SWEEP.replace(
        "values = [\"0.2s\", \"1s\"]",
        "values = [\"0.2s\", \"-1s\"]",
    );
    let file = write(dir.path(), "bad.toml", &bad);
    let out = dir.path().join("out");
    ratesim()
        .arg("sweep")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("bad.toml:20:"))
        .stderr(predicates::str::contains("sweep.params[0].values[1]"))
        .stderr(predicates::str::contains("-1s"));
    assert!(!out.exists());
    for (from, to, expect) in [
        ("load = [1, 2.5]", "load = [1, 1]", "appears twice"),
        (
            "path = \"latency.base\"",
            "path = \"traffic[x].latency\"",
            "is not valid",
        ),
        ("tiers = [0, 2]", "tiers = [0, 7]", "sweep.tiers[1]"),
    ] {
        let file = write(dir.path(), "bad.toml", &SWEEP.replace(from, to));
        ratesim()
            .arg("sweep")
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(expect));
        assert!(!out.exists());
    }
}
