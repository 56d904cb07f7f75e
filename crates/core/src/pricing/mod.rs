//! 3PL pricing: rate cards, tiers, minimum commitments, commercial models, cost-to-serve
//! and scenarios — exact to the minor unit, with every line explained.
//!
//! What it is:
//!
//! - [`RateCard`]: billable activities (an [`ActivityName`] in snake_case such as
//!   `pick_line`, with a [`UnitOfMeasure`]) priced by a flat rate or a tier schedule
//!   ([`TierMethod::Graduated`] or [`TierMethod::AllUnits`], inclusive `up_to` bounds),
//!   optionally with a [`MinimumCommitment`] (take-or-pay) and credit banking. Pricing
//!   volumes gives a [`Quote`]: one [`QuoteLine`] per activity with quantity, billed
//!   quantity, the rates applied, the amount and a human-readable explanation, plus
//!   warnings (the all-units cliff, minimum shortfalls) and totals under the card's
//!   [`RoundingPolicy`](crate::money::RoundingPolicy).
//! - Multi-period take-or-pay billing with expiring credits ([`RateCard::bill_periods`]).
//! - Commercial models ([`CommercialModel`], [`Markup`], [`Margin`], [`FeeBasis`],
//!   [`Gainshare`], [`IndexClause`], [`FuelSurcharge`], [`FxClause`]).
//! - Cost-to-serve: a [`CostModel`] per activity → contribution layers CM1/CM2/CM3 per
//!   account node and service line ([`cost_to_serve`], [`contribution`]).
//! - Scenarios: baseline vs proposal ([`compare`]) and volume sensitivity
//!   ([`volume_sensitivity`]).
//! - The bridge to user rules: [`Quote::to_pricing_input`] and [`Quote::apply_rules`] turn
//!   a quote into a [`PricingInput`](crate::rules::PricingInput) and add the
//!   [`PriceAdjustment`](crate::rules::PriceAdjustment)s of any
//!   [`PricingRule`](crate::rules::PricingRule) as labelled adjustment lines.
//!
//! What it is not: an invoicing system (no tax, no invoice numbering, no dates), a
//! currency converter (see [`FxRate`](crate::money::FxRate)), or a scripting host (the
//! Rhai and WASM hosts live in their own crates and only implement `PricingRule`).
//!
//! Conventions, all exact `Decimal` arithmetic with overflow as a typed error:
//!
//! - Quantities may be fractional (hours, kg, pallet-weeks) and must not be negative.
//! - Unit rates keep all their decimals; only billed amounts are rounded, to the card
//!   currency's ISO 4217 minor units, per line (round each line, then sum) or per total
//!   (sum unrounded, then round) as the card's rounding policy says.
//! - Tier bounds are inclusive: with tiers up to 10,000 and 25,000, quantity 10,000 is in
//!   the first tier and 10,000.5 in the second.
//! - The per-line and per-total totals differ by a whole number of minor units `u`: at most
//!   `⌊n/2⌋ × u` for `n` non-negative lines under half-up, and at most `⌈n/2⌉ × u` under
//!   half-even — so "lines × half a unit" holds for half-up but not for half-even with an
//!   odd number of lines (three lines of 0.015: 0.06 per line, 0.04 per total).
//! - A minimum commitment bills `max(quantity, minimum)` through the activity's schedule;
//!   the shortfall is the difference, shown on the line and as a warning.
//! - Percentages are percentages (`6` is 6 %), shares and factors are fractions (`0.15`).
//!
//! ## Tiers and the all-units cliff
//!
//! **Graduated** tiers charge each slice of the quantity at its own tier's rate:
//! with 0–10,000 @0.70, 10,001–25,000 @0.60, 18,000 costs 10,000 × 0.70 + 8,000 × 0.60.
//! **All-units** tiers charge the whole quantity at the rate of the tier it falls in:
//! 18,000 × 0.60. Bounds are inclusive (`up_to` belongs to its tier); only the last tier
//! may be unbounded, and a quantity above a bounded last tier is an error.
//!
//! **The all-units cliff.** When a tier's rate is lower than an earlier tier's, all-units
//! pricing is not monotone: the charge drops just above a bound. kam flags a quantity `q`
//! in tier `k` (rate `r_k`) when either
//!
//! - *more volume is cheaper*: for some later tier `j` starting just above bound `b_{j-1}`,
//!   `q × r_k > b_{j-1} × r_j` — quantities just above `b_{j-1}` cost less than `q`
//!   (e.g. 9,999 @0.70 = 6,999.30 while 10,000.01 @0.60 ≈ 6,000.01); or
//! - *less than a smaller volume*: for some earlier tier `j` with bound `b_j`,
//!   `q × r_k < b_j × r_j` — `q` costs less than the smaller quantity `b_j` (e.g. 10,001
//!   @0.60 = 6,000.60 while 10,000 @0.70 = 7,000.00).
//!
//! Graduated charges are continuous and non-decreasing, so they never warn. The check is
//! made on the billed quantity (after any minimum).
//!
//! ## Example
//!
//! ```
//! use kam_core::money::Currency;
//! use kam_core::pricing::{RateCard, Tier, TierMethod};
//! use rust_decimal::Decimal;
//!
//! let d = |s: &str| s.parse::<Decimal>().unwrap();
//! let mut card = RateCard::new(Currency::from_code("EUR")?);
//! card.flat("pallet_in", d("4.50"))?;
//! card.tiered("pick_line", TierMethod::Graduated, vec![
//!     Tier::up_to(d("10000"), d("0.70")),
//!     Tier::up_to(d("25000"), d("0.60")),
//!     Tier::unbounded(d("0.50")),
//! ])?;
//! let quote = card.price([("pallet_in", d("1200")), ("pick_line", d("18000"))])?;
//! assert_eq!(quote.total().amount(), d("17200.00"));
//! assert_eq!(
//!     quote.line("pick_line").map(|l| l.explanation.as_str()),
//!     Some("18,000 pick_line: 10,000 × 0.70 + 8,000 × 0.60 = 11,800.00")
//! );
//! # Ok::<(), kam_core::pricing::PricingError>(())
//! ```

mod activity;
mod commercial;
mod cost;
mod minimum;
mod quote;
mod rate_card;
mod scenario;
mod tiers;

pub use activity::{ActivityName, UnitOfMeasure};
pub use commercial::{
    BandSettlement, BandedGainshare, BandedOutcome, CommercialModel, FeeBasis, FixedPlusVariable,
    FuelSurcharge, FxClause, FxOutcome, FxPassThrough, Gainshare, GainshareOutcome, IndexClause,
    IndexComponent, Margin, Markup, ShareBand, ShareSide, cost_plus, fixed_plus_variable, fuel_surcharge_pct,
    gainshare, index_factor, margin_to_markup, markup_to_margin,
};
pub use cost::{
    ActivityCost, ContributionGroup, ContributionLayer, ContributionMargins, ContributionRow, CostModel,
    CostToServe, ServedVolume, contribution, cost_to_serve,
};
pub use minimum::{CommitmentBilling, PeriodBill};
pub use quote::{AdjustmentLine, Quote, QuoteLine, QuoteWarning, WarningKind};
pub use rate_card::{
    ActivityRate, ActivityRecord, CreditBanking, MinimumCommitment, RateCard, VolumeAccumulator, Volumes,
};
pub use scenario::{
    LineDelta, MAX_SENSITIVITY_POINTS, ScenarioComparison, SensitivityPoint, compare, volume_sensitivity,
};
pub use tiers::{AppliedRate, Charge, CliffSide, Schedule, Tier, TierMethod};

use rust_decimal::Decimal;

use crate::money::MoneyError;
use crate::num::ArithmeticError;
use crate::rules::RuleError;

/// Everything that can go wrong in pricing. Each message names the offending item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PricingError {
    /// An activity name that is not snake_case (`[a-z][a-z0-9_]*`).
    #[error("invalid activity name {name:?}: expected snake_case such as \"pick_line\"")]
    InvalidActivityName {
        /// The name as given.
        name: String,
    },
    /// An activity the rate card does not price.
    #[error("unknown activity {activity:?}: not on the rate card")]
    UnknownActivity {
        /// The activity as given.
        activity: String,
    },
    /// An activity asked of a quote that has no line for it.
    #[error("activity {activity:?} has no line in this quote")]
    NotInQuote {
        /// The activity as given.
        activity: String,
    },
    /// The same activity twice on one rate card.
    #[error("activity {activity:?} appears twice on the rate card")]
    DuplicateActivity {
        /// The repeated activity.
        activity: String,
    },
    /// A quantity below zero.
    #[error("negative quantity {quantity} for activity {activity:?}{}", record_suffix(*.record))]
    NegativeQuantity {
        /// The activity.
        activity: String,
        /// The quantity as given.
        quantity: Decimal,
        /// The 0-based index of the record, when pricing individual records.
        record: Option<u64>,
    },
    /// A unit rate below zero (discounts and rebates are adjustments, not rates).
    #[error("negative rate {rate} for activity {activity:?}")]
    NegativeRate {
        /// The activity.
        activity: String,
        /// The rate as given.
        rate: Decimal,
    },
    /// A tier schedule with no tiers.
    #[error("activity {activity:?}: a tier schedule needs at least one tier")]
    EmptyTiers {
        /// The activity.
        activity: String,
    },
    /// A tier bound that is zero or negative.
    #[error("activity {activity:?}: tier {tier} bound up_to = {up_to} must be positive")]
    NonPositiveTierBound {
        /// The activity.
        activity: String,
        /// 1-based tier number.
        tier: usize,
        /// The bound as given.
        up_to: Decimal,
    },
    /// A tier bound below the previous tier's bound.
    #[error(
        "activity {activity:?}: tiers are not sorted: tier {tier} up_to = {up_to} is below the previous bound {previous}"
    )]
    UnsortedTiers {
        /// The activity.
        activity: String,
        /// 1-based tier number.
        tier: usize,
        /// The bound as given.
        up_to: Decimal,
        /// The previous tier's bound.
        previous: Decimal,
    },
    /// A tier bound equal to the previous one: the two tiers overlap (bounds are inclusive).
    #[error(
        "activity {activity:?}: tier {tier} up_to = {up_to} repeats the previous bound, so the tiers overlap"
    )]
    OverlappingTiers {
        /// The activity.
        activity: String,
        /// 1-based tier number.
        tier: usize,
        /// The repeated bound.
        up_to: Decimal,
    },
    /// A tier without an upper bound that is not the last tier.
    #[error("activity {activity:?}: tier {tier} has no upper bound but is not the last tier")]
    UnboundedTierNotLast {
        /// The activity.
        activity: String,
        /// 1-based tier number.
        tier: usize,
    },
    /// A quantity above the bound of the last tier, which is bounded.
    #[error("activity {activity:?}: quantity {quantity} exceeds the last tier's bound up_to = {last_up_to}")]
    QuantityAboveLastTier {
        /// The activity.
        activity: String,
        /// The quantity priced.
        quantity: Decimal,
        /// The last tier's bound.
        last_up_to: Decimal,
    },
    /// A tier method name other than `graduated` / `all_units`.
    #[error("unknown tier method {method:?}: expected \"graduated\" or \"all_units\"")]
    UnknownTierMethod {
        /// The name as given.
        method: String,
    },
    /// A minimum commitment below zero.
    #[error("activity {activity:?}: minimum commitment {minimum} must not be negative")]
    NegativeMinimum {
        /// The activity.
        activity: String,
        /// The minimum as given.
        minimum: Decimal,
    },
    /// Index weights and fixed share that do not sum to exactly 1.
    #[error("index clause: fixed share {fixed_share} + index weights {weights} = {sum}, must be exactly 1")]
    IndexWeightsNotOne {
        /// The fixed share.
        fixed_share: Decimal,
        /// Σ weights.
        weights: Decimal,
        /// fixed share + Σ weights.
        sum: Decimal,
    },
    /// An index whose base value is zero (the ratio current/base is undefined).
    #[error("index {index:?}: base value is zero")]
    ZeroBaseIndex {
        /// The index name.
        index: String,
    },
    /// Gainshare or painshare bands that are not in order from 0 %, overlap, leave a
    /// gap, or share outside 0–100 %.
    #[error("{side} band {} {reason}", band + 1)]
    ShareBands {
        /// Gain or pain bands.
        side: commercial::ShareSide,
        /// 0-based index of the offending band.
        band: usize,
        /// What is wrong.
        reason: String,
    },
    /// A parameter outside its allowed range (named, with the reason).
    #[error("{parameter} = {value}: {reason}")]
    InvalidParameter {
        /// Which parameter, e.g. `fuel surcharge step`.
        parameter: String,
        /// The value as given.
        value: Decimal,
        /// What is allowed.
        reason: String,
    },
    /// An activity priced on the card but missing from the cost model.
    #[error("activity {activity:?} has no entry in the cost model")]
    MissingCost {
        /// The activity.
        activity: String,
    },
    /// An error pricing one of the cards in a scenario comparison.
    #[error("{card} card: {source}")]
    InCard {
        /// `baseline` or `proposal`.
        card: String,
        /// What went wrong.
        source: Box<PricingError>,
    },
    /// Currency, rounding-name or FX error.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// Overflow or division by zero.
    #[error(transparent)]
    Arithmetic(#[from] ArithmeticError),
    /// A pricing rule failed.
    #[error(transparent)]
    Rule(#[from] RuleError),
}

fn record_suffix(record: Option<u64>) -> String {
    record.map(|r| format!(" (record {r})")).unwrap_or_default()
}

pub(crate) fn invalid(parameter: &str, value: Decimal, reason: &str) -> PricingError {
    PricingError::InvalidParameter {
        parameter: parameter.to_owned(),
        value,
        reason: reason.to_owned(),
    }
}
