//! The `[[traffic]]` streams: arrivals and token distributions, raw types and validation.

use super::*;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStream {
    pub(super) name: Option<String>,
    pub(super) model: String,
    pub(super) arrivals: RawArrivals,
    /// A finite job: the stream ends after this many requests.
    pub(super) requests: Option<i64>,
    /// Required, except for a trace (whose rows give the sizes).
    pub(super) prompt_tokens: Option<RawTokens>,
    pub(super) completion_tokens: Option<RawTokens>,
    /// Images per request (may be 0), and the tokens of each image.
    pub(super) images: Option<RawTokens>,
    pub(super) image_tokens: Option<RawTokens>,
    /// The share of the prompt that is cached: a number, or [low, high] (uniform).
    #[schemars(with = "Option<serde_json::Value>")]
    pub(super) cached_share: Option<toml::Value>,
    pub(super) reasoning_tokens: Option<RawTokens>,
    /// The request's `max_tokens`: generation (completion and reasoning) stops there; with
    /// `token_accounting = "reserve"` the server reserves it at admission.
    pub(super) max_tokens: Option<i64>,
    /// A `[[clients]]` name, or the stream's own client table.
    #[schemars(with = "Option<serde_json::Value>")]
    pub(super) client: Option<toml::Value>,
    pub(super) latency: Option<RawLatency>,
}

#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawProcess {
    Poisson,
    Constant,
    Onoff,
    Profile,
    Gamma,
    Workers,
    Trace,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArrivals {
    pub(super) process: RawProcess,
    pub(super) rate_per_sec: Option<f64>,
    pub(super) cv: Option<f64>,
    pub(super) rate_on: Option<f64>,
    pub(super) rate_off: Option<f64>,
    pub(super) mean_on: Option<Dur>,
    pub(super) mean_off: Option<Dur>,
    pub(super) points: Option<Vec<(Dur, f64)>>,
    pub(super) repeat: Option<Dur>,
    pub(super) count: Option<i64>,
    pub(super) think: Option<RawThink>,
    pub(super) ramp: Option<Dur>,
    pub(super) file: Option<String>,
    pub(super) time_scale: Option<f64>,
    #[serde(rename = "loop")]
    pub(super) looped: Option<bool>,
    pub(super) on_bad_row: Option<String>,
    pub(super) start: Option<Dur>,
    pub(super) end: Option<Dur>,
}

/// A think time: a duration, or a table with `dist` and durations.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub(super) enum RawThink {
    Fixed(Dur),
    Dist(RawThinkDist),
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawThinkDist {
    pub(super) dist: String,
    pub(super) value: Option<Dur>,
    pub(super) min: Option<Dur>,
    pub(super) max: Option<Dur>,
    pub(super) mean: Option<Dur>,
    pub(super) std: Option<Dur>,
}

/// Most closed-loop workers one stream may have.
pub const MAX_WORKERS: u64 = 1_000_000;

#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawDist {
    Constant,
    Uniform,
    Normal,
    Lognormal,
    Empirical,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTokens {
    pub(super) dist: RawDist,
    pub(super) value: Option<f64>,
    pub(super) min: Option<f64>,
    pub(super) max: Option<f64>,
    pub(super) mean: Option<f64>,
    pub(super) std: Option<f64>,
    /// Empirical: (probability, value) points, or a CSV file's column.
    pub(super) quantiles: Option<Vec<(f64, f64)>>,
    pub(super) file: Option<String>,
    pub(super) column: Option<String>,
}

pub(super) fn validate_arrivals(
    raw: &RawArrivals,
    ctx: &Ctx,
    path: &str,
    duration: SimDuration,
    base_dir: Option<&Path>,
) -> Result<ArrivalSpec, InputError> {
    let field = |name: &str| format!("{path}.{name}");
    let given: [(&str, bool); 16] = [
        ("file", raw.file.is_some()),
        ("time_scale", raw.time_scale.is_some()),
        ("loop", raw.looped.is_some()),
        ("on_bad_row", raw.on_bad_row.is_some()),
        ("rate_per_sec", raw.rate_per_sec.is_some()),
        ("cv", raw.cv.is_some()),
        ("rate_on", raw.rate_on.is_some()),
        ("rate_off", raw.rate_off.is_some()),
        ("mean_on", raw.mean_on.is_some()),
        ("mean_off", raw.mean_off.is_some()),
        ("points", raw.points.is_some()),
        ("repeat", raw.repeat.is_some()),
        ("count", raw.count.is_some()),
        ("think", raw.think.is_some()),
        ("ramp", raw.ramp.is_some()),
        ("end", false),
    ];
    let (name, needed, optional): (&str, &[&str], &[&str]) = match raw.process {
        RawProcess::Poisson => ("poisson", &["rate_per_sec"], &[]),
        RawProcess::Constant => ("constant", &["rate_per_sec"], &[]),
        RawProcess::Gamma => ("gamma", &["rate_per_sec", "cv"], &[]),
        RawProcess::Onoff => (
            "onoff",
            &["rate_on", "rate_off", "mean_on", "mean_off"],
            &[],
        ),
        RawProcess::Profile => ("profile", &["points"], &["repeat"]),
        RawProcess::Workers => ("workers", &["count"], &["think", "ramp"]),
        RawProcess::Trace => ("trace", &["file"], &["time_scale", "loop", "on_bad_row"]),
    };
    for (key, present) in given {
        if present && !needed.contains(&key) && !optional.contains(&key) {
            let takes: Vec<&str> = needed.iter().chain(optional).copied().collect();
            return Err(ctx.err(
                &field(key),
                format!(
                    "`{key}` does not apply to process = \"{name}\", which takes {} (and start, end)",
                    takes.join(", ")
                ),
            ));
        }
    }
    if let Some(missing) = needed
        .iter()
        .find(|k| given.iter().any(|(g, present)| g == *k && !present))
    {
        return Err(ctx.err(
            path,
            format!(
                "process = \"{name}\" needs {} (missing: {missing})",
                needed.join(", ")
            ),
        ));
    }
    let rate = |key: &str, x: f64, zero_ok: bool| -> Result<f64, InputError> {
        let ok = x.is_finite() && (x > 0.0 || (zero_ok && x == 0.0)) && x <= MAX_RATE_PER_SEC;
        if ok {
            Ok(x)
        } else {
            Err(ctx.err(
                &field(key),
                format!(
                    "value {} is not allowed: {key} must be a finite number {} (requests per second), at most 10000000",
                    fmt_num(x),
                    if zero_ok { ">= 0" } else { "> 0" }
                ),
            ))
        }
    };
    let positive_duration = |key: &str, d: Option<&Dur>| -> Result<SimDuration, InputError> {
        let d = d.map_or(SimDuration::ZERO, |d| d.0);
        if d == SimDuration::ZERO {
            return Err(ctx.err(
                &field(key),
                format!("value \"{d}\" is not allowed: {key} must be a duration > 0"),
            ));
        }
        Ok(d)
    };
    let process = match raw.process {
        RawProcess::Poisson => Process::Poisson {
            rate_per_sec: rate("rate_per_sec", raw.rate_per_sec.unwrap_or(f64::NAN), false)?,
        },
        RawProcess::Constant => Process::Constant {
            rate_per_sec: rate("rate_per_sec", raw.rate_per_sec.unwrap_or(f64::NAN), false)?,
        },
        RawProcess::Gamma => {
            let cv = raw.cv.unwrap_or(f64::NAN);
            if !(cv.is_finite() && (0.01..=100.0).contains(&cv)) {
                return Err(ctx.err(
                    &field("cv"),
                    format!(
                        "value {} is not allowed: cv (the gaps' coefficient of variation; 1 is Poisson) must be from 0.01 to 100",
                        fmt_num(cv)
                    ),
                ));
            }
            Process::Gamma {
                rate_per_sec: rate("rate_per_sec", raw.rate_per_sec.unwrap_or(f64::NAN), false)?,
                cv,
            }
        }
        RawProcess::Onoff => {
            let rate_on = rate("rate_on", raw.rate_on.unwrap_or(f64::NAN), true)?;
            let rate_off = rate("rate_off", raw.rate_off.unwrap_or(f64::NAN), true)?;
            if rate_on == 0.0 && rate_off == 0.0 {
                return Err(ctx.err(
                    &field("rate_on"),
                    "rate_on and rate_off are both 0: no request would ever arrive",
                ));
            }
            Process::OnOff {
                rate_on,
                rate_off,
                mean_on: positive_duration("mean_on", raw.mean_on.as_ref())?,
                mean_off: positive_duration("mean_off", raw.mean_off.as_ref())?,
            }
        }
        RawProcess::Profile => {
            let raw_points = raw.points.as_deref().unwrap_or(&[]);
            if raw_points.is_empty() {
                return Err(ctx.err(
                    &field("points"),
                    "an empty list is not allowed: give [time, rate] points, e.g. [[\"0s\", 10], [\"12h\", 30]]",
                ));
            }
            let mut points = Vec::with_capacity(raw_points.len());
            for (i, (t, r)) in raw_points.iter().enumerate() {
                let at = format!("{}[{i}]", field("points"));
                if i == 0 && t.0 != SimDuration::ZERO {
                    return Err(ctx.err(
                        &at,
                        format!("the first point is at \"{}\": it must be at \"0s\" (the stream's start)", t.0),
                    ));
                }
                if i > 0 && t.0 <= raw_points[i - 1].0.0 {
                    return Err(ctx.err(
                        &at,
                        format!("time \"{}\" is not allowed: point times must increase", t.0),
                    ));
                }
                points.push((t.0.as_secs_f64(), rate(&format!("points[{i}]"), *r, true)?));
            }
            let repeat = match &raw.repeat {
                Some(d) if d.0 <= raw_points[raw_points.len() - 1].0.0 => {
                    return Err(ctx.err(
                        &field("repeat"),
                        format!(
                            "value \"{}\" is not allowed: the period must be after the last point (\"{}\")",
                            d.0,
                            raw_points[raw_points.len() - 1].0.0
                        ),
                    ));
                }
                Some(d) => Some(d.0),
                None => None,
            };
            if points.iter().all(|p| p.1 == 0.0) {
                return Err(ctx.err(
                    &field("points"),
                    "every rate is 0: no request would ever arrive",
                ));
            }
            Process::Profile { points, repeat }
        }
        RawProcess::Workers => {
            let count = raw.count.unwrap_or(0);
            if !(1..=MAX_WORKERS as i64).contains(&count) {
                return Err(ctx.err(
                    &field("count"),
                    format!("value {count} is not allowed: count (workers) must be from 1 to {MAX_WORKERS}"),
                ));
            }
            let think = match &raw.think {
                None => None,
                Some(t) => Some(validate_think(t, ctx, &field("think"))?),
            };
            Process::Workers(Workers {
                count: count as u64,
                think,
                ramp: raw.ramp.as_ref().map_or(SimDuration::ZERO, |d| d.0),
            })
        }
        RawProcess::Trace => {
            let name = raw.file.clone().unwrap_or_default();
            let p = Path::new(&name);
            let file = match base_dir {
                Some(dir) if p.is_relative() => dir.join(p),
                _ => p.to_path_buf(),
            };
            let format = crate::workload::trace::format_of(&file).ok_or_else(|| {
                ctx.err(
                    &field("file"),
                    format!("`{name}`: a trace is a .csv file, or JSON Lines (.jsonl or .ndjson)"),
                )
            })?;
            let time_scale = raw.time_scale.unwrap_or(1.0);
            if !(time_scale.is_finite() && time_scale > 0.0 && time_scale <= 1e6) {
                return Err(ctx.err(
                    &field("time_scale"),
                    format!("value {} is not allowed: time_scale (replay speed; 3 replays 3x faster) must be > 0 and at most 1000000", fmt_num(time_scale)),
                ));
            }
            let skip_bad_rows = match raw.on_bad_row.as_deref() {
                None | Some("error") => false,
                Some("skip") => true,
                Some(other) => {
                    return Err(ctx.err(
                        &field("on_bad_row"),
                        format!("unknown value `{other}`: \"error\" (the default: a bad row stops with its line) or \"skip\" (count and report them)"),
                    ));
                }
            };
            let start = raw.start.map_or(SimDuration::ZERO, |d| d.0);
            let end = raw.end.map(|d| d.0);
            if let Some(e) = end
                && e <= start
            {
                return Err(ctx.err(
                    &field("end"),
                    format!("value \"{e}\" is not allowed: the trace window's end must be after its start (\"{start}\")"),
                ));
            }
            // In a trace, start and end select a window of trace time; the stream itself
            // starts at the scenario's start. The file is read once the stream's model is known.
            return Ok(ArrivalSpec {
                process: Process::Trace(crate::workload::trace::TraceSpec {
                    time_scale,
                    start,
                    end,
                    looped: raw.looped.unwrap_or(false),
                    skip_bad_rows,
                    ..crate::workload::trace::TraceSpec::new(file, format)
                }),
                start: SimDuration::ZERO,
                end: None,
                requests: None,
            });
        }
    };
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
    Ok(ArrivalSpec {
        process,
        start,
        end,
        requests: None,
    })
}

fn validate_think(raw: &RawThink, ctx: &Ctx, path: &str) -> Result<ThinkTime, InputError> {
    let d = match raw {
        RawThink::Fixed(d) => return Ok(ThinkTime::Constant { value: d.0 }),
        RawThink::Dist(d) => d,
    };
    let field = |name: &str| format!("{path}.{name}");
    let given = [
        ("value", d.value.is_some()),
        ("min", d.min.is_some()),
        ("max", d.max.is_some()),
        ("mean", d.mean.is_some()),
        ("std", d.std.is_some()),
    ];
    let needed: &[&str] = match d.dist.as_str() {
        "constant" => &["value"],
        "uniform" => &["min", "max"],
        "exponential" => &["mean"],
        "lognormal" => &["mean", "std"],
        other => {
            return Err(ctx.err(
                &field("dist"),
                format!("unknown value `{other}`: a think time's dist is constant, uniform, exponential or lognormal"),
            ));
        }
    };
    for (key, present) in given {
        if present != needed.contains(&key) {
            return Err(ctx.err(
                path,
                format!(
                    "dist = \"{}\" takes exactly {} (durations such as \"2s\")",
                    d.dist,
                    needed.join(" and ")
                ),
            ));
        }
    }
    let get = |o: &Option<Dur>| o.as_ref().map_or(SimDuration::ZERO, |x| x.0);
    Ok(match d.dist.as_str() {
        "constant" => ThinkTime::Constant {
            value: get(&d.value),
        },
        "uniform" => {
            let (min, max) = (get(&d.min), get(&d.max));
            if max < min {
                return Err(ctx.err(
                    &field("max"),
                    format!("value \"{max}\" is not allowed: max must be >= min (\"{min}\")"),
                ));
            }
            ThinkTime::Uniform { min, max }
        }
        "exponential" => ThinkTime::Exponential { mean: get(&d.mean) },
        _ => {
            let mean = get(&d.mean);
            if mean == SimDuration::ZERO {
                return Err(ctx.err(
                    &field("mean"),
                    "value \"0s\" is not allowed: a log-normal think time needs a mean > 0",
                ));
            }
            ThinkTime::Lognormal {
                mean,
                std: get(&d.std),
            }
        }
    })
}

/// The optional token kinds of a stream: images (count and tokens each), cached share, reasoning.
pub(super) fn validate_extra_tokens(
    raw: &RawStream,
    ctx: &Ctx,
    path: &str,
) -> Result<ExtraTokens, InputError> {
    let field = |name: &str| format!("{path}.{name}");
    let images = match (&raw.images, &raw.image_tokens) {
        (None, None) => None,
        (Some(n), Some(t)) => Some((
            validate_counts(n, ctx, &field("images"), 0)?,
            validate_tokens(t, ctx, &field("image_tokens"))?,
        )),
        (Some(_), None) => {
            return Err(ctx.err(
                &field("images"),
                "images needs image_tokens (tokens per image; xAI documents 256 to 1,792 by image size), e.g. image_tokens = { dist = \"uniform\", min = 256, max = 1792 }",
            ));
        }
        (None, Some(_)) => {
            return Err(ctx.err(
                &field("image_tokens"),
                "image_tokens needs images (images per request), e.g. images = { dist = \"constant\", value = 1 }",
            ));
        }
    };
    let cached_share = match &raw.cached_share {
        None => None,
        Some(v) => {
            let num = |x: &toml::Value| x.as_float().or_else(|| x.as_integer().map(|i| i as f64));
            let pair = match v {
                toml::Value::Array(a) if a.len() == 2 => num(&a[0]).zip(num(&a[1])),
                other => num(other).map(|x| (x, x)),
            };
            match pair {
                Some((lo, hi)) if (0.0..=1.0).contains(&lo) && (lo..=1.0).contains(&hi) => {
                    Some((lo, hi))
                }
                _ => {
                    return Err(ctx.err(
                        &field("cached_share"),
                        format!("value {v} is not allowed: the share of the prompt that is cached, from 0 to 1, or a range [low, high] drawn uniformly"),
                    ));
                }
            }
        }
    };
    let reasoning_tokens = match &raw.reasoning_tokens {
        Some(r) => Some(validate_tokens(r, ctx, &field("reasoning_tokens"))?),
        None => None,
    };
    Ok(ExtraTokens {
        images,
        cached_share,
        reasoning_tokens,
    })
}

pub(super) fn validate_tokens(
    raw: &RawTokens,
    ctx: &Ctx,
    path: &str,
) -> Result<TokenDist, InputError> {
    validate_counts(raw, ctx, path, 1)
}

/// A distribution of whole numbers from `lowest` (0 for counts that may be none, 1 for tokens).
pub(super) fn validate_counts(
    raw: &RawTokens,
    ctx: &Ctx,
    path: &str,
    lowest: u64,
) -> Result<TokenDist, InputError> {
    const MAX_TOKENS: f64 = 1e9;
    let field = |name: &str| format!("{path}.{name}");
    if raw.dist == RawDist::Empirical {
        return validate_empirical(raw, ctx, path, lowest);
    }
    for (key, present) in [
        ("quantiles", raw.quantiles.is_some()),
        ("file", raw.file.is_some()),
        ("column", raw.column.is_some()),
    ] {
        if present {
            return Err(ctx.err(
                &field(key),
                format!("`{key}` applies to dist = \"empirical\" only"),
            ));
        }
    }
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
        RawDist::Empirical => unreachable!("handled above"),
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
        if v.is_finite() && (lowest as f64..=MAX_TOKENS).contains(&v) && v.fract() == 0.0 {
            Ok(v as u64)
        } else {
            Err(ctx.err(
                &field(name),
                format!("value {} is not allowed: {name} must be a whole number from {lowest} to 1000000000", fmt_num(v)),
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
        RawDist::Empirical => unreachable!("handled above"),
    })
}

/// `dist = "empirical"`: `quantiles = [[0, 100], [0.5, 800], [1, 9000]]` (probability, value),
/// or `file = "sizes.csv", column = "prompt_tokens"` (101 quantiles of that column).
fn validate_empirical(
    raw: &RawTokens,
    ctx: &Ctx,
    path: &str,
    lowest: u64,
) -> Result<TokenDist, InputError> {
    let field = |name: &str| format!("{path}.{name}");
    for (key, present) in [
        ("value", raw.value.is_some()),
        ("min", raw.min.is_some()),
        ("max", raw.max.is_some()),
        ("mean", raw.mean.is_some()),
        ("std", raw.std.is_some()),
    ] {
        if present {
            return Err(ctx.err(
                &field(key),
                format!("`{key}` does not apply to dist = \"empirical\", which takes quantiles, or file and column"),
            ));
        }
    }
    let quantiles = match (&raw.quantiles, &raw.file, &raw.column) {
        (Some(q), None, None) => q.clone(),
        (None, Some(file), Some(column)) => {
            let p = Path::new(file);
            let full = match ctx.base_dir {
                Some(dir) if p.is_relative() => dir.join(p),
                _ => p.to_path_buf(),
            };
            column_quantiles(&full, column)
                .map_err(|m| ctx.err(&field("file"), format!("`{file}`: {m}")))?
        }
        _ => {
            return Err(ctx.err(
                path,
                "dist = \"empirical\" needs quantiles = [[probability, value], ...], or file and column (a CSV column of counts)",
            ));
        }
    };
    let bad = |m: String| Err(ctx.err(&field("quantiles"), m));
    if quantiles.len() < 2 || quantiles[0].0 != 0.0 || quantiles[quantiles.len() - 1].0 != 1.0 {
        return bad("the points must start at probability 0 and end at 1, e.g. [[0, 100], [0.5, 800], [1, 9000]]".into());
    }
    for (i, w) in quantiles.windows(2).enumerate() {
        let increasing = w[1].0.partial_cmp(&w[0].0) == Some(std::cmp::Ordering::Greater);
        let not_decreasing = matches!(
            w[1].1.partial_cmp(&w[0].1),
            Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
        );
        if !increasing || !not_decreasing {
            return bad(format!(
                "point {} ({}, {}): probabilities must increase and values must not decrease",
                i + 1,
                fmt_num(w[1].0),
                fmt_num(w[1].1)
            ));
        }
    }
    if let Some(v) = quantiles
        .iter()
        .map(|q| q.1)
        .find(|v| !(v.is_finite() && *v >= lowest as f64 && *v <= 1e9))
    {
        return bad(format!(
            "value {} is not allowed: counts from {lowest} to 1000000000",
            fmt_num(v)
        ));
    }
    Ok(TokenDist::Empirical { quantiles })
}

/// 101 quantiles (0, 1 %, ..., 100 %) of a CSV column of whole numbers, read streamed.
fn column_quantiles(path: &Path, column: &str) -> Result<Vec<(f64, f64)>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut rdr = csv::Reader::from_path(path).map_err(|e| format!("cannot read: {e}"))?;
    let headers = rdr
        .headers()
        .map_err(|e| format!("malformed CSV: {e}"))?
        .clone();
    let i = headers
        .iter()
        .position(|h| h.trim() == column)
        .ok_or_else(|| {
            format!(
                "no column `{column}`; the header has: {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            )
        })?;
    let mut d = crate::metrics::Distribution::default();
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("malformed CSV: {e}"))?;
        let cell = rec.get(i).unwrap_or("").trim();
        let v: u64 = cell.parse().map_err(|_| {
            format!(
                "line {}: `{cell}` in column {column} is not a whole number",
                n + 2
            )
        })?;
        d.record(v);
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if d.count() == 0 {
        return Err(format!("column `{column}` has no values"));
    }
    let mut q = vec![(0.0, lo as f64)];
    for k in 1..100 {
        let p = f64::from(k) / 100.0;
        let v = (d.quantile(p).unwrap_or(lo) as f64).clamp(lo as f64, hi as f64);
        let v = v.max(q[q.len() - 1].1);
        q.push((p, v));
    }
    q.push((1.0, hi as f64));
    Ok(q)
}

/// Reads a whole trace once (streamed): every row checked, the rows this stream replays counted.
pub(super) fn read_trace(
    t: &mut crate::workload::trace::TraceSpec,
    ctx: &Ctx,
    path: &str,
) -> Result<(), InputError> {
    let scan = crate::workload::trace::scan(t).map_err(|e| {
        let file = t.file.display().to_string();
        if e.line == 0 {
            return ctx.err(&format!("{path}.file"), format!("`{file}`: {}", e.message));
        }
        let mut err = InputError::new(
            file,
            format!(
                "{}{} (set on_bad_row = \"skip\" in {} to skip bad rows)",
                if e.column.is_empty() {
                    String::new()
                } else {
                    format!("column {}: ", e.column)
                },
                e.message,
                ctx.file
            ),
        )
        .at(Location::line(e.line as usize));
        if !e.column.is_empty() {
            err = err.field(e.column);
        }
        err
    })?;
    if scan.rows == 0 {
        return Err(ctx.err(
            &format!("{path}.file"),
            format!(
                "`{}` has no row for this stream (model {:?}, stream {:?}) in its window",
                t.file.display(),
                t.model,
                t.stream
            ),
        ));
    }
    t.rows = scan.rows;
    t.skipped = scan.skipped;
    t.mean_tokens = scan.tokens as f64 / scan.rows as f64;
    // The loop period: the window, or (without an end) up to the last row plus the mean gap.
    let last = scan.last.saturating_sub(t.start.0);
    t.span = match t.end {
        Some(e) => SimDuration(e.0 - t.start.0),
        None if scan.rows > 1 => SimDuration(last + last / (scan.rows - 1)),
        None => SimDuration(last.max(1)),
    };
    // A loop replays its rows every period: rows all at the start would repeat every
    // nanosecond (found by fuzzing), so a looped trace's rate is bounded as any stream's.
    if t.looped {
        let rate = t.rows as f64 * t.time_scale / t.span.as_secs_f64();
        if rate.is_nan() || rate > super::MAX_RATE_PER_SEC {
            return Err(ctx.err(
                &format!("{path}.loop"),
                format!(
                    "a loop of {} rows every {} replays {} requests/s; allowed: at most {:e} (the rows sit at the start of the trace: give `end` to set the loop period, or spread the rows over time)",
                    t.rows,
                    SimDuration((t.span.0 as f64 / t.time_scale).round() as u64),
                    if rate.is_finite() {
                        format!("{rate:.3e}")
                    } else {
                        "endlessly many".into()
                    },
                    super::MAX_RATE_PER_SEC
                ),
            ));
        }
    }
    Ok(())
}
