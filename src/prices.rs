//! Token prices as data, and the exact cost of a request.
//!
//! Prices are USD per million tokens with at most three decimals, held as [`Milli`]: a price
//! of `p` thousandths of a dollar per million tokens is exactly `p` nano-dollars per token, so
//! a request's cost is an integer number of nano-dollars (1e-9 USD) and sums never drift.

use std::path::Path;

use serde::Serialize;

use crate::catalog::{
    Milli, Provenance, check_header, csv_error, csv_reader, provenance, read_text,
};
use crate::error::{InputError, Location};
use crate::workload::Size;

const EMBEDDED_PRICES: &str = include_str!("../data/xai-prices.csv");
const EMBEDDED_MEDIA: &str = include_str!("../data/xai-media-prices.csv");
const EMBEDDED_PRICES_NAME: &str = "<embedded>/xai-prices.csv";
const EMBEDDED_MEDIA_NAME: &str = "<embedded>/xai-media-prices.csv";

/// Nano-dollars per dollar.
pub const NANOS_PER_USD: f64 = 1e9;

/// Nano-dollars as an exact decimal of dollars: `0.019550000`.
pub fn usd_exact(nano: u64) -> String {
    format!("{}.{:09}", nano / 1_000_000_000, nano % 1_000_000_000)
}

/// Nano-dollars to dollars (for rates and charts; totals are kept exact).
pub fn usd(nano: u64) -> f64 {
    nano as f64 / NANOS_PER_USD
}

/// The rates of one band, USD per million tokens (= nano-USD per token).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rates {
    pub input: Milli,
    pub cached_input: Milli,
    pub output: Milli,
}

/// The long-context band: a request whose prompt (text, cached and image tokens) reaches
/// `from` tokens is billed at these rates for all of its tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LongContext {
    pub from: u64,
    #[serde(flatten)]
    pub rates: Rates,
}

/// A model's token prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TokenPrices {
    #[serde(flatten)]
    pub standard: Rates,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_context: Option<LongContext>,
}

/// A request's cost by token kind, in nano-dollars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Cost {
    /// Prompt tokens that were not cached.
    pub input: u64,
    pub cached_input: u64,
    /// Image tokens, billed as prompt tokens.
    pub image: u64,
    pub completion: u64,
    pub reasoning: u64,
}

impl Cost {
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.cached_input)
            .saturating_add(self.image)
            .saturating_add(self.completion)
            .saturating_add(self.reasoning)
    }
}

fn times(tokens: u64, rate: Milli) -> u64 {
    u64::try_from(u128::from(tokens) * u128::from(rate.0)).unwrap_or(u64::MAX)
}

impl TokenPrices {
    /// The cost of a request of this size that succeeded.
    pub fn cost(&self, size: &Size) -> Cost {
        let image = u64::from(size.image);
        let cached = u64::from(size.cached).min(size.prompt);
        let prompt = size.prompt.saturating_add(image);
        let r = match self.long_context {
            Some(l) if prompt >= l.from => l.rates,
            _ => self.standard,
        };
        Cost {
            input: times(size.prompt - cached, r.input),
            cached_input: times(cached, r.cached_input),
            image: times(image, r.input),
            completion: times(size.completion, r.output),
            reasoning: times(u64::from(size.reasoning), r.output),
        }
    }
}

/// A price per unit of an image or video model (shown by `ratesim prices`; no workload of
/// ratesim generates media yet).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MediaPrice {
    pub model: String,
    pub direction: String,
    pub variant: String,
    pub usd: Milli,
    pub unit: String,
}

/// Token prices per model, and media prices, with their provenance.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceCatalog {
    pub provenance: Provenance,
    pub models: Vec<(String, TokenPrices)>,
    pub media_provenance: Provenance,
    pub media: Vec<MediaPrice>,
}

impl PriceCatalog {
    /// xAI's published prices, embedded in the binary.
    pub fn embedded() -> PriceCatalog {
        let (provenance, models) = parse_prices(EMBEDDED_PRICES_NAME, EMBEDDED_PRICES)
            .expect("embedded price table is valid (checked by a unit test)");
        let (media_provenance, media) = parse_media(EMBEDDED_MEDIA_NAME, EMBEDDED_MEDIA)
            .expect("embedded media price table is valid (checked by a unit test)");
        PriceCatalog {
            provenance,
            models,
            media_provenance,
            media,
        }
    }

    /// Token prices from a table's text (another provider's: no media prices).
    pub fn from_text(name: &str, text: &str) -> Result<PriceCatalog, InputError> {
        let (provenance, models) = parse_prices(name, text)?;
        Ok(PriceCatalog {
            provenance,
            models,
            media_provenance: Provenance {
                source: "none (this provider's media prices are not bundled)".into(),
                date: "-".into(),
            },
            media: Vec::new(),
        })
    }

    /// Replaces the token prices with those of a user file (same columns).
    pub fn with_file(mut self, path: &Path) -> Result<PriceCatalog, InputError> {
        let name = path.display().to_string();
        let text = read_text(path)?;
        let (prov, rows) = parse_prices(&name, &text)?;
        self.provenance = prov;
        self.models = rows;
        Ok(self)
    }

    pub fn lookup(&self, model: &str) -> Option<TokenPrices> {
        self.models
            .iter()
            .find(|(m, _)| m == model)
            .map(|(_, p)| *p)
    }
}

/// The columns of a token price table.
pub const PRICE_COLUMNS: [&str; 8] = [
    "model",
    "input",
    "cached_input",
    "output",
    "long_context_from",
    "long_input",
    "long_cached_input",
    "long_output",
];

fn parse_prices(
    name: &str,
    text: &str,
) -> Result<(Provenance, Vec<(String, TokenPrices)>), InputError> {
    let mut rdr = csv_reader(text);
    check_header(name, &mut rdr, &PRICE_COLUMNS)?;
    let mut rows: Vec<(String, TokenPrices)> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(name, &e))?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let bad = |col: &str, value: &str, allowed: &str| {
            InputError::new(name, format!("bad value `{value}`: {allowed}"))
                .at(Location::line(line))
                .field(format!("column `{col}`"))
        };
        let price = |i: usize| -> Result<Milli, InputError> {
            Milli::parse(&rec[i]).ok_or_else(|| {
                bad(
                    PRICE_COLUMNS[i],
                    &rec[i],
                    "USD per million tokens: a number >= 0 with at most 3 decimals",
                )
            })
        };
        let model = rec[0].to_string();
        if model.is_empty() {
            return Err(bad("model", "", "a model name is required"));
        }
        if rows.iter().any(|(m, _)| *m == model) {
            return Err(bad("model", &model, "each model has one row"));
        }
        let standard = Rates {
            input: price(1)?,
            cached_input: price(2)?,
            output: price(3)?,
        };
        let long_empty = (4..8).all(|i| rec[i].is_empty());
        let long_context = if long_empty {
            None
        } else {
            let from = rec[4]
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    bad(
                        "long_context_from",
                        &rec[4],
                        "the prompt tokens from which the long-context rates apply: an integer > 0 (or leave all four long_ columns empty)",
                    )
                })?;
            Some(LongContext {
                from,
                rates: Rates {
                    input: price(5)?,
                    cached_input: price(6)?,
                    output: price(7)?,
                },
            })
        };
        rows.push((
            model,
            TokenPrices {
                standard,
                long_context,
            },
        ));
    }
    if rows.is_empty() {
        return Err(InputError::new(name, "the price table has no rows"));
    }
    Ok((provenance(name, text), rows))
}

fn parse_media(name: &str, text: &str) -> Result<(Provenance, Vec<MediaPrice>), InputError> {
    let mut rdr = csv_reader(text);
    check_header(
        name,
        &mut rdr,
        &["model", "direction", "variant", "usd", "unit"],
    )?;
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(name, &e))?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let usd = Milli::parse(&rec[3]).ok_or_else(|| {
            InputError::new(
                name,
                format!("bad value `{}`: USD >= 0 with at most 3 decimals", &rec[3]),
            )
            .at(Location::line(line))
            .field("column `usd`")
        })?;
        rows.push(MediaPrice {
            model: rec[0].to_string(),
            direction: rec[1].to_string(),
            variant: rec[2].to_string(),
            usd,
            unit: rec[4].to_string(),
        });
    }
    Ok((provenance(name, text), rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(prompt: u64, cached: u32, image: u32, completion: u64, reasoning: u32) -> Size {
        Size {
            prompt,
            completion,
            image,
            cached,
            reasoning,
            images: 0,
        }
    }

    #[test]
    fn the_embedded_tables_parse() {
        let c = PriceCatalog::embedded();
        assert_eq!(c.provenance.date, "2026-06-12");
        assert!(c.lookup("grok-4.3").is_some());
        assert!(c.media.iter().any(|m| m.model == "grok-imagine-video"));
    }

    #[test]
    fn every_token_kind_at_its_rate_by_hand() {
        // grok-4.3: $1.25 input, $0.20 cached, $2.50 output per million tokens.
        let p = PriceCatalog::embedded().lookup("grok-4.3").unwrap();
        // 10,000 prompt tokens of which 4,000 cached, 2 images of 1,000 tokens, 500
        // completion and 3,000 reasoning tokens:
        // 6,000 x 1,250 + 4,000 x 200 + 2,000 x 1,250 + 500 x 2,500 + 3,000 x 2,500 nano-USD.
        let c = p.cost(&size(10_000, 4_000, 2_000, 500, 3_000));
        assert_eq!(c.input, 7_500_000);
        assert_eq!(c.cached_input, 800_000);
        assert_eq!(c.image, 2_500_000);
        assert_eq!(c.completion, 1_250_000);
        assert_eq!(c.reasoning, 7_500_000);
        assert_eq!(c.total(), 19_550_000); // $0.01955
    }

    #[test]
    fn a_prompt_reaching_200k_bills_every_token_at_the_long_rate() {
        let p = PriceCatalog::embedded().lookup("grok-4.3").unwrap();
        let below = p.cost(&size(199_999, 0, 0, 1_000, 0));
        assert_eq!(below.total(), 199_999 * 1_250 + 1_000 * 2_500);
        let at = p.cost(&size(200_000, 0, 0, 1_000, 0));
        assert_eq!(at.total(), 200_000 * 2_500 + 1_000 * 5_000);
        // Image tokens count toward the prompt that reaches the threshold.
        let with_image = p.cost(&size(199_000, 0, 1_000, 0, 0));
        assert_eq!(with_image.total(), 200_000 * 2_500);
    }

    #[test]
    fn bad_price_rows_are_refused_with_their_line_and_column() {
        let head = PRICE_COLUMNS.join(",");
        for (row, col) in [
            ("m,1.2345,0.2,2.5,,,,", "input"),
            ("m,-1,0.2,2.5,,,,", "input"),
            ("m,1,0.2,2.5,0,2,0.4,5", "long_context_from"),
            ("m,1,0.2,2.5,200000,2,,5", "long_cached_input"),
            (",1,0.2,2.5,,,,", "model"),
        ] {
            let e = parse_prices("p.csv", &format!("{head}\n{row}\n")).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("p.csv") && text.contains(col),
                "{row}: {text}"
            );
            assert!(text.contains(":2"), "{row}: no line in {text}");
        }
    }
}
