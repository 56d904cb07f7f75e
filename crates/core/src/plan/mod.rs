//! The global account plan: vision, strategic priorities, SWOT, goals → objectives →
//! actions, revenue / margin / volume targets per period and account node, the
//! whitespace matrix, and the customer's own goals that ours support.
//!
//! A [`Plan`] is plain serde data with string ids (JSON and TOML round-trip). It refers to
//! account nodes, buying centres, stakeholders and KPIs **by id only**; whether those ids
//! exist is checked by [`Plan::validate`] against a [`ValidationContext`] the caller fills
//! from the account, the stakeholder map and the KPI catalogue, so this module does not
//! depend on those modules' internals.
//!
//! - [`validate`] — every integrity finding at once (severity, stable check code, path).
//! - [`revision`] — the append-only revision log, structured diffs, "what changed since".
//!
//! This module is not a workflow engine: it does not send reminders or change statuses;
//! it describes a plan and tells you what is wrong with it and what changed.
//!
//! ```
//! use chrono::NaiveDate;
//! use kam_core::plan::{Plan, ValidationContext, CheckCode};
//!
//! let mut plan = Plan::new("oem-2027", "oem", "Global OEM account plan 2027");
//! plan.vision = "Be the OEM's lead partner for inbound-to-manufacturing worldwide".into();
//! let as_of = NaiveDate::from_ymd_opt(2027, 3, 1).ok_or("date")?;
//! let findings = plan.validate(&ValidationContext::new(as_of));
//! // Never reviewed → a stale-plan warning.
//! assert!(findings.iter().any(|f| f.code == CheckCode::StalePlan));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::ServiceLine;
use crate::money::{Money, MoneyError};

pub mod revision;
pub mod validate;

pub use revision::{
    ChangeKind, ChangesSince, FieldChange, ItemChange, PlanDiff, Revision, RevisionError, RevisionLog,
    RevisionSummary, StakeholderRefChange,
};
pub use validate::{CheckCode, Finding, FindingSeverity, ValidationContext};

/// A structural problem that makes a plan unusable for an operation (diffing, revising).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Two items of the same kind share an id, so they cannot be matched across revisions.
    #[error("duplicate {kind} id {id:?} in plan {plan:?} (ids must be unique to diff or revise a plan)")]
    DuplicateId {
        /// The plan's id.
        plan: String,
        /// `"goal"`, `"objective"`, `"action"`, `"target"`, `"customer goal"` or
        /// `"whitespace cell"`.
        kind: &'static str,
        /// The repeated id (for whitespace: `buying_centre/offering`).
        id: String,
    },
    /// Money arithmetic failed (currency mismatch or overflow), naming the item.
    #[error("{item}: {source}")]
    Money {
        /// The item, e.g. `whitespace[3] (emea-inbound/warehousing)`.
        item: String,
        /// The money error.
        source: MoneyError,
    },
}

/// FNV-1a for the id indexes: ids are short, and SipHash dominated the run time of a
/// diff. A plan is the caller's own data, so hash flooding is not a concern here.
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

pub(crate) type FnvBuild = BuildHasherDefault<Fnv>;
pub(crate) type FnvMap<K, V> = HashMap<K, V, FnvBuild>;

/// The SWOT analysis of our position in the account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swot {
    /// Our strengths in the account.
    #[serde(default)]
    pub strengths: Vec<String>,
    /// Our weaknesses.
    #[serde(default)]
    pub weaknesses: Vec<String>,
    /// Opportunities.
    #[serde(default)]
    pub opportunities: Vec<String>,
    /// Threats (competitors, insourcing, budget cuts…).
    #[serde(default)]
    pub threats: Vec<String>,
}

impl Swot {
    /// Whether all four quadrants are empty.
    pub fn is_empty(&self) -> bool {
        self.strengths.is_empty()
            && self.weaknesses.is_empty()
            && self.opportunities.is_empty()
            && self.threats.is_empty()
    }
}

/// Lifecycle of an objective or action. `Done` and `Cancelled` are closed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Planned, not started.
    #[default]
    NotStarted,
    /// Being worked on.
    InProgress,
    /// Paused; still open.
    OnHold,
    /// Achieved (closed).
    Done,
    /// Dropped (closed).
    Cancelled,
}

impl Status {
    /// Whether the item is closed (done or cancelled).
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Done | Status::Cancelled)
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotStarted => "not_started",
            Status::InProgress => "in_progress",
            Status::OnHold => "on_hold",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Priority of an objective or action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Nice to have.
    Low,
    /// Normal.
    #[default]
    Medium,
    /// Important this period.
    High,
    /// Account at stake.
    Critical,
}

impl Priority {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Critical => "critical",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How progress is measured: a KPI (by id, from the KPI catalogue), its target and the
/// current value, in the KPI's own unit.
///
/// The current value may be typed in, or left out: an account that has the KPI's
/// observations takes it from them (at `node`, by default the objective's, in `period`,
/// by default the latest), so the figure is entered once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    /// KPI id, e.g. `"otif"`.
    pub kpi: String,
    /// Target value.
    pub target: Decimal,
    /// Latest value as typed; `None` when it comes from the KPI's observations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Decimal>,
    /// The account node whose observations the measure tracks (default: the
    /// objective's node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The period of the observation tracked (default: the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

/// A step towards an objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Unique across the plan.
    pub id: String,
    /// What is to be done.
    pub title: String,
    /// Who on our side does it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// When it is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    /// Lifecycle state.
    #[serde(default)]
    pub status: Status,
    /// Priority.
    #[serde(default)]
    pub priority: Priority,
    /// Last progress update (for freshness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<NaiveDate>,
    /// Optional measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<Measure>,
}

/// An objective under a goal, owned on our side, placed at an account node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objective {
    /// Unique across the plan.
    pub id: String,
    /// What is to be achieved.
    pub title: String,
    /// The account node it belongs to (the region for a regional objective).
    pub node: String,
    /// Who on our side is accountable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// When it is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    /// Lifecycle state.
    #[serde(default)]
    pub status: Status,
    /// Priority.
    #[serde(default)]
    pub priority: Priority,
    /// How success is measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<Measure>,
    /// Customer stakeholders (ids in the stakeholder map) this objective depends on.
    #[serde(default)]
    pub stakeholders: Vec<String>,
    /// The actions.
    #[serde(default)]
    pub actions: Vec<Action>,
}

/// One of our goals for the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    /// Unique across the plan.
    pub id: String,
    /// The goal.
    pub title: String,
    /// Ids of the customer goals this goal supports.
    #[serde(default)]
    pub supports: Vec<String>,
    /// The objectives.
    #[serde(default)]
    pub objectives: Vec<Objective>,
}

/// A goal the customer has set itself (e.g. "cut inbound inventory 20 %"), optionally
/// owned by one of their stakeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerGoal {
    /// Unique across the plan.
    pub id: String,
    /// The customer's goal.
    pub title: String,
    /// The customer stakeholder who owns it (id in the stakeholder map).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stakeholder: Option<String>,
}

/// An inclusive date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Period {
    /// First day, inclusive.
    pub start: NaiveDate,
    /// Last day, inclusive.
    pub end: NaiveDate,
}

impl Period {
    /// A period from its first and last day (not checked; see [`Period::is_valid`]).
    pub const fn new(start: NaiveDate, end: NaiveDate) -> Self {
        Period { start, end }
    }

    /// Whether `start <= end`.
    pub fn is_valid(&self) -> bool {
        self.start <= self.end
    }

    /// Whether `day` falls in the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.start, self.end)
    }
}

/// A volume: a quantity in a named unit (pallets, order lines, shipments…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// How many.
    pub quantity: Decimal,
    /// Of what, e.g. `"pallet"`.
    pub unit: String,
}

/// What a target is for, and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetValue {
    /// Revenue.
    Revenue(Money),
    /// Margin (contribution), as money.
    Margin(Money),
    /// Volume.
    Volume(Volume),
}

/// The kind of a target, without its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// Revenue.
    Revenue,
    /// Margin.
    Margin,
    /// Volume.
    Volume,
}

impl TargetKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Revenue => "revenue",
            TargetKind::Margin => "margin",
            TargetKind::Volume => "volume",
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TargetValue {
    /// Its kind.
    pub fn kind(&self) -> TargetKind {
        match self {
            TargetValue::Revenue(_) => TargetKind::Revenue,
            TargetValue::Margin(_) => TargetKind::Margin,
            TargetValue::Volume(_) => TargetKind::Volume,
        }
    }

    /// The money amount for revenue and margin targets.
    pub fn money(&self) -> Option<&Money> {
        match self {
            TargetValue::Revenue(m) | TargetValue::Margin(m) => Some(m),
            TargetValue::Volume(_) => None,
        }
    }

    /// The bare amount (money amount or quantity).
    pub fn amount(&self) -> Decimal {
        match self {
            TargetValue::Revenue(m) | TargetValue::Margin(m) => m.amount(),
            TargetValue::Volume(v) => v.quantity,
        }
    }

    /// The unit: currency code or volume unit.
    pub fn unit(&self) -> Cow<'_, str> {
        match self {
            TargetValue::Revenue(m) | TargetValue::Margin(m) => Cow::Owned(m.currency().code().to_owned()),
            TargetValue::Volume(v) => Cow::Borrowed(&v.unit),
        }
    }

    /// Whether both values are in the same unit (same currency, or same volume unit), so
    /// their amounts can be added.
    pub fn same_unit(&self, other: &TargetValue) -> bool {
        match (self.money(), other.money(), self, other) {
            (Some(a), Some(b), _, _) => a.currency() == b.currency(),
            (None, None, TargetValue::Volume(a), TargetValue::Volume(b)) => a.unit == b.unit,
            _ => false,
        }
    }
}

impl fmt::Display for TargetValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.kind(), self.amount(), self.unit())
    }
}

/// A revenue, margin or volume target for one account node and one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Unique across the plan's targets.
    pub id: String,
    /// The account node (global, region, country or site).
    pub node: String,
    /// The period, inclusive.
    pub period: Period,
    /// What and how much.
    pub value: TargetValue,
}

/// One cell of the whitespace matrix: a buying centre × an offering (service line).
///
/// `potential` is the customer's total spend we could address there, `current` what we
/// bill today, `won` what is contracted but not yet live. The open whitespace is
/// [`WhitespaceCell::gap`] = potential − current − won.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhitespaceCell {
    /// The buying centre's id (account's buying centres).
    pub buying_centre: String,
    /// The offering.
    pub offering: ServiceLine,
    /// Addressable spend.
    pub potential: Money,
    /// Our current business.
    pub current: Money,
    /// Won, not yet live.
    pub won: Money,
}

impl WhitespaceCell {
    /// The key that identifies the cell: `buying_centre/offering`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.buying_centre, self.offering)
    }

    /// The open whitespace: potential − current − won (negative when we already hold
    /// more than the stated potential).
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] if the three amounts are in different currencies,
    /// or an overflow.
    pub fn gap(&self) -> Result<Money, MoneyError> {
        self.potential.checked_sub(&self.current)?.checked_sub(&self.won)
    }
}

/// The global account plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Plan id.
    pub id: String,
    /// The account's id.
    pub account: String,
    /// Title.
    pub name: String,
    /// When the plan was last reviewed with management (for staleness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reviewed: Option<NaiveDate>,
    /// Where we want to be with this customer.
    #[serde(default)]
    pub vision: String,
    /// Strategic priorities, in order.
    #[serde(default)]
    pub strategic_priorities: Vec<String>,
    /// SWOT analysis.
    #[serde(default)]
    pub swot: Swot,
    /// Regional account manager per region node id (for coaching).
    #[serde(default)]
    pub regional_managers: BTreeMap<String, String>,
    /// The customer's goals.
    #[serde(default)]
    pub customer_goals: Vec<CustomerGoal>,
    /// Our goals.
    #[serde(default)]
    pub goals: Vec<Goal>,
    /// Revenue / margin / volume targets.
    #[serde(default)]
    pub targets: Vec<Target>,
    /// The whitespace matrix, one entry per buying centre × offering.
    #[serde(default)]
    pub whitespace: Vec<WhitespaceCell>,
}

impl Plan {
    /// An empty plan.
    pub fn new(id: &str, account: &str, name: &str) -> Self {
        Plan {
            id: id.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
            last_reviewed: None,
            vision: String::new(),
            strategic_priorities: Vec::new(),
            swot: Swot::default(),
            regional_managers: BTreeMap::new(),
            customer_goals: Vec::new(),
            goals: Vec::new(),
            targets: Vec::new(),
            whitespace: Vec::new(),
        }
    }

    /// Every objective with its goal, in plan order.
    pub fn objectives(&self) -> impl Iterator<Item = (&Goal, &Objective)> {
        self.goals
            .iter()
            .flat_map(|g| g.objectives.iter().map(move |o| (g, o)))
    }

    /// Every action with its objective, in plan order.
    pub fn actions(&self) -> impl Iterator<Item = (&Objective, &Action)> {
        self.objectives()
            .flat_map(|(_, o)| o.actions.iter().map(move |a| (o, a)))
    }

    /// Checks that ids are unique per kind — what diffing and revising need.
    ///
    /// # Errors
    /// [`PlanError::DuplicateId`] for the first repeated id.
    pub fn check_ids(&self) -> Result<(), PlanError> {
        let dup = |kind: &'static str, id: &str| PlanError::DuplicateId {
            plan: self.id.clone(),
            kind,
            id: id.to_owned(),
        };
        let mut seen = HashSet::new();
        for g in &self.goals {
            if !seen.insert(g.id.as_str()) {
                return Err(dup("goal", &g.id));
            }
        }
        seen.clear();
        for (_, o) in self.objectives() {
            if !seen.insert(o.id.as_str()) {
                return Err(dup("objective", &o.id));
            }
        }
        seen.clear();
        for (_, a) in self.actions() {
            if !seen.insert(a.id.as_str()) {
                return Err(dup("action", &a.id));
            }
        }
        seen.clear();
        for t in &self.targets {
            if !seen.insert(t.id.as_str()) {
                return Err(dup("target", &t.id));
            }
        }
        seen.clear();
        for c in &self.customer_goals {
            if !seen.insert(c.id.as_str()) {
                return Err(dup("customer goal", &c.id));
            }
        }
        let mut cells = HashSet::new();
        for w in &self.whitespace {
            if !cells.insert((w.buying_centre.as_str(), &w.offering)) {
                return Err(dup("whitespace cell", &w.key()));
            }
        }
        Ok(())
    }

    /// The open whitespace of every cell, in matrix order.
    ///
    /// # Errors
    /// [`PlanError::Money`] naming the cell whose amounts are in different currencies.
    pub fn whitespace_gaps(&self) -> Result<Vec<(&WhitespaceCell, Money)>, PlanError> {
        self.whitespace
            .iter()
            .enumerate()
            .map(|(i, w)| {
                w.gap().map(|g| (w, g)).map_err(|source| PlanError::Money {
                    item: format!("whitespace[{i}] ({})", w.key()),
                    source,
                })
            })
            .collect()
    }

    /// Our goals that support the customer goal `customer_goal` (by id).
    pub fn goals_supporting<'a>(&'a self, customer_goal: &'a str) -> impl Iterator<Item = &'a Goal> + 'a {
        self.goals
            .iter()
            .filter(move |g| g.supports.iter().any(|s| s == customer_goal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, d).unwrap()
    }

    #[test]
    fn periods_are_inclusive() {
        let p = Period::new(day(1, 1), day(3, 31));
        assert!(p.is_valid() && p.contains(day(1, 1)) && p.contains(day(3, 31)));
        assert!(!p.contains(day(4, 1)));
        assert!(!Period::new(day(2, 1), day(1, 31)).is_valid());
        assert_eq!(p.to_string(), "2027-01-01..=2027-03-31");
    }

    #[test]
    fn units_compare_by_currency_or_name() {
        let eur = Currency::from_code("EUR").unwrap();
        let usd = Currency::from_code("USD").unwrap();
        let rev = TargetValue::Revenue(Money::new(Decimal::ONE, eur));
        let margin = TargetValue::Margin(Money::new(Decimal::TWO, eur));
        let rev_usd = TargetValue::Revenue(Money::new(Decimal::ONE, usd));
        let vol = |u: &str| {
            TargetValue::Volume(Volume {
                quantity: Decimal::ONE,
                unit: u.into(),
            })
        };
        assert!(rev.same_unit(&margin));
        assert!(!rev.same_unit(&rev_usd));
        assert!(vol("pallet").same_unit(&vol("pallet")));
        assert!(!vol("pallet").same_unit(&vol("order_line")));
        assert!(!rev.same_unit(&vol("EUR")));
        assert_eq!(rev.unit(), "EUR");
        assert_eq!(vol("pallet").to_string(), "volume 1 pallet");
    }

    #[test]
    fn closed_statuses() {
        assert!(Status::Done.is_closed() && Status::Cancelled.is_closed());
        assert!(
            !Status::OnHold.is_closed() && !Status::NotStarted.is_closed() && !Status::InProgress.is_closed()
        );
    }

    #[test]
    fn check_ids_names_the_kind() {
        let mut p = Plan::new("p", "a", "n");
        assert_eq!(p.check_ids(), Ok(()));
        let t = Target {
            id: "t".into(),
            node: "global".into(),
            period: Period::new(day(1, 1), day(12, 31)),
            value: TargetValue::Volume(Volume {
                quantity: Decimal::ONE,
                unit: "pallet".into(),
            }),
        };
        p.targets = vec![t.clone(), t];
        assert_eq!(
            p.check_ids(),
            Err(PlanError::DuplicateId {
                plan: "p".into(),
                kind: "target",
                id: "t".into()
            })
        );
    }
}
