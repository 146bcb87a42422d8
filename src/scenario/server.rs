//! The `[server]` section and inline `[[limits]]`: raw types and validation.

use super::*;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimit {
    pub(super) model: String,
    /// The request cap: per second, or (without `rps`) per minute.
    pub(super) rps: Option<f64>,
    pub(super) tpm: Option<f64>,
    /// More caps: requests per minute and per day, tokens per day, input and output tokens
    /// per minute, images per minute, attempts in service at once.
    pub(super) rpm: Option<f64>,
    pub(super) rpd: Option<f64>,
    pub(super) tpd: Option<f64>,
    pub(super) itpm: Option<f64>,
    pub(super) otpm: Option<f64>,
    pub(super) ipm: Option<f64>,
    pub(super) concurrent: Option<f64>,
}

impl RawLimit {
    /// The caps by column name, in [`crate::catalog::CAP_COLUMNS`] order.
    pub(super) fn caps(&self) -> [(&'static str, Option<f64>); 9] {
        [
            ("rps", self.rps),
            ("rpm", self.rpm),
            ("rpd", self.rpd),
            ("tpm", self.tpm),
            ("tpd", self.tpd),
            ("itpm", self.itpm),
            ("otpm", self.otpm),
            ("ipm", self.ipm),
            ("concurrent", self.concurrent),
        ]
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) request_burst: Option<f64>,
    pub(super) token_burst: Option<f64>,
    pub(super) count_rejected: Option<bool>,
    pub(super) retry_after_granularity: Option<Dur>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub(super) initial_level: Option<toml::Value>,
    /// How each dimension is enforced (both, unless `tokens_algorithm` is given).
    pub(super) algorithm: Option<String>,
    pub(super) tokens_algorithm: Option<String>,
    /// For `discrete-refill`: the fill interval (default 1s).
    pub(super) fill_interval: Option<Dur>,
    /// Quantized enforcement: each budget over windows of this length.
    pub(super) quantum: Option<Dur>,
    /// When tokens count against TPM: "actual", "reserve", "input-then-output".
    pub(super) token_accounting: Option<String>,
    /// Whether cached prompt tokens count against TPM (xAI: they do).
    pub(super) count_cached: Option<bool>,
    pub(super) capacity: Option<i64>,
    pub(super) queue: Option<i64>,
    pub(super) failure_rate: Option<f64>,
    pub(super) overload_status: Option<i64>,
}

/// The algorithms a dimension can be enforced with, by name.
pub const ALGORITHMS: [&str; 8] = [
    "token-bucket",
    "gcra",
    "discrete-refill",
    "fixed-window",
    "sliding-log",
    "sliding-counter",
    "leaky-queue",
    "leaky-queue-nodelay",
];

fn algorithm(
    ctx: &Ctx,
    path: &str,
    name: &str,
    fill: SimDuration,
) -> Result<crate::limiter::Algorithm, InputError> {
    use crate::limiter::Algorithm as A;
    Ok(match name {
        "token-bucket" => A::TokenBucket,
        "gcra" => A::Gcra,
        "discrete-refill" => A::DiscreteRefill { interval: fill },
        "fixed-window" => A::FixedWindow,
        "sliding-log" => A::SlidingLog,
        "sliding-counter" => A::SlidingCounter,
        "leaky-queue" => A::LeakyQueue { nodelay: false },
        "leaky-queue-nodelay" => A::LeakyQueue { nodelay: true },
        other => {
            return Err(ctx.err(
                path,
                format!(
                    "unknown algorithm {other:?}; allowed: {}",
                    ALGORITHMS.join(", ")
                ),
            ));
        }
    })
}

/// The server settings: `base` (the provider profile's), with the file's `[server]` over it.
pub(super) fn validate_server(
    raw: Option<&RawServer>,
    ctx: &Ctx,
    base: LimiterConfig,
) -> Result<LimiterConfig, InputError> {
    let mut cfg = base;
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
    let fill = match raw.fill_interval {
        Some(f) if f.0 == SimDuration::ZERO => {
            return Err(ctx.err(
                "server.fill_interval",
                "value \"0s\" is not allowed: the fill interval must be > 0, e.g. \"1s\"",
            ));
        }
        Some(f) => f.0,
        None => SimDuration::from_secs(1),
    };
    if let Some(a) = &raw.algorithm {
        cfg.algorithm = algorithm(ctx, "server.algorithm", a, fill)?;
        cfg.tokens_algorithm = cfg.algorithm;
    }
    if let Some(a) = &raw.tokens_algorithm {
        cfg.tokens_algorithm = algorithm(ctx, "server.tokens_algorithm", a, fill)?;
    }
    if raw.fill_interval.is_some()
        && !matches!(
            cfg.algorithm,
            crate::limiter::Algorithm::DiscreteRefill { .. }
        )
        && !matches!(
            cfg.tokens_algorithm,
            crate::limiter::Algorithm::DiscreteRefill { .. }
        )
    {
        return Err(ctx.err(
            "server.fill_interval",
            "fill_interval applies only with algorithm = \"discrete-refill\"",
        ));
    }
    if let Some(q) = raw.quantum {
        if q.0 == SimDuration::ZERO || q.0 > SimDuration::from_secs(60) {
            return Err(ctx.err(
                "server.quantum",
                format!("value \"{}\" is not allowed: a quantum is > 0 and at most 1m (e.g. \"1s\" or \"10s\")", q.0),
            ));
        }
        if raw.request_burst.is_some() || raw.token_burst.is_some() {
            return Err(ctx.err(
                "server.quantum",
                "quantum sets each dimension's capacity (rate x quantum); it cannot be combined with request_burst or token_burst",
            ));
        }
        cfg.quantum = Some(q.0);
    }
    if let Some(a) = &raw.token_accounting {
        use crate::limiter::Accounting as T;
        cfg.accounting = match a.as_str() {
            "actual" => T::Actual,
            "reserve" => T::Reserve,
            "input-then-output" => T::InputThenOutput,
            "input" => T::Input,
            other => {
                return Err(ctx.err(
                    "server.token_accounting",
                    format!("unknown value {other:?}; allowed: \"actual\" (every token at admission), \"reserve\" (prompt + max_tokens at admission, the unused part refunded), \"input-then-output\" (input at admission, output as produced), \"input\" (input only, at admission)"),
                ));
            }
        };
    }
    if matches!(
        cfg.accounting,
        crate::limiter::Accounting::Reserve | crate::limiter::Accounting::InputThenOutput
    ) && matches!(cfg.tokens_algorithm, crate::limiter::Algorithm::SlidingLog)
    {
        let field = if raw.token_accounting.is_some() {
            "server.token_accounting"
        } else if raw.tokens_algorithm.is_some() {
            "server.tokens_algorithm"
        } else {
            "server.algorithm"
        };
        return Err(ctx.err(
            field,
            "refunds and later charges (token_accounting \"reserve\" or \"input-then-output\", which the provider profile may set) need a token bucket, GCRA, discrete refill, window counter or queue: not tokens_algorithm = \"sliding-log\"",
        ));
    }
    if let Some(c) = raw.count_cached {
        cfg.count_cached = c;
    }
    if let Some(c) = raw.capacity {
        if !(1..=10_000_000).contains(&c) {
            return Err(ctx.err(
                "server.capacity",
                format!("value {c} is not allowed: the attempts a model serves at once, an integer from 1 to 10000000"),
            ));
        }
        cfg.capacity = Some(c as u32);
    }
    if let Some(q) = raw.queue {
        if cfg.capacity.is_none() {
            return Err(ctx.err(
                "server.queue",
                "queue applies only with a capacity (server.capacity = N)",
            ));
        }
        if !(0..=10_000_000).contains(&q) {
            return Err(ctx.err(
                "server.queue",
                format!("value {q} is not allowed: the places in the server's queue, an integer from 0 to 10000000"),
            ));
        }
        cfg.queue = q as u32;
    }
    if let Some(p) = raw.failure_rate {
        if !(p.is_finite() && (0.0..1.0).contains(&p)) {
            return Err(ctx.err(
                "server.failure_rate",
                format!("value {} is not allowed: the probability that an admitted attempt fails, from 0 to below 1", fmt_num(p)),
            ));
        }
        cfg.failure_rate = p;
    }
    if let Some(s) = raw.overload_status {
        if s != 503 && s != 529 {
            return Err(ctx.err(
                "server.overload_status",
                format!("value {s} is not allowed: 503 (service unavailable) or 529 (overloaded, as Anthropic's API)"),
            ));
        }
        cfg.overload_status = s as u16;
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

/// The server settings of a provider profile (its `[server]` table, validated as a scenario's
/// would be).
pub(super) fn profile_server(
    profile: &crate::provider::Profile,
) -> Result<LimiterConfig, InputError> {
    let file = format!("<embedded>/providers/{}.toml", profile.name);
    let raw = RawServer::deserialize(toml::Value::Table(profile.server.clone()))
        .map_err(|e| InputError::new(&file, format!("[server]: {}", e.message())))?;
    let ctx = Ctx {
        file: &file,
        source: "",
        doc: std::cell::OnceCell::new(),
        base_dir: None,
    };
    validate_server(Some(&raw), &ctx, LimiterConfig::default())
}

/// The keys a `[server]` section gives.
pub(super) fn server_keys_given(raw: &RawServer) -> Vec<&'static str> {
    let given = [
        ("request_burst", raw.request_burst.is_some()),
        ("token_burst", raw.token_burst.is_some()),
        ("count_rejected", raw.count_rejected.is_some()),
        (
            "retry_after_granularity",
            raw.retry_after_granularity.is_some(),
        ),
        ("initial_level", raw.initial_level.is_some()),
        ("algorithm", raw.algorithm.is_some()),
        ("tokens_algorithm", raw.tokens_algorithm.is_some()),
        ("fill_interval", raw.fill_interval.is_some()),
        ("quantum", raw.quantum.is_some()),
        ("token_accounting", raw.token_accounting.is_some()),
        ("count_cached", raw.count_cached.is_some()),
        ("capacity", raw.capacity.is_some()),
        ("queue", raw.queue.is_some()),
        ("failure_rate", raw.failure_rate.is_some()),
        ("overload_status", raw.overload_status.is_some()),
    ];
    given.iter().filter(|(_, g)| *g).map(|(k, _)| *k).collect()
}
