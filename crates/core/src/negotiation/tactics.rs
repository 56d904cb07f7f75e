//! Time-dependent concession tactics after Faratin, Sierra & Jennings (1998),
//! "Negotiation decision functions for autonomous agents".
//!
//! A tactic concedes from a side's best offer to its reservation value as time `t`
//! runs to the deadline `T`. The concession fraction is
//!
//! - polynomial: `α(t) = κ + (1 − κ) × (min(t, T) / T)^(1/β)`
//! - exponential: `α(t) = exp((1 − min(t, T) / T)^β × ln κ)` (needs κ > 0)
//!
//! and the offer is `min + (1 − α) × (max − min)` for a seller (conceding from `max`
//! down) or `min + α × (max − min)` for a buyer (from `min` up). `κ` sets the opening
//! concession (`α(0) = κ`) and both families reach `α(T) = 1`, i.e. the reservation
//! value at the deadline. `β < 1` is Boulware (holds out until late), `β = 1` linear
//! (polynomial), `β > 1` Conceder (gives ground early).
//!
//! Exact cases stay exact: `t = 0`, `t ≥ T`, `β = 1`, κ = 1, and `1/β` (polynomial) or
//! `β` (exponential) a whole number use only exact decimal arithmetic; other cases use
//! `rust_decimal`'s 28-digit `ln`/`exp`. Results are clamped into \[κ, 1\] and
//! \[min, max\] so rounding in the last digit can never cross a reservation value; a
//! power too small to represent is 0.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, MathematicalOps};
use serde::{Deserialize, Serialize};

use super::NegotiationError;
use super::issues::{IssueDomain, NegotiationSpace, Package, ValueFunction};
use crate::num;

/// Which side of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The provider (the 3PL): prefers higher prices, concedes downwards.
    Seller,
    /// The customer: prefers lower prices, concedes upwards.
    Buyer,
}

impl Side {
    /// `"seller"` or `"buyer"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Seller => "seller",
            Side::Buyer => "buyer",
        }
    }

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Seller => Side::Buyer,
            Side::Buyer => Side::Seller,
        }
    }
}

impl std::str::FromStr for Side {
    type Err = NegotiationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "seller" => Ok(Side::Seller),
            "buyer" => Ok(Side::Buyer),
            other => Err(NegotiationError::UnknownSide(other.to_owned())),
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The family of the concession curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TacticFamily {
    /// `α(t) = κ + (1 − κ)(t/T)^(1/β)`.
    Polynomial,
    /// `α(t) = exp((1 − t/T)^β ln κ)`.
    Exponential,
}

impl TacticFamily {
    /// `"polynomial"` or `"exponential"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TacticFamily::Polynomial => "polynomial",
            TacticFamily::Exponential => "exponential",
        }
    }
}

impl std::str::FromStr for TacticFamily {
    type Err = NegotiationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "polynomial" => Ok(TacticFamily::Polynomial),
            "exponential" => Ok(TacticFamily::Exponential),
            other => Err(NegotiationError::UnknownFamily(other.to_owned())),
        }
    }
}

impl std::fmt::Display for TacticFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn check_params(
    deadline: Decimal,
    beta: Decimal,
    kappa: Decimal,
    family: TacticFamily,
) -> Result<(), NegotiationError> {
    if deadline <= Decimal::ZERO {
        return Err(NegotiationError::InvalidDeadline { deadline });
    }
    if beta <= Decimal::ZERO {
        return Err(NegotiationError::InvalidBeta { beta });
    }
    if kappa < Decimal::ZERO || kappa > Decimal::ONE {
        return Err(NegotiationError::InvalidKappa { kappa });
    }
    if family == TacticFamily::Exponential && kappa.is_zero() {
        return Err(NegotiationError::ExponentialKappaZero);
    }
    Ok(())
}

fn maths(operation: &str) -> NegotiationError {
    NegotiationError::Maths {
        operation: operation.to_owned(),
    }
}

/// `x^e` for `0 < x < 1` and `e > 0`; exact for whole `e`, 0 when it underflows.
fn pow_unit(x: Decimal, e: Decimal, operation: &str) -> Result<Decimal, NegotiationError> {
    if e == Decimal::ONE {
        return Ok(x);
    }
    let e_norm = e.normalize();
    if e_norm.scale() == 0 {
        // A whole exponent: exact repeated multiplication (192-bit intermediate).
        let Ok(n) = u64::try_from(e_norm.mantissa()) else {
            return Ok(Decimal::ZERO); // x < 1 to a power beyond u64 is far below 1e-28
        };
        return Ok(x.checked_powu(n).unwrap_or(Decimal::ZERO));
    }
    let ln = x.checked_ln().ok_or_else(|| maths(operation))?;
    // ln x < 0 and e > 0: a product beyond the decimal range means x^e ≈ 0.
    let Some(y) = ln.checked_mul(e) else {
        return Ok(Decimal::ZERO);
    };
    // e^-66 < 1e-28: below the smallest positive decimal.
    if y < Decimal::from(-66) {
        return Ok(Decimal::ZERO);
    }
    y.checked_exp().ok_or_else(|| maths(operation))
}

/// The concession fraction `α(t)` in \[κ, 1\] (see the module doc for the formulas).
///
/// # Errors
/// [`NegotiationError::InvalidDeadline`] for `deadline ≤ 0`,
/// [`NegotiationError::InvalidBeta`] for `β ≤ 0`, [`NegotiationError::InvalidKappa`]
/// outside \[0, 1\], [`NegotiationError::ExponentialKappaZero`],
/// [`NegotiationError::NegativeTime`] for `t < 0`.
pub fn alpha(
    t: Decimal,
    deadline: Decimal,
    beta: Decimal,
    kappa: Decimal,
    family: TacticFamily,
) -> Result<Decimal, NegotiationError> {
    check_params(deadline, beta, kappa, family)?;
    if t < Decimal::ZERO {
        return Err(NegotiationError::NegativeTime { t });
    }
    if t >= deadline {
        return Ok(Decimal::ONE);
    }
    if t.is_zero() {
        return Ok(kappa);
    }
    let tau = num::div(t, deadline, "concession: t / deadline")?;
    let a = match family {
        TacticFamily::Polynomial => {
            // 1/β is exact when β divides 1 (β = 0.2, 0.5, 1); otherwise τ^(1/β) goes
            // through exp(ln τ / β) rather than a rounded reciprocal.
            let p = if (Decimal::ONE.checked_rem(beta)).is_some_and(|r| r.is_zero()) {
                pow_unit(
                    tau,
                    num::div(Decimal::ONE, beta, "concession: 1 / beta")?,
                    "concession: (t/T)^(1/beta)",
                )?
            } else {
                let ln = tau.checked_ln().ok_or_else(|| maths("concession: ln(t/T)"))?;
                match ln.checked_div(beta) {
                    Some(y) if y >= Decimal::from(-66) => y
                        .checked_exp()
                        .ok_or_else(|| maths("concession: (t/T)^(1/beta)"))?,
                    _ => Decimal::ZERO,
                }
            };
            let rest = num::sub(Decimal::ONE, kappa, "concession: 1 − kappa")?;
            num::add(
                kappa,
                num::mul(rest, p, "concession: (1 − kappa) × power")?,
                "concession: alpha",
            )?
        }
        TacticFamily::Exponential => {
            if kappa == Decimal::ONE {
                return Ok(Decimal::ONE);
            }
            let remaining = num::sub(Decimal::ONE, tau, "concession: 1 − t/T")?;
            let p = pow_unit(remaining, beta, "concession: (1 − t/T)^beta")?;
            let ln_kappa = kappa.checked_ln().ok_or_else(|| maths("concession: ln kappa"))?;
            let y = num::mul(p, ln_kappa, "concession: power × ln kappa")?;
            y.checked_exp()
                .ok_or_else(|| maths("concession: exp(power × ln kappa)"))?
        }
    };
    Ok(a.clamp(kappa, Decimal::ONE).normalize())
}

/// The offer at time `t` of a time-dependent tactic: a seller concedes from `max` down,
/// a buyer from `min` up, both reaching their reservation value (`min` for the seller,
/// `max` for the buyer) at the deadline. This is the analyst API's
/// `concession_offer(#{ min, max, t, deadline, beta, kappa, family, side })`.
///
/// ```
/// use kam_core::negotiation::tactics::{concession_offer, Side, TacticFamily};
/// use rust_decimal::Decimal;
///
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// // Boulware seller (beta 0.2) at t = 8 of 10: still at 0.66068 (5 dp).
/// let o = concession_offer(d("0.58"), d("0.70"), d("8"), d("10"), d("0.2"), d("0"),
///                          TacticFamily::Polynomial, Side::Seller)?;
/// assert_eq!(o.round_dp(5), d("0.66068"));
/// # Ok::<(), kam_core::negotiation::NegotiationError>(())
/// ```
///
/// # Errors
/// As for [`alpha`], and [`NegotiationError::InvalidOfferRange`] when `min > max`.
#[allow(clippy::too_many_arguments)] // mirrors the analyst API's named arguments
pub fn concession_offer(
    min: Decimal,
    max: Decimal,
    t: Decimal,
    deadline: Decimal,
    beta: Decimal,
    kappa: Decimal,
    family: TacticFamily,
    side: Side,
) -> Result<Decimal, NegotiationError> {
    if min > max {
        return Err(NegotiationError::InvalidOfferRange { min, max });
    }
    let a = alpha(t, deadline, beta, kappa, family)?;
    let span = num::sub(max, min, "concession: max − min")?;
    let fraction = match side {
        Side::Seller => num::sub(Decimal::ONE, a, "concession: 1 − alpha")?,
        Side::Buyer => a,
    };
    let offer = num::add(
        min,
        num::mul(fraction, span, "concession: fraction × (max − min)")?,
        "concession: offer",
    )?;
    Ok(offer.clamp(min, max).normalize())
}

/// A time-dependent tactic for one side on one issue (usually the unit price).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tactic {
    /// Which side uses it.
    pub side: Side,
    /// Polynomial or exponential.
    pub family: TacticFamily,
    /// Concession shape: < 1 Boulware, > 1 Conceder.
    pub beta: Decimal,
    /// Opening concession fraction, 0 to 1.
    pub kappa: Decimal,
    /// Time (rounds) by which the reservation value is reached.
    pub deadline: Decimal,
    /// Lowest offer (the seller's reservation price).
    pub min: Decimal,
    /// Highest offer (the buyer's reservation price).
    pub max: Decimal,
}

impl Tactic {
    /// A validated tactic.
    ///
    /// # Errors
    /// As for [`concession_offer`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        side: Side,
        family: TacticFamily,
        beta: Decimal,
        kappa: Decimal,
        deadline: Decimal,
        min: Decimal,
        max: Decimal,
    ) -> Result<Self, NegotiationError> {
        let t = Tactic {
            side,
            family,
            beta,
            kappa,
            deadline,
            min,
            max,
        };
        t.validate()?;
        Ok(t)
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// As for [`concession_offer`].
    pub fn validate(&self) -> Result<(), NegotiationError> {
        check_params(self.deadline, self.beta, self.kappa, self.family)?;
        if self.min > self.max {
            return Err(NegotiationError::InvalidOfferRange {
                min: self.min,
                max: self.max,
            });
        }
        Ok(())
    }

    /// The offer at time `t`.
    ///
    /// # Errors
    /// As for [`concession_offer`].
    pub fn offer(&self, t: Decimal) -> Result<Decimal, NegotiationError> {
        concession_offer(
            self.min,
            self.max,
            t,
            self.deadline,
            self.beta,
            self.kappa,
            self.family,
            self.side,
        )
    }

    /// The side's reservation value: `min` for a seller, `max` for a buyer.
    pub fn reservation(&self) -> Decimal {
        match self.side {
            Side::Seller => self.min,
            Side::Buyer => self.max,
        }
    }
}

/// Both offers of one round (the buyer's is absent when it accepted the seller's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundOffers {
    /// Round number, from 0.
    pub round: u32,
    /// The seller's offer.
    pub seller_offer: Decimal,
    /// The buyer's counter-offer, if it made one.
    pub buyer_offer: Option<Decimal>,
}

/// How a simulated negotiation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// One side accepted the other's offer.
    Agreement {
        /// The round of acceptance.
        round: u32,
        /// The agreed price.
        price: Decimal,
        /// Who accepted (the other side made the offer).
        accepted_by: Side,
    },
    /// The earlier deadline passed without agreement.
    Breakdown {
        /// The last round played.
        last_round: u32,
    },
}

/// The result of [`simulate`]: the offers round by round and the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulationOutcome {
    /// Offers per round.
    pub rounds: Vec<RoundOffers>,
    /// Agreement or breakdown.
    pub outcome: Outcome,
}

/// Most rounds [`simulate`] plays.
pub const MAX_ROUNDS: u32 = 100_000;

/// Plays a seller tactic against a buyer tactic on one issue (the unit price).
///
/// Rounds are whole times `t = 0, 1, 2, …`. In round `t` the seller offers `s(t)`; the
/// buyer **accepts** if `s(t) ≤ b(t)`, i.e. the seller's offer is at least as good for
/// the buyer as the offer it would make itself. Otherwise the buyer offers `b(t)` and the
/// seller accepts if `b(t) ≥ s(t + 1)`, the offer it would make next (Faratin et al.'s
/// acceptance rule: take an offer no worse than your own next one). A side whose deadline
/// has passed keeps offering its reservation value; when the round passes the earlier
/// deadline (`floor(min(T_seller, T_buyer))`) without acceptance, the negotiation breaks
/// down. With a ZOPA and equal whole deadlines the tactics always agree by the deadline.
///
/// ```
/// use kam_core::negotiation::tactics::{simulate, Outcome, Side, Tactic, TacticFamily};
/// use rust_decimal::Decimal;
///
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// let seller = Tactic::new(Side::Seller, TacticFamily::Polynomial, d("0.2"), d("0"), d("10"), d("0.58"), d("0.70"))?;
/// let buyer = Tactic::new(Side::Buyer, TacticFamily::Polynomial, d("2"), d("0"), d("10"), d("0.50"), d("0.66"))?;
/// let run = simulate(&seller, &buyer)?;
/// assert!(matches!(run.outcome, Outcome::Agreement { .. }));
/// # Ok::<(), kam_core::negotiation::NegotiationError>(())
/// ```
///
/// # Errors
/// Tactic validation errors; [`NegotiationError::WrongSide`] when the tactics' sides are
/// not seller and buyer; [`NegotiationError::TooManyRounds`] when the earlier
/// deadline exceeds [`MAX_ROUNDS`].
pub fn simulate(seller: &Tactic, buyer: &Tactic) -> Result<SimulationOutcome, NegotiationError> {
    seller.validate()?;
    buyer.validate()?;
    if seller.side != Side::Seller {
        return Err(NegotiationError::WrongSide {
            expected: Side::Seller,
            got: seller.side,
        });
    }
    if buyer.side != Side::Buyer {
        return Err(NegotiationError::WrongSide {
            expected: Side::Buyer,
            got: buyer.side,
        });
    }
    let last = seller.deadline.min(buyer.deadline).floor();
    if last > Decimal::from(MAX_ROUNDS) {
        return Err(NegotiationError::TooManyRounds { limit: MAX_ROUNDS });
    }
    let last_round = last.to_u32().unwrap_or(0);
    let mut rounds = Vec::new();
    for round in 0..=last_round {
        let t = Decimal::from(round);
        let s = seller.offer(t)?;
        let b = buyer.offer(t)?;
        if s <= b {
            rounds.push(RoundOffers {
                round,
                seller_offer: s,
                buyer_offer: None,
            });
            return Ok(SimulationOutcome {
                rounds,
                outcome: Outcome::Agreement {
                    round,
                    price: s,
                    accepted_by: Side::Buyer,
                },
            });
        }
        rounds.push(RoundOffers {
            round,
            seller_offer: s,
            buyer_offer: Some(b),
        });
        let s_next = seller.offer(num::add(t, Decimal::ONE, "simulation: next round")?)?;
        if b >= s_next {
            return Ok(SimulationOutcome {
                rounds,
                outcome: Outcome::Agreement {
                    round,
                    price: b,
                    accepted_by: Side::Seller,
                },
            });
        }
    }
    Ok(SimulationOutcome {
        rounds,
        outcome: Outcome::Breakdown { last_round },
    })
}

/// A time-dependent tactic over a whole package: the side concedes in utility, from 1 at
/// the start (less the opening concession κ) to its reservation utility at the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageTactic {
    /// Polynomial or exponential.
    pub family: TacticFamily,
    /// Concession shape: < 1 Boulware, > 1 Conceder.
    pub beta: Decimal,
    /// Opening concession fraction, 0 to 1.
    pub kappa: Decimal,
    /// Time (rounds) by which the reservation utility is reached.
    pub deadline: Decimal,
}

/// Both package offers of one round (the buyer's is absent when it accepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRound {
    /// Round number, from 0.
    pub round: u32,
    /// The seller's package.
    pub seller_offer: Package,
    /// The buyer's counter-package, if it made one.
    pub buyer_offer: Option<Package>,
}

/// How a simulated package negotiation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PackageOutcome {
    /// One side accepted the other's package.
    Agreement {
        /// The round of acceptance.
        round: u32,
        /// The agreed package.
        package: Package,
        /// Who accepted.
        accepted_by: Side,
        /// Its utility to the seller.
        seller_utility: Decimal,
        /// Its utility to the buyer.
        buyer_utility: Decimal,
    },
    /// The earlier deadline passed without agreement.
    Breakdown {
        /// The last round played.
        last_round: u32,
    },
}

/// The result of [`simulate_packages`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageSimulation {
    /// Offers per round.
    pub rounds: Vec<PackageRound>,
    /// Agreement or breakdown.
    pub outcome: PackageOutcome,
}

/// The package a side offers when it aims at value `v` on every issue it cares about.
fn package_at(space: &NegotiationSpace, side: Side, v: Decimal) -> Result<Package, NegotiationError> {
    let party = space.party(side);
    let mut values = Vec::with_capacity(space.issues.len());
    for issue in &space.issues {
        let x = match party.criterion(&issue.name).map(|c| &c.value) {
            // Indifferent: nothing to aim at; take the low end.
            None => issue.low(),
            Some(ValueFunction::Linear { worst, best }) => {
                let span = num::sub(*best, *worst, "package tactic: best − worst")?;
                let target = num::add(
                    *worst,
                    num::mul(v, span, "package tactic: v × span")?,
                    "package tactic: level",
                )?;
                match &issue.domain {
                    IssueDomain::Range { min, max } => target.clamp(*min, *max),
                    IssueDomain::Options { values: options } => {
                        // The option closest to the target that is worth at least v (the
                        // offer may give less than aimed, never more); else the best option.
                        let f = ValueFunction::Linear {
                            worst: *worst,
                            best: *best,
                        };
                        let mut pick: Option<(Decimal, Decimal)> = None; // (value, option)
                        let mut best_option: Option<(Decimal, Decimal)> = None;
                        for o in options {
                            let val = f.value(*o)?;
                            if best_option.is_none_or(|(bv, _)| val > bv) {
                                best_option = Some((val, *o));
                            }
                            if val >= v && pick.is_none_or(|(pv, _)| val < pv) {
                                pick = Some((val, *o));
                            }
                        }
                        pick.or(best_option).map_or(issue.low(), |(_, o)| o)
                    }
                }
            }
            Some(ValueFunction::PiecewiseLinear { .. }) => {
                return Err(NegotiationError::InvalidValueFunction {
                    party: party.name.clone(),
                    issue: issue.name.clone(),
                    reason: "package concession tactics need linear value functions".to_owned(),
                });
            }
        };
        values.push((issue.name.clone(), x.normalize()));
    }
    Ok(Package::from_pairs(values))
}

/// The package a side offers at time `t`: target value `1 − α(t) × (1 − reservation)`.
fn package_offer(
    space: &NegotiationSpace,
    side: Side,
    tactic: &PackageTactic,
    t: Decimal,
) -> Result<Package, NegotiationError> {
    let a = alpha(t, tactic.deadline, tactic.beta, tactic.kappa, tactic.family)?;
    let room = num::sub(
        Decimal::ONE,
        space.party(side).reservation_utility,
        "package tactic: 1 − reservation",
    )?;
    let v = num::sub(
        Decimal::ONE,
        num::mul(a, room, "package tactic: alpha × room")?,
        "package tactic: target",
    )?;
    package_at(space, side, v)
}

/// Plays two package tactics against each other. Each side aims, on every issue it has
/// a linear criterion for, at the level worth `1 − α(t) × (1 − reservation utility)` to it
/// (clamped to the issue's range; on a discrete issue, the option nearest above that
/// value), so its own utility falls from its opening to its reservation utility at its
/// deadline. Issues a side has no criterion for are offered at their low end.
///
/// The protocol and acceptance rule are those of [`simulate`], in utility: in round `t`
/// the seller offers `P_s(t)`; the buyer accepts if `U_b(P_s(t)) ≥ U_b(P_b(t))`; otherwise
/// it offers `P_b(t)` and the seller accepts if `U_s(P_b(t)) ≥ U_s(P_s(t + 1))`. Past the
/// earlier deadline without acceptance the negotiation breaks down.
///
/// # Errors
/// Space and tactic validation errors; [`NegotiationError::InvalidValueFunction`] for a
/// piecewise-linear criterion; [`NegotiationError::TooManyRounds`].
pub fn simulate_packages(
    space: &NegotiationSpace,
    seller: &PackageTactic,
    buyer: &PackageTactic,
) -> Result<PackageSimulation, NegotiationError> {
    space.validate()?;
    for t in [seller, buyer] {
        check_params(t.deadline, t.beta, t.kappa, t.family)?;
    }
    let last = seller.deadline.min(buyer.deadline).floor();
    if last > Decimal::from(MAX_ROUNDS) {
        return Err(NegotiationError::TooManyRounds { limit: MAX_ROUNDS });
    }
    let last_round = last.to_u32().unwrap_or(0);
    let mut rounds = Vec::new();
    for round in 0..=last_round {
        let t = Decimal::from(round);
        let ps = package_offer(space, Side::Seller, seller, t)?;
        let pb = package_offer(space, Side::Buyer, buyer, t)?;
        let ub_of_ps = space.utility_unchecked(Side::Buyer, &ps)?;
        if ub_of_ps >= space.utility_unchecked(Side::Buyer, &pb)? {
            let us = space.utility_unchecked(Side::Seller, &ps)?;
            rounds.push(PackageRound {
                round,
                seller_offer: ps.clone(),
                buyer_offer: None,
            });
            return Ok(PackageSimulation {
                rounds,
                outcome: PackageOutcome::Agreement {
                    round,
                    package: ps,
                    accepted_by: Side::Buyer,
                    seller_utility: us,
                    buyer_utility: ub_of_ps,
                },
            });
        }
        let next = package_offer(
            space,
            Side::Seller,
            seller,
            num::add(t, Decimal::ONE, "simulation: next round")?,
        )?;
        let us_of_pb = space.utility_unchecked(Side::Seller, &pb)?;
        let accept = us_of_pb >= space.utility_unchecked(Side::Seller, &next)?;
        rounds.push(PackageRound {
            round,
            seller_offer: ps,
            buyer_offer: Some(pb.clone()),
        });
        if accept {
            let ub = space.utility_unchecked(Side::Buyer, &pb)?;
            return Ok(PackageSimulation {
                rounds,
                outcome: PackageOutcome::Agreement {
                    round,
                    package: pb,
                    accepted_by: Side::Seller,
                    seller_utility: us_of_pb,
                    buyer_utility: ub,
                },
            });
        }
    }
    Ok(PackageSimulation {
        rounds,
        outcome: PackageOutcome::Breakdown { last_round },
    })
}
