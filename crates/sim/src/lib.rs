//! # kam-sim — Monte Carlo what-if growth simulation for a key account
//!
//! "If the Leipzig inbound deal slips a quarter and the OEM cuts volumes 8 %, do we still
//! make the three-year target?" kam-sim answers with a reproducible Monte Carlo over a
//! [`Scenario`]: a base book of service lines × sites (monthly loss hazard, annual price
//! escalation, exposure to a shared volume index with monthly shocks and scheduled
//! steps), a pipeline of opportunities (win probability, value from a PERT / triangular /
//! lognormal / fixed [`dist::ValueDistribution`], start-month slippage, linear ramp-up,
//! margin), correlation groups of deals that win or lose together, yearly targets, and
//! growth rules (any [`kam_core::rules::GrowthRule`]: native, Rhai or WASM) applied to
//! each month's service-line revenue.
//!
//! **Determinism.** Path `i` draws from its own ChaCha8 stream (key from the seed, stream
//! number `i`), and per-path results are stored and aggregated by path index, so the same
//! scenario, seed and path count give the same [`Summary`] — and byte-identical JSON —
//! for any thread count and any split into shards ([`Summary::merge`]).
//!
//! **Exactness.** Per-path arithmetic is `f64` (the draws and the monthly roll-up);
//! every per-path result is rounded to cents once and then aggregated exactly (integer
//! cents, `Decimal`), so merging is exact and order-free. Distribution means and the
//! small-pipeline enumeration are exact `Decimal`.
//!
//! **Memory.** A run keeps `(2·years + months + 1) × 8` bytes per path (annual revenue and
//! margin, monthly revenue for the fan chart, won pipeline value — what the quantiles
//! need), plus per-thread scratch of `2 × months × service lines × regions` `f64`s and
//! fixed sums. For `scenarios/bench-36m.toml` that is 344 bytes per path: 34.4 MB for
//! 100,000 paths.
//!
//! Beside the growth run: [`simulate_pipeline`] (a simple pipeline's total won value) and
//! [`delivery::simulate_finish`] (an implementation project's finish, tasks drawn from
//! PERT), on the same per-path streams.
//!
//! It is **not** a forecasting model fitted to data, and it does not load rule scripts
//! or plugins itself (the CLI does, and passes them in as trait objects).
//!
//! ```
//! use kam_sim::{run, RunOptions, scenario::parse_scenario};
//!
//! let toml = r#"
//! name = "demo"
//! horizon_months = 24
//! service_lines = ["warehousing"]
//! regions = ["emea"]
//! [[base_book]]
//! service_line = "warehousing"
//! site = "Leipzig"
//! region = "emea"
//! monthly_revenue = "100000"
//! monthly_loss_hazard = "0.01"
//! [[opportunity]]
//! name = "Leipzig inbound"
//! service_line = "warehousing"
//! region = "emea"
//! win_probability = "0.6"
//! value = { kind = "pert", min = "900000", mode = "1200000", max = "1600000" }
//! start_month = 6
//! [[target]]
//! year = 2
//! revenue = "1500000"
//! "#;
//! let scenario = parse_scenario(toml, "demo.toml")?;
//! let summary = run(&scenario, &RunOptions::new(2_000, 42))?;
//! let results = summary.results()?;
//! assert_eq!(results.years.len(), 2);
//! let p = results.years[1].prob_reach_target.unwrap();
//! assert!(p > rust_decimal::Decimal::ZERO && p < rust_decimal::Decimal::ONE);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod delivery;
pub mod dist;
mod engine;
pub mod pipeline;
pub mod scenario;
mod stop;
mod summary;
pub mod tornado;

use rust_decimal::Decimal;

pub use engine::{ProgressFn, RunOptions, Shard, run};
pub use pipeline::{EmpiricalDistribution, simulate_pipeline, simulate_pipeline_until};
pub use scenario::{Scenario, ScenarioError, load_scenario, parse_scenario};
pub use stop::{Stop, StopReason};
pub use summary::{
    ExactPipeline, MonthBand, PipelineResult, SegmentResult, SimResults, Stats, Summary, YearResult,
};
pub use tornado::{TORNADO_RUNS, Tornado, TornadoBar, stretch_pessimistic, tornado, tornado_runs};

/// An invalid model: what is wrong, and the field path (`opportunity[3].value`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// `horizon_months = 0`.
    #[error("horizon_months: the horizon must be at least one month")]
    ZeroHorizon,
    /// A probability outside `[0, 1]`.
    #[error("{field}: probability {value} is outside [0, 1]")]
    Probability {
        /// Field path.
        field: String,
        /// The value.
        value: Decimal,
    },
    /// A PERT or triangular distribution without `min ≤ mode ≤ max`.
    #[error("{field}: need min ≤ mode ≤ max, got min {min}, mode {mode}, max {max}")]
    DistributionOrder {
        /// Field path.
        field: String,
        /// Lowest value.
        min: Decimal,
        /// Most likely value.
        mode: Decimal,
        /// Highest value.
        max: Decimal,
    },
    /// A revenue, value or other quantity below zero.
    #[error("{field}: {value} must not be negative")]
    Negative {
        /// Field path.
        field: String,
        /// The value.
        value: Decimal,
    },
    /// A line or deal names a service line the scenario does not list.
    #[error("{field}: unknown service line {name:?} (not in service_lines)")]
    UnknownServiceLine {
        /// Field path.
        field: String,
        /// The name used.
        name: String,
    },
    /// A line or deal names a region the scenario does not list.
    #[error("{field}: unknown region {name:?} (not in regions)")]
    UnknownRegion {
        /// Field path.
        field: String,
        /// The name used.
        name: String,
    },
    /// A correlation group names a deal that is not an opportunity.
    #[error("{field}: correlation group {group:?} names unknown deal {deal:?}")]
    UnknownDeal {
        /// Field path.
        field: String,
        /// The group.
        group: String,
        /// The unknown deal name.
        deal: String,
    },
    /// A name used twice where it must be unique.
    #[error("{field}: {name:?} appears more than once")]
    Duplicate {
        /// Field path.
        field: String,
        /// The repeated name.
        name: String,
    },
    /// Any other invalid value.
    #[error("{field}: {message}")]
    Invalid {
        /// Field path.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl ModelError {
    /// The field path the error refers to.
    pub fn field(&self) -> &str {
        match self {
            ModelError::ZeroHorizon => "horizon_months",
            ModelError::Probability { field, .. }
            | ModelError::DistributionOrder { field, .. }
            | ModelError::Negative { field, .. }
            | ModelError::UnknownServiceLine { field, .. }
            | ModelError::UnknownRegion { field, .. }
            | ModelError::UnknownDeal { field, .. }
            | ModelError::Duplicate { field, .. }
            | ModelError::Invalid { field, .. } => field,
        }
    }
}

/// Anything that can go wrong in kam-sim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The model is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A scenario file could not be read, parsed or validated.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A pipeline or percentile error from kam-core.
    #[error(transparent)]
    Growth(#[from] kam_core::growth::GrowthError),
    /// A growth rule failed on a path.
    #[error("path {path}, month {month}: {source}")]
    Rule {
        /// Path index.
        path: u64,
        /// Month index (0-based).
        month: u32,
        /// The rule's error.
        source: kam_core::rules::RuleError,
    },
    /// A growth rule returned the wrong number of factors.
    #[error(
        "rule {rule:?} at path {path}, month {month}: returned {got} factors for {expected} service lines"
    )]
    RuleShape {
        /// The rule's name.
        rule: String,
        /// Path index.
        path: u64,
        /// Month index (0-based).
        month: u32,
        /// Factors returned.
        got: usize,
        /// Service lines.
        expected: usize,
    },
    /// A growth rule's batch call returned factors for more months than it was given.
    #[error("rule {rule:?} at path {path}: returned factors for {got} months for a path of {expected}")]
    RuleBatch {
        /// The rule's name.
        rule: String,
        /// Path index.
        path: u64,
        /// Months with factors returned.
        got: usize,
        /// Months in the path.
        expected: usize,
    },
    /// Bad run options (zero paths, a shard like `3/2`, zero threads).
    #[error("run options: {0}")]
    Options(String),
    /// Summaries that cannot be merged.
    #[error("merge: {0}")]
    Merge(String),
    /// A numeric result out of range (overflow, a non-finite value).
    #[error("numeric: {0}")]
    Numeric(String),
    /// JSON (de)serialization of a summary.
    #[error("json: {0}")]
    Json(String),
    /// The run was stopped before it finished ([`Stop`]).
    #[error("{reason} after {done} of {total} paths")]
    Stopped {
        /// Why.
        reason: StopReason,
        /// Paths finished when it stopped (at least).
        done: u64,
        /// Paths the run (or shard) had to do.
        total: u64,
    },
}
