//! The one error type of the negotiation module.

use rust_decimal::Decimal;

use super::Side;
use crate::num::ArithmeticError;

/// Everything that can be wrong with negotiation input. Each variant names the party,
/// issue, round or parameter at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// A party's issue weights do not add up to exactly 1.
    #[error("weights of {party} sum to {sum}, expected exactly 1")]
    WeightsDoNotSumToOne {
        /// The party (or `"utility"` for a bare issue list).
        party: String,
        /// The actual sum.
        sum: Decimal,
    },
    /// A weight below 0 or above 1.
    #[error("weight of issue {issue:?} for {party} is {weight}, expected 0 to 1")]
    WeightOutOfRange {
        /// The party.
        party: String,
        /// The issue.
        issue: String,
        /// The weight as given.
        weight: Decimal,
    },
    /// A range whose lower end is not below its upper end (or a value function whose
    /// worst and best are equal).
    #[error("issue {issue:?}: empty range {low} to {high} (the ends must differ)")]
    EmptyRange {
        /// The issue.
        issue: String,
        /// Lower end (or worst value) as given.
        low: Decimal,
        /// Upper end (or best value) as given.
        high: Decimal,
    },
    /// A discrete issue with no options.
    #[error("issue {issue:?} has no options")]
    NoOptions {
        /// The issue.
        issue: String,
    },
    /// A discrete issue listing the same option twice.
    #[error("issue {issue:?} lists option {value} twice")]
    DuplicateOption {
        /// The issue.
        issue: String,
        /// The repeated option.
        value: Decimal,
    },
    /// Two issues (or two criteria of one party) with the same name.
    #[error("issue {issue:?} is defined twice{context}")]
    DuplicateIssue {
        /// The issue.
        issue: String,
        /// Where, e.g. `" in the criteria of OEM"`.
        context: String,
    },
    /// A name that matches no issue of the negotiation.
    #[error("unknown issue {issue:?} in {context}")]
    UnknownIssue {
        /// The name as given.
        issue: String,
        /// Where it was used.
        context: String,
    },
    /// A package without a value for an issue.
    #[error("package has no value for issue {issue:?}")]
    MissingValue {
        /// The issue.
        issue: String,
    },
    /// A package value outside the issue's range or not one of its options.
    #[error("issue {issue:?}: value {value} is outside the negotiable {allowed}")]
    ValueOutsideDomain {
        /// The issue.
        issue: String,
        /// The value as given.
        value: Decimal,
        /// What is allowed, e.g. `"range 0.58 to 0.70"`.
        allowed: String,
    },
    /// A malformed piecewise-linear value function.
    #[error("issue {issue:?}: invalid value function for {party}: {reason}")]
    InvalidValueFunction {
        /// The party.
        party: String,
        /// The issue.
        issue: String,
        /// What is wrong.
        reason: String,
    },
    /// A reservation utility outside \[0, 1\].
    #[error("reservation utility of {party} is {value}, expected 0 to 1")]
    ReservationUtilityOutOfRange {
        /// The party.
        party: String,
        /// The value as given.
        value: Decimal,
    },
    /// A concession parameter beta that is zero or negative.
    #[error("concession beta must be positive, got {beta}")]
    InvalidBeta {
        /// The value as given.
        beta: Decimal,
    },
    /// A concession parameter kappa outside \[0, 1\].
    #[error("concession kappa must be between 0 and 1, got {kappa}")]
    InvalidKappa {
        /// The value as given.
        kappa: Decimal,
    },
    /// The exponential family needs ln(kappa), so kappa 0 is undefined.
    #[error("the exponential concession family needs kappa > 0 (it uses ln kappa), got 0")]
    ExponentialKappaZero,
    /// A deadline that is zero or negative.
    #[error("concession deadline must be positive, got {deadline}")]
    InvalidDeadline {
        /// The value as given.
        deadline: Decimal,
    },
    /// A negative time in a concession tactic.
    #[error("concession time must not be negative, got {t}")]
    NegativeTime {
        /// The value as given.
        t: Decimal,
    },
    /// A tactic's min above its max.
    #[error("concession range is empty: min {min} is above max {max}")]
    InvalidOfferRange {
        /// Lowest offer.
        min: Decimal,
        /// Highest offer.
        max: Decimal,
    },
    /// A bargaining power outside \[0, 1\].
    #[error("bargaining power must be between 0 and 1, got {power}")]
    InvalidPower {
        /// The value as given.
        power: Decimal,
    },
    /// The seller's reservation price is above the buyer's: there is nothing to split.
    #[error(
        "no zone of possible agreement: seller reservation {seller_reservation} is above buyer reservation {buyer_reservation}"
    )]
    NoZopa {
        /// The seller's walk-away price.
        seller_reservation: Decimal,
        /// The buyer's walk-away price.
        buyer_reservation: Decimal,
    },
    /// Fewer than two grid levels for a continuous issue.
    #[error("a package grid needs at least 2 levels per continuous issue, got {levels}")]
    TooFewLevels {
        /// The value as given.
        levels: usize,
    },
    /// More grid levels per continuous issue than allowed.
    #[error("a package grid allows at most {limit} levels per continuous issue, got {levels}")]
    TooManyLevels {
        /// The value as given.
        levels: usize,
        /// The limit.
        limit: usize,
    },
    /// A package grid too large to enumerate.
    #[error("package grid has more than {limit} packages")]
    GridTooLarge {
        /// The largest grid accepted.
        limit: u64,
    },
    /// The frontier builder would hold more candidate packages than it allows (many
    /// packages with identical utilities).
    #[error("Pareto frontier search needs more than {limit} candidate packages")]
    FrontierTooLarge {
        /// The limit.
        limit: usize,
    },
    /// An offer on the wrong side of the walk-away price.
    #[error("round {round}: offer {offer} crosses the {side} walk-away price {walk_away}")]
    OfferBeyondWalkAway {
        /// The round.
        round: u32,
        /// `"seller"` or `"buyer"`.
        side: String,
        /// The refused offer.
        offer: Decimal,
        /// The walk-away price.
        walk_away: Decimal,
    },
    /// A seller offer below the price that earns the minimum margin on the cost-to-serve.
    #[error(
        "round {round}: offer {offer} is below the margin floor {floor} (unit cost {unit_cost}, minimum margin {min_margin_pct}%)"
    )]
    OfferBelowMarginFloor {
        /// The round.
        round: u32,
        /// The refused offer.
        offer: Decimal,
        /// The floor price.
        floor: Decimal,
        /// The unit cost-to-serve.
        unit_cost: Decimal,
        /// The minimum margin in percent.
        min_margin_pct: Decimal,
    },
    /// A margin floor with a negative cost or a margin outside \[0, 100).
    #[error("invalid margin floor: {reason}")]
    InvalidMarginFloor {
        /// What is wrong.
        reason: String,
    },
    /// A margin floor on a buyer's log (a buyer has no margin to protect).
    #[error("a margin floor applies to the seller's concession log only")]
    MarginFloorForBuyer,
    /// A concession-log round earlier than the last one recorded.
    #[error("round {round} comes after round {last} was already logged")]
    RoundOutOfOrder {
        /// The round given.
        round: u32,
        /// The last round logged.
        last: u32,
    },
    /// A tactic given for the wrong side of a simulation.
    #[error("expected the {expected}'s tactic, got the {got}'s")]
    WrongSide {
        /// The side expected.
        expected: Side,
        /// The side given.
        got: Side,
    },
    /// A simulation longer than the round limit.
    #[error("a simulation plays at most {limit} rounds")]
    TooManyRounds {
        /// The limit.
        limit: u32,
    },
    /// An unknown tactic family name.
    #[error("unknown concession family {0:?}: expected \"polynomial\" or \"exponential\"")]
    UnknownFamily(String),
    /// An unknown side name.
    #[error("unknown side {0:?}: expected \"seller\" or \"buyer\"")]
    UnknownSide(String),
    /// A decimal maths function (exp, ln, power) without a representable result.
    #[error("no representable result for {operation}")]
    Maths {
        /// What was being computed.
        operation: String,
    },
    /// Overflow or division by zero.
    #[error(transparent)]
    Arithmetic(#[from] ArithmeticError),
}
