//! Fitting a synthetic workload to a trace: a rate profile from counts per time bin, and
//! log-normal token distributions by the method of moments (the same mean and standard deviation
//! as the trace), with the numbers that say how well each fits.

use super::trace::{RowError, TraceReader, TraceSpec};
use super::{Size, TokenDist};
use crate::metrics::Distribution;
use crate::time::SimDuration;

/// Streaming moments and quantiles of one token kind.
#[derive(Default)]
pub struct Kind {
    /// Rows with a nonzero value.
    pub nonzero: u64,
    sum: f64,
    sum2: f64,
    pub quantiles: Distribution,
}

impl Kind {
    fn record(&mut self, v: u64) {
        if v == 0 {
            return;
        }
        self.nonzero += 1;
        let x = v as f64;
        self.sum += x;
        self.sum2 += x * x;
        self.quantiles.record(v);
    }

    /// Mean and standard deviation of the nonzero values.
    pub fn moments(&self) -> Option<(f64, f64)> {
        if self.nonzero == 0 {
            return None;
        }
        let n = self.nonzero as f64;
        let mean = self.sum / n;
        let var = (self.sum2 / n - mean * mean).max(0.0);
        Some((mean, var.sqrt()))
    }

    /// The fitted distribution: constant if every value is the same, else log-normal with the
    /// trace's mean and standard deviation.
    pub fn fitted(&self) -> Option<TokenDist> {
        let (mean, std) = self.moments()?;
        if std < 0.5 {
            Some(TokenDist::Constant {
                value: mean.round().max(1.0) as u64,
            })
        } else {
            Some(TokenDist::Lognormal {
                mean: mean.max(1.0),
                std,
            })
        }
    }
}

/// What a trace holds, binned and summarised.
pub struct Fit {
    pub rows: u64,
    pub bin: SimDuration,
    /// Rows per bin, from time zero.
    pub counts: Vec<u64>,
    pub prompt: Kind,
    pub completion: Kind,
    pub cached: Kind,
    pub image: Kind,
    pub reasoning: Kind,
    /// Sum of cached and of prompt tokens, for the cached share.
    pub cached_total: u128,
    pub prompt_total: u128,
}

impl Fit {
    /// The rate (requests per second) of each bin.
    pub fn rates(&self) -> Vec<f64> {
        let s = self.bin.as_secs_f64();
        self.counts.iter().map(|&c| c as f64 / s).collect()
    }

    /// Profile points: the first bin's rate at 0, then each bin's rate at its middle, and the
    /// last bin's rate at its end, so that the curve spans the whole trace.
    pub fn profile_points(&self) -> Vec<(SimDuration, f64)> {
        let rates = self.rates();
        let b = self.bin.0;
        let mut pts = vec![(SimDuration::ZERO, rates[0])];
        for (i, r) in rates.iter().enumerate() {
            pts.push((SimDuration(b * i as u64 + b / 2), *r));
        }
        pts.push((
            SimDuration(b * rates.len() as u64),
            *rates.last().unwrap_or(&0.0),
        ));
        pts
    }

    /// Expected rows per bin under the fitted profile (its integral over each bin).
    pub fn fitted_counts(&self) -> Vec<f64> {
        let pts: Vec<(f64, f64)> = self
            .profile_points()
            .iter()
            .map(|(t, r)| (t.as_secs_f64(), *r))
            .collect();
        let integral = |t: f64| -> f64 {
            let mut acc = 0.0;
            for w in pts.windows(2) {
                let ((t0, r0), (t1, r1)) = (w[0], w[1]);
                if t <= t0 {
                    break;
                }
                let x = t.min(t1) - t0;
                let len = t1 - t0;
                acc += r0 * x + (r1 - r0) * x * x / (2.0 * len);
            }
            acc
        };
        let s = self.bin.as_secs_f64();
        (0..self.counts.len())
            .map(|i| integral(s * (i + 1) as f64) - integral(s * i as f64))
            .collect()
    }
}

/// Reads a whole trace (streamed) into counts per bin and token statistics. `bin` of `None`
/// picks the largest of 1 h, 10 min, 1 min and 10 s that gives at least 6 bins.
pub fn fit(spec: &TraceSpec, bin: Option<SimDuration>) -> Result<Fit, RowError> {
    // First pass: the span, for the bin width.
    let mut r = TraceReader::open(spec)?;
    let mut last = 0u64;
    let mut rows = 0u64;
    while let Some(row) = r.next_row()? {
        last = last.max(row.time);
        rows += 1;
    }
    let bin = bin.unwrap_or_else(|| {
        [3_600, 600, 60, 10]
            .into_iter()
            .map(SimDuration::from_secs)
            .find(|b| last / b.0 >= 6)
            .unwrap_or(SimDuration::from_secs(1))
    });
    let bins = (last / bin.0 + 1) as usize;
    let mut out = Fit {
        rows,
        bin,
        counts: vec![0; bins],
        prompt: Kind::default(),
        completion: Kind::default(),
        cached: Kind::default(),
        image: Kind::default(),
        reasoning: Kind::default(),
        cached_total: 0,
        prompt_total: 0,
    };
    let mut r = TraceReader::open(spec)?;
    while let Some(row) = r.next_row()? {
        out.counts[(row.time / bin.0) as usize] += 1;
        let Size {
            prompt,
            completion,
            image,
            cached,
            reasoning,
            ..
        } = row.size;
        out.prompt.record(prompt);
        out.completion.record(completion);
        out.cached.record(u64::from(cached));
        out.image.record(u64::from(image));
        out.reasoning.record(u64::from(reasoning));
        out.cached_total += u128::from(cached);
        out.prompt_total += u128::from(prompt);
    }
    Ok(out)
}

/// The `p` quantile of a fitted distribution (for the quality report).
pub fn quantile(d: &TokenDist, p: f64) -> f64 {
    match *d {
        TokenDist::Constant { value } => value as f64,
        TokenDist::Uniform { min, max } => min as f64 + p * (max - min) as f64,
        TokenDist::Normal { mean, std } => mean + std * normal_quantile(p),
        TokenDist::Lognormal { mean, std } => {
            let (mu, sigma) = TokenDist::lognormal_params(mean, std);
            (mu + sigma * normal_quantile(p)).exp()
        }
        TokenDist::Empirical { ref quantiles } => {
            let i = quantiles
                .partition_point(|q| q.0 <= p)
                .clamp(1, quantiles.len() - 1);
            let ((p0, v0), (p1, v1)) = (quantiles[i - 1], quantiles[i]);
            v0 + (v1 - v0) * (p - p0) / (p1 - p0)
        }
    }
}

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    if p < 0.02425 {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - 0.02425 {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles_are_right() {
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-6);
        assert!((normal_quantile(0.01) + 2.326_347_874).abs() < 1e-6);
    }
}
