//! The `[server]` section and inline `[[limits]]`: raw types and validation.

use super::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimit {
    pub(super) model: String,
    pub(super) rps: f64,
    pub(super) tpm: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) request_burst: Option<f64>,
    pub(super) token_burst: Option<f64>,
    pub(super) count_rejected: Option<bool>,
    pub(super) retry_after_granularity: Option<Dur>,
    pub(super) initial_level: Option<toml::Value>,
}

pub(super) fn validate_server(
    raw: Option<&RawServer>,
    ctx: &Ctx,
) -> Result<LimiterConfig, InputError> {
    let mut cfg = LimiterConfig::default();
    let Some(raw) = raw else { return Ok(cfg) };
    if let Some(b) = raw.request_burst {
        let m = milli(
            ctx,
            "server.request_burst",
            b,
            "the requests bucket capacity",
        )?;
        if m < Milli::from_units(1) {
            return Err(ctx.err(
                "server.request_burst",
                format!(
                    "value {} is not allowed: the requests bucket must hold at least 1 request",
                    fmt_num(b)
                ),
            ));
        }
        cfg.request_burst = Some(m);
    }
    if let Some(b) = raw.token_burst {
        cfg.token_burst = Some(milli(
            ctx,
            "server.token_burst",
            b,
            "the tokens bucket capacity",
        )?);
    }
    if let Some(c) = raw.count_rejected {
        cfg.count_rejected = c;
    }
    if let Some(g) = raw.retry_after_granularity {
        if g.0 == SimDuration::ZERO {
            return Err(ctx.err(
                "server.retry_after_granularity",
                "value \"0s\" is not allowed: use \"1ns\" for an exact Retry-After",
            ));
        }
        cfg.retry_after_granularity = g.0;
    }
    if let Some(v) = &raw.initial_level {
        let share = match v {
            toml::Value::String(s) if s == "full" => Some(1.0),
            toml::Value::String(s) if s == "empty" => Some(0.0),
            toml::Value::Float(x) => Some(*x),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        };
        cfg.initial_level = share
            .filter(|x| (0.0..=1.0).contains(x))
            .and_then(Milli::from_f64)
            .ok_or_else(|| {
                ctx.err(
                    "server.initial_level",
                    format!(
                        "value {v} is not allowed: \"full\" (the default), \"empty\", or the share of capacity each bucket holds at time zero, from 0 to 1 with at most 3 decimals"
                    ),
                )
            })?;
    }
    Ok(cfg)
}
