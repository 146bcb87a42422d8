//! The `[[traffic]]` streams: arrivals and token distributions, raw types and validation.

use super::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStream {
    pub(super) name: Option<String>,
    pub(super) model: String,
    pub(super) arrivals: RawArrivals,
    pub(super) prompt_tokens: RawTokens,
    pub(super) completion_tokens: RawTokens,
    pub(super) client: Option<RawClient>,
    pub(super) latency: Option<RawLatency>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawProcess {
    Poisson,
    Constant,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArrivals {
    pub(super) process: RawProcess,
    pub(super) rate_per_sec: f64,
    pub(super) start: Option<Dur>,
    pub(super) end: Option<Dur>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawDist {
    Constant,
    Uniform,
    Normal,
    Lognormal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTokens {
    pub(super) dist: RawDist,
    pub(super) value: Option<f64>,
    pub(super) min: Option<f64>,
    pub(super) max: Option<f64>,
    pub(super) mean: Option<f64>,
    pub(super) std: Option<f64>,
}

pub(super) fn validate_arrivals(
    raw: &RawArrivals,
    ctx: &Ctx,
    path: &str,
    duration: SimDuration,
) -> Result<ArrivalSpec, InputError> {
    let rate = positive_finite(
        ctx,
        &format!("{path}.rate_per_sec"),
        raw.rate_per_sec,
        "rate_per_sec (requests per second)",
    )?;
    if rate > 1e7 {
        return Err(ctx.err(
            &format!("{path}.rate_per_sec"),
            format!(
                "value {} is not allowed: rate_per_sec must be at most 10000000",
                fmt_num(rate)
            ),
        ));
    }
    let start = raw.start.map_or(SimDuration::ZERO, |d| d.0);
    if start >= duration {
        return Err(ctx.err(
            &format!("{path}.start"),
            format!("value \"{start}\" is not allowed: start must be before the duration (\"{duration}\")"),
        ));
    }
    let end = raw.end.map(|d| d.0);
    if let Some(e) = end
        && (e <= start || e > duration)
    {
        return Err(ctx.err(
            &format!("{path}.end"),
            format!("value \"{e}\" is not allowed: end must be after start (\"{start}\") and at most the duration (\"{duration}\")"),
        ));
    }
    let process = match raw.process {
        RawProcess::Poisson => Process::Poisson { rate_per_sec: rate },
        RawProcess::Constant => Process::Constant { rate_per_sec: rate },
    };
    Ok(ArrivalSpec {
        process,
        start,
        end,
    })
}

pub(super) fn validate_tokens(raw: &RawTokens, ctx: &Ctx, path: &str) -> Result<TokenDist, InputError> {
    const MAX_TOKENS: f64 = 1e9;
    let field = |name: &str| format!("{path}.{name}");
    let given = [
        ("value", raw.value),
        ("min", raw.min),
        ("max", raw.max),
        ("mean", raw.mean),
        ("std", raw.std),
    ];
    let (dist_name, needed): (&str, &[&str]) = match raw.dist {
        RawDist::Constant => ("constant", &["value"]),
        RawDist::Uniform => ("uniform", &["min", "max"]),
        RawDist::Normal => ("normal", &["mean", "std"]),
        RawDist::Lognormal => ("lognormal", &["mean", "std"]),
    };
    for (name, v) in given {
        if v.is_some() && !needed.contains(&name) {
            return Err(ctx.err(
                &field(name),
                format!(
                    "`{name}` does not apply to dist = \"{dist_name}\", which takes {}",
                    needed.join(" and ")
                ),
            ));
        }
    }
    for name in needed {
        if given.iter().any(|(n, v)| n == name && v.is_none()) {
            return Err(ctx.err(
                path,
                format!("dist = \"{dist_name}\" needs {}", needed.join(" and ")),
            ));
        }
    }
    let count = |name: &str, v: f64| -> Result<u64, InputError> {
        if v.is_finite() && (1.0..=MAX_TOKENS).contains(&v) && v.fract() == 0.0 {
            Ok(v as u64)
        } else {
            Err(ctx.err(
                &field(name),
                format!("value {} is not allowed: {name} must be a whole number of tokens from 1 to 1000000000", fmt_num(v)),
            ))
        }
    };
    let mean_std = |lowest: f64| -> Result<(f64, f64), InputError> {
        let mean = raw.mean.unwrap_or(f64::NAN);
        let std = raw.std.unwrap_or(f64::NAN);
        if !(mean.is_finite() && mean >= lowest && mean <= MAX_TOKENS) {
            return Err(ctx.err(
                &field("mean"),
                format!("value {} is not allowed: mean must be a number of tokens from {lowest} to 1000000000", fmt_num(mean)),
            ));
        }
        if !(std.is_finite() && (0.0..=MAX_TOKENS).contains(&std)) {
            return Err(ctx.err(
                &field("std"),
                format!(
                    "value {} is not allowed: std must be a number >= 0",
                    fmt_num(std)
                ),
            ));
        }
        Ok((mean, std))
    };
    Ok(match raw.dist {
        RawDist::Constant => TokenDist::Constant {
            value: count("value", raw.value.unwrap_or(f64::NAN))?,
        },
        RawDist::Uniform => {
            let min = count("min", raw.min.unwrap_or(f64::NAN))?;
            let max = count("max", raw.max.unwrap_or(f64::NAN))?;
            if max < min {
                return Err(ctx.err(
                    &field("max"),
                    format!("value {max} is not allowed: max must be >= min ({min})"),
                ));
            }
            TokenDist::Uniform { min, max }
        }
        // Truncation at 1 redraws; a mean >= 1 keeps the acceptance probability >= 1/2.
        RawDist::Normal => {
            let (mean, std) = mean_std(1.0)?;
            TokenDist::Normal { mean, std }
        }
        RawDist::Lognormal => {
            let (mean, std) = mean_std(1.0)?;
            TokenDist::Lognormal { mean, std }
        }
    })
}
