//! RAG evaluation of every rolled-up cell and the de-duplicated alert register.
//!
//! Built-in alert kinds: a threshold breach (amber-or-worse or red), N consecutive adverse
//! periods (each worse than the one before), cost-to-serve over a limit, margin under a
//! floor — and any number of user [`AlertRule`]s (native, Rhai, WASM) beside them.
//!
//! De-duplication: the register holds at most one **open** alert per (node, KPI, kind).
//! While the condition keeps holding, the open alert is updated (last seen, periods
//! active); when it clears, the alert closes; if the problem comes back later, that is a
//! new problem and raises a new alert. A period without data neither raises nor closes.
//! Periods are evaluated once, in order: the register remembers the last period it saw.
//!
//! ```
//! use kam_core::metrics::{evaluate, AlertPolicy, AlertRegister, KpiLibrary, Observation, ObservationTable, Status};
//! use kam_core::account::{Account, AccountNode, NodeLevel};
//! use rust_decimal_macros::dec;
//!
//! let account = Account {
//!     id: "oem".into(), name: "OEM".into(), service_lines: vec![], buying_centres: vec![],
//!     nodes: vec![
//!         AccountNode::new("global", "Global", NodeLevel::Global, None),
//!         AccountNode::new("pune", "Pune", NodeLevel::Site, Some("global")),
//!     ],
//! };
//! let periods: Vec<String> = vec!["m1".into(), "m2".into(), "m3".into()];
//! let mut t = ObservationTable::new(&KpiLibrary::contract_logistics(), &account.hierarchy()?, periods)?;
//! for (p, on_time) in [("m1", 94), ("m2", 93), ("m3", 99)] {
//!     t.record("pune", "otif_order_commit", p, Observation::ratio(on_time.into(), dec!(100)))?;
//! }
//! let mut register = AlertRegister::default();
//! let e = evaluate(&t.roll_up()?, &AlertPolicy::default(), &[], &mut register, "m3")?;
//! assert_eq!(e.status("pune", "otif_order_commit", "m2")?, Status::Red);
//! // Red in m1 and m2 is one problem: one alert, closed when m3 is back on target.
//! let pune: Vec<_> = register.alerts().iter().filter(|a| &*a.node == "pune").collect();
//! assert_eq!(pune.len(), 1);
//! assert_eq!(pune[0].closed.as_deref(), Some("m3"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::MetricsError;
use super::kpi::{Kpi, Status};
use super::table::{FixedThreshold, KpiView, Layout, RolledUp, cmp_cells};
use crate::Direction;
use crate::rules::{AlertInput, AlertRule, RuleHost, check_batch_len};

/// What kind of problem an alert reports; part of the de-duplication key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The KPI is at or beyond its alert level (amber or red).
    ThresholdBreach,
    /// The KPI got worse N periods in a row.
    ConsecutiveAdverse,
    /// Cost-to-serve % above the limit.
    CostToServeOverLimit,
    /// Margin % below the floor.
    MarginUnderFloor,
    /// A user alert rule, by name.
    Rule(String),
}

/// A built-in alert condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum BuiltInAlert {
    /// Raise when the status is `at` or worse (`amber` or `red`).
    ThresholdBreach {
        /// The status that counts as a breach.
        at: Status,
    },
    /// Raise when the value was worse than the previous period's `periods` times in a row.
    ConsecutiveAdverse {
        /// N ≥ 1.
        periods: u32,
    },
    /// Raise when the cost-to-serve KPI is strictly above `limit` (in the KPI's unit).
    CostToServeOverLimit {
        /// The cost-to-serve KPI id.
        kpi: String,
        /// The limit.
        limit: Decimal,
    },
    /// Raise when the margin KPI is strictly below `floor`.
    MarginUnderFloor {
        /// The margin KPI id.
        kpi: String,
        /// The floor.
        floor: Decimal,
    },
}

impl BuiltInAlert {
    fn kind(&self) -> AlertKind {
        match self {
            BuiltInAlert::ThresholdBreach { .. } => AlertKind::ThresholdBreach,
            BuiltInAlert::ConsecutiveAdverse { .. } => AlertKind::ConsecutiveAdverse,
            BuiltInAlert::CostToServeOverLimit { .. } => AlertKind::CostToServeOverLimit,
            BuiltInAlert::MarginUnderFloor { .. } => AlertKind::MarginUnderFloor,
        }
    }
}

/// Which built-in alerts run, and how much history user rules see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertPolicy {
    /// Built-in conditions; at most one of each kind.
    pub alerts: Vec<BuiltInAlert>,
    /// Periods of history (including the current one) passed to user rules.
    pub rule_history: usize,
}

impl Default for AlertPolicy {
    /// Red breach; 3 adverse periods in a row; cost-to-serve above 95 %; margin below 5 %.
    fn default() -> Self {
        AlertPolicy {
            alerts: vec![
                BuiltInAlert::ThresholdBreach { at: Status::Red },
                BuiltInAlert::ConsecutiveAdverse { periods: 3 },
                BuiltInAlert::CostToServeOverLimit {
                    kpi: "cost_to_serve_pct".into(),
                    limit: Decimal::from(95),
                },
                BuiltInAlert::MarginUnderFloor {
                    kpi: "margin_pct".into(),
                    floor: Decimal::from(5),
                },
            ],
            rule_history: 12,
        }
    }
}

/// One alert: a problem at a node for a KPI, from the period it was raised to the period
/// it cleared.
///
/// The text fields are shared (`Arc<str>`): a register holds hundreds of thousands of
/// alerts over a few dozen periods and a KPI's nodes, so an alert costs no allocation
/// of its own. They serialize as plain strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Register-unique id, in raising order.
    pub id: u64,
    /// Account node.
    pub node: Arc<str>,
    /// KPI id.
    pub kpi: Arc<str>,
    /// Kind of problem.
    pub kind: AlertKind,
    /// Period in which it was raised.
    pub opened: Arc<str>,
    /// Last period in which the condition held.
    pub last_seen: Arc<str>,
    /// Number of periods in which the condition held.
    pub periods_active: u32,
    /// Period in which the condition cleared (`None` while open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Arc<str>>,
    /// The KPI value when raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Decimal>,
    /// The user rule's explanation (empty for built-in kinds: see [`Alert::describe`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl Alert {
    /// Whether the problem is still open.
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    /// A one-line explanation (built lazily so raising thousands of alerts stays cheap).
    pub fn describe(&self) -> String {
        let v = self
            .value
            .map_or_else(|| "n/a".to_owned(), |v| v.round_dp(4).normalize().to_string());
        let what = match &self.kind {
            AlertKind::ThresholdBreach => "breached its threshold",
            AlertKind::ConsecutiveAdverse => "worsened period after period",
            AlertKind::CostToServeOverLimit => "is over the cost-to-serve limit",
            AlertKind::MarginUnderFloor => "is under the margin floor",
            AlertKind::Rule(_) => "raised by rule",
        };
        let state = match &self.closed {
            Some(p) => format!("closed {p}"),
            None => "open".to_owned(),
        };
        let mut out = format!(
            "{} at {} {what} in {} (value {v}); {state}",
            self.kpi, self.node, self.opened
        );
        if !self.message.is_empty() {
            out.push_str(": ");
            out.push_str(&self.message);
        }
        out
    }
}

/// Every alert ever raised for an account, and the last period evaluated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRegister {
    alerts: Vec<Alert>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_period: Option<String>,
}

impl AlertRegister {
    /// All alerts, in raising order.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// The open alerts.
    pub fn open(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.is_open())
    }

    /// The alert with `id`.
    pub fn get(&self, id: u64) -> Option<&Alert> {
        self.alerts.iter().find(|a| a.id == id)
    }

    /// The last period evaluated into this register.
    pub fn last_period(&self) -> Option<&str> {
        self.last_period.as_deref()
    }
}

/// Statuses of every (KPI, period, node) up to the evaluated period, and the alert changes.
#[derive(Debug, Clone)]
pub struct Evaluation {
    layout: Arc<Layout>,
    periods: usize,
    statuses: Vec<Status>,
    raised: Vec<u64>,
    closed: Vec<u64>,
}

impl Evaluation {
    /// The status of a cell.
    ///
    /// # Errors
    /// Unknown ids, or a period after the evaluated one.
    pub fn status(&self, node: &str, kpi: &str, period: &str) -> Result<Status, MetricsError> {
        let l = &self.layout;
        let (k, p, n) = (l.kpi(kpi)?, l.period(period)?, l.node(node)?);
        if p >= self.periods {
            return Err(MetricsError::UnknownPeriod(period.to_owned()));
        }
        Ok(self
            .statuses
            .get((k * self.periods + p) * l.n() + n)
            .copied()
            .unwrap_or(Status::NoData))
    }

    /// How many cells have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.statuses.iter().filter(|s| **s == status).count()
    }

    /// Ids of alerts raised by this evaluation.
    pub fn raised(&self) -> &[u64] {
        &self.raised
    }

    /// Ids of alerts closed by this evaluation.
    pub fn closed(&self) -> &[u64] {
        &self.closed
    }
}

/// Where one KPI's cells come from: exact components (monomorphized into a tight loop)
/// or decimal values (derived KPIs).
trait Source {
    type C: Copy;
    fn cell(&self, p: usize, n: usize) -> Option<Self::C>;
    fn value(&self, p: usize, n: usize, c: Self::C) -> Result<Decimal, MetricsError>;
    /// The cell's value against `t`, exactly.
    fn cmp_to(&self, p: usize, n: usize, c: Self::C, t: &FixedThreshold) -> Result<Ordering, MetricsError>;
    /// Cell `(p, n)` against cell `(q, n)`.
    fn cmp_cells(
        &self,
        p: usize,
        n: usize,
        c: Self::C,
        q: usize,
        d: Self::C,
    ) -> Result<Ordering, MetricsError>;
    fn threshold(&self, scale: Decimal, t: Decimal) -> FixedThreshold;
}

struct FixedSource<'a> {
    view: KpiView<'a>,
    rolled: &'a RolledUp,
    k: usize,
}

impl Source for FixedSource<'_> {
    type C = (i128, i128);
    #[inline]
    fn cell(&self, p: usize, n: usize) -> Option<Self::C> {
        self.view.get(p, n)
    }
    fn value(&self, p: usize, n: usize, _: Self::C) -> Result<Decimal, MetricsError> {
        Ok(self.rolled.value_at(self.k, p, n)?.unwrap_or_default())
    }
    #[inline]
    fn cmp_to(&self, p: usize, n: usize, c: Self::C, t: &FixedThreshold) -> Result<Ordering, MetricsError> {
        match t.cmp(c.0, c.1) {
            Some(o) => Ok(o),
            None => Ok(self.value(p, n, c)?.cmp(&t.value)),
        }
    }
    #[inline]
    fn cmp_cells(
        &self,
        p: usize,
        n: usize,
        c: Self::C,
        q: usize,
        d: Self::C,
    ) -> Result<Ordering, MetricsError> {
        match cmp_cells(c, d) {
            Some(o) => Ok(o),
            None => Ok(self.value(p, n, c)?.cmp(&self.value(q, n, d)?)),
        }
    }
    fn threshold(&self, scale: Decimal, t: Decimal) -> FixedThreshold {
        FixedThreshold::new(self.view.num_scale, self.view.den_scale, scale, t)
    }
}

struct ValueSource {
    values: Vec<Option<Decimal>>,
    nn: usize,
}

impl Source for ValueSource {
    type C = Decimal;
    fn cell(&self, p: usize, n: usize) -> Option<Decimal> {
        self.values.get(p * self.nn + n).copied().flatten()
    }
    fn value(&self, _: usize, _: usize, c: Decimal) -> Result<Decimal, MetricsError> {
        Ok(c)
    }
    fn cmp_to(&self, _: usize, _: usize, c: Decimal, t: &FixedThreshold) -> Result<Ordering, MetricsError> {
        Ok(c.cmp(&t.value))
    }
    fn cmp_cells(
        &self,
        _: usize,
        _: usize,
        c: Decimal,
        _: usize,
        d: Decimal,
    ) -> Result<Ordering, MetricsError> {
        Ok(c.cmp(&d))
    }
    fn threshold(&self, _: Decimal, t: Decimal) -> FixedThreshold {
        FixedThreshold::new(0, 0, Decimal::ONE, t)
    }
}

fn better_or_equal(direction: Direction, o: Ordering) -> bool {
    match direction {
        Direction::HigherIsBetter => o != Ordering::Less,
        Direction::LowerIsBetter => o != Ordering::Greater,
    }
}

const NONE: u32 = u32::MAX;

/// One alert being worked on: an open register alert, or a new one. Kept small while the
/// cells are scanned; turned into an [`Alert`] at the end of the KPI's thread.
struct Work {
    /// The register alert it continues (index and clone), if any.
    existing: Option<(usize, Box<Alert>)>,
    /// (period raised, KPI, node, kind slot) — the order new alerts get their ids in.
    key: (usize, usize, usize, usize),
    /// Last period the condition held in this run (`None`: not seen in this run).
    last_seen: Option<usize>,
    closed: Option<usize>,
    /// Periods the condition held in this run.
    active: u32,
    value: Option<Decimal>,
    message: String,
}

/// One KPI's finished alerts: register alerts it continued (with their register index and
/// whether this run closed them), and new alerts in (period, node, kind) order with the
/// period each was raised in.
#[derive(Default)]
struct KpiAlerts {
    updated: Vec<(usize, Alert, bool)>,
    new: Vec<Alert>,
    new_periods: Vec<usize>,
}

/// What is shared by every KPI's evaluation.
struct Plan<'a> {
    rolled: &'a RolledUp,
    layout: &'a Layout,
    kinds: Vec<AlertKind>,
    breach: Option<(usize, Status)>,
    adverse: Option<(usize, u32)>,
    cts: Option<(usize, usize, Decimal)>,
    margin: Option<(usize, usize, Decimal)>,
    builtin: usize,
    rules: usize,
    /// Per rule: cells the rule saw, and the messages of those it raised.
    rule_seen: Vec<Vec<bool>>,
    rule_hits: Vec<HashMap<(usize, usize, usize), String>>,
    start: usize,
    np: usize,
}

/// Evaluates every cell of `rolled` up to `through`, and runs the built-in alerts and
/// `rules` on the periods after the register's last one, updating `register`.
///
/// KPIs are evaluated on parallel threads; new alerts get their ids in (period, KPI, node,
/// kind) order, so the register is the same whatever the thread count and whether the
/// periods are evaluated one at a time or together. The register is only changed if the
/// whole evaluation succeeds.
///
/// # Errors
/// Unknown period or KPI in the policy, an invalid policy, a period already evaluated, a
/// failing or misbehaving user rule, overflow.
pub fn evaluate(
    rolled: &RolledUp,
    policy: &AlertPolicy,
    rules: &[&dyn AlertRule],
    register: &mut AlertRegister,
    through: &str,
) -> Result<Evaluation, MetricsError> {
    let l = Arc::clone(&rolled.layout);
    let last = l.period(through)?;
    let start = match &register.last_period {
        None => 0,
        Some(p) => l.period(p)? + 1,
    };
    if start > last {
        return Err(MetricsError::AlreadyEvaluated {
            period: through.to_owned(),
            last: register.last_period.clone().unwrap_or_default(),
        });
    }
    let (nn, np) = (l.n(), last + 1);

    // Policy → kind slots: built-ins first, then user rules.
    let mut kinds: Vec<AlertKind> = Vec::new();
    let (mut breach, mut adverse, mut cts, mut margin) = (None, None, None, None);
    for a in &policy.alerts {
        let kind = a.kind();
        if kinds.contains(&kind) {
            return Err(MetricsError::InvalidPolicy(format!("{kind:?} appears twice")));
        }
        let slot = kinds.len();
        match a {
            BuiltInAlert::ThresholdBreach { at } => {
                if !matches!(at, Status::Amber | Status::Red) {
                    return Err(MetricsError::InvalidPolicy(format!(
                        "threshold breach at {at:?}: use amber or red"
                    )));
                }
                breach = Some((slot, *at));
            }
            BuiltInAlert::ConsecutiveAdverse { periods } => {
                if *periods == 0 {
                    return Err(MetricsError::InvalidPolicy(
                        "consecutive adverse periods must be ≥ 1".into(),
                    ));
                }
                adverse = Some((slot, *periods));
            }
            BuiltInAlert::CostToServeOverLimit { kpi, limit } => cts = Some((slot, l.kpi(kpi)?, *limit)),
            BuiltInAlert::MarginUnderFloor { kpi, floor } => margin = Some((slot, l.kpi(kpi)?, *floor)),
        }
        kinds.push(kind);
    }
    let builtin = kinds.len();
    for r in rules {
        let kind = AlertKind::Rule(r.name().to_owned());
        if kinds.contains(&kind) {
            return Err(MetricsError::InvalidPolicy(format!(
                "two alert rules named {:?}",
                r.name()
            )));
        }
        kinds.push(kind);
    }

    // User rule decisions, one batch per rule per period.
    let mut rule_hits: Vec<HashMap<(usize, usize, usize), String>> = vec![HashMap::new(); rules.len()];
    let mut rule_seen: Vec<Vec<bool>> = vec![Vec::new(); rules.len()];
    if !rules.is_empty() {
        for seen in &mut rule_seen {
            *seen = vec![false; l.kpis.len() * np * nn];
        }
        for p in start..np {
            let mut inputs = Vec::new();
            let mut cells = Vec::new();
            for (k, kpi) in l.kpis.iter().enumerate() {
                for n in 0..nn {
                    if rolled.value_at(k, p, n)?.is_none() {
                        continue;
                    }
                    let from = (p + 1).saturating_sub(policy.rule_history.max(1));
                    let mut history = Vec::new();
                    for q in from..=p {
                        if let Some(v) = rolled.value_at(k, q, n)? {
                            history.push(v);
                        }
                    }
                    inputs.push(AlertInput {
                        kpi: kpi.id.clone(),
                        node: l.nodes.get(n).cloned().unwrap_or_default(),
                        direction: kpi.direction,
                        target: kpi.thresholds.target,
                        history,
                    });
                    cells.push((k, n));
                }
            }
            for (ri, rule) in rules.iter().enumerate() {
                let decisions = rule.alert(&inputs)?;
                check_batch_len(rule.name(), RuleHost::Native, &decisions, inputs.len())?;
                for (&(k, n), d) in cells.iter().zip(decisions) {
                    if let Some(seen) = rule_seen
                        .get_mut(ri)
                        .and_then(|s| s.get_mut((k * np + p) * nn + n))
                    {
                        *seen = true;
                    }
                    if d.raise
                        && let Some(h) = rule_hits.get_mut(ri)
                    {
                        h.insert((k, p, n), d.message);
                    }
                }
            }
        }
    }

    // Open alerts already in the register, by KPI.
    let mut existing: Vec<Vec<Work>> = (0..l.kpis.len()).map(|_| Vec::new()).collect();
    for (ai, a) in register.alerts.iter().enumerate() {
        if !a.is_open() {
            continue;
        }
        let (Ok(k), Ok(n), Some(kind)) = (
            l.kpi(&a.kpi),
            l.node(&a.node),
            kinds.iter().position(|x| *x == a.kind),
        ) else {
            continue;
        };
        if let Some(list) = existing.get_mut(k) {
            list.push(Work {
                existing: Some((ai, Box::new(a.clone()))),
                key: (0, k, n, kind),
                last_seen: None,
                closed: None,
                active: 0,
                value: None,
                message: String::new(),
            });
        }
    }

    let plan = Plan {
        rolled,
        layout: &l,
        kinds,
        breach,
        adverse,
        cts,
        margin,
        builtin,
        rules: rules.len(),
        rule_seen,
        rule_hits,
        start,
        np,
    };
    let mut statuses = vec![Status::NoData; l.kpis.len() * np * nn];
    let block = (np * nn).max(1);
    let mut jobs: Vec<(usize, &mut [Status], Vec<Work>)> = statuses
        .chunks_mut(block)
        .zip(existing)
        .enumerate()
        .map(|(k, (s, w))| (k, s, w))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len())
        .max(1);
    let per = jobs.len().div_ceil(threads).max(1);
    let mut results: Vec<Result<KpiAlerts, MetricsError>> = Vec::new();
    std::thread::scope(|scope| {
        let plan = &plan;
        let handles: Vec<_> = jobs
            .chunks_mut(per)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter_mut()
                        .map(|(k, s, w)| evaluate_kpi(plan, *k, s, std::mem::take(w)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(r) => results.extend(r),
                Err(_) => results.push(Err(MetricsError::InvalidPolicy(
                    "an evaluation thread failed".into(),
                ))),
            }
        }
    });

    // Commit: update the open alerts, give new ones ids in (period, KPI, node, kind) order.
    // Each KPI's new alerts are already in (period, node, kind) order, so the register is
    // extended period by period with each KPI's run for that period, KPIs in library
    // order: every record moves once, and nothing is sorted.
    let mut per_kpi = Vec::with_capacity(results.len());
    let mut closed_ids = Vec::new();
    for r in results {
        let r = r?;
        for (origin, alert, newly_closed) in r.updated {
            if let Some(slot) = register.alerts.get_mut(origin) {
                if newly_closed {
                    closed_ids.push(alert.id);
                }
                *slot = alert;
            }
        }
        per_kpi.push((r.new_periods, r.new.into_iter()));
    }
    let mut next_id = register.alerts.iter().map(|a| a.id + 1).max().unwrap_or(1);
    let first_new = register.alerts.len();
    register
        .alerts
        .reserve(per_kpi.iter().map(|(periods, _)| periods.len()).sum());
    let mut cursor = vec![0usize; per_kpi.len()];
    for p in 0..np {
        for ((periods, alerts), at) in per_kpi.iter_mut().zip(&mut cursor) {
            let run = periods
                .get(*at..)
                .map_or(0, |rest| rest.iter().take_while(|q| **q == p).count());
            *at += run;
            register.alerts.extend(alerts.by_ref().take(run));
        }
    }
    let mut raised = Vec::with_capacity(register.alerts.len() - first_new);
    for a in register.alerts.iter_mut().skip(first_new) {
        a.id = next_id;
        next_id += 1;
        if a.closed.is_some() {
            closed_ids.push(a.id);
        }
        raised.push(a.id);
    }
    register.last_period = Some(through.to_owned());
    Ok(Evaluation {
        layout: l,
        periods: np,
        statuses,
        raised,
        closed: closed_ids,
    })
}

/// Statuses and alert changes of one KPI over all periods.
fn evaluate_kpi(
    plan: &Plan<'_>,
    k: usize,
    statuses: &mut [Status],
    work: Vec<Work>,
) -> Result<KpiAlerts, MetricsError> {
    let l = plan.layout;
    let Some(kpi) = l.kpis.get(k) else {
        return Ok(KpiAlerts::default());
    };
    let (np, nn) = (plan.np, l.n());
    let work = match plan.rolled.view(k) {
        Some(view) => scan(
            plan,
            k,
            kpi,
            &FixedSource {
                view,
                rolled: plan.rolled,
                k,
            },
            statuses,
            work,
        )?,
        None => {
            let mut values = Vec::with_capacity(np * nn);
            for p in 0..np {
                for n in 0..nn {
                    values.push(plan.rolled.value_at(k, p, n)?);
                }
            }
            scan(plan, k, kpi, &ValueSource { values, nn }, statuses, work)?
        }
    };
    finish(plan, kpi, work)
}

/// The cell scan of one KPI: statuses, adverse runs, alert conditions.
fn scan<S: Source>(
    plan: &Plan<'_>,
    k: usize,
    kpi: &Kpi,
    ctx: &S,
    statuses: &mut [Status],
    mut work: Vec<Work>,
) -> Result<Vec<Work>, MetricsError> {
    let l = plan.layout;
    let (np, nn, nk) = (plan.np, l.n(), plan.kinds.len());
    let scale = kpi.formula.scale();
    let target = ctx.threshold(scale, kpi.thresholds.target);
    let red = ctx.threshold(scale, kpi.thresholds.red);
    let cts_t = plan
        .cts
        .filter(|c| c.1 == k)
        .map(|(s, _, lim)| (s, ctx.threshold(scale, lim)));
    let margin_t = plan
        .margin
        .filter(|c| c.1 == k)
        .map(|(s, _, f)| (s, ctx.threshold(scale, f)));
    let mut open = vec![NONE; nn * nk];
    for (w, item) in work.iter().enumerate() {
        let (_, _, n, kind) = item.key;
        if let Some(s) = open.get_mut(n * nk + kind) {
            *s = u32::try_from(w).unwrap_or(NONE);
        }
    }
    let mut run = vec![0u32; nn];
    let dir = kpi.direction;
    let mut prev: Vec<Option<S::C>> = vec![None; nn];

    for p in 0..np {
        let alerting = p >= plan.start;
        for n in 0..nn {
            let cell = ctx.cell(p, n);
            let status = match cell {
                None => Status::NoData,
                Some(c) => {
                    if better_or_equal(dir, ctx.cmp_to(p, n, c, &target)?) {
                        Status::Green
                    } else {
                        let o = ctx.cmp_to(p, n, c, &red)?;
                        if o == Ordering::Equal || !better_or_equal(dir, o) {
                            Status::Red
                        } else {
                            Status::Amber
                        }
                    }
                }
            };
            if let Some(s) = statuses.get_mut(p * nn + n) {
                *s = status;
            }
            let before = prev.get_mut(n).and_then(|x| std::mem::replace(x, cell));
            if plan.adverse.is_some()
                && let Some(r) = run.get_mut(n)
            {
                let worse = match (cell, before) {
                    (Some(c), Some(b)) => {
                        let o = ctx.cmp_cells(p, n, c, p.saturating_sub(1), b)?;
                        o != Ordering::Equal && !better_or_equal(dir, o)
                    }
                    _ => false,
                };
                *r = if worse { r.saturating_add(1) } else { 0 };
            }
            if !alerting {
                continue;
            }
            let Some(c) = cell else {
                // No data neither raises nor closes built-in alerts.
                if plan.rules == 0 {
                    continue;
                }
                for ri in 0..plan.rules {
                    rule_cell(plan, ctx, &mut open, &mut work, (k, p, n), ri)?;
                }
                continue;
            };
            let mut conds: [(usize, bool); 4] = [(usize::MAX, false); 4];
            if let Some((slot, at)) = plan.breach {
                conds[0] = (slot, status >= at);
            }
            if let Some((slot, need)) = plan.adverse {
                conds[1] = (slot, run.get(n).is_some_and(|r| *r >= need));
            }
            if let Some((slot, t)) = &cts_t {
                conds[2] = (*slot, ctx.cmp_to(p, n, c, t)? == Ordering::Greater);
            }
            if let Some((slot, t)) = &margin_t {
                conds[3] = (*slot, ctx.cmp_to(p, n, c, t)? == Ordering::Less);
            }
            for &(slot, cond) in &conds {
                if slot == usize::MAX {
                    continue;
                }
                step(plan, ctx, &mut open, &mut work, (k, p, n, slot), cond, None)?;
            }
            for ri in 0..plan.rules {
                rule_cell(plan, ctx, &mut open, &mut work, (k, p, n), ri)?;
            }
        }
    }
    Ok(work)
}

/// Turns one KPI's work items into alert records (on the KPI's thread).
fn finish(plan: &Plan<'_>, kpi: &Kpi, work: Vec<Work>) -> Result<KpiAlerts, MetricsError> {
    let l = plan.layout;
    // Text shared by this KPI's alerts, made on this thread: one allocation per period and
    // per node with alerts, not several per alert.
    let periods: Vec<Arc<str>> = l.periods.iter().map(|p| Arc::from(p.as_str())).collect();
    let period = |p: usize| periods.get(p).cloned().unwrap_or_else(|| Arc::from(""));
    // Indexed by node (a vector, not a map: one lookup per new alert, 200k on a large
    // account, and hashing them showed in profiles).
    let mut nodes: Vec<Option<Arc<str>>> = vec![None; l.n()];
    let kpi_id: Arc<str> = Arc::from(kpi.id.as_str());
    let mut out = KpiAlerts::default();
    let fresh = work.iter().filter(|w| w.existing.is_none()).count();
    out.new.reserve_exact(fresh);
    out.new_periods.reserve_exact(fresh);
    for w in work {
        match w.existing {
            Some((origin, boxed)) => {
                let mut a = *boxed;
                if let Some(p) = w.last_seen {
                    a.last_seen = period(p);
                }
                a.periods_active = a.periods_active.saturating_add(w.active);
                if let Some(p) = w.closed {
                    a.closed = Some(period(p));
                }
                out.updated.push((origin, a, w.closed.is_some()));
            }
            None => {
                let (p, _, n, slot) = w.key;
                let name = || Arc::from(l.nodes.get(n).map_or("", String::as_str));
                let node = match nodes.get_mut(n) {
                    Some(slot) => slot.get_or_insert_with(name).clone(),
                    None => name(),
                };
                out.new_periods.push(p);
                out.new.push(Alert {
                    id: 0,
                    node,
                    kpi: Arc::clone(&kpi_id),
                    kind: plan
                        .kinds
                        .get(slot)
                        .cloned()
                        .unwrap_or(AlertKind::ThresholdBreach),
                    opened: period(p),
                    last_seen: period(w.last_seen.unwrap_or(p)),
                    periods_active: w.active,
                    closed: w.closed.map(period),
                    value: w.value,
                    message: w.message,
                });
            }
        }
    }
    Ok(out)
}

fn rule_cell<S: Source>(
    plan: &Plan<'_>,
    ctx: &S,
    open: &mut [u32],
    work: &mut Vec<Work>,
    (k, p, n): (usize, usize, usize),
    ri: usize,
) -> Result<(), MetricsError> {
    let nn = plan.layout.n();
    let seen = plan
        .rule_seen
        .get(ri)
        .and_then(|s| s.get((k * plan.np + p) * nn + n))
        .copied()
        .unwrap_or(false);
    if !seen {
        return Ok(());
    }
    let msg = plan.rule_hits.get(ri).and_then(|h| h.get(&(k, p, n))).cloned();
    let cond = msg.is_some();
    step(plan, ctx, open, work, (k, p, n, plan.builtin + ri), cond, msg)
}

/// Applies one condition to one (node, KPI, kind): raise, keep, close or nothing.
/// Inlined: it runs for every cell and kind, and nearly always does nothing.
#[inline(always)]
fn step<S: Source>(
    plan: &Plan<'_>,
    ctx: &S,
    open: &mut [u32],
    work: &mut Vec<Work>,
    (k, p, n, slot): (usize, usize, usize, usize),
    cond: bool,
    message: Option<String>,
) -> Result<(), MetricsError> {
    let nk = plan.kinds.len();
    let Some(o) = open.get_mut(n * nk + slot) else {
        return Ok(());
    };
    match (cond, *o) {
        (true, NONE) => {
            let value = match ctx.cell(p, n) {
                Some(c) => Some(ctx.value(p, n, c)?),
                None => None,
            };
            *o = u32::try_from(work.len()).map_err(|_| MetricsError::OutOfRange {
                what: "alert count".into(),
            })?;
            work.push(Work {
                existing: None,
                key: (p, k, n, slot),
                last_seen: Some(p),
                closed: None,
                active: 1,
                value,
                message: message.unwrap_or_default(),
            });
        }
        (true, w) => {
            if let Some(w) = work.get_mut(w as usize) {
                w.last_seen = Some(p);
                w.active = w.active.saturating_add(1);
            }
        }
        (false, NONE) => {}
        (false, w) => {
            if let Some(w) = work.get_mut(w as usize) {
                w.closed = Some(p);
            }
            *o = NONE;
        }
    }
    Ok(())
}
