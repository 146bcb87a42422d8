//! Server-side rate limiters. Time is an input (`now`), never read here; there is no randomness.
//!
//! A [`TokenBucket`] is a continuous token bucket with exact integer arithmetic: the level is
//! kept in units of (thousandths of a unit) × (nanoseconds of the refill period), so a refill of
//! `rate` per period adds exactly `rate_milli` per nanosecond and no rounding ever happens. A
//! [`ModelLimiter`] combines a requests bucket (RPS) and an optional tokens bucket (TPM): an
//! attempt is admitted only if both have room, and then both are debited.

pub mod algorithms;

use serde::Serialize;

pub use algorithms::{Algorithm, Answer, Dim};

use crate::catalog::{Milli, ModelLimits};
use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};

/// What the server says to one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Both caps had room; the attempt was debited.
    Admit,
    /// Admitted after waiting `delay` in the server's queue (a leaky bucket with a queue).
    Queued { delay: SimDuration },
    /// HTTP 429, refused by the `by` cap: come back after `retry_after` (the exact wait until both caps would have room,
    /// if nothing else arrived, rounded up to the advertised granularity).
    Limited { retry_after: SimDuration, by: Limit },
    /// The attempt costs more than a cap's capacity: no wait will ever admit it.
    NeverFits,
}

/// Which cap refused an attempt (the one with the longer wait, where both did).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Limit {
    Requests,
    Tokens,
    RequestsPerMinute,
    RequestsPerDay,
    TokensPerDay,
    InputTokensPerMinute,
    OutputTokensPerMinute,
    ImagesPerMinute,
    Concurrent,
}

impl Limit {
    pub const ALL: [Limit; 9] = [
        Limit::Requests,
        Limit::Tokens,
        Limit::RequestsPerMinute,
        Limit::RequestsPerDay,
        Limit::TokensPerDay,
        Limit::InputTokensPerMinute,
        Limit::OutputTokensPerMinute,
        Limit::ImagesPerMinute,
        Limit::Concurrent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Limit::Requests => "requests",
            Limit::Tokens => "tokens",
            Limit::RequestsPerMinute => "rpm",
            Limit::RequestsPerDay => "rpd",
            Limit::TokensPerDay => "tpd",
            Limit::InputTokensPerMinute => "itpm",
            Limit::OutputTokensPerMinute => "otpm",
            Limit::ImagesPerMinute => "ipm",
            Limit::Concurrent => "concurrent",
        }
    }

    /// The period of a per-time cap (none for the concurrency cap).
    fn period(self) -> Option<SimDuration> {
        match self {
            Limit::Requests => Some(SimDuration(NANOS_PER_SEC)),
            Limit::Tokens
            | Limit::RequestsPerMinute
            | Limit::InputTokensPerMinute
            | Limit::OutputTokensPerMinute
            | Limit::ImagesPerMinute => Some(SimDuration(60 * NANOS_PER_SEC)),
            Limit::RequestsPerDay | Limit::TokensPerDay => {
                Some(SimDuration(86_400 * NANOS_PER_SEC))
            }
            Limit::Concurrent => None,
        }
    }
}

/// One more cap of a model, beyond RPS and TPM: its kind and amount per its period (or
/// attempts in service at once, for `Concurrent`). Each is a bucket of one period's amount
/// (continuous, or of the configured algorithm).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExtraCap {
    pub limit: Limit,
    pub amount: Milli,
}

/// What an attempt costs against each kind of cap.
#[derive(Clone, Copy, Debug, Default)]
pub struct Costs {
    pub tokens: u64,
    pub input: u64,
    pub images: u64,
}

/// Settings of the server-side limiter (every one a documented assumption with a default).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LimiterConfig {
    /// Requests bucket capacity, in requests (default: one second of RPS, and at least one
    /// request, so that a cap below 1 RPS, e.g. 20 RPM, still admits requests).
    pub request_burst: Option<Milli>,
    /// Tokens bucket capacity, in tokens (default: one minute of TPM).
    pub token_burst: Option<Milli>,
    /// Whether a rejected attempt is debited too (OpenAI: "unsuccessful requests contribute to
    /// your per-minute limit"). A bucket then runs into debt, down to minus its capacity.
    pub count_rejected: bool,
    /// Retry-After is rounded up to a multiple of this (1 ms, like `retry-after-ms`).
    pub retry_after_granularity: SimDuration,
    /// How full every bucket is at time zero, as a share of its capacity (1 = full, the
    /// default; 0 = empty, as after a long busy period).
    pub initial_level: Milli,
    /// How the requests dimension is enforced.
    pub algorithm: Algorithm,
    /// How the tokens dimension is enforced.
    pub tokens_algorithm: Algorithm,
    /// Concurrent attempts the server can serve per model (none: unlimited); the excess waits
    /// in a queue of `queue` places, then is refused as overloaded (503/529, not a 429).
    pub capacity: Option<u32>,
    pub queue: u32,
    /// The probability that an admitted attempt fails with a server error (503).
    pub failure_rate: f64,
    /// The status an overloaded or failed attempt gets: 503, or 529 (Anthropic's "overloaded").
    pub overload_status: u16,
    /// When a request's tokens count against TPM.
    pub accounting: Accounting,
    /// Whether cached prompt tokens count against TPM.
    pub count_cached: bool,
    /// Quantized enforcement: each budget is enforced over windows (or a capacity) of this
    /// length, holding the rate × quantum (a per-minute budget over 1 s, as xAI's page says
    /// of requests, 10 s as Azure's does).
    pub quantum: Option<SimDuration>,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        LimiterConfig {
            request_burst: None,
            token_burst: None,
            count_rejected: false,
            retry_after_granularity: SimDuration::from_millis(1),
            initial_level: Milli::from_units(1),
            algorithm: Algorithm::TokenBucket,
            tokens_algorithm: Algorithm::TokenBucket,
            quantum: None,
            accounting: Accounting::Actual,
            count_cached: true,
            capacity: None,
            queue: 0,
            failure_rate: 0.0,
            overload_status: 503,
        }
    }
}

/// When a request's tokens count against the tokens cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Accounting {
    /// Every token at admission (xAI's page: all kinds count; ratesim's default).
    Actual,
    /// Prompt plus `max_tokens` reserved at admission; the unused part refunded when the
    /// request completes (OpenAI: "the maximum of max_tokens and the estimated number").
    Reserve,
    /// Input at admission; output charged as it is produced, counted at completion
    /// (Anthropic's ITPM and OTPM).
    InputThenOutput,
    /// Input only, at admission; output never counts (Gemini's "tokens per minute (input)").
    Input,
}

impl LimiterConfig {
    /// Tokens charged against the tokens cap when an attempt is admitted.
    pub fn admission_tokens(&self, size: &crate::workload::Size, max_tokens: Option<u64>) -> u64 {
        let cached = if self.count_cached {
            0
        } else {
            u64::from(size.cached).min(size.prompt)
        };
        let input = size.prompt + u64::from(size.image) - cached;
        match self.accounting {
            Accounting::Actual => input + size.generated(),
            Accounting::Reserve => input + max_tokens.unwrap_or_else(|| size.generated()),
            Accounting::InputThenOutput | Accounting::Input => input,
        }
    }

    /// What changes when the request completes: tokens refunded (negative) or charged.
    pub fn settlement(&self, size: &crate::workload::Size, max_tokens: Option<u64>) -> i64 {
        let g = size.generated() as i64;
        match self.accounting {
            Accounting::Actual | Accounting::Input => 0,
            Accounting::Reserve => g - max_tokens.map_or(g, |m| m as i64),
            Accounting::InputThenOutput => g,
        }
    }
}

/// What an attempt costs against one more cap, at admission.
#[inline]
fn extra_cost(l: Limit, costs: Costs) -> u64 {
    match l {
        Limit::RequestsPerMinute | Limit::RequestsPerDay => 1,
        Limit::TokensPerDay => costs.tokens,
        Limit::InputTokensPerMinute => costs.input,
        Limit::ImagesPerMinute => costs.images,
        // Output is charged as it is produced: an attempt needs the bucket not in debt.
        _ => 0,
    }
}

/// `ceil(a / b)` for `a > 0`, `b > 0`, saturating at `u64::MAX`: in 64-bit arithmetic when both
/// fit (the common case, and a hardware division), else in 128-bit.
#[inline]
pub(crate) fn ceil_div_pos(a: i128, b: i128) -> u64 {
    if (a | b) >> 63 == 0 {
        let (a, b) = (a as u64, b as u64);
        a.div_ceil(b)
    } else {
        u64::try_from((a + b - 1) / b).unwrap_or(u64::MAX)
    }
}

/// `a × b` as `i128`: one widening multiplication (the product of two `u64` fits 128 bits;
/// the same value as the `i128` product wherever that one does not overflow).
#[inline(always)]
fn wide(a: u64, b: u64) -> i128 {
    (u128::from(a) * u128::from(b)) as i128
}

/// A continuous token bucket: capacity C, refill `rate` per `period`, starts full.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    /// Capacity × period, in milli-units × ns.
    capacity: i128,
    /// Level × period, in milli-units × ns; negative only when rejected attempts are debited.
    level: i128,
    /// Refill per nanosecond, in the scaled units (= rate in milli-units per period), and one
    /// unit in the scaled units (1000 × period), as 64-bit numbers: their products with a
    /// 64-bit count take one widening multiplication, not three.
    refill: u64,
    unit: u64,
    period_ns: u64,
    last: SimTime,
}

impl TokenBucket {
    /// `capacity` units, refilled at `rate` units per `period`; full at time zero.
    pub fn new(capacity: Milli, rate: Milli, period: SimDuration) -> TokenBucket {
        assert!(rate.0 > 0 && period.0 > 0, "validated before construction");
        let capacity = wide(capacity.0, period.0);
        TokenBucket {
            capacity,
            level: capacity,
            refill: rate.0,
            unit: 1000u64
                .checked_mul(period.0)
                .expect("periods are at most a day: validated before construction"),
            period_ns: period.0,
            last: SimTime::ZERO,
        }
    }

    /// The same bucket holding `share` (thousandths, at most 1000) of its capacity at time
    /// zero instead of being full.
    pub fn starting_at(mut self, share: Milli) -> TokenBucket {
        self.level = self.capacity * i128::from(share.0.min(1000)) / 1000;
        self
    }

    fn refill(&mut self, now: SimTime) {
        if now > self.last {
            let dt = now.since(self.last).0;
            self.level = (self.level + wide(dt, self.refill)).min(self.capacity);
            self.last = now;
        }
    }

    /// How long until `cost_units` would fit: `Some(ZERO)` if it fits now, `None` if never.
    #[inline]
    pub fn wait_for(&mut self, now: SimTime, cost_units: u64) -> Option<SimDuration> {
        self.refill(now);
        let cost = wide(cost_units, self.unit);
        if cost > self.capacity {
            return None;
        }
        let missing = cost - self.level;
        if missing <= 0 {
            return Some(SimDuration::ZERO);
        }
        // Ceiling division: at now + wait the level is >= cost, and at now + wait - 1 ns it is not.
        Some(SimDuration(ceil_div_pos(missing, i128::from(self.refill))))
    }

    /// How long until `cost_units` would fit, or until the bucket is full if it never can.
    pub fn wait_for_or_full(&mut self, now: SimTime, cost_units: u64) -> SimDuration {
        self.refill(now);
        let cost = (wide(cost_units, self.unit)).min(self.capacity);
        let missing = cost - self.level;
        if missing <= 0 {
            return SimDuration::ZERO;
        }
        SimDuration(ceil_div_pos(missing, i128::from(self.refill)))
    }

    /// What a server's rate-limit headers say of this bucket at `now`: the limit (capacity)
    /// and remaining (level), in whole units rounded down, and the time until it is full.
    pub fn header(&mut self, now: SimTime) -> HeaderDim {
        self.refill(now);
        let unit = i128::from(self.unit);
        let missing = self.capacity - self.level;
        let reset = if missing <= 0 {
            0
        } else {
            ceil_div_pos(missing, i128::from(self.refill))
        };
        HeaderDim {
            limit: u64::try_from(self.capacity / unit).unwrap_or(u64::MAX),
            remaining: u64::try_from(self.level.max(0) / unit).unwrap_or(0),
            reset: SimDuration(reset),
        }
    }

    /// Takes `cost_units` out; with `allow_debt` the level may fall to minus the capacity.
    pub fn debit(&mut self, now: SimTime, cost_units: u64, allow_debt: bool) {
        self.refill(now);
        let cost = wide(cost_units, self.unit);
        let floor = if allow_debt { -self.capacity } else { 0 };
        self.level = (self.level - cost).max(floor);
    }

    /// New capacity and rate from `now` on; the level is kept, capped at the new capacity.
    pub fn retune(&mut self, now: SimTime, capacity: Milli, rate: Milli) {
        assert!(rate.0 > 0, "validated before construction");
        self.refill(now);
        self.capacity = wide(capacity.0, self.period_ns);
        self.refill = rate.0;
        self.level = self.level.min(self.capacity);
    }

    /// Charges `cost_units` after the fact: the level may fall any amount below zero.
    pub fn charge(&mut self, now: SimTime, cost_units: u64) {
        self.refill(now);
        self.level -= wide(cost_units, self.unit);
    }

    /// Gives `units` back, up to the capacity.
    pub fn credit(&mut self, now: SimTime, units: u64) {
        self.refill(now);
        let c = wide(units, self.unit);
        self.level = (self.level + c).min(self.capacity);
    }

    /// Whether `cost_units` can ever fit.
    pub fn fits(&self, cost_units: u64) -> bool {
        wide(cost_units, self.unit) <= self.capacity
    }

    /// The current level in units (for tests and reports).
    pub fn level_units(&mut self, now: SimTime) -> f64 {
        self.refill(now);
        self.level as f64 / self.unit as f64
    }
}

/// One dimension of a server's rate-limit headers (as `x-ratelimit-limit-requests`,
/// `x-ratelimit-remaining-requests`, `x-ratelimit-reset-requests`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderDim {
    pub limit: u64,
    pub remaining: u64,
    /// Time until the bucket is full again, if nothing else is sent.
    pub reset: SimDuration,
}

/// The rate-limit headers of a response: requests, and tokens where the model has a TPM cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateHeaders {
    pub requests: HeaderDim,
    pub tokens: Option<HeaderDim>,
}

/// The two caps of one model: requests per second and (optionally) tokens per minute.
#[derive(Clone, Debug)]
pub struct ModelLimiter {
    requests: Dim,
    /// The limit the requests dimension enforces: RPS, or RPM where the model has no RPS.
    request_limit: Limit,
    tokens: Option<Dim>,
    /// More caps (RPM, RPD, TPD, ITPM, OTPM), each a dimension of the configured algorithm.
    extra: Vec<(Limit, Dim)>,
    /// A cap on attempts in service at once: (cap, in service).
    concurrent: Option<(u64, u64)>,
    count_rejected: bool,
    granularity: SimDuration,
}

impl ModelLimiter {
    /// The limiter of one model: its request cap (RPS, or RPM), its TPM cap where it has
    /// one, and every other cap it has, each a dimension of the configured algorithm.
    pub fn new(limits: &ModelLimits, cfg: &LimiterConfig) -> ModelLimiter {
        let (req, tok) = ModelLimiter::shape(limits, cfg);
        let requests = Dim::new(cfg.algorithm, req.0, req.1, req.2, cfg.initial_level);
        let tokens = tok.map(|(cap, tpm)| {
            Dim::new(
                cfg.tokens_algorithm,
                cap,
                tpm,
                SimDuration(60 * NANOS_PER_SEC),
                cfg.initial_level,
            )
        });
        let mut l = ModelLimiter {
            requests,
            request_limit: limits.request_cap().map_or(Limit::Requests, |c| c.limit),
            tokens,
            extra: Vec::new(),
            concurrent: None,
            count_rejected: cfg.count_rejected,
            granularity: cfg.retry_after_granularity,
        };
        for cap in limits.extra_caps() {
            match ModelLimiter::extra_dim(cap, cfg, cfg.initial_level) {
                Some(d) => l.extra.push((cap.limit, d)),
                None => l.concurrent = Some((cap.amount.0 / 1000, 0)),
            }
        }
        l
    }

    /// The dimension of one more cap (`None` for the concurrency cap, which is a count).
    fn extra_dim(cap: ExtraCap, cfg: &LimiterConfig, level: Milli) -> Option<Dim> {
        let period = cap.limit.period()?;
        let algorithm = match cap.limit {
            Limit::RequestsPerMinute | Limit::RequestsPerDay => cfg.algorithm,
            _ => cfg.tokens_algorithm,
        };
        let capacity = ModelLimiter::extra_capacity(cap.amount, cfg, period);
        Some(Dim::new(algorithm, capacity, cap.amount, period, level))
    }

    /// The capacity of a per-time cap of `amount` per `period`: one period's amount; with a
    /// quantum, a per-minute cap holds its rate × quantum (at least one unit) and a daily one
    /// is kept whole.
    pub fn extra_capacity(amount: Milli, cfg: &LimiterConfig, period: SimDuration) -> Milli {
        let per_minute = period.0 == 60 * NANOS_PER_SEC;
        cfg.quantum.filter(|_| per_minute).map_or(amount, |q| {
            let x = u128::from(amount.0) * u128::from(q.0) / u128::from(period.0);
            Milli(u64::try_from(x).unwrap_or(u64::MAX).max(1000))
        })
    }

    /// Decides one attempt at `now` against every cap, the extra ones included (`costs`: the
    /// tokens charged at admission, and the input tokens); debits them all if it is admitted.
    pub fn check_all(&mut self, now: SimTime, costs: Costs) -> Decision {
        if self.extra.is_empty() && self.concurrent.is_none() {
            return self.check(now, costs.tokens);
        }
        let cost = |l: Limit| extra_cost(l, costs);
        let mut wait = SimDuration::ZERO;
        let mut by = Limit::Requests;
        for (l, d) in &mut self.extra {
            match d.check(now, cost(*l)) {
                Answer::Never => return Decision::NeverFits,
                Answer::Wait(w) if w > wait => {
                    wait = w;
                    by = *l;
                }
                _ => {}
            }
        }
        if let Some((cap, used)) = self.concurrent
            && used >= cap
        {
            // A concurrency cap has no wait to give: come back in one second.
            let w = SimDuration(NANOS_PER_SEC);
            if w > wait {
                wait = w;
                by = Limit::Concurrent;
            }
        }
        let base = self.check_probe(now, costs.tokens);
        match base {
            Decision::NeverFits => Decision::NeverFits,
            Decision::Limited { retry_after, by: b } if retry_after >= wait => {
                self.refuse_all(now, costs, retry_after, b)
            }
            _ if wait > SimDuration::ZERO => self.refuse_all(now, costs, wait, by),
            _ => {
                let d = self.check(now, costs.tokens);
                if matches!(d, Decision::Admit | Decision::Queued { .. }) {
                    for (l, dim) in &mut self.extra {
                        let c = cost(*l);
                        if c > 0 {
                            dim.debit(now, c, false);
                        }
                    }
                    if let Some((_, used)) = &mut self.concurrent {
                        *used += 1;
                    }
                }
                d
            }
        }
    }

    /// A 429 from [`ModelLimiter::check_all`]: where rejections count, the attempt is debited
    /// from every cap (into debt), and the wait is what it takes for all of them again.
    fn refuse_all(&mut self, now: SimTime, costs: Costs, wait: SimDuration, by: Limit) -> Decision {
        let mut wait = wait;
        if self.count_rejected {
            self.debit(now, costs.tokens, true);
            for (l, d) in &mut self.extra {
                let c = extra_cost(*l, costs);
                if c > 0 {
                    d.debit(now, c, true);
                }
            }
            // The debt can only lengthen the wait (a concurrency cap's second stays).
            wait = wait.max(self.wait_after_debt(now, costs.tokens));
            for (l, d) in &mut self.extra {
                if let Answer::Wait(w) = d.check(now, extra_cost(*l, costs)) {
                    wait = wait.max(w);
                }
            }
        }
        Decision::Limited {
            retry_after: wait.round_up_to(self.granularity),
            by,
        }
    }

    /// What `check` would say, without debiting anything.
    fn check_probe(&mut self, now: SimTime, tokens: u64) -> Decision {
        let a = self.requests.check(now, 1);
        let b = match &mut self.tokens {
            Some(d) => d.check(now, tokens),
            None => Answer::Fits(SimDuration::ZERO),
        };
        match (a, b) {
            (Answer::Never, _) | (_, Answer::Never) => Decision::NeverFits,
            (Answer::Wait(x), Answer::Wait(y)) => Decision::Limited {
                retry_after: x.max(y).round_up_to(self.granularity),
                by: if y > x {
                    Limit::Tokens
                } else {
                    self.request_limit
                },
            },
            (Answer::Wait(x), _) => Decision::Limited {
                retry_after: x.round_up_to(self.granularity),
                by: self.request_limit,
            },
            (_, Answer::Wait(y)) => Decision::Limited {
                retry_after: y.round_up_to(self.granularity),
                by: Limit::Tokens,
            },
            _ => Decision::Admit,
        }
    }

    /// An admitted attempt completes: output tokens count against OTPM now, and its place
    /// under the concurrency cap frees.
    pub fn complete(&mut self, now: SimTime, output: u64) {
        for (l, d) in &mut self.extra {
            if *l == Limit::OutputTokensPerMinute && output > 0 {
                d.charge(now, output);
            }
        }
        if let Some((_, used)) = &mut self.concurrent {
            *used = used.saturating_sub(1);
        }
    }

    /// Whether the limiter has caps beyond RPS and TPM.
    pub fn has_extra(&self) -> bool {
        !self.extra.is_empty() || self.concurrent.is_some()
    }

    /// Decides one attempt of `tokens` tokens at `now`, debiting the buckets if it is admitted.
    #[inline]
    pub fn check(&mut self, now: SimTime, tokens: u64) -> Decision {
        // The default, continuous buckets on both caps: the direct path.
        if let Dim::Bucket(r) = &mut self.requests
            && let Some(Dim::Bucket(_)) | None = &self.tokens
        {
            let Some(wait_requests) = r.wait_for(now, 1) else {
                return Decision::NeverFits;
            };
            let wait_tokens = match &mut self.tokens {
                Some(Dim::Bucket(b)) => match b.wait_for(now, tokens) {
                    Some(w) => w,
                    None => return Decision::NeverFits,
                },
                _ => SimDuration::ZERO,
            };
            let wait = wait_requests.max(wait_tokens);
            if wait == SimDuration::ZERO {
                self.debit(now, tokens, false);
                return Decision::Admit;
            }
            let by = if wait_tokens > wait_requests {
                Limit::Tokens
            } else {
                self.request_limit
            };
            return self.refuse(now, tokens, wait, by);
        }
        let a = self.requests.check(now, 1);
        let b = match &mut self.tokens {
            Some(d) => d.check(now, tokens),
            None => Answer::Fits(SimDuration::ZERO),
        };
        let (wait, delay, by) = match (a, b) {
            (Answer::Never, _) | (_, Answer::Never) => return Decision::NeverFits,
            (Answer::Fits(x), Answer::Fits(y)) => (SimDuration::ZERO, x.max(y), self.request_limit),
            (Answer::Wait(x), Answer::Wait(y)) => (
                x.max(y),
                SimDuration::ZERO,
                if y > x {
                    Limit::Tokens
                } else {
                    self.request_limit
                },
            ),
            (Answer::Wait(x), Answer::Fits(_)) => (x, SimDuration::ZERO, self.request_limit),
            (Answer::Fits(_), Answer::Wait(y)) => (y, SimDuration::ZERO, Limit::Tokens),
        };
        if wait == SimDuration::ZERO {
            self.debit(now, tokens, false);
            return if delay == SimDuration::ZERO {
                Decision::Admit
            } else {
                Decision::Queued { delay }
            };
        }
        self.refuse(now, tokens, wait, by)
    }

    /// A 429: the wait, after debiting the rejected attempt where rejections count.
    #[inline]
    fn refuse(&mut self, now: SimTime, tokens: u64, wait: SimDuration, by: Limit) -> Decision {
        if self.count_rejected {
            self.debit(now, tokens, true);
            // The advertised wait accounts for the debt this attempt just added.
            let again = self.wait_after_debt(now, tokens);
            return Decision::Limited {
                retry_after: again.round_up_to(self.granularity),
                by,
            };
        }
        Decision::Limited {
            retry_after: wait.round_up_to(self.granularity),
            by,
        }
    }

    #[inline]
    fn debit(&mut self, now: SimTime, tokens: u64, allow_debt: bool) {
        self.requests.debit(now, 1, allow_debt);
        if let Some(b) = &mut self.tokens {
            b.debit(now, tokens, allow_debt);
        }
    }

    fn wait_after_debt(&mut self, now: SimTime, tokens: u64) -> SimDuration {
        let wait = |a: Answer| match a {
            Answer::Wait(w) => w,
            _ => SimDuration::ZERO,
        };
        let r = wait(self.requests.check(now, 1));
        let t = self
            .tokens
            .as_mut()
            .map_or(SimDuration::ZERO, |b| wait(b.check(now, tokens)));
        r.max(t).max(SimDuration(1))
    }

    /// The caps change at `now` (the team moved up a tier): each dimension takes its new
    /// capacity and rate and keeps its level, capped at the new capacity. A cap that appears
    /// starts full; one that disappears is dropped.
    pub fn retune(&mut self, now: SimTime, limits: &ModelLimits, cfg: &LimiterConfig) {
        let (req, tok) = ModelLimiter::shape(limits, cfg);
        let new_limit = limits.request_cap().map_or(Limit::Requests, |c| c.limit);
        if new_limit == self.request_limit {
            self.requests.retune(now, req.0, req.1);
        } else {
            // The request cap changes period (RPS to RPM): a new dimension, full.
            // (A dimension built full at time zero is full at any later time.)
            self.requests = Dim::new(cfg.algorithm, req.0, req.1, req.2, Milli::from_units(1));
            self.request_limit = new_limit;
        }
        match (&mut self.tokens, tok) {
            (Some(b), Some((cap, tpm))) => b.retune(now, cap, tpm),
            (None, Some((cap, tpm))) => {
                // A token cap appears: its dimension starts full.
                self.tokens = Some(Dim::new(
                    cfg.tokens_algorithm,
                    cap,
                    tpm,
                    SimDuration(60 * NANOS_PER_SEC),
                    Milli::from_units(1),
                ));
            }
            (_, None) => self.tokens = None,
        }
        let mut extra = Vec::new();
        let mut concurrent = None;
        for cap in limits.extra_caps() {
            let Some(period) = cap.limit.period() else {
                let used = self.concurrent.map_or(0, |(_, used)| used);
                concurrent = Some((cap.amount.0 / 1000, used));
                continue;
            };
            let old = self.extra.iter().position(|(l, _)| *l == cap.limit);
            match old {
                Some(i) => {
                    let (_, mut d) = self.extra.swap_remove(i);
                    d.retune(
                        now,
                        ModelLimiter::extra_capacity(cap.amount, cfg, period),
                        cap.amount,
                    );
                    extra.push((cap.limit, d));
                }
                None => {
                    if let Some(d) = ModelLimiter::extra_dim(cap, cfg, Milli::from_units(1)) {
                        extra.push((cap.limit, d));
                    }
                }
            }
        }
        self.extra = extra;
        self.concurrent = concurrent;
    }

    /// Settles a completed request's tokens on TPM and TPD: `delta` > 0 is charged (the level
    /// may go into debt), < 0 refunded (up to the capacity).
    pub fn settle(&mut self, now: SimTime, delta: i64) {
        let settle = |d: &mut Dim| {
            if delta > 0 {
                d.charge(now, delta as u64);
            } else if delta < 0 {
                d.credit(now, delta.unsigned_abs());
            }
        };
        if let Some(t) = &mut self.tokens {
            settle(t);
        }
        for (l, d) in &mut self.extra {
            if *l == Limit::TokensPerDay {
                settle(d);
            }
        }
    }

    /// The rate-limit headers of a response sent at `now` (after this attempt's debit).
    pub fn headers(&mut self, now: SimTime) -> RateHeaders {
        RateHeaders {
            requests: self.requests.header(now),
            tokens: self.tokens.as_mut().map(|b| b.header(now)),
        }
    }

    /// The (capacity, rate, period) of the requests dimension and, where there is one, the
    /// (capacity, rate per minute) of the tokens dimension, as the limiter is built: what a
    /// client paces against.
    pub fn shape(
        limits: &ModelLimits,
        cfg: &LimiterConfig,
    ) -> ((Milli, Milli, SimDuration), Option<(Milli, Milli)>) {
        // With a quantum, a dimension holds its rate × quantum (at least one request).
        let quantum = |rate: Milli, period_s: u64| -> Option<Milli> {
            cfg.quantum.map(|q| {
                let x = u128::from(rate.0) * u128::from(q.0)
                    / (u128::from(period_s) * u128::from(NANOS_PER_SEC));
                Milli(u64::try_from(x).unwrap_or(u64::MAX).max(1))
            })
        };
        let rc = limits.request_cap().unwrap_or(crate::catalog::RequestCap {
            amount: Milli::from_units(1),
            period_s: 1,
            limit: Limit::Requests,
        });
        (
            (
                cfg.request_burst.unwrap_or_else(|| {
                    quantum(rc.amount, rc.period_s)
                        .unwrap_or(rc.amount)
                        .max(Milli::from_units(1))
                }),
                rc.amount,
                SimDuration(rc.period_s * NANOS_PER_SEC),
            ),
            limits.tpm.map(|tpm| {
                (
                    cfg.token_burst
                        .unwrap_or_else(|| quantum(tpm, 60).unwrap_or(tpm)),
                    tpm,
                )
            }),
        )
    }

    /// Whether an attempt of `tokens` tokens can ever be admitted.
    pub fn fits(&self, tokens: u64) -> bool {
        self.tokens.as_ref().is_none_or(|b| b.fits(tokens))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> SimTime {
        SimTime(SimDuration::from_secs_f64(s).0)
    }

    fn limits(rps: u64, tpm: Option<u64>) -> ModelLimits {
        ModelLimits::rps_tpm(Milli::from_units(rps), tpm.map(Milli::from_units))
    }

    #[test]
    fn starts_full_and_refuses_the_request_after_the_burst() {
        let mut l = ModelLimiter::new(&limits(3, None), &LimiterConfig::default());
        for _ in 0..3 {
            assert_eq!(l.check(SimTime::ZERO, 10), Decision::Admit);
        }
        // One request per 1/3 s: exactly 333_333_334 ns away (ceiling), rounded up to 1 ms.
        assert_eq!(
            l.check(SimTime::ZERO, 10),
            Decision::Limited {
                retry_after: SimDuration::from_millis(334),
                by: Limit::Requests
            }
        );
    }

    #[test]
    fn retry_after_is_exact_at_nanosecond_granularity() {
        let cfg = LimiterConfig {
            retry_after_granularity: SimDuration(1),
            ..LimiterConfig::default()
        };
        let mut l = ModelLimiter::new(&limits(3, None), &cfg);
        for _ in 0..3 {
            l.check(SimTime::ZERO, 1);
        }
        let Decision::Limited { retry_after, .. } = l.check(SimTime::ZERO, 1) else {
            panic!("expected a 429");
        };
        assert_eq!(retry_after, SimDuration(333_333_334));
        // One nanosecond early is still refused; exactly on time is admitted.
        assert!(matches!(
            l.check(SimTime(retry_after.0 - 1), 1),
            Decision::Limited { .. }
        ));
        assert_eq!(l.check(SimTime(retry_after.0), 1), Decision::Admit);
    }

    #[test]
    fn the_token_cap_binds_independently() {
        // 100 RPS, 6000 TPM = 100 tokens/s, capacity 6000 tokens.
        let mut l = ModelLimiter::new(&limits(100, Some(6000)), &LimiterConfig::default());
        assert_eq!(l.check(SimTime::ZERO, 6000), Decision::Admit);
        // Empty token bucket: 50 tokens need 0.5 s.
        assert_eq!(
            l.check(SimTime::ZERO, 50),
            Decision::Limited {
                retry_after: SimDuration::from_millis(500),
                by: Limit::Tokens
            }
        );
        assert_eq!(l.check(secs(0.5), 50), Decision::Admit);
    }

    #[test]
    fn a_rejected_attempt_debits_nothing_by_default() {
        let mut l = ModelLimiter::new(&limits(1, Some(60)), &LimiterConfig::default());
        assert_eq!(l.check(SimTime::ZERO, 60), Decision::Admit);
        for _ in 0..100 {
            assert!(matches!(l.check(secs(0.5), 1), Decision::Limited { .. }));
        }
        assert_eq!(l.check(secs(1.0), 1), Decision::Admit);
    }

    #[test]
    fn counted_rejections_push_admission_back() {
        let cfg = LimiterConfig {
            count_rejected: true,
            ..LimiterConfig::default()
        };
        let mut l = ModelLimiter::new(&limits(1, None), &cfg);
        assert_eq!(l.check(SimTime::ZERO, 1), Decision::Admit);
        // Level 0; the rejected attempt takes it to -1, so the next fits after 2 s, not 1 s.
        assert_eq!(
            l.check(SimTime::ZERO, 1),
            Decision::Limited {
                retry_after: SimDuration::from_secs(2),
                by: Limit::Requests
            }
        );
        assert!(matches!(l.check(secs(1.0), 1), Decision::Limited { .. }));
    }

    #[test]
    fn requests_larger_than_the_token_capacity_never_fit() {
        let mut l = ModelLimiter::new(&limits(10, Some(1000)), &LimiterConfig::default());
        assert!(!l.fits(1001));
        assert!(l.fits(1000));
        assert_eq!(l.check(SimTime::ZERO, 1001), Decision::NeverFits);
        // It debited nothing: a full-size request still passes.
        assert_eq!(l.check(SimTime::ZERO, 1000), Decision::Admit);
    }

    #[test]
    fn a_cap_below_one_request_per_second_still_admits() {
        // 20 RPM = 0.333 RPS: the bucket holds one request and refills every 3 s.
        let lim = ModelLimits::rps_tpm(Milli(333), None);
        let mut l = ModelLimiter::new(&lim, &LimiterConfig::default());
        assert!(l.fits(1));
        assert_eq!(l.check(SimTime::ZERO, 1), Decision::Admit);
        assert!(matches!(l.check(secs(2.9), 1), Decision::Limited { .. }));
        assert_eq!(l.check(secs(3.01), 1), Decision::Admit);
    }

    #[test]
    fn fractional_rates_are_exact() {
        // 37.5 RPS (RPM/48 style): 75 admitted per 2 s after the burst, exactly.
        let lim = ModelLimits::rps_tpm(Milli(37_500), None);
        let mut l = ModelLimiter::new(&lim, &LimiterConfig::default());
        let mut admitted = 0;
        // Offer one attempt every ms for 10 s.
        for ms in 0..10_000u64 {
            if l.check(SimTime(ms * 1_000_000), 1) == Decision::Admit {
                admitted += 1;
            }
        }
        // 37 from the initial burst (capacity 37.5) + 37.5 * 10 s, within one.
        assert!((admitted as i64 - 412).abs() <= 1, "admitted {admitted}");
    }
    #[test]
    fn headers_give_limit_remaining_and_the_exact_time_to_full() {
        // 4 RPS (capacity 4), 6000 TPM (100 tokens/s, capacity 6000).
        let mut l = ModelLimiter::new(&limits(4, Some(6000)), &LimiterConfig::default());
        assert_eq!(l.check(SimTime::ZERO, 1000), Decision::Admit);
        let h = l.headers(SimTime::ZERO);
        assert_eq!((h.requests.limit, h.requests.remaining), (4, 3));
        assert_eq!(h.requests.reset, SimDuration::from_millis(250));
        let t = h.tokens.unwrap();
        assert_eq!((t.limit, t.remaining), (6000, 5000));
        assert_eq!(t.reset, SimDuration::from_secs(10));
        // Half a token short of a whole one: remaining rounds down, reset is exact.
        let h = l.headers(SimTime(SimDuration::from_millis(5).0));
        assert_eq!(h.tokens.unwrap().remaining, 5000);
        assert_eq!(h.tokens.unwrap().reset, SimDuration::from_millis(9995));
    }
}
