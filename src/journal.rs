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
