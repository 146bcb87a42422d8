//! What a client shares across its requests: the settings ([`SharedSpec`]); the running state
//! is in [`super::state`]. Every mechanism is optional, and a client with none of them keeps
//! no state at all (the engine's fast path).

use serde::Serialize;

use crate::catalog::Milli;
use crate::time::SimDuration;

/// The shared mechanisms of one client.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SharedSpec {
    /// At most this many requests in flight (first attempt to end, backoff sleeps included, as
    /// a semaphore around the call holds its permit); excess requests wait in a FIFO queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Proactive pacing: a client-side limiter at a share of the server's caps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pace: Option<Pace>,
    /// Header-driven pacing: hold attempts while the last rate-limit headers say remaining is
    /// used up, until their reset time.
    #[serde(skip_serializing_if = "is_false")]
    pub header_pacing: bool,
    /// An adaptive client-side rate (AIMD, or botocore's CUBIC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<Adaptive>,
    /// AWS's retry quota (botocore standard mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_quota: Option<RetryQuota>,
    /// gRPC's retry throttling: a token bucket of retries earned by successes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_budget: Option<RetryBudget>,
    /// A circuit breaker (resilience4j's count-based one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker: Option<Breaker>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl SharedSpec {
    /// Whether the client keeps no state across requests.
    pub fn is_stateless(&self) -> bool {
        *self == SharedSpec::default()
    }

    /// Whether attempts may have to wait in the client before they are sent.
    pub fn gates_sends(&self) -> bool {
        self.pace.is_some() || self.header_pacing || self.adaptive.is_some()
    }
}

/// Proactive pacing, as the OpenAI cookbook's parallel processor does it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Pace {
    /// The share of each server cap the client allows itself, in thousandths (900 = 90 %).
    /// The client's buckets have the server's shape (capacity and rate) scaled by it.
    pub share: Milli,
    /// Pace requests (the RPS cap).
    pub requests: bool,
    /// Pace tokens (the TPM cap), charging each attempt's tokens.
    pub tokens: bool,
    /// After any 429, hold every attempt of the client for this long (the cookbook: 15 s).
    pub pause_after_429: SimDuration,
}

/// An adaptive client-side rate: every attempt takes one token from a bucket whose rate moves.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Adaptive {
    /// Additive increase, multiplicative decrease: the rate grows by `increase` req/s per
    /// second without a 429, and is multiplied by `decrease` on a 429 (at most once per
    /// `cooldown`), never below `min_rate`.
    Aimd {
        initial_rate: f64,
        increase: f64,
        decrease: f64,
        min_rate: f64,
        cooldown: SimDuration,
    },
    /// botocore's adaptive mode: off until the first throttling response, then a token bucket
    /// whose rate follows CUBIC (C = 0.4, β = 0.7) and a measured send rate.
    Cubic,
}

/// botocore's retry quota: each retry costs `retry_cost`; a success refunds the cost of its
/// last retry, or `no_retry_refund` if it had none; capped at `capacity` (also the start).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RetryQuota {
    pub capacity: u32,
    pub retry_cost: u32,
    pub no_retry_refund: u32,
}

impl Default for RetryQuota {
    fn default() -> Self {
        RetryQuota {
            capacity: 500,
            retry_cost: 5,
            no_retry_refund: 1,
        }
    }
}

/// gRPC retry throttling (gRFC A6): tokens start at `max_tokens`; each 429 takes one (floor
/// 0), each success adds `token_ratio` (capped); a retry is allowed only while the tokens are
/// above half of `max_tokens`, after the decrement. Both in thousandths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RetryBudget {
    pub max_tokens: Milli,
    pub token_ratio: Milli,
}

/// A count-based circuit breaker, as resilience4j's: over the last `window` attempts (once
/// there are `min_calls` of them), a 429 share at or above `failure_rate_pct` opens it; open,
/// it refuses every attempt for `open_for`; then half-open, it lets `half_open_calls` trial
/// attempts through and closes if their 429 share is below the threshold, else opens again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Breaker {
    pub failure_rate_pct: u32,
    pub window: u32,
    pub min_calls: u32,
    pub open_for: SimDuration,
    pub half_open_calls: u32,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            failure_rate_pct: 50,
            window: 100,
            min_calls: 100,
            open_for: SimDuration::from_secs(60),
            half_open_calls: 10,
        }
    }
}
