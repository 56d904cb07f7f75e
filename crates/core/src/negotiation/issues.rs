//! Negotiable issues, each side's preferences over them, packages and additive
//! multi-attribute utility.
//!
//! A party's utility for a package is `Σ weight_i × value_i(x_i)`: weights are in
//! \[0, 1\] and sum to exactly 1, every value function maps into \[0, 1\], so utility is
//! in \[0, 1\]. Value functions are linear between a worst and a best value (the order of
//! the two gives the direction) or piecewise linear through given points; both are flat
//! beyond their ends, so a value past "best" is worth no more than best.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::NegotiationError;
use super::zone::Batna;
use crate::direction::Direction;
use crate::num;

/// What an issue is about. Informational: the analysis treats every kind alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// Price per billable unit (pallet, pick line, order…).
    UnitPrice,
    /// Contract term, e.g. in years.
    ContractTerm,
    /// Payment terms in days.
    PaymentDays,
    /// Committed minimum volume.
    VolumeCommitment,
    /// Provider's share of savings in a gainshare, in percent.
    GainshareSplit,
    /// Cap on index-linked price escalation, in percent.
    IndexationCap,
    /// A service level, e.g. an OTIF target.
    ServiceLevel,
    /// Anything else.
    Custom,
}

/// The values an issue can take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IssueDomain {
    /// Any value from `min` to `max` inclusive (`min < max`).
    Range {
        /// Lowest negotiable value.
        min: Decimal,
        /// Highest negotiable value.
        max: Decimal,
    },
    /// One of a few discrete values (e.g. terms of 3, 5 or 7 years).
    Options {
        /// The allowed values, distinct.
        values: Vec<Decimal>,
    },
}

/// A negotiable issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Unique name, e.g. `"price"`.
    pub name: String,
    /// What it is about.
    pub kind: IssueKind,
    /// Its range or options.
    pub domain: IssueDomain,
}

impl Issue {
    /// A continuous issue from `min` to `max`.
    ///
    /// # Errors
    /// [`NegotiationError::EmptyRange`] unless `min < max`.
    pub fn range(
        name: impl Into<String>,
        kind: IssueKind,
        min: Decimal,
        max: Decimal,
    ) -> Result<Self, NegotiationError> {
        let issue = Issue {
            name: name.into(),
            kind,
            domain: IssueDomain::Range { min, max },
        };
        issue.validate()?;
        Ok(issue)
    }

    /// A discrete issue with the given options.
    ///
    /// # Errors
    /// [`NegotiationError::NoOptions`] for an empty list,
    /// [`NegotiationError::DuplicateOption`] for a repeated value.
    pub fn options(
        name: impl Into<String>,
        kind: IssueKind,
        values: Vec<Decimal>,
    ) -> Result<Self, NegotiationError> {
        let issue = Issue {
            name: name.into(),
            kind,
            domain: IssueDomain::Options { values },
        };
        issue.validate()?;
        Ok(issue)
    }

    /// Checks the domain (see the constructors).
    ///
    /// # Errors
    /// As for [`Issue::range`] and [`Issue::options`].
    pub fn validate(&self) -> Result<(), NegotiationError> {
        match &self.domain {
            IssueDomain::Range { min, max } => {
                if min >= max {
                    return Err(NegotiationError::EmptyRange {
                        issue: self.name.clone(),
                        low: *min,
                        high: *max,
                    });
                }
            }
            IssueDomain::Options { values } => {
                if values.is_empty() {
                    return Err(NegotiationError::NoOptions {
                        issue: self.name.clone(),
                    });
                }
                for (i, v) in values.iter().enumerate() {
                    if values.iter().skip(i + 1).any(|w| w == v) {
                        return Err(NegotiationError::DuplicateOption {
                            issue: self.name.clone(),
                            value: *v,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The lowest value the issue can take.
    pub fn low(&self) -> Decimal {
        match &self.domain {
            IssueDomain::Range { min, .. } => *min,
            IssueDomain::Options { values } => values.iter().copied().min().unwrap_or_default(),
        }
    }

    /// The highest value the issue can take.
    pub fn high(&self) -> Decimal {
        match &self.domain {
            IssueDomain::Range { max, .. } => *max,
            IssueDomain::Options { values } => values.iter().copied().max().unwrap_or_default(),
        }
    }

    /// Checks that `value` is negotiable on this issue.
    ///
    /// # Errors
    /// [`NegotiationError::ValueOutsideDomain`] otherwise.
    pub fn check_value(&self, value: Decimal) -> Result<(), NegotiationError> {
        let ok = match &self.domain {
            IssueDomain::Range { min, max } => *min <= value && value <= *max,
            IssueDomain::Options { values } => values.contains(&value),
        };
        if ok {
            return Ok(());
        }
        let allowed = match &self.domain {
            IssueDomain::Range { min, max } => format!("range {min} to {max}"),
            IssueDomain::Options { values } => {
                let list: Vec<String> = values.iter().map(ToString::to_string).collect();
                format!("options [{}]", list.join(", "))
            }
        };
        Err(NegotiationError::ValueOutsideDomain {
            issue: self.name.clone(),
            value,
            allowed,
        })
    }
}

/// One point of a piecewise-linear value function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValuePoint {
    /// The issue value.
    pub x: Decimal,
    /// Its value to the party, 0 to 1.
    pub value: Decimal,
}

/// How much a party values each level of one issue, mapped into \[0, 1\].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum ValueFunction {
    /// `(x − worst) / (best − worst)`, clamped to \[0, 1\]. `best > worst` means higher is
    /// better, `best < worst` lower is better.
    Linear {
        /// The value worth 0.
        worst: Decimal,
        /// The value worth 1.
        best: Decimal,
    },
    /// Straight lines between points given in strictly ascending `x`, flat beyond the
    /// first and last point. Need not be monotone (e.g. a preferred middle term).
    PiecewiseLinear {
        /// At least two points.
        points: Vec<ValuePoint>,
    },
}

impl ValueFunction {
    /// A linear value function over `low..high` that prefers `direction`.
    ///
    /// # Errors
    /// [`NegotiationError::EmptyRange`] unless `low < high` (`issue` names it).
    pub fn linear(
        issue: &str,
        direction: Direction,
        low: Decimal,
        high: Decimal,
    ) -> Result<Self, NegotiationError> {
        if low >= high {
            return Err(NegotiationError::EmptyRange {
                issue: issue.to_owned(),
                low,
                high,
            });
        }
        Ok(match direction {
            Direction::HigherIsBetter => ValueFunction::Linear {
                worst: low,
                best: high,
            },
            Direction::LowerIsBetter => ValueFunction::Linear {
                worst: high,
                best: low,
            },
        })
    }

    /// The direction of a linear function; `None` for a piecewise-linear one.
    pub fn direction(&self) -> Option<Direction> {
        match self {
            ValueFunction::Linear { worst, best } if best > worst => Some(Direction::HigherIsBetter),
            ValueFunction::Linear { .. } => Some(Direction::LowerIsBetter),
            ValueFunction::PiecewiseLinear { .. } => None,
        }
    }

    /// Checks the shape; `party`/`issue` name it in errors.
    ///
    /// # Errors
    /// [`NegotiationError::EmptyRange`] for a linear function with `worst == best`;
    /// [`NegotiationError::InvalidValueFunction`] for fewer than two points, `x` not
    /// strictly ascending or a value outside \[0, 1\].
    pub fn validate(&self, party: &str, issue: &str) -> Result<(), NegotiationError> {
        match self {
            ValueFunction::Linear { worst, best } => {
                if worst == best {
                    return Err(NegotiationError::EmptyRange {
                        issue: issue.to_owned(),
                        low: *worst,
                        high: *best,
                    });
                }
            }
            ValueFunction::PiecewiseLinear { points } => {
                let invalid = |reason: String| NegotiationError::InvalidValueFunction {
                    party: party.to_owned(),
                    issue: issue.to_owned(),
                    reason,
                };
                if points.len() < 2 {
                    return Err(invalid(format!("needs at least 2 points, got {}", points.len())));
                }
                for p in points {
                    if p.value < Decimal::ZERO || p.value > Decimal::ONE {
                        return Err(invalid(format!(
                            "value {} at x = {} is outside 0 to 1",
                            p.value, p.x
                        )));
                    }
                }
                for pair in points.windows(2) {
                    if let [a, b] = pair
                        && a.x >= b.x
                    {
                        return Err(invalid(format!(
                            "x must be strictly ascending, got {} then {}",
                            a.x, b.x
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The value of `x`, in \[0, 1\]. Assumes [`ValueFunction::validate`] passed; a
    /// degenerate function is still an error, never a panic.
    ///
    /// # Errors
    /// [`NegotiationError::Arithmetic`] on overflow or a zero-width segment.
    pub fn value(&self, x: Decimal) -> Result<Decimal, NegotiationError> {
        let v = match self {
            ValueFunction::Linear { worst, best } => num::div(
                num::sub(x, *worst, "value function: x − worst")?,
                num::sub(*best, *worst, "value function: best − worst")?,
                "value function: (x − worst) / (best − worst)",
            )?,
            ValueFunction::PiecewiseLinear { points } => piecewise(points, x)?,
        };
        Ok(v.clamp(Decimal::ZERO, Decimal::ONE).normalize())
    }
}

fn piecewise(points: &[ValuePoint], x: Decimal) -> Result<Decimal, NegotiationError> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Ok(Decimal::ZERO);
    };
    if x <= first.x {
        return Ok(first.value);
    }
    if x >= last.x {
        return Ok(last.value);
    }
    for pair in points.windows(2) {
        if let [a, b] = pair
            && x <= b.x
        {
            let slope = num::div(
                num::sub(b.value, a.value, "value function: segment rise")?,
                num::sub(b.x, a.x, "value function: segment run")?,
                "value function: slope",
            )?;
            let dx = num::sub(x, a.x, "value function: x − x_i")?;
            return Ok(num::add(
                a.value,
                num::mul(slope, dx, "value function: slope × dx")?,
                "value function: v_i + slope × dx",
            )?);
        }
    }
    Ok(last.value)
}

/// One party's preference on one issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    /// The issue's name.
    pub issue: String,
    /// Its weight, 0 to 1; a party's weights sum to exactly 1.
    pub weight: Decimal,
    /// How the party values the issue's levels.
    pub value: ValueFunction,
}

impl Criterion {
    /// A linear criterion over the whole domain of `issue`, preferring `direction`.
    ///
    /// # Errors
    /// [`NegotiationError::EmptyRange`] for a single-valued issue.
    pub fn linear(issue: &Issue, weight: Decimal, direction: Direction) -> Result<Self, NegotiationError> {
        Ok(Criterion {
            issue: issue.name.clone(),
            weight,
            value: ValueFunction::linear(&issue.name, direction, issue.low(), issue.high())?,
        })
    }
}

/// One side of the table: its criteria, its reservation utility (the utility below which
/// it walks away, usually the utility of its BATNA) and the BATNA itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// e.g. `"3PL"` or `"OEM"`.
    pub name: String,
    /// One criterion per issue it cares about; issues without one weigh 0.
    pub criteria: Vec<Criterion>,
    /// Utility of walking away, 0 to 1.
    #[serde(default)]
    pub reservation_utility: Decimal,
    /// The best alternative to a negotiated agreement, if described.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batna: Option<Batna>,
}

impl Party {
    /// A party with no BATNA described.
    pub fn new(name: impl Into<String>, criteria: Vec<Criterion>, reservation_utility: Decimal) -> Self {
        Party {
            name: name.into(),
            criteria,
            reservation_utility,
            batna: None,
        }
    }

    /// The criterion for `issue`, if the party has one.
    pub fn criterion(&self, issue: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.issue == issue)
    }

    /// The party's weight on `issue` (0 without a criterion).
    pub fn weight(&self, issue: &str) -> Decimal {
        self.criterion(issue).map_or(Decimal::ZERO, |c| c.weight)
    }
}

/// A package: one value per issue, by issue name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Package(pub BTreeMap<String, Decimal>);

impl Package {
    /// A package from `(issue, value)` pairs.
    pub fn from_pairs<I, S>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (S, Decimal)>,
        S: Into<String>,
    {
        Package(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The value of `issue`.
    ///
    /// # Errors
    /// [`NegotiationError::MissingValue`] when the package has none.
    pub fn get(&self, issue: &str) -> Result<Decimal, NegotiationError> {
        self.0
            .get(issue)
            .copied()
            .ok_or_else(|| NegotiationError::MissingValue {
                issue: issue.to_owned(),
            })
    }
}

/// Checks that `weights` are each in \[0, 1\] and sum to exactly 1.
pub(crate) fn check_weights<'a, I>(party: &str, weights: I) -> Result<(), NegotiationError>
where
    I: IntoIterator<Item = (&'a str, Decimal)>,
{
    let mut sum = Decimal::ZERO;
    for (issue, w) in weights {
        if w < Decimal::ZERO || w > Decimal::ONE {
            return Err(NegotiationError::WeightOutOfRange {
                party: party.to_owned(),
                issue: issue.to_owned(),
                weight: w,
            });
        }
        sum = num::add(sum, w, "sum of weights")?;
    }
    if sum != Decimal::ONE {
        return Err(NegotiationError::WeightsDoNotSumToOne {
            party: party.to_owned(),
            sum: sum.normalize(),
        });
    }
    Ok(())
}

/// The issues on the table and both sides' preferences. Fields are public for serde and
/// construction; every analysis validates first ([`NegotiationSpace::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NegotiationSpace {
    /// The issues, unique by name.
    pub issues: Vec<Issue>,
    /// The selling side (the 3PL).
    pub seller: Party,
    /// The buying side (the customer).
    pub buyer: Party,
}

impl NegotiationSpace {
    /// A validated space.
    ///
    /// # Errors
    /// As for [`NegotiationSpace::validate`].
    pub fn new(issues: Vec<Issue>, seller: Party, buyer: Party) -> Result<Self, NegotiationError> {
        let space = NegotiationSpace {
            issues,
            seller,
            buyer,
        };
        space.validate()?;
        Ok(space)
    }

    /// Checks issues (unique names, non-empty domains) and both parties (criteria name
    /// known issues once each, weights in \[0, 1\] summing to exactly 1, valid value
    /// functions, reservation utility in \[0, 1\]).
    ///
    /// # Errors
    /// The first problem found, as a typed [`NegotiationError`].
    pub fn validate(&self) -> Result<(), NegotiationError> {
        for (i, issue) in self.issues.iter().enumerate() {
            issue.validate()?;
            if self.issues.iter().skip(i + 1).any(|o| o.name == issue.name) {
                return Err(NegotiationError::DuplicateIssue {
                    issue: issue.name.clone(),
                    context: String::new(),
                });
            }
        }
        for party in [&self.seller, &self.buyer] {
            for (i, c) in party.criteria.iter().enumerate() {
                if !self.issues.iter().any(|issue| issue.name == c.issue) {
                    return Err(NegotiationError::UnknownIssue {
                        issue: c.issue.clone(),
                        context: format!("the criteria of {}", party.name),
                    });
                }
                if party.criteria.iter().skip(i + 1).any(|o| o.issue == c.issue) {
                    return Err(NegotiationError::DuplicateIssue {
                        issue: c.issue.clone(),
                        context: format!(" in the criteria of {}", party.name),
                    });
                }
                c.value.validate(&party.name, &c.issue)?;
            }
            check_weights(
                &party.name,
                party.criteria.iter().map(|c| (c.issue.as_str(), c.weight)),
            )?;
            if party.reservation_utility < Decimal::ZERO || party.reservation_utility > Decimal::ONE {
                return Err(NegotiationError::ReservationUtilityOutOfRange {
                    party: party.name.clone(),
                    value: party.reservation_utility,
                });
            }
        }
        Ok(())
    }

    /// The issue named `name`.
    pub fn issue(&self, name: &str) -> Option<&Issue> {
        self.issues.iter().find(|i| i.name == name)
    }

    /// Checks that `package` has exactly one negotiable value per issue.
    ///
    /// # Errors
    /// [`NegotiationError::MissingValue`], [`NegotiationError::UnknownIssue`] or
    /// [`NegotiationError::ValueOutsideDomain`].
    pub fn check_package(&self, package: &Package) -> Result<(), NegotiationError> {
        for issue in &self.issues {
            issue.check_value(package.get(&issue.name)?)?;
        }
        if let Some(name) = package.0.keys().find(|k| self.issue(k).is_none()) {
            return Err(NegotiationError::UnknownIssue {
                issue: name.clone(),
                context: "the package".to_owned(),
            });
        }
        Ok(())
    }

    /// The party on `side`.
    pub fn party(&self, side: super::Side) -> &Party {
        match side {
            super::Side::Seller => &self.seller,
            super::Side::Buyer => &self.buyer,
        }
    }

    /// The additive utility of `package` to the party on `side`, in \[0, 1\].
    ///
    /// ```
    /// use kam_core::negotiation::{Criterion, Issue, IssueKind, NegotiationSpace, Package, Party, Side};
    /// use kam_core::Direction;
    /// use rust_decimal::Decimal;
    ///
    /// let price = Issue::range("price", IssueKind::UnitPrice, Decimal::new(58, 2), Decimal::new(70, 2))?;
    /// let term = Issue::range("term", IssueKind::ContractTerm, Decimal::ONE, Decimal::from(5))?;
    /// let seller = Party::new("3PL", vec![
    ///     Criterion::linear(&price, Decimal::new(7, 1), Direction::HigherIsBetter)?,
    ///     Criterion::linear(&term, Decimal::new(3, 1), Direction::HigherIsBetter)?,
    /// ], Decimal::ZERO);
    /// let buyer = Party::new("OEM", vec![
    ///     Criterion::linear(&price, Decimal::ONE, Direction::LowerIsBetter)?,
    /// ], Decimal::ZERO);
    /// let space = NegotiationSpace::new(vec![price, term], seller, buyer)?;
    /// let p = Package::from_pairs([("price", Decimal::new(64, 2)), ("term", Decimal::from(5))]);
    /// assert_eq!(space.utility(Side::Seller, &p)?, Decimal::new(65, 2));
    /// assert_eq!(space.utility(Side::Buyer, &p)?, Decimal::new(5, 1));
    /// # Ok::<(), kam_core::negotiation::NegotiationError>(())
    /// ```
    ///
    /// # Errors
    /// Validation errors for the space or the package; arithmetic overflow.
    pub fn utility(&self, side: super::Side, package: &Package) -> Result<Decimal, NegotiationError> {
        self.validate()?;
        self.check_package(package)?;
        self.utility_unchecked(side, package)
    }

    /// [`NegotiationSpace::utility`] without validating (for callers that did).
    pub(crate) fn utility_unchecked(
        &self,
        side: super::Side,
        package: &Package,
    ) -> Result<Decimal, NegotiationError> {
        let mut sum = Decimal::ZERO;
        for c in &self.party(side).criteria {
            let v = c.value.value(package.get(&c.issue)?)?;
            sum = num::add(
                sum,
                num::mul(c.weight, v, "utility: weight × value")?,
                "utility: sum",
            )?;
        }
        Ok(sum.normalize())
    }
}

/// An issue for [`utility`]: a linear value from `worst` (0) to `best` (1) and a weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearIssue {
    /// The issue's name (a key of the package).
    pub name: String,
    /// The value worth 0.
    pub worst: Decimal,
    /// The value worth 1.
    pub best: Decimal,
    /// Its weight; all weights sum to exactly 1.
    pub weight: Decimal,
}

/// Additive utility of `package` with linear value functions: `Σ weight × (x − worst) /
/// (best − worst)`, each value clamped to \[0, 1\]. The direction of an issue is implied by
/// the order of `worst` and `best`. This is the analyst API's `utility(package, issues)`.
///
/// ```
/// use kam_core::negotiation::{issues::utility, LinearIssue, Package};
/// use rust_decimal::Decimal;
///
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// let issue = |name: &str, worst, best, weight| LinearIssue { name: name.into(), worst: d(worst), best: d(best), weight: d(weight) };
/// // The OEM: price down (0.6), term short (0.1), payment long (0.3).
/// let oem = [issue("price", "0.70", "0.58", "0.6"), issue("term", "5", "1", "0.1"), issue("payment", "30", "90", "0.3")];
/// let b = Package::from_pairs([("price", d("0.64")), ("term", d("5")), ("payment", d("90"))]);
/// assert_eq!(utility(&b, &oem)?, d("0.6"));
/// # Ok::<(), kam_core::negotiation::NegotiationError>(())
/// ```
///
/// # Errors
/// [`NegotiationError::WeightsDoNotSumToOne`] / [`NegotiationError::WeightOutOfRange`],
/// [`NegotiationError::EmptyRange`] when `worst == best`,
/// [`NegotiationError::DuplicateIssue`], [`NegotiationError::MissingValue`].
pub fn utility(package: &Package, issues: &[LinearIssue]) -> Result<Decimal, NegotiationError> {
    check_weights("utility", issues.iter().map(|i| (i.name.as_str(), i.weight)))?;
    let mut sum = Decimal::ZERO;
    for (k, issue) in issues.iter().enumerate() {
        if issues.iter().skip(k + 1).any(|o| o.name == issue.name) {
            return Err(NegotiationError::DuplicateIssue {
                issue: issue.name.clone(),
                context: " in the utility issues".to_owned(),
            });
        }
        let f = ValueFunction::Linear {
            worst: issue.worst,
            best: issue.best,
        };
        f.validate("utility", &issue.name)?;
        let v = f.value(package.get(&issue.name)?)?;
        sum = num::add(
            sum,
            num::mul(issue.weight, v, "utility: weight × value")?,
            "utility: sum",
        )?;
    }
    Ok(sum.normalize())
}
