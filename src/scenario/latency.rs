//! The `[latency]` section (and a stream's own `latency`): raw types and validation.

use super::*;

#[derive(Deserialize, schemars::JsonSchema, Clone, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLatency {
    pub(super) base: Option<Dur>,
    pub(super) output_tokens_per_sec: Option<f64>,
    pub(super) noise_sigma: Option<f64>,
    pub(super) rate_limited_response: Option<Dur>,
}

pub(super) fn validate_latency(
    raw: &RawLatency,
    ctx: &Ctx,
    path: &str,
) -> Result<LatencyModel, InputError> {
    let mut m = LatencyModel::default();
    if let Some(b) = raw.base {
        m.base = b.0;
    }
    if let Some(speed) = raw.output_tokens_per_sec {
        if speed == f64::INFINITY {
            m.output_tokens_per_sec = None;
        } else {
            m.output_tokens_per_sec = Some(positive_finite(
                ctx,
                &format!("{path}.output_tokens_per_sec"),
                speed,
                "output_tokens_per_sec (or inf for no per-token time)",
            )?);
        }
    }
    if let Some(s) = raw.noise_sigma {
        if !(s.is_finite() && (0.0..=5.0).contains(&s)) {
            return Err(ctx.err(
                &format!("{path}.noise_sigma"),
                format!(
                    "value {} is not allowed: noise_sigma must be a number from 0 to 5",
                    fmt_num(s)
                ),
            ));
        }
        m.noise_sigma = s;
    }
    if let Some(r) = raw.rate_limited_response {
        m.rate_limited_response = r.0;
    }
    Ok(m)
}
