//! The running state of one client's shared mechanisms. Time is an input; nothing here reads a
//! clock, touches the event queue or draws a random number. The engine asks [`ClientState::gate`]
//! when an attempt may be sent, tells it what was sent and what came back, and asks whether a
//! retry is allowed.

use std::collections::{BinaryHeap, VecDeque};

use super::shared::{Adaptive, Breaker, Pace, RetryBudget, RetryQuota, SharedSpec};
use crate::catalog::{Milli, ModelLimits};
use crate::limiter::{LimiterConfig, ModelLimiter, RateHeaders, TokenBucket};
use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};

/// When an attempt may be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Now,
    At(SimTime),
    /// Not before the client hears a newer response (header-driven pacing with nothing left).
    Blocked,
}

impl Gate {
    fn and(self, other: Gate) -> Gate {
        match (self, other) {
            (Gate::Blocked, _) | (_, Gate::Blocked) => Gate::Blocked,
            (Gate::Now, g) | (g, Gate::Now) => g,
            (Gate::At(a), Gate::At(b)) => Gate::At(a.max(b)),
        }
    }

    fn after(now: SimTime, wait: SimDuration) -> Gate {
        if wait == SimDuration::ZERO {
            Gate::Now
        } else {
            Gate::At(now.after(wait))
        }
    }
}

/// Proactive pacing: per model, the server's buckets scaled by the share.
struct PaceState {
    spec: Pace,
    models: Vec<(TokenBucket, Option<TokenBucket>)>,
    paused_until: SimTime,
}

fn scaled(x: Milli, share: Milli) -> Milli {
    Milli((u128::from(x.0) * u128::from(share.0) / 1000).max(1) as u64)
}

impl PaceState {
    fn new(spec: Pace, models: &[ModelLimits], cfg: &LimiterConfig) -> PaceState {
        let s = spec.share;
        let models = models
            .iter()
            .map(|m| {
                let ((rcap, rps, period), tok) = ModelLimiter::shape(m, cfg);
                // At least one request of capacity, as the server's own bucket has.
                let rcap = scaled(rcap, s).max(Milli::from_units(1)).min(rcap);
                let req =
                    TokenBucket::new(rcap, scaled(rps, s), period).starting_at(cfg.initial_level);
                let tok = tok.map(|(cap, tpm)| {
                    TokenBucket::new(
                        scaled(cap, s),
                        scaled(tpm, s),
                        SimDuration(60 * NANOS_PER_SEC),
                    )
                    .starting_at(cfg.initial_level)
                });
                (req, tok)
            })
            .collect();
        PaceState {
            spec,
            models,
            paused_until: SimTime::ZERO,
        }
    }

    fn gate(&mut self, now: SimTime, model: usize, tokens: u64) -> Gate {
        let (req, tok) = &mut self.models[model];
        let mut wait = SimDuration::ZERO;
        if self.spec.requests {
            wait = wait.max(req.wait_for_or_full(now, 1));
        }
        if self.spec.tokens
            && let Some(t) = tok
        {
            wait = wait.max(t.wait_for_or_full(now, tokens));
        }
        let g = Gate::after(now, wait);
        if self.paused_until > now {
            g.and(Gate::At(self.paused_until))
        } else {
            g
        }
    }

    fn on_send(&mut self, now: SimTime, model: usize, tokens: u64) {
        let (req, tok) = &mut self.models[model];
        if self.spec.requests {
            req.debit(now, 1, true);
        }
        if self.spec.tokens
            && let Some(t) = tok
        {
            t.debit(now, tokens, true);
        }
    }
}

/// What one response's headers told the client, with the client's send counters at that time.
#[derive(Clone, Copy, Debug)]
struct View {
    at: SimTime,
    headers: RateHeaders,
    sent_requests: u64,
    sent_tokens: u64,
}

/// A response on its way back: visible to the client at `visible`.
struct Pending {
    visible: SimTime,
    seq: u64,
    model: usize,
    view: View,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        (self.visible, self.seq) == (o.visible, o.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.visible, o.seq).cmp(&(self.visible, self.seq))
    }
}

/// Header-driven pacing. The client counts what it sent since the response behind its view;
/// the bucket's level now is at least `remaining − sent since` (or `limit − sent since` once
/// the reset time has passed), so an attempt it sends is never refused for lack of remaining.
struct HeaderState {
    views: Vec<Option<View>>,
    sent: Vec<(u64, u64)>,
    pending: BinaryHeap<Pending>,
    seq: u64,
}

impl HeaderState {
    fn adopt(&mut self, now: SimTime) {
        while self.pending.peek().is_some_and(|p| p.visible <= now) {
            let p = self.pending.pop().expect("peeked");
            let slot = &mut self.views[p.model];
            if slot.is_none_or(|v| v.at <= p.view.at) {
                *slot = Some(p.view);
            }
        }
    }

    fn gate(&mut self, now: SimTime, model: usize, tokens: u64) -> Gate {
        self.adopt(now);
        let (sent_r, sent_t) = self.sent[model];
        let Some(v) = self.views[model] else {
            // Nothing heard yet: one probe, then wait for its headers.
            return if sent_r == 0 {
                Gate::Now
            } else {
                Gate::Blocked
            };
        };
        let dim = |d: crate::limiter::HeaderDim, since: u64, cost: u64| -> Gate {
            if cost > d.limit {
                // The server will say it never fits; nothing to wait for.
                return Gate::Now;
            }
            let reset_at = v.at.after(d.reset);
            let left = if now >= reset_at {
                d.limit
            } else {
                d.remaining
            };
            if left >= since.saturating_add(cost) {
                Gate::Now
            } else if now < reset_at && d.limit >= since.saturating_add(cost) {
                Gate::At(reset_at)
            } else {
                Gate::Blocked
            }
        };
        let g = dim(v.headers.requests, sent_r - v.sent_requests, 1);
        match v.headers.tokens {
            Some(t) => g.and(dim(t, sent_t - v.sent_tokens, tokens)),
            None => g,
        }
    }
}

/// botocore's adaptive token bucket (`bucket.py`), in seconds as floats like the original.
#[derive(Clone, Copy, Debug)]
struct FloatBucket {
    fill_rate: f64,
    max_capacity: f64,
    current: f64,
    last: Option<f64>,
}

impl FloatBucket {
    const MIN_RATE: f64 = 0.5;

    fn new(rate: f64, full: bool) -> FloatBucket {
        let mut b = FloatBucket {
            fill_rate: 0.0,
            max_capacity: 0.0,
            current: 0.0,
            last: None,
        };
        b.set_rate(0.0, rate);
        if full {
            b.current = b.max_capacity;
        }
        b
    }

    fn refill(&mut self, t: f64) {
        if let Some(last) = self.last {
            self.current = (self.current + (t - last) * self.fill_rate).min(self.max_capacity);
        }
        self.last = Some(t);
    }

    fn set_rate(&mut self, t: f64, rate: f64) {
        self.refill(t);
        self.fill_rate = rate.max(Self::MIN_RATE);
        self.max_capacity = if rate >= 1.0 { rate } else { 1.0 };
        self.current = self.current.min(self.max_capacity);
    }

    /// Seconds until one token is there.
    fn wait(&mut self, t: f64) -> f64 {
        self.refill(t);
        ((1.0 - self.current) / self.fill_rate).max(0.0)
    }

    fn take(&mut self, t: f64) {
        self.refill(t);
        self.current -= 1.0;
    }
}

/// botocore's `RateClocker`: the measured send rate, over half-second buckets, smoothed.
#[derive(Clone, Copy, Debug, Default)]
struct RateClocker {
    measured: f64,
    count: f64,
    last_bucket: f64,
}

impl RateClocker {
    fn record(&mut self, t: f64) -> f64 {
        let bucket = (t * 2.0).floor() / 2.0;
        self.count += 1.0;
        if bucket > self.last_bucket {
            let current = self.count / (bucket - self.last_bucket);
            self.measured = 0.8 * current + 0.2 * self.measured;
            self.count = 0.0;
            self.last_bucket = bucket;
        }
        self.measured
    }
}

enum AdaptiveState {
    Aimd {
        spec: (f64, f64, f64, SimDuration),
        rate: f64,
        last: f64,
        last_decrease: Option<SimTime>,
        bucket: FloatBucket,
    },
    Cubic {
        enabled: bool,
        bucket: FloatBucket,
        clock: RateClocker,
        w_max: f64,
        k: f64,
        last_fail: f64,
    },
}

impl AdaptiveState {
    const C: f64 = 0.4;
    const BETA: f64 = 0.7;

    fn new(spec: Adaptive) -> AdaptiveState {
        match spec {
            Adaptive::Aimd {
                initial_rate,
                increase,
                decrease,
                min_rate,
                cooldown,
            } => AdaptiveState::Aimd {
                spec: (increase, decrease, min_rate, cooldown),
                rate: initial_rate,
                last: 0.0,
                last_decrease: None,
                bucket: FloatBucket::new(initial_rate, true),
            },
            Adaptive::Cubic => AdaptiveState::Cubic {
                enabled: false,
                bucket: FloatBucket::new(1.0, false),
                clock: RateClocker::default(),
                w_max: 0.0,
                k: 0.0,
                last_fail: 0.0,
            },
        }
    }

    fn bucket(&mut self) -> Option<&mut FloatBucket> {
        match self {
            AdaptiveState::Aimd { bucket, .. } => Some(bucket),
            AdaptiveState::Cubic {
                enabled: true,
                bucket,
                ..
            } => Some(bucket),
            AdaptiveState::Cubic { .. } => None,
        }
    }

    fn gate(&mut self, now: SimTime) -> Gate {
        match self.bucket() {
            Some(b) => {
                let w = b.wait(now.as_secs_f64());
                if w <= 0.0 {
                    Gate::Now
                } else {
                    Gate::At(now.after(SimDuration((w * 1e9).ceil() as u64)))
                }
            }
            None => Gate::Now,
        }
    }

    fn on_send(&mut self, now: SimTime) {
        if let Some(b) = self.bucket() {
            b.take(now.as_secs_f64());
        }
    }

    fn on_response(&mut self, now: SimTime, throttled: bool) {
        let t = now.as_secs_f64();
        match self {
            AdaptiveState::Aimd {
                spec: (increase, decrease, min_rate, cooldown),
                rate,
                last,
                last_decrease,
                bucket,
            } => {
                if throttled {
                    if last_decrease.is_none_or(|d| now.since(d) >= *cooldown) {
                        *rate = (*rate * *decrease).max(*min_rate);
                        *last_decrease = Some(now);
                    }
                } else {
                    *rate += *increase * (t - *last).max(0.0);
                }
                *last = t;
                bucket.set_rate(t, *rate);
            }
            AdaptiveState::Cubic {
                enabled,
                bucket,
                clock,
                w_max,
                k,
                last_fail,
            } => {
                let measured = clock.record(t);
                let new_rate = if throttled {
                    let rate = if *enabled {
                        measured.min(bucket.fill_rate)
                    } else {
                        measured
                    };
                    *w_max = rate;
                    *k = (rate * (1.0 - Self::BETA) / Self::C).cbrt();
                    *last_fail = t;
                    *enabled = true;
                    rate * Self::BETA
                } else {
                    Self::C * (t - *last_fail - *k).powi(3) + *w_max
                };
                bucket.set_rate(t, new_rate.min(2.0 * measured));
            }
        }
    }

    /// The client's current rate limit in requests per second, if it is limiting.
    fn rate(&self) -> Option<f64> {
        match self {
            AdaptiveState::Aimd { bucket, .. }
            | AdaptiveState::Cubic {
                enabled: true,
                bucket,
                ..
            } => Some(bucket.fill_rate),
            AdaptiveState::Cubic { .. } => None,
        }
    }
}

/// The states of a circuit breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerPhase {
    Closed,
    Open { until: SimTime },
    HalfOpen { permits_left: u32 },
}

/// A count-based circuit breaker (resilience4j's state machine).
pub struct BreakerState {
    spec: Breaker,
    phase: BreakerPhase,
    /// Outcomes in the current window (true = failure), oldest first.
    window: VecDeque<bool>,
    failures: u32,
    /// Times the breaker opened.
    pub opened: u64,
}

impl BreakerState {
    pub fn new(spec: Breaker) -> BreakerState {
        BreakerState {
            spec,
            phase: BreakerPhase::Closed,
            window: VecDeque::with_capacity(spec.window as usize),
            failures: 0,
            opened: 0,
        }
    }

    pub fn phase(&self) -> BreakerPhase {
        self.phase
    }

    /// Whether an attempt may be sent at `now` (taking a half-open trial permit if so).
    pub fn permit(&mut self, now: SimTime) -> bool {
        match self.phase {
            BreakerPhase::Closed => true,
            BreakerPhase::Open { until } if now >= until => {
                self.clear();
                self.phase = BreakerPhase::HalfOpen {
                    permits_left: self.spec.half_open_calls - 1,
                };
                true
            }
            BreakerPhase::Open { .. } => false,
            BreakerPhase::HalfOpen { permits_left: 0 } => false,
            BreakerPhase::HalfOpen { permits_left } => {
                self.phase = BreakerPhase::HalfOpen {
                    permits_left: permits_left - 1,
                };
                true
            }
        }
    }

    fn clear(&mut self) {
        self.window.clear();
        self.failures = 0;
    }

    fn trips(&self, calls: u32) -> bool {
        u64::from(self.failures) * 100 >= u64::from(self.spec.failure_rate_pct) * u64::from(calls)
    }

    /// Records the outcome of an attempt (a 429 is a failure) heard at `now`.
    pub fn record(&mut self, now: SimTime, failure: bool) {
        match self.phase {
            // A call permitted before the breaker opened: no transition (as resilience4j).
            BreakerPhase::Open { .. } => {}
            BreakerPhase::Closed => {
                if self.window.len() == self.spec.window as usize
                    && self.window.pop_front() == Some(true)
                {
                    self.failures -= 1;
                }
                self.window.push_back(failure);
                self.failures += u32::from(failure);
                let calls = self.window.len() as u32;
                if calls >= self.spec.min_calls.min(self.spec.window) && self.trips(calls) {
                    self.open(now);
                }
            }
            BreakerPhase::HalfOpen { .. } => {
                self.window.push_back(failure);
                self.failures += u32::from(failure);
                let calls = self.window.len() as u32;
                if calls >= self.spec.half_open_calls {
                    if self.trips(calls) {
                        self.open(now);
                    } else {
                        self.clear();
                        self.phase = BreakerPhase::Closed;
                    }
                }
            }
        }
    }

    fn open(&mut self, now: SimTime) {
        self.clear();
        self.opened += 1;
        self.phase = BreakerPhase::Open {
            until: now.after(self.spec.open_for),
        };
    }
}

/// gRPC retry throttling, in thousandths of a token.
struct BudgetState {
    spec: RetryBudget,
    tokens: u64,
}

/// Everything one client shares across its requests.
pub struct ClientState {
    /// Requests in flight (holding a concurrency slot).
    pub in_flight: u32,
    pub max_concurrency: Option<u32>,
    pace: Option<PaceState>,
    header: Option<HeaderState>,
    adaptive: Option<AdaptiveState>,
    quota: Option<(RetryQuota, u32)>,
    budget: Option<BudgetState>,
    pub breaker: Option<BreakerState>,
}

impl ClientState {
    /// `models`: the caps of every model of the scenario, by index.
    pub fn new(spec: &SharedSpec, models: &[ModelLimits], cfg: &LimiterConfig) -> ClientState {
        ClientState {
            in_flight: 0,
            max_concurrency: spec.max_concurrency,
            pace: spec.pace.map(|p| PaceState::new(p, models, cfg)),
            header: spec.header_pacing.then(|| HeaderState {
                views: vec![None; models.len()],
                sent: vec![(0, 0); models.len()],
                pending: BinaryHeap::new(),
                seq: 0,
            }),
            adaptive: spec.adaptive.map(AdaptiveState::new),
            quota: spec.retry_quota.map(|q| (q, q.capacity)),
            budget: spec.retry_budget.map(|b| BudgetState {
                spec: b,
                tokens: b.max_tokens.0,
            }),
            breaker: spec.breaker.map(BreakerState::new),
        }
    }

    /// When an attempt of `tokens` tokens to `model` may be sent, as the client knows at `now`.
    pub fn gate(&mut self, now: SimTime, model: usize, tokens: u64) -> Gate {
        let mut g = Gate::Now;
        if let Some(p) = &mut self.pace {
            g = g.and(p.gate(now, model, tokens));
        }
        if let Some(a) = &mut self.adaptive {
            g = g.and(a.gate(now));
        }
        if let Some(h) = &mut self.header {
            g = g.and(h.gate(now, model, tokens));
        }
        g
    }

    /// The client sends an attempt now (after its gate said so).
    pub fn on_send(&mut self, now: SimTime, model: usize, tokens: u64) {
        if let Some(p) = &mut self.pace {
            p.on_send(now, model, tokens);
        }
        if let Some(a) = &mut self.adaptive {
            a.on_send(now);
        }
        if let Some(h) = &mut self.header {
            let s = &mut h.sent[model];
            s.0 += 1;
            s.1 += tokens;
        }
    }

    /// Whether the client reads rate-limit headers (the engine then passes them on).
    pub fn reads_headers(&self) -> bool {
        self.header.is_some()
    }

    /// A response to an attempt sent at `at` carries `headers`; the client sees it at `visible`.
    pub fn on_headers(
        &mut self,
        at: SimTime,
        visible: SimTime,
        model: usize,
        headers: RateHeaders,
    ) {
        if let Some(h) = &mut self.header {
            let (sent_requests, sent_tokens) = h.sent[model];
            h.seq += 1;
            h.pending.push(Pending {
                visible,
                seq: h.seq,
                model,
                view: View {
                    at,
                    headers,
                    sent_requests,
                    sent_tokens,
                },
            });
        }
    }

    /// When the next response the client has not yet seen becomes visible.
    pub fn next_news(&self) -> Option<SimTime> {
        self.header
            .as_ref()
            .and_then(|h| h.pending.peek().map(|p| p.visible))
    }

    /// Whether the breaker lets an attempt through at `now`.
    pub fn permit(&mut self, now: SimTime) -> bool {
        self.breaker.as_mut().is_none_or(|b| b.permit(now))
    }

    /// The client hears a 429 at `now`. Returns whether the retry budget still allows a retry.
    pub fn on_rate_limited(&mut self, now: SimTime) -> bool {
        if let Some(b) = &mut self.breaker {
            b.record(now, true);
        }
        if let Some(a) = &mut self.adaptive {
            a.on_response(now, true);
        }
        if let Some(p) = &mut self.pace
            && p.spec.pause_after_429 > SimDuration::ZERO
        {
            p.paused_until = p.paused_until.max(now.after(p.spec.pause_after_429));
        }
        match &mut self.budget {
            Some(b) => {
                b.tokens = b.tokens.saturating_sub(1000);
                b.tokens > b.spec.max_tokens.0 / 2
            }
            None => true,
        }
    }

    /// The client hears a server error (503/529) at `now`: the breaker counts a failure, the
    /// retry budget a retryable failure. Returns whether the budget still allows a retry.
    pub fn on_server_error(&mut self, now: SimTime) -> bool {
        if let Some(b) = &mut self.breaker {
            b.record(now, true);
        }
        match &mut self.budget {
            Some(b) => {
                b.tokens = b.tokens.saturating_sub(1000);
                b.tokens > b.spec.max_tokens.0 / 2
            }
            None => true,
        }
    }

    /// The retry quota pays for one retry, if it can.
    pub fn acquire_retry(&mut self) -> bool {
        match &mut self.quota {
            Some((q, avail)) if *avail >= q.retry_cost => {
                *avail -= q.retry_cost;
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    /// The client hears a success at `now`; `retried` if the request had retries.
    pub fn on_success(&mut self, now: SimTime, retried: bool) {
        if let Some(b) = &mut self.breaker {
            b.record(now, false);
        }
        if let Some(a) = &mut self.adaptive {
            a.on_response(now, false);
        }
        if let Some((q, avail)) = &mut self.quota {
            let refund = if retried {
                q.retry_cost
            } else {
                q.no_retry_refund
            };
            *avail = (*avail + refund).min(q.capacity);
        }
        if let Some(b) = &mut self.budget {
            b.tokens = (b.tokens + b.spec.token_ratio.0).min(b.spec.max_tokens.0);
        }
    }

    /// The retry quota left, if the client has one.
    pub fn quota_left(&self) -> Option<u32> {
        self.quota.map(|(_, a)| a)
    }

    /// The adaptive rate in requests per second, if the client is limiting itself.
    pub fn adaptive_rate(&self) -> Option<f64> {
        self.adaptive.as_ref().and_then(AdaptiveState::rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime(s * NANOS_PER_SEC)
    }

    #[test]
    fn the_breaker_follows_a_hand_computed_sequence() {
        let mut b = BreakerState::new(Breaker {
            failure_rate_pct: 50,
            window: 4,
            min_calls: 4,
            open_for: SimDuration::from_secs(10),
            half_open_calls: 2,
        });
        // Closed: S F S is below the minimum of 4 calls; the 4th (F) makes 2/4 = 50 %: open.
        for (t, fail) in [(1, false), (2, true), (3, false)] {
            assert!(b.permit(at(t)));
            b.record(at(t), fail);
            assert_eq!(b.phase(), BreakerPhase::Closed);
        }
        assert!(b.permit(at(4)));
        b.record(at(4), true);
        assert_eq!(b.phase(), BreakerPhase::Open { until: at(14) });
        // Open: refused until 14 s; then half-open with 2 trial calls, a third is refused.
        assert!(!b.permit(at(13)));
        assert!(b.permit(at(14)));
        assert_eq!(b.phase(), BreakerPhase::HalfOpen { permits_left: 1 });
        assert!(b.permit(at(14)));
        assert!(!b.permit(at(15)));
        // One success and one failure: 1/2 = 50 % >= 50 %: open again until 26 s.
        b.record(at(15), false);
        assert!(matches!(b.phase(), BreakerPhase::HalfOpen { .. }));
        b.record(at(16), true);
        assert_eq!(b.phase(), BreakerPhase::Open { until: at(26) });
        // The next trial calls both succeed: closed, with an empty window.
        assert!(b.permit(at(26)));
        assert!(b.permit(at(26)));
        b.record(at(27), false);
        b.record(at(27), false);
        assert_eq!(b.phase(), BreakerPhase::Closed);
        assert_eq!(b.opened, 2);
        // The window slides over the last 4 calls: F S S S (25 %), S S S S, S S S F (25 %),
        // then S S F F (50 %): open.
        for fail in [true, false, false, false, false] {
            b.record(at(30), fail);
            assert_eq!(b.phase(), BreakerPhase::Closed);
        }
        b.record(at(31), true);
        assert_eq!(b.phase(), BreakerPhase::Closed, "1 of the last 4 failed");
        b.record(at(32), true);
        assert_eq!(b.phase(), BreakerPhase::Open { until: at(42) });
    }

    #[test]
    fn cubic_follows_botocore() {
        let mut a = AdaptiveState::new(Adaptive::Cubic);
        // Off until the first throttle: nothing waits.
        assert_eq!(a.gate(at(0)), Gate::Now);
        // 10 responses in each half second from 0 s to 2 s: the measured rate becomes
        // 20/s after the smoothing settles.
        let mut t = 0.0f64;
        let mut measured = 0.0;
        for _ in 0..40 {
            t += 0.05;
            let now = SimTime((t * 1e9).round() as u64);
            a.on_response(now, false);
        }
        if let AdaptiveState::Cubic { clock, .. } = &a {
            measured = clock.measured;
        }
        assert!(measured > 15.0 && measured <= 20.0 + 1e-9, "{measured}");
        // A throttle at 2.05 s: w_max = measured (not yet enabled), new rate = 0.7 w_max,
        // capped at twice the measured rate; K = cbrt(w_max * 0.3 / 0.4).
        a.on_response(SimTime(2_050_000_000), true);
        let AdaptiveState::Cubic {
            enabled,
            bucket,
            clock,
            w_max,
            k,
            ..
        } = &a
        else {
            unreachable!()
        };
        assert!(enabled);
        assert_eq!(*w_max, measured, "the clock's bucket did not advance");
        assert!((*k - (measured * 0.3 / 0.4).cbrt()).abs() < 1e-12);
        assert!((bucket.fill_rate - (0.7 * measured).min(2.0 * clock.measured)).abs() < 1e-12);
        // Later successes grow the rate along C (t - last_fail - K)^3 + w_max.
        let (w, kk) = (*w_max, *k);
        a.on_response(SimTime(2_050_000_000 + 10 * NANOS_PER_SEC), false);
        let AdaptiveState::Cubic { bucket, clock, .. } = &a else {
            unreachable!()
        };
        let cubic = 0.4 * (10.0 - kk).powi(3) + w;
        assert!((bucket.fill_rate - cubic.min(2.0 * clock.measured).max(0.5)).abs() < 1e-9);
    }

    #[test]
    fn the_retry_quota_refunds_as_botocore_does() {
        let spec = SharedSpec {
            retry_quota: Some(RetryQuota::default()),
            ..SharedSpec::default()
        };
        let mut c = ClientState::new(&spec, &[], &LimiterConfig::default());
        let mut n = 0;
        while c.acquire_retry() {
            n += 1;
        }
        assert_eq!(n, 100);
        assert_eq!(c.quota_left(), Some(0));
        c.on_success(at(1), true);
        assert_eq!(c.quota_left(), Some(5), "the last retry's cost comes back");
        c.on_success(at(1), false);
        assert_eq!(c.quota_left(), Some(6), "a success without retries adds 1");
        for _ in 0..1000 {
            c.on_success(at(2), true);
        }
        assert_eq!(c.quota_left(), Some(500), "capped at the capacity");
    }

    #[test]
    fn grpc_throttling_allows_retries_only_above_half() {
        let spec = SharedSpec {
            retry_budget: Some(RetryBudget {
                max_tokens: Milli::from_units(10),
                token_ratio: Milli(100),
            }),
            ..SharedSpec::default()
        };
        let mut c = ClientState::new(&spec, &[], &LimiterConfig::default());
        // 10 -> 9, 8, 7, 6 allow; 5 is not above 5.
        let allowed: Vec<bool> = (0..6).map(|_| c.on_rate_limited(at(1))).collect();
        assert_eq!(allowed, [true, true, true, true, false, false]);
        // Tokens at 4; 12 successes add 1.2 -> 5.2; the next failure takes it to 4.2: refused.
        for _ in 0..12 {
            c.on_success(at(2), false);
        }
        assert!(!c.on_rate_limited(at(3)));
        for _ in 0..30 {
            c.on_success(at(4), false);
        }
        assert!(c.on_rate_limited(at(5)), "7.2 - 1 = 6.2 > 5");
    }
}
