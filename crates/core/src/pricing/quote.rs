//! Quotes: priced lines with their explanation, warnings, adjustments and totals, and
//! the bridge to [`PricingRule`](crate::rules::PricingRule)s.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::PricingError;
use super::activity::UnitOfMeasure;
use super::tiers::{AppliedRate, CliffSide};
use crate::money::{Currency, Money, RoundingLevel, RoundingPolicy};
use crate::num;
use crate::rules::{PriceAdjustment, PricingInput, PricingLine, PricingRule};

/// One priced activity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuoteLine {
    /// Activity name.
    pub activity: String,
    /// Unit of measure.
    pub unit: UnitOfMeasure,
    /// Quantity performed.
    pub quantity: Decimal,
    /// Quantity billed: `max(quantity, minimum commitment)`.
    pub billed_quantity: Decimal,
    /// The rate(s) applied to slices of the billed quantity.
    pub rates: Vec<AppliedRate>,
    /// Σ slices, unrounded.
    pub exact_amount: Decimal,
    /// The line amount: rounded to minor units under per-line rounding, exact under
    /// per-total rounding.
    pub amount: Money,
    /// How the amount was computed, e.g.
    /// `18,000 pick_line: 10,000 × 0.70 + 8,000 × 0.60 = 11,800.00`.
    pub explanation: String,
}

/// A labelled amount added to a quote by a pricing rule (or by hand).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AdjustmentLine {
    /// The rule that produced it.
    pub rule: String,
    /// The rule's label, e.g. "volume rebate 2 % above 50,000".
    pub label: String,
    /// The amount as the rule returned it, unrounded.
    pub exact_amount: Decimal,
    /// Rounded under per-line rounding, exact under per-total rounding.
    pub amount: Money,
}

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The billed quantity sits on an all-units cliff (see the [`pricing`](super) docs).
    AllUnitsCliff(CliffSide),
    /// The quantity performed was below the minimum commitment; the shortfall is billed.
    MinimumShortfall,
}

/// A warning on a quote: the activity, the kind, and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuoteWarning {
    /// Activity concerned.
    pub activity: String,
    /// Kind of warning.
    pub kind: WarningKind,
    /// Human-readable explanation.
    pub message: String,
}

/// A priced quote. The totals always follow the rounding policy:
/// per line, `subtotal` = Σ rounded line amounts and `total` = subtotal + Σ rounded
/// adjustments; per total, both are the rounded sum of the unrounded amounts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quote {
    currency: Currency,
    rounding: RoundingPolicy,
    lines: Vec<QuoteLine>,
    #[serde(default)]
    adjustments: Vec<AdjustmentLine>,
    #[serde(default)]
    warnings: Vec<QuoteWarning>,
    subtotal: Money,
    total: Money,
}

/// `value` with its scale raised to `dp` (trailing zeros), for amounts at minor units.
pub(crate) fn with_scale(value: Decimal, dp: u32) -> Decimal {
    let mut v = value;
    if v.scale() < dp {
        v.rescale(dp);
    }
    v
}

impl Quote {
    pub(crate) fn new(
        currency: Currency,
        rounding: RoundingPolicy,
        lines: Vec<QuoteLine>,
        warnings: Vec<QuoteWarning>,
    ) -> Result<Quote, PricingError> {
        let mut q = Quote {
            currency,
            rounding,
            lines,
            adjustments: Vec::new(),
            warnings,
            subtotal: Money::zero(currency),
            total: Money::zero(currency),
        };
        q.recompute()?;
        Ok(q)
    }

    fn round(&self, value: Decimal) -> Decimal {
        let dp = self.currency.minor_units();
        with_scale(self.rounding.mode.round(value, dp), dp)
    }

    fn recompute(&mut self) -> Result<(), PricingError> {
        let op = "quote total";
        let (subtotal, total) = match self.rounding.level {
            RoundingLevel::Line => {
                let sub = num::sum(self.lines.iter().map(|l| l.amount.amount()), op)?;
                let adj = num::sum(self.adjustments.iter().map(|a| a.amount.amount()), op)?;
                (self.round(sub), self.round(num::add(sub, adj, op)?))
            }
            RoundingLevel::Total => {
                let sub = num::sum(self.lines.iter().map(|l| l.exact_amount), op)?;
                let adj = num::sum(self.adjustments.iter().map(|a| a.exact_amount), op)?;
                (self.round(sub), self.round(num::add(sub, adj, op)?))
            }
        };
        self.subtotal = Money::new(subtotal, self.currency);
        self.total = Money::new(total, self.currency);
        Ok(())
    }

    /// The quote currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The rounding policy the quote was priced under.
    pub fn rounding(&self) -> RoundingPolicy {
        self.rounding
    }

    /// Priced lines in card order.
    pub fn lines(&self) -> &[QuoteLine] {
        &self.lines
    }

    /// Adjustment lines in the order they were added.
    pub fn adjustments(&self) -> &[AdjustmentLine] {
        &self.adjustments
    }

    /// Warnings (all-units cliffs, minimum shortfalls).
    pub fn warnings(&self) -> &[QuoteWarning] {
        &self.warnings
    }

    /// The warning messages alone, in order.
    pub fn warning_messages(&self) -> Vec<&str> {
        self.warnings.iter().map(|w| w.message.as_str()).collect()
    }

    /// The total of the priced lines before adjustments, at minor units.
    pub fn subtotal(&self) -> Money {
        self.subtotal
    }

    /// The total including adjustments, at minor units.
    pub fn total(&self) -> Money {
        self.total
    }

    /// The line for `activity`, if priced.
    pub fn line(&self, activity: &str) -> Option<&QuoteLine> {
        self.lines.iter().find(|l| l.activity == activity)
    }

    /// The amount of `activity`'s line.
    ///
    /// # Errors
    /// [`PricingError::NotInQuote`] when the quote has no line for it.
    pub fn amount(&self, activity: &str) -> Result<Money, PricingError> {
        self.line(activity)
            .map(|l| l.amount)
            .ok_or_else(|| PricingError::NotInQuote {
                activity: activity.to_owned(),
            })
    }

    /// The quote as a pricing rule sees it: lines in card order and the current total
    /// (including adjustments already applied).
    pub fn to_pricing_input(&self) -> PricingInput {
        PricingInput {
            currency: self.currency.code().to_owned(),
            lines: self
                .lines
                .iter()
                .map(|l| PricingLine {
                    activity: l.activity.clone(),
                    quantity: l.quantity,
                    billed_quantity: l.billed_quantity,
                    amount: l.amount.amount(),
                })
                .collect(),
            total: self.total.amount(),
        }
    }

    /// Adds one labelled adjustment (negative for a rebate) under the rounding policy.
    ///
    /// # Errors
    /// Overflow of the total.
    pub fn add_adjustment(&mut self, rule: &str, adjustment: PriceAdjustment) -> Result<(), PricingError> {
        self.push_adjustments(rule_batch(rule, vec![adjustment]))
    }

    fn push_adjustments(&mut self, batch: Vec<(String, PriceAdjustment)>) -> Result<(), PricingError> {
        let before = self.adjustments.len();
        let dp = self.currency.minor_units();
        for (rule, adj) in batch {
            let amount = match self.rounding.level {
                RoundingLevel::Line => with_scale(self.rounding.mode.round(adj.amount, dp), dp),
                RoundingLevel::Total => adj.amount,
            };
            self.adjustments.push(AdjustmentLine {
                rule,
                label: adj.label,
                exact_amount: adj.amount,
                amount: Money::new(amount, self.currency),
            });
        }
        if let Err(e) = self.recompute() {
            self.adjustments.truncate(before);
            // The previous totals were computable, so this cannot fail again.
            let _ = self.recompute();
            return Err(e);
        }
        Ok(())
    }

    /// Runs `rules` on this quote and adds their adjustments as labelled lines, then
    /// updates the totals. Every rule sees the same [`PricingInput`] (built once): the
    /// quote as it was before this call, so the result does not depend on rule order.
    /// If any rule fails, the quote is left unchanged.
    ///
    /// # Errors
    /// [`PricingError::Rule`] naming the failing rule, overflow.
    ///
    /// ```
    /// use kam_core::pricing::RateCard;
    /// use kam_core::rules::{FnPricingRule, PriceAdjustment, PricingRule};
    /// use rust_decimal::Decimal;
    ///
    /// let mut card = RateCard::from_code("EUR")?;
    /// card.flat("order", Decimal::new(210, 2))?;
    /// let mut q = card.price([("order", Decimal::from(2400))])?;
    /// let rebate = FnPricingRule::new("rebate", |i: &kam_core::rules::PricingInput| {
    ///     Ok(vec![PriceAdjustment { label: "1 % rebate".into(), amount: -i.total / Decimal::from(100) }])
    /// });
    /// q.apply_rules(&[&rebate as &dyn PricingRule])?;
    /// assert_eq!(q.total().amount(), Decimal::new(498960, 2));
    /// # Ok::<(), kam_core::pricing::PricingError>(())
    /// ```
    pub fn apply_rules(&mut self, rules: &[&dyn PricingRule]) -> Result<(), PricingError> {
        if rules.is_empty() {
            return Ok(());
        }
        let input = self.to_pricing_input();
        let mut batch = Vec::new();
        for rule in rules {
            let adjustments = rule.adjust(&input)?;
            batch.extend(rule_batch(rule.name(), adjustments));
        }
        self.push_adjustments(batch)
    }
}

fn rule_batch(rule: &str, adjustments: Vec<PriceAdjustment>) -> Vec<(String, PriceAdjustment)> {
    adjustments.into_iter().map(|a| (rule.to_owned(), a)).collect()
}
