//! Service time of an admitted attempt, as a function of its output tokens plus optional noise.
//! No rate-limit knowledge lives here.

use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::time::SimDuration;

/// `service = (base + completion_tokens / output_tokens_per_sec) × noise`, where the noise is
/// log-normal with mean 1 and log-space standard deviation `noise_sigma` (none when zero).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatencyModel {
    pub base: SimDuration,
    /// Generation speed; `None` means output length does not affect latency.
    pub output_tokens_per_sec: Option<f64>,
    pub noise_sigma: f64,
    /// How long a 429 takes to reach the client (network round trip), before any backoff.
    pub rate_limited_response: SimDuration,
}

impl Default for LatencyModel {
    fn default() -> Self {
        LatencyModel {
            base: SimDuration::from_millis(500),
            output_tokens_per_sec: Some(80.0),
            noise_sigma: 0.0,
            rate_limited_response: SimDuration::ZERO,
        }
    }
}

impl LatencyModel {
    pub fn service_time<R: rand::Rng + ?Sized>(
        &self,
        generated_tokens: u64,
        rng: &mut R,
    ) -> SimDuration {
        let mut secs = self.base.as_secs_f64();
        if let Some(speed) = self.output_tokens_per_sec {
            secs += crate::time::u64_to_f64(generated_tokens) / speed;
        }
        if self.noise_sigma > 0.0 {
            let z: f64 = StandardNormal.sample(rng);
            let s = self.noise_sigma;
            secs *= (s * z - s * s / 2.0).exp();
        }
        SimDuration::from_secs_f64(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn deterministic_service_time_is_base_plus_tokens_over_speed() {
        let m = LatencyModel {
            base: SimDuration::from_millis(300),
            output_tokens_per_sec: Some(80.0),
            noise_sigma: 0.0,
            rate_limited_response: SimDuration::ZERO,
        };
        let mut r = Xoshiro256PlusPlus::seed_from_u64(0);
        assert_eq!(m.service_time(400, &mut r), SimDuration::from_millis(5300));
        assert_eq!(m.service_time(0, &mut r), SimDuration::from_millis(300));
    }

    #[test]
    fn noise_keeps_the_mean() {
        let m = LatencyModel {
            base: SimDuration::from_secs(2),
            output_tokens_per_sec: None,
            noise_sigma: 0.5,
            rate_limited_response: SimDuration::ZERO,
        };
        let mut r = Xoshiro256PlusPlus::seed_from_u64(0);
        let n = 100_000;
        let mean = (0..n)
            .map(|_| m.service_time(0, &mut r).as_secs_f64())
            .sum::<f64>()
            / n as f64;
        // sd of the factor is sqrt(e^0.25 - 1) = 0.53, so sd of the mean is 2*0.53/316 = 0.0034.
        assert!((mean - 2.0).abs() < 0.015, "mean {mean}");
    }
}
