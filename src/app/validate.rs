//! `ratesim validate`: check scenario files without running them, exactly as the commands that
//! run them would: the scenario, and its `[sweep]` grid expanded and every point validated.

use std::io::Write;
use std::path::PathBuf;

use super::*;

pub(super) fn validate(files: &[PathBuf], out: &mut dyn Write) -> Result<()> {
    let mut errors: Vec<InputError> = Vec::new();
    for f in files {
        match check(f) {
            Ok(report) => emit(out, &report)?,
            Err(Error::Input(e)) => errors.push(e),
            Err(Error::Inputs(es)) => errors.extend(es),
            Err(other) => errors.push(InputError::new(f.display().to_string(), other.to_string())),
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(Error::Input(errors.remove(0))),
        _ => Err(Error::Inputs(errors)),
    }
}

/// One file: its `ok` line and warnings, or its first error.
fn check(f: &std::path::Path) -> Result<String> {
    let doc = scenario::Document::load(f)?;
    let overrides = Overrides::default();
    let (s, warnings) = doc.resolve(&overrides, &[])?;
    let sweep = match &doc.sweep {
        Some(spec) => {
            let grid = crate::sweep::expand(&doc, spec, &overrides)?;
            format!(
                "; sweep of {} grid point{} x {} replication{} = {} run{}",
                grid.points.len(),
                plural(grid.points.len()),
                grid.replications,
                plural(grid.replications as usize),
                grid.total_runs(),
                plural(grid.total_runs())
            )
        }
        None => String::new(),
    };
    let mut report = format!(
        "ok: {} (scenario {}, {} stream{}, tier {}{sweep})\n",
        f.display(),
        s.name,
        s.streams.len(),
        plural(s.streams.len()),
        s.tier
    );
    for w in warnings {
        report.push_str(&format!("warning: {}: {w}\n", f.display()));
    }
    Ok(report)
}
