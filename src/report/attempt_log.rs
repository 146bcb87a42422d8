//! `--attempt-log`: one CSV row per attempt, so any run can be audited line by line.

use std::io::{BufWriter, Write};
use std::path::Path;

use super::PendingFile;
use crate::client::Cause;
use crate::engine::{Observer, Request};
use crate::error::{Error, Result};
use crate::limiter::Decision;
use crate::time::{SimTime, fmt_secs_exact};

pub const HEADER: &str = "request_id,attempt,time_s,stream,model,tokens,prompt_tokens,cached_tokens,image_tokens,completion_tokens,reasoning_tokens,outcome,retry_after_s,gave_up_cause,tier\n";

/// Wraps another observer and writes every attempt to a file (renamed into place by `finish`).
pub struct AttemptLog<'a, O: Observer> {
    inner: &'a mut O,
    pending: PendingFile,
    out: BufWriter<std::fs::File>,
    /// "stream,model" of each stream, as CSV fields.
    names: Vec<String>,
    error: Option<std::io::Error>,
    path: std::path::PathBuf,
    /// The team's tier now (it changes when payments land).
    tier: String,
}

impl<'a, O: Observer> AttemptLog<'a, O> {
    /// `streams`: the (name, model) of each stream.
    pub fn create(
        path: &Path,
        streams: Vec<(String, String)>,
        tier: &str,
        inner: &'a mut O,
    ) -> Result<Self> {
        let (pending, file) = PendingFile::create(path)?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        out.write_all(HEADER.as_bytes())
            .map_err(|e| Error::io(path, e))?;
        Ok(AttemptLog {
            inner,
            pending,
            out,
            names: streams
                .iter()
                .map(|(s, m)| format!("{},{}", csv_field(s), csv_field(m)))
                .collect(),
            error: None,
            path: path.to_path_buf(),
            tier: csv_field(tier),
        })
    }

    /// Flushes the log, or reports the first write error. The caller commits the returned file
    /// once every other output is written, so a failed run leaves no log behind.
    pub fn finish(mut self) -> Result<PendingFile> {
        if let Some(e) = self.error.take() {
            return Err(Error::io(&self.path, e));
        }
        self.out.flush().map_err(|e| Error::io(&self.path, e))?;
        Ok(self.pending)
    }
}

/// A CSV field, quoted if it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl<O: Observer> Observer for AttemptLog<'_, O> {
    fn on_event(&mut self, now: SimTime, stream: u32) {
        self.inner.on_event(now, stream);
    }
    fn on_arrival(&mut self, now: SimTime, req: &Request) {
        self.inner.on_arrival(now, req);
    }
    fn on_attempt(&mut self, now: SimTime, req: &Request, decision: Decision) {
        self.inner.on_attempt(now, req, decision);
        if self.error.is_some() {
            return;
        }
        let limited;
        let (outcome, retry_after) = match decision {
            Decision::Admit => ("admitted", String::new()),
            Decision::Queued { delay } => ("queued", fmt_secs_exact(delay.0)),
            Decision::Limited { retry_after, by } => {
                limited = format!("rate_limited_{}", by.name());
                (limited.as_str(), fmt_secs_exact(retry_after.0))
            }
            Decision::NeverFits => ("never_fits", String::new()),
        };
        let r = writeln!(
            self.out,
            "{},{},{},{},{},{},{},{},{},{},{},{},,{}",
            req.id,
            req.attempt(),
            fmt_secs_exact(now.0),
            self.names[req.stream as usize],
            req.tokens(),
            req.size.prompt,
            req.size.cached,
            req.size.image,
            req.size.completion,
            req.size.reasoning,
            outcome,
            retry_after,
            self.tier
        );
        if let Err(e) = r {
            self.error = Some(e);
        }
    }
    fn on_success(&mut self, now: SimTime, req: &Request) {
        self.inner.on_success(now, req);
    }
    fn on_give_up(&mut self, now: SimTime, req: &Request, cause: Cause) {
        self.inner.on_give_up(now, req, cause);
        if self.error.is_some() {
            return;
        }
        let r = writeln!(
            self.out,
            "{},{},{},{},,,,,,,gave_up,,{},{}",
            req.id,
            req.failures + u32::from(req.cancelled),
            fmt_secs_exact(now.0),
            self.names[req.stream as usize],
            cause.name(),
            self.tier
        );
        if let Err(e) = r {
            self.error = Some(e);
        }
    }
    fn on_never_fits(&mut self, now: SimTime, req: &Request) {
        self.inner.on_never_fits(now, req);
    }
    fn on_no_credit(&mut self, now: SimTime, req: &Request) {
        self.inner.on_no_credit(now, req);
        if self.error.is_some() {
            return;
        }
        let r = writeln!(
            self.out,
            "{},{},{},{},,,,,,,no_credit,,,{}",
            req.id,
            req.failures,
            fmt_secs_exact(now.0),
            self.names[req.stream as usize],
            self.tier
        );
        if let Err(e) = r {
            self.error = Some(e);
        }
    }
    fn on_server_error(&mut self, now: SimTime, req: &Request) {
        self.inner.on_server_error(now, req);
        if self.error.is_some() {
            return;
        }
        let r = writeln!(
            self.out,
            "{},{},{},{},,,,,,,server_error,,,{}",
            req.id,
            req.attempt(),
            fmt_secs_exact(now.0),
            self.names[req.stream as usize],
            self.tier
        );
        if let Err(e) = r {
            self.error = Some(e);
        }
    }
    fn on_tier_change(&mut self, now: SimTime, from: &str, to: &str) {
        self.inner.on_tier_change(now, from, to);
        self.tier = csv_field(to);
    }
}
