//! The `[account]` section: spend to date, billing, credit and purchases.

use super::*;
use crate::account::{AccountSpec, Billing, TierStep, TopUp};

#[derive(Deserialize, schemars::JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccount {
    spend_to_date: Option<f64>,
    billing: String,
    credit: Option<f64>,
    top_up: Option<RawTopUp>,
    invoice_period: Option<Dur>,
    payment_delay: Option<Dur>,
    #[serde(default)]
    purchases: Vec<RawPurchase>,
}

#[derive(Deserialize, schemars::JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
struct RawTopUp {
    below: f64,
    buy: f64,
}

#[derive(Deserialize, schemars::JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
struct RawPurchase {
    at: Dur,
    usd: f64,
}

/// Most money accepted in one setting: a billion dollars.
const MAX_USD: f64 = 1e9;

/// USD (at most 9 decimals) to nano-USD.
pub(super) fn usd(ctx: &Ctx, path: &str, x: f64, positive: bool) -> Result<u64, InputError> {
    let ok = x.is_finite() && x <= MAX_USD && if positive { x > 0.0 } else { x >= 0.0 };
    if !ok {
        return Err(ctx.err(
            path,
            format!(
                "value {} is not allowed: an amount in USD {} and at most {}",
                fmt_num(x),
                if positive { "> 0" } else { ">= 0" },
                fmt_num(MAX_USD)
            ),
        ));
    }
    Ok((x * 1e9).round() as u64)
}

impl RawAccount {
    pub(super) fn spend_to_date(&self, ctx: &Ctx) -> Result<u64, InputError> {
        usd(
            ctx,
            "account.spend_to_date",
            self.spend_to_date.unwrap_or(0.0),
            false,
        )
    }
}

/// The account; `ladder` is every tier from the starting one up, in order of spend.
pub(super) fn validate_account(
    raw: &RawAccount,
    ctx: &Ctx,
    ladder: Vec<TierStep>,
) -> Result<AccountSpec, InputError> {
    let spend_to_date = raw.spend_to_date(ctx)?;
    let credit = usd(ctx, "account.credit", raw.credit.unwrap_or(0.0), false)?;
    let billing = match raw.billing.as_str() {
        "prepaid" => {
            if raw.invoice_period.is_some() || raw.payment_delay.is_some() {
                return Err(ctx.err(
                    "account.billing",
                    "invoice_period and payment_delay apply only with billing = \"invoice\"",
                ));
            }
            let top_up = match &raw.top_up {
                Some(t) => {
                    let below = usd(ctx, "account.top_up.below", t.below, true)?;
                    let buy = usd(ctx, "account.top_up.buy", t.buy, true)?;
                    Some(TopUp { below, buy })
                }
                None => None,
            };
            if top_up.is_none() && credit == 0 && raw.purchases.is_empty() {
                return Err(ctx.err(
                    "account.credit",
                    "a prepaid account with no credit, no top_up and no purchases refuses every request; give credit = USD, a top_up or purchases",
                ));
            }
            Billing::Prepaid { top_up }
        }
        "invoice" => {
            if raw.top_up.is_some() {
                return Err(ctx.err(
                    "account.top_up",
                    "top_up applies only with billing = \"prepaid\"",
                ));
            }
            let period = raw
                .invoice_period
                .map_or(SimDuration::from_secs(30 * 86_400), |d| d.0);
            if period == SimDuration::ZERO {
                return Err(ctx.err(
                    "account.invoice_period",
                    "value \"0s\" is not allowed: the invoice period must be > 0, e.g. \"30d\"",
                ));
            }
            Billing::Invoice {
                period,
                payment_delay: raw.payment_delay.map_or(SimDuration::ZERO, |d| d.0),
            }
        }
        other => {
            return Err(ctx.err(
                "account.billing",
                format!("unknown value {other:?}; allowed: \"prepaid\", \"invoice\""),
            ));
        }
    };
    let mut purchases = Vec::new();
    for (i, p) in raw.purchases.iter().enumerate() {
        let amount = usd(ctx, &format!("account.purchases[{i}].usd"), p.usd, true)?;
        if let Some((prev, _)) = purchases.last()
            && p.at.0 < *prev
        {
            return Err(ctx.err(
                &format!("account.purchases[{i}].at"),
                format!("value \"{}\" is not allowed: purchases are listed in time order (the one before is at \"{prev}\")", p.at.0),
            ));
        }
        purchases.push((p.at.0, amount));
    }
    Ok(AccountSpec {
        spend_to_date,
        credit,
        billing,
        purchases,
        ladder,
    })
}
