//! Tier and model limits, loaded from data with a source and a date.
//!
//! The default catalog is xAI's "Rate Limits" page (2026-06-20), embedded from
//! `data/providers/`; the other providers' tables and the dated versions of xAI's are there too
//! (see [`crate::provider`]). A scenario may load its own limits file: columns by name, `model`,
//! `tier`, a request cap (`rps` or `rpm`) and any of the other caps of [`CAP_COLUMNS`]. Nothing
//! else in the code knows a limit.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::error::{InputError, Location};

/// A non-negative decimal with at most three decimals, held exactly in thousandths.
/// Rates and caps are stored this way so that RPS = RPM/48 style values (e.g. 37.5) stay exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Milli(pub u64);

impl Milli {
    pub fn from_units(units: u64) -> Milli {
        Milli(units * 1000)
    }

    /// Parses `"30"`, `"37.5"`, `"0.125"`; refuses signs, exponents and more than three decimals.
    pub fn parse(text: &str) -> Option<Milli> {
        let t = text.trim();
        let (int_part, frac_part) = t.split_once('.').unwrap_or((t, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
            || frac_part.len() > 3
        {
            return None;
        }
        let int: u64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().ok()?
        };
        let mut frac: u64 = if frac_part.is_empty() {
            0
        } else {
            frac_part.parse().ok()?
        };
        for _ in frac_part.len()..3 {
            frac *= 10;
        }
        int.checked_mul(1000)?.checked_add(frac).map(Milli)
    }

    /// Converts a float that must have at most three decimals (as written in a TOML file).
    pub fn from_f64(x: f64) -> Option<Milli> {
        if !x.is_finite() || !(0.0..=1e15).contains(&x) {
            return None;
        }
        let scaled = x * 1000.0;
        let rounded = scaled.round();
        if (scaled - rounded).abs() > 1e-6 * rounded.max(1.0) {
            return None;
        }
        Some(Milli(rounded as u64))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Milli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (int, frac) = (self.0 / 1000, self.0 % 1000);
        let text = if frac == 0 {
            int.to_string()
        } else {
            format!("{int}.{}", format!("{frac:03}").trim_end_matches('0'))
        };
        f.pad(&text)
    }
}

impl Serialize for Milli {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

/// Which tiers a row applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TierSel {
    All,
    Named(String),
}

impl TierSel {
    fn matches(&self, tier: &str) -> bool {
        match self {
            TierSel::All => true,
            TierSel::Named(t) => t == tier,
        }
    }
}

impl fmt::Display for TierSel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TierSel::All => f.pad("all"),
            TierSel::Named(t) => f.pad(t),
        }
    }
}

/// The caps a limits table can give, by column name: requests per second, minute and day;
/// tokens per minute and day; input and output tokens per minute; images per minute; and
/// attempts in service at once.
pub const CAP_COLUMNS: [&str; 9] = [
    "rps",
    "rpm",
    "rpd",
    "tpm",
    "tpd",
    "itpm",
    "otpm",
    "ipm",
    "concurrent",
];

/// Text columns a limits table may have besides its caps (`model` and `tier` are required).
pub const TEXT_COLUMNS: [&str; 7] = ["model", "kind", "tier", "label", "source", "date", "notes"];

/// One row of a limits table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitRow {
    pub model: String,
    /// `language`, `image`, `video`, ... where the table says (empty otherwise).
    pub kind: String,
    pub tier: TierSel,
    pub limits: ModelLimits,
    /// The model's name as its source writes it, where it differs from `model`.
    pub label: String,
    /// The row's own source and date, where the table gives them per row.
    pub source: String,
    pub date: String,
}

/// The caps that apply to one model at one tier. Every model has a request cap: per second
/// (`rps`, as xAI's page states it) or, failing that, per minute (`rpm`, as OpenAI,
/// Anthropic and Gemini state theirs); the others are optional.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ModelLimits {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rps: Option<Milli>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpm: Option<Milli>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpd: Option<Milli>,
    /// Tokens per minute; `None` means the model has no such cap.
    pub tpm: Option<Milli>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpd: Option<Milli>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub itpm: Option<Milli>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otpm: Option<Milli>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipm: Option<Milli>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrent: Option<Milli>,
}

/// The cap that the limiter's requests dimension enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestCap {
    /// Requests per `period_s` seconds.
    pub amount: Milli,
    pub period_s: u64,
    /// Which limit a 429 of this dimension names.
    pub limit: crate::limiter::Limit,
}

impl ModelLimits {
    /// xAI's shape: requests per second and, optionally, tokens per minute.
    pub fn rps_tpm(rps: Milli, tpm: Option<Milli>) -> ModelLimits {
        ModelLimits {
            rps: Some(rps),
            tpm,
            ..ModelLimits::default()
        }
    }

    /// The cap by column name (one of [`CAP_COLUMNS`]).
    pub fn get(&self, column: &str) -> Option<Milli> {
        match column {
            "rps" => self.rps,
            "rpm" => self.rpm,
            "rpd" => self.rpd,
            "tpm" => self.tpm,
            "tpd" => self.tpd,
            "itpm" => self.itpm,
            "otpm" => self.otpm,
            "ipm" => self.ipm,
            "concurrent" => self.concurrent,
            _ => None,
        }
    }

    /// Sets the cap of a column (one of [`CAP_COLUMNS`]); false for an unknown column.
    pub fn set(&mut self, column: &str, value: Option<Milli>) -> bool {
        let slot = match column {
            "rps" => &mut self.rps,
            "rpm" => &mut self.rpm,
            "rpd" => &mut self.rpd,
            "tpm" => &mut self.tpm,
            "tpd" => &mut self.tpd,
            "itpm" => &mut self.itpm,
            "otpm" => &mut self.otpm,
            "ipm" => &mut self.ipm,
            "concurrent" => &mut self.concurrent,
            _ => return false,
        };
        *slot = value;
        true
    }

    /// The request cap of the requests dimension: `rps` where given, else `rpm`. `None` only
    /// for limits that validation refuses (every table row and `[[limits]]` entry has one).
    pub fn request_cap(&self) -> Option<RequestCap> {
        use crate::limiter::Limit;
        match (self.rps, self.rpm) {
            (Some(amount), _) => Some(RequestCap {
                amount,
                period_s: 1,
                limit: Limit::Requests,
            }),
            (None, Some(amount)) => Some(RequestCap {
                amount,
                period_s: 60,
                limit: Limit::RequestsPerMinute,
            }),
            (None, None) => None,
        }
    }

    /// The request cap as requests per second (RPM / 60 where the cap is per minute).
    pub fn requests_per_sec(&self) -> f64 {
        self.request_cap()
            .map_or(0.0, |c| c.amount.as_f64() / c.period_s as f64)
    }

    /// The caps beyond the requests dimension and TPM, each once, in [`CAP_COLUMNS`] order
    /// (`rpm` only where `rps` is the requests dimension).
    pub fn extra_caps(&self) -> Vec<crate::limiter::ExtraCap> {
        use crate::limiter::{ExtraCap, Limit};
        let mut out = Vec::new();
        let mut push = |limit: Limit, v: Option<Milli>| {
            if let Some(amount) = v {
                out.push(ExtraCap { limit, amount });
            }
        };
        if self.rps.is_some() {
            push(Limit::RequestsPerMinute, self.rpm);
        }
        push(Limit::RequestsPerDay, self.rpd);
        push(Limit::TokensPerDay, self.tpd);
        push(Limit::InputTokensPerMinute, self.itpm);
        push(Limit::OutputTokensPerMinute, self.otpm);
        push(Limit::ImagesPerMinute, self.ipm);
        push(Limit::Concurrent, self.concurrent);
        out
    }

    /// The caps as `name value` pairs, for tables and messages.
    pub fn describe(&self) -> String {
        CAP_COLUMNS
            .iter()
            .filter_map(|c| self.get(c).map(|v| format!("{c} {v}")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One row of a tiers table.
#[derive(Clone, Debug, PartialEq)]
pub struct TierRow {
    pub tier: String,
    /// Cumulative spend (USD) that unlocks the tier; `None` where the source gives none (by request).
    pub spend_usd: Option<f64>,
    /// What else the source requires (a waiting time, a billing account), not modelled.
    pub notes: String,
}

/// Where a table came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Provenance {
    pub source: String,
    pub date: String,
}

/// Limits and tiers with their provenance.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub limits_provenance: Provenance,
    pub tiers_provenance: Provenance,
    pub limits: Vec<LimitRow>,
    pub tiers: Vec<TierRow>,
}

impl Catalog {
    /// xAI's published limits (the default version of the `xai` profile), embedded in the
    /// binary.
    pub fn embedded() -> Catalog {
        let p = crate::provider::Profile::get("xai").expect("the xai profile is embedded");
        let v = p
            .version(None)
            .expect("the xai profile has a default version");
        p.catalog(v)
            .expect("embedded tables are valid (checked by a unit test)")
    }

    /// Replaces the limits with those of a user file (same columns); tiers stay as they are
    /// unless [`Catalog::with_tiers_file`] replaces them too.
    pub fn with_limits_file(mut self, path: &Path) -> Result<Catalog, InputError> {
        let name = path.display().to_string();
        let text = read_text(path)?;
        let (prov, rows) = parse_limits(&name, &text)?;
        self.limits_provenance = prov;
        self.limits = rows;
        Ok(self)
    }

    pub fn with_tiers_file(mut self, path: &Path) -> Result<Catalog, InputError> {
        let name = path.display().to_string();
        let text = read_text(path)?;
        let (prov, rows) = parse_tiers(&name, &text)?;
        self.tiers_provenance = prov;
        self.tiers = rows;
        Ok(self)
    }

    /// The caps for `model` at `tier`: a row for that exact tier wins over an `all` row.
    pub fn lookup(&self, model: &str, tier: &str) -> Option<ModelLimits> {
        let rows = self.limits.iter().filter(|r| r.model == model);
        let exact = rows
            .clone()
            .find(|r| matches!(&r.tier, TierSel::Named(t) if t == tier));
        exact
            .or_else(|| rows.clone().find(|r| r.tier.matches(tier)))
            .map(|r| r.limits)
    }

    /// Model names in table order, each once.
    pub fn models(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.limits {
            if !out.contains(&r.model.as_str()) {
                out.push(&r.model);
            }
        }
        out
    }

    /// Tier names: those of the tiers table, then any others the limits table names.
    pub fn tier_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.tiers.iter().map(|t| t.tier.as_str()).collect();
        for r in &self.limits {
            if let TierSel::Named(t) = &r.tier
                && !out.contains(&t.as_str())
            {
                out.push(t);
            }
        }
        out
    }

    pub fn tier(&self, tier: &str) -> Option<&TierRow> {
        self.tiers.iter().find(|t| t.tier == tier)
    }

    pub fn is_known_tier(&self, tier: &str) -> bool {
        self.tier_names().contains(&tier)
    }
}

pub(crate) fn read_text(path: &Path) -> Result<String, InputError> {
    crate::input::read_text(path, "table", crate::input::MAX_INPUT_BYTES)
}

/// Reads `# source: ...` and `# date: ...` comment lines at the top of a table.
pub(crate) fn provenance(name: &str, text: &str) -> Provenance {
    let mut source = None;
    let mut date = None;
    for line in text.lines().take_while(|l| l.trim_start().starts_with('#')) {
        let body = line.trim_start().trim_start_matches('#').trim();
        if let Some(v) = body.strip_prefix("source:") {
            source = Some(v.trim().to_string());
        } else if let Some(v) = body.strip_prefix("date:") {
            date = Some(v.trim().to_string());
        }
    }
    Provenance {
        source: source.unwrap_or_else(|| name.to_string()),
        date: date.unwrap_or_else(|| "unknown".to_string()),
    }
}

pub(crate) fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes())
}

pub(crate) fn csv_error(name: &str, e: &csv::Error) -> InputError {
    let line = e.position().map(|p| p.line() as usize);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("row has {len} fields, but the header has {expected_len}"),
        _ => format!("malformed CSV: {e}"),
    };
    let err = InputError::new(name, message);
    match line {
        Some(l) => err.at(Location::line(l)),
        None => err,
    }
}

pub(crate) fn check_header(
    name: &str,
    rdr: &mut csv::Reader<&[u8]>,
    want: &[&str],
) -> Result<(), InputError> {
    let header = rdr.headers().map_err(|e| csv_error(name, &e))?.clone();
    let got: Vec<&str> = header.iter().collect();
    if got != want {
        let line = header.position().map_or(1, |p| p.line() as usize);
        return Err(InputError::new(
            name,
            format!(
                "header is `{}`; expected exactly `{}`",
                got.join(","),
                want.join(",")
            ),
        )
        .at(Location::line(line)));
    }
    Ok(())
}

pub fn parse_limits(name: &str, text: &str) -> Result<(Provenance, Vec<LimitRow>), InputError> {
    let mut rdr = csv_reader(text);
    let header = rdr.headers().map_err(|e| csv_error(name, &e))?.clone();
    let header_line = header.position().map_or(1, |p| p.line() as usize);
    let cols: Vec<String> = header.iter().map(str::to_string).collect();
    let allowed = || {
        format!(
            "columns are model, tier, at least one of rps and rpm, then any of {} and the text columns {}",
            CAP_COLUMNS[2..].join(", "),
            TEXT_COLUMNS[..].join(", ")
        )
    };
    for (i, c) in cols.iter().enumerate() {
        if !CAP_COLUMNS.contains(&c.as_str()) && !TEXT_COLUMNS.contains(&c.as_str()) {
            return Err(
                InputError::new(name, format!("unknown column `{c}`; {}", allowed()))
                    .at(Location::line(header_line)),
            );
        }
        if cols[..i].contains(c) {
            return Err(
                InputError::new(name, format!("column `{c}` is given twice"))
                    .at(Location::line(header_line)),
            );
        }
    }
    for required in ["model", "tier"] {
        if !cols.iter().any(|c| c == required) {
            return Err(InputError::new(
                name,
                format!(
                    "header `{}` has no `{required}` column; {}",
                    cols.join(","),
                    allowed()
                ),
            )
            .at(Location::line(header_line)));
        }
    }
    if !cols.iter().any(|c| c == "rps" || c == "rpm") {
        return Err(InputError::new(
            name,
            format!(
                "header `{}` has no request cap: give an `rps` or an `rpm` column",
                cols.join(",")
            ),
        )
        .at(Location::line(header_line)));
    }
    let col = |n: &str| cols.iter().position(|c| c == n);
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(name, &e))?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let bad = |column: &str, value: &str, allowed: &str| {
            InputError::new(name, format!("bad value `{value}`: {allowed}"))
                .at(Location::line(line))
                .field(format!("column `{column}`"))
        };
        let text = |n: &str| col(n).map_or(String::new(), |i| rec[i].to_string());
        let model = text("model");
        if model.is_empty() {
            return Err(bad("model", "", "a model name is required"));
        }
        let tier = match text("tier").as_str() {
            "" => return Err(bad("tier", "", "a tier name, or `all`")),
            "all" => TierSel::All,
            t => TierSel::Named(t.to_string()),
        };
        let mut limits = ModelLimits::default();
        for cap in CAP_COLUMNS {
            let Some(i) = col(cap) else { continue };
            let v = &rec[i];
            if v.is_empty() {
                continue;
            }
            let request = cap == "rps" || cap == "rpm";
            let m =
                Milli::parse(v).filter(|m| *m >= Milli::from_units(1) || (request && !m.is_zero()));
            let Some(m) = m else {
                return Err(bad(
                    cap,
                    v,
                    &format!(
                        "{}: a number {} with at most 3 decimals, or empty for no such cap",
                        cap_meaning(cap),
                        if request { "> 0" } else { ">= 1" }
                    ),
                ));
            };
            limits.set(cap, Some(m));
        }
        if limits.request_cap().is_none() {
            return Err(bad(
                if col("rps").is_some() { "rps" } else { "rpm" },
                "",
                "every row needs a request cap: rps (requests per second) or rpm (requests per minute)",
            ));
        }
        let row = LimitRow {
            model,
            kind: text("kind"),
            tier,
            limits,
            label: text("label"),
            source: text("source"),
            date: text("date"),
        };
        if rows
            .iter()
            .any(|r: &LimitRow| r.model == row.model && r.tier == row.tier)
        {
            return Err(bad(
                "tier",
                &row.tier.to_string(),
                &format!("model `{}` already has a row for this tier", row.model),
            ));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(InputError::new(name, "the limits table has no rows"));
    }
    Ok((provenance(name, text), rows))
}

/// What a cap column means, for messages.
pub fn cap_meaning(column: &str) -> &'static str {
    match column {
        "rps" => "requests per second",
        "rpm" => "requests per minute",
        "rpd" => "requests per day",
        "tpm" => "tokens per minute",
        "tpd" => "tokens per day",
        "itpm" => "input tokens per minute",
        "otpm" => "output tokens per minute",
        "ipm" => "images per minute",
        "concurrent" => "requests in service at once",
        _ => "a cap",
    }
}

pub fn parse_tiers(name: &str, text: &str) -> Result<(Provenance, Vec<TierRow>), InputError> {
    let mut rdr = csv_reader(text);
    let with_notes = rdr.headers().is_ok_and(|h| h.len() == 3);
    if with_notes {
        check_header(name, &mut rdr, &["tier", "cumulative_spend_usd", "notes"])?;
    } else {
        check_header(name, &mut rdr, &["tier", "cumulative_spend_usd"])?;
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(name, &e))?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let spend = match &rec[1] {
            "" => None,
            v => Some(
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| {
                        InputError::new(
                            name,
                            format!("bad value `{v}`: a spend in USD >= 0, or empty"),
                        )
                        .at(Location::line(line))
                        .field("column `cumulative_spend_usd`")
                    })?,
            ),
        };
        if rec[0].is_empty() {
            return Err(InputError::new(name, "a tier name is required")
                .at(Location::line(line))
                .field("column `tier`"));
        }
        if rows.iter().any(|r: &TierRow| r.tier == rec[0]) {
            return Err(InputError::new(
                name,
                format!(
                    "tier `{}` has a row already; each tier appears once",
                    &rec[0]
                ),
            )
            .at(Location::line(line))
            .field("column `tier`"));
        }
        rows.push(TierRow {
            tier: rec[0].to_string(),
            spend_usd: spend,
            notes: if with_notes {
                rec[2].to_string()
            } else {
                String::new()
            },
        });
    }
    if rows.is_empty() {
        return Err(InputError::new(name, "the tiers table has no rows"));
    }
    Ok((provenance(name, text), rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_parse_with_provenance() {
        let c = Catalog::embedded();
        assert_eq!(c.limits_provenance.date, "2026-06-20");
        assert!(c.limits_provenance.source.contains("Rate Limits"));
        assert_eq!(c.tiers.len(), 6);
        assert_eq!(c.models().len(), 9);
    }

    #[test]
    fn lookups_match_the_reference_table() {
        let c = Catalog::embedded();
        let t0 = c.lookup("grok-4.3", "0").unwrap();
        assert_eq!(t0.rps, Some(Milli::from_units(30)));
        assert_eq!(t0.tpm, Some(Milli::from_units(10_000_000)));
        let t4 = c.lookup("grok-4.20-multi-agent-0309", "4").unwrap();
        assert_eq!(
            (t4.rps, t4.tpm),
            (
                Some(Milli::from_units(45)),
                Some(Milli::from_units(21_000_000))
            )
        );
        // "all tiers" rows apply to every tier and have no token cap.
        let img = c.lookup("grok-imagine-image", "3").unwrap();
        assert_eq!((img.rps, img.tpm), (Some(Milli::from_units(5)), None));
        assert_eq!(c.lookup("grok-4.3", "enterprise"), None);
        assert_eq!(c.lookup("no-such-model", "0"), None);
        assert_eq!(c.tier("2").unwrap().spend_usd, Some(250.0));
        assert_eq!(c.tier("enterprise").unwrap().spend_usd, None);
    }

    #[test]
    fn milli_is_exact() {
        assert_eq!(Milli::parse("37.5"), Some(Milli(37_500)));
        assert_eq!(Milli::parse("0.125"), Some(Milli(125)));
        assert_eq!(Milli::parse("208"), Some(Milli(208_000)));
        assert_eq!(Milli::parse("1.2345"), None);
        assert_eq!(Milli::parse("-1"), None);
        assert_eq!(Milli::parse("1e3"), None);
        assert_eq!(Milli::from_f64(37.5), Some(Milli(37_500)));
        assert_eq!(Milli::from_f64(0.0001), None);
        assert_eq!(Milli(37_500).to_string(), "37.5");
        assert_eq!(Milli(30_000).to_string(), "30");
    }

    #[test]
    fn malformed_tables_are_refused_with_line_and_column() {
        let e =
            parse_limits("x.csv", "model,kind,tier,rps,tpm\nm,language,0,fast,10\n").unwrap_err();
        assert_eq!(e.location.line, Some(2));
        assert!(e.to_string().contains("column `rps`"), "{e}");
        assert!(e.to_string().contains("fast"), "{e}");
        let e = parse_limits("x.csv", "model,tier,rps,speed\nm,0,1,2\n").unwrap_err();
        assert!(e.to_string().contains("unknown column `speed`"), "{e}");
        assert_eq!(e.location.line, Some(1));
        let e = parse_limits("x.csv", "model,tier,tpm\nm,0,5\n").unwrap_err();
        assert!(e.to_string().contains("no request cap"), "{e}");
        let e = parse_limits("x.csv", "model,tier,rps,rpm\nm,0,,\n").unwrap_err();
        assert!(
            e.to_string().contains("every row needs a request cap"),
            "{e}"
        );
        let e = parse_limits("x.csv", "model,tier,rpm,itpm\nm,0,50,0.5\n").unwrap_err();
        assert!(
            e.to_string().contains("column `itpm`") && e.to_string().contains(">= 1"),
            "{e}"
        );
        let e = parse_limits("x.csv", "model,tier,rps\n").unwrap_err();
        assert!(e.to_string().contains("no rows"), "{e}");
        let e = parse_limits("x.csv", "model,kind,tier,rps,tpm\nm,language,0,1\n").unwrap_err();
        assert!(e.to_string().contains("4 fields"), "{e}");
        let e = parse_limits("x.csv", "model,kind,tier,rps,tpm\nm,l,0,0,5\n").unwrap_err();
        assert!(e.to_string().contains("> 0"), "{e}");
    }
}
