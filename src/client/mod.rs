//! Clients: what a caller does after a 429, and the state a client shares across its requests.
//!
//! A [`ClientPolicy`] is the per-request retry law: a pure function of the request's retry
//! counters ([`Tries`]), the server's Retry-After, the previous delay and a random stream, to an
//! [`Action`]. It never touches the event queue or the limiter; the engine schedules what it
//! returns. A policy may wrap an `inner` policy (an outer loop around an SDK that retries by
//! itself): each outer attempt is then a whole inner retry loop.
//!
//! [`SharedSpec`] is what a client shares across requests (a concurrency cap, pacing, an
//! adaptive rate, a retry quota or budget, a circuit breaker); [`state::ClientState`] runs it.
//! A [`ClientSpec`] is both, under a name. Presets ([`presets`]) reproduce real clients; each is
//! a named set of the same knobs.

pub mod presets;
pub mod shared;
pub mod state;

use serde::Serialize;

use crate::time::SimDuration;

pub use presets::PRESETS;
pub use shared::SharedSpec;

/// How the backoff delay is randomised. `b` is the capped exponential delay of this retry.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Jitter {
    /// Exactly `b`.
    None,
    /// Uniform on `[0, b)` (AWS "full jitter").
    Full,
    /// `b/2 + U[0, b/2)` (AWS "equal jitter").
    Equal,
    /// `min(cap, U[base, max(base, previous × multiplier)))` (AWS "decorrelated jitter").
    Decorrelated,
    /// `b × U[low, high)`: openai-python uses [0.75, 1), gRPC [0.8, 1.2).
    Scaled { low: f64, high: f64 },
    /// `min(cap, base × multiplier^(k-1) + U[0, amount))`: tenacity's `wait_exponential_jitter`
    /// (LangChain's `with_retry`), where the jitter is added before the cap.
    Additive { amount: SimDuration },
}

/// What to do with a 429 that carries Retry-After above the honoured maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AboveMax {
    /// Do not retry: the 429 surfaces to the caller (openai-python above 120 s).
    GiveUp,
    /// Ignore the header and back off as if it were absent (anthropic-python before 2.x, above 60 s).
    Backoff,
}

/// Whether the client reads the server's Retry-After.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "mode")]
pub enum RetryAfter {
    Ignore,
    /// Wait exactly Retry-After (no jitter, no cap) when it is at most `max`.
    Honour {
        max: Option<SimDuration>,
        above_max: AboveMax,
    },
    /// gRPC pushback (`grpc-retry-pushback-ms`): wait exactly the server's delay, and restart
    /// the backoff from its first step afterwards.
    Pushback,
}

/// Why a request ended without success (a 429 that the client did not or could not retry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// Its retries were used up (`max_retries`; for a nested policy, the outer loop's).
    RetriesExhausted,
    /// The next wait would have crossed its time budget.
    TimeBudget,
    /// Its deadline passed (gRPC: over all attempts, in-flight work included).
    Deadline,
    /// The client's shared retry quota or retry budget could not pay for a retry.
    BudgetEmpty,
    /// The client's circuit breaker was open (or half-open and out of trial calls).
    BreakerOpen,
    /// Retry-After was above the most the client honours (openai-python: 120 s).
    RetryAfterTooLarge,
    /// The client does not retry a rate limit at all (xai-sdk: `RESOURCE_EXHAUSTED`).
    NotRetried,
    /// The server failed or was overloaded (503/529) and the client does not retry that.
    ServerError,
}

impl Cause {
    /// Every cause, in report order.
    pub const ALL: [Cause; 8] = [
        Cause::RetriesExhausted,
        Cause::TimeBudget,
        Cause::Deadline,
        Cause::BudgetEmpty,
        Cause::BreakerOpen,
        Cause::RetryAfterTooLarge,
        Cause::NotRetried,
        Cause::ServerError,
    ];

    /// The name used in tables, CSV and the attempt log.
    pub fn name(self) -> &'static str {
        match self {
            Cause::RetriesExhausted => "retries_exhausted",
            Cause::TimeBudget => "time_budget",
            Cause::Deadline => "deadline",
            Cause::BudgetEmpty => "budget_empty",
            Cause::BreakerOpen => "breaker_open",
            Cause::RetryAfterTooLarge => "retry_after_too_large",
            Cause::NotRetried => "not_retried",
            Cause::ServerError => "server_error",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A policy's capped exponential delays for its first 64 retries, each with its length in
/// seconds, and those of the policy it wraps: computed once per run, they spare each retry
/// two divisions and a rounding. The values are those [`ClientPolicy::exponential`] gives.
#[derive(Clone, Debug, Default)]
pub struct Delays {
    first: Vec<(SimDuration, f64)>,
    inner: Option<Box<Delays>>,
}

/// No delays in advance: each is computed when needed.
static NO_DELAYS: Delays = Delays {
    first: Vec::new(),
    inner: None,
};

impl Delays {
    pub fn of(policy: &ClientPolicy) -> Delays {
        Delays {
            first: (1..=64)
                .map(|k| {
                    let b = policy.exponential(k);
                    (b, b.as_secs_f64())
                })
                .collect(),
            inner: policy.inner.as_deref().map(|p| Box::new(Delays::of(p))),
        }
    }

    /// The k-th delay (k from 1; 0 counts as 1, as for `exponential`) and its seconds.
    #[inline(always)]
    fn get(&self, policy: &ClientPolicy, k: u32) -> (SimDuration, f64) {
        match self.first.get(k.saturating_sub(1) as usize) {
            Some(&d) => d,
            None => {
                let b = policy.exponential(k);
                (b, b.as_secs_f64())
            }
        }
    }
}

/// A complete retry policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientPolicy {
    /// The preset this policy came from, if any (fields may have been overridden).
    pub preset: Option<String>,
    /// Retries after the first attempt (attempts = 1 + max_retries); `u32::MAX` is unlimited.
    pub max_retries: u32,
    pub base_delay: SimDuration,
    pub multiplier: f64,
    /// Cap on the exponential delay before jitter; `None` is uncapped.
    pub max_delay: Option<SimDuration>,
    pub jitter: Jitter,
    /// A floor on the jittered delay: full jitter draws from `[min_delay, max(b, min_delay))`
    /// (tenacity's `wait_random_exponential(min=...)`); other jitters are raised to it.
    #[serde(skip_serializing_if = "is_zero")]
    pub min_delay: SimDuration,
    pub retry_after: RetryAfter,
    /// Whether a 429 is retried at all (xai-sdk retries only gRPC `UNAVAILABLE`).
    pub retry_rate_limited: bool,
    /// Whether a server error (503/529) is retried: the SDKs do, with their backoff; loops
    /// that catch only the rate-limit exception do not.
    pub retry_server_errors: bool,
    /// Sleep the backoff delay after the final 429 too, before giving up (xAI's docs loop does).
    pub sleep_after_last_failure: bool,
    /// A time budget per request, from its arrival: the client stops retrying when the next
    /// wait would end past it (tenacity's `stop_before_delay`, api-core's timeout). With
    /// unlimited retries (`max_retries = u32::MAX`) it, or a deadline, is what stops the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_budget: Option<SimDuration>,
    /// A deadline per request, from its arrival, over all attempts (gRPC): the request ends at
    /// the deadline, whether it is sleeping, waiting in the client or being served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<SimDuration>,
    /// The policy of the SDK this loop wraps: each attempt of this policy is a whole inner
    /// retry loop (the xAI docs loop around openai-python sends up to 5 × 3 requests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner: Option<Box<ClientPolicy>>,
}

fn is_zero(d: &SimDuration) -> bool {
    *d == SimDuration::ZERO
}

/// A client: a retry policy and the state it shares across requests, under a name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientSpec {
    pub name: String,
    #[serde(flatten)]
    pub policy: ClientPolicy,
    #[serde(flatten)]
    pub shared: SharedSpec,
}

/// What the client does after a 429.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send the next attempt after this delay.
    Retry { after: SimDuration },
    /// Stop; the request ends after this delay (zero unless the client sleeps first).
    GiveUp { after: SimDuration, cause: Cause },
}

impl Action {
    fn give_up(cause: Cause) -> Action {
        Action::GiveUp {
            after: SimDuration::ZERO,
            cause,
        }
    }
}

/// A request's retry counters, carried in the request. Counts saturate at `u16::MAX`, far above
/// any finite `max_retries` (at most 1000).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tries {
    /// 429s in the current loop: the whole request, or for a nested policy the current outer
    /// attempt's inner loop.
    pub inner: u16,
    /// For a nested policy: outer attempts that have failed.
    pub outer: u16,
    /// `inner` at the last pushback: the backoff index restarts from there.
    pub reset: u16,
}

impl ClientPolicy {
    /// The named preset's retry policy, or `None` if there is no such preset.
    pub fn preset(name: &str) -> Option<ClientPolicy> {
        presets::preset(name).map(|(p, _)| p)
    }

    /// Decides what follows a 429, given the request's counters before it; returns the action
    /// and the counters after it. `previous_delay` is the delay before the attempt that just
    /// failed (zero after the first); `elapsed` is the time since the request arrived, when the
    /// client hears the 429.
    #[inline]
    pub fn on_rate_limited<R: rand::Rng + ?Sized>(
        &self,
        tries: Tries,
        retry_after: SimDuration,
        previous_delay: SimDuration,
        elapsed: SimDuration,
        rng: &mut R,
    ) -> (Action, Tries) {
        self.on_failure(tries, Some(retry_after), previous_delay, elapsed, rng)
    }

    /// As [`ClientPolicy::on_rate_limited`], for a failure that is a 429 with its Retry-After
    /// (`Some`) or a server error (`None`: no Retry-After; retried only if
    /// `retry_server_errors`, with the backoff).
    #[inline]
    pub fn on_failure<R: rand::Rng + ?Sized>(
        &self,
        tries: Tries,
        retry_after: Option<SimDuration>,
        previous_delay: SimDuration,
        elapsed: SimDuration,
        rng: &mut R,
    ) -> (Action, Tries) {
        self.on_failure_with(&NO_DELAYS, tries, retry_after, previous_delay, elapsed, rng)
    }

    /// As [`ClientPolicy::on_failure`], with the policy's delays computed in advance (the same
    /// values, sooner). Always inlined: the engine calls it on every 429.
    #[inline(always)]
    pub fn on_failure_with<R: rand::Rng + ?Sized>(
        &self,
        delays: &Delays,
        tries: Tries,
        retry_after: Option<SimDuration>,
        previous_delay: SimDuration,
        elapsed: SimDuration,
        rng: &mut R,
    ) -> (Action, Tries) {
        let failures = tries.inner.saturating_add(1);
        let Some(inner) = &self.inner else {
            let k = failures - tries.reset;
            let (action, pushback) = self.decide(
                delays,
                u32::from(failures),
                u32::from(k),
                retry_after,
                previous_delay,
                elapsed,
                rng,
            );
            let reset = if pushback { failures } else { tries.reset };
            return (
                action,
                Tries {
                    inner: failures,
                    reset,
                    ..tries
                },
            );
        };
        // The SDK inside decides first; when it gives up, this outer attempt has failed.
        let k = failures - tries.reset;
        let (action, pushback) = inner.decide(
            delays.inner.as_deref().unwrap_or(&NO_DELAYS),
            u32::from(failures),
            u32::from(k),
            retry_after,
            previous_delay,
            elapsed,
            rng,
        );
        let inner_sleep = match action {
            Action::Retry { .. } => {
                let reset = if pushback { failures } else { tries.reset };
                return (
                    action,
                    Tries {
                        inner: failures,
                        reset,
                        ..tries
                    },
                );
            }
            Action::GiveUp { after, .. } => after,
        };
        let outer = tries.outer.saturating_add(1);
        let (action, _) = self.decide(
            delays,
            u32::from(outer),
            u32::from(outer),
            retry_after,
            previous_delay,
            SimDuration(elapsed.0.saturating_add(inner_sleep.0)),
            rng,
        );
        let action = match action {
            Action::Retry { after } => Action::Retry {
                after: SimDuration(inner_sleep.0.saturating_add(after.0)),
            },
            Action::GiveUp { after, cause } => Action::GiveUp {
                after: SimDuration(inner_sleep.0.saturating_add(after.0)),
                cause,
            },
        };
        (
            action,
            Tries {
                inner: 0,
                outer,
                reset: 0,
            },
        )
    }

    /// Attempts one request makes when every attempt is refused and no limit on time applies.
    pub fn attempts_when_all_refused(&self) -> u64 {
        let own = u64::from(self.max_retries).saturating_add(1);
        match &self.inner {
            Some(i) => own.saturating_mul(i.attempts_when_all_refused()),
            None => own,
        }
    }

    /// One loop's decision after its `failures`-th 429 (from 1); `k` is the backoff index.
    /// Returns the action and whether the wait was a pushback (which restarts the backoff).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn decide<R: rand::Rng + ?Sized>(
        &self,
        delays: &Delays,
        failures: u32,
        k: u32,
        retry_after: Option<SimDuration>,
        previous_delay: SimDuration,
        elapsed: SimDuration,
        rng: &mut R,
    ) -> (Action, bool) {
        let Some(retry_after) = retry_after else {
            // A server error: no Retry-After, the backoff decides.
            if !self.retry_server_errors {
                return (Action::give_up(Cause::ServerError), false);
            }
            return self.wait_or_stop(
                delays,
                failures <= self.max_retries,
                None,
                false,
                k,
                previous_delay,
                elapsed,
                rng,
            );
        };
        if !self.retry_rate_limited {
            return (Action::give_up(Cause::NotRetried), false);
        }
        let retries_left = failures <= self.max_retries;
        let (delay, pushback) = match self.retry_after {
            RetryAfter::Honour { max, above_max } => {
                if max.is_none_or(|m| retry_after <= m) {
                    (Some(retry_after), false)
                } else if above_max == AboveMax::GiveUp {
                    return (Action::give_up(Cause::RetryAfterTooLarge), false);
                } else {
                    (None, false)
                }
            }
            RetryAfter::Pushback => (Some(retry_after), true),
            RetryAfter::Ignore => (None, false),
        };
        self.wait_or_stop(
            delays,
            retries_left,
            delay,
            pushback,
            k,
            previous_delay,
            elapsed,
            rng,
        )
    }

    /// The wait before the next attempt (`delay`, or the backoff), unless retries, the time
    /// budget or the deadline stop the request.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn wait_or_stop<R: rand::Rng + ?Sized>(
        &self,
        delays: &Delays,
        retries_left: bool,
        delay: Option<SimDuration>,
        pushback: bool,
        k: u32,
        previous_delay: SimDuration,
        elapsed: SimDuration,
        rng: &mut R,
    ) -> (Action, bool) {
        if !retries_left && !self.sleep_after_last_failure {
            return (Action::give_up(Cause::RetriesExhausted), false);
        }
        let after = delay.unwrap_or_else(|| self.backoff_with(delays, k, previous_delay, rng));
        let ends = SimDuration(elapsed.0.saturating_add(after.0));
        if self.time_budget.is_some_and(|b| ends > b) {
            // The next attempt would come too late: stop now.
            return (Action::give_up(Cause::TimeBudget), false);
        }
        if let Some(d) = self.deadline
            && ends >= d
        {
            // The call fails when its deadline passes, during the wait.
            return (
                Action::GiveUp {
                    after: SimDuration(d.0.saturating_sub(elapsed.0)),
                    cause: Cause::Deadline,
                },
                false,
            );
        }
        if retries_left {
            (Action::Retry { after }, pushback)
        } else {
            (
                Action::GiveUp {
                    after,
                    cause: Cause::RetriesExhausted,
                },
                false,
            )
        }
    }

    /// The capped exponential delay before jitter for the k-th retry (k from 1).
    #[inline(always)]
    pub fn exponential(&self, k: u32) -> SimDuration {
        let raw = self.uncapped(k);
        let capped = match self.max_delay {
            Some(cap) => raw.min(cap.as_secs_f64()),
            None => raw,
        };
        // Delays past a million years mean "never" for any run; keep the arithmetic finite.
        SimDuration::from_secs_f64(capped.min(3.0e13))
    }

    fn uncapped(&self, k: u32) -> f64 {
        let n = k.saturating_sub(1).min(100_000) as i32;
        let growth = if self.multiplier == 2.0 && n < 1000 {
            // 2^n exactly, as powi gives it, without the library call.
            f64::from_bits(((1023 + n) as u64) << 52)
        } else {
            // Behind an opaque value, so that the compiler does not call `powi` on the fast
            // path too (it would, the call having no side effect, to avoid a branch).
            std::hint::black_box(self.multiplier).powi(n)
        };
        self.base_delay.as_secs_f64() * growth
    }

    /// The jittered backoff delay of the k-th retry.
    pub fn backoff<R: rand::Rng + ?Sized>(
        &self,
        k: u32,
        previous_delay: SimDuration,
        rng: &mut R,
    ) -> SimDuration {
        self.backoff_with(&NO_DELAYS, k, previous_delay, rng)
    }

    #[inline(always)]
    fn backoff_with<R: rand::Rng + ?Sized>(
        &self,
        delays: &Delays,
        k: u32,
        previous_delay: SimDuration,
        rng: &mut R,
    ) -> SimDuration {
        let (b, b_secs) = delays.get(self, k);
        let floor = self.min_delay;
        let d = match self.jitter {
            Jitter::None => b,
            Jitter::Full if floor > SimDuration::ZERO => {
                let (lo, hi) = (floor.as_secs_f64(), b.max(floor).as_secs_f64());
                SimDuration::from_secs_f64(lo + (hi - lo) * crate::random::unit_f64(rng))
            }
            Jitter::Full => SimDuration::from_secs_f64(b_secs * crate::random::unit_f64(rng)),
            Jitter::Equal => {
                let half = b_secs / 2.0;
                SimDuration::from_secs_f64(half + half * crate::random::unit_f64(rng))
            }
            Jitter::Decorrelated => {
                let base = self.base_delay.as_secs_f64();
                let prev = if previous_delay == SimDuration::ZERO {
                    base
                } else {
                    previous_delay.as_secs_f64()
                };
                let high = (prev * self.multiplier).max(base);
                let d = base + (high - base) * crate::random::unit_f64(rng);
                let d = match self.max_delay {
                    Some(cap) => d.min(cap.as_secs_f64()),
                    None => d,
                };
                SimDuration::from_secs_f64(d)
            }
            Jitter::Scaled { low, high } => {
                let f = low + (high - low) * crate::random::unit_f64(rng);
                SimDuration::from_secs_f64(b_secs * f)
            }
            Jitter::Additive { amount } => {
                let raw = self.uncapped(k) + amount.as_secs_f64() * crate::random::unit_f64(rng);
                let d = match self.max_delay {
                    Some(cap) => raw.min(cap.as_secs_f64()),
                    None => raw,
                };
                SimDuration::from_secs_f64(d.min(3.0e13))
            }
        };
        d.max(floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn delays_in_advance_decide_as_delays_computed_each_time() {
        // Every preset and every jitter, nested or not, far past the 64 delays kept.
        let mut policies: Vec<ClientPolicy> = presets::PRESETS
            .iter()
            .filter_map(|(name, _, _)| ClientPolicy::preset(name))
            .collect();
        for jitter in [
            Jitter::None,
            Jitter::Full,
            Jitter::Equal,
            Jitter::Decorrelated,
            Jitter::Scaled {
                low: 0.75,
                high: 1.0,
            },
            Jitter::Additive { amount: secs(1) },
        ] {
            policies.push(ClientPolicy {
                jitter,
                max_retries: 100,
                multiplier: 1.7,
                min_delay: SimDuration::from_millis(300),
                max_delay: Some(secs(3_000)),
                ..presets::bare()
            });
        }
        for p in policies {
            let delays = Delays::of(&p);
            let (mut a, mut b) = (rng(), rng());
            let mut tries = Tries::default();
            let mut prev = SimDuration::ZERO;
            for n in 0..100u64 {
                let retry_after = (n % 3 != 0).then_some(secs(n % 7));
                let elapsed = secs(n);
                let x = p.on_failure(tries, retry_after, prev, elapsed, &mut a);
                let y = p.on_failure_with(&delays, tries, retry_after, prev, elapsed, &mut b);
                assert_eq!(x, y, "{:?} after {n}", p.preset);
                if let Action::Retry { after } = x.0 {
                    prev = after;
                }
                tries = x.1;
            }
        }
    }

    fn rng() -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(7)
    }

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    /// Runs a policy against a server that always says 429 with the given Retry-After.
    fn schedule(p: &ClientPolicy, retry_after: SimDuration) -> (Vec<SimDuration>, SimDuration) {
        let (d, last, _) = schedule_with_cause(p, retry_after);
        (d, last)
    }

    fn schedule_with_cause(
        p: &ClientPolicy,
        retry_after: SimDuration,
    ) -> (Vec<SimDuration>, SimDuration, Cause) {
        let mut r = rng();
        let mut delays = Vec::new();
        let mut prev = SimDuration::ZERO;
        let mut tries = Tries::default();
        let mut elapsed = SimDuration::ZERO;
        loop {
            let (a, t) = p.on_rate_limited(tries, retry_after, prev, elapsed, &mut r);
            tries = t;
            match a {
                Action::Retry { after } => {
                    delays.push(after);
                    prev = after;
                    elapsed = SimDuration(elapsed.0 + after.0);
                }
                Action::GiveUp { after, cause } => return (delays, after, cause),
            }
        }
    }

    fn give_up(cause: Cause) -> Action {
        Action::GiveUp {
            after: SimDuration::ZERO,
            cause,
        }
    }

    /// The law of each preset's k-th backoff delay: (low, high, mean, sd) in seconds.
    fn law(preset: &str, k: u32) -> (f64, f64, f64, f64) {
        let two = 2f64.powi(k as i32 - 1);
        match preset {
            "openai-python" | "anthropic-python" => {
                let b = (0.5 * two).min(8.0);
                (0.75 * b, b, 0.875 * b, 0.25 * b / 12f64.sqrt())
            }
            "tenacity-cookbook" => {
                let hi = two.clamp(1.0, 60.0);
                (1.0, hi, (1.0 + hi) / 2.0, (hi - 1.0) / 12f64.sqrt())
            }
            "backoff-cookbook" => (0.0, two, two / 2.0, two / 12f64.sqrt()),
            "xai-docs" | "xai-docs-openai" => (two, two, two, 0.0),
            "aws-standard" | "aws-adaptive" => {
                let h = two.min(20.0);
                (0.0, h, h / 2.0, h / 12f64.sqrt())
            }
            "google-api-core" => {
                let h = two.min(60.0);
                (0.0, h, h / 2.0, h / 12f64.sqrt())
            }
            "langchain-openai" => (two, two + 1.0, two + 0.5, 1.0 / 12f64.sqrt()),
            "xai-sdk" => {
                let b = (0.1 * two).min(1.0);
                (0.8 * b, 1.2 * b, b, 0.4 * b / 12f64.sqrt())
            }
            "grpc" => {
                let b = (0.5 * 1.5f64.powi(k as i32 - 1)).min(2.0);
                (0.8 * b, 1.2 * b, b, 0.4 * b / 12f64.sqrt())
            }
            other => panic!("no law for {other}"),
        }
    }

    #[test]
    fn every_presets_delays_follow_its_law() {
        let n = 20_000;
        for (name, _, _) in PRESETS {
            let p = ClientPolicy::preset(name).unwrap();
            if p.max_retries == 0 || !p.retry_rate_limited {
                // none and xai-sdk: the first 429 surfaces at once.
                let mut r = rng();
                let first = p
                    .on_rate_limited(
                        Tries::default(),
                        secs(1),
                        SimDuration::ZERO,
                        SimDuration::ZERO,
                        &mut r,
                    )
                    .0;
                assert!(
                    matches!(
                        first,
                        Action::GiveUp {
                            after: SimDuration::ZERO,
                            ..
                        }
                    ),
                    "{name}"
                );
                if p.max_retries == 0 {
                    continue;
                }
            }
            // Nested presets: the outer loop's law here, the inner one is openai-python's.
            let p = ClientPolicy { inner: None, ..p };
            // Unlimited retries: the first 12 (the cap of 60 s is reached at k = 7).
            let k_max = p.max_retries.min(12);
            let mut r = rng();
            for k in 1..=k_max {
                let (lo, hi, mean, sd) = law(name, k);
                let xs: Vec<f64> = (0..n)
                    .map(|_| p.backoff(k, SimDuration::ZERO, &mut r).as_secs_f64())
                    .collect();
                assert!(
                    xs.iter().all(|&x| x >= lo - 1e-9 && x <= hi + 1e-9),
                    "{name} k={k}: outside [{lo}, {hi}]"
                );
                let got = xs.iter().sum::<f64>() / n as f64;
                assert!(
                    (got - mean).abs() <= 4.0 * sd / (n as f64).sqrt() + 1e-9,
                    "{name} k={k}: mean {got}, law {mean}"
                );
            }
        }
    }

    #[test]
    fn tenacity_cookbook_first_delay_is_exactly_one_second() {
        let p = ClientPolicy::preset("tenacity-cookbook").unwrap();
        let mut r = rng();
        for _ in 0..100 {
            assert_eq!(p.backoff(1, SimDuration::ZERO, &mut r), secs(1));
        }
        let (delays, _) = schedule(&p, secs(3));
        assert_eq!(delays.len(), 5, "stop_after_attempt(6): five retries");
    }

    #[test]
    fn anthropic_honours_every_retry_after_however_large() {
        let p = ClientPolicy::preset("anthropic-python").unwrap();
        let mut r = rng();
        let z = SimDuration::ZERO;
        assert_eq!(
            p.on_rate_limited(Tries::default(), secs(3_600), z, z, &mut r)
                .0,
            Action::Retry { after: secs(3_600) }
        );
        let o = ClientPolicy::preset("openai-python").unwrap();
        assert_eq!(
            o.on_rate_limited(Tries::default(), secs(3_600), z, z, &mut r)
                .0,
            give_up(Cause::RetryAfterTooLarge)
        );
    }

    #[test]
    fn xai_docs_sleeps_1_2_4_8_then_16_before_giving_up() {
        let p = ClientPolicy::preset("xai-docs").unwrap();
        let (delays, last) = schedule(&p, secs(3));
        assert_eq!(delays, [secs(1), secs(2), secs(4), secs(8)]);
        assert_eq!(last, secs(16));
    }

    #[test]
    fn none_gives_up_at_once() {
        let p = ClientPolicy::preset("none").unwrap();
        assert_eq!(schedule(&p, secs(1)), (vec![], SimDuration::ZERO));
    }

    #[test]
    fn openai_honours_retry_after_up_to_120s_and_refuses_above() {
        let p = ClientPolicy::preset("openai-python").unwrap();
        let (d, last) = schedule(&p, secs(5));
        assert_eq!(d, [secs(5), secs(5)]);
        assert_eq!(last, SimDuration::ZERO);
        let (d, _) = schedule(&p, secs(120));
        assert_eq!(d.len(), 2);
        let (d, last) = schedule(&p, secs(121));
        assert!(d.is_empty());
        assert_eq!(last, SimDuration::ZERO);
    }

    #[test]
    fn openai_backoff_without_retry_after_matches_the_check_table() {
        // Ignoring Retry-After isolates the formula min(0.5*2^(k-1), 8) * (1 - 0.25U).
        let p = ClientPolicy {
            retry_after: RetryAfter::Ignore,
            ..ClientPolicy::preset("openai-python").unwrap()
        };
        let table = [
            (1, 0.4375, 0.0361, 0.5),
            (2, 0.875, 0.0722, 1.0),
            (5, 7.0, 0.5774, 8.0),
            (6, 7.0, 0.5774, 8.0),
        ];
        check_table(&p, &table, &|d, max| {
            d > 0.75 * max - 1e-9 && d <= max + 1e-9
        });
    }

    /// Samples each (k, mean, sd, max) row of a check table: every delay in range, the mean
    /// within 4 sd / sqrt(N) of the table's.
    fn check_table(
        p: &ClientPolicy,
        table: &[(u32, f64, f64, f64)],
        in_range: &dyn Fn(f64, f64) -> bool,
    ) {
        let mut r = rng();
        let n = 20_000;
        for &(k, mean, sd, max) in table {
            let mut sum = 0.0;
            for _ in 0..n {
                let d = p.backoff(k, SimDuration::ZERO, &mut r).as_secs_f64();
                assert!(in_range(d, max), "k={k} d={d}");
                sum += d;
            }
            let m = sum / n as f64;
            assert!(
                (m - mean).abs() < 4.0 * sd / (n as f64).sqrt(),
                "k={k} mean {m} vs {mean}"
            );
        }
    }

    #[test]
    fn full_jitter_matches_the_aws_check_table() {
        let p = ClientPolicy {
            max_retries: 10,
            base_delay: secs(1),
            multiplier: 2.0,
            max_delay: Some(secs(20)),
            jitter: Jitter::Full,
            ..presets::bare()
        };
        let table = [
            (1, 0.5, 0.2887, 1.0),
            (3, 2.0, 1.1547, 4.0),
            (6, 10.0, 5.7735, 20.0),
        ];
        check_table(&p, &table, &|d, max| (0.0..max).contains(&d));
    }

    #[test]
    fn equal_and_decorrelated_jitter_stay_in_their_ranges() {
        let mut p = ClientPolicy {
            max_retries: 10,
            base_delay: secs(1),
            multiplier: 3.0,
            max_delay: Some(secs(20)),
            jitter: Jitter::Equal,
            ..presets::bare()
        };
        let mut r = rng();
        for _ in 0..1000 {
            let d = p.backoff(2, SimDuration::ZERO, &mut r).as_secs_f64();
            assert!((1.5..3.0).contains(&d), "{d}");
        }
        p.jitter = Jitter::Decorrelated;
        for _ in 0..1000 {
            let d = p.backoff(2, secs(4), &mut r).as_secs_f64();
            assert!((1.0..12.0).contains(&d), "{d}");
            let d = p.backoff(2, secs(10), &mut r).as_secs_f64();
            assert!((1.0..=20.0).contains(&d), "{d}");
        }
    }

    #[test]
    fn backoff_ignores_an_oversized_retry_after_when_told_to() {
        let p = ClientPolicy {
            retry_after: RetryAfter::Honour {
                max: Some(secs(60)),
                above_max: AboveMax::Backoff,
            },
            jitter: Jitter::None,
            ..ClientPolicy::preset("openai-python").unwrap()
        };
        let (d, _) = schedule(&p, secs(90));
        assert_eq!(d, [SimDuration::from_millis(500), secs(1)]);
    }
    #[test]
    fn nested_docs_loop_over_openai_makes_15_attempts_when_all_are_refused() {
        let p = ClientPolicy::preset("xai-docs-openai").unwrap();
        assert_eq!(p.attempts_when_all_refused(), 15);
        // Retry-After 0.3 s: openai-python waits it exactly, twice per outer attempt.
        let ra = SimDuration::from_millis(300);
        let (d, last, cause) = schedule_with_cause(&p, ra);
        assert_eq!(d.len() + 1, 15, "attempts");
        assert_eq!(cause, Cause::RetriesExhausted);
        // Between outer attempts: the SDK gives up at once, then the loop sleeps 2^k s.
        let outer: Vec<SimDuration> = d.iter().copied().filter(|x| *x != ra).collect();
        assert_eq!(outer, [secs(1), secs(2), secs(4), secs(8)]);
        assert_eq!(
            last,
            secs(16),
            "the docs loop sleeps after its last failure too"
        );
    }

    #[test]
    fn langchain_and_tenacity_around_openai_multiply_attempts() {
        let lc = ClientPolicy::preset("langchain-openai").unwrap();
        let (d, _, _) = schedule_with_cause(&lc, SimDuration::from_millis(300));
        assert_eq!(d.len() + 1, 9);
        let t6 = ClientPolicy {
            inner: Some(Box::new(ClientPolicy::preset("openai-python").unwrap())),
            ..ClientPolicy::preset("tenacity-cookbook").unwrap()
        };
        assert_eq!(t6.attempts_when_all_refused(), 18);
        let (d, _, _) = schedule_with_cause(&t6, SimDuration::from_millis(300));
        assert_eq!(d.len() + 1, 18);
    }

    #[test]
    fn xai_sdk_does_not_retry_a_rate_limit() {
        let p = ClientPolicy::preset("xai-sdk").unwrap();
        let (d, last, cause) = schedule_with_cause(&p, secs(1));
        assert!(d.is_empty());
        assert_eq!((last, cause), (SimDuration::ZERO, Cause::NotRetried));
    }

    #[test]
    fn a_pushback_is_followed_exactly_and_restarts_the_backoff() {
        let p = ClientPolicy {
            max_retries: 10,
            base_delay: secs(1),
            multiplier: 2.0,
            jitter: Jitter::None,
            retry_after: RetryAfter::Pushback,
            ..ClientPolicy::preset("none").unwrap()
        };
        let mut r = rng();
        let z = SimDuration::ZERO;
        let (a, t) = p.on_rate_limited(Tries::default(), secs(7), z, z, &mut r);
        assert_eq!(a, Action::Retry { after: secs(7) });
        assert_eq!(t.reset, 1);
        // Without a pushback the backoff index restarts at 1 after it: 1 s, then 2 s.
        let q = ClientPolicy {
            retry_after: RetryAfter::Ignore,
            ..p.clone()
        };
        let (a, t) = q.on_rate_limited(t, secs(7), z, z, &mut r);
        assert_eq!(a, Action::Retry { after: secs(1) });
        let (a, _) = q.on_rate_limited(t, secs(7), z, z, &mut r);
        assert_eq!(a, Action::Retry { after: secs(2) });
    }

    #[test]
    fn a_deadline_ends_the_request_during_the_wait_that_crosses_it() {
        let p = ClientPolicy {
            max_retries: 100,
            base_delay: secs(10),
            multiplier: 1.0,
            deadline: Some(secs(25)),
            ..ClientPolicy::preset("none").unwrap()
        };
        let (d, last, cause) = schedule_with_cause(&p, secs(1));
        assert_eq!(d, [secs(10), secs(10)]);
        assert_eq!((last, cause), (secs(5), Cause::Deadline));
    }

    #[test]
    fn api_core_stops_before_a_sleep_would_cross_its_timeout() {
        let p = ClientPolicy::preset("google-api-core").unwrap();
        for seed in 0..200 {
            let mut r = Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut tries = Tries::default();
            let mut elapsed = SimDuration::ZERO;
            loop {
                let (a, t) = p.on_rate_limited(tries, secs(1), SimDuration::ZERO, elapsed, &mut r);
                tries = t;
                match a {
                    Action::Retry { after } => elapsed = SimDuration(elapsed.0 + after.0),
                    Action::GiveUp { after, cause } => {
                        assert_eq!((after, cause), (SimDuration::ZERO, Cause::TimeBudget));
                        break;
                    }
                }
                assert!(elapsed <= secs(120));
            }
        }
    }

    #[test]
    fn powers_of_two_are_exactly_powi() {
        for n in 0..1000 {
            assert_eq!(
                f64::from_bits(((1023 + n) as u64) << 52),
                2f64.powi(n),
                "{n}"
            );
        }
    }
}
