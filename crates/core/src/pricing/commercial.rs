//! Commercial models and clauses: transactional, cost-plus, management fee, fixed +
//! variable, gainshare/painshare (one share, or banded by saving %), index-linked escalation, fuel surcharge, FX clause.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::rate_card::{RateCard, Volumes};
use super::{PricingError, invalid};
use crate::money::{FxRate, Money, MoneyError};
use crate::num;

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// A markup on cost, in percent: price = cost × (1 + markup/100). Distinct from
/// [`Margin`] (a share of price); convert with [`Markup::to_margin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Markup(Decimal);

/// A margin on price, in percent: margin = (price − cost)/price × 100. Distinct from
/// [`Markup`]; convert with [`Margin::to_markup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Margin(Decimal);

impl Markup {
    /// A markup of `pct` percent.
    pub const fn from_pct(pct: Decimal) -> Self {
        Markup(pct)
    }

    /// The percentage.
    pub const fn pct(self) -> Decimal {
        self.0
    }

    /// The equivalent margin: `markup / (1 + markup)` in fractions, i.e.
    /// `100 × m / (100 + m)` in percent — unrounded. 6 % markup → 5.6603… % margin.
    ///
    /// # Errors
    /// A markup of −100 % or below (no positive price), as [`PricingError::InvalidParameter`].
    pub fn to_margin(self) -> Result<Margin, PricingError> {
        if self.0 <= -HUNDRED {
            return Err(invalid("markup %", self.0, "must be above -100"));
        }
        let denom = num::add(HUNDRED, self.0, "markup to margin")?;
        Ok(Margin(num::div(
            num::mul(HUNDRED, self.0, "markup to margin")?,
            denom,
            "markup to margin",
        )?))
    }

    /// `cost × (1 + markup/100)`, unrounded.
    ///
    /// # Errors
    /// Overflow.
    pub fn apply(self, cost: Decimal) -> Result<Decimal, PricingError> {
        let extra = num::div(num::mul(cost, self.0, "cost-plus")?, HUNDRED, "cost-plus")?;
        Ok(num::add(cost, extra, "cost-plus")?)
    }
}

impl Margin {
    /// A margin of `pct` percent.
    pub const fn from_pct(pct: Decimal) -> Self {
        Margin(pct)
    }

    /// The percentage.
    pub const fn pct(self) -> Decimal {
        self.0
    }

    /// The equivalent markup: `margin / (1 − margin)` in fractions, i.e.
    /// `100 × g / (100 − g)` in percent — unrounded.
    ///
    /// # Errors
    /// A margin of 100 % or more, as [`PricingError::InvalidParameter`].
    pub fn to_markup(self) -> Result<Markup, PricingError> {
        if self.0 >= HUNDRED {
            return Err(invalid("margin %", self.0, "must be below 100"));
        }
        let denom = num::sub(HUNDRED, self.0, "margin to markup")?;
        Ok(Markup(num::div(
            num::mul(HUNDRED, self.0, "margin to markup")?,
            denom,
            "margin to markup",
        )?))
    }

    /// The price that earns this margin on `cost`: `cost × 100 / (100 − margin)`.
    ///
    /// # Errors
    /// A margin of 100 % or more, overflow.
    pub fn price_for_cost(self, cost: Decimal) -> Result<Decimal, PricingError> {
        if self.0 >= HUNDRED {
            return Err(invalid("margin %", self.0, "must be below 100"));
        }
        let denom = num::sub(HUNDRED, self.0, "margin pricing")?;
        Ok(num::div(
            num::mul(cost, HUNDRED, "margin pricing")?,
            denom,
            "margin pricing",
        )?)
    }
}

impl fmt::Display for Markup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} % markup", self.0)
    }
}

impl fmt::Display for Margin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} % margin", self.0)
    }
}

/// Cost-plus: `cost × (1 + markup/100)`, unrounded, in the cost's currency.
///
/// ```
/// use kam_core::money::{Currency, Money};
/// use kam_core::pricing::{Markup, cost_plus};
/// use rust_decimal::Decimal;
///
/// let cost = Money::new(Decimal::from(190_000), Currency::from_code("EUR")?);
/// let price = cost_plus(&cost, Markup::from_pct(Decimal::from(6)))?;
/// assert_eq!(price.amount(), Decimal::from(201_400));
/// # Ok::<(), kam_core::pricing::PricingError>(())
/// ```
///
/// # Errors
/// Overflow.
pub fn cost_plus(cost: &Money, markup: Markup) -> Result<Money, PricingError> {
    Ok(Money::new(markup.apply(cost.amount())?, cost.currency()))
}

/// Markup % → margin %, unrounded (see [`Markup::to_margin`]).
///
/// # Errors
/// A markup of −100 % or below.
pub fn markup_to_margin(markup_pct: Decimal) -> Result<Decimal, PricingError> {
    Markup(markup_pct).to_margin().map(Margin::pct)
}

/// Margin % → markup %, unrounded (see [`Margin::to_markup`]).
///
/// # Errors
/// A margin of 100 % or more.
pub fn margin_to_markup(margin_pct: Decimal) -> Result<Decimal, PricingError> {
    Margin(margin_pct).to_markup().map(Markup::pct)
}

fn non_negative(parameter: &str, value: Decimal) -> Result<(), PricingError> {
    if value < Decimal::ZERO {
        return Err(invalid(parameter, value, "must not be negative"));
    }
    Ok(())
}

fn percent(parameter: &str, value: Decimal) -> Result<(), PricingError> {
    if value < Decimal::ZERO || value > HUNDRED {
        return Err(invalid(parameter, value, "must be between 0 and 100"));
    }
    Ok(())
}

/// How an open-book management fee is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeeBasis {
    /// A fixed fee per period.
    Fixed {
        /// The fee.
        amount: Decimal,
    },
    /// A percentage of the pass-through cost.
    PercentOfCost {
        /// Percent of cost.
        pct: Decimal,
    },
}

impl FeeBasis {
    /// The fee on `cost`, unrounded.
    ///
    /// # Errors
    /// A negative fee or percentage, overflow.
    pub fn fee(&self, cost: Decimal) -> Result<Decimal, PricingError> {
        match *self {
            FeeBasis::Fixed { amount } => {
                non_negative("management fee", amount)?;
                Ok(amount)
            }
            FeeBasis::PercentOfCost { pct } => {
                non_negative("management fee %", pct)?;
                Ok(num::div(
                    num::mul(cost, pct, "management fee")?,
                    HUNDRED,
                    "management fee",
                )?)
            }
        }
    }

    /// Open-book price: the pass-through `cost` plus the fee, unrounded.
    ///
    /// # Errors
    /// As [`FeeBasis::fee`].
    pub fn open_book_price(&self, cost: &Money) -> Result<Money, PricingError> {
        let fee = self.fee(cost.amount())?;
        Ok(Money::new(
            num::add(cost.amount(), fee, "open-book price")?,
            cost.currency(),
        ))
    }
}

/// A fixed amount per period plus a rate per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FixedPlusVariable {
    /// Fixed part per period.
    pub fixed: Decimal,
    /// Variable rate per unit.
    pub rate: Decimal,
}

impl FixedPlusVariable {
    /// `fixed + quantity × rate`, unrounded.
    ///
    /// # Errors
    /// A negative quantity, overflow.
    pub fn charge(&self, quantity: Decimal) -> Result<Decimal, PricingError> {
        fixed_plus_variable(self.fixed, quantity, self.rate)
    }
}

/// `fixed + quantity × rate`, unrounded.
///
/// # Errors
/// A negative quantity ([`PricingError::InvalidParameter`]), overflow.
pub fn fixed_plus_variable(
    fixed: Decimal,
    quantity: Decimal,
    rate: Decimal,
) -> Result<Decimal, PricingError> {
    non_negative("quantity", quantity)?;
    let variable = num::mul(quantity, rate, "fixed plus variable")?;
    Ok(num::add(fixed, variable, "fixed plus variable")?)
}

/// Gainshare/painshare on unit cost against a baseline.
///
/// The saving is `(baseline − actual) × volume` (negative: an overrun). A deadband of
/// `deadband_pct` % of the baseline cost is neutral: only the part of the saving beyond
/// it is shared (`saving − band` for a gain, `saving + band` for an overrun, 0 inside).
/// The provider gets `provider_share_pct` % of a shared gain and bears `pain_share_pct` %
/// (default: the same) of a shared overrun, limited by `gain_cap` / `pain_cap` (amounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Gainshare {
    /// Baseline cost per unit.
    pub baseline_unit_cost: Decimal,
    /// Provider's share of a gain, percent.
    pub provider_share_pct: Decimal,
    /// Provider's share of an overrun, percent (default `provider_share_pct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pain_share_pct: Option<Decimal>,
    /// Neutral band, percent of the baseline cost.
    #[serde(default)]
    pub deadband_pct: Decimal,
    /// Most the provider can gain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gain_cap: Option<Decimal>,
    /// Most the provider can lose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pain_cap: Option<Decimal>,
}

/// The settlement of a [`Gainshare`] for one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GainshareOutcome {
    /// `baseline_unit_cost × volume`.
    pub baseline_cost: Decimal,
    /// `actual_unit_cost × volume`.
    pub actual_cost: Decimal,
    /// `baseline_cost − actual_cost` (negative: overrun).
    pub saving: Decimal,
    /// The part of the saving outside the deadband.
    pub shared_saving: Decimal,
    /// The provider's signed share (positive: gain, negative: pain), after caps.
    pub provider_share: Decimal,
    /// `saving − provider_share`: what the customer keeps (or bears).
    pub customer_share: Decimal,
    /// Whether a cap limited the provider's share.
    pub capped: bool,
}

impl Gainshare {
    /// A plain 2-way split without deadband or caps.
    pub const fn new(baseline_unit_cost: Decimal, provider_share_pct: Decimal) -> Self {
        Gainshare {
            baseline_unit_cost,
            provider_share_pct,
            pain_share_pct: None,
            deadband_pct: Decimal::ZERO,
            gain_cap: None,
            pain_cap: None,
        }
    }

    /// Settles one period at `actual_unit_cost` over `volume` units, unrounded.
    ///
    /// # Errors
    /// Negative costs, volume, deadband or caps; shares outside 0–100 %; overflow.
    pub fn settle(
        &self,
        actual_unit_cost: Decimal,
        volume: Decimal,
    ) -> Result<GainshareOutcome, PricingError> {
        non_negative("gainshare baseline unit cost", self.baseline_unit_cost)?;
        non_negative("gainshare actual unit cost", actual_unit_cost)?;
        non_negative("gainshare volume", volume)?;
        non_negative("gainshare deadband %", self.deadband_pct)?;
        percent("gainshare provider share %", self.provider_share_pct)?;
        let pain_pct = self.pain_share_pct.unwrap_or(self.provider_share_pct);
        percent("gainshare pain share %", pain_pct)?;
        for (name, cap) in [("gain cap", self.gain_cap), ("pain cap", self.pain_cap)] {
            if let Some(c) = cap {
                non_negative(name, c)?;
            }
        }
        let op = "gainshare";
        let baseline_cost = num::mul(self.baseline_unit_cost, volume, op)?;
        let actual_cost = num::mul(actual_unit_cost, volume, op)?;
        let saving = num::sub(baseline_cost, actual_cost, op)?;
        let band = num::div(num::mul(baseline_cost, self.deadband_pct, op)?, HUNDRED, op)?;
        let shared_saving = if saving > band {
            num::sub(saving, band, op)?
        } else if saving < -band {
            num::add(saving, band, op)?
        } else {
            Decimal::ZERO
        };
        let pct = if shared_saving >= Decimal::ZERO {
            self.provider_share_pct
        } else {
            pain_pct
        };
        let mut provider_share = num::div(num::mul(shared_saving, pct, op)?, HUNDRED, op)?;
        let mut capped = false;
        if let Some(cap) = self.gain_cap
            && provider_share > cap
        {
            provider_share = cap;
            capped = true;
        }
        if let Some(cap) = self.pain_cap
            && provider_share < -cap
        {
            provider_share = -cap;
            capped = true;
        }
        Ok(GainshareOutcome {
            baseline_cost,
            actual_cost,
            saving,
            shared_saving,
            provider_share,
            customer_share: num::sub(saving, provider_share, op)?,
            capped,
        })
    }
}

/// The provider's share of the saving `(baseline − actual) × volume`: positive for a
/// gain, negative for an overrun (painshare), at `provider_share_pct` % both ways.
///
/// ```
/// use kam_core::pricing::gainshare;
/// use rust_decimal::Decimal;
///
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// assert_eq!(gainshare(d("1.20"), d("1.08"), d("18000"), d("50"))?, d("1080"));
/// assert_eq!(gainshare(d("1.20"), d("1.26"), d("18000"), d("50"))?, d("-540"));
/// # Ok::<(), kam_core::pricing::PricingError>(())
/// ```
///
/// # Errors
/// As [`Gainshare::settle`].
pub fn gainshare(
    baseline_unit_cost: Decimal,
    actual_unit_cost: Decimal,
    volume: Decimal,
    provider_share_pct: Decimal,
) -> Result<Decimal, PricingError> {
    Gainshare::new(baseline_unit_cost, provider_share_pct)
        .settle(actual_unit_cost, volume)
        .map(|o| o.provider_share)
}

/// One band of a [`BandedGainshare`]: the part of the saving (or overrun) between
/// `from_pct` and `to_pct` % of the baseline cost is shared, `provider_pct` % of it to
/// the provider. `to_pct` absent: the band is open-ended (the last one only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShareBand {
    /// Lower bound, percent of the baseline cost (the first band starts at 0).
    pub from_pct: Decimal,
    /// Upper bound, percent of the baseline cost; `None` for an open-ended last band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_pct: Option<Decimal>,
    /// The provider's share of the saving inside the band, percent (0–100).
    pub provider_pct: Decimal,
}

/// Which side of a [`BandedGainshare`] a band belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareSide {
    /// A saving (actual cost below the baseline).
    Gain,
    /// An overrun (actual cost above the baseline).
    Pain,
}

impl fmt::Display for ShareSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShareSide::Gain => "gainshare",
            ShareSide::Pain => "painshare",
        })
    }
}

/// Gainshare and painshare in bands of saving %, like income-tax brackets: the saving
/// `baseline − actual` is cut at the bands' bounds (percent of the baseline cost) and
/// each slice is shared at its band's rate. With bands 0–5 % at 50 % and 5–10 % at 30 %,
/// a 7 % saving gives the provider 50 % of the first 5 points and 30 % of the next 2.
///
/// Bands are listed in order, the first from 0 %, each starting where the one before
/// ends (no gap, no overlap); only the last may be open-ended. A saving beyond a closed
/// last band is the customer's alone. `pain` bands share an overrun the same way (the
/// provider bears `provider_pct` % of each slice); without pain bands the provider bears
/// none of it. [`Gainshare`]'s deadband and single share are the special case of two
/// bands: 0–deadband at 0 % and deadband–open at the share.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct BandedGainshare {
    /// Bands sharing a saving.
    pub gain: Vec<ShareBand>,
    /// Bands sharing an overrun (painshare); none: the provider bears none of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pain: Vec<ShareBand>,
}

/// One band's part of a [`BandedOutcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BandSettlement {
    /// The band.
    pub band: ShareBand,
    /// The slice of the saving (or overrun, as a positive amount) inside the band.
    pub amount: Decimal,
    /// The provider's part of the slice (positive; a pain slice is borne, not earned).
    pub provider: Decimal,
}

/// The settlement of a [`BandedGainshare`] for one period, unrounded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BandedOutcome {
    /// The baseline cost.
    pub baseline_cost: Decimal,
    /// The actual cost.
    pub actual_cost: Decimal,
    /// `baseline_cost − actual_cost` (negative: overrun).
    pub saving: Decimal,
    /// The saving in percent of the baseline cost; `None` when the baseline cost is 0.
    pub saving_pct: Option<Decimal>,
    /// Gain or pain.
    pub side: ShareSide,
    /// The provider's signed share (positive: gain earned, negative: pain borne).
    pub provider_share: Decimal,
    /// `saving − provider_share`: what the customer keeps (or bears).
    pub customer_share: Decimal,
    /// The slices of the bands the saving reaches, in band order.
    pub bands: Vec<BandSettlement>,
}

fn band_error(side: ShareSide, band: usize, reason: String) -> PricingError {
    PricingError::ShareBands { side, band, reason }
}

fn check_bands(side: ShareSide, bands: &[ShareBand]) -> Result<(), PricingError> {
    let pct = |p: Decimal| p.normalize();
    let mut previous: Option<&ShareBand> = None;
    for (i, b) in bands.iter().enumerate() {
        if b.provider_pct < Decimal::ZERO || b.provider_pct > HUNDRED {
            return Err(band_error(
                side,
                i,
                format!(
                    "provider share {} % must be between 0 and 100",
                    pct(b.provider_pct)
                ),
            ));
        }
        if let Some(to) = b.to_pct
            && to <= b.from_pct
        {
            return Err(band_error(
                side,
                i,
                format!("ends at {} %, not above its start {} %", pct(to), pct(b.from_pct)),
            ));
        }
        match previous {
            None if !b.from_pct.is_zero() => {
                return Err(band_error(
                    side,
                    i,
                    format!(
                        "the first band starts at {} %: a gap from 0 % (bands start at 0)",
                        pct(b.from_pct)
                    ),
                ));
            }
            None => {}
            Some(p) => match p.to_pct {
                None => {
                    return Err(band_error(
                        side,
                        i,
                        format!(
                            "overlaps band {i}, which is open-ended from {} % (only the last band may be)",
                            pct(p.from_pct)
                        ),
                    ));
                }
                Some(end) if b.from_pct < end => {
                    return Err(band_error(
                        side,
                        i,
                        format!(
                            "starts at {} %, inside band {i} ({} – {} %): bands overlap",
                            pct(b.from_pct),
                            pct(p.from_pct),
                            pct(end)
                        ),
                    ));
                }
                Some(end) if b.from_pct > end => {
                    return Err(band_error(
                        side,
                        i,
                        format!(
                            "starts at {} %, but band {i} ends at {} %: a gap between the bands",
                            pct(b.from_pct),
                            pct(end)
                        ),
                    ));
                }
                Some(_) => {}
            },
        }
        previous = Some(b);
    }
    Ok(())
}

impl BandedGainshare {
    /// Checks both sides' bands: in order from 0 %, contiguous, only the last open-ended,
    /// shares within 0–100 %.
    ///
    /// # Errors
    /// [`PricingError::ShareBands`] naming the side and the (0-based) band.
    pub fn validate(&self) -> Result<(), PricingError> {
        check_bands(ShareSide::Gain, &self.gain)?;
        check_bands(ShareSide::Pain, &self.pain)
    }

    /// Settles one period: `baseline_cost` against `actual_cost`, unrounded.
    ///
    /// ```
    /// use kam_core::pricing::{BandedGainshare, ShareBand};
    /// use rust_decimal::Decimal;
    ///
    /// let d = |s: &str| s.parse::<Decimal>().unwrap();
    /// let bands = BandedGainshare {
    ///     gain: vec![
    ///         ShareBand { from_pct: d("0"), to_pct: Some(d("5")), provider_pct: d("50") },
    ///         ShareBand { from_pct: d("5"), to_pct: Some(d("10")), provider_pct: d("30") },
    ///     ],
    ///     pain: vec![],
    /// };
    /// // A 7 % saving on 100,000: 50 % of 5,000 + 30 % of 2,000.
    /// let o = bands.settle(d("100000"), d("93000"))?;
    /// assert_eq!(o.provider_share, d("3100"));
    /// assert_eq!(o.customer_share, d("3900"));
    /// # Ok::<(), kam_core::pricing::PricingError>(())
    /// ```
    ///
    /// # Errors
    /// Invalid bands (as [`BandedGainshare::validate`]), a negative cost, overflow.
    pub fn settle(
        &self,
        baseline_cost: Decimal,
        actual_cost: Decimal,
    ) -> Result<BandedOutcome, PricingError> {
        self.validate()?;
        non_negative("gainshare baseline cost", baseline_cost)?;
        non_negative("gainshare actual cost", actual_cost)?;
        let op = "banded gainshare";
        let saving = num::sub(baseline_cost, actual_cost, op)?;
        let (side, bands) = if saving >= Decimal::ZERO {
            (ShareSide::Gain, &self.gain)
        } else {
            (ShareSide::Pain, &self.pain)
        };
        let magnitude = saving.abs();
        // A bound in money: pct × baseline / 100, in the same order as Gainshare's band.
        let bound = |pct: Decimal| -> Result<Decimal, PricingError> {
            Ok(num::div(num::mul(baseline_cost, pct, op)?, HUNDRED, op)?)
        };
        let mut slices = Vec::new();
        let mut provider = Decimal::ZERO;
        for b in bands {
            let lo = bound(b.from_pct)?;
            if magnitude <= lo {
                break;
            }
            let top = match b.to_pct {
                Some(to) => magnitude.min(bound(to)?),
                None => magnitude,
            };
            let amount = num::sub(top, lo, op)?;
            let share = num::div(num::mul(amount, b.provider_pct, op)?, HUNDRED, op)?;
            provider = num::add(provider, share, op)?;
            slices.push(BandSettlement {
                band: *b,
                amount,
                provider: share,
            });
        }
        let provider_share = match side {
            ShareSide::Gain => provider,
            ShareSide::Pain => -provider,
        };
        let saving_pct = if baseline_cost.is_zero() {
            None
        } else {
            Some(num::div(num::mul(saving, HUNDRED, op)?, baseline_cost, op)?)
        };
        Ok(BandedOutcome {
            baseline_cost,
            actual_cost,
            saving,
            saving_pct,
            side,
            provider_share,
            customer_share: num::sub(saving, provider_share, op)?,
            bands: slices,
        })
    }
}

/// One index in an escalation formula.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IndexComponent {
    /// Index name (e.g. `labour`, `cpi`), used in errors.
    pub name: String,
    /// Weight, a fraction.
    pub weight: Decimal,
    /// Index value at the base date.
    pub base: Decimal,
    /// Index value now.
    pub current: Decimal,
}

/// Index-linked escalation: factor = fixed share + Σ weight × current/base, where the
/// fixed share and the weights sum to exactly 1.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IndexClause {
    /// The share of the price that does not move, a fraction.
    pub fixed_share: Decimal,
    /// The indices.
    pub indices: Vec<IndexComponent>,
}

impl IndexClause {
    /// The escalation factor, unrounded.
    ///
    /// # Errors
    /// As [`index_factor`].
    pub fn factor(&self) -> Result<Decimal, PricingError> {
        index_factor(self.fixed_share, &self.indices)
    }

    /// `rate × factor`, unrounded.
    ///
    /// # Errors
    /// As [`index_factor`], overflow.
    pub fn escalate(&self, rate: Decimal) -> Result<Decimal, PricingError> {
        Ok(num::mul(rate, self.factor()?, "index escalation")?)
    }
}

/// `fixed_share + Σ weight × current/base`, unrounded.
///
/// ```
/// use kam_core::pricing::{IndexComponent, index_factor};
/// use rust_decimal::Decimal;
///
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// let labour = IndexComponent { name: "labour".into(), weight: d("0.60"), base: d("100.0"), current: d("104.2") };
/// let cpi = IndexComponent { name: "cpi".into(), weight: d("0.25"), base: d("118.3"), current: d("122.0") };
/// let f = index_factor(d("0.15"), &[labour, cpi])?;
/// assert_eq!(f.round_dp(7), d("1.0330191"));
/// # Ok::<(), kam_core::pricing::PricingError>(())
/// ```
///
/// # Errors
/// [`PricingError::IndexWeightsNotOne`] unless fixed share + Σ weights = 1 exactly;
/// [`PricingError::ZeroBaseIndex`]; a negative fixed share, weight, base or current value
/// ([`PricingError::InvalidParameter`] naming the index); overflow.
pub fn index_factor(fixed_share: Decimal, indices: &[IndexComponent]) -> Result<Decimal, PricingError> {
    non_negative("index fixed share", fixed_share)?;
    let op = "index factor";
    let mut weights = Decimal::ZERO;
    for ix in indices {
        non_negative(&format!("index {:?} weight", ix.name), ix.weight)?;
        non_negative(&format!("index {:?} current value", ix.name), ix.current)?;
        if ix.base.is_zero() {
            return Err(PricingError::ZeroBaseIndex {
                index: ix.name.clone(),
            });
        }
        non_negative(&format!("index {:?} base value", ix.name), ix.base)?;
        weights = num::add(weights, ix.weight, op)?;
    }
    let sum = num::add(fixed_share, weights, op)?;
    if sum != Decimal::ONE {
        return Err(PricingError::IndexWeightsNotOne {
            fixed_share,
            weights,
            sum,
        });
    }
    let mut factor = fixed_share;
    for ix in indices {
        let ratio = num::div(ix.current, ix.base, op)?;
        factor = num::add(factor, num::mul(ix.weight, ratio, op)?, op)?;
    }
    Ok(factor)
}

/// Fuel surcharge bands: `pct_per_step × ceil((price − base)/step)` percent when the fuel
/// price is above `base`, else 0; capped at `ceiling_pct` when given; never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FuelSurcharge {
    /// Fuel price at which no surcharge applies.
    pub base: Decimal,
    /// Width of one band in price units (> 0).
    pub step: Decimal,
    /// Surcharge percent per started band (≥ 0).
    pub pct_per_step: Decimal,
    /// Highest surcharge percent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling_pct: Option<Decimal>,
}

impl FuelSurcharge {
    /// The surcharge percent at fuel `price`.
    ///
    /// # Errors
    /// As [`fuel_surcharge_pct`].
    pub fn pct(&self, price: Decimal) -> Result<Decimal, PricingError> {
        fuel_surcharge_pct(price, self)
    }

    /// The surcharge on a transport `amount` at fuel `price`, unrounded.
    ///
    /// # Errors
    /// As [`fuel_surcharge_pct`], overflow.
    pub fn surcharge(&self, price: Decimal, amount: &Money) -> Result<Money, PricingError> {
        let pct = self.pct(price)?;
        Ok(Money::new(
            num::div(
                num::mul(amount.amount(), pct, "fuel surcharge")?,
                HUNDRED,
                "fuel surcharge",
            )?,
            amount.currency(),
        ))
    }
}

/// `pct_per_step × ceil((price − base)/step)` when `price > base`, else 0; at most the
/// ceiling; never negative.
///
/// ```
/// use kam_core::pricing::{FuelSurcharge, fuel_surcharge_pct};
/// use rust_decimal::Decimal;
///
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// let bands = FuelSurcharge { base: d("1.50"), step: d("0.05"), pct_per_step: d("0.5"), ceiling_pct: None };
/// assert_eq!(fuel_surcharge_pct(d("1.62"), &bands)?, d("1.5")); // 3 started bands
/// assert_eq!(fuel_surcharge_pct(d("1.40"), &bands)?, d("0"));
/// # Ok::<(), kam_core::pricing::PricingError>(())
/// ```
///
/// # Errors
/// A step that is not positive, a negative percent per step or ceiling
/// ([`PricingError::InvalidParameter`]), overflow.
pub fn fuel_surcharge_pct(price: Decimal, bands: &FuelSurcharge) -> Result<Decimal, PricingError> {
    if bands.step <= Decimal::ZERO {
        return Err(invalid("fuel surcharge step", bands.step, "must be positive"));
    }
    non_negative("fuel surcharge pct_per_step", bands.pct_per_step)?;
    if let Some(c) = bands.ceiling_pct {
        non_negative("fuel surcharge ceiling_pct", c)?;
    }
    if price <= bands.base {
        return Ok(Decimal::ZERO);
    }
    let op = "fuel surcharge";
    let steps = num::div(num::sub(price, bands.base, op)?, bands.step, op)?.ceil();
    let pct = num::mul(bands.pct_per_step, steps, op)?;
    Ok(bands.ceiling_pct.map_or(pct, |c| pct.min(c)).max(Decimal::ZERO))
}

/// How much of an FX movement beyond the deadband is passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FxPassThrough {
    /// The whole movement from the base rate (`"full"`).
    #[default]
    Full,
    /// Only the movement beyond the deadband (`"beyond_band"`).
    BeyondBand,
}

/// An FX clause: prices are repriced only when the rate has moved beyond ±`deadband_pct` %
/// from the base rate.
///
/// With base rate `B` and current rate `C` for the pair `from → to` (units of `to` per
/// `from`), the movement is `m = (C/B − 1) × 100` %. When `|m| > deadband_pct`, the
/// effective rate is `E = C` (full pass-through) or `E = B × (1 + sign(m) × (|m| − d)/100)`
/// (beyond-band pass-through), and a price in `to` becomes `price × E/B`, a price in
/// `from` becomes `price × B/E`. Inside the band the price is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FxClause {
    /// The contract's base rate.
    pub base: FxRate,
    /// The neutral band, percent.
    pub deadband_pct: Decimal,
    /// Full or beyond-band pass-through.
    #[serde(default)]
    pub pass_through: FxPassThrough,
}

/// The result of an FX clause review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FxOutcome {
    /// Movement from the base rate, percent (signed).
    pub movement_pct: Decimal,
    /// Whether the movement is beyond the deadband.
    pub repriced: bool,
    /// The factor applied to the price (1 inside the band).
    pub factor: Decimal,
    /// The price after the clause, unrounded.
    pub price: Money,
}

impl FxClause {
    /// Reviews `price` against the `current` rate.
    ///
    /// # Errors
    /// A negative deadband, a current rate for another pair, a price in neither currency
    /// of the pair ([`MoneyError::CurrencyMismatch`]), a non-positive rate, overflow.
    pub fn reprice(&self, price: &Money, current: &FxRate) -> Result<FxOutcome, PricingError> {
        non_negative("FX clause deadband %", self.deadband_pct)?;
        let (b, c) = (self.base.rate, current.rate);
        for fx in [&self.base, current] {
            if fx.rate <= Decimal::ZERO {
                return Err(MoneyError::InvalidFxRate {
                    from: fx.from,
                    to: fx.to,
                    rate: fx.rate,
                    as_of: fx.as_of,
                }
                .into());
            }
        }
        if current.from != self.base.from || current.to != self.base.to {
            return Err(MoneyError::CurrencyMismatch {
                operation: format!("FX clause on {}/{}", self.base.from, self.base.to),
                left: current.from,
                right: self.base.from,
            }
            .into());
        }
        let op = "FX clause";
        let ratio = num::div(c, b, op)?;
        let movement_pct = num::mul(num::sub(ratio, Decimal::ONE, op)?, HUNDRED, op)?;
        let price_in_to = if price.currency() == self.base.to {
            true
        } else if price.currency() == self.base.from {
            false
        } else {
            return Err(MoneyError::CurrencyMismatch {
                operation: format!("FX clause on {}/{}", self.base.from, self.base.to),
                left: price.currency(),
                right: self.base.to,
            }
            .into());
        };
        if movement_pct.abs() <= self.deadband_pct {
            return Ok(FxOutcome {
                movement_pct,
                repriced: false,
                factor: Decimal::ONE,
                price: *price,
            });
        }
        let effective_ratio = match self.pass_through {
            FxPassThrough::Full => ratio,
            FxPassThrough::BeyondBand => {
                let beyond = num::sub(movement_pct.abs(), self.deadband_pct, op)?;
                let signed = if movement_pct < Decimal::ZERO {
                    -beyond
                } else {
                    beyond
                };
                num::add(Decimal::ONE, num::div(signed, HUNDRED, op)?, op)?
            }
        };
        let factor = if price_in_to {
            effective_ratio
        } else {
            num::div(Decimal::ONE, effective_ratio, op)?
        };
        Ok(FxOutcome {
            movement_pct,
            repriced: true,
            factor,
            price: price.checked_mul(factor)?,
        })
    }
}

/// How revenue is earned on an account or service line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum CommercialModel {
    /// Per-activity rates from a rate card.
    Transactional {
        /// The card.
        card: RateCard,
    },
    /// Cost plus a markup.
    CostPlus {
        /// The markup.
        markup: Markup,
    },
    /// Open book: pass-through cost plus a management fee.
    ManagementFee {
        /// The fee.
        fee: FeeBasis,
    },
    /// A fixed amount per period plus per-activity rates from a card.
    FixedPlusVariable {
        /// Fixed part per period, in the card currency.
        fixed: Decimal,
        /// Variable rates.
        card: RateCard,
    },
}

impl CommercialModel {
    /// Revenue for one period with these `volumes` and the provider's `cost` (used by
    /// cost-plus and open-book models). Rate-card revenue is the quote total (rounded per
    /// the card); cost-based revenue is rounded to minor units half-up.
    ///
    /// # Errors
    /// The pricing errors of the card ([`RateCard::price`]), overflow. Card-based models
    /// ignore `cost`, so its currency is not compared with the card's.
    pub fn revenue(&self, volumes: &Volumes, cost: &Money) -> Result<Money, PricingError> {
        let round = |m: Money| m.round(crate::money::RoundingMode::HalfUp);
        match self {
            CommercialModel::Transactional { card } => Ok(card.price(volumes)?.total()),
            CommercialModel::CostPlus { markup } => Ok(round(cost_plus(cost, *markup)?)),
            CommercialModel::ManagementFee { fee } => Ok(round(fee.open_book_price(cost)?)),
            CommercialModel::FixedPlusVariable { fixed, card } => {
                let variable = card.price(volumes)?.total();
                Ok(variable.checked_add(&Money::new(*fixed, card.currency()))?)
            }
        }
    }
}
