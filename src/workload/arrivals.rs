//! Open-loop arrival processes: requests arrive whatever the server answers. Each takes the
//! random stream it is given; nothing here knows about the queue, the limiter or metrics.
//! Closed-loop workers are not a process of this kind: the engine starts them and sends each
//! worker's next request when its previous one ends (see [`Workers`]).

use rand_distr::{Distribution, Exp1, Gamma};
use serde::Serialize;

use super::trace::{Replay, TraceSpec};
use super::{Size, ThinkTime};
use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};

/// How a stream's requests come.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "process")]
pub enum Process {
    /// Exponential gaps with mean 1/rate.
    Poisson { rate_per_sec: f64 },
    /// Evenly spaced: the k-th arrival (from 0) is at start + k/rate, rounded to the nanosecond.
    Constant { rate_per_sec: f64 },
    /// A two-state Markov-modulated Poisson process: Poisson at `rate_on` during on periods and
    /// at `rate_off` during off periods, whose lengths are exponential with the given means. The
    /// first state is drawn from the stationary shares (on with mean_on / (mean_on + mean_off)).
    #[serde(rename = "onoff")]
    OnOff {
        rate_on: f64,
        rate_off: f64,
        mean_on: SimDuration,
        mean_off: SimDuration,
    },
    /// A non-homogeneous Poisson process whose rate is piecewise linear through `points`
    /// ((seconds from the start, requests per second), the first at 0 s); after the last point
    /// the rate stays at its value, or with `repeat` the curve goes back linearly to the first
    /// point's rate at `repeat` and starts over (a day).
    Profile {
        points: Vec<(f64, f64)>,
        repeat: Option<SimDuration>,
    },
    /// Renewal arrivals with gamma-distributed gaps: mean 1/rate and coefficient of variation
    /// `cv` (1 is Poisson; above 1, burstier).
    Gamma { rate_per_sec: f64, cv: f64 },
    /// Closed loop: `count` workers, each sending its next request when its previous one ends
    /// (succeeded, gave up or never fit), after an optional think time.
    Workers(Workers),
    /// A request log replayed: each row's time and sizes (see [`super::trace`]).
    Trace(TraceSpec),
}

/// Closed-loop workers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Workers {
    pub count: u64,
    /// Pause between a request's end and the worker's next request.
    pub think: Option<ThinkTime>,
    /// Workers start evenly over this span (zero: all at the start, a thundering herd).
    pub ramp: SimDuration,
}

impl Process {
    /// The mean arrival rate in requests per second (for workers, none: it depends on the
    /// server, so this is `None`). A profile's mean is over one period (or its points).
    pub fn mean_rate_per_sec(&self) -> Option<f64> {
        match self {
            Process::Poisson { rate_per_sec }
            | Process::Constant { rate_per_sec }
            | Process::Gamma { rate_per_sec, .. } => Some(*rate_per_sec),
            Process::OnOff {
                rate_on,
                rate_off,
                mean_on,
                mean_off,
            } => {
                let (on, off) = (mean_on.as_secs_f64(), mean_off.as_secs_f64());
                Some((rate_on * on + rate_off * off) / (on + off))
            }
            Process::Profile { points, repeat } => {
                let p = Profile::new(points, *repeat);
                Some(if p.span > 0.0 {
                    p.total / p.span
                } else {
                    points[0].1
                })
            }
            Process::Workers(_) => None,
            Process::Trace(t) => {
                let span = t.span.as_secs_f64() / t.time_scale;
                Some(if span > 0.0 {
                    t.rows as f64 / span
                } else {
                    t.rows as f64
                })
            }
        }
    }

    /// The highest instantaneous arrival rate (workers: none).
    pub fn peak_rate_per_sec(&self) -> Option<f64> {
        match self {
            Process::OnOff {
                rate_on, rate_off, ..
            } => Some(rate_on.max(*rate_off)),
            Process::Profile { points, .. } => Some(points.iter().map(|p| p.1).fold(0.0, f64::max)),
            other => other.mean_rate_per_sec(),
        }
    }

    /// The same process with its rates multiplied by `factor` (load sweeps); workers get
    /// `factor` times as many workers (rounded, at least one).
    pub fn scaled(&self, factor: f64) -> Process {
        match self {
            Process::Poisson { rate_per_sec } => Process::Poisson {
                rate_per_sec: rate_per_sec * factor,
            },
            Process::Constant { rate_per_sec } => Process::Constant {
                rate_per_sec: rate_per_sec * factor,
            },
            Process::Gamma { rate_per_sec, cv } => Process::Gamma {
                rate_per_sec: rate_per_sec * factor,
                cv: *cv,
            },
            Process::OnOff {
                rate_on,
                rate_off,
                mean_on,
                mean_off,
            } => Process::OnOff {
                rate_on: rate_on * factor,
                rate_off: rate_off * factor,
                mean_on: *mean_on,
                mean_off: *mean_off,
            },
            Process::Profile { points, repeat } => Process::Profile {
                points: points.iter().map(|&(t, r)| (t, r * factor)).collect(),
                repeat: *repeat,
            },
            Process::Workers(w) => Process::Workers(Workers {
                count: ((w.count as f64 * factor).round() as u64).max(1),
                ..w.clone()
            }),
            Process::Trace(t) => Process::Trace(TraceSpec {
                time_scale: t.time_scale * factor,
                ..t.clone()
            }),
        }
    }
}

/// A process active on `[start, end)`, optionally limited to a number of requests.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArrivalSpec {
    #[serde(flatten)]
    pub process: Process,
    pub start: SimDuration,
    /// End of the active window; arrivals also stop at the scenario's duration.
    pub end: Option<SimDuration>,
    /// A finite job: the stream ends after this many requests.
    pub requests: Option<u64>,
}

/// A piecewise-linear rate curve, ready to invert its integral.
#[derive(Clone, Debug)]
struct Profile {
    /// Segments: (start s, length s, rate at start, rate at end, integral before it).
    segments: Vec<(f64, f64, f64, f64, f64)>,
    /// The integral over one period (or over the points, without repeat).
    total: f64,
    /// The period (or the last point's time, without repeat).
    span: f64,
    repeat: bool,
    /// Rate after the last point, without repeat.
    tail_rate: f64,
}

impl Profile {
    fn new(points: &[(f64, f64)], repeat: Option<SimDuration>) -> Profile {
        let mut knots: Vec<(f64, f64)> = points.to_vec();
        if let Some(p) = repeat {
            knots.push((p.as_secs_f64(), points[0].1));
        }
        let mut segments = Vec::with_capacity(knots.len());
        let mut total = 0.0;
        for w in knots.windows(2) {
            let ((t0, r0), (t1, r1)) = (w[0], w[1]);
            let len = t1 - t0;
            segments.push((t0, len, r0, r1, total));
            total += len * (r0 + r1) / 2.0;
        }
        Profile {
            segments,
            total,
            span: knots.last().map_or(0.0, |k| k.0),
            repeat: repeat.is_some(),
            tail_rate: points.last().map_or(0.0, |p| p.1),
        }
    }

    /// The integral of the rate from 0 to `t` seconds.
    fn integral(&self, t: f64) -> f64 {
        let (cycles, t) = if self.repeat && self.span > 0.0 {
            let c = (t / self.span).floor();
            (c, t - c * self.span)
        } else {
            (0.0, t)
        };
        let mut acc = cycles * self.total;
        if t >= self.span {
            return acc + self.total + (t - self.span) * self.tail_rate;
        }
        for &(t0, len, r0, r1, before) in &self.segments {
            if t < t0 + len {
                let x = t - t0;
                acc += before + r0 * x + (r1 - r0) * x * x / (2.0 * len);
                return acc;
            }
        }
        acc + self.total
    }

    /// The time (seconds) at which the integral reaches `target`, or `None` if it never does.
    fn inverse(&self, target: f64) -> Option<f64> {
        let (base, mut rest) = if self.repeat {
            if self.total <= 0.0 {
                return None;
            }
            let c = (target / self.total).floor();
            (c * self.span, target - c * self.total)
        } else {
            (0.0, target)
        };
        if !self.repeat && rest >= self.total {
            if self.tail_rate <= 0.0 {
                return None;
            }
            return Some(self.span + (rest - self.total) / self.tail_rate);
        }
        for &(t0, len, r0, r1, before) in &self.segments {
            let area = len * (r0 + r1) / 2.0;
            if rest - before <= area || t0 + len >= self.span {
                rest -= before;
                let slope = (r1 - r0) / len;
                // Solve r0 x + slope x^2 / 2 = rest, in the form that is stable for any slope.
                let disc = (r0 * r0 + 2.0 * slope * rest).max(0.0);
                let denom = r0 + disc.sqrt();
                let x = if denom > 0.0 { 2.0 * rest / denom } else { 0.0 };
                return Some(base + t0 + x.clamp(0.0, len));
            }
        }
        None
    }
}

/// Per-process state of an open-loop stream.
enum State {
    Plain,
    OnOff {
        on: bool,
        switch_at: SimTime,
    },
    Profile(Profile),
    Gamma(Gamma<f64>),
    /// Workers are started and restarted by the engine.
    Closed,
    /// A trace being read, and the sizes of the row of the arrival scheduled last.
    Trace(Box<Replay>, Option<Size>),
}

/// The state of one stream's arrivals during a run.
pub struct Arrivals {
    process: Process,
    state: State,
    start: SimTime,
    end: SimTime,
    /// Requests issued so far, and the most this stream may issue.
    count: u64,
    limit: u64,
    last: SimTime,
    initialised: bool,
}

/// Nanoseconds of `secs` seconds, rounded, saturating.
fn nanos(secs: f64) -> u64 {
    crate::time::round_to_u64(secs * NANOS_PER_SEC as f64)
}

impl Arrivals {
    /// Arrivals of `spec`, cut off at `horizon` (the scenario's duration).
    pub fn new(spec: &ArrivalSpec, horizon: SimDuration) -> Arrivals {
        let end = spec.end.map_or(horizon, |e| e.min(horizon));
        let state = match &spec.process {
            Process::Poisson { .. } | Process::Constant { .. } => State::Plain,
            Process::OnOff { .. } => State::OnOff {
                on: true,
                switch_at: SimTime(spec.start.0),
            },
            Process::Profile { points, repeat } => State::Profile(Profile::new(points, *repeat)),
            Process::Gamma { rate_per_sec, cv } => {
                let shape = 1.0 / (cv * cv);
                State::Gamma(
                    Gamma::new(shape, 1.0 / (rate_per_sec * shape))
                        .expect("validated: rate > 0, cv > 0"),
                )
            }
            Process::Workers(_) => State::Closed,
            Process::Trace(t) => State::Trace(Box::new(Replay::new(t)), None),
        };
        Arrivals {
            process: spec.process.clone(),
            state,
            start: SimTime(spec.start.0),
            end: SimTime(end.0),
            count: 0,
            limit: spec.requests.unwrap_or(u64::MAX),
            last: SimTime(spec.start.0),
            initialised: false,
        }
    }

    /// The sizes of the arrival scheduled last, when they come from a trace row (take them
    /// when that arrival happens, before asking for the next one).
    pub fn take_size(&mut self) -> Option<Size> {
        match &mut self.state {
            State::Trace(_, size) => size.take(),
            _ => None,
        }
    }

    /// Whether the stream is closed loop (its arrivals come from [`Arrivals::worker_start`] and
    /// [`Arrivals::worker_next`]).
    pub fn is_closed_loop(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Takes one request from the stream's budget at `t`, if the window and the limit allow.
    fn issue(&mut self, t: SimTime) -> Option<SimTime> {
        if t >= self.end || self.count >= self.limit {
            return None;
        }
        self.count += 1;
        self.last = t;
        Some(t)
    }

    /// The first requests of closed-loop workers: worker `i` of `n` starts at start + i/n of the
    /// ramp (all at the start without one). Returns their times (fewer if the job is smaller).
    pub fn worker_start(&mut self) -> Vec<SimTime> {
        let Process::Workers(w) = &self.process else {
            return Vec::new();
        };
        let (n, ramp) = (w.count, w.ramp.0);
        let mut out = Vec::new();
        for i in 0..n {
            let offset = (u128::from(ramp) * u128::from(i) / u128::from(n)) as u64;
            match self.issue(self.start.after(SimDuration(offset))) {
                Some(t) => out.push(t),
                None => break,
            }
        }
        out
    }

    /// A worker's next request after its previous one ended at `ended`, if the stream goes on.
    pub fn worker_next<R: rand::Rng + ?Sized>(
        &mut self,
        ended: SimTime,
        rng: &mut R,
    ) -> Option<SimTime> {
        let Process::Workers(w) = &self.process else {
            return None;
        };
        let think = w
            .think
            .as_ref()
            .map_or(SimDuration::ZERO, |d| d.sample(rng));
        self.issue(ended.after(think))
    }

    /// The next arrival time of an open-loop stream, or `None` once the window has closed
    /// (arrivals at `end` excluded) or the job's requests are all issued.
    pub fn next<R: rand::Rng + ?Sized>(&mut self, rng: &mut R) -> Option<SimTime> {
        if self.count >= self.limit {
            return None;
        }
        let t = match (&self.process, &mut self.state) {
            (Process::Constant { rate_per_sec }, _) => {
                let offset = (self.count as f64 * NANOS_PER_SEC as f64 / rate_per_sec).round();
                SimTime(
                    self.start
                        .0
                        .saturating_add(offset.min(u64::MAX as f64) as u64),
                )
            }
            (Process::Poisson { rate_per_sec }, _) => {
                let gap: f64 = Exp1.sample(rng);
                SimTime(self.last.0.saturating_add(nanos(gap / rate_per_sec)))
            }
            (Process::Gamma { .. }, State::Gamma(g)) => {
                let gap: f64 = g.sample(rng);
                SimTime(self.last.0.saturating_add(nanos(gap)))
            }
            (
                Process::OnOff {
                    rate_on,
                    rate_off,
                    mean_on,
                    mean_off,
                },
                State::OnOff { on, switch_at },
            ) => {
                let (on_s, off_s) = (mean_on.as_secs_f64(), mean_off.as_secs_f64());
                if !self.initialised {
                    // The first state from the stationary shares, then its (memoryless) length.
                    let u: f64 = rand::RngExt::random(rng);
                    *on = u < on_s / (on_s + off_s);
                    let mean = if *on { on_s } else { off_s };
                    let len: f64 = Exp1.sample(rng);
                    *switch_at = self.start.after(SimDuration(nanos(len * mean)));
                }
                // Exponential gaps are memoryless: at a switch, draw afresh at the new rate.
                let mut now = self.last;
                loop {
                    if now >= self.end {
                        break now;
                    }
                    let rate = if *on { *rate_on } else { *rate_off };
                    let candidate = if rate > 0.0 {
                        let gap: f64 = Exp1.sample(rng);
                        SimTime(now.0.saturating_add(nanos(gap / rate)))
                    } else {
                        SimTime(u64::MAX)
                    };
                    if candidate < *switch_at {
                        break candidate;
                    }
                    now = *switch_at;
                    *on = !*on;
                    let mean = if *on { on_s } else { off_s };
                    let len: f64 = Exp1.sample(rng);
                    *switch_at = now.after(SimDuration(nanos(len * mean).max(1)));
                }
            }
            (Process::Trace(_), State::Trace(replay, pending)) => {
                let (t, size) = replay.next_request()?;
                *pending = Some(size);
                self.start.after(SimDuration(t.0))
            }
            (Process::Profile { .. }, State::Profile(p)) => {
                // Time rescaling: the next arrival is where the integral of the rate has grown
                // by an Exp(1) draw since the last one.
                let since = self.last.since(self.start).as_secs_f64();
                let gap: f64 = Exp1.sample(rng);
                match p.inverse(p.integral(since) + gap) {
                    Some(s) => SimTime(self.start.0.saturating_add(nanos(s))),
                    None => return None,
                }
            }
            _ => return None,
        };
        self.initialised = true;
        self.issue(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    fn rng() -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(1)
    }

    fn spec(process: Process) -> ArrivalSpec {
        ArrivalSpec {
            process,
            start: SimDuration::ZERO,
            end: None,
            requests: None,
        }
    }

    fn times(spec: &ArrivalSpec, horizon_s: u64, seed: u64) -> Vec<SimTime> {
        let mut a = Arrivals::new(spec, SimDuration::from_secs(horizon_s));
        let mut r = Xoshiro256PlusPlus::seed_from_u64(seed);
        std::iter::from_fn(|| a.next(&mut r)).collect()
    }

    #[test]
    fn constant_arrivals_are_evenly_spaced_without_drift() {
        let t = times(&spec(Process::Constant { rate_per_sec: 3.0 }), 100, 1);
        assert_eq!(t.len(), 300);
        assert_eq!(t[1], SimTime(333_333_333));
        assert_eq!(t[2], SimTime(666_666_667));
        assert_eq!(t[299], SimTime(99_666_666_667));
    }

    #[test]
    fn windows_start_late_and_end_early() {
        let s = ArrivalSpec {
            start: SimDuration::from_secs(5),
            end: Some(SimDuration::from_secs(7)),
            ..spec(Process::Constant { rate_per_sec: 10.0 })
        };
        let t = times(&s, 100, 1);
        assert_eq!(t.len(), 20);
        assert_eq!(t[0], SimTime(5 * NANOS_PER_SEC));
    }

    #[test]
    fn a_finite_job_stops_after_its_requests() {
        let s = ArrivalSpec {
            requests: Some(17),
            ..spec(Process::Poisson { rate_per_sec: 50.0 })
        };
        assert_eq!(times(&s, 1_000, 3).len(), 17);
    }

    #[test]
    fn poisson_counts_have_the_right_mean_and_variance() {
        let s = spec(Process::Poisson { rate_per_sec: 50.0 });
        let mut r = rng();
        let (mut sum, mut sum2) = (0.0, 0.0);
        let n = 400;
        for _ in 0..n {
            let mut a = Arrivals::new(&s, SimDuration::from_secs(1));
            let c = std::iter::from_fn(|| a.next(&mut r)).count() as f64;
            sum += c;
            sum2 += c * c;
        }
        let mean = sum / n as f64;
        let var = sum2 / n as f64 - mean * mean;
        // Mean 50 with sd of the mean sqrt(50/400) = 0.35; variance of a Poisson equals its mean.
        assert!((mean - 50.0).abs() < 1.5, "mean {mean}");
        assert!((var - 50.0).abs() < 15.0, "var {var}");
    }

    /// Mean and coefficient of variation of the gaps between arrivals.
    fn gap_stats(t: &[SimTime]) -> (f64, f64) {
        let gaps: Vec<f64> = t
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) as f64 / 1e9)
            .collect();
        let n = gaps.len() as f64;
        let mean = gaps.iter().sum::<f64>() / n;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt() / mean)
    }

    #[test]
    fn gamma_gaps_have_the_mean_and_cv_asked_for() {
        for cv in [0.5, 1.0, 3.0] {
            let t = times(
                &spec(Process::Gamma {
                    rate_per_sec: 20.0,
                    cv,
                }),
                20_000,
                7,
            );
            let (mean, got) = gap_stats(&t);
            // 400,000 gaps: the mean within 1 %, the cv within 3 %.
            assert!((mean - 0.05).abs() < 0.0005, "cv {cv}: mean gap {mean}");
            assert!((got - cv).abs() < 0.03 * cv, "cv {cv}: got {got}");
        }
    }

    #[test]
    fn onoff_has_its_mean_rate_and_is_burstier_than_poisson() {
        let p = Process::OnOff {
            rate_on: 40.0,
            rate_off: 0.0,
            mean_on: SimDuration::from_secs(10),
            mean_off: SimDuration::from_secs(30),
        };
        assert_eq!(p.mean_rate_per_sec(), Some(10.0));
        let t = times(&spec(p), 40_000, 11);
        let rate = t.len() as f64 / 40_000.0;
        // About 1,000 on periods: the count's relative sd is about 3 %.
        assert!((rate - 10.0).abs() < 1.0, "rate {rate}");
        let (_, cv) = gap_stats(&t);
        assert!(cv > 1.5, "gaps must be burstier than Poisson: cv {cv}");
    }

    #[test]
    fn a_profile_follows_its_rate_curve() {
        // 0 -> 10/s over 100 s, then back to 0 at 200 s, repeating.
        let p = Profile::new(
            &[(0.0, 0.0), (100.0, 10.0)],
            Some(SimDuration::from_secs(200)),
        );
        assert!((p.total - 1000.0).abs() < 1e-9);
        assert!((p.integral(100.0) - 500.0).abs() < 1e-9);
        assert!((p.integral(250.0) - (1000.0 + 125.0)).abs() < 1e-9);
        for target in [0.5, 10.0, 499.0, 500.0, 800.0, 1500.0, 2125.0] {
            let t = p.inverse(target).unwrap();
            assert!((p.integral(t) - target).abs() < 1e-6, "{target}: {t}");
        }
        let s = spec(Process::Profile {
            points: vec![(0.0, 0.0), (100.0, 10.0)],
            repeat: Some(SimDuration::from_secs(200)),
        });
        let t = times(&s, 2_000, 5);
        // Ten periods of 1,000 expected arrivals: 10,000 +- 3 sd (300).
        assert!((t.len() as f64 - 10_000.0).abs() < 300.0, "{}", t.len());
        // Counts in windows match the integral of the rate: 190 per period between 90 and
        // 110 s (the peak), 40 per period in the 20 s either side of the trough; within 4 sd.
        let phase = |x: &SimTime| (x.0 / NANOS_PER_SEC) % 200;
        let peak = t.iter().filter(|x| (90..110).contains(&phase(x))).count() as f64;
        let trough = t
            .iter()
            .filter(|x| phase(x) < 20 || phase(x) >= 180)
            .count() as f64;
        assert!((peak - 1900.0).abs() < 4.0 * 1900f64.sqrt(), "peak {peak}");
        assert!((trough - 400.0).abs() < 4.0 * 20.0, "trough {trough}");
    }
}
