//! The limiter against the `governor` crate (GCRA) as a reference implementation.
//!
//! GCRA with emission interval T = 1/r and burst B admits exactly what a continuous token
//! bucket of capacity B and rate r admits. Rates that divide 10^9 keep governor's nanosecond
//! interval exact, so the two must agree decision for decision and on every Retry-After.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, FakeRelativeClock};
use governor::{Quota, RateLimiter};
use proptest::prelude::*;

use ratesim::catalog::{Milli, ModelLimits};
use ratesim::limiter::{Algorithm, Decision, LimiterConfig, ModelLimiter};
use ratesim::time::{SimDuration, SimTime};

/// Rates (per second) whose emission interval is a whole number of nanoseconds.
const RATES: [u32; 12] = [1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 250];

/// Both limiters' answers on a trace of arrival times (ns, non-decreasing), unit cost each:
/// `None` for admitted, `Some(wait)` for refused.
fn decisions(trace: &[u64], rate: u32, burst: u32) -> (Vec<Option<u64>>, Vec<Option<u64>>) {
    decisions_with(trace, rate, burst, Algorithm::TokenBucket)
}

/// As [`decisions`], with ratesim's limiter running `algorithm`.
fn decisions_with(
    trace: &[u64],
    rate: u32,
    burst: u32,
    algorithm: Algorithm,
) -> (Vec<Option<u64>>, Vec<Option<u64>>) {
    let clock = FakeRelativeClock::default();
    let quota = Quota::per_second(NonZeroU32::new(rate).unwrap())
        .allow_burst(NonZeroU32::new(burst).unwrap());
    let gov = RateLimiter::direct_with_clock(quota, clock.clone());
    let cfg = LimiterConfig {
        request_burst: Some(Milli::from_units(u64::from(burst))),
        retry_after_granularity: SimDuration(1),
        algorithm,
        ..LimiterConfig::default()
    };
    let limits = ModelLimits::rps_tpm(Milli::from_units(u64::from(rate)), None);
    let mut ours = ModelLimiter::new(&limits, &cfg);
    let mut now = 0;
    let mut theirs_out = Vec::new();
    let mut ours_out = Vec::new();
    for &t in trace {
        clock.advance(Duration::from_nanos(t - now));
        now = t;
        theirs_out.push(match gov.check() {
            Ok(()) => None,
            Err(not_until) => Some(not_until.wait_time_from(clock.now()).as_nanos() as u64),
        });
        ours_out.push(match ours.check(SimTime(t), 1) {
            Decision::Admit => None,
            Decision::Limited { retry_after, .. } => Some(retry_after.0),
            Decision::NeverFits => panic!("unit cost always fits"),
            Decision::Queued { .. } => panic!("a bucket has no queue"),
        });
    }
    (theirs_out, ours_out)
}

#[test]
fn agrees_with_governor_on_the_documented_example() {
    // 10/s, burst 3 (from the crates notes): times in ms.
    let trace: Vec<u64> = [0, 0, 0, 0, 0, 50, 100, 150, 400, 400, 400, 400]
        .iter()
        .map(|ms| ms * 1_000_000)
        .collect();
    let (theirs, ours) = decisions(&trace, 10, 3);
    let admitted: Vec<bool> = ours.iter().map(Option::is_none).collect();
    assert_eq!(
        admitted,
        [
            true, true, true, false, false, false, true, false, true, true, true, false
        ]
    );
    assert_eq!(theirs, ours);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_governor_decision_for_decision(
        rate_idx in 0..RATES.len(),
        burst in 1u32..20,
        // Gaps in microseconds, with many zeros (simultaneous arrivals) and some long gaps.
        gaps in prop::collection::vec(
            prop_oneof![3 => Just(0u64), 5 => 0u64..200_000, 1 => 0u64..3_000_000],
            1..300,
        ),
    ) {
        let mut t = 0;
        let trace: Vec<u64> = gaps.iter().map(|g| { t += g * 1_000; t }).collect();
        let (theirs, ours) = decisions(&trace, RATES[rate_idx], burst);
        prop_assert_eq!(&theirs, &ours);
        // ratesim's own GCRA, and the leaky queue with nodelay, agree with governor too.
        let (_, gcra) = decisions_with(&trace, RATES[rate_idx], burst, Algorithm::Gcra);
        prop_assert_eq!(&theirs, &gcra);
        let (_, nodelay) = decisions_with(&trace, RATES[rate_idx], burst, Algorithm::LeakyQueue { nodelay: true });
        prop_assert_eq!(&theirs, &nodelay);
    }

    #[test]
    fn never_admits_more_than_capacity_plus_refill_over_any_window(
        rate_idx in 0..RATES.len(),
        burst in 1u32..20,
        gaps in prop::collection::vec(0u64..100_000, 1..250),
    ) {
        let mut t = 0;
        let trace: Vec<u64> = gaps.iter().map(|g| { t += g * 1_000; t }).collect();
        let rate = RATES[rate_idx];
        let (_, ours) = decisions(&trace, rate, burst);
        let admitted: Vec<u64> = trace.iter().zip(&ours).filter(|(_, d)| d.is_none()).map(|(t, _)| *t).collect();
        for i in 0..admitted.len() {
            for j in i..admitted.len() {
                let window_s = (admitted[j] - admitted[i]) as f64 / 1e9;
                let count = (j - i + 1) as f64;
                prop_assert!(
                    count <= f64::from(burst) + f64::from(rate) * window_s + 1e-9,
                    "{} admitted in {} s with burst {} and rate {}", count, window_s, burst, rate
                );
            }
        }
    }
}
