//! Scenarios: a baseline card against a proposal on the same volumes, and volume
//! sensitivity of revenue and margin.

use std::borrow::Borrow;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use super::cost::CostModel;
use super::quote::Quote;
use super::rate_card::RateCard;
use super::{PricingError, invalid};
use crate::money::{Currency, MoneyError};
use crate::num;

/// The change of one activity's amount from baseline to proposal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LineDelta {
    /// Activity name.
    pub activity: String,
    /// Baseline line amount (0 if the baseline quote has no line).
    pub baseline: Decimal,
    /// Proposal line amount (0 if the proposal quote has no line).
    pub proposal: Decimal,
    /// `proposal − baseline`.
    pub delta: Decimal,
    /// `delta / baseline × 100`; `None` when the baseline is zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_pct: Option<Decimal>,
}

/// Baseline vs proposal on the same volumes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScenarioComparison {
    /// Currency of both cards.
    pub currency: Currency,
    /// The baseline quote.
    pub baseline: Quote,
    /// The proposal quote.
    pub proposal: Quote,
    /// Per activity: baseline activities in order, then activities only in the proposal.
    pub lines: Vec<LineDelta>,
    /// `proposal total − baseline total`.
    pub total_delta: Decimal,
    /// `total_delta / baseline total × 100`; `None` when the baseline total is zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_delta_pct: Option<Decimal>,
}

fn pct_of(delta: Decimal, base: Decimal, op: &str) -> Result<Option<Decimal>, PricingError> {
    if base.is_zero() {
        return Ok(None);
    }
    Ok(Some(num::percent(delta, base, op)?))
}

fn in_card(card: &str) -> impl Fn(PricingError) -> PricingError + '_ {
    move |e| PricingError::InCard {
        card: card.to_owned(),
        source: Box::new(e),
    }
}

/// Prices the same `volumes` on `baseline` and `proposal` and reports per-line and total
/// deltas. Every activity in the volumes must be on both cards.
///
/// ```
/// use kam_core::pricing::{RateCard, compare};
/// use rust_decimal::Decimal;
///
/// let mut baseline = RateCard::from_code("EUR")?;
/// baseline.flat("pick_line", Decimal::new(65, 2))?;
/// let mut proposal = RateCard::from_code("EUR")?;
/// proposal.flat("pick_line", Decimal::new(62, 2))?;
/// let c = compare(&baseline, &proposal, [("pick_line", Decimal::from(18_000))])?;
/// assert_eq!(c.total_delta, Decimal::from(-540));
/// # Ok::<(), kam_core::pricing::PricingError>(())
/// ```
///
/// # Errors
/// [`PricingError::InCard`] wrapping a pricing error of either card;
/// [`MoneyError::CurrencyMismatch`] when the cards' currencies differ; overflow.
pub fn compare<I, K, V>(
    baseline: &RateCard,
    proposal: &RateCard,
    volumes: I,
) -> Result<ScenarioComparison, PricingError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Borrow<Decimal>,
{
    if baseline.currency() != proposal.currency() {
        return Err(MoneyError::CurrencyMismatch {
            operation: "scenario comparison".into(),
            left: baseline.currency(),
            right: proposal.currency(),
        }
        .into());
    }
    let volumes: Vec<(K, Decimal)> = volumes.into_iter().map(|(k, v)| (k, *v.borrow())).collect();
    let b = baseline
        .price(volumes.iter().map(|(k, v)| (k.as_ref(), *v)))
        .map_err(in_card("baseline"))?;
    let p = proposal
        .price(volumes.iter().map(|(k, v)| (k.as_ref(), *v)))
        .map_err(in_card("proposal"))?;
    let op = "scenario comparison";
    let amount = |q: &Quote, activity: &str| q.line(activity).map_or(Decimal::ZERO, |l| l.amount.amount());
    let mut names: Vec<&str> = b.lines().iter().map(|l| l.activity.as_str()).collect();
    for l in p.lines() {
        if !names.contains(&l.activity.as_str()) {
            names.push(&l.activity);
        }
    }
    let lines = names
        .iter()
        .map(|&activity| {
            let (base, prop) = (amount(&b, activity), amount(&p, activity));
            let delta = num::sub(prop, base, op)?;
            Ok(LineDelta {
                activity: activity.to_owned(),
                baseline: base,
                proposal: prop,
                delta,
                delta_pct: pct_of(delta, base, op)?,
            })
        })
        .collect::<Result<Vec<_>, PricingError>>()?;
    let total_delta = num::sub(p.total().amount(), b.total().amount(), op)?;
    let total_delta_pct = pct_of(total_delta, b.total().amount(), op)?;
    Ok(ScenarioComparison {
        currency: baseline.currency(),
        baseline: b,
        proposal: p,
        lines,
        total_delta,
        total_delta_pct,
    })
}

/// Revenue, cost and margin at one volume change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SensitivityPoint {
    /// Volume change, percent (−10 means every volume × 0.90).
    pub change_pct: Decimal,
    /// Quote total at the changed volumes.
    pub revenue: Decimal,
    /// Variable cost at the changed volumes plus all fixed cost and overhead.
    pub cost: Decimal,
    /// `revenue − cost`.
    pub margin: Decimal,
    /// `margin / revenue × 100`; `None` when revenue is zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_pct: Option<Decimal>,
}

/// Most points a sensitivity run may produce.
pub const MAX_SENSITIVITY_POINTS: u64 = 10_001;

/// Revenue and margin with every volume changed by −`range_pct` % … +`range_pct` % in
/// steps of `step_pct` % (the end points included; 0 % always included when it falls on
/// a step). Minimums and tiers apply at each point; fixed cost and overhead do not scale.
///
/// # Errors
/// `range_pct` outside 0–100, `step_pct` not positive, or more than
/// [`MAX_SENSITIVITY_POINTS`] points ([`PricingError::InvalidParameter`]); the errors of
/// [`RateCard::price`] and [`CostModel::cost_layers`]; a currency mismatch between card
/// and costs.
///
/// ```
/// use kam_core::pricing::{ActivityCost, CostModel, RateCard, volume_sensitivity};
/// use rust_decimal::Decimal;
///
/// let mut card = RateCard::from_code("EUR")?;
/// card.flat("order", Decimal::new(210, 2))?;
/// let costs = CostModel {
///     currency: card.currency(),
///     activities: vec![ActivityCost {
///         activity: "order".into(),
///         variable_per_unit: Decimal::new(120, 2),
///         dedicated_fixed: Decimal::from(1000),
///         allocated_overhead: Decimal::ZERO,
///     }],
/// };
/// let points = volume_sensitivity(&card, &costs, [("order", Decimal::from(2400))], Decimal::from(10), Decimal::from(10))?;
/// assert_eq!(points.len(), 3); // −10 %, 0 %, +10 %
/// assert_eq!(points[1].margin, Decimal::from(1160)); // 5,040 − 2,880 − 1,000
/// # Ok::<(), kam_core::pricing::PricingError>(())
/// ```
pub fn volume_sensitivity<I, K, V>(
    card: &RateCard,
    costs: &CostModel,
    volumes: I,
    range_pct: Decimal,
    step_pct: Decimal,
) -> Result<Vec<SensitivityPoint>, PricingError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Borrow<Decimal>,
{
    if card.currency() != costs.currency {
        return Err(MoneyError::CurrencyMismatch {
            operation: "volume sensitivity".into(),
            left: card.currency(),
            right: costs.currency,
        }
        .into());
    }
    if range_pct < Decimal::ZERO || range_pct > Decimal::ONE_HUNDRED {
        return Err(invalid(
            "sensitivity range %",
            range_pct,
            "must be between 0 and 100",
        ));
    }
    if step_pct <= Decimal::ZERO {
        return Err(invalid("sensitivity step %", step_pct, "must be positive"));
    }
    let op = "volume sensitivity";
    let span = num::mul(range_pct, Decimal::TWO, op)?;
    let steps = num::div(span, step_pct, op)?.floor();
    let count = steps.to_u64().map(|s| s.saturating_add(1));
    if count.is_none_or(|c| c > MAX_SENSITIVITY_POINTS) {
        return Err(invalid(
            "sensitivity step %",
            step_pct,
            &format!("gives more than {MAX_SENSITIVITY_POINTS} points over ±{range_pct} %"),
        ));
    }
    let base: Vec<(String, Decimal)> = volumes
        .into_iter()
        .map(|(k, v)| (k.as_ref().to_owned(), *v.borrow()))
        .collect();
    let mut out = Vec::new();
    let mut change = -range_pct;
    while change <= range_pct {
        let factor = num::div(
            num::add(Decimal::ONE_HUNDRED, change, op)?,
            Decimal::ONE_HUNDRED,
            op,
        )?;
        let scaled = base
            .iter()
            .map(|(k, q)| Ok((k.as_str(), num::mul(*q, factor, op)?)))
            .collect::<Result<Vec<_>, PricingError>>()?;
        let quote = card.price(scaled.iter().copied())?;
        let revenue = quote.total().amount();
        let [variable, fixed, overhead] =
            costs.cost_layers(quote.lines().iter().map(|l| (l.activity.as_str(), l.quantity)))?;
        let cost = num::sum([variable, fixed, overhead], op)?;
        let margin = num::sub(revenue, cost, op)?;
        out.push(SensitivityPoint {
            change_pct: change,
            revenue,
            cost,
            margin,
            margin_pct: pct_of(margin, revenue, op)?,
        });
        change = num::add(change, step_pct, op)?;
    }
    Ok(out)
}
