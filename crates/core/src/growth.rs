//! Growth pipelines: opportunities, weighted pipeline, gap to target, the base-book
//! roll-forward, the **exact** distribution of a small pipeline's won value, and exact
//! decimal percentiles.
//!
//! Everything here is exact `Decimal` arithmetic. The exact distribution is built by
//! convolving each independent unit's outcomes (a deal: lose → 0, win → value; a group of
//! deals that win or lose together: see [`ExactDistribution::comonotone_group`]); equal
//! totals are merged, so the support stays small even for a few dozen deals with round
//! values. Quantiles are inverse-CDF: the smallest `x` with `F(x) ≥ q` (`q = 0` gives the
//! smallest outcome with positive probability).
//!
//! This module is **not** a simulator: random draws, value distributions and the monthly
//! model live in `kam-sim`, which uses these types and the same quantile convention.
//!
//! ```
//! use kam_core::growth::Pipeline;
//! use rust_decimal::Decimal;
//!
//! // Source: shared/vectors/growth.toml [pipeline]
//! let mut p = Pipeline::new();
//! p.deal("Leipzig inbound", Decimal::from(1_200_000), Decimal::new(6, 1))?;
//! p.deal("Pune aftermarket", Decimal::from(800_000), Decimal::new(3, 1))?;
//! p.deal("Tilburg returns", Decimal::from(500_000), Decimal::new(8, 1))?;
//! let x = p.exact()?;
//! assert_eq!(x.mean()?, Decimal::from(1_360_000));
//! assert_eq!(x.prob_at_least(Decimal::from(1_500_000))?, Decimal::new(516, 3));
//! assert_eq!(x.quantile(Decimal::new(5, 1))?, Decimal::from(1_700_000));
//! # Ok::<(), kam_core::growth::GrowthError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::num::{self, ArithmeticError};

/// Most outcomes an exact distribution may hold (distinct totals after merging).
pub const MAX_EXACT_OUTCOMES: usize = 1 << 20;

/// What can go wrong in growth calculations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrowthError {
    /// A probability outside `[0, 1]`.
    #[error("{item}: {field} {value} is outside [0, 1]")]
    Probability {
        /// The deal, opportunity or argument.
        item: String,
        /// Which field, e.g. `win_probability`.
        field: String,
        /// The value given.
        value: Decimal,
    },
    /// A value that must not be negative.
    #[error("{item}: {field} {value} must not be negative")]
    Negative {
        /// The deal, opportunity or argument.
        item: String,
        /// Which field.
        field: String,
        /// The value given.
        value: Decimal,
    },
    /// A percentile or quantile of nothing.
    #[error("{operation}: no values")]
    Empty {
        /// What was being computed.
        operation: String,
    },
    /// A percentile method name other than `linear` / `nearest_rank`.
    #[error("unknown percentile method {0:?}: expected \"linear\" or \"nearest_rank\"")]
    UnknownPercentileMethod(String),
    /// The exact distribution would need more outcomes than [`MAX_EXACT_OUTCOMES`].
    #[error("exact distribution of {deals} deals needs more than {limit} distinct outcomes; use Monte Carlo")]
    TooManyOutcomes {
        /// Deals in the pipeline.
        deals: usize,
        /// The limit.
        limit: usize,
    },
    /// Outcome probabilities that do not sum to 1.
    #[error("{item}: outcome probabilities sum to {sum}, not 1")]
    ProbabilitySum {
        /// The distribution.
        item: String,
        /// Their sum.
        sum: Decimal,
    },
    /// A period whose end is not after its start.
    #[error("{item}: period end {end} is not after start {start}")]
    Period {
        /// The target or period.
        item: String,
        /// Start date.
        start: NaiveDate,
        /// End date (exclusive).
        end: NaiveDate,
    },
    /// Overflow or division by zero.
    #[error(transparent)]
    Arithmetic(#[from] ArithmeticError),
}

/// Checks `value ∈ [0, 1]`.
pub fn check_probability(item: &str, field: &str, value: Decimal) -> Result<(), GrowthError> {
    if value < Decimal::ZERO || value > Decimal::ONE {
        Err(GrowthError::Probability {
            item: item.to_owned(),
            field: field.to_owned(),
            value,
        })
    } else {
        Ok(())
    }
}

/// Checks `value ≥ 0`.
pub fn check_non_negative(item: &str, field: &str, value: Decimal) -> Result<(), GrowthError> {
    if value < Decimal::ZERO {
        Err(GrowthError::Negative {
            item: item.to_owned(),
            field: field.to_owned(),
            value,
        })
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------- opportunities

/// Sales stage of an opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Seen, not yet qualified.
    Identified,
    /// Qualified: need, budget and timing confirmed.
    Qualified,
    /// Solution designed, proposal submitted.
    Proposal,
    /// In commercial negotiation.
    Negotiation,
    /// Contract signed.
    Won,
    /// Lost or withdrawn.
    Lost,
}

impl Stage {
    /// A conventional default win probability for the stage (used when an opportunity
    /// gives none): 10 %, 25 %, 50 %, 75 %, 100 %, 0 %.
    pub fn default_probability(self) -> Decimal {
        match self {
            Stage::Identified => Decimal::new(10, 2),
            Stage::Qualified => Decimal::new(25, 2),
            Stage::Proposal => Decimal::new(50, 2),
            Stage::Negotiation => Decimal::new(75, 2),
            Stage::Won => Decimal::ONE,
            Stage::Lost => Decimal::ZERO,
        }
    }
}

/// One sales opportunity in an account's pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opportunity {
    /// Name, unique in the pipeline (e.g. "Leipzig inbound").
    pub name: String,
    /// Service line sold (e.g. `warehousing`).
    pub service_line: String,
    /// Region of the site (e.g. `emea`).
    pub region: String,
    /// Sales stage.
    pub stage: Stage,
    /// Win probability in `[0, 1]`.
    pub win_probability: Decimal,
    /// Annual revenue at full run rate.
    pub annual_value: Decimal,
    /// Planned start of operations (the first revenue month is this date's month).
    pub start: NaiveDate,
    /// Months of linear ramp-up: month k (0-based) from start bills (k+1)/ramp of the run
    /// rate until k + 1 = ramp; 0 means full rate from the first month.
    #[serde(default)]
    pub ramp_up_months: u32,
}

impl Opportunity {
    /// Checks probability and value.
    pub fn validate(&self) -> Result<(), GrowthError> {
        let item = format!("opportunity {:?}", self.name);
        check_probability(&item, "win_probability", self.win_probability)?;
        check_non_negative(&item, "annual_value", self.annual_value)
    }

    /// Revenue (if won) billed in calendar months from `from` up to (not including)
    /// `to`, month-granular: each month bills `annual_value / 12` times the ramp factor.
    pub fn revenue_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Decimal, GrowthError> {
        self.validate()?;
        let op = format!("opportunity {:?}: revenue", self.name);
        let monthly = num::div(self.annual_value, Decimal::from(12), &op)?;
        let start = month_index(self.start);
        let mut total = Decimal::ZERO;
        for m in month_index(from)..month_index(to) {
            if m < start {
                continue;
            }
            let k = m - start;
            let factor = ramp_factor(k, self.ramp_up_months);
            total = num::add(total, num::mul(monthly, factor, &op)?, &op)?;
        }
        Ok(total)
    }

    /// Probability-weighted revenue between two dates: `win_probability × revenue_between`.
    pub fn weighted_revenue_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Decimal, GrowthError> {
        let r = self.revenue_between(from, to)?;
        Ok(num::mul(
            r,
            self.win_probability,
            &format!("opportunity {:?}: weighted revenue", self.name),
        )?)
    }

    /// The deal (name, annual value, win probability) this opportunity stands for.
    pub fn to_deal(&self) -> Deal {
        Deal {
            name: self.name.clone(),
            value: self.annual_value,
            win_probability: self.win_probability,
        }
    }
}

fn month_index(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

/// The linear ramp-up factor of month `k` (0-based) after start: `(k+1)/ramp`, capped at 1.
pub fn ramp_factor(k: i64, ramp_up_months: u32) -> Decimal {
    let ramp = i64::from(ramp_up_months);
    if ramp == 0 || k + 1 >= ramp {
        Decimal::ONE
    } else {
        // (k+1)/ramp with k+1 < ramp ≤ u32::MAX: cannot overflow or divide by zero.
        Decimal::from(k + 1)
            .checked_div(Decimal::from(ramp))
            .unwrap_or(Decimal::ONE)
    }
}

/// A revenue target for a period `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodTarget {
    /// Label, e.g. `FY2027`.
    pub label: String,
    /// First day of the period.
    pub start: NaiveDate,
    /// First day after the period.
    pub end: NaiveDate,
    /// Revenue target for the period.
    pub revenue: Decimal,
}

/// How far base book plus weighted pipeline fall short of a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGap {
    /// The target's label.
    pub label: String,
    /// The target revenue.
    pub target: Decimal,
    /// Base-book revenue expected in the period.
    pub base: Decimal,
    /// Probability-weighted pipeline revenue in the period.
    pub weighted_pipeline: Decimal,
    /// `target − base − weighted_pipeline`: positive is a shortfall, negative a surplus.
    pub gap: Decimal,
}

/// The gap between a target and `base` revenue plus the opportunities' weighted revenue
/// in the target's period (with start dates and ramp-up).
pub fn gap_to_target(
    target: &PeriodTarget,
    base: Decimal,
    opportunities: &[Opportunity],
) -> Result<TargetGap, GrowthError> {
    if target.end <= target.start {
        return Err(GrowthError::Period {
            item: format!("target {:?}", target.label),
            start: target.start,
            end: target.end,
        });
    }
    let item = format!("target {:?}", target.label);
    check_non_negative(&item, "revenue", target.revenue)?;
    check_non_negative(&item, "base", base)?;
    let mut weighted = Decimal::ZERO;
    for o in opportunities {
        let w = o.weighted_revenue_between(target.start, target.end)?;
        weighted = num::add(weighted, w, "weighted pipeline")?;
    }
    let covered = num::add(base, weighted, "gap to target")?;
    Ok(TargetGap {
        label: target.label.clone(),
        target: target.revenue,
        base,
        weighted_pipeline: weighted,
        gap: num::sub(target.revenue, covered, "gap to target")?,
    })
}

/// Base-book roll-forward by one year: `base × (1 − attrition) × (1 + escalation)`.
///
/// ```
/// use kam_core::growth::roll_forward;
/// use rust_decimal::Decimal;
/// // Source: shared/vectors/growth.toml [base_book]
/// let next = roll_forward(Decimal::from(10_000_000), Decimal::new(5, 2), Decimal::new(3, 2))?;
/// assert_eq!(next, Decimal::new(978_500_000, 2));
/// # Ok::<(), kam_core::growth::GrowthError>(())
/// ```
pub fn roll_forward(base: Decimal, attrition: Decimal, escalation: Decimal) -> Result<Decimal, GrowthError> {
    check_non_negative("base book", "base", base)?;
    check_probability("base book", "attrition", attrition)?;
    let op = "base book roll-forward";
    let kept = num::mul(base, num::sub(Decimal::ONE, attrition, op)?, op)?;
    Ok(num::mul(kept, num::add(Decimal::ONE, escalation, op)?, op)?)
}

// ---------------------------------------------------------------- pipeline

/// A deal as the pipeline distribution sees it: a value won with a probability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deal {
    /// Deal name.
    pub name: String,
    /// Value if won (e.g. annual revenue).
    pub value: Decimal,
    /// Win probability in `[0, 1]`.
    pub win_probability: Decimal,
}

impl Deal {
    /// Checks probability and value.
    pub fn validate(&self) -> Result<(), GrowthError> {
        let item = format!("deal {:?}", self.name);
        check_probability(&item, "win_probability", self.win_probability)?;
        check_non_negative(&item, "value", self.value)
    }
}

/// A list of independent deals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pipeline {
    /// The deals, in the order added.
    pub deals: Vec<Deal>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Self {
        Pipeline::default()
    }

    /// Adds a deal after checking its probability and value.
    pub fn deal(
        &mut self,
        name: impl Into<String>,
        value: Decimal,
        win_probability: Decimal,
    ) -> Result<&mut Self, GrowthError> {
        let d = Deal {
            name: name.into(),
            value,
            win_probability,
        };
        d.validate()?;
        self.deals.push(d);
        Ok(self)
    }

    /// `Σ win_probability × value`.
    pub fn weighted_value(&self) -> Result<Decimal, GrowthError> {
        let mut total = Decimal::ZERO;
        for d in &self.deals {
            d.validate()?;
            let w = num::mul(
                d.value,
                d.win_probability,
                &format!("deal {:?}: weighted value", d.name),
            )?;
            total = num::add(total, w, "weighted pipeline")?;
        }
        Ok(total)
    }

    /// The exact distribution of the total won value, deals independent.
    pub fn exact(&self) -> Result<ExactDistribution, GrowthError> {
        let mut dist = ExactDistribution::point(Decimal::ZERO);
        for d in &self.deals {
            d.validate()?;
            let unit = ExactDistribution::bernoulli(d)?;
            dist = dist.convolve(&unit).map_err(|e| match e {
                GrowthError::TooManyOutcomes { limit, .. } => GrowthError::TooManyOutcomes {
                    deals: self.deals.len(),
                    limit,
                },
                other => other,
            })?;
        }
        Ok(dist)
    }
}

/// One outcome of an exact distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The total value.
    pub value: Decimal,
    /// Its probability.
    pub probability: Decimal,
}

/// A discrete distribution held exactly: distinct values ascending, probabilities > 0
/// summing to 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExactDistribution {
    outcomes: Vec<Outcome>,
    /// `Σ value × probability`, carried through [`ExactDistribution::convolve`] as the sum
    /// of the parts' means (the mean of a sum): exact even where the outcome probabilities
    /// of many deals had to be rounded.
    mean: Decimal,
    /// False when some probability product needed more than the 28 significant digits a
    /// `Decimal` holds and was rounded (many deals with many-digit probabilities).
    exact: bool,
}

impl ExactDistribution {
    /// All mass on `value`.
    pub fn point(value: Decimal) -> Self {
        ExactDistribution {
            outcomes: vec![Outcome {
                value,
                probability: Decimal::ONE,
            }],
            mean: value,
            exact: true,
        }
    }

    /// A deal alone: 0 with `1 − p`, its value with `p`.
    pub fn bernoulli(deal: &Deal) -> Result<Self, GrowthError> {
        deal.validate()?;
        let lose = num::sub(Decimal::ONE, deal.win_probability, "bernoulli")?;
        Self::from_outcomes(
            &format!("deal {:?}", deal.name),
            vec![
                Outcome {
                    value: Decimal::ZERO,
                    probability: lose,
                },
                Outcome {
                    value: deal.value,
                    probability: deal.win_probability,
                },
            ],
        )
    }

    /// Deals that win or lose together, coupled through one shared uniform draw `U`:
    /// deal i wins when `U < p_i` (each keeps its own marginal win probability, and a
    /// deal with a lower probability only wins when every higher-probability one does).
    /// With equal probabilities the group is all-or-nothing.
    pub fn comonotone_group(deals: &[Deal]) -> Result<Self, GrowthError> {
        let mut sorted: Vec<&Deal> = deals.iter().collect();
        for d in &sorted {
            d.validate()?;
        }
        sorted.sort_by_key(|d| std::cmp::Reverse(d.win_probability));
        let mut outcomes = Vec::with_capacity(sorted.len() + 1);
        let top = sorted.first().map_or(Decimal::ZERO, |d| d.win_probability);
        outcomes.push(Outcome {
            value: Decimal::ZERO,
            probability: num::sub(Decimal::ONE, top, "correlation group")?,
        });
        let mut total = Decimal::ZERO;
        for (i, d) in sorted.iter().enumerate() {
            total = num::add(total, d.value, "correlation group")?;
            let next = sorted.get(i + 1).map_or(Decimal::ZERO, |n| n.win_probability);
            outcomes.push(Outcome {
                value: total,
                probability: num::sub(d.win_probability, next, "correlation group")?,
            });
        }
        Self::from_outcomes("correlation group", outcomes)
    }

    /// A distribution from outcomes (any order, repeats merged, zero-probability
    /// outcomes dropped); probabilities must be in `[0, 1]` and sum to exactly 1.
    pub fn from_outcomes(item: &str, outcomes: Vec<Outcome>) -> Result<Self, GrowthError> {
        let mut map: BTreeMap<Decimal, Decimal> = BTreeMap::new();
        let mut sum = Decimal::ZERO;
        let mut mean = Decimal::ZERO;
        for o in outcomes {
            check_probability(item, "probability", o.probability)?;
            sum = num::add(sum, o.probability, item)?;
            mean = num::add(mean, num::mul(o.value, o.probability, item)?, item)?;
            if o.probability.is_zero() {
                continue;
            }
            let e = map.entry(o.value.normalize()).or_insert(Decimal::ZERO);
            *e = num::add(*e, o.probability, item)?;
        }
        if sum != Decimal::ONE {
            return Err(GrowthError::ProbabilitySum {
                item: item.to_owned(),
                sum,
            });
        }
        Ok(ExactDistribution {
            outcomes: map
                .into_iter()
                .map(|(value, probability)| Outcome { value, probability })
                .collect(),
            mean,
            exact: true,
        })
    }

    /// The distribution of `X + Y` for independent `X` (self) and `Y` (other).
    pub fn convolve(&self, other: &ExactDistribution) -> Result<Self, GrowthError> {
        let mut map: BTreeMap<Decimal, Decimal> = BTreeMap::new();
        let mut exact = self.exact && other.exact;
        for a in &self.outcomes {
            for b in &other.outcomes {
                let v = num::add(a.value, b.value, "convolution")?.normalize();
                let (p, rounded) = exact_mul(a.probability, b.probability)?;
                exact &= !rounded;
                let e = map.entry(v).or_insert(Decimal::ZERO);
                *e = num::add(*e, p, "convolution")?;
                if map.len() > MAX_EXACT_OUTCOMES {
                    return Err(GrowthError::TooManyOutcomes {
                        deals: 0,
                        limit: MAX_EXACT_OUTCOMES,
                    });
                }
            }
        }
        Ok(ExactDistribution {
            outcomes: map
                .into_iter()
                .map(|(value, probability)| Outcome { value, probability })
                .collect(),
            mean: num::add(self.mean, other.mean, "convolution")?,
            exact,
        })
    }

    /// The outcomes, values ascending.
    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    /// Whether every probability is exact (see the field doc).
    pub fn is_exact(&self) -> bool {
        self.exact
    }

    /// `Σ value × probability`, exact: for a pipeline `Σ pᵢ·vᵢ` over its deals, even where
    /// the outcome probabilities were rounded (see [`ExactDistribution::is_exact`]).
    pub fn mean(&self) -> Result<Decimal, GrowthError> {
        Ok(self.mean.normalize())
    }

    /// `P(X ≥ x)`.
    pub fn prob_at_least(&self, x: Decimal) -> Result<Decimal, GrowthError> {
        let mut p = Decimal::ZERO;
        for o in self.outcomes.iter().filter(|o| o.value >= x) {
            p = num::add(p, o.probability, "prob_at_least")?;
        }
        Ok(p.normalize())
    }

    /// Inverse CDF: the smallest outcome `x` with `P(X ≤ x) ≥ q`; `q = 0` gives the
    /// smallest outcome.
    pub fn quantile(&self, q: Decimal) -> Result<Decimal, GrowthError> {
        check_probability("quantile", "q", q)?;
        let mut cum = Decimal::ZERO;
        for o in &self.outcomes {
            cum = num::add(cum, o.probability, "quantile")?;
            if cum >= q {
                return Ok(o.value);
            }
        }
        // Probabilities sum to 1 ≥ q, so the loop returns; the last value is the
        // answer should rounding (inexact case) leave the sum a hair under q.
        self.outcomes.last().map(|o| o.value).ok_or(GrowthError::Empty {
            operation: "quantile".into(),
        })
    }
}

/// `a × b` and whether the product was rounded to fit a `Decimal`.
fn exact_mul(a: Decimal, b: Decimal) -> Result<(Decimal, bool), GrowthError> {
    let (a, b) = (a.normalize(), b.normalize());
    let p = num::mul(a, b, "probability product")?;
    Ok((p, p.scale() < a.scale() + b.scale()))
}

// ---------------------------------------------------------------- percentiles

/// How [`percentile`] picks a value between order statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PercentileMethod {
    /// Hyndman–Fan type 7 (Excel `PERCENTILE.INC`, NumPy default): with sorted `x`
    /// (0-based) and `h = (n − 1)·q`, `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`.
    Linear,
    /// The `⌈q·n⌉`-th smallest value (1-based); `q = 0` gives the minimum. This is the
    /// inverse-CDF of the empirical distribution: the smallest x with F(x) ≥ q.
    NearestRank,
}

impl FromStr for PercentileMethod {
    type Err = GrowthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "linear" => Ok(PercentileMethod::Linear),
            "nearest_rank" => Ok(PercentileMethod::NearestRank),
            other => Err(GrowthError::UnknownPercentileMethod(other.to_owned())),
        }
    }
}

impl fmt::Display for PercentileMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PercentileMethod::Linear => "linear",
            PercentileMethod::NearestRank => "nearest_rank",
        })
    }
}

/// The `q`-percentile (`q ∈ [0, 1]`) of `values` (any order), exactly.
///
/// ```
/// use kam_core::growth::{percentile, PercentileMethod};
/// use rust_decimal::Decimal;
/// let v: Vec<Decimal> = [15, 20, 35, 40, 50].into_iter().map(Decimal::from).collect();
/// assert_eq!(percentile(&v, Decimal::new(4, 1), PercentileMethod::Linear)?, Decimal::from(29));
/// assert_eq!(percentile(&v, Decimal::new(4, 1), PercentileMethod::NearestRank)?, Decimal::from(20));
/// # Ok::<(), kam_core::growth::GrowthError>(())
/// ```
pub fn percentile(values: &[Decimal], q: Decimal, method: PercentileMethod) -> Result<Decimal, GrowthError> {
    check_probability("percentile", "q", q)?;
    let mut sorted = values.to_vec();
    sorted.sort();
    percentile_sorted(&sorted, q, method)
}

/// [`percentile`] of values already sorted ascending.
pub fn percentile_sorted(
    sorted: &[Decimal],
    q: Decimal,
    method: PercentileMethod,
) -> Result<Decimal, GrowthError> {
    check_probability("percentile", "q", q)?;
    let empty = || GrowthError::Empty {
        operation: "percentile".into(),
    };
    let n = sorted.len();
    if n == 0 {
        return Err(empty());
    }
    let op = "percentile";
    match method {
        PercentileMethod::NearestRank => {
            let rank = num::mul(q, Decimal::from(n), op)?.ceil();
            let idx = rank.to_usize().unwrap_or(0).saturating_sub(1);
            sorted.get(idx.min(n - 1)).copied().ok_or_else(empty)
        }
        PercentileMethod::Linear => {
            let h = num::mul(Decimal::from(n - 1), q, op)?;
            let lo_d = h.floor();
            let lo = lo_d.to_usize().unwrap_or(0).min(n - 1);
            let frac = num::sub(h, lo_d, op)?;
            let a = *sorted.get(lo).ok_or_else(empty)?;
            match sorted.get(lo + 1) {
                Some(&b) if !frac.is_zero() => {
                    let d = num::mul(frac, num::sub(b, a, op)?, op)?;
                    Ok(num::add(a, d, op)?.normalize())
                }
                _ => Ok(a),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn vector_pipeline() -> Pipeline {
        // Source: shared/vectors/growth.toml [pipeline]
        let mut p = Pipeline::new();
        p.deal("a", dec!(1200000), dec!(0.6)).unwrap();
        p.deal("b", dec!(800000), dec!(0.3)).unwrap();
        p.deal("c", dec!(500000), dec!(0.8)).unwrap();
        p
    }

    #[test]
    fn pipeline_vector_exact() {
        let x = vector_pipeline().exact().unwrap();
        assert_eq!(x.mean().unwrap(), dec!(1360000));
        assert_eq!(x.prob_at_least(dec!(1500000)).unwrap(), dec!(0.516));
        assert!(x.is_exact());
        assert_eq!(x.outcomes().len(), 8);
        let total: Decimal = x.outcomes().iter().map(|o| o.probability).sum();
        assert_eq!(total, Decimal::ONE);
        // Outcomes: 0 .056, 5e5 .224, 8e5 .024, 1.2e6 .084, 1.3e6 .096, 1.7e6 .336, 2.0e6 .036, 2.5e6 .144
        assert_eq!(x.quantile(dec!(0)).unwrap(), dec!(0));
        assert_eq!(x.quantile(dec!(0.28)).unwrap(), dec!(500000));
        assert_eq!(x.quantile(dec!(0.2801)).unwrap(), dec!(800000));
        assert_eq!(x.quantile(dec!(0.5)).unwrap(), dec!(1700000));
        assert_eq!(x.quantile(dec!(1)).unwrap(), dec!(2500000));
        assert_eq!(vector_pipeline().weighted_value().unwrap(), dec!(1360000));
    }

    #[test]
    fn base_book_vector() {
        // Source: shared/vectors/growth.toml [base_book]
        assert_eq!(
            roll_forward(dec!(10000000), dec!(0.05), dec!(0.03)).unwrap(),
            dec!(9785000.00)
        );
        assert!(matches!(
            roll_forward(dec!(-1), dec!(0.05), dec!(0.03)),
            Err(GrowthError::Negative { .. })
        ));
    }

    #[test]
    fn bad_probability_and_value_are_typed_errors() {
        let mut p = Pipeline::new();
        let e = p.deal("x", dec!(1), dec!(1.2)).unwrap_err();
        assert!(matches!(e, GrowthError::Probability { .. }));
        assert!(e.to_string().contains("deal \"x\""), "{e}");
        assert!(matches!(
            p.deal("y", dec!(-5), dec!(0.5)),
            Err(GrowthError::Negative { .. })
        ));
        assert!(matches!(
            percentile(&[], dec!(0.5), PercentileMethod::Linear),
            Err(GrowthError::Empty { .. })
        ));
        assert!(matches!(
            "type7".parse::<PercentileMethod>(),
            Err(GrowthError::UnknownPercentileMethod(_))
        ));
    }

    #[test]
    fn comonotone_group_keeps_marginals() {
        let deals = vec![
            Deal {
                name: "a".into(),
                value: dec!(100),
                win_probability: dec!(0.5),
            },
            Deal {
                name: "b".into(),
                value: dec!(50),
                win_probability: dec!(0.5),
            },
            Deal {
                name: "c".into(),
                value: dec!(10),
                win_probability: dec!(0.2),
            },
        ];
        let g = ExactDistribution::comonotone_group(&deals).unwrap();
        assert_eq!(g.outcomes().len(), 3);
        assert_eq!(g.prob_at_least(dec!(150)).unwrap(), dec!(0.5));
        assert_eq!(g.prob_at_least(dec!(160)).unwrap(), dec!(0.2));
        assert_eq!(g.mean().unwrap(), dec!(77)); // 0.5·100 + 0.5·50 + 0.2·10
    }

    #[test]
    fn percentile_methods() {
        let v: Vec<Decimal> = [3, 1, 2, 4].into_iter().map(Decimal::from).collect();
        assert_eq!(
            percentile(&v, dec!(0), PercentileMethod::NearestRank).unwrap(),
            dec!(1)
        );
        assert_eq!(
            percentile(&v, dec!(0.25), PercentileMethod::NearestRank).unwrap(),
            dec!(1)
        );
        assert_eq!(
            percentile(&v, dec!(0.26), PercentileMethod::NearestRank).unwrap(),
            dec!(2)
        );
        assert_eq!(
            percentile(&v, dec!(1), PercentileMethod::NearestRank).unwrap(),
            dec!(4)
        );
        assert_eq!(
            percentile(&v, dec!(0.5), PercentileMethod::Linear).unwrap(),
            dec!(2.5)
        );
        assert_eq!(
            percentile(&v, dec!(1), PercentileMethod::Linear).unwrap(),
            dec!(4)
        );
        assert_eq!(
            percentile(&v, dec!(0.1), PercentileMethod::Linear).unwrap(),
            dec!(1.3)
        );
    }

    #[test]
    fn gap_with_ramp_up() {
        let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1).unwrap();
        let o = Opportunity {
            name: "Leipzig inbound".into(),
            service_line: "warehousing".into(),
            region: "emea".into(),
            stage: Stage::Proposal,
            win_probability: dec!(0.5),
            annual_value: dec!(1200000),
            start: d(2027, 7),
            ramp_up_months: 4,
        };
        // Jul..Dec: 100k × (0.25 + 0.5 + 0.75 + 1 + 1 + 1) = 450k; weighted 225k.
        assert_eq!(o.revenue_between(d(2027, 1), d(2028, 1)).unwrap(), dec!(450000));
        let t = PeriodTarget {
            label: "FY2027".into(),
            start: d(2027, 1),
            end: d(2028, 1),
            revenue: dec!(1000000),
        };
        let g = gap_to_target(&t, dec!(700000), &[o]).unwrap();
        assert_eq!(g.weighted_pipeline, dec!(225000));
        assert_eq!(g.gap, dec!(75000));
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(serde_json::from_str::<TargetGap>(&json).unwrap(), g);
        let toml_s = toml::to_string(&t).unwrap();
        assert_eq!(toml::from_str::<PeriodTarget>(&toml_s).unwrap(), t);
    }

    #[test]
    fn exact_mean_stays_exact_when_outcome_probabilities_are_rounded() {
        // 40 deals at p = 0.5, values 1000 + 37i + i²: Σ values 89,400, mean 44,700. The
        // outcome probabilities (multiples of 2⁻⁴⁰) are rounded to 28 digits; summed over
        // the outcomes the mean came to 44699.999999999999999999983933.
        let mut p = Pipeline::new();
        for i in 0..40i64 {
            p.deal(format!("d{i}"), Decimal::from(1000 + 37 * i + i * i), dec!(0.5))
                .unwrap();
        }
        let x = p.exact().unwrap();
        assert!(!x.is_exact());
        assert_eq!(x.mean().unwrap().to_string(), "44700");
        // 15 deals at p = 0.37, values 1000 + 37i: 0.37 × 18,885 = 6,987.45 (was
        // 6987.4500000000000000000000009).
        let mut p = Pipeline::new();
        for i in 0..15i64 {
            p.deal(format!("d{i}"), Decimal::from(1000 + 37 * i), dec!(0.37))
                .unwrap();
        }
        assert_eq!(p.exact().unwrap().mean().unwrap().to_string(), "6987.45");
    }

    proptest! {
        #[test]
        fn exact_matches_brute_force(vals in proptest::collection::vec((0u32..1000, 0u32..=100), 1..8)) {
            let mut p = Pipeline::new();
            for (i, (v, pr)) in vals.iter().enumerate() {
                p.deal(format!("d{i}"), Decimal::from(*v), Decimal::new(i64::from(*pr), 2)).unwrap();
            }
            let x = p.exact().unwrap();
            let total: Decimal = x.outcomes().iter().map(|o| o.probability).sum();
            prop_assert_eq!(total, Decimal::ONE);
            prop_assert_eq!(x.mean().unwrap(), p.weighted_value().unwrap().normalize());
            // Brute force P(total ≥ threshold) over all 2^n win/lose patterns.
            let thr = Decimal::from(vals.iter().map(|(v, _)| *v).sum::<u32>() / 2);
            let n = p.deals.len();
            let mut brute = Decimal::ZERO;
            for mask in 0u32..(1 << n) {
                let mut prob = Decimal::ONE;
                let mut v = Decimal::ZERO;
                for (i, d) in p.deals.iter().enumerate() {
                    if mask & (1 << i) != 0 { prob *= d.win_probability; v += d.value; }
                    else { prob *= Decimal::ONE - d.win_probability; }
                }
                if v >= thr { brute += prob; }
            }
            prop_assert_eq!(x.prob_at_least(thr).unwrap(), brute.normalize());
        }

        #[test]
        fn percentiles_bracketed_and_monotone(mut v in proptest::collection::vec(-10_000i64..10_000, 1..40), q1 in 0u32..=100, q2 in 0u32..=100) {
            let vals: Vec<Decimal> = v.iter().map(|&x| Decimal::new(x, 2)).collect();
            v.sort();
            let (lo, hi) = (q1.min(q2), q1.max(q2));
            for m in [PercentileMethod::Linear, PercentileMethod::NearestRank] {
                let a = percentile(&vals, Decimal::new(i64::from(lo), 2), m).unwrap();
                let b = percentile(&vals, Decimal::new(i64::from(hi), 2), m).unwrap();
                prop_assert!(a <= b);
                prop_assert!(a >= Decimal::new(v[0], 2) && b <= Decimal::new(v[v.len() - 1], 2));
            }
            // nearest_rank is an order statistic with F(x) ≥ q.
            let q = Decimal::new(i64::from(q1), 2);
            let x = percentile(&vals, q, PercentileMethod::NearestRank).unwrap();
            let below = vals.iter().filter(|&&y| y <= x).count();
            prop_assert!(Decimal::from(below) >= q * Decimal::from(vals.len()));
        }
    }
}
