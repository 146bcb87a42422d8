//! Built-in clients that reproduce real SDKs and retry libraries. The laws and their sources
//! are in `../shared/guide/client-policies.md` (measured against the real packages, 2026-11).
//! Each preset is a set of general knobs; every field can be overridden in a scenario.

use super::shared::{Adaptive, RetryBudget, RetryQuota, SharedSpec};
use super::{AboveMax, ClientPolicy, Jitter, RetryAfter};
use crate::catalog::Milli;
use crate::time::SimDuration;

/// Built-in presets: name, the package (and version) it follows, and its law in one line.
pub const PRESETS: &[(&str, &str, &str)] = &[
    ("none", "-", "no retries: every 429 surfaces to the caller"),
    (
        "xai-docs",
        "the loop on xAI's Rate Limits page",
        "5 attempts, sleeping 1, 2, 4, 8, 16 s (also after the last 429), no jitter",
    ),
    (
        "openai-python",
        "openai 3.57.0",
        "2 retries, min(0.5 s * 2^n, 8 s) * U(0.75, 1]; Retry-After honoured exactly up to 120 s, above that no retry",
    ),
    (
        "anthropic-python",
        "anthropic 2.14.0",
        "2 retries, min(0.5 s * 2^n, 8 s) * U(0.75, 1]; every Retry-After honoured exactly, however large",
    ),
    (
        "xai-sdk",
        "xai-sdk 1.21.0 (gRPC)",
        "a 429 (RESOURCE_EXHAUSTED) is not retried; its law for UNAVAILABLE: 4 retries, min(0.1 s * 2^n, 1 s) * U(0.8, 1.2), 1,620 s deadline",
    ),
    (
        "xai-docs-openai",
        "the xAI docs loop around openai 3.57.0",
        "outer: the docs loop (5 attempts, 1, 2, 4, 8, 16 s); inner: openai-python's own 2 retries; up to 15 requests per call",
    ),
    (
        "tenacity-cookbook",
        "tenacity 9.2.1, OpenAI cookbook",
        "wait_random_exponential(min=1, max=60), stop_after_attempt(6): the k-th delay U(1, clamp(2^(k-1), 1, 60)), 5 retries",
    ),
    (
        "backoff-cookbook",
        "backoff 2.2.1, OpenAI cookbook",
        "on_exception(expo): the k-th delay U(0, 2^(k-1)), no cap; the real one never stops, this one stops after 10 retries (max_retries)",
    ),
    (
        "langchain-openai",
        "langchain-core with_retry() around ChatOpenAI (openai 3.57.0)",
        "outer: stop_after_attempt(3), wait_exponential_jitter: 2^(k-1) + U(0, 1) s, uncapped; inner: openai-python's 2 retries; up to 9 requests",
    ),
    (
        "aws-standard",
        "botocore 1.43 standard mode",
        "2 retries, U(0, min(2^(k-1), 20 s)); a retry quota per client of 500, 5 per retry, refunded on success",
    ),
    (
        "aws-adaptive",
        "botocore 1.43 adaptive mode",
        "aws-standard plus a client-side token bucket whose rate follows CUBIC (C = 0.4, beta = 0.7) after the first throttle",
    ),
    (
        "grpc",
        "gRPC retry policy (gRFC A6) as in xai-sdk's README, retrying RESOURCE_EXHAUSTED",
        "2 retries, min(0.5 s * 1.5^(k-1), 2 s) * U(0.8, 1.2); retry throttling 10 tokens, ratio 0.1; 1,620 s deadline",
    ),
    (
        "google-api-core",
        "google-api-core 2.29.1 Retry",
        "U(0, min(2^(k-1), 60 s)), unlimited retries, stopped before a sleep would cross its 120 s timeout",
    ),
];

/// A policy with no retries and every knob at its neutral value: the base of every preset.
pub fn bare() -> ClientPolicy {
    ClientPolicy {
        preset: None,
        max_retries: 0,
        base_delay: SimDuration::ZERO,
        multiplier: 1.0,
        max_delay: None,
        jitter: Jitter::None,
        min_delay: SimDuration::ZERO,
        retry_after: RetryAfter::Ignore,
        retry_rate_limited: true,
        retry_server_errors: true,
        sleep_after_last_failure: false,
        time_budget: None,
        deadline: None,
        inner: None,
    }
}

fn openai() -> ClientPolicy {
    ClientPolicy {
        max_retries: 2,
        base_delay: SimDuration::from_millis(500),
        multiplier: 2.0,
        max_delay: Some(SimDuration::from_secs(8)),
        jitter: Jitter::Scaled {
            low: 0.75,
            high: 1.0,
        },
        retry_after: RetryAfter::Honour {
            max: Some(SimDuration::from_secs(120)),
            above_max: AboveMax::GiveUp,
        },
        ..bare()
    }
}

fn xai_docs() -> ClientPolicy {
    ClientPolicy {
        max_retries: 4,
        base_delay: SimDuration::from_secs(1),
        multiplier: 2.0,
        sleep_after_last_failure: true,
        // The loop catches RateLimitError only.
        retry_server_errors: false,
        ..bare()
    }
}

fn aws_standard() -> ClientPolicy {
    ClientPolicy {
        max_retries: 2,
        base_delay: SimDuration::from_secs(1),
        multiplier: 2.0,
        max_delay: Some(SimDuration::from_secs(20)),
        jitter: Jitter::Full,
        ..bare()
    }
}

/// The policy of a client without a preset: 3 retries, 1 s doubling to at most 60 s, full
/// jitter (documented in the README).
pub fn unnamed() -> ClientPolicy {
    ClientPolicy {
        max_retries: 3,
        base_delay: SimDuration::from_secs(1),
        multiplier: 2.0,
        max_delay: Some(SimDuration::from_secs(60)),
        jitter: Jitter::Full,
        ..bare()
    }
}

/// The named preset's retry policy and shared state, or `None` if there is no such preset.
pub fn preset(name: &str) -> Option<(ClientPolicy, SharedSpec)> {
    let none = SharedSpec::default;
    let (p, shared) = match name {
        "none" => (bare(), none()),
        "xai-docs" => (xai_docs(), none()),
        "openai-python" => (openai(), none()),
        "anthropic-python" => (
            ClientPolicy {
                retry_after: RetryAfter::Honour {
                    max: None,
                    above_max: AboveMax::GiveUp,
                },
                ..openai()
            },
            none(),
        ),
        "xai-sdk" => (
            ClientPolicy {
                max_retries: 4,
                base_delay: SimDuration::from_millis(100),
                multiplier: 2.0,
                max_delay: Some(SimDuration::from_secs(1)),
                jitter: Jitter::Scaled {
                    low: 0.8,
                    high: 1.2,
                },
                retry_rate_limited: false,
                deadline: Some(SimDuration::from_secs(1620)),
                ..bare()
            },
            none(),
        ),
        "xai-docs-openai" => (
            ClientPolicy {
                inner: Some(Box::new(openai())),
                ..xai_docs()
            },
            none(),
        ),
        "tenacity-cookbook" => (
            ClientPolicy {
                max_retries: 5,
                base_delay: SimDuration::from_secs(1),
                multiplier: 2.0,
                max_delay: Some(SimDuration::from_secs(60)),
                jitter: Jitter::Full,
                min_delay: SimDuration::from_secs(1),
                ..bare()
            },
            none(),
        ),
        "backoff-cookbook" => (
            ClientPolicy {
                // on_exception(expo, RateLimitError): other errors surface.
                retry_server_errors: false,
                max_retries: 10,
                base_delay: SimDuration::from_secs(1),
                multiplier: 2.0,
                jitter: Jitter::Full,
                ..bare()
            },
            none(),
        ),
        "langchain-openai" => (
            ClientPolicy {
                max_retries: 2,
                base_delay: SimDuration::from_secs(1),
                multiplier: 2.0,
                jitter: Jitter::Additive {
                    amount: SimDuration::from_secs(1),
                },
                inner: Some(Box::new(openai())),
                ..bare()
            },
            none(),
        ),
        "aws-standard" => (
            aws_standard(),
            SharedSpec {
                retry_quota: Some(RetryQuota::default()),
                ..none()
            },
        ),
        "aws-adaptive" => (
            aws_standard(),
            SharedSpec {
                retry_quota: Some(RetryQuota::default()),
                adaptive: Some(Adaptive::Cubic),
                ..none()
            },
        ),
        "grpc" => (
            ClientPolicy {
                max_retries: 2,
                base_delay: SimDuration::from_millis(500),
                multiplier: 1.5,
                max_delay: Some(SimDuration::from_secs(2)),
                jitter: Jitter::Scaled {
                    low: 0.8,
                    high: 1.2,
                },
                deadline: Some(SimDuration::from_secs(1620)),
                ..bare()
            },
            SharedSpec {
                retry_budget: Some(RetryBudget {
                    max_tokens: Milli::from_units(10),
                    token_ratio: Milli(100),
                }),
                ..none()
            },
        ),
        "google-api-core" => (
            ClientPolicy {
                max_retries: u32::MAX,
                base_delay: SimDuration::from_secs(1),
                multiplier: 2.0,
                max_delay: Some(SimDuration::from_secs(60)),
                jitter: Jitter::Full,
                time_budget: Some(SimDuration::from_secs(120)),
                ..bare()
            },
            none(),
        ),
        _ => return None,
    };
    Some((
        ClientPolicy {
            preset: Some(name.to_string()),
            ..p
        },
        shared,
    ))
}
