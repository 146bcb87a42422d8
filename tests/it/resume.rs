//! Interrupted work: a sweep killed (SIGKILL or Ctrl-C) at any point resumes with `--resume`
//! without redoing its finished runs and writes the same bytes as one that ran through; and a
//! run killed while writing leaves each output file old or new, never half-written.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FILES: [&str; 3] = ["runs.csv", "aggregate.csv", "sweep.json"];

fn sweep_cmd(out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("ratesim"));
    c.args([
        "sweep",
        "scenarios/sweep.toml",
        "--duration",
        "10m",
        "--replications",
        "2",
        "--no-charts",
        "--out",
    ])
    .arg(out)
    .args(extra)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    c
}

/// Waits until the journal holds at least `lines` lines (header included), then signals.
fn interrupt_after(
    mut child: Child,
    journal: &Path,
    lines: usize,
    signal: &str,
) -> std::process::Output {
    let start = Instant::now();
    loop {
        let n = std::fs::read(journal).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
        if n >= lines || start.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.stdout.take();
    child.wait_with_output().unwrap()
}

fn same_files(a: &Path, b: &Path) {
    for f in FILES {
        let (x, y) = (
            std::fs::read_to_string(a.join(f)).unwrap(),
            std::fs::read_to_string(b.join(f)).unwrap(),
        );
        let first = x.lines().zip(y.lines()).position(|(p, q)| p != q);
        assert!(x == y, "{f} differs, first at line {first:?}");
    }
}

#[test]
fn a_killed_sweep_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    assert!(sweep_cmd(&whole, &[]).status().unwrap().success());
    assert!(
        !whole.join(".partial").exists(),
        "the journal goes when the sweep is done"
    );

    // SIGKILL once some runs are journaled: no output yet, the journal kept.
    let cut = dir.path().join("cut");
    let child = sweep_cmd(&cut, &[]).spawn().unwrap();
    let journal = cut.join(".partial").join("runs.csv");
    let out = interrupt_after(child, &journal, 20, "-KILL");
    assert!(!out.status.success());
    for f in FILES {
        assert!(!cut.join(f).exists(), "{f} written by a killed sweep");
    }
    let kept = std::fs::read_to_string(&journal).unwrap().lines().count() - 1;
    assert!(kept >= 19, "{kept} runs journaled");
    // A kill can cut a line in half: resume must cope.
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes.extend_from_slice(b"77,7,1,0.5,0,123");
    std::fs::write(&journal, &bytes).unwrap();
    let out = sweep_cmd(&cut, &["--resume"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{kept} of 90 runs done already")),
        "{err}"
    );
    same_files(&whole, &cut);
    assert!(!cut.join(".partial").exists());
}

#[test]
fn ctrl_c_says_how_to_resume_and_a_different_sweep_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut");
    let child = sweep_cmd(&cut, &[]).spawn().unwrap();
    let journal = cut.join(".partial").join("runs.csv");
    let out = interrupt_after(child, &journal, 5, "-INT");
    assert_eq!(out.status.code(), Some(130));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--resume"), "{err}");
    // The journal belongs to a 10-minute sweep: a 20-minute one cannot take its runs.
    let mut other = sweep_cmd(&cut, &["--resume"]);
    let args: Vec<String> = other
        .get_args()
        .map(|a| a.to_string_lossy().replace("10m", "20m"))
        .collect();
    let out = Command::new(assert_cmd::cargo::cargo_bin("ratesim"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("belongs to another sweep"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    other.stderr(Stdio::null());
    assert!(other.status().unwrap().success());
    for f in FILES {
        assert!(cut.join(f).exists());
    }
}

#[test]
fn a_run_killed_at_any_moment_leaves_each_file_old_or_new() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str, out: &Path| {
        Command::new(assert_cmd::cargo::cargo_bin("ratesim"))
            .args(["run", "scenarios/quickstart.toml", "--seed", seed, "--out"])
            .arg(out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // The new files, from an uninterrupted run with seed 2, and how long it takes.
    let new = dir.path().join("new");
    let t0 = Instant::now();
    assert!(run("2", &new).wait().unwrap().success());
    let took = t0.elapsed();
    let target = dir.path().join("target");
    assert!(run("1", &target).wait().unwrap().success());
    let names: Vec<String> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let old: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(target.join(n)).unwrap())
        .collect();
    let fresh: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(new.join(n)).unwrap())
        .collect();
    // Kill the seed-2 run over the target folder at moments spread over its life.
    let mut saw = (false, false);
    for k in 0..40u32 {
        let mut child = run("2", &target);
        std::thread::sleep(took * k / 32);
        let _ = child.kill();
        let _ = child.wait();
        for (i, n) in names.iter().enumerate() {
            let now = std::fs::read(target.join(n)).unwrap();
            assert!(
                now == old[i] || now == fresh[i],
                "{n} is half-written after a kill at {k}"
            );
            saw.0 |= now == old[i];
            saw.1 |= now == fresh[i];
        }
        // No file but the outputs (and a killed run's hidden temporary files, which the next
        // run clears).
        let stray: Vec<String> = std::fs::read_dir(&target)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !names.contains(n) && !n.starts_with('.'))
            .collect();
        assert!(stray.is_empty(), "{stray:?}");
        // Back to the old files for the next round.
        for (i, n) in names.iter().enumerate() {
            std::fs::write(target.join(n), &old[i]).unwrap();
        }
    }
    assert!(saw.0, "some kill came before the files were replaced");
    assert!(saw.1, "some kill came after");
    // A last run through clears what the killed ones left.
    assert!(run("2", &target).wait().unwrap().success());
    let hidden = std::fs::read_dir(&target)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp-")
        })
        .count();
    assert_eq!(hidden, 0);
}

#[test]
fn a_killed_plan_resumes_to_the_same_bytes_without_redoing_its_evaluations() {
    let dir = tempfile::tempdir().unwrap();
    let plan = |out: &Path, extra: &[&str]| {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("ratesim"));
        c.args([
            "plan",
            "scenarios/plan.toml",
            "--slo",
            "p99<=25s",
            "--slo",
            "success>=99.9%",
            "--duration",
            "10m",
            "--replications",
            "2",
            "--tiers",
            "0,1,2",
            "--points",
            "4",
            "--no-charts",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        c
    };
    let whole = dir.path().join("whole");
    let out = plan(&whole, &[]).output().unwrap();
    assert!(out.status.code() == Some(0) || out.status.code() == Some(3));
    let files = ["plan.csv", "curves.csv", "plan.json"];
    assert!(!whole.join(".partial").exists());

    let cut = dir.path().join("cut");
    let child = plan(&cut, &[]).spawn().unwrap();
    let journal = cut.join(".partial").join("plan-evaluations.txt");
    let _ = interrupt_after(child, &journal, 6, "-KILL");
    for f in files {
        assert!(!cut.join(f).exists(), "{f} written by a killed plan");
    }
    let text = std::fs::read_to_string(&journal).unwrap();
    let made = text.lines().count() - 1;
    assert!(made >= 5, "{made} evaluations journaled");
    // A copy whose first evaluation (tier 0 at load 1) is doctored shows that a resumed plan
    // takes journaled evaluations as they are rather than running them again.
    let doctored = dir.path().join("doctored");
    std::fs::create_dir_all(doctored.join(".partial")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Load 1.0 is 3ff0000000000000 in bits; the tiers are searched in parallel.
    let i = lines
        .iter()
        .position(|l| l.starts_with("\"0\" 3ff0000000000000 "))
        .expect("tier 0 at load 1 is evaluated first");
    let mut parts: Vec<String> = lines[i].split(' ').map(str::to_string).collect();
    parts[2] = "999999".into();
    lines[i] = parts.join(" ");
    std::fs::write(
        doctored.join(".partial").join("plan-evaluations.txt"),
        lines.join("\n") + "\n",
    )
    .unwrap();
    assert!(
        plan(&doctored, &["--resume"])
            .status()
            .unwrap()
            .code()
            .is_some()
    );
    let p: serde_json::Value =
        serde_json::from_slice(&std::fs::read(doctored.join("plan.json")).unwrap()).unwrap();
    assert_eq!(p["tiers"][0]["at_own_load"]["requests"], 999999);

    let out = plan(&cut, &["--resume"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{made} evaluations made already")),
        "{err}"
    );
    for f in files {
        assert_eq!(
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(cut.join(f)).unwrap(),
            "{f} differs"
        );
    }
    assert!(!cut.join(".partial").exists());
}
