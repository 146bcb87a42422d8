//! Token prices (`prices_file` and `[[prices]]`): raw types and validation.

use super::*;
use crate::prices::{LongContext, PriceCatalog, Rates, TokenPrices};

#[derive(Deserialize, schemars::JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrice {
    model: String,
    input: f64,
    cached_input: f64,
    output: f64,
    long_context_from: Option<i64>,
    long_input: Option<f64>,
    long_cached_input: Option<f64>,
    long_output: Option<f64>,
}

/// A price in USD per million tokens: >= 0 with at most 3 decimals.
fn price(ctx: &Ctx, path: &str, x: f64) -> Result<Milli, InputError> {
    if !(x.is_finite() && x >= 0.0) {
        return Err(ctx.err(
            path,
            format!(
                "value {} is not allowed: a price in USD per million tokens is a number >= 0",
                fmt_num(x)
            ),
        ));
    }
    Milli::from_f64(x).ok_or_else(|| {
        ctx.err(
            path,
            format!(
                "value {} is not allowed: a price in USD per million tokens has at most 3 decimals",
                fmt_num(x)
            ),
        )
    })
}

/// The price catalog (embedded, or `prices_file`) and the inline `[[prices]]` rows, each for a
/// model that `known` says exists.
pub(super) fn validate_prices(
    file: Option<(&str, &Path)>,
    inline: &[RawPrice],
    ctx: &Ctx,
    known: &dyn Fn(&str) -> bool,
    base: PriceCatalog,
) -> Result<(PriceCatalog, Vec<(String, TokenPrices)>), InputError> {
    let mut catalog = base;
    if let Some((f, path)) = file {
        catalog = catalog.with_file(path).map_err(|e| {
            if e.location.line.is_none() && e.message.starts_with("cannot read") {
                ctx.err("prices_file", format!("`{f}`: {}", e.message))
            } else {
                e
            }
        })?;
        if let Some((m, _)) = catalog.models.iter().find(|(m, _)| !known(m)) {
            return Err(ctx.err(
                "prices_file",
                format!("`{f}` prices model {m:?}, which neither the limits table nor [[limits]] knows; check its name"),
            ));
        }
    }
    let mut rows: Vec<(String, TokenPrices)> = Vec::new();
    for (i, p) in inline.iter().enumerate() {
        let path = format!("prices[{i}]");
        if !known(&p.model) {
            return Err(ctx.err(
                &format!("{path}.model"),
                format!(
                    "unknown model {:?}: price a model of the limits table or of [[limits]]",
                    p.model
                ),
            ));
        }
        if rows.iter().any(|(m, _)| *m == p.model) {
            return Err(ctx.err(
                &format!("{path}.model"),
                format!("model {:?} already has inline prices", p.model),
            ));
        }
        let standard = Rates {
            input: price(ctx, &format!("{path}.input"), p.input)?,
            cached_input: price(ctx, &format!("{path}.cached_input"), p.cached_input)?,
            output: price(ctx, &format!("{path}.output"), p.output)?,
        };
        let long_context = match (
            p.long_context_from,
            p.long_input,
            p.long_cached_input,
            p.long_output,
        ) {
            (None, None, None, None) => None,
            (Some(from), Some(i), Some(c), Some(o)) => {
                if from <= 0 {
                    return Err(ctx.err(
                        &format!("{path}.long_context_from"),
                        format!("value {from} is not allowed: the prompt tokens from which long-context rates apply must be > 0"),
                    ));
                }
                Some(LongContext {
                    from: from as u64,
                    rates: Rates {
                        input: price(ctx, &format!("{path}.long_input"), i)?,
                        cached_input: price(ctx, &format!("{path}.long_cached_input"), c)?,
                        output: price(ctx, &format!("{path}.long_output"), o)?,
                    },
                })
            }
            _ => {
                return Err(ctx.err(
                    &path,
                    "long-context prices need all four of long_context_from, long_input, long_cached_input and long_output",
                ));
            }
        };
        rows.push((
            p.model.clone(),
            TokenPrices {
                standard,
                long_context,
            },
        ));
    }
    Ok((catalog, rows))
}
