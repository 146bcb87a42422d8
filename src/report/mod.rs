//! Output types (the only serialised results, with a schema version) and their writers.
//! Files are written whole or not at all: each goes to a temporary file that is renamed into
//! place only once every file of the set has been written.

pub mod attempt_log;
pub mod charts;
pub mod figures;
pub mod html;
pub mod pages;
pub mod summary;
pub mod table;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use summary::{Summary, summarize};

/// Version of the layout of `summary.json` and the CSV files; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Whether any output file of this process has been moved into place.
static COMMITTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// What to tell the user when interrupted, besides what was written (a sweep's journal).
static INTERRUPT_HINT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Sets the line printed if the command is interrupted.
pub fn set_interrupt_hint(hint: String) {
    *INTERRUPT_HINT.lock().unwrap_or_else(|p| p.into_inner()) = Some(hint);
}

/// Temporary files not yet committed, so that an interrupted command can remove them.
static PENDING: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes every temporary file not yet committed, then ends the process with code 130 (as a
/// shell does after Ctrl-C). For the SIGINT/SIGTERM handler: an interrupted run leaves nothing.
pub fn abandon_pending_and_exit() -> ! {
    // The lock is held until the process ends, so no file is created or renamed meanwhile.
    let files = pending();
    for f in files.iter() {
        let _ = std::fs::remove_file(f);
    }
    if COMMITTED.load(std::sync::atomic::Ordering::SeqCst) {
        eprintln!(
            "interrupted while outputs were being moved into place: some may be from this run, some from an earlier one"
        );
    } else {
        eprintln!("interrupted: no output written");
    }
    if let Some(hint) = INTERRUPT_HINT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
    {
        eprintln!("{hint}");
    }
    std::process::exit(130)
}

/// A temporary file next to its destination, removed unless committed.
#[must_use = "a pending file is deleted when dropped; commit it"]
pub struct PendingFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl PendingFile {
    pub fn create(dest: &Path) -> Result<(PendingFile, std::fs::File)> {
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".to_string());
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        // A process killed outright (SIGKILL) leaves its temporary files: the next one to
        // write the same file clears them.
        if let Ok(entries) = std::fs::read_dir(dir) {
            let prefix = format!(".{name}.tmp-");
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let mut list = pending();
        // Errors name the path the user gave, not the temporary file.
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io(dest, e))?;
        list.push(tmp.clone());
        Ok((
            PendingFile {
                tmp,
                dest: dest.to_path_buf(),
                committed: false,
            },
            file,
        ))
    }

    pub fn commit(mut self) -> Result<()> {
        let mut list = pending();
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io(&self.dest, e))?;
        list.retain(|p| *p != self.tmp);
        COMMITTED.store(true, std::sync::atomic::Ordering::SeqCst);
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let mut list = pending();
            let _ = std::fs::remove_file(&self.tmp);
            list.retain(|p| *p != self.tmp);
        }
    }
}

/// Checks, before any work, that `dir` can be an output folder: not an existing file, and
/// inside a folder where files can be created. `flag` names the option in the message.
pub fn check_output_dir(dir: &Path, flag: &str) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{flag} {}: this is a file; give a folder (it is created if missing)",
            dir.display()
        )));
    }
    writable_below(dir).map_err(|m| Error::Usage(format!("{flag} {}: {m}", dir.display())))
}

/// Checks, before any work, that `file` can be written: not a folder, and its folder (or the
/// nearest existing ancestor) writable.
pub fn check_output_file(file: &Path, flag: &str) -> Result<()> {
    if file.is_dir() {
        return Err(Error::Usage(format!(
            "{flag} {}: this is a folder; give a file name, e.g. {}",
            file.display(),
            file.join("attempts.csv").display()
        )));
    }
    let parent = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    writable_below(parent).map_err(|m| Error::Usage(format!("{flag} {}: {m}", file.display())))
}

/// Whether files can be created at `path`: its nearest existing ancestor is a writable folder.
fn writable_below(path: &Path) -> std::result::Result<(), String> {
    let mut existing = path;
    while !existing.exists() {
        match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => existing = p,
            _ => {
                existing = Path::new(".");
                break;
            }
        }
    }
    if !existing.is_dir() {
        return Err(format!(
            "{} is a file, so no folder can be made there",
            existing.display()
        ));
    }
    probe_writable(existing).map_err(|e| format!("cannot write in {}: {e}", existing.display()))
}

/// Creates and removes a file in `dir`.
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".ratesim-probe-{}", std::process::id()));
    // Registered while it exists, so that Ctrl-C removes it too.
    let mut list = pending();
    std::fs::File::create(&probe)?;
    list.push(probe.clone());
    let removed = std::fs::remove_file(&probe);
    list.retain(|p| *p != probe);
    removed
}

/// Writes a set of files into `dir` (created if needed): all of them, or none.
pub fn write_all<S: AsRef<str>>(dir: &Path, files: &[(S, Vec<u8>)]) -> Result<()> {
    write_all_with(dir, files, Vec::new())
}

/// [`write_all`], with files already written to their temporary files (streamed), committed
/// with the others.
pub fn write_all_with<S: AsRef<str>>(
    dir: &Path,
    files: &[(S, Vec<u8>)],
    written: Vec<PendingFile>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut pending = written;
    for (name, bytes) in files {
        let dest = dir.join(name.as_ref());
        let (p, mut f) = PendingFile::create(&dest)?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io(&dest, e))?;
        pending.push(p);
    }
    for p in pending {
        p.commit()?;
    }
    Ok(())
}

/// Writes a command's files with [`write_all`], then removes any other file of `family` (the
/// files that command can write) left in `dir` by an earlier run, so that a folder never mixes
/// the charts of two runs.
pub fn write_set<S: AsRef<str>>(dir: &Path, files: &[(S, Vec<u8>)], family: &[&str]) -> Result<()> {
    write_set_with(dir, files, Vec::new(), family)
}

/// [`write_set`] with files already written (named `written_names`, streamed to `written`).
pub fn write_set_with<S: AsRef<str>>(
    dir: &Path,
    files: &[(S, Vec<u8>)],
    written: Vec<(String, PendingFile)>,
    family: &[&str],
) -> Result<()> {
    let names: Vec<String> = written.iter().map(|(n, _)| n.clone()).collect();
    write_all_with(dir, files, written.into_iter().map(|(_, p)| p).collect())?;
    for stale in family {
        if !files.iter().any(|(n, _)| n.as_ref() == *stale) && !names.iter().any(|n| n == stale) {
            let path = dir.join(stale);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io(&path, e));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Files `ratesim run` can write.
pub const RUN_FILES: &[&str] = &[
    "summary.json",
    "timeseries.csv",
    "timeseries.png",
    "timeseries.svg",
    "latency-cdf.png",
    "latency-cdf.svg",
    "index.html",
];
/// Files `ratesim sweep` and `merge` can write.
pub const SWEEP_FILES: &[&str] = &[
    "sweep.json",
    "runs.csv",
    "aggregate.csv",
    "goodput.png",
    "goodput.svg",
    "amplification.png",
    "amplification.svg",
    "index.html",
];
/// Files `ratesim compare-tiers` can write.
pub const COMPARE_FILES: &[&str] = &[
    "tiers.csv",
    "runs.csv",
    "aggregate.csv",
    "compare-tiers.png",
    "compare-tiers.svg",
    "index.html",
];
/// Files `ratesim compare --by` can write.
pub const COMPARE_BY_FILES: &[&str] = &[
    "compare.csv",
    "runs.csv",
    "aggregate.csv",
    "compare.png",
    "compare.svg",
    "index.html",
];
/// Files `ratesim forecast` can write.
pub const FORECAST_FILES: &[&str] = &[
    "days.csv",
    "paths.csv",
    "forecast.png",
    "forecast.svg",
    "index.html",
];
/// Files `ratesim plan` can write.
pub const PLAN_FILES: &[&str] = &[
    "plan.csv",
    "curves.csv",
    "plan.json",
    "capacity.png",
    "capacity.svg",
    "amplification.png",
    "amplification.svg",
    "index.html",
];

/// The time series as CSV: one row per second (per bucket of `bucket_s` seconds on very long
/// runs), counts within it and requests in flight at its end.
pub fn timeseries_csv(rec: &crate::metrics::Recorder) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "second",
        "arrivals",
        "attempts",
        "admitted",
        "rate_limited",
        "completions",
        "gave_up",
        "never_fits",
        "no_credit",
        "in_flight",
        "cost_usd",
        "bucket_s",
    ])
    .expect("writing to memory");
    for (i, (s, in_flight)) in rec.buckets.iter().zip(rec.in_flight_series()).enumerate() {
        w.write_record(
            [
                i as u64 * rec.bucket_s,
                s.arrivals,
                s.attempts,
                s.admitted,
                s.rate_limited,
                s.completions,
                s.gave_up,
                s.never_fits,
                s.no_credit,
                in_flight,
            ]
            .iter()
            .map(|v| v.to_string())
            .chain([crate::prices::usd_exact(s.cost), rec.bucket_s.to_string()]),
        )
        .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}
