//! The limiter algorithms a dimension (requests or tokens) can be enforced with, each exact in
//! integers. A dimension has a capacity `C` and a rate `R` per period `P` (one second for
//! requests, one minute for tokens); window algorithms allow `L = C` per window `W = C / R · P`
//! (one second of RPS, one minute of TPM, or one quantum).
//!
//! Scaled units, as the continuous bucket's: amounts are milli-units × P (ns), so that a refill
//! of `R` milli-units per period is exactly `R` per nanosecond; a GCRA or queue time `t` is
//! held as `t_ns × R`, in the same units.

use std::collections::VecDeque;

use serde::Serialize;

use super::{HeaderDim, TokenBucket};
use crate::catalog::Milli;
use crate::time::{SimDuration, SimTime};

/// How a dimension is enforced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Algorithm {
    /// A continuous token bucket (the default): capacity C, refilled at R per period.
    TokenBucket,
    /// GCRA (governor, redis-cell): one theoretical arrival time; admits exactly what the
    /// continuous bucket admits.
    Gcra,
    /// A bucket refilled in lumps: R × interval / P every `interval` (Envoy's fill interval).
    DiscreteRefill { interval: SimDuration },
    /// At most L per aligned window of W.
    FixedWindow,
    /// At most L in any trailing W (a log of every admission in the window).
    SlidingLog,
    /// Cloudflare's estimate: previous window × (1 − elapsed / W) + current window ≤ L.
    SlidingCounter,
    /// A queue drained at R (nginx `limit_req`): an attempt waits behind those queued, up to
    /// C of them, then is refused; `nodelay` sends it at once but still takes its slot.
    LeakyQueue { nodelay: bool },
}

impl Algorithm {
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::TokenBucket => "token-bucket",
            Algorithm::Gcra => "gcra",
            Algorithm::DiscreteRefill { .. } => "discrete-refill",
            Algorithm::FixedWindow => "fixed-window",
            Algorithm::SlidingLog => "sliding-log",
            Algorithm::SlidingCounter => "sliding-counter",
            Algorithm::LeakyQueue { nodelay: false } => "leaky-queue",
            Algorithm::LeakyQueue { nodelay: true } => "leaky-queue-nodelay",
        }
    }
}

/// What a dimension says of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// It fits: now, or (a leaky queue) after this delay.
    Fits(SimDuration),
    /// Not now: it would fit after this wait, if nothing else came.
    Wait(SimDuration),
    /// It costs more than the capacity: never.
    Never,
}

fn ceil_div(a: i128, b: i128) -> u64 {
    if a <= 0 {
        // Callers pass a positive amount; kept exact for any other.
        return u64::try_from((a + b - 1) / b).unwrap_or(u64::MAX);
    }
    super::ceil_div_pos(a, b)
}

/// The shared shape of a dimension, in scaled units.
#[derive(Clone, Copy, Debug)]
struct Shape {
    /// C × P.
    capacity: i128,
    /// R (refill per ns, scaled).
    rate: i128,
    /// P in ns.
    period: i128,
}

impl Shape {
    fn new(capacity: Milli, rate: Milli, period: SimDuration) -> Shape {
        let period = i128::from(period.0);
        Shape {
            capacity: i128::from(capacity.0) * period,
            rate: i128::from(rate.0),
            period,
        }
    }

    fn unit(&self) -> i128 {
        1000 * self.period
    }

    /// The window W = C / R · P, in ns (at least 1).
    fn window(&self) -> u64 {
        u64::try_from((self.capacity / self.rate).max(1)).unwrap_or(u64::MAX)
    }
}

/// GCRA: `tat` is the theoretical arrival time × R.
#[derive(Clone, Debug)]
pub struct Gcra {
    s: Shape,
    tat: i128,
}

impl Gcra {
    fn check(&self, now: SimTime, cost: u64) -> Answer {
        let c = i128::from(cost) * self.s.unit();
        if c > self.s.capacity {
            return Answer::Never;
        }
        let now_s = i128::from(now.0) * self.s.rate;
        let over = self.tat.max(now_s) + c - now_s - self.s.capacity;
        if over <= 0 {
            Answer::Fits(SimDuration::ZERO)
        } else {
            Answer::Wait(SimDuration(ceil_div(over, self.s.rate)))
        }
    }

    fn debit(&mut self, now: SimTime, cost: u64, allow_debt: bool) {
        let now_s = i128::from(now.0) * self.s.rate;
        let c = i128::from(cost) * self.s.unit();
        let tat = self.tat.max(now_s) + c;
        // Debt (counted rejections) down to minus the capacity, as the bucket's.
        let most = now_s + if allow_debt { 2 } else { 1 } * self.s.capacity;
        self.tat = tat.min(most.max(self.tat));
    }

    fn deficit(&self, now: SimTime) -> i128 {
        (self.tat - i128::from(now.0) * self.s.rate).max(0)
    }
}

/// A bucket refilled by `per_fill` (scaled) at every multiple of `interval`.
#[derive(Clone, Debug)]
pub struct Discrete {
    s: Shape,
    interval: u64,
    per_fill: i128,
    level: i128,
    /// Index of the last fill applied.
    fills: u64,
}

impl Discrete {
    fn refill(&mut self, now: SimTime) {
        let k = now.0 / self.interval;
        if k > self.fills {
            let n = i128::from(k - self.fills);
            self.level = (self.level + n.saturating_mul(self.per_fill)).min(self.s.capacity);
            self.fills = k;
        }
    }

    fn check(&mut self, now: SimTime, cost: u64) -> Answer {
        self.refill(now);
        let c = i128::from(cost) * self.s.unit();
        if c > self.s.capacity {
            return Answer::Never;
        }
        if self.level >= c {
            return Answer::Fits(SimDuration::ZERO);
        }
        let n =
            u64::try_from((c - self.level + self.per_fill - 1) / self.per_fill).unwrap_or(u64::MAX);
        let at = (self.fills.saturating_add(n)).saturating_mul(self.interval);
        Answer::Wait(SimDuration(at - now.0))
    }

    fn debit(&mut self, now: SimTime, cost: u64, allow_debt: bool) {
        self.refill(now);
        let floor = if allow_debt { -self.s.capacity } else { 0 };
        self.level = (self.level - i128::from(cost) * self.s.unit()).max(floor);
    }
}

/// Windows: fixed, sliding log, sliding counter. `used` counts in milli-units.
#[derive(Clone, Debug)]
pub struct Windows {
    kind: WindowKind,
    /// L in milli-units.
    limit: i128,
    /// W in ns.
    window: u64,
    /// The period of the cap's rate, in ns (W = C / R · P).
    period: u64,
    /// Start of the current aligned window (fixed, counter).
    start: u64,
    used: i128,
    /// The previous aligned window's count (counter).
    prev: i128,
    /// (time, milli-units) of admissions in the trailing window (log).
    log: VecDeque<(u64, i128)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WindowKind {
    Fixed,
    Log,
    Counter,
}

impl Windows {
    fn advance(&mut self, now: SimTime) {
        match self.kind {
            WindowKind::Log => {
                while self
                    .log
                    .front()
                    .is_some_and(|(t, _)| t.saturating_add(self.window) <= now.0)
                {
                    let (_, c) = self.log.pop_front().expect("peeked");
                    self.used -= c;
                }
            }
            WindowKind::Fixed | WindowKind::Counter => {
                let start = now.0 / self.window * self.window;
                if start > self.start {
                    let passed = (start - self.start) / self.window;
                    (self.prev, self.used) = self.after(passed);
                    self.start = start;
                }
            }
        }
    }

    /// (previous, current) counts `k >= 1` windows after the current one, if nothing is
    /// admitted meanwhile. A count above the limit (a later charge, counted refusals) is debt:
    /// each window that passes pays back one limit of it, and the rest is carried.
    fn after(&self, k: u64) -> (i128, i128) {
        let k = i128::from(k.min(1 << 40));
        let debt = (self.used - self.limit).max(0);
        let carried = |j: i128| (debt - self.limit * (j - 1)).max(0);
        let prev = if k == 1 {
            self.used.min(self.limit)
        } else {
            carried(k - 1).min(self.limit)
        };
        (prev, carried(k))
    }

    /// The first window (counted from the current one, >= 1) whose carried count leaves room
    /// for `c` (<= L).
    fn first_free_window(&self, c: i128) -> u64 {
        let debt = (self.used - self.limit).max(0);
        if debt == 0 {
            return 1;
        }
        // carried(k) + c <= L  <=>  k - 1 >= (debt - L + c) / L
        let need = (debt - self.limit + c).max(0);
        1 + u64::try_from((need + self.limit - 1) / self.limit).unwrap_or(u64::MAX / 2)
    }

    /// The counter's estimate at `now` plus `c`, against L: `prev·(W − e) + (used + c)·W`.
    fn counter_over(&self, now: u64, c: i128) -> i128 {
        let w = i128::from(self.window);
        let e = i128::from(now - self.start).min(w);
        self.prev * (w - e) + (self.used + c) * w - self.limit * w
    }

    fn check(&mut self, now: SimTime, cost: u64) -> Answer {
        self.advance(now);
        let c = i128::from(cost) * 1000;
        if c > self.limit {
            return Answer::Never;
        }
        match self.kind {
            WindowKind::Fixed => {
                if self.used + c <= self.limit {
                    Answer::Fits(SimDuration::ZERO)
                } else {
                    let k = self.first_free_window(c);
                    let at = self.start.saturating_add(k.saturating_mul(self.window));
                    Answer::Wait(SimDuration(at - now.0))
                }
            }
            WindowKind::Log => {
                let mut over = self.used + c - self.limit;
                if over <= 0 {
                    return Answer::Fits(SimDuration::ZERO);
                }
                for (t, x) in &self.log {
                    over -= x;
                    if over <= 0 {
                        return Answer::Wait(SimDuration(t + self.window - now.0));
                    }
                }
                unreachable!("c <= L, so the whole log expiring makes room")
            }
            WindowKind::Counter => {
                if self.counter_over(now.0, c) <= 0 {
                    return Answer::Fits(SimDuration::ZERO);
                }
                // Later in this window the previous one weighs less; in the next the current
                // becomes the previous; two windows on, nothing is left.
                let w = i128::from(self.window);
                let first = |prev: i128, used: i128, start: u64| -> Option<u64> {
                    // prev·(W − e) ≤ (L − used − c)·W
                    let room = (self.limit - used - c) * w;
                    if room < 0 {
                        return None;
                    }
                    if prev == 0 {
                        return Some(start);
                    }
                    let e = (w - room / prev).max(0);
                    // e may round down: step up until it holds.
                    let mut e = e;
                    while prev * (w - e) > room {
                        e += 1;
                    }
                    Some(start + u64::try_from(e).unwrap_or(0))
                };
                let window_at = |k: u64| self.start.saturating_add(k.saturating_mul(self.window));
                let mut at = first(self.prev, self.used, self.start)
                    .filter(|t| *t < self.start + self.window && *t >= now.0);
                // Later windows: from the first whose carried count leaves room, back one
                // (the previous count may still weigh), up to two after it.
                let k0 = self.first_free_window(c);
                let mut k = k0.saturating_sub(1).max(1);
                while at.is_none() && k <= k0 + 2 {
                    let (prev, used) = self.after(k);
                    at = first(prev, used, window_at(k)).filter(|t| *t < window_at(k + 1));
                    k += 1;
                }
                let at = at.unwrap_or_else(|| window_at(k0 + 2));
                Answer::Wait(SimDuration(at.max(now.0) - now.0))
            }
        }
    }

    fn debit(&mut self, now: SimTime, cost: u64) {
        self.advance(now);
        let c = i128::from(cost) * 1000;
        self.used += c;
        if self.kind == WindowKind::Log {
            self.log.push_back((now.0, c));
        }
    }

    fn header(&mut self, now: SimTime) -> HeaderDim {
        self.advance(now);
        let used = match self.kind {
            WindowKind::Counter => {
                let w = i128::from(self.window);
                let e = i128::from(now.0 - self.start).min(w);
                (self.prev * (w - e) + self.used * w + w - 1) / w
            }
            _ => self.used,
        };
        let reset = match self.kind {
            WindowKind::Fixed if self.used > 0 => self.start + self.window - now.0,
            WindowKind::Log => self.log.back().map_or(0, |(t, _)| t + self.window - now.0),
            WindowKind::Counter if self.used > 0 => self.start + 2 * self.window - now.0,
            WindowKind::Counter if self.prev > 0 => self.start + self.window - now.0,
            _ => 0,
        };
        HeaderDim {
            limit: u64::try_from(self.limit / 1000).unwrap_or(0),
            remaining: u64::try_from(((self.limit - used) / 1000).max(0)).unwrap_or(0),
            reset: SimDuration(reset),
        }
    }
}

/// A queue drained at R: `free` is when (× R) the queue will have drained.
#[derive(Clone, Debug)]
pub struct Leaky {
    s: Shape,
    free: i128,
    nodelay: bool,
}

impl Leaky {
    fn check(&self, now: SimTime, cost: u64) -> Answer {
        let c = i128::from(cost) * self.s.unit();
        if c > self.s.capacity {
            return Answer::Never;
        }
        let now_s = i128::from(now.0) * self.s.rate;
        let ahead = (self.free - now_s).max(0);
        let over = ahead + c - self.s.capacity;
        if over > 0 {
            return Answer::Wait(SimDuration(ceil_div(over, self.s.rate)));
        }
        if self.nodelay || ahead == 0 {
            Answer::Fits(SimDuration::ZERO)
        } else {
            Answer::Fits(SimDuration(ceil_div(ahead, self.s.rate)))
        }
    }

    fn debit(&mut self, now: SimTime, cost: u64) {
        let now_s = i128::from(now.0) * self.s.rate;
        self.free = self.free.max(now_s) + i128::from(cost) * self.s.unit();
    }
}

/// One dimension's limiter.
#[derive(Clone, Debug)]
pub enum Dim {
    Bucket(TokenBucket),
    Gcra(Gcra),
    Discrete(Discrete),
    Windows(Windows),
    Leaky(Leaky),
}

impl Dim {
    /// A dimension of capacity `capacity`, rate `rate` per `period`, holding `initial`
    /// thousandths of its capacity at time zero.
    pub fn new(
        algorithm: Algorithm,
        capacity: Milli,
        rate: Milli,
        period: SimDuration,
        initial: Milli,
    ) -> Dim {
        let s = Shape::new(capacity, rate, period);
        let share = i128::from(initial.0.min(1000));
        let level = s.capacity * share / 1000;
        match algorithm {
            Algorithm::TokenBucket => {
                Dim::Bucket(TokenBucket::new(capacity, rate, period).starting_at(initial))
            }
            Algorithm::Gcra => Dim::Gcra(Gcra {
                s,
                tat: s.capacity - level,
            }),
            Algorithm::DiscreteRefill { interval } => {
                let interval = interval.0.max(1);
                Dim::Discrete(Discrete {
                    s,
                    interval,
                    per_fill: (s.rate * i128::from(interval)).max(1),
                    level,
                    fills: 0,
                })
            }
            Algorithm::FixedWindow | Algorithm::SlidingLog | Algorithm::SlidingCounter => {
                let kind = match algorithm {
                    Algorithm::FixedWindow => WindowKind::Fixed,
                    Algorithm::SlidingLog => WindowKind::Log,
                    _ => WindowKind::Counter,
                };
                let limit = i128::from(capacity.0);
                let window = s.window();
                // A window that starts part used: the used part counts in the first window
                // (and, for the log, as one admission at time zero).
                let used = limit - limit * share / 1000;
                let mut log = VecDeque::new();
                if kind == WindowKind::Log && used > 0 {
                    log.push_back((0, used));
                }
                Dim::Windows(Windows {
                    kind,
                    limit,
                    window,
                    period: period.0,
                    start: 0,
                    used,
                    prev: 0,
                    log,
                })
            }
            Algorithm::LeakyQueue { nodelay } => Dim::Leaky(Leaky {
                s,
                free: s.capacity - level,
                nodelay,
            }),
        }
    }

    #[inline]
    pub fn check(&mut self, now: SimTime, cost: u64) -> Answer {
        match self {
            Dim::Bucket(b) => match b.wait_for(now, cost) {
                None => Answer::Never,
                Some(SimDuration::ZERO) => Answer::Fits(SimDuration::ZERO),
                Some(w) => Answer::Wait(w),
            },
            Dim::Gcra(g) => g.check(now, cost),
            Dim::Discrete(d) => d.check(now, cost),
            Dim::Windows(w) => w.check(now, cost),
            Dim::Leaky(l) => l.check(now, cost),
        }
    }

    #[inline]
    pub fn debit(&mut self, now: SimTime, cost: u64, allow_debt: bool) {
        match self {
            Dim::Bucket(b) => b.debit(now, cost, allow_debt),
            Dim::Gcra(g) => g.debit(now, cost, allow_debt),
            Dim::Discrete(d) => d.debit(now, cost, allow_debt),
            Dim::Windows(w) => {
                w.debit(now, cost);
                if allow_debt {
                    // Counted refusals: debt down to one window's limit, as a bucket's.
                    w.used = w.used.min(2 * w.limit);
                }
            }
            Dim::Leaky(l) => l.debit(now, cost),
        }
    }

    pub fn header(&mut self, now: SimTime) -> HeaderDim {
        let bucket_like = |capacity: i128, level: i128, rate: i128, unit: i128| HeaderDim {
            limit: u64::try_from(capacity / unit).unwrap_or(u64::MAX),
            remaining: u64::try_from(level.max(0) / unit).unwrap_or(0),
            reset: SimDuration(if level >= capacity {
                0
            } else {
                ceil_div(capacity - level, rate)
            }),
        };
        match self {
            Dim::Bucket(b) => b.header(now),
            Dim::Gcra(g) => {
                let level = g.s.capacity - g.deficit(now);
                bucket_like(g.s.capacity, level, g.s.rate, g.s.unit())
            }
            Dim::Discrete(d) => {
                d.refill(now);
                let mut h = bucket_like(d.s.capacity, d.level, d.s.rate, d.s.unit());
                if d.level < d.s.capacity {
                    let n = (d.s.capacity - d.level + d.per_fill - 1) / d.per_fill;
                    let at = (d.fills + u64::try_from(n).unwrap_or(0)) * d.interval;
                    h.reset = SimDuration(at - now.0);
                }
                h
            }
            Dim::Windows(w) => w.header(now),
            Dim::Leaky(l) => {
                let now_s = i128::from(now.0) * l.s.rate;
                let level = l.s.capacity - (l.free - now_s).max(0);
                bucket_like(l.s.capacity, level, l.s.rate, l.s.unit())
            }
        }
    }

    /// Charges `cost` after the fact (output tokens as produced, a settlement): unlike a
    /// debit, the debt has no floor, so every charged unit is paid back before the dimension
    /// admits again.
    pub fn charge(&mut self, now: SimTime, cost: u64) {
        match self {
            Dim::Bucket(b) => b.charge(now, cost),
            Dim::Gcra(g) => {
                let now_s = i128::from(now.0) * g.s.rate;
                g.tat = g.tat.max(now_s) + i128::from(cost) * g.s.unit();
            }
            Dim::Discrete(d) => {
                d.refill(now);
                d.level -= i128::from(cost) * d.s.unit();
            }
            Dim::Windows(w) => w.debit(now, cost),
            Dim::Leaky(l) => l.debit(now, cost),
        }
    }

    /// Gives `units` back (a refund of reserved tokens): never beyond an empty dimension.
    pub fn credit(&mut self, now: SimTime, units: u64) {
        match self {
            Dim::Bucket(b) => b.credit(now, units),
            Dim::Gcra(g) => {
                let now_s = i128::from(now.0) * g.s.rate;
                g.tat = (g.tat - i128::from(units) * g.s.unit()).max(now_s);
            }
            Dim::Discrete(d) => {
                d.refill(now);
                d.level = (d.level + i128::from(units) * d.s.unit()).min(d.s.capacity);
            }
            Dim::Windows(w) => {
                // The refund comes off the current window's count (validation refuses it
                // for the sliding log).
                w.advance(now);
                w.used = (w.used - i128::from(units) * 1000).max(0);
            }
            Dim::Leaky(l) => {
                let now_s = i128::from(now.0) * l.s.rate;
                l.free = (l.free - i128::from(units) * l.s.unit()).max(now_s);
            }
        }
    }

    /// Whether `cost` units can ever pass.
    pub fn fits(&self, cost: u64) -> bool {
        let c = i128::from(cost) * 1000;
        match self {
            Dim::Bucket(b) => b.fits(cost),
            Dim::Gcra(Gcra { s, .. })
            | Dim::Discrete(Discrete { s, .. })
            | Dim::Leaky(Leaky { s, .. }) => c * s.period <= s.capacity,
            Dim::Windows(w) => c <= w.limit,
        }
    }

    /// New capacity and rate from `now` on (a tier change): the continuous bucket keeps its
    /// level capped at the new capacity; the others keep their state and take the new limits.
    pub fn retune(&mut self, now: SimTime, capacity: Milli, rate: Milli) {
        match self {
            Dim::Bucket(b) => b.retune(now, capacity, rate),
            Dim::Gcra(g) => {
                let level =
                    (g.s.capacity - g.deficit(now)).min(i128::from(capacity.0) * g.s.period);
                g.s = Shape::new(capacity, rate, SimDuration(g.s.period as u64));
                g.tat = i128::from(now.0) * g.s.rate + (g.s.capacity - level);
            }
            Dim::Discrete(d) => {
                d.refill(now);
                d.s = Shape::new(capacity, rate, SimDuration(d.s.period as u64));
                d.per_fill = (d.s.rate * i128::from(d.interval)).max(1);
                d.level = d.level.min(d.s.capacity);
            }
            Dim::Windows(w) => {
                // Counts are kept; the limit and the window (C / R) take the new values, and
                // the current window restarts on the new grid.
                w.advance(now);
                w.limit = i128::from(capacity.0);
                w.window = Shape::new(capacity, rate, SimDuration(w.period)).window();
                if w.kind != WindowKind::Log {
                    w.start = now.0 / w.window * w.window;
                }
            }
            Dim::Leaky(l) => {
                let now_s = i128::from(now.0) * l.s.rate;
                let ahead = (l.free - now_s).max(0);
                let queued = ahead; // scaled by the old rate: units × unit
                l.s = Shape::new(capacity, rate, SimDuration(l.s.period as u64));
                l.free = i128::from(now.0) * l.s.rate + queued.min(l.s.capacity);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    const S: u64 = 1_000_000_000;

    fn at_ms(ms: u64) -> SimTime {
        SimTime(ms * 1_000_000)
    }

    /// A requests dimension: capacity `cap`, `rate` per second.
    fn dim(a: Algorithm, cap: u64, rate: u64) -> Dim {
        Dim::new(
            a,
            Milli::from_units(cap),
            Milli::from_units(rate),
            SimDuration(S),
            Milli::from_units(1),
        )
    }

    /// Sends one unit at `t`; returns the answer, debiting if it fits.
    fn send(d: &mut Dim, t: SimTime) -> Answer {
        let a = d.check(t, 1);
        if let Answer::Fits(_) = a {
            d.debit(t, 1, false);
        }
        a
    }

    const ALL: [Algorithm; 8] = [
        Algorithm::TokenBucket,
        Algorithm::Gcra,
        Algorithm::DiscreteRefill {
            interval: SimDuration(250_000_000),
        },
        Algorithm::FixedWindow,
        Algorithm::SlidingLog,
        Algorithm::SlidingCounter,
        Algorithm::LeakyQueue { nodelay: false },
        Algorithm::LeakyQueue { nodelay: true },
    ];

    #[test]
    fn a_fixed_window_admits_twice_its_limit_across_a_boundary_and_a_log_does_not() {
        let mut fixed = dim(Algorithm::FixedWindow, 10, 10);
        let mut log = dim(Algorithm::SlidingLog, 10, 10);
        let fits = |a: Answer| matches!(a, Answer::Fits(_));
        let mut f = 0;
        let mut l = 0;
        for t in [999, 1000] {
            for _ in 0..10 {
                f += usize::from(fits(send(&mut fixed, at_ms(t))));
                l += usize::from(fits(send(&mut log, at_ms(t))));
            }
        }
        assert_eq!(f, 20, "10 at 0.999 s and 10 more at 1.000 s");
        assert_eq!(l, 10);
        // The log's next room: when the first of those expires, 1 s after it.
        assert_eq!(
            log.check(at_ms(1000), 1),
            Answer::Wait(SimDuration(999 * 1_000_000))
        );
        assert_eq!(
            fixed.check(at_ms(1500), 1),
            Answer::Wait(SimDuration(500 * 1_000_000))
        );
    }

    #[test]
    fn the_sliding_counter_weighs_the_previous_window_by_hand() {
        let mut c = dim(Algorithm::SlidingCounter, 10, 10);
        for _ in 0..10 {
            assert!(matches!(send(&mut c, at_ms(500)), Answer::Fits(_)));
        }
        // At 1.25 s: 10 x 0.75 = 7.5 in use; two more fit (8.5, 9.5), a third does not.
        assert!(matches!(send(&mut c, at_ms(1250)), Answer::Fits(_)));
        assert!(matches!(send(&mut c, at_ms(1250)), Answer::Fits(_)));
        // It needs 10 x (1 - e) + 3 <= 10: e >= 0.3, at 1.3 s.
        assert_eq!(
            c.check(at_ms(1250), 1),
            Answer::Wait(SimDuration(50 * 1_000_000))
        );
        assert!(matches!(c.check(at_ms(1300), 1), Answer::Fits(_)));
    }

    #[test]
    fn discrete_refill_adds_in_lumps() {
        let mut d = dim(
            Algorithm::DiscreteRefill {
                interval: SimDuration(S),
            },
            5,
            5,
        );
        for _ in 0..5 {
            assert!(matches!(send(&mut d, at_ms(100)), Answer::Fits(_)));
        }
        assert_eq!(
            d.check(at_ms(100), 1),
            Answer::Wait(SimDuration(900 * 1_000_000))
        );
        // Nothing trickles in before the fill; all five come back at 1 s.
        assert!(matches!(d.check(at_ms(999), 1), Answer::Wait(_)));
        for _ in 0..5 {
            assert!(matches!(send(&mut d, at_ms(1000)), Answer::Fits(_)));
        }
    }

    #[test]
    fn a_leaky_queue_delays_then_refuses_and_nodelay_sends_at_once() {
        let mut q = dim(Algorithm::LeakyQueue { nodelay: false }, 3, 2);
        let got: Vec<Answer> = (0..4).map(|_| send(&mut q, SimTime::ZERO)).collect();
        assert_eq!(
            got,
            [
                Answer::Fits(SimDuration::ZERO),
                Answer::Fits(SimDuration(S / 2)),
                Answer::Fits(SimDuration(S)),
                Answer::Wait(SimDuration(S / 2)),
            ]
        );
        let mut n = dim(Algorithm::LeakyQueue { nodelay: true }, 3, 2);
        let got: Vec<Answer> = (0..4).map(|_| send(&mut n, SimTime::ZERO)).collect();
        assert_eq!(got[..3], [Answer::Fits(SimDuration::ZERO); 3]);
        assert_eq!(got[3], Answer::Wait(SimDuration(S / 2)));
    }

    #[test]
    fn a_cost_above_the_capacity_never_fits_under_any_algorithm() {
        for a in ALL {
            let mut d = dim(a, 5, 5);
            assert_eq!(d.check(SimTime::ZERO, 6), Answer::Never, "{a:?}");
            assert!(!d.fits(6) && d.fits(5), "{a:?}");
        }
    }

    #[test]
    fn gcra_admits_exactly_what_the_continuous_bucket_admits() {
        let mut r = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(9);
        for _ in 0..20 {
            let cap = 1 + r.next_u64() % 20;
            let rate = 1 + r.next_u64() % 50;
            let mut b = dim(Algorithm::TokenBucket, cap, rate);
            let mut g = dim(Algorithm::Gcra, cap, rate);
            let mut t = 0u64;
            for _ in 0..2000 {
                t += r.next_u64() % (S / rate);
                let cost = 1 + r.next_u64() % cap;
                let (x, y) = (b.check(SimTime(t), cost), g.check(SimTime(t), cost));
                assert_eq!(x, y, "cap {cap} rate {rate} t {t} cost {cost}");
                if let Answer::Fits(_) = x {
                    b.debit(SimTime(t), cost, false);
                    g.debit(SimTime(t), cost, false);
                }
                assert_eq!(b.header(SimTime(t)), g.header(SimTime(t)));
            }
        }
    }

    #[test]
    fn retry_after_is_exact_and_headers_agree_with_the_next_decision() {
        let mut r = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(4);
        for a in ALL {
            let mut d = dim(a, 7, 5);
            let mut t = 0u64;
            for _ in 0..3000 {
                t += r.next_u64() % (S / 8);
                let now = SimTime(t);
                // Headers: one more unit fits exactly when the header says one remains.
                let h = d.header(now);
                let a1 = d.check(now, 1);
                assert_eq!(
                    h.remaining >= 1,
                    matches!(a1, Answer::Fits(_)),
                    "{a:?} at {t}: {h:?} {a1:?}"
                );
                match a1 {
                    Answer::Fits(_) => d.debit(now, 1, false),
                    Answer::Wait(w) => {
                        // At the wait it fits; a nanosecond earlier it does not.
                        let mut later = d.clone();
                        assert!(
                            matches!(later.check(now.after(w), 1), Answer::Fits(_)),
                            "{a:?} at {t} + {w:?}"
                        );
                        let mut early = d.clone();
                        assert!(
                            matches!(early.check(SimTime(t + w.0 - 1), 1), Answer::Wait(_)),
                            "{a:?} at {t} + {w:?} - 1"
                        );
                    }
                    Answer::Never => panic!("one unit fits"),
                }
            }
        }
    }

    #[test]
    fn no_algorithm_admits_more_than_its_definition_allows() {
        let mut r = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(12);
        let (cap, rate) = (6u64, 4u64);
        for a in ALL {
            let mut d = dim(a, cap, rate);
            let mut admitted: Vec<u64> = Vec::new();
            let mut t = 0u64;
            for _ in 0..4000 {
                t += r.next_u64() % (S / 10);
                if let Answer::Fits(delay) = send(&mut d, SimTime(t)) {
                    admitted.push(t + delay.0);
                }
            }
            // Over any span T: at most C + R T (bucket family; a discrete fill adds whole
            // lumps of R x 0.25 s), L per aligned window (fixed), L in any trailing W (log), 2L
            // in any W (counter).
            for (i, &start) in admitted.iter().enumerate() {
                for span in [S / 4, S / 2, S, 3 * S] {
                    let n = admitted[i..]
                        .iter()
                        .take_while(|&&x| x < start + span)
                        .count() as u64;
                    let most = match a {
                        Algorithm::FixedWindow | Algorithm::SlidingLog => {
                            cap * span.div_ceil(S) * 2
                        }
                        Algorithm::SlidingCounter => 2 * cap * span.div_ceil(S) + cap,
                        Algorithm::DiscreteRefill { interval } => {
                            cap + rate * interval.0 / S * (span.div_ceil(interval.0) + 1)
                        }
                        _ => cap + (rate * span).div_ceil(S),
                    };
                    assert!(n <= most, "{a:?}: {n} in {span} ns from {start}");
                }
            }
            if a == Algorithm::SlidingLog {
                for (i, &start) in admitted.iter().enumerate() {
                    let n = admitted[i..].iter().take_while(|&&x| x < start + S).count() as u64;
                    assert!(n <= cap, "log: {n} in a trailing second");
                }
            }
            if a == Algorithm::FixedWindow {
                let mut per = std::collections::BTreeMap::new();
                for x in &admitted {
                    *per.entry(x / S).or_insert(0u64) += 1;
                }
                assert!(per.values().all(|&n| n <= cap));
            }
        }
    }
}
