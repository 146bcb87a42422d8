//! Request sizes: distributions of token counts (every draw a whole number >= 1).

use rand::RngExt;
use rand_distr::{Distribution, LogNormal, StandardNormal};
use serde::Serialize;

/// A distribution of token counts; every draw is an integer >= 1.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "dist")]
pub enum TokenDist {
    Constant {
        value: u64,
    },
    /// Integers uniform on `[min, max]`.
    Uniform {
        min: u64,
        max: u64,
    },
    /// Normal, rounded, redrawn until >= 1 (truncated at 1).
    Normal {
        mean: f64,
        std: f64,
    },
    /// Log-normal with this mean and standard deviation (of the counts, not of their log),
    /// rounded, and raised to 1 if it rounds to 0.
    Lognormal {
        mean: f64,
        std: f64,
    },
    /// An empirical distribution: the inverse CDF is piecewise linear through (probability,
    /// value) points, the first at probability 0 and the last at 1; draws are rounded.
    Empirical {
        quantiles: Vec<(f64, f64)>,
    },
}

/// A [`TokenDist`] ready to draw from.
#[derive(Clone, Debug)]
pub enum TokenSampler {
    Constant(u64),
    Uniform(u64, u64),
    Normal { mean: f64, std: f64 },
    LogNormal(LogNormal<f64>),
    Empirical(Vec<(f64, f64)>),
}

impl TokenDist {
    /// The log-space parameters (mu, sigma) of a log-normal with this mean and std.
    pub fn lognormal_params(mean: f64, std: f64) -> (f64, f64) {
        let sigma2 = (1.0 + (std * std) / (mean * mean)).ln();
        (mean.ln() - sigma2 / 2.0, sigma2.sqrt())
    }

    /// Validated parameters give a sampler; callers check ranges first (see `scenario`).
    pub fn sampler(&self) -> TokenSampler {
        match *self {
            TokenDist::Empirical { ref quantiles } => TokenSampler::Empirical(quantiles.clone()),
            TokenDist::Constant { value } => TokenSampler::Constant(value),
            TokenDist::Uniform { min, max } => TokenSampler::Uniform(min, max),
            TokenDist::Normal { mean, std } => TokenSampler::Normal { mean, std },
            TokenDist::Lognormal { mean, std } => {
                let (mu, sigma) = TokenDist::lognormal_params(mean, std);
                TokenSampler::LogNormal(
                    LogNormal::new(mu, sigma).expect("validated: mean > 0, std >= 0"),
                )
            }
        }
    }

    pub fn mean(&self) -> f64 {
        match *self {
            TokenDist::Empirical { ref quantiles } => quantiles
                .windows(2)
                .map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0)
                .sum(),
            TokenDist::Constant { value } => value as f64,
            TokenDist::Uniform { min, max } => (min + max) as f64 / 2.0,
            TokenDist::Normal { mean, .. } | TokenDist::Lognormal { mean, .. } => mean,
        }
    }
}

impl TokenSampler {
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match *self {
            TokenSampler::Empirical(ref q) => {
                let u: f64 = rng.random();
                let i = q.partition_point(|p| p.0 <= u).clamp(1, q.len() - 1);
                let ((p0, v0), (p1, v1)) = (q[i - 1], q[i]);
                let x = if p1 > p0 {
                    v0 + (v1 - v0) * (u - p0) / (p1 - p0)
                } else {
                    v1
                };
                crate::time::round_to_u64(x)
            }
            TokenSampler::Constant(v) => v,
            TokenSampler::Uniform(min, max) => rng.random_range(min..=max),
            TokenSampler::Normal { mean, std } => loop {
                let z: f64 = StandardNormal.sample(rng);
                let x = crate::time::round_to_u64(mean + std * z);
                if x >= 1 {
                    break x;
                }
            },
            TokenSampler::LogNormal(d) => crate::time::round_to_u64(d.sample(rng)).max(1),
        }
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

    #[test]
    fn lognormal_sizes_have_the_requested_mean_and_std() {
        let d = TokenDist::Lognormal {
            mean: 1500.0,
            std: 1000.0,
        }
        .sampler();
        let mut r = rng();
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut r) as f64).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!(
            (mean - 1500.0).abs() < 4.0 * 1000.0 / (n as f64).sqrt(),
            "mean {mean}"
        );
        assert!((sd - 1000.0).abs() < 30.0, "sd {sd}");
        assert!(xs.iter().all(|&x| x >= 1.0));
    }

    #[test]
    fn empirical_draws_follow_their_quantiles() {
        let d = TokenDist::Empirical {
            quantiles: vec![(0.0, 100.0), (0.5, 200.0), (0.9, 1000.0), (1.0, 5000.0)],
        };
        // Mean: 0.5 x 150 + 0.4 x 600 + 0.1 x 3000 = 615.
        assert!((d.mean() - 615.0).abs() < 1e-9);
        let s = d.sampler();
        let mut r = rng();
        let n = 200_000;
        let xs: Vec<u64> = (0..n).map(|_| s.sample(&mut r)).collect();
        let below = |v: u64| xs.iter().filter(|&&x| x <= v).count() as f64 / n as f64;
        assert!((below(200) - 0.5).abs() < 0.01, "{}", below(200));
        assert!((below(1000) - 0.9).abs() < 0.01, "{}", below(1000));
        assert!(xs.iter().all(|&x| (100..=5000).contains(&x)));
        let mean = xs.iter().sum::<u64>() as f64 / n as f64;
        assert!((mean - 615.0).abs() < 10.0, "{mean}");
    }

    #[test]
    fn truncated_normal_and_uniform_stay_in_range() {
        let mut r = rng();
        let n = TokenDist::Normal {
            mean: 2.0,
            std: 5.0,
        }
        .sampler();
        assert!((0..10_000).all(|_| n.sample(&mut r) >= 1));
        let u = TokenDist::Uniform { min: 3, max: 5 }.sampler();
        let xs: Vec<u64> = (0..10_000).map(|_| u.sample(&mut r)).collect();
        assert!(xs.iter().all(|x| (3..=5).contains(x)));
        assert!(xs.contains(&3) && xs.contains(&5));
    }
}
