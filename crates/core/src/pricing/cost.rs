//! Cost-to-serve: a cost model per activity and contribution margin layers
//! CM1 (after variable cost), CM2 (after dedicated fixed cost) and CM3 (after allocated
//! overhead) per account node and service line.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::PricingError;
use super::rate_card::RateCard;
use crate::money::{Currency, MoneyError};
use crate::num;

/// What one activity costs the provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActivityCost {
    /// Activity name (as on the rate card).
    pub activity: String,
    /// Variable cost per unit.
    pub variable_per_unit: Decimal,
    /// Fixed cost dedicated to this activity for the account, per period.
    #[serde(default)]
    pub dedicated_fixed: Decimal,
    /// Site or company overhead allocated to this activity, per period.
    #[serde(default)]
    pub allocated_overhead: Decimal,
}

/// The provider's costs per activity, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CostModel {
    /// Currency of every cost.
    pub currency: Currency,
    /// One entry per activity.
    pub activities: Vec<ActivityCost>,
}

impl CostModel {
    /// The entry for `activity`.
    pub fn activity(&self, activity: &str) -> Option<&ActivityCost> {
        self.activities.iter().find(|a| a.activity == activity)
    }

    /// Total cost per layer for these per-activity quantities:
    /// `(variable, dedicated fixed, allocated overhead)`. Fixed and overhead of every
    /// activity in the model count, performed or not.
    ///
    /// # Errors
    /// [`PricingError::MissingCost`] for a quantity of an activity not in the model,
    /// [`PricingError::NegativeQuantity`], overflow.
    pub fn cost_layers<'a, I>(&self, quantities: I) -> Result<[Decimal; 3], PricingError>
    where
        I: IntoIterator<Item = (&'a str, Decimal)>,
    {
        let op = "cost model";
        let mut variable = Decimal::ZERO;
        for (activity, q) in quantities {
            if q < Decimal::ZERO {
                return Err(PricingError::NegativeQuantity {
                    activity: activity.to_owned(),
                    quantity: q,
                    record: None,
                });
            }
            let c = self.activity(activity).ok_or_else(|| PricingError::MissingCost {
                activity: activity.to_owned(),
            })?;
            variable = num::add(variable, num::mul(q, c.variable_per_unit, op)?, op)?;
        }
        let fixed = num::sum(self.activities.iter().map(|a| a.dedicated_fixed), op)?;
        let overhead = num::sum(self.activities.iter().map(|a| a.allocated_overhead), op)?;
        Ok([variable, fixed, overhead])
    }
}

/// Margin and margin % after one cost layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContributionLayer {
    /// The layer's cost.
    pub cost: Decimal,
    /// Revenue less this and every earlier layer.
    pub margin: Decimal,
    /// `margin / revenue × 100`, unrounded; `None` when revenue is zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_pct: Option<Decimal>,
}

/// The margin after each cost layer in turn (CM1, CM2, …), unrounded.
///
/// ```
/// use kam_core::pricing::contribution;
/// use rust_decimal::Decimal;
///
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// let layers = contribution(d("51547.50"), &[d("36000"), d("9000"), d("4000")])?;
/// assert_eq!(layers[0].margin, d("15547.50"));
/// assert_eq!(layers[2].margin_pct.map(|p| p.round_dp(2)), Some(d("4.94")));
/// # Ok::<(), kam_core::pricing::PricingError>(())
/// ```
///
/// # Errors
/// Overflow.
pub fn contribution(revenue: Decimal, costs: &[Decimal]) -> Result<Vec<ContributionLayer>, PricingError> {
    let op = "contribution";
    let mut margin = revenue;
    let mut out = Vec::with_capacity(costs.len());
    for &cost in costs {
        margin = num::sub(margin, cost, op)?;
        let margin_pct = if revenue.is_zero() {
            None
        } else {
            Some(num::percent(margin, revenue, op)?)
        };
        out.push(ContributionLayer {
            cost,
            margin,
            margin_pct,
        });
    }
    Ok(out)
}

/// Volume of one activity at one account node for one service line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServedVolume {
    /// Account node id (site, country, region).
    pub node: String,
    /// Service line id (e.g. `warehousing`, `transport`).
    pub service_line: String,
    /// Activity name.
    pub activity: String,
    /// Quantity performed.
    pub quantity: Decimal,
}

/// Revenue and the three contribution layers of one slice of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContributionMargins {
    /// Revenue.
    pub revenue: Decimal,
    /// After variable cost.
    pub cm1: ContributionLayer,
    /// After dedicated fixed cost.
    pub cm2: ContributionLayer,
    /// After allocated overhead.
    pub cm3: ContributionLayer,
}

impl ContributionMargins {
    /// Revenue less `costs` = [variable, dedicated fixed, allocated overhead].
    ///
    /// # Errors
    /// Overflow.
    pub fn from_costs(revenue: Decimal, costs: [Decimal; 3]) -> Result<Self, PricingError> {
        let op = "contribution";
        let pct = |margin: Decimal| -> Result<Option<Decimal>, PricingError> {
            if revenue.is_zero() {
                Ok(None)
            } else {
                Ok(Some(num::percent(margin, revenue, op)?))
            }
        };
        let [variable, fixed, overhead] = costs;
        let m1 = num::sub(revenue, variable, op)?;
        let m2 = num::sub(m1, fixed, op)?;
        let m3 = num::sub(m2, overhead, op)?;
        Ok(ContributionMargins {
            revenue,
            cm1: ContributionLayer {
                cost: variable,
                margin: m1,
                margin_pct: pct(m1)?,
            },
            cm2: ContributionLayer {
                cost: fixed,
                margin: m2,
                margin_pct: pct(m2)?,
            },
            cm3: ContributionLayer {
                cost: overhead,
                margin: m3,
                margin_pct: pct(m3)?,
            },
        })
    }
}

/// Contribution of a group (one node or one service line).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContributionGroup {
    /// Node or service line id.
    pub key: String,
    /// Revenue and layers.
    pub contribution: ContributionMargins,
}

/// Contribution of one (node, service line).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContributionRow {
    /// Account node id.
    pub node: String,
    /// Service line id.
    pub service_line: String,
    /// Revenue and layers.
    pub contribution: ContributionMargins,
}

/// Cost-to-serve of an account: contribution per (node, service line), per node, per
/// service line and in total.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CostToServe {
    /// Currency of every amount.
    pub currency: Currency,
    /// Per (node, service line), in order of first appearance.
    pub rows: Vec<ContributionRow>,
    /// Per node.
    pub by_node: Vec<ContributionGroup>,
    /// Per service line.
    pub by_service_line: Vec<ContributionGroup>,
    /// Revenue and costs that belong to no row: minimum-commitment revenue of an activity
    /// with no volume anywhere, and fixed cost and overhead of activities not performed.
    pub unallocated: ContributionMargins,
    /// The whole account.
    pub total: ContributionMargins,
}

/// Cost-to-serve of `volumes` priced on `card` with costs from `costs`.
///
/// Each activity is priced once on the account's total volume (so tiers and minimums see
/// the whole account), then its revenue, dedicated fixed cost and allocated overhead are
/// split across the rows in proportion to their quantity (equally if the activity's total
/// quantity is zero); variable cost is quantity × unit cost. All amounts are unrounded
/// except line revenue, which follows the card's rounding policy.
///
/// ```
/// use kam_core::pricing::{ActivityCost, CostModel, RateCard, ServedVolume, cost_to_serve};
/// use rust_decimal::Decimal;
///
/// let mut card = RateCard::from_code("EUR")?;
/// card.flat("pick_line", Decimal::new(65, 2))?;
/// let costs = CostModel {
///     currency: card.currency(),
///     activities: vec![ActivityCost {
///         activity: "pick_line".into(),
///         variable_per_unit: Decimal::new(40, 2),
///         dedicated_fixed: Decimal::from(3000),
///         allocated_overhead: Decimal::from(1000),
///     }],
/// };
/// let at = |node: &str, q: i64| ServedVolume {
///     node: node.into(),
///     service_line: "warehousing".into(),
///     activity: "pick_line".into(),
///     quantity: Decimal::from(q),
/// };
/// let cts = cost_to_serve(&card, &costs, &[at("leipzig", 12_000), at("pune", 6_000)])?;
/// assert_eq!(cts.rows[1].contribution.revenue, Decimal::from(3900)); // a third of 11,700
/// assert_eq!(cts.total.cm3.margin, Decimal::from(500)); // 11,700 − 7,200 − 3,000 − 1,000
/// # Ok::<(), kam_core::pricing::PricingError>(())
/// ```
///
/// # Errors
/// [`MoneyError::CurrencyMismatch`] when the card and cost model currencies differ; the
/// pricing errors of [`RateCard::price`]; [`PricingError::MissingCost`]; overflow.
pub fn cost_to_serve(
    card: &RateCard,
    costs: &CostModel,
    volumes: &[ServedVolume],
) -> Result<CostToServe, PricingError> {
    if card.currency() != costs.currency {
        return Err(MoneyError::CurrencyMismatch {
            operation: "cost-to-serve".into(),
            left: card.currency(),
            right: costs.currency,
        }
        .into());
    }
    let op = "cost-to-serve";
    let quote = card.price(volumes.iter().map(|v| (v.activity.as_str(), v.quantity)))?;
    // Row keys in order of first appearance.
    let mut row_index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for v in volumes {
        let key = (v.node.as_str(), v.service_line.as_str());
        row_index.entry(key).or_insert_with(|| {
            keys.push(key);
            keys.len() - 1
        });
    }
    let zero = Decimal::ZERO;
    // Per row: revenue, variable, fixed, overhead.
    let mut acc = vec![[zero; 4]; keys.len()];
    let mut unallocated = [zero; 4];
    let mut priced = std::collections::HashSet::new();
    for line in quote.lines() {
        let activity = line.activity.as_str();
        priced.insert(activity);
        let cost = costs
            .activity(activity)
            .ok_or_else(|| PricingError::MissingCost {
                activity: activity.to_owned(),
            })?;
        let revenue = match quote.rounding().level {
            crate::money::RoundingLevel::Line => line.amount.amount(),
            crate::money::RoundingLevel::Total => line.exact_amount,
        };
        let rows: Vec<&ServedVolume> = volumes.iter().filter(|v| v.activity == activity).collect();
        if rows.is_empty() {
            unallocated[0] = num::add(unallocated[0], revenue, op)?;
            unallocated[2] = num::add(unallocated[2], cost.dedicated_fixed, op)?;
            unallocated[3] = num::add(unallocated[3], cost.allocated_overhead, op)?;
            continue;
        }
        // Each split's last row takes the remainder, so the rows add up to the activity
        // exactly.
        let quantities: Vec<Decimal> = rows.iter().map(|v| v.quantity).collect();
        let share = |whole| num::split(whole, &quantities, line.quantity, op);
        let (revenues, fixed, overhead) = (
            share(revenue)?,
            share(cost.dedicated_fixed)?,
            share(cost.allocated_overhead)?,
        );
        for (((v, revenue), fixed), overhead) in rows.into_iter().zip(revenues).zip(fixed).zip(overhead) {
            let i = row_index
                .get(&(v.node.as_str(), v.service_line.as_str()))
                .copied()
                .unwrap_or_default();
            if let Some(r) = acc.get_mut(i) {
                r[0] = num::add(r[0], revenue, op)?;
                r[1] = num::add(r[1], num::mul(v.quantity, cost.variable_per_unit, op)?, op)?;
                r[2] = num::add(r[2], fixed, op)?;
                r[3] = num::add(r[3], overhead, op)?;
            }
        }
    }
    for c in &costs.activities {
        if !priced.contains(c.activity.as_str()) {
            unallocated[2] = num::add(unallocated[2], c.dedicated_fixed, op)?;
            unallocated[3] = num::add(unallocated[3], c.allocated_overhead, op)?;
        }
    }
    let to_contribution = |p: &[Decimal; 4]| ContributionMargins::from_costs(p[0], [p[1], p[2], p[3]]);
    let add4 = |a: &mut [Decimal; 4], b: &[Decimal; 4]| -> Result<(), PricingError> {
        for (x, y) in a.iter_mut().zip(b) {
            *x = num::add(*x, *y, op)?;
        }
        Ok(())
    };
    let mut rows = Vec::with_capacity(keys.len());
    let mut nodes: Vec<(String, [Decimal; 4])> = Vec::new();
    let mut lines: Vec<(String, [Decimal; 4])> = Vec::new();
    let mut total = unallocated;
    for ((node, service_line), parts) in keys.iter().zip(&acc) {
        rows.push(ContributionRow {
            node: (*node).to_owned(),
            service_line: (*service_line).to_owned(),
            contribution: to_contribution(parts)?,
        });
        for (list, key) in [(&mut nodes, *node), (&mut lines, *service_line)] {
            match list.iter_mut().find(|(k, _)| k == key) {
                Some((_, sum)) => add4(sum, parts)?,
                None => list.push((key.to_owned(), *parts)),
            }
        }
        add4(&mut total, parts)?;
    }
    let finish = |list: Vec<(String, [Decimal; 4])>| -> Result<Vec<ContributionGroup>, PricingError> {
        list.into_iter()
            .map(|(key, p)| {
                Ok(ContributionGroup {
                    key,
                    contribution: to_contribution(&p)?,
                })
            })
            .collect()
    };
    Ok(CostToServe {
        currency: card.currency(),
        rows,
        by_node: finish(nodes)?,
        by_service_line: finish(lines)?,
        unallocated: to_contribution(&unallocated)?,
        total: to_contribution(&total)?,
    })
}
