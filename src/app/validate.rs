//! `ratesim validate`: check scenario files without running them.

use std::io::Write;
use std::path::PathBuf;

use super::*;

pub(super) fn validate(files: &[PathBuf], out: &mut dyn Write) -> Result<()> {
    let mut errors: Vec<InputError> = Vec::new();
    let mut report = String::new();
    for f in files {
        match scenario::load(f, &Overrides::default()) {
            Ok((s, warnings)) => {
                report.push_str(&format!(
                    "ok: {} (scenario {}, {} stream{}, tier {})\n",
                    f.display(),
                    s.name,
                    s.streams.len(),
                    if s.streams.len() == 1 { "" } else { "s" },
                    s.tier
                ));
                for w in warnings {
                    report.push_str(&format!("warning: {}: {w}\n", f.display()));
                }
            }
            Err(e) => errors.push(e),
        }
    }
    emit(out, &report)?;
    match errors.len() {
        0 => Ok(()),
        1 => Err(Error::Input(errors.remove(0))),
        _ => Err(Error::Inputs(errors)),
    }
}
