//! The one rule boundary: traits that user rules implement, whatever they are written in.
//!
//! Native Rust closures, Rhai scripts (`kam-script`) and WASM components (`kam-plugin`)
//! all implement these traits, so pricing, simulation and scorecards call rules without
//! knowing which host runs them — and the same rule written three ways must give the
//! same answer. The input and output types are plain records of `Decimal`s and strings
//! so they cross a script or component boundary unchanged, and every call takes a batch
//! (a whole quote, a period's state for all service lines, a list of measures) so a
//! host's per-call cost is paid once per batch.
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

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

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
pub trait GrowthRule: Send + Sync {
    /// The rule's name for messages.
    fn name(&self) -> &str;
    /// Factors for this month, one per service line.
    fn on_period(&self, state: &GrowthState) -> Result<Vec<Decimal>, RuleError>;
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
