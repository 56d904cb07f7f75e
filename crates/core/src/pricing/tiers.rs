//! Flat rates and tier schedules: validation, charges with their breakdown, and the
//! all-units cliff.
//!
//! The tier and cliff rules are documented on the [`pricing`](super) module.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::PricingError;
use crate::format::group_thousands;
use crate::num;

/// How a tier schedule charges a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMethod {
    /// Each slice at its own tier's rate (`"graduated"`).
    Graduated,
    /// The whole quantity at the rate of the tier it falls in (`"all_units"`).
    AllUnits,
}

impl TierMethod {
    /// The name used in files and scripts.
    pub fn as_str(self) -> &'static str {
        match self {
            TierMethod::Graduated => "graduated",
            TierMethod::AllUnits => "all_units",
        }
    }
}

impl std::str::FromStr for TierMethod {
    type Err = PricingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "graduated" => Ok(TierMethod::Graduated),
            "all_units" => Ok(TierMethod::AllUnits),
            other => Err(PricingError::UnknownTierMethod {
                method: other.to_owned(),
            }),
        }
    }
}

/// One tier: quantities up to and including `up_to` (none: no bound) at `rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tier {
    /// Inclusive upper bound; `None` only on the last tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to: Option<Decimal>,
    /// Unit rate, all decimals kept.
    pub rate: Decimal,
}

impl Tier {
    /// A bounded tier.
    pub const fn up_to(up_to: Decimal, rate: Decimal) -> Self {
        Tier {
            up_to: Some(up_to),
            rate,
        }
    }

    /// An unbounded (last) tier.
    pub const fn unbounded(rate: Decimal) -> Self {
        Tier { up_to: None, rate }
    }
}

/// How an activity is charged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Schedule {
    /// One rate for every unit.
    Flat {
        /// Unit rate.
        rate: Decimal,
    },
    /// A tier schedule.
    Tiered {
        /// Graduated or all-units.
        method: TierMethod,
        /// Tiers in ascending order of `up_to`.
        tiers: Vec<Tier>,
    },
}

/// One rate applied to one slice of a billed quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppliedRate {
    /// 1-based tier number; `None` for a flat rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<usize>,
    /// The quantity charged at this rate.
    pub quantity: Decimal,
    /// The unit rate.
    pub rate: Decimal,
    /// `quantity × rate`, unrounded.
    pub amount: Decimal,
}

/// The exact (unrounded) charge for a quantity and how it was made up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Charge {
    /// The slices and their rates.
    pub applied: Vec<AppliedRate>,
    /// Σ slice amounts, unrounded.
    pub amount: Decimal,
}

impl Schedule {
    /// Checks rates and tier bounds; errors name `activity` and the tier.
    ///
    /// # Errors
    /// [`PricingError::NegativeRate`], [`PricingError::EmptyTiers`],
    /// [`PricingError::NonPositiveTierBound`], [`PricingError::UnsortedTiers`],
    /// [`PricingError::OverlappingTiers`], [`PricingError::UnboundedTierNotLast`].
    pub fn validate(&self, activity: &str) -> Result<(), PricingError> {
        let negative = |rate: Decimal| PricingError::NegativeRate {
            activity: activity.to_owned(),
            rate,
        };
        match self {
            Schedule::Flat { rate } => {
                if rate.is_sign_negative() && !rate.is_zero() {
                    return Err(negative(*rate));
                }
            }
            Schedule::Tiered { tiers, .. } => {
                if tiers.is_empty() {
                    return Err(PricingError::EmptyTiers {
                        activity: activity.to_owned(),
                    });
                }
                let mut previous: Option<Decimal> = None;
                let last = tiers.len() - 1;
                for (i, tier) in tiers.iter().enumerate() {
                    let n = i + 1;
                    if tier.rate < Decimal::ZERO {
                        return Err(negative(tier.rate));
                    }
                    match tier.up_to {
                        None if i != last => {
                            return Err(PricingError::UnboundedTierNotLast {
                                activity: activity.to_owned(),
                                tier: n,
                            });
                        }
                        None => {}
                        Some(up_to) => {
                            if up_to <= Decimal::ZERO {
                                return Err(PricingError::NonPositiveTierBound {
                                    activity: activity.to_owned(),
                                    tier: n,
                                    up_to,
                                });
                            }
                            if let Some(prev) = previous {
                                if up_to < prev {
                                    return Err(PricingError::UnsortedTiers {
                                        activity: activity.to_owned(),
                                        tier: n,
                                        up_to,
                                        previous: prev,
                                    });
                                }
                                if up_to == prev {
                                    return Err(PricingError::OverlappingTiers {
                                        activity: activity.to_owned(),
                                        tier: n,
                                        up_to,
                                    });
                                }
                            }
                            previous = Some(up_to);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The exact charge for `quantity` (not rounded), with its breakdown.
    ///
    /// # Errors
    /// [`PricingError::NegativeQuantity`], [`PricingError::QuantityAboveLastTier`],
    /// overflow; on an unvalidated schedule also the [`Schedule::validate`] errors.
    pub fn charge(&self, activity: &str, quantity: Decimal) -> Result<Charge, PricingError> {
        if quantity < Decimal::ZERO {
            return Err(PricingError::NegativeQuantity {
                activity: activity.to_owned(),
                quantity,
                record: None,
            });
        }
        match self {
            Schedule::Flat { rate } => {
                let amount = num::mul(quantity, *rate, activity)?;
                Ok(Charge {
                    applied: vec![AppliedRate {
                        tier: None,
                        quantity,
                        rate: *rate,
                        amount,
                    }],
                    amount,
                })
            }
            Schedule::Tiered { method, tiers } => {
                self.validate(activity)?;
                if let Some(Tier {
                    up_to: Some(last), ..
                }) = tiers.last()
                    && quantity > *last
                {
                    return Err(PricingError::QuantityAboveLastTier {
                        activity: activity.to_owned(),
                        quantity,
                        last_up_to: *last,
                    });
                }
                match method {
                    TierMethod::Graduated => graduated(activity, tiers, quantity),
                    TierMethod::AllUnits => all_units(activity, tiers, quantity),
                }
            }
        }
    }

    /// The all-units cliff warning for `quantity` (see the module docs for the rule), as
    /// a message; `None` for flat and graduated schedules and outside any cliff. `dp` is
    /// the number of decimals amounts are shown with.
    pub fn cliff_warning(&self, activity: &str, quantity: Decimal, dp: u32) -> Option<(CliffSide, String)> {
        let Schedule::Tiered {
            method: TierMethod::AllUnits,
            tiers,
        } = self
        else {
            return None;
        };
        let k = tiers.iter().position(|t| t.up_to.is_none_or(|u| quantity <= u))?;
        let rate_k = tiers.get(k)?.rate;
        let charge = quantity.checked_mul(rate_k)?;
        let q = group_thousands(quantity, 0);
        // Less than a smaller volume: the dearest top of an earlier tier.
        let dearest_below = tiers
            .iter()
            .take(k)
            .filter_map(|t| t.up_to.and_then(|b| b.checked_mul(t.rate).map(|c| (b, c))))
            .max_by(|a, b| a.1.cmp(&b.1));
        if let Some((bound, at_bound)) = dearest_below
            && charge < at_bound
        {
            return Some((
                CliffSide::Above,
                format!(
                    "{activity}: all-units cliff — {q} costs {}, less than {} costs ({}): more volume is cheaper across the tier bound {}",
                    group_thousands(charge, dp),
                    group_thousands(bound, 0),
                    group_thousands(at_bound, dp),
                    group_thousands(bound, 0),
                ),
            ));
        }
        // More volume is cheaper: the cheapest start of a later tier.
        let cheapest_above = tiers
            .windows(2)
            .skip(k)
            .filter_map(|w| match w {
                [prev, next] => prev.up_to.and_then(|b| b.checked_mul(next.rate).map(|c| (b, c))),
                _ => None,
            })
            .min_by(|a, b| a.1.cmp(&b.1));
        if let Some((bound, from)) = cheapest_above
            && charge > from
        {
            return Some((
                CliffSide::Below,
                format!(
                    "{activity}: all-units cliff — {q} costs {}, more than any quantity just above {} (from {}): billing more volume would cost less",
                    group_thousands(charge, dp),
                    group_thousands(bound, 0),
                    group_thousands(from, dp),
                ),
            ));
        }
        None
    }
}

/// Which side of an all-units tier bound a flagged quantity is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CliffSide {
    /// Just below a bound: more volume would cost less.
    Below,
    /// Just above a bound: costs less than a smaller volume.
    Above,
}

fn graduated(activity: &str, tiers: &[Tier], quantity: Decimal) -> Result<Charge, PricingError> {
    let mut applied = Vec::with_capacity(tiers.len());
    let mut lower = Decimal::ZERO;
    let mut amount = Decimal::ZERO;
    for (i, tier) in tiers.iter().enumerate() {
        if i > 0 && quantity <= lower {
            break;
        }
        let upper = tier.up_to.map_or(quantity, |u| u.min(quantity));
        let slice = num::sub(upper, lower, activity)?.max(Decimal::ZERO);
        let slice_amount = num::mul(slice, tier.rate, activity)?;
        amount = num::add(amount, slice_amount, activity)?;
        applied.push(AppliedRate {
            tier: Some(i + 1),
            quantity: slice,
            rate: tier.rate,
            amount: slice_amount,
        });
        if let Some(u) = tier.up_to {
            lower = u;
        }
    }
    Ok(Charge { applied, amount })
}

fn all_units(activity: &str, tiers: &[Tier], quantity: Decimal) -> Result<Charge, PricingError> {
    let (i, tier) = tiers
        .iter()
        .enumerate()
        .find(|(_, t)| t.up_to.is_none_or(|u| quantity <= u))
        .ok_or_else(|| PricingError::EmptyTiers {
            activity: activity.to_owned(),
        })?;
    let amount = num::mul(quantity, tier.rate, activity)?;
    Ok(Charge {
        applied: vec![AppliedRate {
            tier: Some(i + 1),
            quantity,
            rate: tier.rate,
            amount,
        }],
        amount,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn bands(method: TierMethod) -> Schedule {
        Schedule::Tiered {
            method,
            tiers: vec![
                Tier::up_to(dec!(10000), dec!(0.70)),
                Tier::up_to(dec!(25000), dec!(0.60)),
                Tier::unbounded(dec!(0.50)),
            ],
        }
    }

    #[test]
    fn graduated_breakdown() {
        let c = bands(TierMethod::Graduated)
            .charge("pick_line", dec!(30000))
            .unwrap();
        assert_eq!(c.amount, dec!(18500));
        assert_eq!(c.applied.len(), 3);
        assert_eq!(c.applied[2].quantity, dec!(5000));
        let zero = bands(TierMethod::Graduated).charge("pick_line", dec!(0)).unwrap();
        assert_eq!(zero.amount, dec!(0));
        assert_eq!(zero.applied.len(), 1);
    }

    #[test]
    fn cliff_both_sides() {
        let s = bands(TierMethod::AllUnits);
        let above = s.cliff_warning("pick_line", dec!(10001), 2).map(|w| w.0);
        assert_eq!(above, Some(CliffSide::Above));
        let below = s.cliff_warning("pick_line", dec!(9999), 2).map(|w| w.0);
        assert_eq!(below, Some(CliffSide::Below));
        // 8,571.43 × 0.70 > 6,000 ⇒ flagged; 8,000 × 0.70 = 5,600 < 6,000 ⇒ not.
        assert_eq!(s.cliff_warning("pick_line", dec!(8000), 2), None);
        assert_eq!(
            s.cliff_warning("pick_line", dec!(10000), 2).map(|w| w.0),
            Some(CliffSide::Below)
        );
        // 11,666.67 × 0.60 = 7,000.00 ⇒ past the cliff.
        assert_eq!(s.cliff_warning("pick_line", dec!(11667), 2), None);
        assert_eq!(
            bands(TierMethod::Graduated).cliff_warning("pick_line", dec!(10001), 2),
            None
        );
    }
}
