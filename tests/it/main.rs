//! Integration tests: one binary, a module per topic.

mod accounts;
mod analytic;
mod catalogue;
mod cli;
mod clients;
mod determinism;
mod limiters;
mod oracle;
mod properties;
mod providers;
mod regressions;
mod resume;
mod schema;
mod sweeps;
mod touches;
mod traces;
mod workloads;

use ratesim::client::Cause;
use ratesim::engine::{Observer, Request, RunOutcome};
use ratesim::limiter::Decision;
use ratesim::metrics::{Counters, Recorder};
use ratesim::scenario::{Overrides, Scenario, parse};
use ratesim::time::SimTime;

/// The binary, with colours off.
pub fn ratesim() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("ratesim").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// Writes `text` as a file `name` in `dir` and returns its path.
pub fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Parses a scenario from text; panics with the error message if it does not validate.
pub fn scenario(toml: &str) -> Scenario {
    match parse(toml, "test.toml", None, &Overrides::default()) {
        Ok((s, _)) => s,
        Err(e) => panic!("test scenario does not validate: {e}"),
    }
}

/// Runs a scenario and returns the totals over all streams.
pub fn totals(s: &Scenario) -> (Counters, RunOutcome, Recorder) {
    let (rec, outcome) = ratesim::simulate(s);
    let mut t = Counters::default();
    for c in &rec.streams {
        t.merge(c);
    }
    (t, outcome, rec)
}

/// One attempt as the server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub id: u64,
    pub attempt: u32,
    pub time: SimTime,
    pub decision: Decision,
}

/// Records every attempt and how each request ended.
#[derive(Default)]
pub struct Trace {
    pub attempts: Vec<Seen>,
    pub ends: Vec<(u64, SimTime, &'static str)>,
    /// Why each request that gave up did.
    pub causes: Vec<(u64, Cause)>,
}

impl Observer for Trace {
    fn on_attempt(&mut self, now: SimTime, req: &Request, decision: Decision) {
        self.attempts.push(Seen {
            id: req.id,
            attempt: req.attempt(),
            time: now,
            decision,
        });
    }
    fn on_success(&mut self, now: SimTime, req: &Request) {
        self.ends.push((req.id, now, "succeeded"));
    }
    fn on_give_up(&mut self, now: SimTime, req: &Request, cause: Cause) {
        self.ends.push((req.id, now, "gave_up"));
        self.causes.push((req.id, cause));
    }
    fn on_never_fits(&mut self, now: SimTime, req: &Request) {
        self.ends.push((req.id, now, "never_fits"));
    }
}

/// Checks the conservation laws on a finished run.
pub fn assert_conserved(t: &Counters, outcome: &RunOutcome) {
    assert_eq!(
        t.requests,
        t.succeeded + t.gave_up + t.never_fits + t.no_credit + outcome.in_flight_at_end,
        "requests = succeeded + gave up + never fits + refused for lack of credit + in flight"
    );
    assert_eq!(
        t.attempts,
        t.admitted + t.rate_limited + t.never_fits_attempts,
        "attempts = admitted + 429s + never-fits attempts"
    );
    assert_eq!(t.requests, outcome.requests);
    assert!(t.succeeded <= t.admitted);
    if !outcome.cut_off {
        assert_eq!(
            outcome.in_flight_at_end, 0,
            "a drained run ends every request"
        );
        assert_eq!(
            t.succeeded + t.cancelled + t.server_errors,
            t.admitted,
            "drained: every admitted attempt completes, or its deadline cut it off"
        );
        // Every attempt belongs to exactly one ended request.
        assert_eq!(t.attempts_per_request.sum(), u128::from(t.attempts));
        assert_eq!(t.attempts_per_request.count(), t.requests);
    }
}
