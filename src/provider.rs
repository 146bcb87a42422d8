//! Provider profiles: for xAI, OpenAI, Anthropic and Gemini, the limits and tiers tables
//! (dated versions of them) and the server settings that model how the provider enforces
//! them, each with the reason it was chosen. All of it is data, embedded from
//! `data/providers/`: a profile is a TOML file naming its tables, and each table a CSV file
//! whose first lines give its source and date.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Provenance, parse_limits, parse_tiers};
use crate::error::InputError;

/// Every embedded file, by name.
const FILES: [(&str, &str); 18] = [
    ("xai.toml", include_str!("../data/providers/xai.toml")),
    (
        "xai-limits-2026-06-20.csv",
        include_str!("../data/providers/xai-limits-2026-06-20.csv"),
    ),
    (
        "xai-limits-v2.csv",
        include_str!("../data/providers/xai-limits-v2.csv"),
    ),
    (
        "xai-tiers.csv",
        include_str!("../data/providers/xai-tiers.csv"),
    ),
    ("openai.toml", include_str!("../data/providers/openai.toml")),
    (
        "openai-limits.csv",
        include_str!("../data/providers/openai-limits.csv"),
    ),
    (
        "openai-tiers.csv",
        include_str!("../data/providers/openai-tiers.csv"),
    ),
    (
        "anthropic.toml",
        include_str!("../data/providers/anthropic.toml"),
    ),
    (
        "anthropic-limits-2026-09-12.csv",
        include_str!("../data/providers/anthropic-limits-2026-09-12.csv"),
    ),
    (
        "anthropic-tiers-2026-09-12.csv",
        include_str!("../data/providers/anthropic-tiers-2026-09-12.csv"),
    ),
    (
        "anthropic-limits-2025.csv",
        include_str!("../data/providers/anthropic-limits-2025.csv"),
    ),
    (
        "anthropic-tiers-2025.csv",
        include_str!("../data/providers/anthropic-tiers-2025.csv"),
    ),
    ("gemini.toml", include_str!("../data/providers/gemini.toml")),
    (
        "gemini-limits-2025.csv",
        include_str!("../data/providers/gemini-limits-2025.csv"),
    ),
    (
        "gemini-tiers-2025.csv",
        include_str!("../data/providers/gemini-tiers-2025.csv"),
    ),
    (
        "openai-prices.csv",
        include_str!("../data/providers/openai-prices.csv"),
    ),
    (
        "anthropic-prices.csv",
        include_str!("../data/providers/anthropic-prices.csv"),
    ),
    (
        "gemini-prices.csv",
        include_str!("../data/providers/gemini-prices.csv"),
    ),
];

/// The providers with a profile, the default first.
pub const PROVIDERS: [&str; 4] = ["xai", "openai", "anthropic", "gemini"];

fn file(name: &str) -> Option<&'static str> {
    FILES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A setting a profile makes, and why.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Assumption {
    pub setting: String,
    pub value: String,
    pub why: String,
}

/// One dated version of a provider's tables.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Version {
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub default: bool,
    pub limits: String,
    pub tiers: String,
    /// The token price table (none: xAI's embedded prices).
    pub prices: Option<String>,
    pub note: String,
}

/// A provider profile as its file gives it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub title: String,
    /// Server settings (keys of a scenario's `[server]`), which a scenario's own override.
    pub server: toml::Table,
    pub versions: Vec<Version>,
    pub assumptions: Vec<Assumption>,
}

/// What a run records of the provider it modelled.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProviderInfo {
    pub name: String,
    pub title: String,
    /// The version of the tables (`limits_version`).
    pub version: String,
    pub version_note: String,
    /// The profile's settings that the scenario kept, with the reason for each.
    pub assumptions: Vec<Assumption>,
    /// The profile's settings that the scenario replaced (`server.KEY = value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<String>,
}

impl Profile {
    /// The profile of `name` (one of [`PROVIDERS`]).
    pub fn get(name: &str) -> Option<Profile> {
        if !PROVIDERS.contains(&name) {
            return None;
        }
        let text = file(&format!("{name}.toml"))?;
        let p: Profile = toml::from_str(text).expect("embedded profiles parse (unit test)");
        Some(p)
    }

    /// The version `id` (or an alias of it); `None` picks the default.
    pub fn version(&self, id: Option<&str>) -> Option<&Version> {
        match id {
            None => self.versions.iter().find(|v| v.default),
            Some(id) => self
                .versions
                .iter()
                .find(|v| v.id == id || v.aliases.iter().any(|a| a == id)),
        }
    }

    /// The version ids, each with its aliases, for messages.
    pub fn version_names(&self) -> String {
        self.versions
            .iter()
            .map(|v| {
                let mut s = format!("\"{}\"", v.id);
                for a in &v.aliases {
                    s.push_str(&format!(" (or \"{a}\")"));
                }
                if v.default {
                    s.push_str(" (default)");
                }
                s
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The catalog of one version's tables.
    pub fn catalog(&self, version: &Version) -> Result<Catalog, InputError> {
        let table = |name: &str| -> Result<(String, &'static str), InputError> {
            let shown = format!("<embedded>/providers/{name}");
            file(name)
                .map(|t| (shown.clone(), t))
                .ok_or_else(|| InputError::new(&shown, "no such embedded table"))
        };
        let (ln, lt) = table(&version.limits)?;
        let (tn, tt) = table(&version.tiers)?;
        let (limits_provenance, limits) = parse_limits(&ln, lt)?;
        let (tiers_provenance, tiers) = parse_tiers(&tn, tt)?;
        Ok(Catalog {
            limits_provenance,
            tiers_provenance,
            limits,
            tiers,
        })
    }

    /// The token prices of one version: its own table, or xAI's embedded one.
    pub fn prices(&self, version: &Version) -> Result<crate::prices::PriceCatalog, InputError> {
        match &version.prices {
            None => Ok(crate::prices::PriceCatalog::embedded()),
            Some(name) => {
                let shown = format!("<embedded>/providers/{name}");
                let text =
                    file(name).ok_or_else(|| InputError::new(&shown, "no such embedded table"))?;
                crate::prices::PriceCatalog::from_text(&shown, text)
            }
        }
    }

    /// The record of this profile at `version`, before any override.
    pub fn info(&self, version: &Version) -> ProviderInfo {
        ProviderInfo {
            name: self.name.clone(),
            title: self.title.clone(),
            version: version.id.clone(),
            version_note: version.note.clone(),
            assumptions: self.assumptions.clone(),
            overridden: Vec::new(),
        }
    }
}

/// The provenance of a table, for reports.
pub fn describe(p: &Provenance) -> String {
    format!("{} ({})", p.source, p.date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Milli;

    #[test]
    fn every_profile_and_version_loads_with_provenance() {
        for name in PROVIDERS {
            let p = Profile::get(name).unwrap();
            assert_eq!(p.name, name);
            assert_eq!(
                p.versions.iter().filter(|v| v.default).count(),
                1,
                "{name}: one default version"
            );
            for v in &p.versions {
                let c = p.catalog(v).unwrap();
                assert!(!c.limits.is_empty(), "{name} {}", v.id);
                assert_ne!(c.limits_provenance.date, "unknown", "{name} {}", v.id);
                assert_ne!(c.tiers_provenance.date, "unknown", "{name} {}", v.id);
                assert!(
                    !c.limits_provenance.source.starts_with("<embedded>"),
                    "{name} {}: the table names its source",
                    v.id
                );
                // Some limited model is priced.
                let prices = p.prices(v).unwrap();
                assert_ne!(prices.provenance.date, "unknown", "{name} {}", v.id);
                let models = c.models();
                let priced = prices
                    .models
                    .iter()
                    .filter(|(m, _)| models.contains(&m.as_str()))
                    .count();
                assert!(priced > 0, "{name} {}: no limited model is priced", v.id);
            }
            // Every setting of the profile's [server] says why.
            for key in p.server.keys() {
                assert!(
                    p.assumptions
                        .iter()
                        .any(|a| a.setting == format!("server.{key}")),
                    "{name}: server.{key} has no assumption"
                );
            }
        }
        assert!(Profile::get("azure").is_none());
    }

    #[test]
    fn tables_match_the_reference_rows() {
        let xai = Profile::get("xai").unwrap();
        assert_eq!(xai.version(None).unwrap().id, "2026-06-20");
        assert_eq!(xai.version(Some("V1")).unwrap().id, "2026-06-20");
        let v2 = xai.catalog(xai.version(Some("V2")).unwrap()).unwrap();
        let l = v2.lookup("grok-4.3", "0").unwrap();
        assert_eq!(l.rps, Some(Milli::from_units(37)));
        assert_eq!(l.tpm, Some(Milli::from_units(10_000_000)));
        assert_eq!(
            v2.lookup("grok-4.3", "4").unwrap().rps,
            Some(Milli::from_units(208))
        );

        let openai = Profile::get("openai").unwrap();
        let c = openai.catalog(openai.version(None).unwrap()).unwrap();
        let l = c.lookup("gpt-4o-mini", "1").unwrap();
        assert_eq!(
            (l.rps, l.rpm, l.tpm, l.rpd),
            (
                None,
                Some(Milli::from_units(500)),
                Some(Milli::from_units(200_000)),
                Some(Milli::from_units(10_000))
            )
        );
        assert_eq!(c.tier("4").unwrap().spend_usd, Some(250.0));
        assert!(c.lookup("gpt-4.1-long-context", "5").is_some());

        let anthropic = Profile::get("anthropic").unwrap();
        let c = anthropic
            .catalog(anthropic.version(Some("2025")).unwrap())
            .unwrap();
        let l = c.lookup("claude-sonnet-4.x", "2").unwrap();
        assert_eq!(
            (l.rpm, l.itpm, l.otpm, l.tpm),
            (
                Some(Milli::from_units(1000)),
                Some(Milli::from_units(450_000)),
                Some(Milli::from_units(90_000)),
                None
            )
        );
        assert_eq!(c.tier("3").unwrap().spend_usd, Some(200.0));
        let c = anthropic.catalog(anthropic.version(None).unwrap()).unwrap();
        assert_eq!(
            c.lookup("claude-opus-5", "scale").unwrap().otpm,
            Some(Milli::from_units(2_000_000))
        );

        let gemini = Profile::get("gemini").unwrap();
        let c = gemini.catalog(gemini.version(None).unwrap()).unwrap();
        let l = c.lookup("gemini-2.5-pro", "free").unwrap();
        assert_eq!(
            (l.rpm, l.tpm, l.rpd),
            (
                Some(Milli::from_units(5)),
                Some(Milli::from_units(250_000)),
                Some(Milli::from_units(100))
            )
        );
        assert!(c.lookup("gemini-2.5-pro", "2").is_none());
    }
}
