//! Key account metrics for contract logistics: KPI definitions, observations per account
//! node and period, roll-up through the account hierarchy, RAG evaluation, de-duplicated
//! alerts, action plans that must prove they fixed the KPI, and SLA-driven escalations.
//!
//! - [`kpi`] — the KPI library (OTIF on order or line basis with its date basis stated,
//!   on-time shipment, order/pick/inventory accuracy, dock-to-stock, damage-free rate and
//!   damage ppm, perfect order in its SCOR count form and its multiplicative form, cost per
//!   unit/line, units per labour hour, cost-to-serve % of revenue, margin %) and custom KPIs.
//!   Every formula is kept as numerator/denominator components so it aggregates correctly.
//! - [`table`] — observations per (node, KPI, period) and the roll-up from sites to the
//!   global account by each KPI's own rule (ratio of sums, sum, weighted average, min, max).
//! - [`alert`] — green/amber/red status per cell and the alert register: threshold breach,
//!   N consecutive adverse periods, cost-to-serve over limit, margin under floor, plus any
//!   [`crate::rules::AlertRule`]; one open problem holds exactly one open alert.
//! - [`problem`] — one alert per problem: the register's alerts for the same (node, KPI)
//!   that touch in time folded into one problem with all its reasons, its first and
//!   latest period and the highest severity; linked to the action plan working on it.
//! - [`routing`] — who owns an alert: (KPIs, nodes, level) → owner, with a fallback.
//! - [`action`] — action plans (owner, due date, steps) with the lifecycle
//!   open → in progress → resolved → verified and a full transition history.
//! - [`escalation`] — S1–S4 escalations climbing the ladder regional account manager →
//!   global account director → VP → customer executive sponsor as SLAs pass.
//!
//! This module is **not** a data store or a scheduler: it reads no clock (every time is
//! passed in), keeps no files, and sends no notifications — it decides what should be
//! raised, escalated or refused and records why.
//!
//! ```
//! use kam_core::metrics::kpi::{otif, perfect_order_rate};
//! use rust_decimal_macros::dec;
//!
//! // Source: shared/vectors/scorecard.toml [otif]
//! assert_eq!(otif(dec!(1080), dec!(1200))?, dec!(0.90));
//! assert_eq!(perfect_order_rate(&[dec!(0.98), dec!(0.99), dec!(0.995)])?, dec!(0.9653490));
//! # Ok::<(), kam_core::metrics::MetricsError>(())
//! ```

pub mod action;
pub mod alert;
pub mod escalation;
pub mod kpi;
pub mod problem;
pub mod routing;
pub mod table;

pub use action::{ActionError, ActionPlan, ActionState, ActionStep};
pub use alert::{Alert, AlertKind, AlertPolicy, AlertRegister, BuiltInAlert, Evaluation, evaluate};
pub use escalation::{Escalation, EscalationBook, EscalationError, Rung, Severity, SlaPolicy};
pub use kpi::{
    Aggregation, Bounds, CountBasis, DateBasis, Formula, Kpi, KpiLibrary, Status, Thresholds, Tolerance, Unit,
};
pub use problem::{PlanReach, Problem, Reason, correlate, correlate_latest, link};
pub use routing::{Route, Router, RoutingTable};
pub use table::{Observation, ObservationTable, RolledUp};

use crate::num::ArithmeticError;
use crate::rules::RuleError;

/// What is wrong with a KPI definition, an observation or an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// A count or amount that must not be negative is negative.
    #[error("{what}: negative value {value}")]
    NegativeCount {
        /// Which field, e.g. `"otif: on_time_in_full"` or `"leipzig/otif_order_commit/2026-03 numerator"`.
        what: String,
        /// The value given.
        value: rust_decimal::Decimal,
    },
    /// A part (on-time orders, accurate lines) exceeds its whole.
    #[error("{what}: part {part} exceeds total {total}")]
    PartExceedsTotal {
        /// Which observation or call.
        what: String,
        /// The part (numerator).
        part: rust_decimal::Decimal,
        /// The whole (denominator).
        total: rust_decimal::Decimal,
    },
    /// A total that must be positive is zero.
    #[error("{what}: total is zero")]
    ZeroTotal {
        /// Which call.
        what: String,
    },
    /// A rate outside 0..=1.
    #[error("{what}: rate {rate} is outside 0..=1")]
    RateOutOfRange {
        /// Which component.
        what: String,
        /// The rate given.
        rate: rust_decimal::Decimal,
    },
    /// A list that needs at least one entry is empty.
    #[error("{what}: needs at least one entry")]
    Empty {
        /// Which list.
        what: String,
    },
    /// A KPI definition is inconsistent (thresholds on the wrong side, bad scale…).
    #[error("KPI {kpi:?}: {reason}")]
    InvalidKpi {
        /// KPI id.
        kpi: String,
        /// What is wrong.
        reason: String,
    },
    /// Two KPIs share an id.
    #[error("duplicate KPI id {0:?}")]
    DuplicateKpi(String),
    /// A KPI id that is not in the library.
    #[error("unknown KPI {0:?}")]
    UnknownKpi(String),
    /// A node id that is not in the account hierarchy.
    #[error("unknown account node {0:?}")]
    UnknownNode(String),
    /// A period label that is not in the table.
    #[error("unknown period {0:?}")]
    UnknownPeriod(String),
    /// Two periods share a label.
    #[error("duplicate period {0:?}")]
    DuplicatePeriod(String),
    /// Observations are recorded on component KPIs, never on a derived (product) KPI.
    #[error("KPI {0:?} is derived from its components: record the components instead")]
    DerivedKpi(String),
    /// A period at or before the register's last evaluated period.
    #[error("period {period:?} was already evaluated (register is at {last:?})")]
    AlreadyEvaluated {
        /// The period asked for.
        period: String,
        /// The register's last evaluated period.
        last: String,
    },
    /// A value exceeds the exact fixed-point range used for roll-ups.
    #[error("{what}: value out of the exact roll-up range")]
    OutOfRange {
        /// Which cell or sum.
        what: String,
    },
    /// An alert policy that cannot be applied (duplicate kind, zero periods…).
    #[error("alert policy: {0}")]
    InvalidPolicy(String),
    /// Checked arithmetic failed.
    #[error(transparent)]
    Arithmetic(#[from] ArithmeticError),
    /// A user alert rule failed.
    #[error(transparent)]
    Rule(#[from] RuleError),
}
