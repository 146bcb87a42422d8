//! Tier and model limits, loaded from data with a source and a date.
//!
//! The default catalog is xAI's "Rate Limits" page (2026-06-20), embedded from `data/*.csv`. A
//! scenario may load its own limits file with the same columns (`model,kind,tier,rps,tpm`), which
//! is how a later version of the page, or another provider, is modelled. Nothing else in the code
//! knows a limit.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::error::{InputError, Location};

const EMBEDDED_LIMITS: &str = include_str!("../data/xai-limits.csv");
const EMBEDDED_TIERS: &str = include_str!("../data/xai-tiers.csv");
const EMBEDDED_LIMITS_NAME: &str = "<embedded>/xai-limits.csv";
const EMBEDDED_TIERS_NAME: &str = "<embedded>/xai-tiers.csv";

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

/// One row of a limits table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitRow {
    pub model: String,
    pub kind: String,
    pub tier: TierSel,
    /// Requests per second.
    pub rps: Milli,
    /// Tokens per minute; `None` means the model has no token cap.
    pub tpm: Option<Milli>,
}

/// The caps that apply to one model at one tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ModelLimits {
    pub rps: Milli,
    pub tpm: Option<Milli>,
}

/// One row of a tiers table.
#[derive(Clone, Debug, PartialEq)]
pub struct TierRow {
    pub tier: String,
    /// Cumulative spend (USD) that unlocks the tier; `None` where the source gives none (by request).
    pub spend_usd: Option<f64>,
}

/// Where a table came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
    /// xAI's published limits, embedded in the binary.
    pub fn embedded() -> Catalog {
        let (limits_provenance, limits) = parse_limits(EMBEDDED_LIMITS_NAME, EMBEDDED_LIMITS)
            .expect("embedded limits table is valid (checked by a unit test)");
        let (tiers_provenance, tiers) = parse_tiers(EMBEDDED_TIERS_NAME, EMBEDDED_TIERS)
            .expect("embedded tiers table is valid (checked by a unit test)");
        Catalog {
            limits_provenance,
            tiers_provenance,
            limits,
            tiers,
        }
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
            .map(|r| ModelLimits {
                rps: r.rps,
                tpm: r.tpm,
            })
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

fn parse_limits(name: &str, text: &str) -> Result<(Provenance, Vec<LimitRow>), InputError> {
    const COLUMNS: [&str; 5] = ["model", "kind", "tier", "rps", "tpm"];
    let mut rdr = csv_reader(text);
    check_header(name, &mut rdr, &COLUMNS)?;
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(name, &e))?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let bad = |col: &str, value: &str, allowed: &str| {
            InputError::new(name, format!("bad value `{value}`: {allowed}"))
                .at(Location::line(line))
                .field(format!("column `{col}`"))
        };
        let model = rec[0].to_string();
        if model.is_empty() {
            return Err(bad("model", "", "a model name is required"));
        }
        let tier = match &rec[2] {
            "" => return Err(bad("tier", "", "a tier name, or `all`")),
            "all" => TierSel::All,
            t => TierSel::Named(t.to_string()),
        };
        let rps = Milli::parse(&rec[3])
            .filter(|m| !m.is_zero())
            .ok_or_else(|| {
                bad(
                    "rps",
                    &rec[3],
                    "requests per second: a number > 0 with at most 3 decimals",
                )
            })?;
        let tpm = match &rec[4] {
            "" => None,
            v => Some(Milli::parse(v).filter(|m| !m.is_zero()).ok_or_else(|| {
                bad(
                    "tpm",
                    v,
                    "tokens per minute: a number > 0 with at most 3 decimals, or empty for no token cap",
                )
            })?),
        };
        let row = LimitRow {
            model,
            kind: rec[1].to_string(),
            tier,
            rps,
            tpm,
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

fn parse_tiers(name: &str, text: &str) -> Result<(Provenance, Vec<TierRow>), InputError> {
    let mut rdr = csv_reader(text);
    check_header(name, &mut rdr, &["tier", "cumulative_spend_usd"])?;
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
        assert_eq!(t0.rps, Milli::from_units(30));
        assert_eq!(t0.tpm, Some(Milli::from_units(10_000_000)));
        let t4 = c.lookup("grok-4.20-multi-agent-0309", "4").unwrap();
        assert_eq!(
            (t4.rps, t4.tpm),
            (Milli::from_units(45), Some(Milli::from_units(21_000_000)))
        );
        // "all tiers" rows apply to every tier and have no token cap.
        let img = c.lookup("grok-imagine-image", "3").unwrap();
        assert_eq!((img.rps, img.tpm), (Milli::from_units(5), None));
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
        let e = parse_limits("x.csv", "model,tier,rps\n").unwrap_err();
        assert!(e.to_string().contains("expected exactly"), "{e}");
        let e = parse_limits("x.csv", "model,kind,tier,rps,tpm\nm,language,0,1\n").unwrap_err();
        assert!(e.to_string().contains("4 fields"), "{e}");
        let e = parse_limits("x.csv", "model,kind,tier,rps,tpm\nm,l,0,0,5\n").unwrap_err();
        assert!(e.to_string().contains("> 0"), "{e}");
    }
}
