//! Client retry policies: what a caller does after a 429.
//!
//! A [`ClientPolicy`] is a pure function of (how many 429s this request has had, the server's
//! Retry-After, the previous delay, a random stream) to an [`Action`]. It never touches the
//! event queue or the limiter; the engine schedules what it returns. Presets reproduce real
//! clients (the retry loop on xAI's "Rate Limits" page, openai-python 3.x's `_base_client.py`);
//! each is a named set of the same knobs, so new presets are one entry in
//! [`ClientPolicy::preset`].

use rand::RngExt;
use serde::Serialize;

use crate::time::SimDuration;

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
}

/// What to do with a 429 that carries Retry-After above the honoured maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AboveMax {
    /// Do not retry: the 429 surfaces to the caller (openai-python above 120 s).
    GiveUp,
    /// Ignore the header and back off as if it were absent (anthropic-python above 60 s).
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
}

/// A complete retry policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientPolicy {
    /// The preset this policy came from, if any (fields may have been overridden).
    pub preset: Option<String>,
    /// Retries after the first attempt (attempts = 1 + max_retries).
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
    /// Sleep the backoff delay after the final 429 too, before giving up (xAI's docs loop does).
    pub sleep_after_last_failure: bool,
    /// A time budget per request, from its arrival: the client stops retrying when the next
    /// wait would end past it (tenacity's `stop_after_delay`, backoff's `max_time`). With
    /// unlimited retries (`max_retries = u32::MAX`) it is what stops the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_budget: Option<SimDuration>,
}

fn is_zero(d: &SimDuration) -> bool {
    *d == SimDuration::ZERO
}

/// What the client does after a 429.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send the next attempt after this delay.
    Retry { after: SimDuration },
    /// Stop; the request ends as "gave up" after this delay (zero unless the client sleeps first).
    GiveUp { after: SimDuration },
}

/// Built-in presets: name and a one-line description.
pub const PRESETS: &[(&str, &str)] = &[
    ("none", "no retries: every 429 surfaces to the caller"),
    (
        "xai-docs",
        "the loop on xAI's Rate Limits page: 5 attempts, sleeping 1, 2, 4, 8, 16 s (also after the last 429), no jitter",
    ),
    (
        "openai-python",
        "openai-python 3.x: 2 retries, min(0.5 s * 2^n, 8 s) * U(0.75, 1]; Retry-After honoured exactly up to 120 s, above that no retry",
    ),
    (
        "anthropic-python",
        "anthropic 2.14: 2 retries, min(0.5 s * 2^n, 8 s) * U(0.75, 1]; every Retry-After honoured exactly, however large",
    ),
    (
        "tenacity-cookbook",
        "tenacity 9.2, OpenAI cookbook: wait_random_exponential(min=1, max=60), stop_after_attempt(6): the k-th delay U(1, clamp(2^(k-1), 1, 60)), 5 retries",
    ),
    (
        "backoff-cookbook",
        "backoff 2.2, OpenAI cookbook: on_exception(expo): the k-th delay U(0, 2^(k-1)), no cap; the real one never stops, this one stops after 10 retries (max_retries)",
    ),
    (
        "xai-sdk",
        "xai-sdk 1.21: a 429 (gRPC RESOURCE_EXHAUSTED) is not retried; the SDK retries only UNAVAILABLE, which the server model has no way to produce yet",
    ),
];

impl ClientPolicy {
    /// The named preset, or `None` if there is no such preset.
    pub fn preset(name: &str) -> Option<ClientPolicy> {
        let p = match name {
            "none" | "xai-sdk" => ClientPolicy {
                preset: None,
                max_retries: 0,
                base_delay: SimDuration::ZERO,
                multiplier: 1.0,
                max_delay: None,
                jitter: Jitter::None,
                min_delay: SimDuration::ZERO,
                retry_after: RetryAfter::Ignore,
                sleep_after_last_failure: false,
                time_budget: None,
            },
            "xai-docs" => ClientPolicy {
                preset: None,
                max_retries: 4,
                base_delay: SimDuration::from_secs(1),
                multiplier: 2.0,
                max_delay: None,
                jitter: Jitter::None,
                min_delay: SimDuration::ZERO,
                retry_after: RetryAfter::Ignore,
                sleep_after_last_failure: true,
                time_budget: None,
            },
            "openai-python" => ClientPolicy {
                preset: None,
                max_retries: 2,
                base_delay: SimDuration::from_millis(500),
                multiplier: 2.0,
                max_delay: Some(SimDuration::from_secs(8)),
                jitter: Jitter::Scaled {
                    low: 0.75,
                    high: 1.0,
                },
                min_delay: SimDuration::ZERO,
                retry_after: RetryAfter::Honour {
                    max: Some(SimDuration::from_secs(120)),
                    above_max: AboveMax::GiveUp,
                },
                sleep_after_last_failure: false,
                time_budget: None,
            },
            "anthropic-python" => ClientPolicy {
                retry_after: RetryAfter::Honour {
                    max: None,
                    above_max: AboveMax::GiveUp,
                },
                ..ClientPolicy::preset("openai-python")?
            },
            "tenacity-cookbook" => ClientPolicy {
                preset: None,
                max_retries: 5,
                base_delay: SimDuration::from_secs(1),
                multiplier: 2.0,
                max_delay: Some(SimDuration::from_secs(60)),
                jitter: Jitter::Full,
                min_delay: SimDuration::from_secs(1),
                retry_after: RetryAfter::Ignore,
                sleep_after_last_failure: false,
                time_budget: None,
            },
            "backoff-cookbook" => ClientPolicy {
                preset: None,
                max_retries: 10,
                base_delay: SimDuration::from_secs(1),
                multiplier: 2.0,
                max_delay: None,
                jitter: Jitter::Full,
                min_delay: SimDuration::ZERO,
                retry_after: RetryAfter::Ignore,
                sleep_after_last_failure: false,
                time_budget: None,
            },
            _ => return None,
        };
        Some(ClientPolicy {
            preset: Some(name.to_string()),
            ..p
        })
    }

    /// The capped exponential delay before jitter for the k-th retry (k from 1).
    pub fn exponential(&self, k: u32) -> SimDuration {
        let raw = self.base_delay.as_secs_f64() * self.multiplier.powi(k.saturating_sub(1) as i32);
        let capped = match self.max_delay {
            Some(cap) => raw.min(cap.as_secs_f64()),
            None => raw,
        };
        // Delays past a million years mean "never" for any run; keep the arithmetic finite.
        SimDuration::from_secs_f64(capped.min(3.0e13))
    }

    /// Decides what follows the `failures`-th 429 of a request (counting from 1).
    /// `previous_delay` is the delay before the attempt that just failed (zero after the first);
    /// `elapsed` is the time since the request arrived, when the client hears the 429.
    pub fn on_rate_limited<R: rand::Rng + ?Sized>(
        &self,
        failures: u32,
        retry_after: SimDuration,
        previous_delay: SimDuration,
        elapsed: SimDuration,
        rng: &mut R,
    ) -> Action {
        let retries_left = failures <= self.max_retries;
        let delay = match self.retry_after {
            RetryAfter::Honour { max, above_max } => {
                if max.is_none_or(|m| retry_after <= m) {
                    Some(retry_after)
                } else if above_max == AboveMax::GiveUp {
                    return Action::GiveUp {
                        after: SimDuration::ZERO,
                    };
                } else {
                    None
                }
            }
            RetryAfter::Ignore => None,
        };
        if !retries_left && !self.sleep_after_last_failure {
            return Action::GiveUp {
                after: SimDuration::ZERO,
            };
        }
        let after = delay.unwrap_or_else(|| self.backoff(failures, previous_delay, rng));
        if self
            .time_budget
            .is_some_and(|b| SimDuration(elapsed.0.saturating_add(after.0)) > b)
        {
            // The next attempt would come too late: stop now.
            return Action::GiveUp {
                after: SimDuration::ZERO,
            };
        }
        if retries_left {
            Action::Retry { after }
        } else {
            Action::GiveUp { after }
        }
    }

    /// The jittered backoff delay of the k-th retry.
    pub fn backoff<R: rand::Rng + ?Sized>(
        &self,
        k: u32,
        previous_delay: SimDuration,
        rng: &mut R,
    ) -> SimDuration {
        let b = self.exponential(k);
        let floor = self.min_delay;
        let d = match self.jitter {
            Jitter::None => b,
            Jitter::Full if floor > SimDuration::ZERO => {
                let (lo, hi) = (floor.as_secs_f64(), b.max(floor).as_secs_f64());
                SimDuration::from_secs_f64(lo + (hi - lo) * rng.random::<f64>())
            }
            Jitter::Full => SimDuration::from_secs_f64(b.as_secs_f64() * rng.random::<f64>()),
            Jitter::Equal => {
                let half = b.as_secs_f64() / 2.0;
                SimDuration::from_secs_f64(half + half * rng.random::<f64>())
            }
            Jitter::Decorrelated => {
                let base = self.base_delay.as_secs_f64();
                let prev = if previous_delay == SimDuration::ZERO {
                    base
                } else {
                    previous_delay.as_secs_f64()
                };
                let high = (prev * self.multiplier).max(base);
                let d = base + (high - base) * rng.random::<f64>();
                let d = match self.max_delay {
                    Some(cap) => d.min(cap.as_secs_f64()),
                    None => d,
                };
                SimDuration::from_secs_f64(d)
            }
            Jitter::Scaled { low, high } => {
                let f = low + (high - low) * rng.random::<f64>();
                SimDuration::from_secs_f64(b.as_secs_f64() * f)
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

    fn rng() -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(7)
    }

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    /// Runs a policy against a server that always says 429 with the given Retry-After.
    fn schedule(p: &ClientPolicy, retry_after: SimDuration) -> (Vec<SimDuration>, SimDuration) {
        let mut r = rng();
        let mut delays = Vec::new();
        let mut prev = SimDuration::ZERO;
        for failures in 1.. {
            match p.on_rate_limited(failures, retry_after, prev, SimDuration::ZERO, &mut r) {
                Action::Retry { after } => {
                    delays.push(after);
                    prev = after;
                }
                Action::GiveUp { after } => return (delays, after),
            }
        }
        unreachable!()
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
            "xai-docs" => (two, two, two, 0.0),
            other => panic!("no law for {other}"),
        }
    }

    #[test]
    fn every_presets_delays_follow_its_law() {
        let n = 20_000;
        for (name, _) in PRESETS {
            let p = ClientPolicy::preset(name).unwrap();
            if p.max_retries == 0 {
                // none and xai-sdk: the first 429 surfaces at once.
                let mut r = rng();
                assert_eq!(
                    p.on_rate_limited(1, secs(1), SimDuration::ZERO, SimDuration::ZERO, &mut r),
                    Action::GiveUp {
                        after: SimDuration::ZERO
                    },
                    "{name}"
                );
                continue;
            }
            let mut r = rng();
            for k in 1..=p.max_retries {
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
        assert_eq!(
            p.on_rate_limited(1, secs(3_600), SimDuration::ZERO, SimDuration::ZERO, &mut r),
            Action::Retry { after: secs(3_600) }
        );
        let o = ClientPolicy::preset("openai-python").unwrap();
        assert_eq!(
            o.on_rate_limited(1, secs(3_600), SimDuration::ZERO, SimDuration::ZERO, &mut r),
            Action::GiveUp {
                after: SimDuration::ZERO
            }
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
        let mut r = rng();
        let n = 20_000;
        for (k, mean, sd, max) in table {
            let mut sum = 0.0;
            for _ in 0..n {
                let d = p.backoff(k, SimDuration::ZERO, &mut r).as_secs_f64();
                assert!(d > 0.75 * max - 1e-9 && d <= max + 1e-9, "k={k} d={d}");
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
            preset: None,
            max_retries: 10,
            base_delay: secs(1),
            multiplier: 2.0,
            max_delay: Some(secs(20)),
            jitter: Jitter::Full,
            min_delay: SimDuration::ZERO,
            retry_after: RetryAfter::Ignore,
            sleep_after_last_failure: false,
            time_budget: None,
        };
        let table = [
            (1, 0.5, 0.2887, 1.0),
            (3, 2.0, 1.1547, 4.0),
            (6, 10.0, 5.7735, 20.0),
        ];
        let mut r = rng();
        let n = 20_000;
        for (k, mean, sd, max) in table {
            let mut sum = 0.0;
            for _ in 0..n {
                let d = p.backoff(k, SimDuration::ZERO, &mut r).as_secs_f64();
                assert!((0.0..max).contains(&d), "k={k} d={d}");
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
    fn equal_and_decorrelated_jitter_stay_in_their_ranges() {
        let mut p = ClientPolicy {
            preset: None,
            max_retries: 10,
            base_delay: secs(1),
            multiplier: 3.0,
            max_delay: Some(secs(20)),
            jitter: Jitter::Equal,
            min_delay: SimDuration::ZERO,
            retry_after: RetryAfter::Ignore,
            sleep_after_last_failure: false,
            time_budget: None,
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
}
