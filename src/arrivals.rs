//! Arrival processes and request sizes. Each takes the random stream it is given; nothing here
//! knows about the queue, the limiter or metrics.

use rand::RngExt;
use rand_distr::{Distribution, Exp1, LogNormal, StandardNormal};
use serde::Serialize;

use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};

/// An open-loop arrival process (requests arrive whatever the server answers).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "process")]
pub enum Process {
    /// Exponential gaps with mean 1/rate.
    Poisson { rate_per_sec: f64 },
    /// Evenly spaced: the k-th arrival (from 0) is at start + k/rate, rounded to the nanosecond.
    Constant { rate_per_sec: f64 },
}

impl Process {
    pub fn rate_per_sec(&self) -> f64 {
        match *self {
            Process::Poisson { rate_per_sec } | Process::Constant { rate_per_sec } => rate_per_sec,
        }
    }

    /// The same process with its rate multiplied by `factor` (load sweeps).
    pub fn scaled(&self, factor: f64) -> Process {
        match *self {
            Process::Poisson { rate_per_sec } => Process::Poisson {
                rate_per_sec: rate_per_sec * factor,
            },
            Process::Constant { rate_per_sec } => Process::Constant {
                rate_per_sec: rate_per_sec * factor,
            },
        }
    }
}

/// A process active on `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ArrivalSpec {
    #[serde(flatten)]
    pub process: Process,
    pub start: SimDuration,
    /// End of the active window; arrivals also stop at the scenario's duration.
    pub end: Option<SimDuration>,
}

/// The state of one stream's arrivals during a run.
#[derive(Clone, Debug)]
pub struct Arrivals {
    process: Process,
    start: SimTime,
    end: SimTime,
    count: u64,
    last: SimTime,
}

impl Arrivals {
    /// Arrivals of `spec`, cut off at `horizon` (the scenario's duration).
    pub fn new(spec: &ArrivalSpec, horizon: SimDuration) -> Arrivals {
        let end = spec.end.map_or(horizon, |e| e.min(horizon));
        Arrivals {
            process: spec.process,
            start: SimTime(spec.start.0),
            end: SimTime(end.0),
            count: 0,
            last: SimTime(spec.start.0),
        }
    }

    /// The next arrival time, or `None` once the window has closed (arrivals at `end` excluded).
    pub fn next<R: rand::Rng + ?Sized>(&mut self, rng: &mut R) -> Option<SimTime> {
        let t = match self.process {
            Process::Constant { rate_per_sec } => {
                let offset = (self.count as f64 * NANOS_PER_SEC as f64 / rate_per_sec).round();
                SimTime(
                    self.start
                        .0
                        .saturating_add(offset.min(u64::MAX as f64) as u64),
                )
            }
            Process::Poisson { rate_per_sec } => {
                let gap: f64 = Exp1.sample(rng);
                let gap_ns = (gap / rate_per_sec * NANOS_PER_SEC as f64).round();
                SimTime(
                    self.last
                        .0
                        .saturating_add(gap_ns.min(u64::MAX as f64) as u64),
                )
            }
        };
        if t >= self.end {
            return None;
        }
        self.count += 1;
        self.last = t;
        Some(t)
    }
}

/// A distribution of token counts; every draw is an integer >= 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
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
}

/// A [`TokenDist`] ready to draw from.
#[derive(Clone, Debug)]
pub enum TokenSampler {
    Constant(u64),
    Uniform(u64, u64),
    Normal { mean: f64, std: f64 },
    LogNormal(LogNormal<f64>),
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
            TokenDist::Constant { value } => value as f64,
            TokenDist::Uniform { min, max } => (min + max) as f64 / 2.0,
            TokenDist::Normal { mean, .. } | TokenDist::Lognormal { mean, .. } => mean,
        }
    }
}

impl TokenSampler {
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match *self {
            TokenSampler::Constant(v) => v,
            TokenSampler::Uniform(min, max) => rng.random_range(min..=max),
            TokenSampler::Normal { mean, std } => loop {
                let z: f64 = StandardNormal.sample(rng);
                let x = (mean + std * z).round();
                if x >= 1.0 {
                    break x.min(u64::MAX as f64) as u64;
                }
            },
            TokenSampler::LogNormal(d) => {
                (d.sample(rng).round().min(u64::MAX as f64) as u64).max(1)
            }
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
    fn constant_arrivals_are_evenly_spaced_without_drift() {
        let spec = ArrivalSpec {
            process: Process::Constant { rate_per_sec: 3.0 },
            start: SimDuration::ZERO,
            end: None,
        };
        let mut a = Arrivals::new(&spec, SimDuration::from_secs(100));
        let mut r = rng();
        let times: Vec<SimTime> = std::iter::from_fn(|| a.next(&mut r)).collect();
        assert_eq!(times.len(), 300);
        assert_eq!(times[1], SimTime(333_333_333));
        assert_eq!(times[2], SimTime(666_666_667));
        assert_eq!(times[299], SimTime(99_666_666_667));
    }

    #[test]
    fn windows_start_late_and_end_early() {
        let spec = ArrivalSpec {
            process: Process::Constant { rate_per_sec: 10.0 },
            start: SimDuration::from_secs(5),
            end: Some(SimDuration::from_secs(7)),
        };
        let mut a = Arrivals::new(&spec, SimDuration::from_secs(100));
        let mut r = rng();
        let times: Vec<SimTime> = std::iter::from_fn(|| a.next(&mut r)).collect();
        assert_eq!(times.len(), 20);
        assert_eq!(times[0], SimTime(5 * NANOS_PER_SEC));
    }

    #[test]
    fn poisson_counts_have_the_right_mean_and_variance() {
        let spec = ArrivalSpec {
            process: Process::Poisson { rate_per_sec: 50.0 },
            start: SimDuration::ZERO,
            end: None,
        };
        let mut r = rng();
        let (mut sum, mut sum2) = (0.0, 0.0);
        let n = 400;
        for _ in 0..n {
            let mut a = Arrivals::new(&spec, SimDuration::from_secs(1));
            let c = std::iter::from_fn(|| a.next(&mut r)).count() as f64;
            sum += c;
            sum2 += c * c;
        }
        let mean = sum / n as f64;
        let var = sum2 / n as f64 - mean * mean;
        // Mean 50 with sd of the mean sqrt(50/400) = 0.35; variance of a Poisson equals its mean.
        assert!((mean - 50.0).abs() < 1.5, "mean {mean}");
        assert!((var - 50.0).abs() < 15.0, "var {var}");
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
