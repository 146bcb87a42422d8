//! Streaming metrics: counters, HDR histograms and one-second buckets. Memory depends on the
//! number of streams and the simulated time span, never on the number of requests.

use hdrhistogram::Histogram;

use crate::client::Cause;
use crate::engine::{Observer, Request};
use crate::limiter::Decision;
use crate::time::{NANOS_PER_SEC, SimTime};

/// Significant figures kept by the histograms: quantiles are within 0.1 %.
const SIGFIG: u8 = 3;

fn histogram() -> Histogram<u64> {
    Histogram::new(SIGFIG).expect("3 significant figures is a valid setting")
}

/// A distribution of values: an HDR histogram for quantiles, exact sum, count and maximum.
#[derive(Clone, Debug)]
pub struct Distribution {
    hist: Histogram<u64>,
    sum: u128,
    max: u64,
}

impl Default for Distribution {
    fn default() -> Self {
        Distribution {
            hist: histogram(),
            sum: 0,
            max: 0,
        }
    }
}

impl Distribution {
    pub fn record(&mut self, value: u64) {
        self.hist
            .record(value)
            .expect("auto-resizing histogram accepts any u64");
        self.sum += u128::from(value);
        self.max = self.max.max(value);
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Value at quantile `q` (0..=1), within the histogram's precision; `None` if empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        (self.count() > 0).then(|| self.hist.value_at_quantile(q).min(self.max))
    }

    /// Exact sum of the recorded values.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    pub fn max(&self) -> Option<u64> {
        (self.count() > 0).then_some(self.max)
    }

    /// Exact mean; `None` if empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count() > 0).then(|| self.sum as f64 / self.count() as f64)
    }

    /// The empirical CDF as (value / `per_unit`, fraction of values <= it), one point per
    /// distinct recorded histogram bucket, in increasing order.
    pub fn cdf(&self, per_unit: f64) -> Vec<(f64, f64)> {
        let n = self.count() as f64;
        let mut seen = 0u64;
        self.hist
            .iter_recorded()
            .map(|v| {
                seen += v.count_since_last_iteration();
                (
                    v.value_iterated_to().min(self.max) as f64 / per_unit,
                    seen as f64 / n,
                )
            })
            .collect()
    }

    pub fn merge(&mut self, other: &Distribution) {
        self.hist
            .add(&other.hist)
            .expect("auto-resizing histograms always merge");
        self.sum += other.sum;
        self.max = self.max.max(other.max);
    }
}

/// Everything counted for one traffic stream (or, merged, for a model or a whole run).
#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub events: u64,
    pub requests: u64,
    pub attempts: u64,
    pub admitted: u64,
    pub rate_limited: u64,
    pub never_fits_attempts: u64,
    pub succeeded: u64,
    pub gave_up: u64,
    /// Requests whose deadline passed while an admitted attempt was being served.
    pub cancelled: u64,
    /// Give-ups by cause, indexed by [`Cause::index`].
    pub gave_up_by_cause: [u64; Cause::ALL.len()],
    pub never_fits: u64,
    /// Requests refused because a prepaid account had no credit left.
    pub no_credit: u64,
    /// Admitted attempts that failed on the server or found it full (503/529).
    pub server_errors: u64,
    /// 429s by the cap that refused them: requests, tokens.
    pub rate_limited_by: [u64; crate::limiter::Limit::ALL.len()],
    /// What the succeeded requests cost, by token kind (nano-USD); all zero without prices.
    pub cost: crate::prices::Cost,
    /// Latency of succeeded requests split into time queued in the client, backing off and
    /// being served (429 round trips included), summed in nanoseconds.
    pub split_succeeded_ns: [u128; 3],
    /// The same over every ended request.
    pub split_all_ns: [u128; 3],
    /// Tokens of admitted attempts (every kind), as debited from the TPM bucket.
    pub tokens_admitted: u64,
    /// The same tokens by kind.
    pub tokens_by_kind: TokensByKind,
    /// End-to-end latency of succeeded requests, first attempt to completion, in microseconds.
    pub latency_us: Distribution,
    /// Time from the first attempt to giving up, in microseconds.
    pub give_up_us: Distribution,
    /// Attempts per request, over requests that ended (succeeded, gave up or never fit).
    pub attempts_per_request: Distribution,
    /// First and last arrival, and the last end of a request: the makespan of a job.
    pub first_arrival: Option<SimTime>,
    pub last_arrival: Option<SimTime>,
    pub last_end: Option<SimTime>,
}

impl Counters {
    pub fn merge(&mut self, o: &Counters) {
        self.events += o.events;
        self.requests += o.requests;
        self.attempts += o.attempts;
        self.admitted += o.admitted;
        self.rate_limited += o.rate_limited;
        self.never_fits_attempts += o.never_fits_attempts;
        self.succeeded += o.succeeded;
        self.gave_up += o.gave_up;
        self.cancelled += o.cancelled;
        for (a, b) in self.gave_up_by_cause.iter_mut().zip(o.gave_up_by_cause) {
            *a += b;
        }
        for i in 0..3 {
            self.split_succeeded_ns[i] += o.split_succeeded_ns[i];
            self.split_all_ns[i] += o.split_all_ns[i];
        }
        self.never_fits += o.never_fits;
        self.no_credit += o.no_credit;
        self.server_errors += o.server_errors;
        for (a, b) in self.rate_limited_by.iter_mut().zip(o.rate_limited_by) {
            *a += b;
        }
        self.cost.input += o.cost.input;
        self.cost.cached_input += o.cost.cached_input;
        self.cost.image += o.cost.image;
        self.cost.completion += o.cost.completion;
        self.cost.reasoning += o.cost.reasoning;
        self.tokens_admitted += o.tokens_admitted;
        self.tokens_by_kind.add(&o.tokens_by_kind);
        self.latency_us.merge(&o.latency_us);
        self.give_up_us.merge(&o.give_up_us);
        self.attempts_per_request.merge(&o.attempts_per_request);
        self.first_arrival = match (self.first_arrival, o.first_arrival) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_arrival = self.last_arrival.max(o.last_arrival);
        self.last_end = self.last_end.max(o.last_end);
    }

    /// First arrival to the last end of a request, in seconds (the makespan of a job).
    pub fn makespan_s(&self) -> Option<f64> {
        match (self.first_arrival, self.last_end) {
            (Some(a), Some(b)) => Some(b.since(a).as_secs_f64()),
            _ => None,
        }
    }

    /// The `p` quantile of latency over all requests, those that did not succeed counted as
    /// infinitely slow (what an SLO means): `None` when it is infinite, because more than a
    /// `1 - p` share of the requests did not succeed (or none did).
    pub fn latency_quantile_all_us(&self, p: f64) -> Option<u64> {
        if self.succeeded == 0 {
            return None;
        }
        let adjusted = p * self.requests as f64 / self.succeeded as f64;
        if adjusted > 1.0 {
            None
        } else {
            self.latency_us.quantile(adjusted)
        }
    }

    /// Requests that have not ended: arrived, but neither succeeded, gave up nor never fit.
    pub fn in_flight(&self) -> u64 {
        self.requests - self.succeeded - self.gave_up - self.never_fits - self.no_credit
    }
}

/// Tokens of admitted attempts by kind. `cached` is a part of `prompt`; the others add up to
/// what the TPM bucket was debited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TokensByKind {
    pub prompt: u64,
    pub cached: u64,
    pub image: u64,
    pub completion: u64,
    pub reasoning: u64,
    /// Images (a count, not tokens): what an images-per-minute cap counts.
    pub images: u64,
}

impl TokensByKind {
    fn record(&mut self, s: &crate::workload::Size) {
        self.prompt += s.prompt;
        self.cached += u64::from(s.cached);
        self.image += u64::from(s.image);
        self.completion += s.completion;
        self.reasoning += u64::from(s.reasoning);
        self.images += u64::from(s.images);
    }

    fn add(&mut self, o: &TokensByKind) {
        self.prompt += o.prompt;
        self.cached += o.cached;
        self.image += o.image;
        self.completion += o.completion;
        self.reasoning += o.reasoning;
        self.images += o.images;
    }
}

/// One bucket of the run's time series (one second unless the run is very long).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Second {
    pub arrivals: u64,
    pub attempts: u64,
    pub admitted: u64,
    pub rate_limited: u64,
    pub never_fits: u64,
    pub completions: u64,
    pub gave_up: u64,
    pub no_credit: u64,
    pub server_errors: u64,
    /// Cost of the requests that succeeded in this bucket, nano-USD.
    pub cost: u64,
}

/// One model's share of a bucket: what its limiter admitted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModelSecond {
    pub admitted: u64,
    pub tokens: u64,
}

/// Most time-series buckets kept: 2^18 one-second buckets cover 72.8 hours of simulated time.
/// A longer run merges neighbouring buckets (2 s, 4 s, ...), so memory stays bounded whatever
/// the simulated time span.
pub const MAX_BUCKETS: usize = 1 << 18;

/// Observes a run: counters per stream and a time series of the whole run.
#[derive(Clone, Debug)]
pub struct Recorder {
    /// Counters of the requests that arrived at or after the warm-up.
    pub streams: Vec<Counters>,
    /// Bucket `i` covers `[i * bucket_s, (i + 1) * bucket_s)` seconds (every request, warm-up
    /// included).
    pub buckets: Vec<Second>,
    /// Admitted attempts and their tokens per bucket and model: entry `i * models + m`.
    pub per_model: Vec<ModelSecond>,
    /// Number of models that [`Recorder::per_model`] tells apart.
    pub models: usize,
    /// Width of a bucket in seconds: 1, unless the run outgrew [`MAX_BUCKETS`] seconds.
    pub bucket_s: u64,
    /// The model of each stream.
    stream_model: Vec<usize>,
    /// The token prices of each stream's model, where known.
    stream_prices: Vec<Option<crate::prices::TokenPrices>>,
    /// Requests that arrive before this are left out of the counters (not the time series).
    warmup: SimTime,
    /// The last bucket looked up: [start, end) in ns and its index (empty at first).
    last_bucket: (u64, u64, usize),
}

/// Nanoseconds to whole microseconds, rounded up (so a nonzero latency never records as 0).
fn micros(ns: u64) -> u64 {
    ns.div_ceil(1_000)
}

impl Recorder {
    /// A recorder for `streams` streams, all counted as one model, with no warm-up.
    pub fn new(streams: usize) -> Recorder {
        Recorder {
            streams: vec![Counters::default(); streams],
            buckets: Vec::new(),
            per_model: Vec::new(),
            models: 1,
            bucket_s: 1,
            stream_model: vec![0; streams],
            stream_prices: vec![None; streams],
            warmup: SimTime::ZERO,
            last_bucket: (0, 0, 0),
        }
    }

    /// A recorder that knows the scenario's models (tokens per model) and its warm-up.
    pub fn for_scenario(s: &crate::scenario::Scenario) -> Recorder {
        Recorder {
            models: s.models.len().max(1),
            stream_model: s.streams.iter().map(|st| st.model).collect(),
            stream_prices: s
                .streams
                .iter()
                .map(|st| s.models[st.model].prices)
                .collect(),
            warmup: SimTime(s.warmup.0),
            ..Recorder::new(s.streams.len())
        }
    }

    /// Whether a request counts in the totals (it arrived after the warm-up).
    fn counted(&self, req: &Request) -> bool {
        req.arrived >= self.warmup
    }

    #[inline]
    fn index(&mut self, now: SimTime) -> usize {
        // Most events fall in the bucket of the one before: skip the divisions then.
        let (lo, hi, at) = self.last_bucket;
        if now.0 >= lo && now.0 < hi {
            return at;
        }
        let i = self.index_slow(now);
        let width = NANOS_PER_SEC * self.bucket_s;
        let lo = i as u64 * width;
        self.last_bucket = (lo, lo.saturating_add(width), i);
        i
    }

    #[cold]
    #[inline(never)]
    fn index_slow(&mut self, now: SimTime) -> usize {
        let mut i = (now.0 / NANOS_PER_SEC / self.bucket_s) as usize;
        while i >= MAX_BUCKETS {
            self.coarsen();
            i = (now.0 / NANOS_PER_SEC / self.bucket_s) as usize;
        }
        if i >= self.buckets.len() {
            self.buckets.resize(i + 1, Second::default());
            self.per_model
                .resize((i + 1) * self.models, ModelSecond::default());
        }
        i
    }

    fn second(&mut self, now: SimTime) -> &mut Second {
        let i = self.index(now);
        &mut self.buckets[i]
    }

    /// Model `m`'s admitted attempts and tokens, one entry per bucket.
    pub fn model_series(&self, m: usize) -> impl Iterator<Item = ModelSecond> + '_ {
        self.per_model.iter().skip(m).step_by(self.models).copied()
    }

    /// Model `m`'s admitted attempts and tokens from `from` to the end of the run (whole
    /// buckets: those that start at or after `from`).
    pub fn model_totals_from(&self, m: usize, from: SimTime) -> ModelSecond {
        let first = from.0.div_ceil(NANOS_PER_SEC * self.bucket_s) as usize;
        self.model_series(m)
            .skip(first)
            .fold(ModelSecond::default(), |a, b| ModelSecond {
                admitted: a.admitted + b.admitted,
                tokens: a.tokens + b.tokens,
            })
    }

    fn ended(&mut self, now: SimTime, req: &Request, attempts: u32, succeeded: bool) {
        let c = &mut self.streams[req.stream as usize];
        c.attempts_per_request.record(u64::from(attempts));
        c.last_end = c.last_end.max(Some(now));
        let total = u128::from(now.since(req.arrived).0);
        let (queued, backoff) = (u128::from(req.waited.0), u128::from(req.slept.0));
        let split = [queued, backoff, total.saturating_sub(queued + backoff)];
        for (i, x) in split.into_iter().enumerate() {
            c.split_all_ns[i] += x;
            if succeeded {
                c.split_succeeded_ns[i] += x;
            }
        }
    }

    /// Doubles the bucket width, merging neighbouring buckets.
    fn coarsen(&mut self) {
        let merged: Vec<Second> = self
            .buckets
            .chunks(2)
            .map(|pair| {
                let mut m = pair[0];
                if let Some(b) = pair.get(1) {
                    m.arrivals += b.arrivals;
                    m.attempts += b.attempts;
                    m.admitted += b.admitted;
                    m.rate_limited += b.rate_limited;
                    m.never_fits += b.never_fits;
                    m.completions += b.completions;
                    m.gave_up += b.gave_up;
                    m.no_credit += b.no_credit;
                    m.server_errors += b.server_errors;
                    m.cost += b.cost;
                }
                m
            })
            .collect();
        self.buckets = merged;
        // Bucket widths changed: forget the last lookup.
        self.last_bucket = (0, 0, 0);
        let m = self.models;
        self.per_model = self
            .per_model
            .chunks(2 * m)
            .flat_map(|pair| {
                (0..m).map(move |j| {
                    let b = pair.get(m + j).copied().unwrap_or_default();
                    ModelSecond {
                        admitted: pair[j].admitted + b.admitted,
                        tokens: pair[j].tokens + b.tokens,
                    }
                })
            })
            .collect();
        self.bucket_s *= 2;
    }

    /// In-flight requests at the end of each bucket (arrived minus ended, cumulative).
    pub fn in_flight_series(&self) -> Vec<u64> {
        let mut level: i128 = 0;
        self.buckets
            .iter()
            .map(|s| {
                level += i128::from(s.arrivals);
                level -= i128::from(s.completions + s.gave_up + s.never_fits + s.no_credit);
                u64::try_from(level).unwrap_or(0)
            })
            .collect()
    }
}

impl Observer for Recorder {
    fn on_event(&mut self, _now: SimTime, stream: u32) {
        // Every event counts (a measure of the work done), warm-up included.
        self.streams[stream as usize].events += 1;
    }

    fn on_arrival(&mut self, now: SimTime, req: &Request) {
        if self.counted(req) {
            let c = &mut self.streams[req.stream as usize];
            c.requests += 1;
            c.first_arrival.get_or_insert(now);
            c.last_arrival = Some(now);
        }
        self.second(now).arrivals += 1;
    }

    fn on_attempt(&mut self, now: SimTime, req: &Request, decision: Decision) {
        if self.counted(req) {
            let c = &mut self.streams[req.stream as usize];
            c.attempts += 1;
            match decision {
                Decision::Admit | Decision::Queued { .. } => {
                    c.admitted += 1;
                    c.tokens_admitted += req.tokens();
                    c.tokens_by_kind.record(&req.size);
                }
                Decision::Limited { by, .. } => {
                    c.rate_limited += 1;
                    c.rate_limited_by[by as usize] += 1;
                }
                Decision::NeverFits => c.never_fits_attempts += 1,
            }
        }
        let i = self.index(now);
        let s = &mut self.buckets[i];
        s.attempts += 1;
        match decision {
            Decision::Admit | Decision::Queued { .. } => {
                s.admitted += 1;
                let m = self.stream_model[req.stream as usize];
                let ms = &mut self.per_model[i * self.models + m];
                ms.admitted += 1;
                ms.tokens += req.tokens();
            }
            Decision::Limited { .. } => s.rate_limited += 1,
            Decision::NeverFits => {}
        }
    }

    fn on_success(&mut self, now: SimTime, req: &Request) {
        let cost = self.stream_prices[req.stream as usize]
            .map(|p| p.cost(&req.size))
            .unwrap_or_default();
        let b = self.second(now);
        b.completions += 1;
        b.cost += cost.total();
        if self.counted(req) {
            let k = &mut self.streams[req.stream as usize].cost;
            k.input += cost.input;
            k.cached_input += cost.cached_input;
            k.image += cost.image;
            k.completion += cost.completion;
            k.reasoning += cost.reasoning;
            let c = &mut self.streams[req.stream as usize];
            c.succeeded += 1;
            c.latency_us.record(micros(now.since(req.arrived).0));
            self.ended(now, req, req.attempt(), true);
        }
    }

    fn on_give_up(&mut self, now: SimTime, req: &Request, cause: Cause) {
        self.second(now).gave_up += 1;
        if self.counted(req) {
            let c = &mut self.streams[req.stream as usize];
            c.gave_up += 1;
            c.gave_up_by_cause[cause.index()] += 1;
            c.cancelled += u64::from(req.cancelled);
            c.give_up_us.record(micros(now.since(req.arrived).0));
            // Every attempt it made was answered with a 429, but for one cut off by its
            // deadline while being served.
            self.ended(now, req, req.failures + u32::from(req.cancelled), false);
        }
    }

    fn on_server_error(&mut self, now: SimTime, req: &Request) {
        self.second(now).server_errors += 1;
        if self.counted(req) {
            self.streams[req.stream as usize].server_errors += 1;
        }
    }

    fn on_no_credit(&mut self, now: SimTime, req: &Request) {
        self.second(now).no_credit += 1;
        if self.counted(req) {
            self.streams[req.stream as usize].no_credit += 1;
            self.ended(now, req, req.failures, false);
        }
    }

    fn on_never_fits(&mut self, now: SimTime, req: &Request) {
        self.second(now).never_fits += 1;
        if self.counted(req) {
            self.streams[req.stream as usize].never_fits += 1;
            self.ended(now, req, req.attempt(), false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_quantiles_mean_and_max() {
        let mut d = Distribution::default();
        assert_eq!(d.quantile(0.5), None);
        for v in 1..=1000 {
            d.record(v);
        }
        assert_eq!(d.mean(), Some(500.5));
        assert_eq!(d.max(), Some(1000));
        let p50 = d.quantile(0.5).unwrap();
        assert!((499..=501).contains(&p50), "{p50}");
        let p99 = d.quantile(0.99).unwrap();
        assert!((989..=991).contains(&p99), "{p99}");
    }

    #[test]
    fn merging_equals_recording_together() {
        let (mut a, mut b, mut all) = (
            Distribution::default(),
            Distribution::default(),
            Distribution::default(),
        );
        for v in 0..500u64 {
            a.record(v * 7);
            all.record(v * 7);
            b.record(v * 13 + 1);
            all.record(v * 13 + 1);
        }
        a.merge(&b);
        assert_eq!(a.count(), all.count());
        assert_eq!(a.mean(), all.mean());
        for q in [0.5, 0.9, 0.99, 0.999] {
            assert_eq!(a.quantile(q), all.quantile(q));
        }
    }
}
