//! The `ratesim` binary: parse the command line, run the command, map errors to exit codes
//! (2 for bad input, 1 for failed output, 3 when `plan` finds no tier that meets the SLO).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ratesim::cli::Cli::parse();
    // Ctrl-C (or SIGTERM) removes the temporary files of outputs not yet in place.
    let _ = ctrlc::set_handler(|| ratesim::report::abandon_pending_and_exit());
    let stdout = std::io::stdout();
    match ratesim::app::execute(cli, &mut stdout.lock()) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
