//! The team's account while a run goes on: its credit, what it has paid, and its tier.
//!
//! Money is in nano-dollars (1e-9 USD), integers throughout. Tiers count payments (prepaid
//! credit purchases, paid invoices), never usage: the team moves up at the instant a payment
//! lands and never down. Time is an input; nothing here touches the event queue.

use serde::Serialize;

use crate::catalog::ModelLimits;
use crate::time::{SimDuration, SimTime};

/// How the team pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "billing")]
pub enum Billing {
    /// Usage draws on prepaid credit; with none left a request is refused (no credit). An
    /// optional top-up buys `buy` whenever the balance falls below `below`.
    Prepaid { top_up: Option<TopUp> },
    /// Usage beyond the credit is invoiced every `period` and counts toward the tier when the
    /// invoice is paid, `payment_delay` after it is issued.
    Invoice {
        period: SimDuration,
        payment_delay: SimDuration,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TopUp {
    pub below: u64,
    pub buy: u64,
}

/// One step of the tier ladder: a tier, the payments that unlock it, and every model's caps.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TierStep {
    pub tier: String,
    pub spend: u64,
    /// The caps of each model of the scenario at this tier, by model index.
    #[serde(skip)]
    pub limits: Vec<ModelLimits>,
}

/// The `[account]` section, validated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountSpec {
    /// Payments before the run (nano-USD), counted toward the tier.
    pub spend_to_date: u64,
    /// Credit at the start (nano-USD).
    pub credit: u64,
    #[serde(flatten)]
    pub billing: Billing,
    /// Planned purchases: (time, nano-USD), in time order.
    pub purchases: Vec<(SimDuration, u64)>,
    /// Tiers from the starting one up, in order of spend; the first is the starting tier.
    pub ladder: Vec<TierStep>,
}

/// A payment that landed, and the tier change it caused, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TierChange {
    pub time_ns: u64,
    pub from: String,
    pub to: String,
    /// Payments counted toward the tier at that instant (spend to date included), nano-USD.
    pub paid: u64,
}

/// What the account did over a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AccountTotals {
    /// Usage billed (the cost of succeeded requests), nano-USD.
    pub usage: u64,
    /// Payments during the run, nano-USD.
    pub paid: u64,
    pub purchases: u64,
    pub top_ups: u64,
    pub invoices_paid: u64,
    /// Usage invoiced but not yet paid at the end, plus usage not yet invoiced.
    pub unpaid_usage: u64,
    /// Requests refused for lack of credit.
    pub refused_no_credit: u64,
    pub tier_changes: Vec<TierChange>,
}

/// An account timer: a planned purchase, an invoice issued, an invoice paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// (time, order) so that timers at one instant keep a fixed order.
    Purchase(usize),
    Issue,
    Pay(u64),
}

/// The account while the run goes on.
pub struct Account {
    spec: AccountSpec,
    /// Credit left, nano-USD (negative once in-flight requests overdraw it).
    balance: i128,
    /// Payments counted toward the tier, spend to date included.
    paid_total: u64,
    /// Index into the ladder of the current tier.
    step: usize,
    /// Usage since the last invoice was issued, beyond the credit.
    to_invoice: u64,
    /// Issued invoices not yet paid: (time due, amount), in time order.
    due: Vec<(SimTime, u64)>,
    next_issue: Option<SimTime>,
    next_purchase: usize,
    pub totals: AccountTotals,
}

impl Account {
    pub fn new(spec: &AccountSpec) -> Account {
        let next_issue = match spec.billing {
            Billing::Invoice { period, .. } => Some(SimTime(period.0)),
            Billing::Prepaid { .. } => None,
        };
        Account {
            balance: i128::from(spec.credit),
            paid_total: spec.spend_to_date,
            step: 0,
            to_invoice: 0,
            due: Vec::new(),
            next_issue,
            next_purchase: 0,
            totals: AccountTotals::default(),
            spec: spec.clone(),
        }
    }

    pub fn tier(&self) -> &str {
        &self.spec.ladder[self.step].tier
    }

    /// The caps of every model at the current tier.
    pub fn limits(&self) -> &[ModelLimits] {
        &self.spec.ladder[self.step].limits
    }

    /// Whether a request may be served: a prepaid account needs credit left.
    pub fn has_credit(&self) -> bool {
        match self.spec.billing {
            Billing::Prepaid { .. } => self.balance > 0,
            Billing::Invoice { .. } => true,
        }
    }

    pub fn refuse(&mut self) {
        self.totals.refused_no_credit += 1;
    }

    /// The credit left, nano-USD.
    pub fn balance(&self) -> i128 {
        self.balance
    }

    /// Bills a succeeded request; returns true if a payment moved the tier up.
    pub fn bill(&mut self, now: SimTime, cost: u64) -> bool {
        self.totals.usage += cost;
        let from_credit = i128::from(cost).min(self.balance.max(0));
        self.balance -= i128::from(cost);
        let mut moved = false;
        match self.spec.billing {
            Billing::Prepaid { top_up: Some(t) } => {
                while self.balance < i128::from(t.below) {
                    self.balance += i128::from(t.buy);
                    self.totals.top_ups += 1;
                    moved |= self.pay(now, t.buy);
                }
            }
            Billing::Prepaid { top_up: None } => {}
            Billing::Invoice { .. } => {
                // Credit pays first; the rest waits for the next invoice.
                let rest = u64::try_from(i128::from(cost) - from_credit).unwrap_or(0);
                self.balance = self.balance.max(0);
                self.to_invoice += rest;
            }
        }
        moved
    }

    /// A payment lands at `now`; returns true if it moved the tier up.
    fn pay(&mut self, now: SimTime, amount: u64) -> bool {
        self.totals.paid += amount;
        self.paid_total += amount;
        let mut to = self.step;
        while to + 1 < self.spec.ladder.len() && self.spec.ladder[to + 1].spend <= self.paid_total {
            to += 1;
        }
        if to == self.step {
            return false;
        }
        self.totals.tier_changes.push(TierChange {
            time_ns: now.0,
            from: self.spec.ladder[self.step].tier.clone(),
            to: self.spec.ladder[to].tier.clone(),
            paid: self.paid_total,
        });
        self.step = to;
        true
    }

    /// When the next timer (a planned purchase, an invoice issued or paid) fires.
    pub fn next_timer(&self) -> Option<SimTime> {
        let purchase = self
            .spec
            .purchases
            .get(self.next_purchase)
            .map(|(at, _)| SimTime(at.0));
        [purchase, self.next_issue, self.due.first().map(|d| d.0)]
            .into_iter()
            .flatten()
            .min()
    }

    /// Fires every timer due at or before `now`; returns true if the tier moved up.
    pub fn fire(&mut self, now: SimTime) -> bool {
        let mut moved = false;
        loop {
            let mut next: Option<(SimTime, Timer)> = None;
            let mut consider = |t: SimTime, k: Timer| {
                if t <= now && next.is_none_or(|(nt, nk)| (t, k) < (nt, nk)) {
                    next = Some((t, k));
                }
            };
            if let Some((at, _)) = self.spec.purchases.get(self.next_purchase) {
                consider(SimTime(at.0), Timer::Purchase(self.next_purchase));
            }
            if let Some(t) = self.next_issue {
                consider(t, Timer::Issue);
            }
            if let Some(&(t, amount)) = self.due.first() {
                consider(t, Timer::Pay(amount));
            }
            let Some((_, timer)) = next else {
                return moved;
            };
            match timer {
                Timer::Purchase(i) => {
                    let usd = self.spec.purchases[i].1;
                    self.next_purchase += 1;
                    self.totals.purchases += 1;
                    self.balance += i128::from(usd);
                    moved |= self.pay(now, usd);
                }
                Timer::Issue => {
                    let Billing::Invoice {
                        period,
                        payment_delay,
                    } = self.spec.billing
                    else {
                        unreachable!("only invoice billing issues invoices")
                    };
                    let issued = self.next_issue.expect("an issue timer");
                    if self.to_invoice > 0 {
                        self.due
                            .push((issued.after(payment_delay), self.to_invoice));
                        self.to_invoice = 0;
                    }
                    self.next_issue = Some(issued.after(period));
                }
                Timer::Pay(amount) => {
                    self.due.remove(0);
                    self.totals.invoices_paid += 1;
                    moved |= self.pay(now, amount);
                }
            }
        }
    }

    /// Closes the books at the end of a run.
    pub fn finish(&mut self) -> AccountTotals {
        self.totals.unpaid_usage = self.to_invoice + self.due.iter().map(|d| d.1).sum::<u64>();
        self.totals.clone()
    }
}
