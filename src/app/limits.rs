//! `ratesim limits`: the limits and tiers catalog.

use std::io::Write;

use super::*;

pub(super) fn limits(args: &LimitsArgs, out: &mut dyn Write) -> Result<()> {
    let mut catalog = Catalog::embedded();
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
        "limits: {} ({})\n\n{:<30} {:<9} {:<6} {:>8} {:>12}\n",
        catalog.limits_provenance.source,
        catalog.limits_provenance.date,
        "model",
        "kind",
        "tier",
        "rps",
        "tpm"
    );
    for r in &catalog.limits {
        let tier_ok = match (&args.tier, &r.tier) {
            (None, _) | (_, TierSel::All) => true,
            (Some(t), TierSel::Named(n)) => t == n,
        };
        if args.model.as_ref().is_some_and(|m| *m != r.model) || !tier_ok {
            continue;
        }
        let tpm = r.tpm.map_or("-".to_string(), |t| t.to_string());
        s.push_str(&format!(
            "{:<30} {:<9} {:<6} {:>8} {:>12}\n",
            r.model, r.kind, r.tier, r.rps, tpm
        ));
    }
    s.push_str(&format!(
        "\ntiers: {} ({})\n{:<12} {:>22}\n",
        catalog.tiers_provenance.source,
        catalog.tiers_provenance.date,
        "tier",
        "cumulative spend (USD)"
    ));
    for t in &catalog.tiers {
        if args.tier.as_ref().is_some_and(|x| *x != t.tier) {
            continue;
        }
        let spend = t
            .spend_usd
            .map_or("by request".to_string(), |v| v.to_string());
        s.push_str(&format!("{:<12} {:>22}\n", t.tier, spend));
    }
    emit(out, &s)
}
