//! Scenario files: the only code that knows the TOML format.
//!
//! Reading is two steps: serde turns the text into `Raw*` types (unknown keys and wrong types are
//! refused there, with the line and column toml reports), then [`validate`] checks every value and
//! builds a typed [`Scenario`] with units. Each validation error names the file, the line and
//! column of the offending value, its field path, the value and what is allowed.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::arrivals::{ArrivalSpec, Process, TokenDist};
use crate::catalog::{Catalog, Milli, ModelLimits, Provenance};
use crate::client::{AboveMax, ClientPolicy, Jitter, PRESETS, RetryAfter};
use crate::error::{InputError, Location};
use crate::latency::LatencyModel;
use crate::limiter::{LimiterConfig, ModelLimiter};
use crate::time::{SimDuration, parse_duration};

/// Longest arrival window accepted (the per-second time series grows with simulated time).
pub const MAX_DURATION: SimDuration = SimDuration(30 * 24 * 3_600 * 1_000_000_000);

/// A validated scenario, ready to run.
#[derive(Clone, Debug, Serialize)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub seed: u64,
    /// Arrivals happen on `[0, duration)`.
    pub duration: SimDuration,
    /// Hard stop: events after this time are not processed; `None` drains every request.
    pub stop_at: Option<SimDuration>,
    /// Requests that arrive before this are left out of the totals (not of the time series).
    pub warmup: SimDuration,
    pub tier: String,
    /// Spend (USD) that unlocks the tier, where the tiers table gives one.
    pub tier_spend_usd: Option<f64>,
    pub limits_provenance: Provenance,
    pub tiers_provenance: Provenance,
    pub server: LimiterConfig,
    pub models: Vec<ModelSpec>,
    pub streams: Vec<Stream>,
    /// Tiers of the limits table at which every model of this scenario has limits.
    #[serde(skip)]
    pub available_tiers: Vec<String>,
}

impl Scenario {
    /// Multiplies every stream's arrival rate by `factor` (a sweep's load axis).
    pub fn scale_load(&mut self, factor: f64) -> Result<(), String> {
        for s in &mut self.streams {
            let p = s.arrivals.process.scaled(factor);
            let rate = p.rate_per_sec();
            if !(rate.is_finite() && rate > 0.0 && rate <= MAX_RATE_PER_SEC) {
                return Err(format!(
                    "load {factor} gives stream {:?} a rate of {rate} requests/s; allowed: > 0 and at most {MAX_RATE_PER_SEC}",
                    s.name
                ));
            }
            s.arrivals.process = p;
        }
        Ok(())
    }
}

/// Highest arrival rate of one stream, requests per second.
pub const MAX_RATE_PER_SEC: f64 = 1e7;

/// A model that some stream calls, with the caps that apply to it.
#[derive(Clone, Debug, Serialize)]
pub struct ModelSpec {
    pub name: String,
    pub limits: ModelLimits,
    /// `catalog` or `inline`.
    pub limits_from: String,
}

/// One traffic stream.
#[derive(Clone, Debug, Serialize)]
pub struct Stream {
    pub name: String,
    /// Index into [`Scenario::models`].
    #[serde(skip)]
    pub model: usize,
    #[serde(rename = "model")]
    pub model_name: String,
    pub arrivals: ArrivalSpec,
    pub prompt_tokens: TokenDist,
    pub completion_tokens: TokenDist,
    pub client: ClientPolicy,
    pub latency: LatencyModel,
}

/// A non-fatal finding of validation (printed, does not stop a run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning(pub String);

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Values given on the command line that replace the file's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    pub duration: Option<SimDuration>,
}

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path, overrides: &Overrides) -> Result<(Scenario, Vec<Warning>), InputError> {
    Document::load(path)?.resolve(overrides, &[])
}

/// Parses and validates scenario text; `base_dir` resolves relative `limits_file` paths.
pub fn parse(
    source: &str,
    file: &str,
    base_dir: Option<&Path>,
    overrides: &Overrides,
) -> Result<(Scenario, Vec<Warning>), InputError> {
    Document::parse(source, file, base_dir)?.resolve(overrides, &[])
}

/// A change to a scenario document before validation (one value of a sweep axis).
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Use this tier.
    Tier(String),
    /// Replace the `[client]` table: a preset name, or a whole client table.
    Client(toml::Value),
    /// Set the value at a dotted path such as `traffic[0].arrivals.rate_per_sec`.
    Set { path: String, value: toml::Value },
}

/// A scenario file parsed (every key and type checked) but not yet validated, so that sweeps
/// can edit it and validate each variant.
#[derive(Clone, Debug)]
pub struct Document {
    pub file: String,
    /// The file's text.
    pub source: String,
    base_dir: Option<PathBuf>,
    /// The scenario without its `[sweep]` section (which each variant does not need, and
    /// which can hold 100,000 values).
    table: toml::Table,
    /// The `[sweep]` section, if any.
    pub sweep: Option<SweepSpec>,
    /// Catalogs read from the limits and tiers files, so that the grid points of a sweep do
    /// not read and parse them again.
    catalogs: CatalogCache,
}

/// Catalogs by (limits file, tiers file), shared by every variant of a document.
#[derive(Clone, Debug, Default)]
struct CatalogCache(std::sync::Arc<std::sync::Mutex<Vec<CachedCatalog>>>);

type CachedCatalog = ((Option<PathBuf>, Option<PathBuf>), std::sync::Arc<Catalog>);

impl CatalogCache {
    /// The catalog for these files, read once; an error is not kept (it ends the command).
    fn get(
        &self,
        limits: Option<&Path>,
        tiers: Option<&Path>,
        read: impl FnOnce() -> Result<Catalog, InputError>,
    ) -> Result<std::sync::Arc<Catalog>, InputError> {
        let key = (limits.map(Path::to_path_buf), tiers.map(Path::to_path_buf));
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = cache.iter().find(|(k, _)| *k == key) {
            return Ok(c.clone());
        }
        let c = std::sync::Arc::new(read()?);
        cache.push((key, c.clone()));
        Ok(c)
    }
}

impl Document {
    pub fn load(path: &Path) -> Result<Document, InputError> {
        let file = path.display().to_string();
        let source = crate::input::read_text(path, "scenario file", crate::input::MAX_INPUT_BYTES)?;
        Document::parse(&source, &file, path.parent())
    }

    pub fn parse(
        source: &str,
        file: &str,
        base_dir: Option<&Path>,
    ) -> Result<Document, InputError> {
        let spanned = |e: toml::de::Error| {
            let mut message = e.message().trim_end().to_string();
            if message == "duplicate key"
                && let Some(span) = e.span()
            {
                let key: String = source[span.start..]
                    .chars()
                    .take_while(|c| !matches!(c, '=' | ']' | '\n'))
                    .collect();
                message = format!("duplicate key `{}`: each key may appear once", key.trim());
            }
            let field = e.span().and_then(|span| field_at(source, span.start));
            let message = plain_message(&message, field.as_deref());
            let mut err = InputError::new(file, message);
            if let Some(f) = field {
                err = err.field(f);
            }
            match e.span() {
                Some(span) => err.at(Location::of_offset(source, span.start)),
                None => err,
            }
        };
        // Deserialising into the raw types once reports unknown keys and wrong types with spans.
        let raw: RawScenario = toml::from_str(source).map_err(spanned)?;
        let mut table: toml::Table = toml::from_str(source).map_err(spanned)?;
        table.remove("sweep");
        let ctx = Ctx::new(file, source);
        let sweep = match &raw.sweep {
            Some(s) => Some(validate_sweep(s, &ctx)?),
            None => None,
        };
        Ok(Document {
            file: file.to_string(),
            source: source.to_string(),
            base_dir: base_dir.map(Path::to_path_buf),
            table,
            sweep,
            catalogs: CatalogCache::default(),
        })
    }

    /// Applies `edits` and `overrides`, then validates into a runnable scenario, with the
    /// warnings (which sample request sizes, so cost about half a millisecond).
    pub fn resolve(
        &self,
        overrides: &Overrides,
        edits: &[Edit],
    ) -> Result<(Scenario, Vec<Warning>), InputError> {
        self.resolve_with(overrides, edits, true)
    }

    /// [`Document::resolve`] without the warnings: for the many variants of a sweep or plan,
    /// whose base scenario has been resolved (and warned about) already.
    pub fn variant(&self, overrides: &Overrides, edits: &[Edit]) -> Result<Scenario, InputError> {
        self.resolve_with(overrides, edits, false).map(|(s, _)| s)
    }

    fn resolve_with(
        &self,
        overrides: &Overrides,
        edits: &[Edit],
        warn: bool,
    ) -> Result<(Scenario, Vec<Warning>), InputError> {
        let mut table = self.table.clone();
        for edit in edits {
            apply_edit(&mut table, edit).map_err(|m| InputError::new(&self.file, m))?;
        }
        let mut raw: RawScenario = toml::Value::Table(table)
            .try_into()
            .map_err(|e| InputError::new(&self.file, e.message().trim_end().to_string()))?;
        if let Some(seed) = overrides.seed {
            raw.seed = seed;
        }
        if let Some(d) = overrides.duration {
            raw.duration = Dur(d);
        }
        let ctx = Ctx::new(&self.file, &self.source);
        validate(raw, &ctx, self.base_dir.as_deref(), &self.catalogs, warn).map_err(|e| {
            // A value given on the command line is not the file's fault.
            if overrides.duration.is_some() && e.field.as_deref() == Some("duration") {
                InputError::new("--duration", e.message)
            } else if let Some(d) = overrides.duration
                && e.field.as_deref() == Some("warmup")
            {
                InputError::new(
                    "--duration",
                    format!(
                        "\"{d}\" is not allowed: the duration must be longer than the scenario's warmup ({} in {})",
                        e.message
                            .split('"')
                            .nth(1)
                            .unwrap_or("its warmup"),
                        self.file
                    ),
                )
            } else {
                e
            }
        })
    }

    /// Where the value at a dotted path starts in the file (or its nearest ancestor).
    pub fn locate(&self, path: &str) -> Location {
        Ctx::new(&self.file, &self.source).locate(path)
    }

    /// The value at a dotted path, if present (for labels and checks).
    pub fn get(&self, path: &str) -> Option<&toml::Value> {
        let mut cur: Option<&toml::Value> = None;
        for (i, seg) in segments(path).into_iter().enumerate() {
            cur = match (seg, cur) {
                (Seg::Key(k), None) if i == 0 => self.table.get(k),
                (Seg::Key(k), Some(toml::Value::Table(t))) => t.get(k),
                (Seg::Index(n), Some(toml::Value::Array(a))) => a.get(n),
                _ => None,
            };
            cur?;
        }
        cur
    }
}

fn apply_edit(table: &mut toml::Table, edit: &Edit) -> Result<(), String> {
    match edit {
        Edit::Tier(t) => {
            table.insert("tier".into(), toml::Value::String(t.clone()));
        }
        Edit::Client(v) => {
            let client = match v {
                toml::Value::String(name) => {
                    let mut t = toml::Table::new();
                    t.insert("preset".into(), toml::Value::String(name.clone()));
                    toml::Value::Table(t)
                }
                other => other.clone(),
            };
            table.insert("client".into(), client);
        }
        Edit::Set { path, value } => set_path(table, path, value.clone())?,
    }
    Ok(())
}

/// Sets `path` to `value`, creating missing tables on the way; array indices must exist.
fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), String> {
    let segs = segments(path);
    let last = segs.len() - 1;
    let mut cur: &mut toml::Value = table
        .entry(match segs[0] {
            Seg::Key(k) => k.to_string(),
            Seg::Index(_) => return Err(format!("path `{path}` must start with a key")),
        })
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if last == 0 {
        *cur = value;
        return Ok(());
    }
    for (i, seg) in segs.into_iter().enumerate().skip(1) {
        cur = match (seg, cur) {
            (Seg::Key(k), toml::Value::Table(t)) => t
                .entry(k.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new())),
            (Seg::Index(n), toml::Value::Array(a)) => {
                let len = a.len();
                a.get_mut(n).ok_or_else(|| {
                    format!(
                        "path `{path}`: index {n} is out of range (the array has {len} entries)"
                    )
                })?
            }
            _ => {
                return Err(format!(
                    "path `{path}` does not lead to a value of the scenario"
                ));
            }
        };
        if i == last {
            *cur = value;
            return Ok(());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Raw (serde) types

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    description: Option<String>,
    seed: u64,
    duration: Dur,
    stop_at: Option<Dur>,
    warmup: Option<Dur>,
    tier: Tier,
    limits_file: Option<String>,
    tiers_file: Option<String>,
    #[serde(default)]
    limits: Vec<RawLimit>,
    server: Option<RawServer>,
    client: Option<RawClient>,
    latency: Option<RawLatency>,
    #[serde(default)]
    traffic: Vec<RawStream>,
    sweep: Option<RawSweep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    replications: Option<i64>,
    tiers: Option<toml::Value>,
    load: Option<Vec<f64>>,
    clients: Option<Vec<toml::Value>>,
    #[serde(default)]
    params: Vec<RawParam>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    path: String,
    values: Vec<toml::Value>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    model: String,
    rps: f64,
    tpm: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    request_burst: Option<f64>,
    token_burst: Option<f64>,
    count_rejected: Option<bool>,
    retry_after_granularity: Option<Dur>,
    initial_level: Option<toml::Value>,
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawClient {
    preset: Option<String>,
    max_retries: Option<i64>,
    base_delay: Option<Dur>,
    multiplier: Option<f64>,
    max_delay: Option<MaybeDur>,
    jitter: Option<RawJitter>,
    jitter_range: Option<Vec<f64>>,
    retry_after: Option<RawRetryAfter>,
    retry_after_max: Option<MaybeDur>,
    retry_after_above_max: Option<AboveMax>,
    sleep_after_last_failure: Option<bool>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum RawJitter {
    None,
    Full,
    Equal,
    Decorrelated,
    Scaled,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum RawRetryAfter {
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

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawLatency {
    base: Option<Dur>,
    output_tokens_per_sec: Option<f64>,
    noise_sigma: Option<f64>,
    rate_limited_response: Option<Dur>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStream {
    name: Option<String>,
    model: String,
    arrivals: RawArrivals,
    prompt_tokens: RawTokens,
    completion_tokens: RawTokens,
    client: Option<RawClient>,
    latency: Option<RawLatency>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawProcess {
    Poisson,
    Constant,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArrivals {
    process: RawProcess,
    rate_per_sec: f64,
    start: Option<Dur>,
    end: Option<Dur>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum RawDist {
    Constant,
    Uniform,
    Normal,
    Lognormal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTokens {
    dist: RawDist,
    value: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
    std: Option<f64>,
}

/// A duration written with units (`"90s"`).
#[derive(Clone, Copy)]
struct Dur(SimDuration);

/// A duration, or `"none"` for no limit.
#[derive(Clone, Copy)]
struct MaybeDur(Option<SimDuration>);

struct DurVisitor {
    allow_none: bool,
}

impl Visitor<'_> for DurVisitor {
    type Value = Option<SimDuration>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.allow_none {
            f.write_str("a duration with a unit such as \"90s\", \"15m\", \"1h\", or \"none\"")
        } else {
            f.write_str("a duration with a unit such as \"90s\", \"15m\", \"1h\"")
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if self.allow_none && v == "none" {
            return Ok(None);
        }
        parse_duration(v).map(Some).map_err(|e| E::custom(e.0))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "`{v}` has no unit: write it as a string with a unit, e.g. \"{v}s\""
        )))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "`{v}` has no unit: write it as a string with a unit, e.g. \"{v}s\""
        )))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurVisitor { allow_none: false })
            .map(|v| Dur(v.expect("none is refused")))
    }
}

impl<'de> Deserialize<'de> for MaybeDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurVisitor { allow_none: true })
            .map(MaybeDur)
    }
}

/// A tier name; an integer such as `0` is taken as the name `"0"`.
struct Tier(String);

impl<'de> Deserialize<'de> for Tier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Tier;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a tier name such as \"0\" or \"enterprise\", or a tier number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tier, E> {
                Ok(Tier(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tier, E> {
                Ok(Tier(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Locating values in the source, for validation errors

/// The file's text and its parsed layout, to point validation errors at the offending value.
struct Ctx<'a> {
    file: &'a str,
    source: &'a str,
    /// The file parsed with spans, only once an error needs a location (parsing it for every
    /// grid point of a sweep made validation quadratic in the size of the file).
    doc: std::cell::OnceCell<Option<toml::Spanned<toml::de::DeTable<'a>>>>,
}

enum Seg<'p> {
    Key(&'p str),
    Index(usize),
}

/// Checks the syntax of a dotted path: keys, optionally followed by `[index]`s.
pub fn check_path(path: &str) -> Result<(), String> {
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        let key_ok = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let indices_ok = rest.is_empty()
            || rest.strip_suffix(']').is_some_and(|r| {
                r.split("][")
                    .all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
            });
        if !key_ok || !indices_ok {
            return Err(format!(
                "path {path:?} is not valid: write keys joined by dots, with [N] for an array entry, e.g. \"traffic[0].arrivals.rate_per_sec\""
            ));
        }
    }
    Ok(())
}

fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        match part.split_once('[') {
            Some((key, rest)) => {
                out.push(Seg::Key(key));
                for idx in rest.split('[') {
                    if let Ok(i) = idx.trim_end_matches(']').parse() {
                        out.push(Seg::Index(i));
                    }
                }
            }
            None => out.push(Seg::Key(part)),
        }
    }
    out
}

/// The dotted path of the value (or key) at byte `offset` of `source`, e.g.
/// `traffic[0].arrivals.rate_per_sec`: the deepest one whose span holds the offset.
fn field_at(source: &str, offset: usize) -> Option<String> {
    use toml::de::DeValue;
    fn walk(v: &DeValue, offset: usize, path: &mut String) {
        match v {
            DeValue::Table(t) => {
                let holds = |(k, val): &(&toml::Spanned<_>, &toml::Spanned<DeValue>)| {
                    k.span().contains(&offset) || val.span().contains(&offset)
                };
                // The body of a `[table]` or `[[array]]` section is not inside its header's
                // span: it belongs to the last section that starts before the offset.
                let section = |(_, val): &(&toml::Spanned<_>, &toml::Spanned<DeValue>)| {
                    matches!(val.get_ref(), DeValue::Table(_) | DeValue::Array(_))
                        && val.span().start <= offset
                };
                let entries: Vec<_> = t.iter().collect();
                let found = entries.iter().find(|e| holds(e)).or_else(|| {
                    entries
                        .iter()
                        .filter(|e| section(e))
                        .max_by_key(|(_, v)| v.span().start)
                });
                if let Some((k, val)) = found {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k.get_ref());
                    walk(val.get_ref(), offset, path);
                }
            }
            DeValue::Array(a) => {
                let found = a
                    .iter()
                    .enumerate()
                    .find(|(_, v)| v.span().contains(&offset))
                    .or_else(|| {
                        a.iter()
                            .enumerate()
                            .rev()
                            .find(|(_, v)| v.span().start <= offset)
                    });
                if let Some((i, val)) = found {
                    path.push_str(&format!("[{i}]"));
                    walk(val.get_ref(), offset, path);
                }
            }
            _ => {}
        }
    }
    let doc = toml::de::DeTable::parse(source).ok()?;
    let mut path = String::new();
    walk(&DeValue::Table(doc.get_ref().clone()), offset, &mut path);
    (!path.is_empty()).then_some(path)
}

/// Serde's wording in plain words: `expected f64` becomes "expected a number", and a table
/// given where a list of tables belongs gets the `[[...]]` hint.
fn plain_message(message: &str, field: Option<&str>) -> String {
    let mut m = message.to_string();
    for (from, to) in [
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
        ("expected u64", "expected a whole number >= 0"),
        ("expected u32", "expected a whole number >= 0"),
        ("expected i64", "expected a whole number"),
        ("expected a boolean", "expected true or false"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a table"),
    ] {
        m = m.replace(from, to);
    }
    if let Some(rest) = m.strip_prefix("invalid type: string ")
        && rest.contains("number")
    {
        m = format!("{m} (write numbers without quotes)");
    }
    const TABLE_LISTS: [&str; 3] = ["traffic", "limits", "sweep.params"];
    if message.starts_with("invalid type: map, expected a sequence")
        && let Some(f) = field.filter(|f| TABLE_LISTS.contains(f))
    {
        m = format!(
            "`[{f}]` must be written `[[{f}]]` (double brackets): it is a list of tables, one `[[{f}]]` per entry"
        );
    }
    if let Some(rest) = m.strip_prefix("unknown variant ") {
        m = format!("unknown value {rest}");
    }
    m
}

impl<'a> Ctx<'a> {
    fn new(file: &'a str, source: &'a str) -> Ctx<'a> {
        Ctx {
            file,
            source,
            doc: std::cell::OnceCell::new(),
        }
    }

    /// Where the value at `path` starts; the nearest ancestor that exists if it does not.
    fn locate(&self, path: &str) -> Location {
        use toml::de::DeValue;
        let doc = self
            .doc
            .get_or_init(|| toml::de::DeTable::parse(self.source).ok());
        let Some(doc) = doc else {
            return Location::default();
        };
        let mut span = None;
        let mut table = Some(doc.get_ref());
        let mut array: Option<&toml::de::DeArray> = None;
        for seg in segments(path) {
            let next = match (seg, table, array) {
                (Seg::Key(k), Some(t), _) => t
                    .iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k)
                    .map(|(_, v)| v),
                (Seg::Index(i), _, Some(a)) => a.get(i),
                _ => None,
            };
            let Some(value) = next else { break };
            span = Some(value.span());
            table = None;
            array = None;
            match value.get_ref() {
                DeValue::Table(t) => table = Some(t),
                DeValue::Array(a) => array = Some(a),
                _ => {}
            }
        }
        span.map_or_else(Location::default, |s| {
            Location::of_offset(self.source, s.start)
        })
    }

    fn err(&self, path: &str, message: impl Into<String>) -> InputError {
        InputError::new(self.file, message)
            .at(self.locate(path))
            .field(path)
    }
}

// ---------------------------------------------------------------------------------------------
// Validation

fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if x != 0.0 && (x.abs() >= 1e15 || x.abs() < 1e-6) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn positive_finite(ctx: &Ctx, path: &str, x: f64, what: &str) -> Result<f64, InputError> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(ctx.err(
            path,
            format!(
                "value {} is not allowed: {what} must be a finite number > 0",
                fmt_num(x)
            ),
        ))
    }
}

fn milli(ctx: &Ctx, path: &str, x: f64, what: &str) -> Result<Milli, InputError> {
    positive_finite(ctx, path, x, what)?;
    Milli::from_f64(x).filter(|m| !m.is_zero()).ok_or_else(|| {
        ctx.err(
            path,
            format!(
                "value {} is not allowed: {what} must be > 0 with at most 3 decimals",
                fmt_num(x)
            ),
        )
    })
}

fn validate(
    raw: RawScenario,
    ctx: &Ctx,
    base_dir: Option<&Path>,
    catalogs: &CatalogCache,
    warn: bool,
) -> Result<(Scenario, Vec<Warning>), InputError> {
    let mut warnings = Vec::new();
    if raw.name.is_empty()
        || !raw
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || raw.name.starts_with('.')
    {
        return Err(ctx.err(
            "name",
            format!(
                "value {:?} is not allowed: a name is used as a folder name under output/, so use letters, digits, '-', '_' and '.' (not first)",
                raw.name
            ),
        ));
    }
    let duration = raw.duration.0;
    if duration == SimDuration::ZERO || duration > MAX_DURATION {
        return Err(ctx.err(
            "duration",
            format!("value \"{duration}\" is not allowed: the duration must be > 0 and at most {MAX_DURATION}"),
        ));
    }
    let stop_at = raw.stop_at.map(|d| d.0);
    if let Some(stop) = stop_at
        && stop < duration
    {
        return Err(ctx.err(
            "stop_at",
            format!("value \"{stop}\" is not allowed: the hard stop must be at or after the duration (\"{duration}\")"),
        ));
    }
    let warmup = raw.warmup.map_or(SimDuration::ZERO, |d| d.0);
    if warmup >= duration {
        return Err(ctx.err(
            "warmup",
            format!("value \"{warmup}\" is not allowed: the warm-up must be shorter than the duration (\"{duration}\"), so that some requests are measured"),
        ));
    }

    let resolve = |p: &str| -> PathBuf {
        let p = Path::new(p);
        match base_dir {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        }
    };
    let limits_path = raw.limits_file.as_deref().map(resolve);
    let tiers_path = raw.tiers_file.as_deref().map(resolve);
    let catalog = catalogs.get(limits_path.as_deref(), tiers_path.as_deref(), || {
        let mut catalog = Catalog::embedded();
        if let (Some(f), Some(path)) = (&raw.limits_file, &limits_path) {
            catalog = catalog.with_limits_file(path).map_err(|e| {
                if e.location.line.is_none() && e.message.starts_with("cannot read") {
                    ctx.err("limits_file", format!("`{f}`: {}", e.message))
                } else {
                    e
                }
            })?;
        }
        if let (Some(f), Some(path)) = (&raw.tiers_file, &tiers_path) {
            catalog = catalog.with_tiers_file(path).map_err(|e| {
                if e.location.line.is_none() && e.message.starts_with("cannot read") {
                    ctx.err("tiers_file", format!("`{f}`: {}", e.message))
                } else {
                    e
                }
            })?;
        }
        Ok(catalog)
    })?;
    let tier = raw.tier.0;
    if !catalog.is_known_tier(&tier) {
        return Err(ctx.err(
            "tier",
            format!(
                "unknown tier {tier:?}; the limits table ({}) has tiers: {}",
                catalog.limits_provenance.source,
                catalog.tier_names().join(", ")
            ),
        ));
    }

    let mut inline: Vec<(String, ModelLimits)> = Vec::new();
    for (i, l) in raw.limits.iter().enumerate() {
        let path = format!("limits[{i}]");
        if l.model.is_empty() {
            return Err(ctx.err(&format!("{path}.model"), "a model name is required"));
        }
        if inline.iter().any(|(m, _)| *m == l.model) {
            return Err(ctx.err(
                &format!("{path}.model"),
                format!("model {:?} already has inline limits", l.model),
            ));
        }
        let rps = milli(ctx, &format!("{path}.rps"), l.rps, "requests per second")?;
        let tpm = match l.tpm {
            Some(t) => Some(milli(ctx, &format!("{path}.tpm"), t, "tokens per minute")?),
            None => None,
        };
        inline.push((l.model.clone(), ModelLimits { rps, tpm }));
    }

    let server = validate_server(raw.server.as_ref(), ctx)?;
    let default_client = match &raw.client {
        Some(c) => validate_client(c, ctx, "client")?,
        None => ClientPolicy::preset("xai-docs").expect("built-in preset"),
    };
    let default_latency = match &raw.latency {
        Some(l) => validate_latency(l, ctx, "latency")?,
        None => LatencyModel::default(),
    };

    if raw.traffic.is_empty() {
        return Err(ctx.err(
            "traffic",
            "no traffic: add at least one [[traffic]] stream (model, arrivals, prompt_tokens, completion_tokens)",
        ));
    }
    let mut models: Vec<ModelSpec> = Vec::new();
    let mut streams: Vec<Stream> = Vec::new();
    let mut names = BTreeSet::new();
    for (i, s) in raw.traffic.iter().enumerate() {
        let path = format!("traffic[{i}]");
        let model = match models.iter().position(|m| m.name == s.model) {
            Some(idx) => idx,
            None => {
                let (limits, from) = match inline.iter().find(|(m, _)| *m == s.model) {
                    Some((_, l)) => (*l, "inline"),
                    None => match catalog.lookup(&s.model, &tier) {
                        Some(l) => (l, "catalog"),
                        None => {
                            let known = catalog.models();
                            let msg = if known.contains(&s.model.as_str()) {
                                format!(
                                    "model {:?} has no limits at tier {tier:?} in {}; declare them inline with [[limits]]",
                                    s.model, catalog.limits_provenance.source
                                )
                            } else {
                                format!(
                                    "unknown model {:?}; known models: {}{}",
                                    s.model,
                                    known.join(", "),
                                    if inline.is_empty() {
                                        String::from(
                                            " (or declare its limits inline with [[limits]])",
                                        )
                                    } else {
                                        format!(
                                            ", {}",
                                            inline
                                                .iter()
                                                .map(|(m, _)| m.as_str())
                                                .collect::<Vec<_>>()
                                                .join(", ")
                                        )
                                    }
                                )
                            };
                            return Err(ctx.err(&format!("{path}.model"), msg));
                        }
                    },
                };
                models.push(ModelSpec {
                    name: s.model.clone(),
                    limits,
                    limits_from: from.to_string(),
                });
                models.len() - 1
            }
        };
        let name = match &s.name {
            Some(n) if n.is_empty() => {
                return Err(ctx.err(&format!("{path}.name"), "a stream name cannot be empty"));
            }
            Some(n) => n.clone(),
            None => {
                let mut n = s.model.clone();
                let mut k = 2;
                while names.contains(&n) {
                    n = format!("{}#{k}", s.model);
                    k += 1;
                }
                n
            }
        };
        if !names.insert(name.clone()) {
            return Err(ctx.err(
                &format!("{path}.name"),
                format!("stream name {name:?} is used twice; names must be unique"),
            ));
        }
        let arrivals = validate_arrivals(&s.arrivals, ctx, &format!("{path}.arrivals"), duration)?;
        let prompt_tokens =
            validate_tokens(&s.prompt_tokens, ctx, &format!("{path}.prompt_tokens"))?;
        let completion_tokens = validate_tokens(
            &s.completion_tokens,
            ctx,
            &format!("{path}.completion_tokens"),
        )?;
        let client = match &s.client {
            Some(c) => validate_client(c, ctx, &format!("{path}.client"))?,
            None => default_client.clone(),
        };
        let latency = match &s.latency {
            Some(l) => validate_latency(l, ctx, &format!("{path}.latency"))?,
            None => default_latency.clone(),
        };
        streams.push(Stream {
            name,
            model,
            model_name: s.model.clone(),
            arrivals,
            prompt_tokens,
            completion_tokens,
            client,
            latency,
        });
    }

    for s in streams.iter().filter(|_| warn) {
        if let Some(w) = never_fits_warning(s, &models[s.model], &server) {
            warnings.push(w);
        }
    }
    if warn {
        warnings.extend(warmup_warnings(
            &streams, &models, &server, duration, warmup,
        ));
    }

    let tier_spend_usd = catalog.tier(&tier).and_then(|t| t.spend_usd);
    let available_tiers = catalog
        .tier_names()
        .into_iter()
        .filter(|t| {
            models
                .iter()
                .all(|m| m.limits_from == "inline" || catalog.lookup(&m.name, t).is_some())
        })
        .map(str::to_string)
        .collect();
    Ok((
        Scenario {
            name: raw.name,
            description: raw.description,
            seed: raw.seed,
            duration,
            stop_at,
            warmup,
            tier,
            tier_spend_usd,
            limits_provenance: catalog.limits_provenance.clone(),
            tiers_provenance: catalog.tiers_provenance.clone(),
            server,
            models,
            streams,
            available_tiers,
        },
        warnings,
    ))
}

fn validate_sweep(raw: &RawSweep, ctx: &Ctx) -> Result<SweepSpec, InputError> {
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

fn validate_server(raw: Option<&RawServer>, ctx: &Ctx) -> Result<LimiterConfig, InputError> {
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

fn validate_client(raw: &RawClient, ctx: &Ctx, path: &str) -> Result<ClientPolicy, InputError> {
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
            retry_after: RetryAfter::Ignore,
            sleep_after_last_failure: false,
        },
    };
    if let Some(n) = raw.max_retries {
        if !(0..=1000).contains(&n) {
            return Err(ctx.err(
                &format!("{path}.max_retries"),
                format!("value {n} is not allowed: max_retries must be an integer from 0 to 1000"),
            ));
        }
        p.max_retries = n as u32;
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

fn validate_latency(raw: &RawLatency, ctx: &Ctx, path: &str) -> Result<LatencyModel, InputError> {
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

fn validate_arrivals(
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

fn validate_tokens(raw: &RawTokens, ctx: &Ctx, path: &str) -> Result<TokenDist, InputError> {
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

/// Warnings that the buckets' starting level colours the totals: a run shorter than a few
/// refill times of a bucket, or an overloaded bucket that starts full and takes a sizeable part
/// of the run to empty (until then fewer 429s come than in the steady state).
fn warmup_warnings(
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
        let rps: f64 = mine().map(|s| s.arrivals.process.rate_per_sec()).sum();
        if rps <= 0.0 {
            continue;
        }
        let tokens_per_s: f64 = mine()
            .map(|s| {
                s.arrivals.process.rate_per_sec()
                    * (s.prompt_tokens.mean() + s.completion_tokens.mean())
            })
            .sum();
        let requests = (
            "requests",
            server
                .request_burst
                .unwrap_or_else(|| model.limits.rps.max(Milli::from_units(1)))
                .as_f64(),
            model.limits.rps.as_f64(),
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
fn never_fits_warning(s: &Stream, model: &ModelSpec, server: &LimiterConfig) -> Option<Warning> {
    let limiter = ModelLimiter::new(&model.limits, server);
    let capacity = server.token_burst.or(model.limits.tpm)?;
    let prompt = s.prompt_tokens.sampler();
    let completion = s.completion_tokens.sampler();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5EED);
    let n = 20_000;
    let too_big = (0..n)
        .filter(|_| !limiter.fits(prompt.sample(&mut rng) + completion.sample(&mut rng)))
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

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
seed = 1
duration = "10m"
tier = 0

[[traffic]]
model = "grok-4.3"
arrivals = { process = "poisson", rate_per_sec = 5 }
prompt_tokens = { dist = "constant", value = 100 }
completion_tokens = { dist = "uniform", min = 10, max = 20 }
"#;

    fn parse_str(src: &str) -> Result<(Scenario, Vec<Warning>), InputError> {
        parse(src, "t.toml", None, &Overrides::default())
    }

    #[test]
    fn a_minimal_scenario_resolves_limits_and_defaults() {
        let (s, w) = parse_str(MINIMAL).unwrap();
        assert!(w.is_empty());
        assert_eq!(s.tier, "0");
        assert_eq!(s.models[0].limits.rps, Milli::from_units(30));
        assert_eq!(s.streams[0].name, "grok-4.3");
        assert_eq!(s.streams[0].client.preset.as_deref(), Some("xai-docs"));
        assert_eq!(s.tier_spend_usd, Some(0.0));
    }

    #[test]
    fn errors_point_at_the_value() {
        let src = MINIMAL.replace("rate_per_sec = 5", "rate_per_sec = -3");
        let e = parse_str(&src).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("traffic[0].arrivals.rate_per_sec"));
        assert_eq!(e.location.line, Some(9));
        assert!(e.message.contains("-3"), "{e}");
        assert!(e.message.contains("> 0"), "{e}");
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let src = MINIMAL.replace("seed = 1", "seed = 1\nspeed = 2");
        let e = parse_str(&src).unwrap_err();
        assert_eq!(e.location.line, Some(4));
        assert!(e.message.contains("unknown field `speed`"), "{e}");
    }

    #[test]
    fn durations_need_units() {
        let e = parse_str(&MINIMAL.replace("\"10m\"", "60")).unwrap_err();
        assert!(e.message.contains("no unit"), "{e}");
        let e = parse_str(&MINIMAL.replace("\"10m\"", "\"0s\"")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("duration"));
    }

    #[test]
    fn presets_can_be_overridden_field_by_field() {
        let src = format!("{MINIMAL}\n[client]\npreset = \"openai-python\"\nmax_retries = 5\n");
        let (s, _) = parse_str(&src).unwrap();
        let c = &s.streams[0].client;
        assert_eq!(c.max_retries, 5);
        assert_eq!(c.max_delay, Some(SimDuration::from_secs(8)));
    }

    #[test]
    fn inline_limits_define_new_models() {
        let src = MINIMAL.replace("model = \"grok-4.3\"", "model = \"mine\"")
            + "\n[[limits]]\nmodel = \"mine\"\nrps = 2.5\ntpm = 1000\n";
        let (s, w) = parse_str(&src).unwrap();
        assert_eq!(s.models[0].limits.rps, Milli(2_500));
        assert_eq!(s.models[0].limits_from, "inline");
        // constant 100 + up to 20 tokens always fit in 1000.
        assert!(w.is_empty());
    }

    #[test]
    fn oversized_requests_are_warned_about() {
        let src = MINIMAL.replace("value = 100", "value = 20000000");
        let (_, w) = parse_str(&src).unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].0.contains("100.00%"), "{}", w[0]);
    }

    #[test]
    fn overrides_replace_seed_and_duration() {
        let o = Overrides {
            seed: Some(9),
            duration: Some(SimDuration::from_secs(5)),
        };
        let (s, _) = parse(MINIMAL, "t.toml", None, &o).unwrap();
        assert_eq!((s.seed, s.duration), (9, SimDuration::from_secs(5)));
    }
}
