//! The one rule boundary: traits that user rules implement, whatever they are written in.
//!
//! Native Rust closures, Rhai scripts (`kam-script`) and WASM components (`kam-plugin`)
//! all implement these traits, so pricing, simulation and scorecards call rules without
//! knowing which host runs them — and the same rule written three ways must give the
//! same answer. The input and output types are plain records of `Decimal`s and strings
//! so they cross a script or component boundary unchanged, and every call takes a batch
//! (a whole quote, a period's state for all service lines — or all periods of a simulated
//! path at once, [`GrowthRule::on_periods`] —, a list of measures) so a host's per-call
//! cost is paid once per batch.
//!
//! Rules get no clock, randomness or I/O: everything they may use is in their input.
//!
//! ```
//! use kam_core::rules::{FnPricingRule, PriceAdjustment, PricingInput, PricingRule};
//! use rust_decimal::Decimal;
//!
//! // 2 % rebate on the total above 50,000.
//! let rebate = FnPricingRule::new("volume rebate", |q: &PricingInput| {
//!     let over = q.total - Decimal::from(50_000);
//!     Ok(if over > Decimal::ZERO {
//!         vec![PriceAdjustment { label: "rebate".into(), amount: -over * Decimal::new(2, 2) }]
//!     } else {
//!         vec![]
//!     })
//! });
//! let q = PricingInput { currency: "EUR".into(), lines: vec![], total: Decimal::from(60_000) };
//! assert_eq!(rebate.adjust(&q)?[0].amount, Decimal::from(-200));
//! # Ok::<(), kam_core::rules::RuleError>(())
//! ```

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The version of the `kam:rules` WIT package (`wit/rules.wit`) that rules written
/// against these traits cross the WASM boundary with: the plugin host implements it and
/// the guest SDK reports it. Defined once, here, at the rule boundary.
pub const RULES_API_VERSION: &str = "0.2.0";

use crate::Direction;

/// Which kind of host ran a rule (for error messages and reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleHost {
    /// A Rust closure or type.
    Native,
    /// A Rhai script.
    Script,
    /// A WASM component.
    Plugin,
}

impl std::fmt::Display for RuleHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RuleHost::Native => "native rule",
            RuleHost::Script => "script",
            RuleHost::Plugin => "plugin",
        })
    }
}

/// Why a rule call failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleErrorKind {
    /// The rule reported an error itself (bad input it refuses, a script `throw`).
    Failed,
    /// The rule ran out of its operation or fuel budget.
    OperationLimit,
    /// The rule ran past its wall-clock deadline.
    Timeout,
    /// The rule exceeded its memory, stack or size limits.
    ResourceLimit,
    /// The rule trapped or panicked inside its sandbox.
    Trap,
    /// The rule returned a value of the wrong shape (wrong type, wrong length, bad decimal).
    BadReturn,
    /// The rule could not be loaded (missing entry point, wrong API version, compile error).
    Load,
}

/// A failed rule call: which rule, on which host, what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{host} rule {rule:?} ({kind:?}): {message}")]
pub struct RuleError {
    /// The rule's name (script file, plugin name, or the name given to a native rule).
    pub rule: String,
    /// The host that ran it.
    pub host: RuleHost,
    /// The class of failure.
    pub kind: RuleErrorKind,
    /// Human-readable detail (with script line/column or the trap message where known).
    pub message: String,
}

impl RuleError {
    /// A new error.
    pub fn new(
        rule: impl Into<String>,
        host: RuleHost,
        kind: RuleErrorKind,
        message: impl Into<String>,
    ) -> Self {
        RuleError {
            rule: rule.into(),
            host,
            kind,
            message: message.into(),
        }
    }
}

// ---------------------------------------------------------------- pricing adjustment

/// One priced line as a pricing rule sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingLine {
    /// Activity name, e.g. `pick_line`.
    pub activity: String,
    /// The quantity actually performed.
    pub quantity: Decimal,
    /// The quantity billed (≥ quantity under a minimum commitment).
    pub billed_quantity: Decimal,
    /// The line amount in the quote currency, as priced by the rate card.
    pub amount: Decimal,
}

/// A whole quote, passed to a pricing rule in one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingInput {
    /// ISO 4217 code of the quote.
    pub currency: String,
    /// The quote's lines, in card order.
    pub lines: Vec<PricingLine>,
    /// The quote total before adjustments.
    pub total: Decimal,
}

/// A signed amount a pricing rule adds to a quote (negative for a rebate or discount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceAdjustment {
    /// What the adjustment is, shown on the quote (e.g. "volume rebate 2 % above 50,000").
    pub label: String,
    /// Amount in the quote currency, unrounded; the quote's rounding policy applies.
    pub amount: Decimal,
}

/// A rule that adjusts a priced quote: rebates, surcharges, customer-specific terms.
pub trait PricingRule: Send + Sync {
    /// The rule's name for messages.
    fn name(&self) -> &str;
    /// The adjustments to add to `quote`; an empty list means none.
    fn adjust(&self, quote: &PricingInput) -> Result<Vec<PriceAdjustment>, RuleError>;
}

// ---------------------------------------------------------------- growth per period

/// Revenue of one service line in one simulated month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLineRevenue {
    /// Service line name, e.g. `warehousing`.
    pub service_line: String,
    /// Revenue this month before the rule is applied.
    pub revenue: Decimal,
}

/// The state a growth rule sees for one month of one simulated path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrowthState {
    /// Month index from the start of the horizon, 0-based.
    pub month: u32,
    /// Contract year, 1-based (`month / 12 + 1`).
    pub year: u32,
    /// The shared customer volume index this month (1 = plan).
    pub volume_index: Decimal,
    /// Revenue by service line, in a fixed order for the whole run.
    pub service_lines: Vec<ServiceLineRevenue>,
}

/// A rule applied to every month of every simulated path: returns one multiplicative
/// factor per entry of `state.service_lines` (same order; `1` leaves a line unchanged).
///
/// The simulation calls [`GrowthRule::on_periods`] once per path with all of that path's
/// months (a month's factors scale only that month, so the months do not depend on each
/// other's factors). Its default implementation calls [`GrowthRule::on_period`] once per
/// month; hosts with a per-call cost (a script engine, a WASM instance) override it to pay
/// that cost once per path. Both must give the same factors for the same states.
///
/// ```
/// use kam_core::rules::{FnGrowthRule, GrowthRule, GrowthState, PeriodFactors};
/// use rust_decimal::Decimal;
///
/// let double = FnGrowthRule::new("double", |s: &GrowthState| Ok(vec![Decimal::TWO; s.service_lines.len()]));
/// let states: Vec<GrowthState> = (0..3)
///     .map(|month| GrowthState { month, year: 1, volume_index: Decimal::ONE, service_lines: vec![] })
///     .collect();
/// let mut out = PeriodFactors::new();
/// double.on_periods(&states, &mut out)?;
/// assert_eq!(out.len(), 3);
/// # Ok::<(), kam_core::rules::PeriodError>(())
/// ```
pub trait GrowthRule: Send + Sync {
    /// The rule's name for messages.
    fn name(&self) -> &str;
    /// Factors for this month, one per service line.
    fn on_period(&self, state: &GrowthState) -> Result<Vec<Decimal>, RuleError>;
    /// Factors for a batch of months (one simulated path), appended to `out` in order:
    /// one entry per state, each with one factor per service line of that state. On
    /// error, [`PeriodError::index`] is the position in `states` of the month that failed.
    ///
    /// # Errors
    /// The first month's failure, as [`GrowthRule::on_period`] would report it.
    fn on_periods(&self, states: &[GrowthState], out: &mut PeriodFactors) -> Result<(), PeriodError> {
        on_periods_one_by_one(self, states, out)
    }
}

/// [`GrowthRule::on_periods`] as one [`GrowthRule::on_period`] call per state: the default,
/// and what a batching host falls back to when a batch as a whole hits a per-call limit
/// (each month then gets the whole budget, and a failure names its month).
///
/// # Errors
/// The first month's failure, with its index in `states`.
pub fn on_periods_one_by_one<R: GrowthRule + ?Sized>(
    rule: &R,
    states: &[GrowthState],
    out: &mut PeriodFactors,
) -> Result<(), PeriodError> {
    for (index, state) in states.iter().enumerate() {
        let factors = rule
            .on_period(state)
            .map_err(|error| PeriodError { index, error })?;
        out.push(&factors);
    }
    Ok(())
}

/// A growth rule's failure inside a batch: which state (its index in the batch) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("state {index} of the batch: {error}")]
pub struct PeriodError {
    /// Index in the batch of the state that failed.
    pub index: usize,
    /// The rule's error for that state.
    pub error: RuleError,
}

/// The factors of a batch of growth states: one run of factors per state, stored flat so
/// a caller can reuse one buffer for every batch (no allocation per state).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodFactors {
    factors: Vec<Decimal>,
    /// End offset in `factors` of each state's run.
    ends: Vec<usize>,
}

impl PeriodFactors {
    /// An empty buffer.
    pub fn new() -> Self {
        PeriodFactors::default()
    }
    /// Forgets all entries, keeping the allocation.
    pub fn clear(&mut self) {
        self.factors.clear();
        self.ends.clear();
    }
    /// Appends the factors of the next state.
    pub fn push(&mut self, factors: &[Decimal]) {
        self.factors.extend_from_slice(factors);
        self.ends.push(self.factors.len());
    }
    /// Appends the factors of the next state from an iterator; the first error (if any)
    /// is returned and leaves the buffer as it was.
    ///
    /// # Errors
    /// The iterator's first error.
    pub fn try_push<E>(&mut self, factors: impl IntoIterator<Item = Result<Decimal, E>>) -> Result<(), E> {
        let start = self.factors.len();
        for f in factors {
            match f {
                Ok(f) => self.factors.push(f),
                Err(e) => {
                    self.factors.truncate(start);
                    return Err(e);
                }
            }
        }
        self.ends.push(self.factors.len());
        Ok(())
    }
    /// Number of states with factors.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    /// Whether no state has factors.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// The factors of state `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&[Decimal]> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(p) => *self.ends.get(p)?,
            None => 0,
        };
        self.factors.get(start..end)
    }
    /// The factors of each state, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[Decimal]> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

// ---------------------------------------------------------------- KPI scoring

/// One scorecard measure as a scoring rule sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureInput {
    /// Measure or KPI name.
    pub name: String,
    /// Actual value this period.
    pub actual: Decimal,
    /// Target value.
    pub target: Decimal,
    /// Whether higher or lower is better.
    pub direction: Direction,
    /// The red threshold, where the measure has one.
    pub red: Option<Decimal>,
}

/// A rule that scores measures (1 = on target); called with all measures of a scorecard.
pub trait KpiScoringRule: Send + Sync {
    /// The rule's name for messages.
    fn name(&self) -> &str;
    /// One score per measure, same order.
    fn score(&self, measures: &[MeasureInput]) -> Result<Vec<Decimal>, RuleError>;
}

// ---------------------------------------------------------------- alert condition

/// A KPI's recent history at one account node, as an alert rule sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertInput {
    /// KPI id.
    pub kpi: String,
    /// Account node id (site, region, global).
    pub node: String,
    /// Whether higher or lower is better.
    pub direction: Direction,
    /// Target value.
    pub target: Decimal,
    /// Values per period, oldest first; the last is the current period.
    pub history: Vec<Decimal>,
}

/// What an alert rule decides for one input: raise (with a message) or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertDecision {
    /// Whether the condition holds.
    pub raise: bool,
    /// Explanation shown on the alert.
    pub message: String,
}

/// A rule that decides alerts; called with every (node, KPI) history of a period.
pub trait AlertRule: Send + Sync {
    /// The rule's name for messages.
    fn name(&self) -> &str;
    /// One decision per input, same order.
    fn alert(&self, inputs: &[AlertInput]) -> Result<Vec<AlertDecision>, RuleError>;
}

// ---------------------------------------------------------------- native rules

/// A native pricing rule from a closure.
pub struct FnPricingRule<F> {
    name: String,
    f: F,
}

impl<F> FnPricingRule<F>
where
    F: Fn(&PricingInput) -> Result<Vec<PriceAdjustment>, RuleError> + Send + Sync,
{
    /// Wraps `f` under `name`.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        FnPricingRule { name: name.into(), f }
    }
}

impl<F> PricingRule for FnPricingRule<F>
where
    F: Fn(&PricingInput) -> Result<Vec<PriceAdjustment>, RuleError> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn adjust(&self, quote: &PricingInput) -> Result<Vec<PriceAdjustment>, RuleError> {
        (self.f)(quote)
    }
}

/// A native growth rule from a closure.
pub struct FnGrowthRule<F> {
    name: String,
    f: F,
}

impl<F> FnGrowthRule<F>
where
    F: Fn(&GrowthState) -> Result<Vec<Decimal>, RuleError> + Send + Sync,
{
    /// Wraps `f` under `name`.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        FnGrowthRule { name: name.into(), f }
    }
}

impl<F> GrowthRule for FnGrowthRule<F>
where
    F: Fn(&GrowthState) -> Result<Vec<Decimal>, RuleError> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn on_period(&self, state: &GrowthState) -> Result<Vec<Decimal>, RuleError> {
        (self.f)(state)
    }
}

/// Several growth rules applied together (say, an analyst's Rhai rule and the platform
/// team's plugin). Each rule sees the month as the model made it, never another rule's
/// factors, and a line's factors multiply: two rules of +3 % give 1.03 × 1.03. A product
/// that overflows is an error naming the month and line, never a rounded factor.
///
/// ```
/// use std::sync::Arc;
/// use kam_core::rules::{FnGrowthRule, GrowthRule, GrowthRules, GrowthState, ServiceLineRevenue};
/// use rust_decimal::Decimal;
///
/// let up = |name: &str, f: Decimal| -> Arc<dyn GrowthRule> {
///     Arc::new(FnGrowthRule::new(name, move |s: &GrowthState| Ok(vec![f; s.service_lines.len()])))
/// };
/// let both = GrowthRules::new(vec![up("a", Decimal::new(103, 2)), up("b", Decimal::new(103, 2))]);
/// let line = ServiceLineRevenue { service_line: "warehousing".into(), revenue: Decimal::ONE_HUNDRED };
/// let state = GrowthState { month: 0, year: 1, volume_index: Decimal::ONE, service_lines: vec![line] };
/// assert_eq!(both.on_period(&state)?, [Decimal::new(10609, 4)]);
/// assert_eq!(both.name(), "a × b");
/// # Ok::<(), kam_core::rules::RuleError>(())
/// ```
pub struct GrowthRules {
    name: String,
    rules: Vec<Arc<dyn GrowthRule>>,
}

impl GrowthRules {
    /// The rules, applied in this order (the order changes nothing but error messages).
    pub fn new(rules: Vec<Arc<dyn GrowthRule>>) -> Self {
        let name = rules.iter().map(|r| r.name()).collect::<Vec<_>>().join(" × ");
        GrowthRules { name, rules }
    }

    /// `a × b` line by line for `month`; `rule` gave `b`.
    fn product(
        &self,
        month: &GrowthState,
        a: &[Decimal],
        b: &[Decimal],
        rule: &str,
    ) -> Result<Vec<Decimal>, RuleError> {
        check_batch_len(rule, RuleHost::Native, b, a.len())?;
        a.iter()
            .zip(b)
            .zip(&month.service_lines)
            .map(|((x, y), line)| {
                crate::num::mul(*x, *y, &line.service_line).map_err(|e| {
                    RuleError::new(
                        &self.name,
                        RuleHost::Native,
                        RuleErrorKind::Failed,
                        format!(
                            "month {}: the rules' factors multiplied overflow: {e}",
                            month.month
                        ),
                    )
                })
            })
            .collect()
    }
}

impl std::fmt::Debug for GrowthRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrowthRules")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl GrowthRule for GrowthRules {
    fn name(&self) -> &str {
        &self.name
    }

    fn on_period(&self, state: &GrowthState) -> Result<Vec<Decimal>, RuleError> {
        let mut factors = vec![Decimal::ONE; state.service_lines.len()];
        for rule in &self.rules {
            let next = rule.on_period(state)?;
            factors = self.product(state, &factors, &next, rule.name())?;
        }
        Ok(factors)
    }

    fn on_periods(&self, states: &[GrowthState], out: &mut PeriodFactors) -> Result<(), PeriodError> {
        let mut acc: Vec<Vec<Decimal>> = states
            .iter()
            .map(|s| vec![Decimal::ONE; s.service_lines.len()])
            .collect();
        let mut next = PeriodFactors::new();
        for rule in &self.rules {
            next.clear();
            rule.on_periods(states, &mut next)?;
            for (index, (state, factors)) in states.iter().zip(acc.iter_mut()).enumerate() {
                let theirs = next.get(index).unwrap_or(&[]);
                *factors = self
                    .product(state, factors, theirs, rule.name())
                    .map_err(|error| PeriodError { index, error })?;
            }
        }
        for factors in &acc {
            out.push(factors);
        }
        Ok(())
    }
}

/// A native KPI scoring rule from a closure scoring one measure.
pub struct FnKpiScoringRule<F> {
    name: String,
    f: F,
}

impl<F> FnKpiScoringRule<F>
where
    F: Fn(&MeasureInput) -> Result<Decimal, RuleError> + Send + Sync,
{
    /// Wraps `f` under `name`.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        FnKpiScoringRule { name: name.into(), f }
    }
}

impl<F> KpiScoringRule for FnKpiScoringRule<F>
where
    F: Fn(&MeasureInput) -> Result<Decimal, RuleError> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn score(&self, measures: &[MeasureInput]) -> Result<Vec<Decimal>, RuleError> {
        measures.iter().map(&self.f).collect()
    }
}

/// A native alert rule from a closure deciding one input.
pub struct FnAlertRule<F> {
    name: String,
    f: F,
}

impl<F> FnAlertRule<F>
where
    F: Fn(&AlertInput) -> Result<AlertDecision, RuleError> + Send + Sync,
{
    /// Wraps `f` under `name`.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        FnAlertRule { name: name.into(), f }
    }
}

impl<F> AlertRule for FnAlertRule<F>
where
    F: Fn(&AlertInput) -> Result<AlertDecision, RuleError> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn alert(&self, inputs: &[AlertInput]) -> Result<Vec<AlertDecision>, RuleError> {
        inputs.iter().map(&self.f).collect()
    }
}

/// The largest growth factor a rule may return for one month and service line: 1,000×
/// (a month's revenue at most a thousand times the model's). A factor scales only its
/// month, so this bounds every path's revenue to what `f64` cents and `i64` hold.
pub const MAX_GROWTH_FACTOR: Decimal = Decimal::from_parts(1000, 0, 0, false, 0);

/// Checks one growth factor: not negative (a negative revenue is no forecast) and at
/// most [`MAX_GROWTH_FACTOR`]. The error names the rule, the month and the service line;
/// every growth host (Rhai, WASM, the simulation) calls this on every factor.
///
/// ```
/// use kam_core::rules::{check_growth_factor, RuleHost};
/// use rust_decimal::Decimal;
/// assert!(check_growth_factor("r", RuleHost::Native, 3, "warehousing", Decimal::new(103, 2)).is_ok());
/// let e = check_growth_factor("r", RuleHost::Native, 3, "warehousing", Decimal::NEGATIVE_ONE).unwrap_err();
/// assert!(e.message.contains("month 3") && e.message.contains("negative"), "{e}");
/// ```
pub fn check_growth_factor(
    rule: &str,
    host: RuleHost,
    month: u32,
    service_line: &str,
    factor: Decimal,
) -> Result<Decimal, RuleError> {
    let why = if factor.is_sign_negative() && !factor.is_zero() {
        "is negative (a growth factor must be ≥ 0)"
    } else if factor > MAX_GROWTH_FACTOR {
        "is more than 1000 (a growth factor must be at most 1000× the month's revenue)"
    } else {
        return Ok(factor);
    };
    Err(RuleError::new(
        rule,
        host,
        RuleErrorKind::BadReturn,
        format!("month {month}, service line {service_line:?}: factor {factor} {why}"),
    ))
}

/// Checks that a rule returned exactly `expected` results; hosts call this on every batch.
pub fn check_batch_len<T>(rule: &str, host: RuleHost, got: &[T], expected: usize) -> Result<(), RuleError> {
    if got.len() == expected {
        Ok(())
    } else {
        Err(RuleError::new(
            rule,
            host,
            RuleErrorKind::BadReturn,
            format!("returned {} results for a batch of {expected}", got.len()),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn states(n: u32, lines: usize) -> Vec<GrowthState> {
        (0..n)
            .map(|month| GrowthState {
                month,
                year: month / 12 + 1,
                volume_index: Decimal::new(90 + i64::from(month), 2),
                service_lines: (0..lines)
                    .map(|i| ServiceLineRevenue {
                        service_line: format!("sl{i}"),
                        revenue: Decimal::from(1000 * (i + 1)),
                    })
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn period_factors_keep_each_state_apart() {
        let mut f = PeriodFactors::new();
        assert!(f.is_empty());
        f.push(&[Decimal::ONE, Decimal::TWO]);
        f.push(&[]);
        f.try_push([Ok::<_, ()>(Decimal::TEN)]).unwrap();
        assert_eq!(f.try_push([Ok(Decimal::ONE), Err("bad")]), Err("bad"));
        assert_eq!(f.len(), 3);
        assert_eq!(f.get(0), Some(&[Decimal::ONE, Decimal::TWO][..]));
        assert_eq!(f.get(1), Some(&[][..]));
        assert_eq!(f.get(2), Some(&[Decimal::TEN][..]));
        assert_eq!(f.get(3), None);
        assert_eq!(f.iter().map(<[Decimal]>::len).collect::<Vec<_>>(), [2, 0, 1]);
        f.clear();
        assert_eq!((f.len(), f.get(0)), (0, None));
    }

    #[test]
    fn default_batch_equals_month_by_month() {
        let rule = FnGrowthRule::new("vol", |s: &GrowthState| {
            Ok(s.service_lines
                .iter()
                .map(|l| s.volume_index * Decimal::from(s.year) + l.revenue / Decimal::from(1000))
                .collect())
        });
        let all = states(36, 3);
        let mut out = PeriodFactors::new();
        rule.on_periods(&all, &mut out).unwrap();
        assert_eq!(out.len(), 36);
        for (s, f) in all.iter().zip(out.iter()) {
            assert_eq!(f, rule.on_period(s).unwrap().as_slice());
        }
    }

    #[test]
    fn default_batch_names_the_failing_state() {
        let rule = FnGrowthRule::new("picky", |s: &GrowthState| {
            if s.month == 7 {
                Err(RuleError::new(
                    "picky",
                    RuleHost::Native,
                    RuleErrorKind::Failed,
                    "no",
                ))
            } else {
                Ok(vec![Decimal::ONE; s.service_lines.len()])
            }
        });
        let all = states(12, 2);
        let mut out = PeriodFactors::new();
        let e = rule.on_periods(&all[2..], &mut out).unwrap_err();
        assert_eq!(e.index, 5);
        assert_eq!(e.error.message, "no");
        assert_eq!(out.len(), 5, "the months before the failure keep their factors");
    }

    fn by_month(name: &str, f: impl Fn(u32) -> Decimal + Send + Sync + 'static) -> Arc<dyn GrowthRule> {
        Arc::new(FnGrowthRule::new(name, move |s: &GrowthState| {
            Ok(vec![f(s.month); s.service_lines.len()])
        }))
    }

    #[test]
    fn growth_rules_multiply_and_batch_like_month_by_month() {
        let a = by_month("a", |m| Decimal::new(100 + i64::from(m), 2));
        let b = by_month("b", |m| {
            if m % 2 == 0 {
                Decimal::TWO
            } else {
                Decimal::new(5, 1)
            }
        });
        let both = GrowthRules::new(vec![Arc::clone(&a), b]);
        let all = states(24, 3);
        let mut out = PeriodFactors::new();
        both.on_periods(&all, &mut out).unwrap();
        assert_eq!(out.len(), 24);
        for (s, f) in all.iter().zip(out.iter()) {
            assert_eq!(f, both.on_period(s).unwrap().as_slice());
        }
        assert_eq!(out.get(3), Some(&[Decimal::new(515, 3); 3][..])); // 1.03 × 0.5
        // One rule: its own factors; none: ones.
        let mut alone = PeriodFactors::new();
        GrowthRules::new(vec![Arc::clone(&a)])
            .on_periods(&all, &mut alone)
            .unwrap();
        assert_eq!(alone.get(5), a.on_period(&all[5]).unwrap().get(..));
        let mut none = PeriodFactors::new();
        GrowthRules::new(vec![]).on_periods(&all, &mut none).unwrap();
        assert!(none.iter().all(|f| f.iter().all(|x| *x == Decimal::ONE)));
    }

    #[test]
    fn growth_rules_refuse_overflow_and_short_answers() {
        let huge = by_month("huge", |_| Decimal::MAX);
        let both = GrowthRules::new(vec![Arc::clone(&huge), huge]);
        let e = both
            .on_periods(&states(3, 1), &mut PeriodFactors::new())
            .unwrap_err();
        assert_eq!((e.index, &e.error.kind), (0, &RuleErrorKind::Failed));
        assert!(e.error.message.contains("overflow"), "{}", e.error);

        let short: Arc<dyn GrowthRule> = Arc::new(FnGrowthRule::new("short", |s: &GrowthState| {
            Ok(vec![
                Decimal::ONE;
                s.service_lines
                    .len()
                    .saturating_sub(usize::from(s.month == 4))
            ])
        }));
        let e = GrowthRules::new(vec![short])
            .on_periods(&states(6, 2), &mut PeriodFactors::new())
            .unwrap_err();
        assert_eq!((e.index, &e.error.kind), (4, &RuleErrorKind::BadReturn));
        assert_eq!(e.error.rule, "short");
    }
}
