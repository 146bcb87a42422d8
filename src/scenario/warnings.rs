//! Warnings of validation: requests that never fit, and totals coloured by the starting level.

use super::*;

/// Warnings that the buckets' starting level colours the totals: a run shorter than a few
/// refill times of a bucket, or an overloaded bucket that starts full and takes a sizeable part
/// of the run to empty (until then fewer 429s come than in the steady state).
pub(super) fn warmup_warnings(
    streams: &[Stream],
    models: &[ModelSpec],
    server: &LimiterConfig,
    duration: SimDuration,
    warmup: SimDuration,
) -> Vec<Warning> {
    const FEW_REFILLS: f64 = 5.0;
    let measured = (duration.0 - warmup.0) as f64 / 1e9;
    let level = server.initial_level.as_f64();
    let mut out = Vec::new();
    for (m, model) in models.iter().enumerate() {
        let mine = || streams.iter().filter(|s| s.model == m);
        let rps: f64 = mine().map(Stream::mean_rate_per_sec).sum();
        if rps <= 0.0 {
            continue;
        }
        let tokens_per_s: f64 = mine()
            .map(|s| s.mean_rate_per_sec() * s.mean_tokens())
            .sum();
        let ((burst, _, _), _) = crate::limiter::ModelLimiter::shape(&model.limits, server);
        let requests = (
            "requests",
            burst.as_f64(),
            model.limits.requests_per_sec(),
            rps,
        );
        let tokens = model.limits.tpm.map(|tpm| {
            (
                "tokens",
                server.token_burst.unwrap_or(tpm).as_f64(),
                tpm.as_f64() / 60.0,
                tokens_per_s,
            )
        });
        for (what, capacity, refill, offered) in [Some(requests), tokens].into_iter().flatten() {
            let refill_s = capacity / refill;
            if duration.as_secs_f64() < FEW_REFILLS * refill_s {
                out.push(Warning(format!(
                    "model {:?}: the run ({duration}) is shorter than {FEW_REFILLS} refill times of its {what} bucket ({}); its totals depend on how full the bucket starts (server.initial_level)",
                    model.name,
                    SimDuration::from_secs_f64(refill_s)
                )));
                continue;
            }
            if level > 0.0 && offered > refill {
                let drain_s = capacity * level / (offered - refill);
                if drain_s > 0.05 * measured && warmup.as_secs_f64() < drain_s {
                    let drain = SimDuration::from_secs_f64(drain_s.ceil());
                    let starts = if level >= 1.0 {
                        "starts full".to_string()
                    } else {
                        format!("starts {:.0}% full", 100.0 * level)
                    };
                    // A warm-up must end before the arrivals do.
                    let cure = if drain < duration {
                        format!(
                            "set warmup = \"{drain}\" to leave that out of the totals, or server.initial_level = \"empty\""
                        )
                    } else {
                        format!(
                            "that is longer than the run: set server.initial_level = \"empty\", or a duration well over {drain} with a warmup of {drain}"
                        )
                    };
                    out.push(Warning(format!(
                        "model {:?}: its {what} bucket {starts} and, at the offered load, takes about {drain} to empty ({:.0}% of the measured run), with fewer 429s until then than in the steady state; {cure}",
                        model.name,
                        100.0 * drain_s / measured
                    )));
                }
            }
        }
    }
    out
}

/// Estimates how many requests of a stream can never fit the TPM capacity (20 000 draws).
pub(super) fn never_fits_warning(
    s: &Stream,
    model: &ModelSpec,
    server: &LimiterConfig,
) -> Option<Warning> {
    let limiter = ModelLimiter::new(&model.limits, server);
    let capacity = server.token_burst.or(model.limits.tpm)?;
    let sizes =
        crate::workload::SizeSampler::new(&s.prompt_tokens, &s.completion_tokens, &s.extra_tokens);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5EED);
    let n = 20_000;
    let too_big = (0..n)
        .filter(|_| !limiter.fits(sizes.sample(&mut rng).total()))
        .count();
    (too_big > 0).then(|| {
        Warning(format!(
            "stream {:?}: about {:.2}% of requests need more tokens than the TPM capacity of model {:?} ({capacity} tokens) and will never fit",
            s.name,
            100.0 * too_big as f64 / n as f64,
            model.name
        ))
    })
}
