//! `ratesim prices`: the price catalog.

use std::io::Write;

use super::*;
use crate::prices::PriceCatalog;

pub(super) fn prices(args: &PricesArgs, out: &mut dyn Write) -> Result<()> {
    let mut catalog = PriceCatalog::embedded();
    if let Some(f) = &args.prices_file {
        catalog = catalog.with_file(f)?;
    }
    if let Some(m) = &args.model
        && catalog.lookup(m).is_none()
        && !catalog.media.iter().any(|x| x.model == *m)
    {
        return Err(Error::Usage(format!(
            "--model: no prices for {m:?}; priced models: {}",
            catalog
                .models
                .iter()
                .map(|(m, _)| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let keep = |m: &str| args.model.as_ref().is_none_or(|x| x == m);
    let mut s = format!(
        "token prices, USD per million tokens: {} ({})\n\n{:<30} {:>8} {:>8} {:>8}   {}\n",
        catalog.provenance.source,
        catalog.provenance.date,
        "model",
        "input",
        "cached",
        "output",
        "long context (all tokens of a request whose prompt reaches the threshold)"
    );
    for (m, p) in catalog.models.iter().filter(|(m, _)| keep(m)) {
        let long = p.long_context.map_or("-".to_string(), |l| {
            format!(
                "from {} prompt tokens: {} / {} / {}",
                l.from, l.rates.input, l.rates.cached_input, l.rates.output
            )
        });
        s.push_str(&format!(
            "{:<30} {:>8} {:>8} {:>8}   {long}\n",
            m, p.standard.input, p.standard.cached_input, p.standard.output
        ));
    }
    s.push_str(&format!(
        "\nmedia prices, USD per unit: {} ({})\n{:<28} {:<10} {:<8} {:>8}  unit\n",
        catalog.media_provenance.source,
        catalog.media_provenance.date,
        "model",
        "direction",
        "variant",
        "usd"
    ));
    for m in catalog.media.iter().filter(|x| keep(&x.model)) {
        s.push_str(&format!(
            "{:<28} {:<10} {:<8} {:>8}  {}\n",
            m.model, m.direction, m.variant, m.usd, m.unit
        ));
    }
    s.push_str("\nCached prompt tokens are billed at the cached rate; image tokens as prompt tokens;\ncompletion and reasoning tokens at the output rate. A 429 costs nothing.\n");
    emit(out, &s)
}
