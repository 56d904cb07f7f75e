//! The rate card: activities, schedules, minimum commitments, and pricing volumes.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::activity::{ActivityName, UnitOfMeasure};
use super::quote::{Quote, QuoteLine, QuoteWarning, WarningKind};
use super::tiers::{Schedule, Tier, TierMethod};
use super::{PricingError, invalid};
use crate::format::group_thousands;
use crate::fxhash::FxMap;
use crate::money::{Currency, RoundingLevel, RoundingPolicy};
use crate::num;

/// Volumes per activity for one period, as read from a file: `{ pick_line = "18000" }`.
pub type Volumes = BTreeMap<String, Decimal>;

/// One activity record (a warehouse transaction, a shipment, a timesheet entry).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActivityRecord {
    /// Activity name, e.g. `pick_line`.
    pub activity: String,
    /// Quantity performed; may be fractional.
    pub quantity: Decimal,
}

/// Credit banking on a minimum commitment: a shortfall paid in one period becomes a
/// credit the customer can use against volume above the minimum in the next
/// `expires_after_periods` periods (oldest credit first); what is left then expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CreditBanking {
    /// How many later periods a credit can be used in (0: none).
    pub expires_after_periods: u32,
}

/// A take-or-pay minimum: at least `quantity` is billed each period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MinimumCommitment {
    /// The committed quantity per period.
    pub quantity: Decimal,
    /// Optional credit banking of shortfall payments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banking: Option<CreditBanking>,
}

/// One activity on a rate card.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActivityRate {
    /// The activity.
    pub activity: ActivityName,
    /// Its unit of measure.
    pub unit: UnitOfMeasure,
    /// Flat or tiered.
    pub schedule: Schedule,
    /// Optional take-or-pay minimum per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<MinimumCommitment>,
}

impl ActivityRate {
    fn validate(&self) -> Result<(), PricingError> {
        self.schedule.validate(self.activity.as_str())?;
        if let Some(m) = &self.minimum
            && m.quantity < Decimal::ZERO
        {
            return Err(PricingError::NegativeMinimum {
                activity: self.activity.to_string(),
                minimum: m.quantity,
            });
        }
        Ok(())
    }

    /// The quantity billed for `quantity` performed: `max(quantity, minimum)`.
    pub fn billed_quantity(&self, quantity: Decimal) -> Decimal {
        match &self.minimum {
            Some(m) if m.quantity > quantity => m.quantity,
            _ => quantity,
        }
    }
}

/// A rate card: the currency, the rounding policy and the priced activities in order.
///
/// Built in code ([`RateCard::flat`], [`RateCard::tiered`], [`RateCard::minimum`]) or read
/// from JSON/TOML (validated on the way in). Lines of a quote come in card order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RateCardData")]
pub struct RateCard {
    currency: Currency,
    #[serde(default)]
    rounding: RoundingPolicy,
    activities: Vec<ActivityRate>,
}

#[derive(Deserialize)]
struct RateCardData {
    currency: Currency,
    #[serde(default)]
    rounding: RoundingPolicy,
    #[serde(default)]
    activities: Vec<ActivityRate>,
}

impl TryFrom<RateCardData> for RateCard {
    type Error = PricingError;
    fn try_from(d: RateCardData) -> Result<Self, Self::Error> {
        let mut card = RateCard::new(d.currency);
        card.rounding = d.rounding;
        for a in d.activities {
            if card.position(a.activity.as_str()).is_some() {
                return Err(PricingError::DuplicateActivity {
                    activity: a.activity.to_string(),
                });
            }
            a.validate()?;
            card.activities.push(a);
        }
        Ok(card)
    }
}

impl RateCard {
    /// An empty card in `currency`, rounding half-up per line.
    pub fn new(currency: Currency) -> Self {
        RateCard {
            currency,
            rounding: RoundingPolicy::default(),
            activities: Vec::new(),
        }
    }

    /// An empty card for an ISO 4217 code.
    ///
    /// # Errors
    /// [`MoneyError::UnknownCurrency`](crate::money::MoneyError::UnknownCurrency).
    pub fn from_code(code: &str) -> Result<Self, PricingError> {
        Ok(RateCard::new(Currency::from_code(code)?))
    }

    /// The card currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The rounding policy every quote from this card uses.
    pub fn rounding(&self) -> RoundingPolicy {
        self.rounding
    }

    /// Sets the rounding policy.
    pub fn set_rounding(&mut self, policy: RoundingPolicy) -> &mut Self {
        self.rounding = policy;
        self
    }

    /// Sets the rounding policy from its names, as in files and scripts: mode
    /// `"half_even"` | `"half_up"` (half away from zero), level `"line"` | `"total"`.
    ///
    /// # Errors
    /// [`MoneyError::UnknownRoundingMode`](crate::money::MoneyError::UnknownRoundingMode),
    /// [`MoneyError::UnknownRoundingLevel`](crate::money::MoneyError::UnknownRoundingLevel).
    pub fn set_rounding_by_name(&mut self, mode: &str, level: &str) -> Result<&mut Self, PricingError> {
        let policy = RoundingPolicy::new(mode.parse()?, level.parse()?);
        Ok(self.set_rounding(policy))
    }

    /// Prices `activity` by a tier schedule whose method is given by name
    /// (`"graduated"` | `"all_units"`), as in files and scripts.
    ///
    /// # Errors
    /// [`PricingError::UnknownTierMethod`] and the errors of [`RateCard::tiered`].
    pub fn tiered_by_name(
        &mut self,
        activity: &str,
        method: &str,
        tiers: Vec<Tier>,
    ) -> Result<&mut Self, PricingError> {
        let method: TierMethod = method.parse()?;
        self.tiered(activity, method, tiers)
    }

    /// The activities in card order.
    pub fn activities(&self) -> &[ActivityRate] {
        &self.activities
    }

    /// The activity called `name`, if on the card.
    pub fn activity(&self, name: &str) -> Option<&ActivityRate> {
        self.activities.iter().find(|a| a.activity.as_str() == name)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.activities.iter().position(|a| a.activity.as_str() == name)
    }

    /// Adds `rate` (validated), or replaces the schedule and unit of an activity already
    /// on the card, keeping its place (and its minimum unless `rate` brings one).
    ///
    /// # Errors
    /// The [`Schedule::validate`] errors, a negative minimum.
    pub fn set_activity(&mut self, rate: ActivityRate) -> Result<&mut Self, PricingError> {
        rate.validate()?;
        match self.position(rate.activity.as_str()) {
            Some(i) => {
                if let Some(existing) = self.activities.get_mut(i) {
                    let minimum = rate.minimum.or(existing.minimum);
                    *existing = ActivityRate { minimum, ..rate };
                }
            }
            None => self.activities.push(rate),
        }
        Ok(self)
    }

    /// Prices `activity` at a flat `rate`; the unit is inferred from the name
    /// ([`UnitOfMeasure::for_activity`]).
    ///
    /// # Errors
    /// [`PricingError::InvalidActivityName`], [`PricingError::NegativeRate`].
    pub fn flat(&mut self, activity: &str, rate: Decimal) -> Result<&mut Self, PricingError> {
        self.set_activity(ActivityRate {
            activity: ActivityName::new(activity)?,
            unit: UnitOfMeasure::for_activity(activity),
            schedule: Schedule::Flat { rate },
            minimum: None,
        })
    }

    /// Prices `activity` by a tier schedule; the unit is inferred from the name.
    ///
    /// # Errors
    /// [`PricingError::InvalidActivityName`] and the [`Schedule::validate`] errors
    /// (unsorted or overlapping tiers, an unbounded tier before the last…).
    pub fn tiered(
        &mut self,
        activity: &str,
        method: TierMethod,
        tiers: Vec<Tier>,
    ) -> Result<&mut Self, PricingError> {
        self.set_activity(ActivityRate {
            activity: ActivityName::new(activity)?,
            unit: UnitOfMeasure::for_activity(activity),
            schedule: Schedule::Tiered { method, tiers },
            minimum: None,
        })
    }

    /// Sets a take-or-pay minimum of `quantity` per period on `activity` (no banking).
    ///
    /// # Errors
    /// [`PricingError::UnknownActivity`], [`PricingError::NegativeMinimum`].
    pub fn minimum(&mut self, activity: &str, quantity: Decimal) -> Result<&mut Self, PricingError> {
        self.set_minimum(
            activity,
            MinimumCommitment {
                quantity,
                banking: None,
            },
        )
    }

    /// Sets (replaces) the minimum commitment of `activity`.
    ///
    /// # Errors
    /// [`PricingError::UnknownActivity`], [`PricingError::NegativeMinimum`].
    pub fn set_minimum(
        &mut self,
        activity: &str,
        minimum: MinimumCommitment,
    ) -> Result<&mut Self, PricingError> {
        if minimum.quantity < Decimal::ZERO {
            return Err(PricingError::NegativeMinimum {
                activity: activity.to_owned(),
                minimum: minimum.quantity,
            });
        }
        let a = self
            .activities
            .iter_mut()
            .find(|a| a.activity.as_str() == activity)
            .ok_or_else(|| PricingError::UnknownActivity {
                activity: activity.to_owned(),
            })?;
        a.minimum = Some(minimum);
        Ok(self)
    }

    /// A copy of the card with every unit rate (flat and tier) multiplied by `factor`,
    /// e.g. an [`IndexClause`](super::IndexClause) factor; rates are rounded to `rate_dp`
    /// decimals with the card's rounding mode when given, else kept exact.
    ///
    /// # Errors
    /// A negative factor ([`PricingError::InvalidParameter`]), overflow.
    pub fn escalate(&self, factor: Decimal, rate_dp: Option<u32>) -> Result<RateCard, PricingError> {
        if factor < Decimal::ZERO {
            return Err(invalid("escalation factor", factor, "must not be negative"));
        }
        let mode = self.rounding.mode;
        let scale = |rate: Decimal, activity: &str| -> Result<Decimal, PricingError> {
            let r = num::mul(rate, factor, activity)?;
            Ok(rate_dp.map_or(r, |dp| mode.round(r, dp)))
        };
        let mut out = self.clone();
        for a in &mut out.activities {
            let name = a.activity.to_string();
            match &mut a.schedule {
                Schedule::Flat { rate } => *rate = scale(*rate, &name)?,
                Schedule::Tiered { tiers, .. } => {
                    for t in tiers.iter_mut() {
                        t.rate = scale(t.rate, &name)?;
                    }
                }
            }
        }
        Ok(out)
    }

    /// A streaming accumulator for activity records; [`VolumeAccumulator::finish`] prices
    /// the totals. Use it to price a month of transactions without collecting them.
    pub fn accumulator(&self) -> VolumeAccumulator<'_> {
        VolumeAccumulator::new(self)
    }

    /// Prices `volumes`: (activity, quantity) pairs — a volumes map or individual
    /// records; repeated activities are summed. Lines come in card order, one per activity
    /// given or carrying a minimum commitment.
    ///
    /// # Errors
    /// [`PricingError::UnknownActivity`], [`PricingError::NegativeQuantity`] (with the
    /// record index), [`PricingError::QuantityAboveLastTier`], overflow.
    ///
    /// ```
    /// use kam_core::pricing::RateCard;
    /// use rust_decimal::Decimal;
    ///
    /// let mut card = RateCard::from_code("EUR")?;
    /// card.flat("pick_line", Decimal::new(65, 2))?;
    /// card.minimum("pick_line", Decimal::from(20_000))?;
    /// let q = card.price([("pick_line", Decimal::from(18_000))])?;
    /// assert_eq!(q.total().amount(), Decimal::from(13_000));
    /// assert_eq!(q.lines()[0].billed_quantity, Decimal::from(20_000));
    /// # Ok::<(), kam_core::pricing::PricingError>(())
    /// ```
    pub fn price<I, K, V>(&self, volumes: I) -> Result<Quote, PricingError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Borrow<Decimal>,
    {
        let mut acc = self.accumulator();
        for (activity, quantity) in volumes {
            acc.add(activity.as_ref(), *quantity.borrow())?;
        }
        acc.finish()
    }

    /// Prices individual records (see [`RateCard::price`]).
    ///
    /// # Errors
    /// As [`RateCard::price`].
    pub fn price_records<'r, I>(&self, records: I) -> Result<Quote, PricingError>
    where
        I: IntoIterator<Item = &'r ActivityRecord>,
    {
        let mut acc = self.accumulator();
        for r in records {
            acc.add(&r.activity, r.quantity)?;
        }
        acc.finish()
    }

    /// The quote line for `quantity` performed of activity `a`.
    fn line(
        &self,
        a: &ActivityRate,
        quantity: Decimal,
        warnings: &mut Vec<QuoteWarning>,
    ) -> Result<QuoteLine, PricingError> {
        let name = a.activity.as_str();
        let billed = a.billed_quantity(quantity);
        let charge = a.schedule.charge(name, billed)?;
        let dp = self.currency.minor_units();
        let rounded = self.rounding.mode.round(charge.amount, dp);
        let amount = match self.rounding.level {
            RoundingLevel::Line => super::quote::with_scale(rounded, dp),
            RoundingLevel::Total => charge.amount,
        };
        if billed > quantity {
            let shortfall = num::sub(billed, quantity, name)?;
            warnings.push(QuoteWarning {
                activity: name.to_owned(),
                kind: WarningKind::MinimumShortfall,
                message: format!(
                    "{name}: {} is below the minimum commitment of {}: shortfall of {} billed",
                    group_thousands(quantity, 0),
                    group_thousands(billed, 0),
                    group_thousands(shortfall, 0),
                ),
            });
        }
        if let Some((side, message)) = a.schedule.cliff_warning(name, billed, dp) {
            warnings.push(QuoteWarning {
                activity: name.to_owned(),
                kind: WarningKind::AllUnitsCliff(side),
                message,
            });
        }
        let explanation = explain(self, a, quantity, billed, &charge, amount);
        Ok(QuoteLine {
            activity: name.to_owned(),
            unit: a.unit.clone(),
            quantity,
            billed_quantity: billed,
            rates: charge.applied,
            exact_amount: charge.amount,
            amount: crate::money::Money::new(amount, self.currency),
            explanation,
        })
    }
}

fn explain(
    card: &RateCard,
    a: &ActivityRate,
    quantity: Decimal,
    billed: Decimal,
    charge: &super::tiers::Charge,
    amount: Decimal,
) -> String {
    let dp = card.currency.minor_units();
    let name = a.activity.as_str();
    let mut s = format!("{} {name}", group_thousands(quantity, 0));
    if billed > quantity {
        s.push_str(&format!(
            " (minimum {}, shortfall {} billed)",
            group_thousands(billed, 0),
            group_thousands(billed - quantity, 0)
        ));
    }
    s.push_str(": ");
    let terms: Vec<String> = charge
        .applied
        .iter()
        .map(|r| {
            format!(
                "{} × {}",
                group_thousands(r.quantity, 0),
                group_thousands(r.rate, 0)
            )
        })
        .collect();
    s.push_str(&terms.join(" + "));
    if let Schedule::Tiered {
        method: TierMethod::AllUnits,
        tiers,
    } = &a.schedule
        && let Some(t) = charge.applied.first().and_then(|r| r.tier)
    {
        let bound = tiers.get(t - 1).and_then(|tier| tier.up_to).map_or_else(
            || "unbounded".to_owned(),
            |u| format!("up to {}", group_thousands(u, 0)),
        );
        s.push_str(&format!(" (all units, tier {t} {bound})"));
    }
    s.push_str(" = ");
    s.push_str(&group_thousands(amount, dp));
    if card.rounding.level == RoundingLevel::Line && amount != charge.amount {
        s.push_str(&format!(
            " (exact {}, rounded {})",
            group_thousands(charge.amount, 0),
            card.rounding.mode.as_str()
        ));
    }
    s
}

/// Sums activity records per activity for one [`RateCard`], then prices the totals.
///
/// Each record costs a hash look-up and a checked addition, so a month of transactions
/// prices at millions of records per second.
#[derive(Debug)]
pub struct VolumeAccumulator<'c> {
    card: &'c RateCard,
    index: FxMap<&'c str, usize>,
    totals: Vec<Option<Decimal>>,
    records: u64,
}

impl<'c> VolumeAccumulator<'c> {
    fn new(card: &'c RateCard) -> Self {
        VolumeAccumulator {
            card,
            index: card
                .activities
                .iter()
                .enumerate()
                .map(|(i, a)| (a.activity.as_str(), i))
                .collect(),
            totals: vec![None; card.activities.len()],
            records: 0,
        }
    }

    /// Adds one record.
    ///
    /// # Errors
    /// [`PricingError::UnknownActivity`], [`PricingError::NegativeQuantity`] (naming the
    /// 0-based record index), overflow of the activity's total.
    #[inline]
    pub fn add(&mut self, activity: &str, quantity: Decimal) -> Result<(), PricingError> {
        let record = self.records;
        self.records += 1;
        let Some(&i) = self.index.get(activity) else {
            return Err(PricingError::UnknownActivity {
                activity: activity.to_owned(),
            });
        };
        if quantity.is_sign_negative() && !quantity.is_zero() {
            return Err(PricingError::NegativeQuantity {
                activity: activity.to_owned(),
                quantity,
                record: Some(record),
            });
        }
        if let Some(total) = self.totals.get_mut(i) {
            *total = Some(match total {
                Some(t) => num::add(*t, quantity, activity)?,
                None => quantity,
            });
        }
        Ok(())
    }

    /// How many records were added.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Prices the accumulated totals.
    ///
    /// # Errors
    /// [`PricingError::QuantityAboveLastTier`], overflow.
    pub fn finish(self) -> Result<Quote, PricingError> {
        let card = self.card;
        let mut lines = Vec::new();
        let mut warnings = Vec::new();
        for (a, total) in card.activities.iter().zip(self.totals) {
            let quantity = match (total, &a.minimum) {
                (Some(q), _) => q,
                (None, Some(_)) => Decimal::ZERO,
                (None, None) => continue,
            };
            lines.push(card.line(a, quantity, &mut warnings)?);
        }
        Quote::new(card.currency, card.rounding, lines, warnings)
    }
}
