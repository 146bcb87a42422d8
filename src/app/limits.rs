//! `ratesim limits`: a provider profile, its tables (limits and tiers) and its assumptions.

use std::io::Write;

use super::*;
use crate::catalog::CAP_COLUMNS;
use crate::provider::{PROVIDERS, Profile};

pub(super) fn limits(args: &LimitsArgs, out: &mut dyn Write) -> Result<()> {
    let Some(profile) = Profile::get(&args.provider) else {
        return Err(Error::Usage(format!(
            "--provider: unknown provider {:?}; providers: {}",
            args.provider,
            PROVIDERS.join(", ")
        )));
    };
    let Some(version) = profile.version(args.limits_version.as_deref()) else {
        return Err(Error::Usage(format!(
            "--limits-version: unknown version {:?} of the {} tables; versions: {}",
            args.limits_version.as_deref().unwrap_or(""),
            profile.name,
            profile.version_names()
        )));
    };
    let mut catalog = profile.catalog(version)?;
    if let Some(f) = &args.limits_file {
        catalog = catalog.with_limits_file(f)?;
    }
    if let Some(m) = &args.model
        && !catalog.models().contains(&m.as_str())
    {
        return Err(Error::Usage(format!(
            "--model: unknown model {m:?}; known models: {}",
            catalog.models().join(", ")
        )));
    }
    if let Some(t) = &args.tier
        && !catalog.is_known_tier(t)
    {
        return Err(Error::Usage(format!(
            "--tier: unknown tier {t:?}; tiers: {}",
            catalog.tier_names().join(", ")
        )));
    }
    let mut s = format!(
        "provider: {} ({}), tables version {} ({})\nversions: {}\n\nsettings of the profile (a scenario's [server] replaces any of them):\n",
        profile.name,
        profile.title,
        version.id,
        version.note,
        profile.version_names()
    );
    for a in &profile.assumptions {
        s.push_str(&format!("  {} = {}\n      {}\n", a.setting, a.value, a.why));
    }
    // The cap columns that some row uses, in the table's order.
    let caps: Vec<&str> = CAP_COLUMNS
        .iter()
        .copied()
        .filter(|c| catalog.limits.iter().any(|r| r.limits.get(c).is_some()))
        .collect();
    let with_kind = catalog.limits.iter().any(|r| !r.kind.is_empty());
    s.push_str(&format!(
        "\nlimits: {} ({})\n{:<30} {}{:<6}",
        catalog.limits_provenance.source,
        catalog.limits_provenance.date,
        "model",
        if with_kind {
            format!("{:<9} ", "kind")
        } else {
            String::new()
        },
        "tier"
    ));
    for c in &caps {
        s.push_str(&format!(" {:>12}", c));
    }
    s.push('\n');
    for r in &catalog.limits {
        let tier_ok = match (&args.tier, &r.tier) {
            (None, _) | (_, TierSel::All) => true,
            (Some(t), TierSel::Named(n)) => t == n,
        };
        if args.model.as_ref().is_some_and(|m| *m != r.model) || !tier_ok {
            continue;
        }
        s.push_str(&format!(
            "{:<30} {}{:<6}",
            r.model,
            if with_kind {
                format!("{:<9} ", r.kind)
            } else {
                String::new()
            },
            r.tier
        ));
        for c in &caps {
            let v = r.limits.get(c).map_or("-".to_string(), |v| v.to_string());
            s.push_str(&format!(" {v:>12}"));
        }
        let own_date =
            !r.date.is_empty() && !catalog.limits_provenance.date.starts_with(r.date.as_str());
        if !r.label.is_empty() || own_date {
            let mut extra = Vec::new();
            if !r.label.is_empty() {
                extra.push(format!("source name: {}", r.label));
            }
            if own_date {
                extra.push(format!("date: {}", r.date));
            }
            s.push_str(&format!("  ({})", extra.join("; ")));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "\ntiers: {} ({})\n{:<12} {:>22}  {}\n",
        catalog.tiers_provenance.source,
        catalog.tiers_provenance.date,
        "tier",
        "cumulative spend (USD)",
        "notes"
    ));
    for t in &catalog.tiers {
        if args.tier.as_ref().is_some_and(|x| *x != t.tier) {
            continue;
        }
        // Without a spend threshold: by request (xAI's enterprise), or as the notes say.
        let spend = t.spend_usd.map_or(
            if t.notes.is_empty() {
                "by request".to_string()
            } else {
                "none published".to_string()
            },
            |v| v.to_string(),
        );
        s.push_str(&format!("{:<12} {:>22}  {}\n", t.tier, spend, t.notes));
    }
    emit(out, &s)
}
