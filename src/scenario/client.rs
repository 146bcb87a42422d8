//! The `[client]` section (and a stream's own `client`): raw types and validation.

use super::*;

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClient {
    pub(super) preset: Option<String>,
    /// A number, or "none" (unlimited; then a time_budget must stop the client).
    pub(super) max_retries: Option<toml::Value>,
    pub(super) time_budget: Option<Dur>,
    pub(super) base_delay: Option<Dur>,
    pub(super) multiplier: Option<f64>,
    pub(super) max_delay: Option<MaybeDur>,
    pub(super) min_delay: Option<Dur>,
    pub(super) jitter: Option<RawJitter>,
    pub(super) jitter_range: Option<Vec<f64>>,
    pub(super) retry_after: Option<RawRetryAfter>,
    pub(super) retry_after_max: Option<MaybeDur>,
    pub(super) retry_after_above_max: Option<AboveMax>,
    pub(super) sleep_after_last_failure: Option<bool>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub(super) enum RawJitter {
    None,
    Full,
    Equal,
    Decorrelated,
    Scaled,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub(super) enum RawRetryAfter {
    Ignore,
    #[serde(alias = "honor")]
    Honour,
}

impl<'de> Deserialize<'de> for AboveMax {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "give-up" => Ok(AboveMax::GiveUp),
            "backoff" => Ok(AboveMax::Backoff),
            other => Err(de::Error::custom(format!(
                "unknown value `{other}`, expected `give-up` or `backoff`"
            ))),
        }
    }
}

pub(super) fn validate_client(
    raw: &RawClient,
    ctx: &Ctx,
    path: &str,
) -> Result<ClientPolicy, InputError> {
    let mut p = match &raw.preset {
        Some(name) => ClientPolicy::preset(name).ok_or_else(|| {
            ctx.err(
                &format!("{path}.preset"),
                format!(
                    "unknown preset {name:?}; presets: {}",
                    PRESETS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?,
        // Without a preset, unset knobs take these defaults (documented in the README).
        None => ClientPolicy {
            preset: None,
            max_retries: 3,
            base_delay: SimDuration::from_secs(1),
            multiplier: 2.0,
            max_delay: Some(SimDuration::from_secs(60)),
            jitter: Jitter::Full,
            min_delay: SimDuration::ZERO,
            retry_after: RetryAfter::Ignore,
            sleep_after_last_failure: false,
            time_budget: None,
        },
    };
    if let Some(b) = raw.time_budget {
        if b.0 == SimDuration::ZERO {
            return Err(ctx.err(
                &format!("{path}.time_budget"),
                "value \"0s\" is not allowed: a time budget must be > 0",
            ));
        }
        p.time_budget = Some(b.0);
    }
    if let Some(v) = &raw.max_retries {
        match v {
            toml::Value::Integer(n) if (0..=1000).contains(n) => p.max_retries = *n as u32,
            toml::Value::String(s) if s == "none" => {
                if p.time_budget.is_none() {
                    return Err(ctx.err(
                        &format!("{path}.max_retries"),
                        "max_retries = \"none\" (unlimited) needs a time_budget to stop the client, e.g. time_budget = \"10m\"",
                    ));
                }
                p.max_retries = u32::MAX;
            }
            other => {
                return Err(ctx.err(
                    &format!("{path}.max_retries"),
                    format!("value {other} is not allowed: max_retries must be an integer from 0 to 1000, or \"none\" (unlimited, with a time_budget)"),
                ));
            }
        }
    }
    if let Some(b) = raw.base_delay {
        p.base_delay = b.0;
    }
    if let Some(m) = raw.multiplier {
        if !(m.is_finite() && (1.0..=100.0).contains(&m)) {
            return Err(ctx.err(
                &format!("{path}.multiplier"),
                format!(
                    "value {} is not allowed: the multiplier must be a number from 1 to 100",
                    fmt_num(m)
                ),
            ));
        }
        p.multiplier = m;
    }
    if let Some(c) = raw.max_delay {
        p.max_delay = c.0;
    }
    if let Some(m) = raw.min_delay {
        p.min_delay = m.0;
    }
    if let Some(j) = raw.jitter {
        p.jitter = match j {
            RawJitter::None => Jitter::None,
            RawJitter::Full => Jitter::Full,
            RawJitter::Equal => Jitter::Equal,
            RawJitter::Decorrelated => Jitter::Decorrelated,
            RawJitter::Scaled => {
                let Some(r) = &raw.jitter_range else {
                    return Err(ctx.err(
                        &format!("{path}.jitter"),
                        "jitter = \"scaled\" needs jitter_range = [low, high], e.g. [0.75, 1.0]",
                    ));
                };
                Jitter::Scaled {
                    low: r.first().copied().unwrap_or(f64::NAN),
                    high: r.get(1).copied().unwrap_or(f64::NAN),
                }
            }
        };
    }
    if let Some(r) = &raw.jitter_range {
        let rp = format!("{path}.jitter_range");
        let ok = r.len() == 2
            && r.iter().all(|x| x.is_finite() && *x >= 0.0)
            && r[0] <= r[1]
            && r[1] <= 100.0;
        if !ok {
            return Err(ctx.err(
                &rp,
                format!(
                    "value [{}] is not allowed: jitter_range must be [low, high] with 0 <= low <= high <= 100",
                    r.iter().map(|x| fmt_num(*x)).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if !matches!(p.jitter, Jitter::Scaled { .. }) {
            return Err(ctx.err(&rp, "jitter_range applies only with jitter = \"scaled\""));
        }
    }
    let ra_max = raw.retry_after_max.map(|m| m.0);
    if let Some(Some(m)) = raw.retry_after_max.map(|m| m.0)
        && m == SimDuration::ZERO
    {
        return Err(ctx.err(
            &format!("{path}.retry_after_max"),
            "value \"0s\" is not allowed: use retry_after = \"ignore\" instead",
        ));
    }
    match raw.retry_after {
        Some(RawRetryAfter::Ignore) => {
            if raw.retry_after_max.is_some() || raw.retry_after_above_max.is_some() {
                return Err(ctx.err(
                    &format!("{path}.retry_after"),
                    "retry_after_max and retry_after_above_max apply only with retry_after = \"honour\"",
                ));
            }
            p.retry_after = RetryAfter::Ignore;
        }
        Some(RawRetryAfter::Honour) => {
            let (max0, above0) = match p.retry_after {
                RetryAfter::Honour { max, above_max } => (max, above_max),
                RetryAfter::Ignore => (None, AboveMax::Backoff),
            };
            p.retry_after = RetryAfter::Honour {
                max: ra_max.unwrap_or(max0),
                above_max: raw.retry_after_above_max.unwrap_or(above0),
            };
        }
        None => match &mut p.retry_after {
            RetryAfter::Honour { max, above_max } => {
                if let Some(m) = ra_max {
                    *max = m;
                }
                if let Some(a) = raw.retry_after_above_max {
                    *above_max = a;
                }
            }
            RetryAfter::Ignore => {
                if raw.retry_after_max.is_some() || raw.retry_after_above_max.is_some() {
                    return Err(ctx.err(
                        &format!("{path}.retry_after_max"),
                        "retry_after_max and retry_after_above_max apply only with retry_after = \"honour\"",
                    ));
                }
            }
        },
    }
    if let Some(s) = raw.sleep_after_last_failure {
        p.sleep_after_last_failure = s;
    }
    if let Some(cap) = p.max_delay
        && p.min_delay > cap
    {
        return Err(ctx.err(
            &format!("{path}.min_delay"),
            format!(
                "value \"{}\" is not allowed: min_delay must be at most max_delay (\"{cap}\")",
                p.min_delay
            ),
        ));
    }
    if let (Some(cap), false) = (p.max_delay, p.max_retries == 0)
        && cap < p.base_delay
    {
        return Err(ctx.err(
            &format!("{path}.max_delay"),
            format!(
                "value \"{cap}\" is not allowed: max_delay must be at least base_delay (\"{}\")",
                p.base_delay
            ),
        ));
    }
    Ok(p)
}
