//! The `[client]` section (and a stream's own `client`): raw types and validation.

use super::*;
use crate::catalog::Milli;
use crate::client::shared::{Adaptive, Breaker, Pace, RetryBudget, RetryQuota};
use crate::client::{ClientSpec, SharedSpec, presets};

#[derive(Deserialize, schemars::JsonSchema, Clone, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClient {
    /// Only in `[[clients]]`: the name streams refer to.
    pub(super) name: Option<String>,
    pub(super) preset: Option<String>,
    /// A number, or "none" (unlimited; then a time_budget or deadline must stop the client).
    #[schemars(with = "Option<serde_json::Value>")]
    pub(super) max_retries: Option<toml::Value>,
    pub(super) time_budget: Option<MaybeDur>,
    pub(super) deadline: Option<MaybeDur>,
    pub(super) base_delay: Option<Dur>,
    pub(super) multiplier: Option<f64>,
    pub(super) max_delay: Option<MaybeDur>,
    pub(super) min_delay: Option<Dur>,
    pub(super) jitter: Option<RawJitter>,
    pub(super) jitter_range: Option<Vec<f64>>,
    pub(super) jitter_amount: Option<Dur>,
    pub(super) retry_after: Option<RawRetryAfter>,
    pub(super) retry_after_max: Option<MaybeDur>,
    pub(super) retry_after_above_max: Option<AboveMax>,
    pub(super) retry_rate_limited: Option<bool>,
    pub(super) retry_server_errors: Option<bool>,
    pub(super) sleep_after_last_failure: Option<bool>,
    /// The SDK this loop wraps: a client table, or a preset name.
    #[schemars(with = "Option<serde_json::Value>")]
    pub(super) inner: Option<toml::Value>,
    pub(super) max_concurrency: Option<Switch<i64>>,
    pub(super) pace: Option<Switch<RawPace>>,
    pub(super) header_pacing: Option<bool>,
    pub(super) adaptive: Option<Switch<RawAdaptive>>,
    pub(super) retry_quota: Option<Switch<RawQuota>>,
    pub(super) retry_budget: Option<Switch<RawBudget>>,
    pub(super) breaker: Option<Switch<RawBreaker>>,
}

/// A setting that a table (or number) turns on and `false` turns off (a preset's, say).
#[derive(Clone)]
pub(crate) enum Switch<T> {
    Off,
    On(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Switch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = toml::Value::deserialize(d)?;
        match v {
            toml::Value::Boolean(false) => Ok(Switch::Off),
            toml::Value::Boolean(true) => Err(de::Error::custom(
                "`true` is not a setting here: give the settings (a table or a number), or `false` to turn it off",
            )),
            other => T::deserialize(other)
                .map(Switch::On)
                .map_err(|e| de::Error::custom(e.message())),
        }
    }
}

#[derive(Deserialize, schemars::JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPace {
    /// The share of each cap, from 0 (exclusive) to 1: 0.9 is 90 %.
    share: f64,
    requests: Option<bool>,
    tokens: Option<bool>,
    pause_after_429: Option<Dur>,
}

#[derive(Deserialize, schemars::JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdaptive {
    kind: String,
    initial_rate: Option<f64>,
    increase: Option<f64>,
    decrease: Option<f64>,
    min_rate: Option<f64>,
    cooldown: Option<Dur>,
}

#[derive(Deserialize, schemars::JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuota {
    capacity: Option<i64>,
    retry_cost: Option<i64>,
    no_retry_refund: Option<i64>,
}

#[derive(Deserialize, schemars::JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBudget {
    max_tokens: f64,
    token_ratio: f64,
}

#[derive(Deserialize, schemars::JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBreaker {
    failure_rate: Option<f64>,
    window: Option<i64>,
    min_calls: Option<i64>,
    open_for: Option<Dur>,
    half_open_calls: Option<i64>,
}

#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub(super) enum RawJitter {
    None,
    Full,
    Equal,
    Decorrelated,
    Scaled,
    Additive,
}

#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub(super) enum RawRetryAfter {
    Ignore,
    #[serde(alias = "honor")]
    Honour,
    Pushback,
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

/// A client: its retry policy and what it shares across requests. `name` names it in reports.
pub(super) fn validate_client(
    raw: &RawClient,
    ctx: &Ctx,
    path: &str,
    name: String,
) -> Result<ClientSpec, InputError> {
    let (mut p, mut shared) = match &raw.preset {
        Some(name) => presets::preset(name).ok_or_else(|| {
            ctx.err(
                &format!("{path}.preset"),
                format!(
                    "unknown preset {name:?}; presets: {}",
                    PRESETS
                        .iter()
                        .map(|(n, _, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?,
        // Without a preset, unset knobs take these defaults (documented in the README).
        None => (presets::unnamed(), SharedSpec::default()),
    };
    for (key, v, slot) in [
        ("time_budget", raw.time_budget, &mut p.time_budget),
        ("deadline", raw.deadline, &mut p.deadline),
    ] {
        match v.map(|d| d.0) {
            None => {}
            Some(Some(SimDuration::ZERO)) => {
                return Err(ctx.err(
                    &format!("{path}.{key}"),
                    format!("value \"0s\" is not allowed: {key} must be > 0, or \"none\""),
                ));
            }
            Some(d) => *slot = d,
        }
    }
    if let Some(v) = &raw.max_retries {
        match v {
            toml::Value::Integer(n) if (0..=1000).contains(n) => p.max_retries = *n as u32,
            toml::Value::String(s) if s == "none" => p.max_retries = u32::MAX,
            other => {
                return Err(ctx.err(
                    &format!("{path}.max_retries"),
                    format!("value {other} is not allowed: max_retries must be an integer from 0 to 1000, or \"none\" (unlimited, with a time_budget or deadline)"),
                ));
            }
        }
    }
    if p.max_retries == u32::MAX && p.time_budget.is_none() && p.deadline.is_none() {
        return Err(ctx.err(
            &format!("{path}.max_retries"),
            "max_retries = \"none\" (unlimited) needs a time_budget or a deadline to stop the client, e.g. time_budget = \"10m\"",
        ));
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
            RawJitter::Additive => Jitter::Additive {
                amount: raw.jitter_amount.map_or(SimDuration::from_secs(1), |d| d.0),
            },
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
    if let Some(a) = raw.jitter_amount {
        match &mut p.jitter {
            Jitter::Additive { amount } => *amount = a.0,
            _ => {
                return Err(ctx.err(
                    &format!("{path}.jitter_amount"),
                    "jitter_amount applies only with jitter = \"additive\"",
                ));
            }
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
        Some(RawRetryAfter::Pushback) => {
            if raw.retry_after_max.is_some() || raw.retry_after_above_max.is_some() {
                return Err(ctx.err(
                    &format!("{path}.retry_after"),
                    "retry_after_max and retry_after_above_max apply only with retry_after = \"honour\" (a pushback is always followed)",
                ));
            }
            p.retry_after = RetryAfter::Pushback;
        }
        Some(RawRetryAfter::Honour) => {
            let (max0, above0) = match p.retry_after {
                RetryAfter::Honour { max, above_max } => (max, above_max),
                RetryAfter::Ignore | RetryAfter::Pushback => (None, AboveMax::Backoff),
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
            RetryAfter::Ignore | RetryAfter::Pushback => {
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
    if let Some(r) = raw.retry_rate_limited {
        p.retry_rate_limited = r;
    }
    if let Some(r) = raw.retry_server_errors {
        p.retry_server_errors = r;
    }
    match &raw.inner {
        None => {}
        Some(toml::Value::Boolean(false)) => p.inner = None,
        Some(v) => p.inner = Some(Box::new(validate_inner(v, ctx, &format!("{path}.inner"))?)),
    }
    validate_shared(raw, ctx, path, &mut shared)?;
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
    Ok(ClientSpec {
        name,
        policy: p,
        shared,
    })
}

/// The policy of the SDK an outer loop wraps: a preset name or a client table, with no state
/// of its own, no inner policy and no limit on time (the outer loop's apply).
fn validate_inner(v: &toml::Value, ctx: &Ctx, path: &str) -> Result<ClientPolicy, InputError> {
    let raw = match v {
        toml::Value::String(s) => RawClient {
            preset: Some(s.clone()),
            ..RawClient::default()
        },
        toml::Value::Table(_) => {
            RawClient::deserialize(v.clone()).map_err(|e| ctx.err(path, e.message().to_string()))?
        }
        other => {
            return Err(ctx.err(
                path,
                format!(
                    "value {other} is not allowed: inner is a preset name, a client table, or false"
                ),
            ));
        }
    };
    if raw.name.is_some() {
        return Err(ctx.err(&format!("{path}.name"), "an inner policy has no name"));
    }
    let c = validate_client(&raw, ctx, path, String::new())?;
    if c.policy.inner.is_some() {
        return Err(ctx.err(
            &format!("{path}.inner"),
            "only one level of nesting is supported: an inner policy cannot have its own inner",
        ));
    }
    if c.policy.time_budget.is_some()
        || c.policy.deadline.is_some()
        || c.policy.max_retries == u32::MAX
    {
        return Err(ctx.err(
            path,
            "an inner policy has a finite max_retries and no time_budget or deadline (give those to the outer loop)",
        ));
    }
    if !c.shared.is_stateless() {
        return Err(ctx.err(
            path,
            "an inner policy shares no state (concurrency, pacing, adaptive rate, quota, budget, breaker belong to the outer client)",
        ));
    }
    Ok(c.policy)
}

fn int_in(ctx: &Ctx, path: &str, v: i64, lo: i64, hi: i64, what: &str) -> Result<u32, InputError> {
    if (lo..=hi).contains(&v) {
        Ok(v as u32)
    } else {
        Err(ctx.err(
            path,
            format!("value {v} is not allowed: {what} must be an integer from {lo} to {hi}"),
        ))
    }
}

fn num_in(ctx: &Ctx, path: &str, v: f64, lo: f64, hi: f64, what: &str) -> Result<f64, InputError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(ctx.err(
            path,
            format!(
                "value {} is not allowed: {what} must be a number from {} to {}",
                fmt_num(v),
                fmt_num(lo),
                fmt_num(hi)
            ),
        ))
    }
}

/// The client's shared mechanisms, over what its preset set.
fn validate_shared(
    raw: &RawClient,
    ctx: &Ctx,
    path: &str,
    shared: &mut SharedSpec,
) -> Result<(), InputError> {
    match &raw.max_concurrency {
        None => {}
        Some(Switch::Off) => shared.max_concurrency = None,
        Some(Switch::On(n)) => {
            shared.max_concurrency = Some(int_in(
                ctx,
                &format!("{path}.max_concurrency"),
                *n,
                1,
                10_000_000,
                "max_concurrency",
            )?);
        }
    }
    match &raw.pace {
        None => {}
        Some(Switch::Off) => shared.pace = None,
        Some(Switch::On(r)) => {
            let pp = format!("{path}.pace");
            if !(r.share.is_finite() && r.share > 0.0 && r.share <= 1.0) {
                return Err(ctx.err(
                    &format!("{pp}.share"),
                    format!(
                        "value {} is not allowed: share is the part of each cap the client allows itself, above 0 and at most 1 (0.9 = 90 %)",
                        fmt_num(r.share)
                    ),
                ));
            }
            let share = Milli((r.share * 1000.0).round().max(1.0) as u64);
            let (requests, tokens) = (r.requests.unwrap_or(true), r.tokens.unwrap_or(true));
            if !requests && !tokens {
                return Err(ctx.err(
                    &pp,
                    "requests = false and tokens = false leave nothing to pace; remove pace or set pace = false",
                ));
            }
            shared.pace = Some(Pace {
                share,
                requests,
                tokens,
                pause_after_429: r.pause_after_429.map_or(SimDuration::ZERO, |d| d.0),
            });
        }
    }
    if let Some(h) = raw.header_pacing {
        shared.header_pacing = h;
    }
    match &raw.adaptive {
        None => {}
        Some(Switch::Off) => shared.adaptive = None,
        Some(Switch::On(a)) => {
            let ap = format!("{path}.adaptive");
            shared.adaptive = Some(match a.kind.as_str() {
                "cubic" => {
                    if a.initial_rate.is_some()
                        || a.increase.is_some()
                        || a.decrease.is_some()
                        || a.min_rate.is_some()
                        || a.cooldown.is_some()
                    {
                        return Err(ctx.err(
                            &ap,
                            "kind = \"cubic\" has botocore's constants and takes no settings; initial_rate, increase, decrease, min_rate and cooldown are for kind = \"aimd\"",
                        ));
                    }
                    Adaptive::Cubic
                }
                "aimd" => {
                    let Some(initial) = a.initial_rate else {
                        return Err(ctx.err(
                            &ap,
                            "kind = \"aimd\" needs initial_rate (requests per second to start at), e.g. initial_rate = 10",
                        ));
                    };
                    let initial = num_in(
                        ctx,
                        &format!("{ap}.initial_rate"),
                        initial,
                        0.001,
                        1e7,
                        "initial_rate (req/s)",
                    )?;
                    let increase = num_in(
                        ctx,
                        &format!("{ap}.increase"),
                        a.increase.unwrap_or(1.0),
                        0.0,
                        1e7,
                        "increase (req/s per second)",
                    )?;
                    let decrease = num_in(
                        ctx,
                        &format!("{ap}.decrease"),
                        a.decrease.unwrap_or(0.5),
                        0.01,
                        0.99,
                        "decrease (the factor on a 429)",
                    )?;
                    let min_rate = num_in(
                        ctx,
                        &format!("{ap}.min_rate"),
                        a.min_rate.unwrap_or(0.5),
                        0.001,
                        1e7,
                        "min_rate (req/s)",
                    )?;
                    Adaptive::Aimd {
                        initial_rate: initial,
                        increase,
                        decrease,
                        min_rate,
                        cooldown: a.cooldown.map_or(SimDuration::from_secs(1), |d| d.0),
                    }
                }
                other => {
                    return Err(ctx.err(
                        &format!("{ap}.kind"),
                        format!("unknown value {other:?}; allowed: \"aimd\", \"cubic\""),
                    ));
                }
            });
        }
    }
    match &raw.retry_quota {
        None => {}
        Some(Switch::Off) => shared.retry_quota = None,
        Some(Switch::On(q)) => {
            let qp = format!("{path}.retry_quota");
            let d = shared.retry_quota.unwrap_or_default();
            let capacity = int_in(
                ctx,
                &format!("{qp}.capacity"),
                q.capacity.unwrap_or(i64::from(d.capacity)),
                1,
                1_000_000_000,
                "capacity",
            )?;
            let retry_cost = int_in(
                ctx,
                &format!("{qp}.retry_cost"),
                q.retry_cost.unwrap_or(i64::from(d.retry_cost)),
                1,
                i64::from(capacity),
                "retry_cost (at most the capacity)",
            )?;
            let no_retry_refund = int_in(
                ctx,
                &format!("{qp}.no_retry_refund"),
                q.no_retry_refund.unwrap_or(i64::from(d.no_retry_refund)),
                0,
                i64::from(capacity),
                "no_retry_refund",
            )?;
            shared.retry_quota = Some(RetryQuota {
                capacity,
                retry_cost,
                no_retry_refund,
            });
        }
    }
    match &raw.retry_budget {
        None => {}
        Some(Switch::Off) => shared.retry_budget = None,
        Some(Switch::On(b)) => {
            let bp = format!("{path}.retry_budget");
            // gRFC A6: max_tokens in (0, 1000], token_ratio > 0 with three decimals.
            let max = num_in(
                ctx,
                &format!("{bp}.max_tokens"),
                b.max_tokens,
                0.001,
                1000.0,
                "max_tokens",
            )?;
            let ratio = num_in(
                ctx,
                &format!("{bp}.token_ratio"),
                b.token_ratio,
                0.001,
                1000.0,
                "token_ratio",
            )?;
            shared.retry_budget = Some(RetryBudget {
                max_tokens: Milli((max * 1000.0).round() as u64),
                token_ratio: Milli((ratio * 1000.0).round() as u64),
            });
        }
    }
    match &raw.breaker {
        None => {}
        Some(Switch::Off) => shared.breaker = None,
        Some(Switch::On(b)) => {
            let bp = format!("{path}.breaker");
            let d = shared.breaker.unwrap_or_default();
            let rate = num_in(
                ctx,
                &format!("{bp}.failure_rate"),
                b.failure_rate
                    .unwrap_or(f64::from(d.failure_rate_pct) / 100.0),
                0.01,
                1.0,
                "failure_rate (the 429 share that opens it)",
            )?;
            let window = int_in(
                ctx,
                &format!("{bp}.window"),
                b.window.unwrap_or(i64::from(d.window)),
                1,
                100_000,
                "window (attempts)",
            )?;
            let min_calls = int_in(
                ctx,
                &format!("{bp}.min_calls"),
                b.min_calls.unwrap_or(i64::from(d.min_calls)),
                1,
                100_000,
                "min_calls",
            )?;
            let half_open_calls = int_in(
                ctx,
                &format!("{bp}.half_open_calls"),
                b.half_open_calls.unwrap_or(i64::from(d.half_open_calls)),
                1,
                100_000,
                "half_open_calls",
            )?;
            let open_for = b.open_for.map_or(d.open_for, |o| o.0);
            if open_for == SimDuration::ZERO {
                return Err(ctx.err(
                    &format!("{bp}.open_for"),
                    "value \"0s\" is not allowed: open_for must be > 0",
                ));
            }
            shared.breaker = Some(Breaker {
                failure_rate_pct: (rate * 100.0).round() as u32,
                window,
                min_calls,
                open_for,
                half_open_calls,
            });
        }
    }
    Ok(())
}
