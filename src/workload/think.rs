//! Think time: how long a closed-loop worker pauses between a request's end and its next one.

use rand::RngExt;
use rand_distr::{Distribution, Exp1, LogNormal};
use serde::Serialize;

use crate::time::{NANOS_PER_SEC, SimDuration};

/// A distribution of durations.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "dist")]
pub enum ThinkTime {
    Constant {
        value: SimDuration,
    },
    /// Uniform on `[min, max]`, to the nanosecond.
    Uniform {
        min: SimDuration,
        max: SimDuration,
    },
    Exponential {
        mean: SimDuration,
    },
    /// Log-normal with this mean and standard deviation.
    Lognormal {
        mean: SimDuration,
        std: SimDuration,
    },
}

impl ThinkTime {
    pub fn mean(&self) -> SimDuration {
        match self {
            ThinkTime::Constant { value } => *value,
            ThinkTime::Uniform { min, max } => SimDuration((min.0 + max.0) / 2),
            ThinkTime::Exponential { mean } | ThinkTime::Lognormal { mean, .. } => *mean,
        }
    }

    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match self {
            ThinkTime::Constant { value } => *value,
            ThinkTime::Uniform { min, max } => SimDuration(rng.random_range(min.0..=max.0)),
            ThinkTime::Exponential { mean } => {
                let x: f64 = Exp1.sample(rng);
                SimDuration::from_secs_f64(x * mean.as_secs_f64())
            }
            ThinkTime::Lognormal { mean, std } => {
                let (m, s) = (mean.as_secs_f64(), std.as_secs_f64());
                let (mu, sigma) = super::TokenDist::lognormal_params(m, s);
                let d = LogNormal::new(mu, sigma).expect("validated: mean > 0, std >= 0");
                let x: f64 = d.sample(rng);
                SimDuration((x * NANOS_PER_SEC as f64).round() as u64)
            }
        }
    }
}
