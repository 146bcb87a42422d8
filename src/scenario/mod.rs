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

use crate::catalog::{Catalog, Milli, ModelLimits, Provenance};
use crate::client::{AboveMax, ClientPolicy, ClientSpec, Jitter, PRESETS, RetryAfter};
use crate::error::{InputError, Location};
use crate::latency::LatencyModel;
use crate::limiter::{LimiterConfig, ModelLimiter};
use crate::time::{SimDuration, parse_duration};
use crate::workload::{ArrivalSpec, ExtraTokens, Process, ThinkTime, TokenDist, Workers};

mod account;
pub(crate) mod client;
mod document;
mod fields;
mod latency;
mod prices;
pub mod schema;
mod server;
mod sweep;
mod traffic;
mod warnings;

use account::*;
use client::*;
use fields::*;
use latency::*;
use prices::*;
use server::*;
use traffic::*;
use warnings::*;

use document::CatalogCache;
pub use document::{Document, Edit};
pub use fields::check_path;
pub use sweep::{MAX_REPLICATIONS, SweepParam, SweepSpec, TierAxis};
use sweep::{RawSweep, validate_sweep};
pub use traffic::MAX_WORKERS;

/// Longest arrival window accepted (the per-second time series grows with simulated time).
pub const MAX_DURATION: SimDuration = SimDuration(400 * 24 * 3_600 * 1_000_000_000);

/// A validated scenario, ready to run.
#[derive(Clone, Debug, Serialize)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub seed: u64,
    /// Arrivals happen on `[0, duration)`. Without a duration in the file (every stream a
    /// finite job), this is [`MAX_DURATION`] and `until_done` is set.
    pub duration: SimDuration,
    /// No duration was given: the run ends when every stream's job is done.
    pub until_done: bool,
    /// Hard stop: events after this time are not processed; `None` drains every request.
    pub stop_at: Option<SimDuration>,
    /// Requests that arrive before this are left out of the totals (not of the time series).
    pub warmup: SimDuration,
    pub tier: String,
    /// Spend (USD) that unlocks the tier, where the tiers table gives one.
    pub tier_spend_usd: Option<f64>,
    /// The provider profile: its name, the version of its tables, and every assumption kept.
    pub provider: crate::provider::ProviderInfo,
    pub limits_provenance: Provenance,
    pub tiers_provenance: Provenance,
    pub prices_provenance: Provenance,
    /// The team's account, where the file has one: billing, and tiers that change with payments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<crate::account::AccountSpec>,
    pub server: LimiterConfig,
    pub models: Vec<ModelSpec>,
    /// The clients streams send through: the default `[client]`, named `[[clients]]`, and
    /// streams' own inline clients. A client's shared state is shared by its streams.
    pub clients: Vec<ClientSpec>,
    pub streams: Vec<Stream>,
    /// Tiers of the limits table at which every model of this scenario has limits.
    #[serde(skip)]
    pub available_tiers: Vec<String>,
}

impl Scenario {
    /// Multiplies every stream's arrival rate by `factor` (a sweep's load axis); closed-loop
    /// workers get `factor` times as many workers.
    pub fn scale_load(&mut self, factor: f64) -> Result<(), String> {
        for s in &mut self.streams {
            let p = s.arrivals.process.scaled(factor);
            if let Process::Workers(w) = &p {
                if w.count > MAX_WORKERS {
                    return Err(format!(
                        "load {factor} gives stream {:?} {} workers; allowed: at most {MAX_WORKERS}",
                        s.name, w.count
                    ));
                }
            } else {
                let rate = p.peak_rate_per_sec().unwrap_or(f64::NAN);
                if !(rate.is_finite() && rate > 0.0 && rate <= MAX_RATE_PER_SEC) {
                    return Err(format!(
                        "load {factor} gives stream {:?} a rate of {rate} requests/s; allowed: > 0 and at most {MAX_RATE_PER_SEC}",
                        s.name
                    ));
                }
            }
            s.arrivals.process = p;
        }
        Ok(())
    }

    /// Multiplies the size of every finite job by `factor` (at least one request): `plan` with a
    /// makespan objective searches over job size.
    pub fn scale_job(&mut self, factor: f64) {
        for s in &mut self.streams {
            if let Some(n) = s.arrivals.requests {
                s.arrivals.requests = Some(((n as f64 * factor).round() as u64).max(1));
            }
        }
    }

    /// The measured spans of a run that ended at `end`, in seconds: the arrival window and the
    /// simulated time, each less the warm-up. The arrival window is the duration, or (without
    /// one) the time of the last arrival.
    pub fn measured_spans(
        &self,
        end: crate::time::SimTime,
        last_arrival: Option<crate::time::SimTime>,
    ) -> (f64, f64) {
        let window_end = if self.until_done {
            last_arrival.map_or(self.warmup.0, |t| t.0)
        } else {
            self.duration.0
        };
        let from = self.warmup.0;
        let window = window_end.saturating_sub(from).max(1);
        let simulated = end.0.max(window_end).saturating_sub(from).max(1);
        (window as f64 / 1e9, simulated as f64 / 1e9)
    }

    /// Whether any stream is a finite job.
    pub fn has_jobs(&self) -> bool {
        self.streams.iter().any(|s| s.arrivals.requests.is_some())
    }
}

impl Stream {
    /// The most requests per second this stream can offer: an open process's peak rate; for
    /// closed-loop workers, count / (base latency + mean think time), since each worker waits
    /// for its previous request to end.
    pub fn peak_rate_per_sec(&self) -> f64 {
        match &self.arrivals.process {
            Process::Workers(w) => self.workers_bound(w),
            p => p.peak_rate_per_sec().unwrap_or(0.0),
        }
    }

    /// The mean arrival rate (workers: the same bound as [`Stream::peak_rate_per_sec`]).
    pub fn mean_rate_per_sec(&self) -> f64 {
        match &self.arrivals.process {
            Process::Workers(w) => self.workers_bound(w),
            p => p.mean_rate_per_sec().unwrap_or(0.0),
        }
    }

    /// Mean tokens per request that count toward TPM (every kind; a trace's from its rows).
    pub fn mean_tokens(&self) -> f64 {
        match &self.arrivals.process {
            Process::Trace(t) => t.mean_tokens,
            _ => {
                self.prompt_tokens.mean()
                    + self.completion_tokens.mean()
                    + self.extra_tokens.mean_extra()
            }
        }
    }

    fn workers_bound(&self, w: &Workers) -> f64 {
        let cycle = self.latency.base.as_secs_f64()
            + w.think.as_ref().map_or(0.0, |t| t.mean().as_secs_f64());
        w.count as f64 / cycle.max(1e-3)
    }
}

/// Highest arrival rate of one stream, requests per second.
pub const MAX_RATE_PER_SEC: f64 = 1e7;

/// Largest finite job of one stream, in requests.
pub const MAX_JOB_REQUESTS: i64 = 10_000_000_000;

/// A model that some stream calls, with the caps that apply to it.
#[derive(Clone, Debug, Serialize)]
pub struct ModelSpec {
    pub name: String,
    pub limits: ModelLimits,
    /// `catalog` or `inline`.
    pub limits_from: String,
    /// Token prices, where the price table or `[[prices]]` has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prices: Option<crate::prices::TokenPrices>,
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
    /// Images, cached prompt tokens and reasoning tokens, where the stream has them.
    #[serde(skip_serializing_if = "ExtraTokens::is_empty")]
    pub extra_tokens: ExtraTokens,
    /// Generation stops at this many tokens (completion and reasoning together).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Index into [`Scenario::clients`].
    #[serde(skip)]
    pub client: usize,
    #[serde(rename = "client")]
    pub client_name: String,
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

// ---------------------------------------------------------------------------------------------
// The file's top level (each section's raw types are in its file)

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    description: Option<String>,
    seed: u64,
    duration: Option<Dur>,
    stop_at: Option<Dur>,
    warmup: Option<Dur>,
    tier: Option<Tier>,
    provider: Option<String>,
    limits_version: Option<String>,
    limits_file: Option<String>,
    prices_file: Option<String>,
    #[serde(default)]
    prices: Vec<RawPrice>,
    account: Option<RawAccount>,
    tiers_file: Option<String>,
    #[serde(default)]
    limits: Vec<RawLimit>,
    server: Option<RawServer>,
    client: Option<RawClient>,
    #[serde(default)]
    clients: Vec<RawClient>,
    latency: Option<RawLatency>,
    #[serde(default)]
    traffic: Vec<RawStream>,
    sweep: Option<RawSweep>,
}

// ---------------------------------------------------------------------------------------------
// Validation of the whole file (each section's own validation is in its file)

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
    let until_done = raw.duration.is_none();
    let duration = raw.duration.map_or(MAX_DURATION, |d| d.0);
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
    let provider_name = raw.provider.as_deref().unwrap_or("xai");
    let Some(profile) = crate::provider::Profile::get(provider_name) else {
        return Err(ctx.err(
            "provider",
            format!(
                "unknown provider {provider_name:?}; allowed: {} (or any provider, with limits_file, tiers_file and [server] settings)",
                crate::provider::PROVIDERS.join(", ")
            ),
        ));
    };
    let Some(version) = profile.version(raw.limits_version.as_deref()) else {
        return Err(ctx.err(
            "limits_version",
            format!(
                "unknown version {:?} of the {provider_name} tables; allowed: {}",
                raw.limits_version.as_deref().unwrap_or(""),
                profile.version_names()
            ),
        ));
    };
    let limits_path = raw.limits_file.as_deref().map(resolve);
    let tiers_path = raw.tiers_file.as_deref().map(resolve);
    let catalog = catalogs.get(
        (&profile.name, &version.id),
        limits_path.as_deref(),
        tiers_path.as_deref(),
        || {
            let mut catalog = profile.catalog(version)?;
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
        },
    )?;
    let tier = match (&raw.tier, &raw.account) {
        (Some(t), _) => t.0.clone(),
        (None, Some(a)) => {
            // The tier that the payments to date have unlocked.
            let paid = a.spend_to_date(ctx)?;
            catalog
                .tiers
                .iter()
                .filter(|t| {
                    t.spend_usd
                        .is_some_and(|s| ((s * 1e9).round() as u64) <= paid)
                })
                .max_by(|a, b| a.spend_usd.partial_cmp(&b.spend_usd).expect("finite"))
                .map(|t| t.tier.clone())
                .ok_or_else(|| {
                    ctx.err(
                        "account.spend_to_date",
                        "no tier of the tiers table is unlocked by this spend",
                    )
                })?
        }
        (None, None) => {
            return Err(ctx.err(
                "tier",
                "missing: give the tier (tier = 0), or an [account] whose spend_to_date sets it",
            ));
        }
    };
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
        let mut limits = ModelLimits::default();
        for (key, v) in l.caps() {
            let Some(x) = v else { continue };
            let amount = milli(
                ctx,
                &format!("{path}.{key}"),
                x,
                crate::catalog::cap_meaning(key),
            )?;
            let request = key == "rps" || key == "rpm";
            if amount < Milli::from_units(1) && !request {
                return Err(ctx.err(
                    &format!("{path}.{key}"),
                    format!(
                        "value {} is not allowed: a cap holds at least 1",
                        fmt_num(x)
                    ),
                ));
            }
            limits.set(key, Some(amount));
        }
        if limits.request_cap().is_none() {
            return Err(ctx.err(
                &path,
                format!(
                    "model {:?} needs a request cap: rps (requests per second) or rpm (requests per minute)",
                    l.model
                ),
            ));
        }
        inline.push((l.model.clone(), limits));
    }

    let known_model =
        |m: &str| catalog.models().contains(&m) || inline.iter().any(|(name, _)| name == m);
    let prices_path = raw.prices_file.as_deref().map(resolve);
    let (price_catalog, inline_prices) = validate_prices(
        raw.prices_file.as_deref().zip(prices_path.as_deref()),
        &raw.prices,
        ctx,
        &known_model,
        profile.prices(version)?,
    )?;
    let profile_server = profile_server(&profile)?;
    let server = validate_server(raw.server.as_ref(), ctx, profile_server.clone())?;
    let mut provider = profile.info(version);
    if let Some(rs) = &raw.server {
        for key in server_keys_given(rs) {
            // The assumptions this key replaces: its own, and for the capacities, the
            // requests dimension's.
            let replaced = |setting: &str| {
                setting == format!("server.{key}")
                    || (setting == "requests dimension"
                        && matches!(key, "quantum" | "request_burst"))
            };
            let mut was = Vec::new();
            while let Some(i) = provider
                .assumptions
                .iter()
                .position(|a| replaced(&a.setting))
            {
                let a = provider.assumptions.remove(i);
                was.push(format!("{} = {}", a.setting, a.value));
            }
            provider.overridden.push(if was.is_empty() {
                format!("server.{key}")
            } else {
                format!(
                    "server.{key}, replacing the profile's {}",
                    was.join(" and ")
                )
            });
        }
    }
    if raw.limits_file.is_some() || raw.tiers_file.is_some() {
        provider.overridden.push(
            format!(
                "tables: {}{}",
                raw.limits_file
                    .as_deref()
                    .map_or(String::new(), |f| format!("limits_file {f:?} ")),
                raw.tiers_file
                    .as_deref()
                    .map_or(String::new(), |f| format!("tiers_file {f:?}"))
            )
            .trim_end()
            .to_string(),
        );
    }
    let default_client = match &raw.client {
        Some(c) => {
            if c.name.is_some() {
                return Err(ctx.err(
                    "client.name",
                    "the [client] section is the default client, named \"default\"; name clients in [[clients]]",
                ));
            }
            validate_client(c, ctx, "client", "default".into())?
        }
        None => {
            let (policy, shared) =
                crate::client::presets::preset("xai-docs").expect("built-in preset");
            ClientSpec {
                name: "default".into(),
                policy,
                shared,
            }
        }
    };
    let mut named: Vec<ClientSpec> = Vec::new();
    for (i, c) in raw.clients.iter().enumerate() {
        let path = format!("clients[{i}]");
        let Some(name) = &c.name else {
            return Err(ctx.err(&path, "missing name: every [[clients]] entry needs a name, which streams give as client = \"NAME\""));
        };
        if name.is_empty() || name == "default" || named.iter().any(|n| n.name == *name) {
            return Err(ctx.err(
                &format!("{path}.name"),
                format!("value {name:?} is not allowed: client names must be unique, not empty and not \"default\" (the [client] section)"),
            ));
        }
        named.push(validate_client(c, ctx, &path, name.clone())?);
    }
    let mut clients: Vec<ClientSpec> = Vec::new();
    let client_index = |spec: &ClientSpec, clients: &mut Vec<ClientSpec>| -> usize {
        match clients.iter().position(|c| c.name == spec.name) {
            Some(i) => i,
            None => {
                clients.push(spec.clone());
                clients.len() - 1
            }
        }
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
                    prices: inline_prices
                        .iter()
                        .find(|(m, _)| *m == s.model)
                        .map(|(_, p)| *p)
                        .or_else(|| price_catalog.lookup(&s.model)),
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
        let mut arrivals = validate_arrivals(
            &s.arrivals,
            ctx,
            &format!("{path}.arrivals"),
            duration,
            base_dir,
        )?;
        let is_trace = matches!(arrivals.process, Process::Trace(_));
        if let Some(n) = s.requests {
            if !(1..=MAX_JOB_REQUESTS).contains(&n) {
                return Err(ctx.err(
                    &format!("{path}.requests"),
                    format!("value {n} is not allowed: requests (the job's size) must be from 1 to {MAX_JOB_REQUESTS}"),
                ));
            }
            arrivals.requests = Some(n as u64);
        } else if until_done && !matches!(&arrivals.process, Process::Trace(t) if !t.looped) {
            return Err(ctx.err(
                &format!("{path}.requests"),
                "missing: without a duration every stream must be a finite job (requests = N); or give the scenario a duration",
            ));
        }
        // A trace's rows give the sizes; other streams draw them.
        let sizes = |raw: &Option<traffic::RawTokens>,
                     key: &str|
         -> Result<TokenDist, InputError> {
            match raw {
                Some(r) => validate_tokens(r, ctx, &format!("{path}.{key}")),
                None if is_trace => Ok(TokenDist::Constant { value: 1 }),
                None => Err(ctx.err(
                    &path,
                    format!("missing {key}: a stream needs prompt_tokens and completion_tokens (a trace's rows give them instead)"),
                )),
            }
        };
        let prompt_tokens = sizes(&s.prompt_tokens, "prompt_tokens")?;
        let completion_tokens = sizes(&s.completion_tokens, "completion_tokens")?;
        let client = match &s.client {
            None => client_index(&default_client, &mut clients),
            Some(toml::Value::String(n)) => match named.iter().find(|c| c.name == *n) {
                Some(c) => client_index(c, &mut clients),
                None if n == "default" => client_index(&default_client, &mut clients),
                None => {
                    return Err(ctx.err(
                        &format!("{path}.client"),
                        format!(
                            "unknown client {n:?}; clients: {}",
                            std::iter::once("default")
                                .chain(named.iter().map(|c| c.name.as_str()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            },
            Some(v @ toml::Value::Table(_)) => {
                let cp = format!("{path}.client");
                let raw_c = RawClient::deserialize(v.clone())
                    .map_err(|e| ctx.err(&cp, e.message().to_string()))?;
                if raw_c.name.is_some() {
                    return Err(ctx.err(&format!("{cp}.name"), "a stream's own client is named after the stream; name shared clients in [[clients]]"));
                }
                let spec = validate_client(&raw_c, ctx, &cp, format!("stream:{name}"))?;
                clients.push(spec);
                clients.len() - 1
            }
            Some(other) => {
                return Err(ctx.err(
                    &format!("{path}.client"),
                    format!("value {other} is not allowed: client is the name of a [[clients]] entry, or a client table"),
                ));
            }
        };
        let client_name = clients[client].name.clone();
        let max_tokens = match s.max_tokens {
            None => {
                if server.accounting == crate::limiter::Accounting::Reserve {
                    return Err(ctx.err(
                        &format!("{path}.max_tokens"),
                        format!("missing: with server.token_accounting = \"reserve\"{} every stream needs max_tokens (what the server reserves at admission)", if raw.server.as_ref().is_some_and(|r| r.token_accounting.is_some()) { String::new() } else { format!(" (the {} profile's, which documents it)", profile.name) }),
                    ));
                }
                None
            }
            Some(m) if (1..=10_000_000).contains(&m) => Some(m as u64),
            Some(m) => {
                return Err(ctx.err(
                    &format!("{path}.max_tokens"),
                    format!(
                        "value {m} is not allowed: max_tokens must be an integer from 1 to 10000000"
                    ),
                ));
            }
        };
        let latency = match &s.latency {
            Some(l) => validate_latency(l, ctx, &format!("{path}.latency"))?,
            None => default_latency.clone(),
        };
        let extra_tokens = validate_extra_tokens(s, ctx, &path)?;
        if is_trace && let Process::Trace(t) = &mut arrivals.process {
            t.model = s.model.clone();
            t.stream = name.clone();
            t.tokens_per_image = extra_tokens
                .images
                .as_ref()
                .map(|(_, per)| per.mean().round() as u64);
            read_trace(t, ctx, &format!("{path}.arrivals"))?;
            if t.skipped > 0 {
                warnings.push(Warning(format!(
                    "stream {name:?}: {} bad rows of {} were skipped (on_bad_row = \"skip\")",
                    t.skipped,
                    t.file.display()
                )));
            }
        }
        streams.push(Stream {
            name,
            model,
            model_name: s.model.clone(),
            arrivals,
            prompt_tokens,
            completion_tokens,
            extra_tokens,
            max_tokens,
            client,
            client_name,
            latency,
        });
    }

    // Charges after admission (output tokens, settlements) need a dimension that carries
    // debt; a sliding log forgets a charge after one window.
    if server.tokens_algorithm == crate::limiter::Algorithm::SlidingLog {
        let later = |m: &&ModelSpec| {
            m.limits.otpm.is_some()
                || (m.limits.tpd.is_some()
                    && matches!(
                        server.accounting,
                        crate::limiter::Accounting::Reserve
                            | crate::limiter::Accounting::InputThenOutput
                    ))
        };
        if let Some(m) = models.iter().find(later) {
            let field = if raw
                .server
                .as_ref()
                .is_some_and(|r| r.tokens_algorithm.is_some())
            {
                "server.tokens_algorithm"
            } else {
                "server.algorithm"
            };
            return Err(ctx.err(
                field,
                format!(
                    "model {:?} is charged tokens after admission (otpm, or tpd with this token_accounting), which a sliding log would forget after one window: use token-bucket, gcra, discrete-refill, fixed-window, sliding-counter or a leaky queue for tokens",
                    m.name
                ),
            ));
        }
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
    let account = match &raw.account {
        None => None,
        Some(a) => {
            if let Some(m) = models.iter().find(|m| m.prices.is_none()) {
                return Err(ctx.err(
                    "account",
                    format!(
                        "model {:?} has no prices in {}; an account bills every request: add [[prices]] for it",
                        m.name, price_catalog.provenance.source
                    ),
                ));
            }
            // The starting tier, then every tier of more spend at which each model has caps.
            let nano = |usd: f64| (usd * 1e9).round() as u64;
            let start_spend = tier_spend_usd.map_or(0, nano);
            let mut ladder = vec![crate::account::TierStep {
                tier: tier.clone(),
                spend: start_spend,
                limits: models.iter().map(|m| m.limits).collect(),
            }];
            let mut higher: Vec<&crate::catalog::TierRow> = catalog
                .tiers
                .iter()
                .filter(|t| t.spend_usd.is_some_and(|s| nano(s) > start_spend))
                .collect();
            higher.sort_by(|a, b| a.spend_usd.partial_cmp(&b.spend_usd).expect("finite"));
            for t in higher {
                let limits: Option<Vec<ModelLimits>> = models
                    .iter()
                    .map(|m| {
                        if m.limits_from == "inline" {
                            Some(m.limits)
                        } else {
                            catalog.lookup(&m.name, &t.tier)
                        }
                    })
                    .collect();
                if let Some(limits) = limits {
                    ladder.push(crate::account::TierStep {
                        tier: t.tier.clone(),
                        spend: nano(t.spend_usd.unwrap_or(0.0)),
                        limits,
                    });
                }
            }
            Some(validate_account(a, ctx, ladder)?)
        }
    };
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
            until_done,
            stop_at,
            warmup,
            tier,
            tier_spend_usd,
            provider,
            limits_provenance: catalog.limits_provenance.clone(),
            tiers_provenance: catalog.tiers_provenance.clone(),
            prices_provenance: price_catalog.provenance.clone(),
            account,
            server,
            models,
            clients,
            streams,
            available_tiers,
        },
        warnings,
    ))
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
        assert_eq!(s.models[0].limits.rps, Some(Milli::from_units(30)));
        assert_eq!(s.streams[0].name, "grok-4.3");
        assert_eq!(
            s.clients[s.streams[0].client].policy.preset.as_deref(),
            Some("xai-docs")
        );
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
        let c = &s.clients[s.streams[0].client].policy;
        assert_eq!(c.max_retries, 5);
        assert_eq!(c.max_delay, Some(SimDuration::from_secs(8)));
    }

    #[test]
    fn inline_limits_define_new_models() {
        let src = MINIMAL.replace("model = \"grok-4.3\"", "model = \"mine\"")
            + "\n[[limits]]\nmodel = \"mine\"\nrps = 2.5\ntpm = 1000\n";
        let (s, w) = parse_str(&src).unwrap();
        assert_eq!(s.models[0].limits.rps, Some(Milli(2_500)));
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
