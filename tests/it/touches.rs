//! Finishing touches: shell completions, a progress bar on a terminal, `--shard auto`.

use super::*;
use ratesim::sweep::Shard;

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef ratesim"),
        ("fish", "complete -c ratesim"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let out = ratesim().args(["completions", shell]).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(text.contains(marker), "{shell}: {marker:?} missing");
        // Every command is offered.
        for cmd in [
            "run",
            "sweep",
            "compare",
            "plan",
            "limits",
            "schema",
            "completions",
        ] {
            assert!(text.contains(cmd), "{shell}: {cmd} missing");
        }
    }
    ratesim()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("possible values"));
}

#[test]
fn a_long_run_on_a_terminal_shows_a_progress_bar_with_an_eta() {
    // `script` gives the run a terminal; the bar goes to stderr, the table to stdout.
    let bin = assert_cmd::cargo::cargo_bin("ratesim");
    let cmd = format!(
        "{} run scenarios/overload.toml --duration 2h --no-files",
        bin.display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("RATESIM_PROGRESS", "always")
        .env("NO_COLOR", "1")
        .output()
        .expect("script (util-linux) runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("simulated"), "{text}");
    assert!(text.contains("/7200 s"), "{text}");
    assert!(text.contains("ETA"), "{text}");
    // Not on a pipe: no bar in what a script reads.
    let out = ratesim()
        .args([
            "run",
            "scenarios/overload.toml",
            "--duration",
            "2h",
            "--no-files",
        ])
        .env("RATESIM_PROGRESS", "always")
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(!err.contains("ETA"), "{err}");
}

#[test]
fn shard_auto_reads_each_job_array() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    // Slurm: --array=1-20 gives ids 1..20 with MIN 1; --array=0-9, ids 0..9 with MIN 0.
    let slurm = env(&[
        ("SLURM_ARRAY_TASK_ID", "7"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "20"),
    ]);
    assert_eq!(Shard::from_env(None, &slurm), Ok(Shard { k: 7, n: 20 }));
    let slurm0 = env(&[
        ("SLURM_ARRAY_TASK_ID", "0"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_COUNT", "10"),
    ]);
    assert_eq!(Shard::from_env(None, &slurm0), Ok(Shard { k: 1, n: 10 }));
    let e = Shard::from_env(Some(12), &slurm).unwrap_err();
    assert!(e.contains("Slurm says the array has 20 tasks"), "{e}");
    // Kubernetes indexed jobs and AWS Batch array jobs give the index from 0, not the count.
    let k8s = env(&[("JOB_COMPLETION_INDEX", "4")]);
    assert_eq!(Shard::from_env(Some(5), &k8s), Ok(Shard { k: 5, n: 5 }));
    let e = Shard::from_env(None, &k8s).unwrap_err();
    assert!(e.contains("auto/N"), "{e}");
    let e = Shard::from_env(Some(4), &k8s).unwrap_err();
    assert!(e.contains("past the 4 shards"), "{e}");
    let aws = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "0")]);
    assert_eq!(Shard::from_env(Some(3), &aws), Ok(Shard { k: 1, n: 3 }));
    let bad = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "x")]);
    assert!(
        Shard::from_env(Some(3), &bad)
            .unwrap_err()
            .contains("\"x\"")
    );
    let none = env(&[]);
    assert!(
        Shard::from_env(Some(3), &none)
            .unwrap_err()
            .contains("no job array index")
    );
}

#[test]
fn shard_auto_runs_the_task_of_the_array_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    ratesim()
        .args([
            "sweep",
            "scenarios/sweep.toml",
            "--duration",
            "5s",
            "--shard",
            "auto/3",
            "--out",
        ])
        .arg(&out)
        .env("AWS_BATCH_JOB_ARRAY_INDEX", "1")
        .assert()
        .success();
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(
        (m["shard"]["k"].as_u64(), m["shard"]["n"].as_u64()),
        (Some(2), Some(3))
    );
    ratesim()
        .args(["sweep", "scenarios/sweep.toml", "--shard", "auto"])
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no job array index"));
}
