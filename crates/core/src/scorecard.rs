//! QBR / SBR / EBR scorecards, grading schemes, roll-up of site scores, and the customer
//! health score.
//!
//! Scoring methods (a score of 1 means "on target"; every score is clamped to `[0, cap]`):
//! - **ratio to target** — `actual / target` when higher is better, `target / actual`
//!   when lower is better. Simple, but it flatters KPIs that live near 100 %.
//! - **linear band** — `clamp((actual − red) / (target − red), 0, cap)`: 0 at the red
//!   threshold, 1 at target, for either direction.
//! - **rule** — any [`KpiScoringRule`] (native, Rhai, WASM) scores the measures in one batch.
//!
//! Weights are normalized: the overall score is `Σ wᵢ·sᵢ / Σ wᵢ` over applicable measures,
//! so a measure that is N/A hands its weight to the others in proportion — exactly as if
//! it were not on the scorecard. Templates group measures; a measure's share is its
//! group's share times its share within the group, and an all-N/A group hands its weight
//! to the other groups.
//!
//! Grading schemes are bands with stated boundary inclusivity; they must cover their
//! range without overlap or gap. This module does no I/O and reads no clock.
//!
//! ```
//! use kam_core::scorecard::Scorecard;
//! use kam_core::Direction::{HigherIsBetter, LowerIsBetter};
//! use rust_decimal_macros::dec;
//!
//! // Source: shared/vectors/scorecard.toml [qbr]
//! let mut sc = Scorecard::new("QBR");
//! sc.measure("OTIF %", dec!(97.8), dec!(98.5), HigherIsBetter, dec!(0.30))?
//!   .measure("Inventory accuracy %", dec!(99.2), dec!(99.5), HigherIsBetter, dec!(0.20))?
//!   .measure("Dock-to-stock hours", dec!(20), dec!(24), LowerIsBetter, dec!(0.15))?
//!   .measure("Damage ppm", dec!(180), dec!(150), LowerIsBetter, dec!(0.15))?
//!   .measure("Cost per line", dec!(0.66), dec!(0.65), LowerIsBetter, dec!(0.20))?;
//! assert_eq!(sc.overall(dec!(1.10))?.round_dp(4), dec!(0.9842));
//! assert_eq!(sc.contributions()?[2].score, Some(dec!(1.10))); // 24/20 capped
//! # Ok::<(), kam_core::scorecard::ScorecardError>(())
//! ```

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Direction;
use crate::account::{Hierarchy, NodeLevel};
use crate::metrics::{KpiLibrary, MetricsError, RolledUp};
use crate::num::{self, ArithmeticError};
use crate::rules::{KpiScoringRule, MeasureInput, RuleError, RuleHost, check_batch_len};

/// What is wrong with a scorecard, template, grading scheme or roll-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScorecardError {
    /// A weight that is zero or negative.
    #[error("{item}: weight {weight} must be positive")]
    NonPositiveWeight {
        /// Measure, group or site.
        item: String,
        /// Weight given.
        weight: Decimal,
    },
    /// A cap that is zero or negative.
    #[error("cap {0} must be positive")]
    InvalidCap(Decimal),
    /// Ratio scoring needs a positive target.
    #[error("measure {measure:?}: ratio scoring needs a positive target, got {target}")]
    NonPositiveTarget {
        /// Measure.
        measure: String,
        /// Target.
        target: Decimal,
    },
    /// Band scoring needs a red threshold.
    #[error("measure {0:?}: band scoring needs a red threshold")]
    MissingRed(String),
    /// The red threshold equals the target or is on the good side of it.
    #[error("measure {measure:?}: red threshold {red} must be on the bad side of target {target}")]
    RedOnWrongSide {
        /// Measure.
        measure: String,
        /// Red threshold.
        red: Decimal,
        /// Target.
        target: Decimal,
    },
    /// A template measure naming a KPI that is not in the library.
    #[error("template {template:?}, group {group:?}: unknown KPI {kpi:?}")]
    UnknownKpi {
        /// Template.
        template: String,
        /// Group.
        group: String,
        /// The KPI id.
        kpi: String,
    },
    /// Two measures or groups with the same name.
    #[error("duplicate {what} {name:?}")]
    Duplicate {
        /// `"measure"` or `"group"`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// Two grading bands overlap.
    #[error("grading bands {lower:?} and {upper:?} overlap")]
    BandsOverlap {
        /// The lower band.
        lower: String,
        /// The upper band.
        upper: String,
    },
    /// Two grading bands leave a gap.
    #[error("grading bands {lower:?} and {upper:?} leave a gap")]
    BandsGap {
        /// The lower band.
        lower: String,
        /// The upper band.
        upper: String,
    },
    /// A band whose lower bound is not below its upper bound.
    #[error("grading band {0:?} is empty")]
    EmptyBand(String),
    /// A score outside every band.
    #[error("score {0} is outside every grading band")]
    NoBand(Decimal),
    /// A list that needs entries is empty.
    #[error("{0} is empty")]
    Empty(String),
    /// Every measure is N/A.
    #[error("{0}: every measure is N/A")]
    AllNotApplicable(String),
    /// A measure is N/A under the fail policy.
    #[error("measure {0:?} is N/A and the N/A policy is to fail")]
    NotApplicable(String),
    /// A measure scored by rule, but no rule given.
    #[error("measure {0:?} is scored by rule but no scoring rule was given")]
    NoScoringRule(String),
    /// A rule returned a negative score.
    #[error("scoring rule {rule:?} gave measure {measure:?} the negative score {score}")]
    NegativeScore {
        /// Rule.
        rule: String,
        /// Measure.
        measure: String,
        /// Score.
        score: Decimal,
    },
    /// A roll-up site that is unknown or not a site.
    #[error("roll-up: {0:?} is not a site of the account")]
    NotASite(String),
    /// A roll-up weight that is negative.
    #[error("roll-up: site {site:?} has negative {basis:?} {value}")]
    NegativeBasis {
        /// Site.
        site: String,
        /// Revenue or volume.
        basis: RollupBasis,
        /// Value.
        value: Decimal,
    },
    /// The KPI data behind a scorecard failed.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// A scoring rule failed.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// Checked arithmetic failed.
    #[error(transparent)]
    Arithmetic(#[from] ArithmeticError),
}

fn check_cap(cap: Decimal) -> Result<(), ScorecardError> {
    if cap <= Decimal::ZERO {
        Err(ScorecardError::InvalidCap(cap))
    } else {
        Ok(())
    }
}

fn check_weight(item: &str, weight: Decimal) -> Result<(), ScorecardError> {
    if weight <= Decimal::ZERO {
        Err(ScorecardError::NonPositiveWeight {
            item: item.to_owned(),
            weight,
        })
    } else {
        Ok(())
    }
}

fn clamp(v: Decimal, cap: Decimal) -> Decimal {
    v.max(Decimal::ZERO).min(cap)
}

/// Ratio-to-target score, clamped to `[0, cap]`: `actual/target` (higher is better) or
/// `target/actual` (lower is better; an actual of zero or less scores the cap).
///
/// # Errors
/// A cap or target that is not positive.
pub fn ratio_score(
    name: &str,
    actual: Decimal,
    target: Decimal,
    direction: Direction,
    cap: Decimal,
) -> Result<Decimal, ScorecardError> {
    check_cap(cap)?;
    if target <= Decimal::ZERO {
        return Err(ScorecardError::NonPositiveTarget {
            measure: name.to_owned(),
            target,
        });
    }
    let ratio = match direction {
        Direction::HigherIsBetter => num::div(actual, target, name)?,
        Direction::LowerIsBetter if actual <= Decimal::ZERO => cap,
        Direction::LowerIsBetter => num::div(target, actual, name)?,
    };
    Ok(clamp(ratio, cap))
}

/// Linear band score `clamp((actual − red) / (target − red), 0, cap)`.
///
/// # Errors
/// A cap that is not positive; red equal to the target or on its good side.
pub fn band_score(
    name: &str,
    actual: Decimal,
    target: Decimal,
    red: Decimal,
    direction: Direction,
    cap: Decimal,
) -> Result<Decimal, ScorecardError> {
    check_cap(cap)?;
    let ok = match direction {
        Direction::HigherIsBetter => red < target,
        Direction::LowerIsBetter => red > target,
    };
    if !ok {
        return Err(ScorecardError::RedOnWrongSide {
            measure: name.to_owned(),
            red,
            target,
        });
    }
    let num = num::sub(actual, red, name)?;
    let den = num::sub(target, red, name)?;
    Ok(clamp(num::div(num, den, name)?, cap))
}

/// How a measure is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringMethod {
    /// Ratio to target with a cap.
    #[default]
    RatioToTarget,
    /// Linear band between the red threshold and the target.
    LinearBand,
    /// A user [`KpiScoringRule`].
    Rule,
}

/// What to do with a measure that has no actual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NaPolicy {
    /// Leave it out; its weight goes to the others in proportion.
    #[default]
    Redistribute,
    /// Score it 0 with its full weight.
    ScoreZero,
    /// Refuse to score.
    Fail,
}

/// One measure of a scorecard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    /// Name (a KPI id in templates).
    pub name: String,
    /// Actual value; `None` is N/A.
    pub actual: Option<Decimal>,
    /// Target.
    pub target: Decimal,
    /// Direction.
    pub direction: Direction,
    /// Red threshold (for band scoring and rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub red: Option<Decimal>,
    /// Weight (> 0, normalized with the others).
    pub weight: Decimal,
    /// Scoring method.
    #[serde(default)]
    pub method: ScoringMethod,
}

/// A measure's part of the overall score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// Measure name.
    pub name: String,
    /// Its score (`None` when N/A and redistributed).
    pub score: Option<Decimal>,
    /// Its normalized weight (0 when N/A and redistributed).
    pub weight: Decimal,
    /// `weight × score`; the contributions add up to the overall score.
    pub contribution: Decimal,
}

/// Scores every measure of `measures` (N/A → `None`), in one batch for rule-scored ones.
fn score_measures(
    measures: &[Measure],
    cap: Decimal,
    rule: Option<&dyn KpiScoringRule>,
) -> Result<Vec<Option<Decimal>>, ScorecardError> {
    check_cap(cap)?;
    let mut scores = vec![None; measures.len()];
    let mut batch = Vec::new();
    let mut batch_at = Vec::new();
    for (i, m) in measures.iter().enumerate() {
        let Some(actual) = m.actual else { continue };
        let s = match m.method {
            ScoringMethod::RatioToTarget => ratio_score(&m.name, actual, m.target, m.direction, cap)?,
            ScoringMethod::LinearBand => {
                let red = m.red.ok_or_else(|| ScorecardError::MissingRed(m.name.clone()))?;
                band_score(&m.name, actual, m.target, red, m.direction, cap)?
            }
            ScoringMethod::Rule => {
                batch.push(MeasureInput {
                    name: m.name.clone(),
                    actual,
                    target: m.target,
                    direction: m.direction,
                    red: m.red,
                });
                batch_at.push(i);
                continue;
            }
        };
        if let Some(slot) = scores.get_mut(i) {
            *slot = Some(s);
        }
    }
    if !batch.is_empty() {
        let rule = rule.ok_or_else(|| {
            ScorecardError::NoScoringRule(batch.first().map(|m| m.name.clone()).unwrap_or_default())
        })?;
        let out = rule.score(&batch)?;
        check_batch_len(rule.name(), RuleHost::Native, &out, batch.len())?;
        for ((i, s), m) in batch_at.into_iter().zip(out).zip(&batch) {
            if s < Decimal::ZERO {
                return Err(ScorecardError::NegativeScore {
                    rule: rule.name().to_owned(),
                    measure: m.name.clone(),
                    score: s,
                });
            }
            // The cap applies whatever scored the measure.
            if let Some(slot) = scores.get_mut(i) {
                *slot = Some(s.min(cap));
            }
        }
    }
    Ok(scores)
}

/// Weighted combination of scores under an N/A policy: (overall, contributions).
fn combine(
    what: &str,
    items: &[(String, Decimal, Option<Decimal>)],
    na: NaPolicy,
) -> Result<(Decimal, Vec<Contribution>), ScorecardError> {
    if items.is_empty() {
        return Err(ScorecardError::Empty(what.to_owned()));
    }
    let mut total_w = Decimal::ZERO;
    for (name, w, s) in items {
        check_weight(name, *w)?;
        match (s, na) {
            (None, NaPolicy::Fail) => return Err(ScorecardError::NotApplicable(name.clone())),
            (None, NaPolicy::Redistribute) => {}
            _ => total_w = num::add(total_w, *w, what)?,
        }
    }
    if total_w.is_zero() {
        return Err(ScorecardError::AllNotApplicable(what.to_owned()));
    }
    let mut weighted = Decimal::ZERO;
    let mut out = Vec::with_capacity(items.len());
    for (name, w, s) in items {
        let (weight, score) = match (s, na) {
            (None, NaPolicy::Redistribute) => (Decimal::ZERO, None),
            (None, _) => (num::div(*w, total_w, what)?, Some(Decimal::ZERO)),
            (Some(s), _) => (num::div(*w, total_w, what)?, Some(*s)),
        };
        let ws = num::mul(*w, score.unwrap_or_default(), what)?;
        weighted = num::add(weighted, ws, what)?;
        out.push(Contribution {
            name: name.clone(),
            score,
            weight,
            contribution: num::div(ws, total_w, what)?,
        });
    }
    // One division for the total keeps Σ contributions and the overall consistent to 28 digits.
    Ok((num::div(weighted, total_w, what)?, out))
}

/// A flat weighted scorecard — the shape the analyst API (`scorecard(name)`) exposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scorecard {
    /// Name.
    pub name: String,
    /// Measures in order.
    pub measures: Vec<Measure>,
    /// N/A policy.
    #[serde(default)]
    pub na_policy: NaPolicy,
    /// The cap last passed to [`Scorecard::overall`]; `contributions()` uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Decimal>,
}

impl Scorecard {
    /// An empty scorecard.
    pub fn new(name: &str) -> Self {
        Scorecard {
            name: name.to_owned(),
            measures: Vec::new(),
            na_policy: NaPolicy::Redistribute,
            cap: None,
        }
    }

    fn push(&mut self, m: Measure) -> Result<&mut Self, ScorecardError> {
        check_weight(&m.name, m.weight)?;
        if self.measures.iter().any(|x| x.name == m.name) {
            return Err(ScorecardError::Duplicate {
                what: "measure",
                name: m.name,
            });
        }
        self.measures.push(m);
        Ok(self)
    }

    /// Adds a ratio-scored measure (`measure(name, actual, target, "higher"|"lower", weight)`).
    ///
    /// # Errors
    /// A weight ≤ 0 or a duplicate name.
    pub fn measure(
        &mut self,
        name: &str,
        actual: Decimal,
        target: Decimal,
        direction: Direction,
        weight: Decimal,
    ) -> Result<&mut Self, ScorecardError> {
        self.push(Measure {
            name: name.to_owned(),
            actual: Some(actual),
            target,
            direction,
            red: None,
            weight,
            method: ScoringMethod::RatioToTarget,
        })
    }

    /// Adds a measure that is N/A this period.
    ///
    /// # Errors
    /// As [`Scorecard::measure`].
    pub fn measure_na(
        &mut self,
        name: &str,
        target: Decimal,
        direction: Direction,
        weight: Decimal,
    ) -> Result<&mut Self, ScorecardError> {
        self.push(Measure {
            name: name.to_owned(),
            actual: None,
            target,
            direction,
            red: None,
            weight,
            method: ScoringMethod::RatioToTarget,
        })
    }

    /// Adds any measure (band-scored, rule-scored, N/A).
    ///
    /// # Errors
    /// As [`Scorecard::measure`].
    pub fn add(&mut self, m: Measure) -> Result<&mut Self, ScorecardError> {
        self.push(m)
    }

    /// The weighted overall score with every score capped at `cap`; remembers `cap` for
    /// [`Scorecard::contributions`].
    ///
    /// # Errors
    /// Cap ≤ 0, no measures, all N/A, a measure that cannot be scored, a rule-scored
    /// measure (use [`Scorecard::evaluate`]).
    pub fn overall(&mut self, cap: Decimal) -> Result<Decimal, ScorecardError> {
        let (overall, _) = self.evaluate(cap, None)?;
        self.cap = Some(cap);
        Ok(overall)
    }

    /// Each measure's (name, score, normalized weight, contribution) at the cap last
    /// passed to [`Scorecard::overall`] (uncapped scoring is not offered: without a prior
    /// `overall` the cap is 1, i.e. no credit above target).
    ///
    /// # Errors
    /// As [`Scorecard::overall`].
    pub fn contributions(&self) -> Result<Vec<Contribution>, ScorecardError> {
        Ok(self.evaluate(self.cap.unwrap_or(Decimal::ONE), None)?.1)
    }

    /// Overall score and contributions, with `rule` for rule-scored measures.
    ///
    /// # Errors
    /// As [`Scorecard::overall`], plus rule failures.
    pub fn evaluate(
        &self,
        cap: Decimal,
        rule: Option<&dyn KpiScoringRule>,
    ) -> Result<(Decimal, Vec<Contribution>), ScorecardError> {
        let scores = score_measures(&self.measures, cap, rule)?;
        let items: Vec<_> = self
            .measures
            .iter()
            .zip(scores)
            .map(|(m, s)| (m.name.clone(), m.weight, s))
            .collect();
        combine(&format!("scorecard {:?}", self.name), &items, self.na_policy)
    }
}

// ---------------------------------------------------------------- grading

/// One end of a grading band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bound {
    /// The boundary value.
    pub value: Decimal,
    /// Whether the boundary value belongs to this band.
    pub inclusive: bool,
}

/// A named band; `None` bounds are open-ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeBand {
    /// Band name ("Red", "B", "4").
    pub name: String,
    /// Lower bound (`None`: unbounded below).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<Bound>,
    /// Upper bound (`None`: unbounded above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<Bound>,
}

impl GradeBand {
    fn contains(&self, x: Decimal) -> bool {
        let above = self
            .lower
            .is_none_or(|b| if b.inclusive { x >= b.value } else { x > b.value });
        let below = self
            .upper
            .is_none_or(|b| if b.inclusive { x <= b.value } else { x < b.value });
        above && below
    }
}

/// What a grading scheme's names are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradeKind {
    /// Red / amber / green.
    Rag,
    /// Numbers (1–5).
    Numeric,
    /// Letters (A–F).
    Letter,
}

/// Bands in ascending order, covering their range exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "GradingSchemeRecord", into = "GradingSchemeRecord")]
pub struct GradingScheme {
    kind: GradeKind,
    bands: Vec<GradeBand>,
}

/// Serialized form of a [`GradingScheme`] (validated on load).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradingSchemeRecord {
    /// Kind of names.
    pub kind: GradeKind,
    /// Bands, ascending.
    pub bands: Vec<GradeBand>,
}

impl TryFrom<GradingSchemeRecord> for GradingScheme {
    type Error = ScorecardError;
    fn try_from(r: GradingSchemeRecord) -> Result<Self, Self::Error> {
        GradingScheme::new(r.kind, r.bands)
    }
}

impl From<GradingScheme> for GradingSchemeRecord {
    fn from(g: GradingScheme) -> Self {
        GradingSchemeRecord {
            kind: g.kind,
            bands: g.bands,
        }
    }
}

fn band(name: &str, lower: Option<(Decimal, bool)>, upper: Option<(Decimal, bool)>) -> GradeBand {
    let b = |(value, inclusive)| Bound { value, inclusive };
    GradeBand {
        name: name.to_owned(),
        lower: lower.map(b),
        upper: upper.map(b),
    }
}

impl GradingScheme {
    /// Validates that consecutive bands meet at one boundary owned by exactly one of them.
    ///
    /// # Errors
    /// No bands, an empty band, overlap or gap (naming both bands).
    pub fn new(kind: GradeKind, bands: Vec<GradeBand>) -> Result<Self, ScorecardError> {
        if bands.is_empty() {
            return Err(ScorecardError::Empty("grading scheme".into()));
        }
        for b in &bands {
            if let (Some(lo), Some(hi)) = (b.lower, b.upper)
                && (lo.value > hi.value || (lo.value == hi.value && !(lo.inclusive && hi.inclusive)))
            {
                return Err(ScorecardError::EmptyBand(b.name.clone()));
            }
        }
        for pair in bands.windows(2) {
            let [a, b] = pair else { continue };
            let names = || (a.name.clone(), b.name.clone());
            match (a.upper, b.lower) {
                (None, _) | (_, None) => {
                    let (lower, upper) = names();
                    return Err(ScorecardError::BandsOverlap { lower, upper });
                }
                (Some(hi), Some(lo)) => {
                    let overlap =
                        hi.value > lo.value || (hi.value == lo.value && hi.inclusive && lo.inclusive);
                    let gap = hi.value < lo.value || (hi.value == lo.value && !hi.inclusive && !lo.inclusive);
                    let (lower, upper) = names();
                    if overlap {
                        return Err(ScorecardError::BandsOverlap { lower, upper });
                    }
                    if gap {
                        return Err(ScorecardError::BandsGap { lower, upper });
                    }
                }
            }
        }
        Ok(GradingScheme { kind, bands })
    }

    /// Bands from ascending inclusive upper bounds (`up_to`): the first band is unbounded
    /// below, each next band starts just above the previous `up_to`, and a score above the
    /// last `up_to` has no band.
    ///
    /// # Errors
    /// No bands, or bounds that do not strictly ascend (the bands would overlap).
    pub fn from_upper_bounds(kind: GradeKind, bands: &[(&str, Decimal)]) -> Result<Self, ScorecardError> {
        let mut out = Vec::with_capacity(bands.len());
        let mut prev: Option<Decimal> = None;
        for (name, up_to) in bands {
            out.push(band(name, prev.map(|p| (p, false)), Some((*up_to, true))));
            prev = Some(*up_to);
        }
        Self::new(kind, out).map_err(|e| match e {
            ScorecardError::EmptyBand(b) => {
                let lower = bands
                    .iter()
                    .position(|(n, _)| *n == b)
                    .and_then(|i| i.checked_sub(1))
                    .and_then(|i| bands.get(i))
                    .map(|(n, _)| (*n).to_owned())
                    .unwrap_or_default();
                ScorecardError::BandsOverlap { lower, upper: b }
            }
            e => e,
        })
    }

    /// RAG: red below 0.85, amber from 0.85 (inclusive) below 0.95, green from 0.95 (inclusive).
    pub fn rag() -> Self {
        let (a, g) = (Decimal::new(85, 2), Decimal::new(95, 2));
        GradingScheme {
            kind: GradeKind::Rag,
            bands: vec![
                band("Red", None, Some((a, false))),
                band("Amber", Some((a, true)), Some((g, false))),
                band("Green", Some((g, true)), None),
            ],
        }
    }

    /// Letters: F below 0.6, then D, C, B from 0.6, 0.7, 0.8 and A from 0.9 (lower bounds inclusive).
    pub fn letter() -> Self {
        let cuts = [
            Decimal::new(6, 1),
            Decimal::new(7, 1),
            Decimal::new(8, 1),
            Decimal::new(9, 1),
        ];
        Self::stepped(GradeKind::Letter, &["F", "D", "C", "B", "A"], &cuts)
    }

    /// Numbers 1–5: 1 below 0.6, 2 from 0.6, 3 from 0.75, 4 from 0.9, 5 from 1.0 (lower bounds inclusive).
    pub fn numeric() -> Self {
        let cuts = [
            Decimal::new(6, 1),
            Decimal::new(75, 2),
            Decimal::new(9, 1),
            Decimal::ONE,
        ];
        Self::stepped(GradeKind::Numeric, &["1", "2", "3", "4", "5"], &cuts)
    }

    fn stepped(kind: GradeKind, names: &[&str], cuts: &[Decimal]) -> Self {
        let mut bands = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let lower = i.checked_sub(1).and_then(|j| cuts.get(j)).map(|c| (*c, true));
            let upper = cuts.get(i).map(|c| (*c, false));
            bands.push(band(name, lower, upper));
        }
        GradingScheme { kind, bands }
    }

    /// The band containing `score`.
    ///
    /// # Errors
    /// [`ScorecardError::NoBand`] if the scheme does not cover `score`.
    pub fn grade(&self, score: Decimal) -> Result<&str, ScorecardError> {
        self.bands
            .iter()
            .find(|b| b.contains(score))
            .map(|b| b.name.as_str())
            .ok_or(ScorecardError::NoBand(score))
    }

    /// The kind of names.
    pub fn kind(&self) -> GradeKind {
        self.kind
    }

    /// The bands, ascending.
    pub fn bands(&self) -> &[GradeBand] {
        &self.bands
    }
}

/// `grade(score, bands)`: the name of the band containing `score`, where `bands` are
/// `(name, up_to)` ascending with inclusive upper bounds.
///
/// # Errors
/// Bounds that do not ascend, no bands, or a score above the last bound.
///
/// ```
/// use kam_core::scorecard::grade;
/// use rust_decimal_macros::dec;
/// let bands = [("Red", dec!(0.85)), ("Amber", dec!(0.95)), ("Green", dec!(1.10))];
/// assert_eq!(grade(dec!(0.85), &bands)?, "Red");    // up_to is inclusive
/// assert_eq!(grade(dec!(0.9842), &bands)?, "Green");
/// # Ok::<(), kam_core::scorecard::ScorecardError>(())
/// ```
pub fn grade(score: Decimal, bands: &[(&str, Decimal)]) -> Result<String, ScorecardError> {
    let scheme = GradingScheme::from_upper_bounds(GradeKind::Rag, bands)?;
    scheme.grade(score).map(str::to_owned)
}

// ---------------------------------------------------------------- templates

/// Which review a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    /// Quarterly business review: operational.
    Qbr,
    /// Strategic business review: operations plus commercial health.
    Sbr,
    /// Executive business review: the few numbers executives steer by.
    Ebr,
}

/// A template measure: a library KPI with its weight and scoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateMeasure {
    /// KPI id.
    pub kpi: String,
    /// Weight within the group.
    pub weight: Decimal,
    /// Scoring method.
    #[serde(default)]
    pub method: ScoringMethod,
    /// Target override (default: the KPI's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Decimal>,
    /// Red threshold override (default: the KPI's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub red: Option<Decimal>,
}

/// A named, weighted group of measures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureGroup {
    /// Group name.
    pub name: String,
    /// Weight among groups.
    pub weight: Decimal,
    /// Measures.
    pub measures: Vec<TemplateMeasure>,
}

/// A QBR / SBR / EBR scorecard template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Name.
    pub name: String,
    /// Review kind.
    pub review: ReviewKind,
    /// Cap on every score.
    pub cap: Decimal,
    /// Groups.
    pub groups: Vec<MeasureGroup>,
    /// Grading scheme.
    pub grading: GradingScheme,
    /// N/A policy.
    #[serde(default)]
    pub na_policy: NaPolicy,
}

/// One measure on a scored sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureScore {
    /// Group.
    pub group: String,
    /// KPI id.
    pub kpi: String,
    /// Actual (`None`: N/A).
    pub actual: Option<Decimal>,
    /// Target used.
    pub target: Decimal,
    /// Score.
    pub score: Option<Decimal>,
    /// Effective normalized weight (group share × share in group).
    pub weight: Decimal,
    /// Contribution to the overall score.
    pub contribution: Decimal,
}

/// A template scored for one node and period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreSheet {
    /// Template name.
    pub template: String,
    /// Overall score.
    pub overall: Decimal,
    /// Grade of the overall score.
    pub grade: String,
    /// Groups: (name, score, normalized weight); `None` score when all N/A.
    pub groups: Vec<Contribution>,
    /// Measures in template order.
    pub measures: Vec<MeasureScore>,
}

fn tm(kpi: &str, weight: i64, method: ScoringMethod) -> TemplateMeasure {
    TemplateMeasure {
        kpi: kpi.to_owned(),
        weight: Decimal::from(weight),
        method,
        target: None,
        red: None,
    }
}

fn group(name: &str, weight: i64, measures: Vec<TemplateMeasure>) -> MeasureGroup {
    MeasureGroup {
        name: name.to_owned(),
        weight: Decimal::from(weight),
        measures,
    }
}

impl Template {
    /// QBR: service 50 (OTIF order/commit 30, on-time shipment 10, order accuracy 10),
    /// inventory 25 (inventory accuracy 15, dock-to-stock 10), quality 15 (damage ppm),
    /// cost 10 (cost-to-serve %). Band scoring, cap 1.10, RAG grading.
    pub fn qbr() -> Self {
        use ScoringMethod::LinearBand as B;
        Template {
            name: "QBR".into(),
            review: ReviewKind::Qbr,
            cap: Decimal::new(110, 2),
            groups: vec![
                group(
                    "Service",
                    50,
                    vec![
                        tm("otif_order_commit", 30, B),
                        tm("on_time_shipment_schedule", 10, B),
                        tm("order_accuracy", 10, B),
                    ],
                ),
                group(
                    "Inventory",
                    25,
                    vec![tm("inventory_accuracy", 15, B), tm("dock_to_stock_hours", 10, B)],
                ),
                group("Quality", 15, vec![tm("damage_ppm", 15, B)]),
                group("Cost", 10, vec![tm("cost_to_serve_pct", 10, B)]),
            ],
            grading: GradingScheme::rag(),
            na_policy: NaPolicy::Redistribute,
        }
    }

    /// SBR: service 40 (OTIF request date, perfect order SCOR), quality 20 (pick accuracy,
    /// damage-free rate), commercial 40 (margin %, cost-to-serve %). Letter grading.
    pub fn sbr() -> Self {
        use ScoringMethod::LinearBand as B;
        Template {
            name: "SBR".into(),
            review: ReviewKind::Sbr,
            cap: Decimal::new(110, 2),
            groups: vec![
                group(
                    "Service",
                    40,
                    vec![tm("otif_order_request", 1, B), tm("perfect_order_scor", 1, B)],
                ),
                group(
                    "Quality",
                    20,
                    vec![tm("pick_accuracy", 1, B), tm("damage_free_rate", 1, B)],
                ),
                group(
                    "Commercial",
                    40,
                    vec![tm("margin_pct", 1, B), tm("cost_to_serve_pct", 1, B)],
                ),
            ],
            grading: GradingScheme::letter(),
            na_policy: NaPolicy::Redistribute,
        }
    }

    /// EBR: perfect order (multiplicative) 40, margin % 35, OTIF request date 25; numeric grading.
    pub fn ebr() -> Self {
        use ScoringMethod::LinearBand as B;
        Template {
            name: "EBR".into(),
            review: ReviewKind::Ebr,
            cap: Decimal::new(110, 2),
            groups: vec![group(
                "Executive",
                1,
                vec![
                    tm("perfect_order_multiplicative", 40, B),
                    tm("margin_pct", 35, B),
                    tm("otif_order_request", 25, B),
                ],
            )],
            grading: GradingScheme::numeric(),
            na_policy: NaPolicy::Redistribute,
        }
    }

    /// Checks the template against `library`: known KPIs, positive weights and cap,
    /// unique group names and KPIs, non-empty groups.
    ///
    /// # Errors
    /// [`ScorecardError::UnknownKpi`] and the other structural errors.
    pub fn validate(&self, library: &KpiLibrary) -> Result<(), ScorecardError> {
        check_cap(self.cap)?;
        if self.groups.is_empty() {
            return Err(ScorecardError::Empty(format!("template {:?}", self.name)));
        }
        let mut names = std::collections::HashSet::new();
        let mut kpis = std::collections::HashSet::new();
        for g in &self.groups {
            check_weight(&format!("group {:?}", g.name), g.weight)?;
            if !names.insert(g.name.as_str()) {
                return Err(ScorecardError::Duplicate {
                    what: "group",
                    name: g.name.clone(),
                });
            }
            if g.measures.is_empty() {
                return Err(ScorecardError::Empty(format!("group {:?}", g.name)));
            }
            for m in &g.measures {
                if library.get(&m.kpi).is_err() {
                    return Err(ScorecardError::UnknownKpi {
                        template: self.name.clone(),
                        group: g.name.clone(),
                        kpi: m.kpi.clone(),
                    });
                }
                check_weight(&m.kpi, m.weight)?;
                if !kpis.insert(m.kpi.as_str()) {
                    return Err(ScorecardError::Duplicate {
                        what: "measure",
                        name: m.kpi.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Scores the template from `actuals` (KPI id → value; a missing KPI is N/A), with
    /// `rule` for rule-scored measures.
    ///
    /// # Errors
    /// Validation errors, scoring errors, all measures N/A, a grade outside the scheme.
    pub fn score(
        &self,
        library: &KpiLibrary,
        actuals: &BTreeMap<String, Decimal>,
        rule: Option<&dyn KpiScoringRule>,
    ) -> Result<ScoreSheet, ScorecardError> {
        self.validate(library)?;
        let mut measures = Vec::new();
        for g in &self.groups {
            for m in &g.measures {
                let k = library.get(&m.kpi)?;
                measures.push(Measure {
                    name: m.kpi.clone(),
                    actual: actuals.get(&m.kpi).copied(),
                    target: m.target.unwrap_or(k.thresholds.target),
                    direction: k.direction,
                    red: Some(m.red.unwrap_or(k.thresholds.red)),
                    weight: m.weight,
                    method: m.method,
                });
            }
        }
        let scores = score_measures(&measures, self.cap, rule)?;
        // Group scores (N/A redistributed within the group), then the groups.
        let mut group_items = Vec::new();
        let mut within = Vec::new();
        let mut at = 0usize;
        for g in &self.groups {
            let items: Vec<_> = g
                .measures
                .iter()
                .enumerate()
                .map(|(j, m)| (m.kpi.clone(), m.weight, scores.get(at + j).copied().flatten()))
                .collect();
            at += g.measures.len();
            let what = format!("group {:?}", g.name);
            match combine(&what, &items, self.na_policy) {
                Ok((s, c)) => {
                    group_items.push((g.name.clone(), g.weight, Some(s)));
                    within.push(c);
                }
                Err(ScorecardError::AllNotApplicable(_)) => {
                    group_items.push((g.name.clone(), g.weight, None));
                    within.push(
                        items
                            .iter()
                            .map(|(n, _, _)| Contribution {
                                name: n.clone(),
                                score: None,
                                weight: Decimal::ZERO,
                                contribution: Decimal::ZERO,
                            })
                            .collect(),
                    );
                }
                Err(e) => return Err(e),
            }
        }
        let (overall, groups) = combine(&format!("template {:?}", self.name), &group_items, self.na_policy)?;
        let mut out = Vec::with_capacity(measures.len());
        let mut mi = measures.iter();
        for ((g, gc), cs) in self.groups.iter().zip(&groups).zip(within) {
            for c in cs {
                let Some(m) = mi.next() else { break };
                let weight = num::mul(gc.weight, c.weight, "effective weight")?;
                out.push(MeasureScore {
                    group: g.name.clone(),
                    kpi: c.name,
                    actual: m.actual,
                    target: m.target,
                    score: c.score,
                    weight,
                    contribution: num::mul(gc.weight, c.contribution, "contribution")?,
                });
            }
        }
        let grade = self.grading.grade(overall)?.to_owned();
        Ok(ScoreSheet {
            template: self.name.clone(),
            overall,
            grade,
            groups,
            measures: out,
        })
    }

    /// Scores the template for one node and period of rolled-up KPI data.
    ///
    /// # Errors
    /// As [`Template::score`], plus unknown node or period.
    pub fn score_node(
        &self,
        library: &KpiLibrary,
        data: &RolledUp,
        node: &str,
        period: &str,
        rule: Option<&dyn KpiScoringRule>,
    ) -> Result<ScoreSheet, ScorecardError> {
        self.validate(library)?;
        let mut actuals = BTreeMap::new();
        for g in &self.groups {
            for m in &g.measures {
                if let Some(v) = data.value(node, &m.kpi, period)? {
                    actuals.insert(m.kpi.clone(), v);
                }
            }
        }
        self.score(library, &actuals, rule)
    }
}

// ---------------------------------------------------------------- trend

/// Which way a score moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendDirection {
    /// Higher than before.
    Improved,
    /// Lower than before.
    Declined,
    /// The same.
    Unchanged,
}

/// Change of a score sheet against the previous period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trend {
    /// Overall current − previous.
    pub delta: Decimal,
    /// Direction of the overall change.
    pub direction: TrendDirection,
    /// Per measure (KPI id, score delta); `None` where either period is N/A.
    pub measures: Vec<(String, Option<Decimal>)>,
}

/// The trend of `current` against `previous` (same template).
///
/// # Errors
/// Overflow.
pub fn trend(current: &ScoreSheet, previous: &ScoreSheet) -> Result<Trend, ScorecardError> {
    let delta = num::sub(current.overall, previous.overall, "trend")?;
    let direction = match delta.cmp(&Decimal::ZERO) {
        std::cmp::Ordering::Greater => TrendDirection::Improved,
        std::cmp::Ordering::Less => TrendDirection::Declined,
        std::cmp::Ordering::Equal => TrendDirection::Unchanged,
    };
    let mut measures = Vec::with_capacity(current.measures.len());
    for m in &current.measures {
        let prev = previous
            .measures
            .iter()
            .find(|p| p.kpi == m.kpi)
            .and_then(|p| p.score);
        let d = match (m.score, prev) {
            (Some(a), Some(b)) => Some(num::sub(a, b, "trend")?),
            _ => None,
        };
        measures.push((m.kpi.clone(), d));
    }
    Ok(Trend {
        delta,
        direction,
        measures,
    })
}

// ---------------------------------------------------------------- roll-up

/// What weights site scores in a roll-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollupBasis {
    /// Site revenue.
    Revenue,
    /// Site volume.
    Volume,
}

/// A site's overall score with its revenue and volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteScore {
    /// Site id.
    pub site: String,
    /// Overall score (`None`: not scored this period).
    pub score: Option<Decimal>,
    /// Revenue.
    pub revenue: Decimal,
    /// Volume.
    pub volume: Decimal,
}

/// A node's rolled-up score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeScore {
    /// Node id.
    pub node: String,
    /// Level.
    pub level: NodeLevel,
    /// Weighted score of the scored sites under it (`None`: none scored or zero weight).
    pub score: Option<Decimal>,
    /// Total weight (revenue or volume) of the scored sites under it.
    pub weight: Decimal,
}

/// Rolls site scores up site → country → region → global, weighted by revenue or volume.
/// Returns every node, children before parents.
///
/// # Errors
/// A site that is unknown or not a site, a negative weight, overflow.
pub fn roll_up_scores(
    hierarchy: &Hierarchy,
    sites: &[SiteScore],
    basis: RollupBasis,
) -> Result<Vec<NodeScore>, ScorecardError> {
    let order = hierarchy.bottom_up();
    let pos: std::collections::HashMap<&str, usize> =
        order.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut sums = vec![(Decimal::ZERO, Decimal::ZERO); order.len()];
    for s in sites {
        if hierarchy.level(&s.site) != Some(NodeLevel::Site) {
            return Err(ScorecardError::NotASite(s.site.clone()));
        }
        let w = match basis {
            RollupBasis::Revenue => s.revenue,
            RollupBasis::Volume => s.volume,
        };
        if w < Decimal::ZERO {
            return Err(ScorecardError::NegativeBasis {
                site: s.site.clone(),
                basis,
                value: w,
            });
        }
        let Some(score) = s.score else { continue };
        if let Some(slot) = pos.get(s.site.as_str()).and_then(|&i| sums.get_mut(i)) {
            let what = "score roll-up";
            slot.0 = num::add(slot.0, num::mul(w, score, what)?, what)?;
            slot.1 = num::add(slot.1, w, what)?;
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for (i, id) in order.iter().enumerate() {
        let (ws, w) = sums.get(i).copied().unwrap_or_default();
        if let Some(j) = hierarchy.parent(id).and_then(|p| pos.get(p).copied())
            && let Some(parent) = sums.get_mut(j)
        {
            parent.0 = num::add(parent.0, ws, "score roll-up")?;
            parent.1 = num::add(parent.1, w, "score roll-up")?;
        }
        out.push(NodeScore {
            node: (*id).to_owned(),
            level: hierarchy.level(id).unwrap_or(NodeLevel::Site),
            score: if w.is_zero() {
                None
            } else {
                Some(num::div(ws, w, "score roll-up")?)
            },
            weight: w,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- health score

/// `health_score([(weight, score or N/A)])` = Σ w·s / Σ w over the non-N/A entries.
///
/// # Errors
/// No entries, a weight ≤ 0, every score N/A.
///
/// ```
/// use kam_core::scorecard::health_score;
/// use rust_decimal_macros::dec;
/// let h = health_score(&[(dec!(2), Some(dec!(80))), (dec!(1), None), (dec!(1), Some(dec!(60)))])?;
/// assert_eq!(h, dec!(220) / dec!(3));
/// # Ok::<(), kam_core::scorecard::ScorecardError>(())
/// ```
pub fn health_score(items: &[(Decimal, Option<Decimal>)]) -> Result<Decimal, ScorecardError> {
    let named: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(i, (w, s))| (format!("health measure {i}"), *w, *s))
        .collect();
    Ok(combine("health score", &named, NaPolicy::Redistribute)?.0)
}

/// A named, weighted customer health model with an N/A policy and a coverage floor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthModel {
    /// (measure name, weight).
    pub measures: Vec<(String, Decimal)>,
    /// What N/A means.
    #[serde(default)]
    pub na_policy: NaPolicy,
    /// The minimum share of total weight that must have data (0–1); below it the
    /// score is refused rather than computed from a few measures.
    pub min_coverage: Decimal,
}

/// A health score and how much of the model's weight it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthScore {
    /// The score.
    pub score: Decimal,
    /// Share of weight with data (0–1).
    pub coverage: Decimal,
    /// Per measure contributions.
    pub contributions: Vec<Contribution>,
}

impl HealthModel {
    /// Scores `values` (measure name → score; missing is N/A).
    ///
    /// # Errors
    /// Weights ≤ 0, N/A under the fail policy, all N/A, coverage below the floor
    /// ([`ScorecardError::AllNotApplicable`] names the shortfall).
    pub fn score(&self, values: &BTreeMap<String, Decimal>) -> Result<HealthScore, ScorecardError> {
        let items: Vec<_> = self
            .measures
            .iter()
            .map(|(n, w)| (n.clone(), *w, values.get(n).copied()))
            .collect();
        let (score, contributions) = combine("health model", &items, self.na_policy)?;
        let total = num::sum(items.iter().map(|i| i.1), "health coverage")?;
        let present = num::sum(
            items.iter().filter(|i| i.2.is_some()).map(|i| i.1),
            "health coverage",
        )?;
        let coverage = num::div(present, total, "health coverage")?;
        if coverage < self.min_coverage {
            return Err(ScorecardError::AllNotApplicable(format!(
                "health model (coverage {} below {})",
                coverage.round_dp(4),
                self.min_coverage
            )));
        }
        Ok(HealthScore {
            score,
            coverage,
            contributions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn band_and_ratio_edges() {
        let h = Direction::HigherIsBetter;
        let l = Direction::LowerIsBetter;
        assert_eq!(
            band_score("x", dec!(96.5), dec!(98), dec!(95), h, dec!(1.1)).unwrap(),
            dec!(0.5)
        );
        assert_eq!(
            band_score("x", dec!(90), dec!(98), dec!(95), h, dec!(1.1)).unwrap(),
            dec!(0)
        );
        assert_eq!(
            band_score("x", dec!(36), dec!(24), dec!(48), l, dec!(1.1)).unwrap(),
            dec!(0.5)
        );
        assert_eq!(
            band_score("x", dec!(0), dec!(24), dec!(48), l, dec!(1.1)).unwrap(),
            dec!(1.1)
        );
        assert!(band_score("x", dec!(1), dec!(24), dec!(24), l, dec!(1.1)).is_err());
        assert!(band_score("x", dec!(1), dec!(24), dec!(10), l, dec!(1.1)).is_err());
        assert_eq!(
            ratio_score("x", dec!(0), dec!(150), l, dec!(1.1)).unwrap(),
            dec!(1.1)
        );
        assert!(ratio_score("x", dec!(1), dec!(0), h, dec!(1.1)).is_err());
        assert!(ratio_score("x", dec!(1), dec!(1), h, dec!(0)).is_err());
    }

    #[test]
    fn grading_schemes() {
        let rag = GradingScheme::rag();
        assert_eq!(rag.grade(dec!(0.8499)).unwrap(), "Red");
        assert_eq!(rag.grade(dec!(0.85)).unwrap(), "Amber");
        assert_eq!(rag.grade(dec!(0.95)).unwrap(), "Green");
        assert_eq!(GradingScheme::letter().grade(dec!(0.9)).unwrap(), "A");
        assert_eq!(GradingScheme::letter().grade(dec!(0.59)).unwrap(), "F");
        assert_eq!(GradingScheme::numeric().grade(dec!(1.0)).unwrap(), "5");
        // Overlap at a point, gap at a point, gap over a range, empty.
        let b = |n: &str, lo: Option<(Decimal, bool)>, hi: Option<(Decimal, bool)>| band(n, lo, hi);
        let overlap = GradingScheme::new(
            GradeKind::Rag,
            vec![
                b("R", None, Some((dec!(0.8), true))),
                b("G", Some((dec!(0.8), true)), None),
            ],
        );
        assert!(matches!(overlap, Err(ScorecardError::BandsOverlap { .. })));
        let gap = GradingScheme::new(
            GradeKind::Rag,
            vec![
                b("R", None, Some((dec!(0.8), false))),
                b("G", Some((dec!(0.8), false)), None),
            ],
        );
        assert!(matches!(gap, Err(ScorecardError::BandsGap { .. })));
        let gap = GradingScheme::new(
            GradeKind::Rag,
            vec![
                b("R", None, Some((dec!(0.7), true))),
                b("G", Some((dec!(0.8), true)), None),
            ],
        );
        assert!(matches!(gap, Err(ScorecardError::BandsGap { .. })));
        assert!(GradingScheme::new(GradeKind::Rag, vec![]).is_err());
        assert!(matches!(
            grade(dec!(0.5), &[("R", dec!(0.8)), ("A", dec!(0.8))]),
            Err(ScorecardError::BandsOverlap { .. })
        ));
        assert!(matches!(
            grade(dec!(0.5), &[("R", dec!(0.8)), ("A", dec!(0.7))]),
            Err(ScorecardError::BandsOverlap { .. })
        ));
        assert!(matches!(
            grade(dec!(1.2), &[("R", dec!(0.8)), ("G", dec!(1.1))]),
            Err(ScorecardError::NoBand(_))
        ));
        let json = serde_json::to_string(&rag).unwrap();
        assert_eq!(serde_json::from_str::<GradingScheme>(&json).unwrap(), rag);
        let bad = json.replacen("0.95", "0.96", 1);
        assert!(serde_json::from_str::<GradingScheme>(&bad).is_err());
    }

    #[test]
    fn templates_validate_against_the_library() {
        let lib = KpiLibrary::contract_logistics();
        for t in [Template::qbr(), Template::sbr(), Template::ebr()] {
            t.validate(&lib).unwrap();
            let text = toml::to_string(&t).unwrap();
            assert_eq!(toml::from_str::<Template>(&text).unwrap(), t);
        }
        let mut t = Template::qbr();
        if let Some(g) = t.groups.first_mut() {
            g.measures.push(tm("nps", 5, ScoringMethod::RatioToTarget));
        }
        assert!(matches!(t.validate(&lib), Err(ScorecardError::UnknownKpi { .. })));
    }
}
