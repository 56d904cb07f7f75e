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
//! assert_eq!(register.alerts().len(), 1);
//! assert_eq!(register.alerts()[0].closed.as_deref(), Some("m3"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::MetricsError;
use super::kpi::{Kpi, Status};
use super::table::{FixedKpi, FixedThreshold, Layout, RolledUp};
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Register-unique id, in raising order.
    pub id: u64,
    /// Account node.
    pub node: String,
    /// KPI id.
    pub kpi: String,
    /// Kind of problem.
    pub kind: AlertKind,
    /// Period in which it was raised.
    pub opened: String,
    /// Last period in which the condition held.
    pub last_seen: String,
    /// Number of periods in which the condition held.
    pub periods_active: u32,
    /// Period in which the condition cleared (`None` while open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<String>,
    /// The KPI value when raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Decimal>,
    /// Explanation.
    pub message: String,
}

impl Alert {
    /// Whether the problem is still open.
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
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

/// Cells of one KPI, compared exactly.
enum Cells<'a> {
    Fixed(&'a FixedKpi),
    Values(Vec<Option<Decimal>>),
}

struct Ctx<'a> {
    rolled: &'a RolledUp,
    k: usize,
    nn: usize,
    cells: Cells<'a>,
}

impl Ctx<'_> {
    fn has_value(&self, i: usize) -> bool {
        match &self.cells {
            Cells::Fixed(fk) => fk.has_value(i),
            Cells::Values(v) => matches!(v.get(i), Some(Some(_))),
        }
    }

    fn value(&self, i: usize) -> Result<Option<Decimal>, MetricsError> {
        match &self.cells {
            Cells::Fixed(_) => self.rolled.value_at(self.k, i / self.nn, i % self.nn),
            Cells::Values(v) => Ok(v.get(i).copied().flatten()),
        }
    }

    /// Value of cell `i` against `t`; `None` without a value.
    fn cmp_to(&self, i: usize, t: &FixedThreshold) -> Result<Option<Ordering>, MetricsError> {
        if let Cells::Fixed(fk) = &self.cells {
            if !fk.has_value(i) {
                return Ok(None);
            }
            if let Some(o) = fk.cmp_threshold(i, t) {
                return Ok(Some(o));
            }
        }
        Ok(self.value(i)?.map(|v| v.cmp(&t.value)))
    }

    fn cmp_cells(&self, i: usize, j: usize) -> Result<Option<Ordering>, MetricsError> {
        if let Cells::Fixed(fk) = &self.cells {
            if !(fk.has_value(i) && fk.has_value(j)) {
                return Ok(None);
            }
            if let Some(o) = fk.cmp_cells(i, j) {
                return Ok(Some(o));
            }
        }
        Ok(match (self.value(i)?, self.value(j)?) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => None,
        })
    }

    fn threshold(&self, scale: Decimal, t: Decimal) -> FixedThreshold {
        match &self.cells {
            Cells::Fixed(fk) => fk.threshold(scale, t),
            Cells::Values(_) => FixedKpi::default().threshold(Decimal::ONE, t),
        }
    }
}

fn better_or_equal(direction: Direction, o: Ordering) -> bool {
    match direction {
        Direction::HigherIsBetter => o != Ordering::Less,
        Direction::LowerIsBetter => o != Ordering::Greater,
    }
}

const NONE: u32 = u32::MAX;

/// One alert being worked on: a clone of an open register alert, or a new one.
struct Work {
    alert: Alert,
    origin: Option<usize>,
    /// Last period the condition held in this run (`None`: not seen in this run).
    last_seen: Option<usize>,
    closed: Option<usize>,
}

/// Evaluates every cell of `rolled` up to `through`, and runs the built-in alerts and
/// `rules` on the periods after the register's last one, updating `register`.
///
/// The register is only changed if the whole evaluation succeeds.
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
    let nk = kinds.len();

    // User rule decisions, one batch per rule per period.
    let mut rule_hits: Vec<HashMap<(usize, usize), String>> = vec![HashMap::new(); rules.len()];
    let mut rule_seen: Vec<Vec<bool>> = Vec::new();
    if !rules.is_empty() {
        rule_seen = vec![vec![false; l.kpis.len() * np * nn]; rules.len()];
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
                        h.insert((k * np + p, n), d.message);
                    }
                }
            }
        }
    }

    // Open alerts already in the register, by KPI.
    let mut work: Vec<Work> = Vec::new();
    let mut open_by_kpi: HashMap<usize, Vec<(usize, usize, usize)>> = HashMap::new();
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
        open_by_kpi.entry(k).or_default().push((n, kind, work.len()));
        work.push(Work {
            alert: a.clone(),
            origin: Some(ai),
            last_seen: None,
            closed: None,
        });
    }
    let mut next_id = register.alerts.iter().map(|a| a.id + 1).max().unwrap_or(1);
    let mut raised = Vec::new();
    let mut closed_ids = Vec::new();
    let mut statuses = vec![Status::NoData; l.kpis.len() * np * nn];

    for (k, kpi) in l.kpis.iter().enumerate() {
        let cells = match rolled.kpis.get(k) {
            Some(fk) if !fk.present.is_empty() => Cells::Fixed(fk),
            _ => {
                let mut v = Vec::with_capacity(np * nn);
                for p in 0..np {
                    for n in 0..nn {
                        v.push(rolled.value_at(k, p, n)?);
                    }
                }
                Cells::Values(v)
            }
        };
        let ctx = Ctx { rolled, k, nn, cells };
        let scale = kpi.formula.scale();
        let target = ctx.threshold(scale, kpi.thresholds.target);
        let red = ctx.threshold(scale, kpi.thresholds.red);
        let cts_t = cts
            .filter(|c| c.1 == k)
            .map(|(s, _, lim)| (s, ctx.threshold(scale, lim)));
        let margin_t = margin
            .filter(|c| c.1 == k)
            .map(|(s, _, f)| (s, ctx.threshold(scale, f)));
        let mut open = vec![NONE; nn * nk];
        for &(n, kind, w) in open_by_kpi.get(&k).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(s) = open.get_mut(n * nk + kind) {
                *s = u32::try_from(w).unwrap_or(NONE);
            }
        }
        let mut run = vec![0u32; nn];
        let dir = kpi.direction;
        let status_block =
            statuses
                .get_mut(k * np * nn..(k + 1) * np * nn)
                .ok_or_else(|| MetricsError::OutOfRange {
                    what: "statuses".into(),
                })?;

        for p in 0..np {
            let alerting = p >= start;
            for n in 0..nn {
                let i = p * nn + n;
                let status = match ctx.cmp_to(i, &target)? {
                    None => Status::NoData,
                    Some(o) if better_or_equal(dir, o) => Status::Green,
                    Some(_) => match ctx.cmp_to(i, &red)? {
                        Some(o) if o == Ordering::Equal || !better_or_equal(dir, o) => Status::Red,
                        _ => Status::Amber,
                    },
                };
                if let Some(s) = status_block.get_mut(i) {
                    *s = status;
                }
                if adverse.is_some()
                    && let Some(r) = run.get_mut(n)
                {
                    let worse = if p > 0 {
                        ctx.cmp_cells(i, i - nn)?
                            .is_some_and(|o| o != Ordering::Equal && !better_or_equal(dir, o))
                    } else {
                        false
                    };
                    *r = if worse { r.saturating_add(1) } else { 0 };
                }
                if !alerting {
                    continue;
                }
                let has = status != Status::NoData;
                // (slot, condition) for every kind that applies to this cell.
                let mut conds: [(usize, Option<bool>); 4] = [(usize::MAX, None); 4];
                if let Some((slot, at)) = breach {
                    conds[0] = (slot, has.then_some(status >= at));
                }
                if let Some((slot, need)) = adverse {
                    conds[1] = (slot, has.then(|| run.get(n).is_some_and(|r| *r >= need)));
                }
                if let Some((slot, t)) = &cts_t {
                    conds[2] = (*slot, ctx.cmp_to(i, t)?.map(|o| o == Ordering::Greater));
                }
                if let Some((slot, t)) = &margin_t {
                    conds[3] = (*slot, ctx.cmp_to(i, t)?.map(|o| o == Ordering::Less));
                }
                for &(slot, cond) in &conds {
                    if slot == usize::MAX {
                        continue;
                    }
                    apply(
                        &mut Apply {
                            l: &l,
                            kpi,
                            kind: kinds.get(slot),
                            open: &mut open,
                            work: &mut work,
                            next_id: &mut next_id,
                            raised: &mut raised,
                            closed: &mut closed_ids,
                            ctx: &ctx,
                        },
                        (n, p, i, slot, nk),
                        cond,
                        None,
                    )?;
                }
                for ri in 0..rules.len() {
                    let seen = rule_seen
                        .get(ri)
                        .and_then(|s| s.get((k * np + p) * nn + n))
                        .copied()
                        .unwrap_or(false);
                    if !seen {
                        continue;
                    }
                    let msg = rule_hits.get_mut(ri).and_then(|h| h.remove(&(k * np + p, n)));
                    let slot = builtin + ri;
                    let cond = Some(msg.is_some());
                    apply(
                        &mut Apply {
                            l: &l,
                            kpi,
                            kind: kinds.get(slot),
                            open: &mut open,
                            work: &mut work,
                            next_id: &mut next_id,
                            raised: &mut raised,
                            closed: &mut closed_ids,
                            ctx: &ctx,
                        },
                        (n, p, i, slot, nk),
                        cond,
                        msg,
                    )?;
                }
            }
        }
    }

    // Commit: write back updated alerts, append new ones.
    for w in work {
        let mut a = w.alert;
        if let Some(p) = w.last_seen.and_then(|p| l.periods.get(p)) {
            a.last_seen = p.clone();
        }
        if let Some(p) = w.closed.and_then(|p| l.periods.get(p)) {
            a.closed = Some(p.clone());
        }
        match w.origin.and_then(|o| register.alerts.get_mut(o)) {
            Some(slot) => *slot = a,
            None => register.alerts.push(a),
        }
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

struct Apply<'a, 'c> {
    l: &'a Layout,
    kpi: &'a Kpi,
    kind: Option<&'a AlertKind>,
    open: &'a mut Vec<u32>,
    work: &'a mut Vec<Work>,
    next_id: &'a mut u64,
    raised: &'a mut Vec<u64>,
    closed: &'a mut Vec<u64>,
    ctx: &'a Ctx<'c>,
}

fn apply(
    a: &mut Apply<'_, '_>,
    (n, p, i, slot, nk): (usize, usize, usize, usize, usize),
    cond: Option<bool>,
    message: Option<String>,
) -> Result<(), MetricsError> {
    let Some(cond) = cond else { return Ok(()) };
    let Some(open) = a.open.get_mut(n * nk + slot) else {
        return Ok(());
    };
    match (cond, *open) {
        (true, NONE) => {
            let kind = a.kind.cloned().unwrap_or(AlertKind::ThresholdBreach);
            let value = if a.ctx.has_value(i) { a.ctx.value(i)? } else { None };
            let node = a.l.nodes.get(n).cloned().unwrap_or_default();
            let period = a.l.periods.get(p).cloned().unwrap_or_default();
            let t = &a.kpi.thresholds;
            let message = message.unwrap_or_else(|| {
                let v = value.map_or_else(|| "n/a".to_owned(), |v| v.round_dp(4).normalize().to_string());
                match &kind {
                    AlertKind::ThresholdBreach => format!(
                        "{} at {node} is {v} in {period} (target {}, red at {})",
                        a.kpi.name, t.target, t.red
                    ),
                    AlertKind::ConsecutiveAdverse => {
                        format!(
                            "{} at {node} has worsened period after period, now {v} in {period}",
                            a.kpi.name
                        )
                    }
                    AlertKind::CostToServeOverLimit => {
                        format!("{} at {node} is {v} in {period}, over the limit", a.kpi.name)
                    }
                    AlertKind::MarginUnderFloor => {
                        format!("{} at {node} is {v} in {period}, under the floor", a.kpi.name)
                    }
                    AlertKind::Rule(r) => format!("rule {r} raised for {} at {node} in {period}", a.kpi.name),
                }
            });
            let id = *a.next_id;
            *a.next_id += 1;
            *open = u32::try_from(a.work.len()).map_err(|_| MetricsError::OutOfRange {
                what: "alert count".into(),
            })?;
            a.work.push(Work {
                alert: Alert {
                    id,
                    node,
                    kpi: a.kpi.id.clone(),
                    kind,
                    opened: period.clone(),
                    last_seen: period,
                    periods_active: 1,
                    closed: None,
                    value,
                    message,
                },
                origin: None,
                last_seen: Some(p),
                closed: None,
            });
            a.raised.push(id);
        }
        (true, w) => {
            if let Some(w) = a.work.get_mut(w as usize) {
                w.last_seen = Some(p);
                w.alert.periods_active = w.alert.periods_active.saturating_add(1);
            }
        }
        (false, NONE) => {}
        (false, w) => {
            if let Some(w) = a.work.get_mut(w as usize) {
                w.closed = Some(p);
                a.closed.push(w.alert.id);
            }
            *open = NONE;
        }
    }
    Ok(())
}
