//! The `[sweep]` section: raw types and validation of its axes.

use super::*;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSweep {
    pub(super) replications: Option<i64>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub(super) tiers: Option<toml::Value>,
    pub(super) load: Option<Vec<f64>>,
    #[schemars(with = "Option<Vec<serde_json::Value>>")]
    pub(super) clients: Option<Vec<toml::Value>>,
    #[serde(default)]
    pub(super) params: Vec<RawParam>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawParam {
    pub(super) path: String,
    #[schemars(with = "Vec<serde_json::Value>")]
    pub(super) values: Vec<toml::Value>,
}

/// Which tiers a sweep covers.
#[derive(Clone, Debug, PartialEq)]
pub enum TierAxis {
    /// Every tier at which every model of the scenario has limits.
    All,
    List(Vec<String>),
}

/// A swept scenario field: a dotted path and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepParam {
    pub path: String,
    pub values: Vec<toml::Value>,
}

/// The `[sweep]` section, checked (each grid point is validated when the sweep is expanded).
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    pub replications: u32,
    pub tiers: Option<TierAxis>,
    /// Multipliers of every stream's arrival rate.
    pub load: Option<Vec<f64>>,
    /// Client presets (strings) or whole client tables.
    pub clients: Option<Vec<toml::Value>>,
    pub params: Vec<SweepParam>,
}

/// Most replications a sweep may ask for.
pub const MAX_REPLICATIONS: u32 = 100_000;

pub(super) fn validate_sweep(raw: &RawSweep, ctx: &Ctx) -> Result<SweepSpec, InputError> {
    let replications = match raw.replications {
        None => 1,
        Some(n) if (1..=i64::from(MAX_REPLICATIONS)).contains(&n) => n as u32,
        Some(n) => {
            return Err(ctx.err(
                "sweep.replications",
                format!(
                    "value {n} is not allowed: replications must be from 1 to {MAX_REPLICATIONS}"
                ),
            ));
        }
    };
    let tiers = match &raw.tiers {
        None => None,
        Some(toml::Value::String(s)) if s == "all" => Some(TierAxis::All),
        Some(toml::Value::Array(a)) if !a.is_empty() => {
            let mut out = Vec::new();
            for (i, v) in a.iter().enumerate() {
                match v {
                    toml::Value::String(s) => out.push(s.clone()),
                    toml::Value::Integer(n) => out.push(n.to_string()),
                    other => {
                        return Err(ctx.err(
                            &format!("sweep.tiers[{i}]"),
                            format!("value {other} is not allowed: a tier is a name or a number"),
                        ));
                    }
                }
            }
            if let Some(j) = (1..out.len()).find(|&j| out[..j].contains(&out[j])) {
                return Err(ctx.err(
                    &format!("sweep.tiers[{j}]"),
                    format!(
                        "tier {:?} appears twice; each tier of the axis must be different",
                        out[j]
                    ),
                ));
            }
            Some(TierAxis::List(out))
        }
        Some(other) => {
            return Err(ctx.err(
                "sweep.tiers",
                format!("value {other} is not allowed: use \"all\" or a non-empty list such as [0, 1, 2]"),
            ));
        }
    };
    if let Some(load) = &raw.load {
        if load.is_empty() {
            return Err(ctx.err(
                "sweep.load",
                "an empty list is not allowed: give at least one load multiplier",
            ));
        }
        for (i, &x) in load.iter().enumerate() {
            if load[..i].contains(&x) {
                return Err(ctx.err(
                    &format!("sweep.load[{i}]"),
                    format!(
                        "value {} appears twice; each load of the axis must be different",
                        fmt_num(x)
                    ),
                ));
            }
            if !(x.is_finite() && x > 0.0 && x <= 1000.0) {
                return Err(ctx.err(
                    &format!("sweep.load[{i}]"),
                    format!(
                        "value {} is not allowed: a load multiplier must be > 0 and at most 1000",
                        fmt_num(x)
                    ),
                ));
            }
        }
    }
    if let Some(clients) = &raw.clients {
        if clients.is_empty() {
            return Err(ctx.err(
                "sweep.clients",
                "an empty list is not allowed: give preset names or client tables",
            ));
        }
        let mut labels: Vec<String> = Vec::new();
        for (i, c) in clients.iter().enumerate() {
            if !matches!(c, toml::Value::String(_) | toml::Value::Table(_)) {
                return Err(ctx.err(
                    &format!("sweep.clients[{i}]"),
                    format!("value {c} is not allowed: a client is a preset name or a table like {{ preset = \"none\" }}"),
                ));
            }
            if let toml::Value::Table(t) = c
                && let Some(name) = t.get("name")
                && name.as_str().is_none_or(|n| n.trim().is_empty())
            {
                return Err(ctx.err(
                    &format!("sweep.clients[{i}].name"),
                    format!("value {name} is not allowed: a client's name is a non-empty string, its label in tables and charts"),
                ));
            }
            let label = crate::sweep::client_label(c);
            if labels.contains(&label) {
                return Err(ctx.err(
                    &format!("sweep.clients[{i}]"),
                    format!("the label {label:?} is given twice: each client of the axis needs its own name"),
                ));
            }
            labels.push(label);
        }
    }
    let mut params = Vec::new();
    for (i, p) in raw.params.iter().enumerate() {
        let first = p.path.split(['.', '[']).next().unwrap_or("");
        if p.path.is_empty() || matches!(first, "sweep" | "name" | "seed" | "tier") {
            return Err(ctx.err(
                &format!("sweep.params[{i}].path"),
                format!(
                    "path {:?} is not allowed: sweep a scenario field such as \"traffic[0].arrivals.rate_per_sec\" (tiers have their own axis; seeds come from replications)",
                    p.path
                ),
            ));
        }
        check_path(&p.path).map_err(|m| ctx.err(&format!("sweep.params[{i}].path"), m))?;
        if p.values.is_empty() {
            return Err(ctx.err(
                &format!("sweep.params[{i}].values"),
                "an empty list is not allowed",
            ));
        }
        if let Some(j) = (1..p.values.len()).find(|&j| p.values[..j].contains(&p.values[j])) {
            return Err(ctx.err(
                &format!("sweep.params[{i}].values[{j}]"),
                format!(
                    "value {} appears twice; each value of an axis must be different",
                    p.values[j]
                ),
            ));
        }
        params.push(SweepParam {
            path: p.path.clone(),
            values: p.values.clone(),
        });
    }
    Ok(SweepSpec {
        replications,
        tiers,
        load: raw.load.clone(),
        clients: raw.clients.clone(),
        params,
    })
}
