//! The analyses of one account: each takes the loaded [`crate::Account`] (and the
//! plugins the command loaded), runs kam's domain code, and returns a typed view —
//! plain serde records whose enums stay enums, so the CLI's tables and JSON, `kam demo`,
//! the EBR report and an integrator all read the same values.

pub mod alerts;
pub mod coaching;
pub mod delivery;
pub mod growth;
pub mod metrics;
pub mod plan;
pub mod pricing;
pub mod report;
pub mod rollup;
pub mod stakeholders;

pub use alerts::{
    ActionRow, AlertRow, AlertState, AlertsReport, EscalationRow, EscalationsReport, Mark, MarkKind, Marks,
    action_status, alerts, alerts_with, escalations,
};
pub use coaching::{CoachingReport, RegionCoaching, coaching};
pub use delivery::{DeliveryReport, delivery};
pub use growth::{GrowthReport, GrowthYear, growth, growth_report, run_options};
pub use metrics::{NodeGrade, ScorecardReport, alert_kind, alert_register, grade_status, scorecard};
pub use plan::{PlanCheck, plan_check, plan_diff};
pub use pricing::{
    BankingRow, ConcessionReport, CostRow, CostToServeReport, GroupBy, MarginLayer, NegotiationReport,
    OfferRow, PeriodTotals, PeriodsReport, PriceLine, PriceReport, SideConcessions, concessions,
    cost_to_serve, negotiate, price, price_periods, price_volumes,
};
pub use rollup::{Rollup, rollup};
pub use stakeholders::{
    Gap, HeatCell, Hostile, SingleThread, StakeholderReport, Unsupported, departure, stakeholders,
};
