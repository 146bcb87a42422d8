//! The journal of a sweep: every finished run appended as it ends, so that an interrupted
//! sweep (Ctrl-C, a kill, a lost machine) resumes with `--resume` without redoing it.
//!
//! The journal is a sweep folder of its own, `.partial/` inside the output folder: the
//! manifest, then `runs.csv` with one line appended (and flushed) per finished run. Resuming
//! reads it back as `merge` reads a shard (every row checked against the manifest), after
//! cutting off a last line that a kill left half-written. Rows are written in their shortest
//! round-trip form, so a resumed sweep writes the same bytes as one that ran through.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::sweep::{Axis, Manifest, RunRow, read_dir, runs_csv};

pub struct Journal {
    dir: PathBuf,
    runs: Mutex<std::fs::File>,
}

impl Journal {
    /// The journal folder of the output folder `out`.
    pub fn dir_of(out: &Path) -> PathBuf {
        out.join(".partial")
    }

    /// Opens the journal of `out` for `manifest`: with `resume`, the runs an earlier
    /// attempt finished (none if there is no journal); without, a fresh journal.
    pub fn open(out: &Path, manifest: &Manifest, resume: bool) -> Result<(Journal, Vec<RunRow>)> {
        let dir = Journal::dir_of(out);
        let runs_path = dir.join("runs.csv");
        let mut done = Vec::new();
        if resume && runs_path.is_file() {
            // A kill can leave the last line half-written: keep whole lines only.
            let bytes = std::fs::read(&runs_path).map_err(|e| Error::io(&runs_path, e))?;
            let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            if whole < bytes.len() {
                std::fs::write(&runs_path, &bytes[..whole])
                    .map_err(|e| Error::io(&runs_path, e))?;
            }
            let (m, rows) = read_dir(&dir)?;
            if m != *manifest {
                return Err(Error::Usage(format!(
                    "--resume: the journal in {} belongs to another sweep ({}); remove it, or run without --resume to start again",
                    dir.display(),
                    m.differences(manifest).join(", ")
                )));
            }
            done = rows;
        } else {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            let json = serde_json::to_vec_pretty(manifest).expect("manifest serialises");
            std::fs::write(dir.join("sweep.json"), json)
                .map_err(|e| Error::io(&dir.join("sweep.json"), e))?;
            std::fs::write(&runs_path, runs_csv(&manifest.axes, &[]))
                .map_err(|e| Error::io(&runs_path, e))?;
        }
        let runs = std::fs::OpenOptions::new()
            .append(true)
            .open(&runs_path)
            .map_err(|e| Error::io(&runs_path, e))?;
        Ok((
            Journal {
                dir,
                runs: Mutex::new(runs),
            },
            done,
        ))
    }

    /// Appends a finished run (one whole line, written at once).
    pub fn record(&self, axes: &[Axis], row: &RunRow) {
        let csv = runs_csv(axes, std::slice::from_ref(row));
        let line = csv
            .iter()
            .position(|&b| b == b'\n')
            .map_or(&csv[..], |i| &csv[i + 1..]);
        let mut f = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        // A journal that cannot be written only loses the chance to resume.
        let _ = f.write_all(line);
    }

    /// The sweep's outputs are written: the journal is no longer needed.
    pub fn finish(self) {
        drop(self.runs);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The journal of a plan: every load evaluated on a tier (its pooled replications), one line
/// each, in `OUT/.partial/plan-evaluations.txt`. A resumed plan replays the same search, which
/// finds each evaluation it made before in the journal instead of running it again; floats are
/// kept as their bits, so the plan's outputs are the same bytes.
pub struct PlanJournal {
    dir: PathBuf,
    file: Mutex<std::fs::File>,
    done: Mutex<std::collections::HashMap<(String, u64), crate::plan::Evaluation>>,
}

const PLAN_FILE: &str = "plan-evaluations.txt";

impl PlanJournal {
    /// Opens the journal of `out` for the plan identified by `identity` (the scenario's text
    /// and every option): with `resume`, the evaluations an earlier attempt made.
    pub fn open(out: &Path, identity: &str, resume: bool) -> Result<PlanJournal> {
        let dir = Journal::dir_of(out);
        let path = dir.join(PLAN_FILE);
        let header = format!("# ratesim plan journal {:016x}\n", fnv(identity));
        let mut done = std::collections::HashMap::new();
        if resume && path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            if !text.starts_with(&header) {
                return Err(Error::Usage(format!(
                    "--resume: the journal in {} belongs to another plan (another scenario, SLO, tiers or option); remove it, or run without --resume to start again",
                    dir.display()
                )));
            }
            // Whole lines only: a kill may have cut the last one.
            for line in text.lines().skip(1) {
                if let Some((tier, load, e)) = decode(line) {
                    done.insert((tier, load), e);
                }
            }
            if !text.ends_with('\n') {
                let whole = text.rfind('\n').map_or(0, |i| i + 1);
                std::fs::write(&path, &text[..whole]).map_err(|e| Error::io(&path, e))?;
            }
        } else {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            std::fs::write(&path, &header).map_err(|e| Error::io(&path, e))?;
        }
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok(PlanJournal {
            dir,
            file: Mutex::new(file),
            done: Mutex::new(done),
        })
    }

    /// Evaluations already made.
    pub fn len(&self) -> usize {
        self.done.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The evaluation of `load` on `tier`, if the journal has it.
    pub fn get(&self, tier: &str, load: f64) -> Option<crate::plan::Evaluation> {
        self.done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(tier.to_string(), load.to_bits()))
            .cloned()
    }

    /// Records an evaluation (one whole line, written at once).
    pub fn record(&self, tier: &str, e: &crate::plan::Evaluation) {
        let line = encode(tier, e);
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = f.write_all(line.as_bytes());
    }

    /// The plan's outputs are written: the journal is no longer needed.
    pub fn finish(self) {
        drop(self.file);
        let _ = std::fs::remove_file(self.dir.join(PLAN_FILE));
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// FNV-1a, 64 bits: the identity of a plan in its journal's first line.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn encode(tier: &str, e: &crate::plan::Evaluation) -> String {
    let f = |x: f64| format!("{:x}", x.to_bits());
    let o = |x: Option<f64>| x.map_or("-".to_string(), f);
    format!(
        "{tier:?} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}\n",
        f(e.load),
        e.requests,
        e.failed,
        f(e.offered_rps),
        f(e.goodput_rps),
        f(e.success_pct),
        f(e.rate_limited_pct),
        f(e.gave_up_pct),
        o(e.p50_s),
        o(e.p99_s),
        o(e.mean_s),
        f(e.p99_all_s),
        f(e.attempts_mean),
        o(e.makespan_s),
        o(e.cost_per_day_usd),
        u8::from(e.meets)
    )
}

fn decode(line: &str) -> Option<(String, u64, crate::plan::Evaluation)> {
    // The tier is quoted (Rust's debug form), the rest space-separated.
    let line = line.strip_prefix('"')?;
    let end = line.find("\" ")?;
    let tier = line[..end].replace("\\\"", "\"").replace("\\\\", "\\");
    let parts: Vec<&str> = line[end + 2..].split(' ').collect();
    if parts.len() != 16 {
        return None;
    }
    let f = |s: &str| u64::from_str_radix(s, 16).ok().map(f64::from_bits);
    let o = |s: &str| -> Option<Option<f64>> { if s == "-" { Some(None) } else { f(s).map(Some) } };
    let e = crate::plan::Evaluation {
        load: f(parts[0])?,
        requests: parts[1].parse().ok()?,
        failed: parts[2].parse().ok()?,
        offered_rps: f(parts[3])?,
        goodput_rps: f(parts[4])?,
        success_pct: f(parts[5])?,
        rate_limited_pct: f(parts[6])?,
        gave_up_pct: f(parts[7])?,
        p50_s: o(parts[8])?,
        p99_s: o(parts[9])?,
        mean_s: o(parts[10])?,
        p99_all_s: f(parts[11])?,
        attempts_mean: f(parts[12])?,
        makespan_s: o(parts[13])?,
        cost_per_day_usd: o(parts[14])?,
        meets: match parts[15] {
            "1" => true,
            "0" => false,
            _ => return None,
        },
    };
    Some((tier, e.load.to_bits(), e))
}
