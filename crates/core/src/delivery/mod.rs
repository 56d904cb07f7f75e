//! Solution delivery: implementation projects as PERT/CPM networks.
//!
//! A [`Project`] is plain data — serde records with string ids, the form a
//! `delivery.toml` takes: [`Task`]s with three-point durations (optimistic, most likely,
//! pessimistic, in any one unit), the tasks each waits for (`after`), an optional owner
//! and a milestone flag. [`Project::network`] validates it once and builds a
//! [`Network`] (petgraph for the dependency DAG; a cycle is an error naming its tasks),
//! on which the analyses run:
//!
//! - the forward and backward pass on the PERT means `(o + 4m + p)/6`
//!   ([`Network::schedule`]: earliest/latest start and finish, slack);
//! - [`Network::critical_path`], [`Network::expected_duration`] (its PERT mean),
//!   [`Network::variance`] and [`Network::std_dev`] (Σ `((p − o)/6)²` over its tasks);
//! - [`Network::prob_within`] — the normal approximation Φ((x − mean)/sd);
//! - [`Network::due_date`] — mean + z(q)·sd, the duration for a confidence q.
//!
//! ## Exactness and conventions
//!
//! - Times are kept in sixths: the passes add `o + 4m + p` and variances are kept as
//!   `(p − o)²` (in 36ths), so means, slacks and variances are exact and two paths of
//!   equal mean tie exactly; a result is divided by 6 (or 36) once, at the end, to
//!   `Decimal`'s 28 digits. Overflow is an error, never a panic.
//! - The standard deviation is a `Decimal` square root; Φ and z(q) are computed in
//!   `Decimal` ([`normal`]) and rounded to 20 places.
//! - **Critical path tie rule.** Critical tasks have zero slack; when several chains of
//!   them run from a start task to an end task, the one with the **largest variance**
//!   is *the* critical path (the textbook convention: it gives the most cautious
//!   probability), and among equal variances the one that comes first in task order
//!   (compared task by task from the start). [`Network::std_dev`],
//!   [`Network::prob_within`] and [`Network::due_date`] use that path.
//! - **Zero spread.** With sd = 0, P(finish by x) is 1 for x ≥ mean (finishing within
//!   the mean is certain) and 0 below; the due date is the mean for every q in [0, 1].
//!   With sd > 0, q must be in (0, 1).
//! - **Empty project.** No tasks: an empty critical path, duration 0, sd 0.
//!
//! It is **not** a scheduler: no calendars, resources or dates (durations are plain
//! numbers in the project's unit), and no randomness — the Monte Carlo of the finish
//! is kam-sim's `delivery` module.
//!
//! ```
//! use kam_core::delivery::{Project, Task};
//! use rust_decimal::Decimal;
//!
//! let d = Decimal::from;
//! let mut project = Project::new("wms-rollout");
//! project.tasks.push(Task::new("design", d(2), d(3), d(6)));
//! project.tasks.push(Task::new("build", d(4), d(6), d(12)).after(["design"]));
//! let net = project.network()?;
//! assert_eq!(net.critical_path(), vec!["design", "build"]);
//! // (2 + 12 + 6)/6 + (4 + 24 + 12)/6 = 60/6
//! assert_eq!(net.expected_duration(), Decimal::from(10));
//! // ((6 − 2)/6)² + ((12 − 4)/6)² = 80/36
//! assert_eq!(net.variance().round_dp(6), Decimal::new(2_222_222, 6));
//! assert_eq!(net.prob_within(d(10))?, Decimal::new(5, 1));
//! # Ok::<(), kam_core::delivery::DeliveryError>(())
//! ```

pub mod normal;

use std::collections::HashMap;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::num::{self, ArithmeticError};

/// One task of a project: a three-point duration estimate and the tasks it waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// Unique within the project (non-empty).
    pub id: String,
    /// Shortest credible duration (≥ 0).
    pub optimistic: Decimal,
    /// Most likely duration (≥ optimistic).
    pub most_likely: Decimal,
    /// Longest credible duration (≥ most likely).
    pub pessimistic: Decimal,
    /// Ids of the tasks that must finish before this one starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// Who delivers it (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// A checkpoint rather than work: its three durations must be 0.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub milestone: bool,
}

impl Task {
    /// A task with the three durations, no dependencies, no owner.
    pub fn new(id: &str, optimistic: Decimal, most_likely: Decimal, pessimistic: Decimal) -> Self {
        Task {
            id: id.to_owned(),
            optimistic,
            most_likely,
            pessimistic,
            after: Vec::new(),
            owner: None,
            milestone: false,
        }
    }

    /// A milestone (all durations 0).
    pub fn milestone(id: &str) -> Self {
        Task {
            milestone: true,
            ..Task::new(id, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO)
        }
    }

    /// With these predecessors (appended).
    pub fn after<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.after.extend(ids.into_iter().map(Into::into));
        self
    }

    /// With an owner.
    pub fn owner(mut self, owner: &str) -> Self {
        self.owner = Some(owner.to_owned());
        self
    }

    /// Checks the task on its own: a non-empty id (`index` is its position, for the
    /// error), durations ≥ 0 and `optimistic ≤ most_likely ≤ pessimistic`, a milestone
    /// taking no time, no predecessor named twice.
    ///
    /// # Errors
    /// The first problem found, naming the task.
    pub fn validate(&self, index: usize) -> Result<(), DeliveryError> {
        if self.id.is_empty() {
            return Err(DeliveryError::EmptyId { index });
        }
        for (field, value) in [
            ("optimistic", self.optimistic),
            ("most_likely", self.most_likely),
            ("pessimistic", self.pessimistic),
        ] {
            if value.is_sign_negative() && !value.is_zero() {
                return Err(DeliveryError::NegativeDuration {
                    task: self.id.clone(),
                    field,
                    value,
                });
            }
        }
        if self.optimistic > self.most_likely || self.most_likely > self.pessimistic {
            return Err(DeliveryError::DurationOrder {
                task: self.id.clone(),
                optimistic: self.optimistic,
                most_likely: self.most_likely,
                pessimistic: self.pessimistic,
            });
        }
        if self.milestone && !self.pessimistic.is_zero() {
            return Err(DeliveryError::Milestone {
                task: self.id.clone(),
                pessimistic: self.pessimistic,
            });
        }
        for (i, a) in self.after.iter().enumerate() {
            if self.after.get(..i).is_some_and(|before| before.contains(a)) {
                return Err(DeliveryError::DuplicateDependency {
                    task: self.id.clone(),
                    after: a.clone(),
                });
            }
        }
        Ok(())
    }

    /// Six times the PERT mean: `o + 4m + p`.
    fn mean6(&self) -> Result<Decimal, ArithmeticError> {
        let what = "PERT mean (o + 4m + p)";
        let m4 = num::mul(self.most_likely, Decimal::from(4), what)?;
        num::add(num::add(self.optimistic, m4, what)?, self.pessimistic, what)
    }

    /// 36 times the PERT variance: `(p − o)²`.
    fn var36(&self) -> Result<Decimal, ArithmeticError> {
        let what = "PERT variance ((p − o)/6)²";
        let r = num::sub(self.pessimistic, self.optimistic, what)?;
        num::mul(r, r, what)
    }

    /// The PERT mean `(o + 4m + p)/6`.
    ///
    /// # Errors
    /// Overflow.
    pub fn pert_mean(&self) -> Result<Decimal, DeliveryError> {
        Ok(num::div(self.mean6()?, SIX, "PERT mean")?)
    }

    /// The PERT variance `((p − o)/6)²`.
    ///
    /// # Errors
    /// Overflow.
    pub fn pert_variance(&self) -> Result<Decimal, DeliveryError> {
        Ok(num::div(self.var36()?, THIRTY_SIX, "PERT variance")?)
    }
}

/// An implementation project: an id and its tasks, in the order they were listed (the
/// order ties are broken in).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The project's id.
    pub id: String,
    /// The tasks.
    #[serde(default)]
    pub tasks: Vec<Task>,
}

impl Project {
    /// An empty project.
    pub fn new(id: &str) -> Self {
        Project {
            id: id.to_owned(),
            tasks: Vec::new(),
        }
    }

    /// Validates the project and runs the forward and backward passes.
    ///
    /// # Errors
    /// Any task's own problem ([`Task::validate`]), a duplicate id, an `after` naming an
    /// unknown task, a cycle (naming its tasks), or overflow.
    pub fn network(&self) -> Result<Network, DeliveryError> {
        Network::build(self)
    }
}

/// Why a project or an analysis was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// A task without an id.
    #[error("task {index}: the id is empty")]
    EmptyId {
        /// Position of the task in the project.
        index: usize,
    },
    /// Two tasks with one id.
    #[error("task {id:?}: the id is used by more than one task")]
    DuplicateTask {
        /// The id.
        id: String,
    },
    /// A duration below zero.
    #[error("task {task:?}: {field} must not be negative, got {value}")]
    NegativeDuration {
        /// The task.
        task: String,
        /// `optimistic`, `most_likely` or `pessimistic`.
        field: &'static str,
        /// The value.
        value: Decimal,
    },
    /// Durations out of order.
    #[error(
        "task {task:?}: need optimistic ≤ most_likely ≤ pessimistic, got {optimistic}, {most_likely}, {pessimistic}"
    )]
    DurationOrder {
        /// The task.
        task: String,
        /// Optimistic duration.
        optimistic: Decimal,
        /// Most likely duration.
        most_likely: Decimal,
        /// Pessimistic duration.
        pessimistic: Decimal,
    },
    /// A milestone that takes time.
    #[error("task {task:?}: a milestone takes no time, but its pessimistic duration is {pessimistic}")]
    Milestone {
        /// The task.
        task: String,
        /// Its pessimistic duration (> 0).
        pessimistic: Decimal,
    },
    /// `after` names a task that does not exist.
    #[error("task {task:?}: after names unknown task {after:?}")]
    UnknownDependency {
        /// The waiting task.
        task: String,
        /// The unknown id.
        after: String,
    },
    /// `after` names a task twice.
    #[error("task {task:?}: after names {after:?} more than once")]
    DuplicateDependency {
        /// The waiting task.
        task: String,
        /// The repeated id.
        after: String,
    },
    /// Tasks that wait for each other.
    #[error("{}", cycle_message(tasks))]
    Cycle {
        /// The tasks of one cycle (a strongly connected set), in project order.
        tasks: Vec<String>,
    },
    /// An analysis asked about a task the project does not have.
    #[error("no task {id:?} in the project")]
    UnknownTask {
        /// The id asked for.
        id: String,
    },
    /// An argument outside its range (a confidence q outside (0, 1)).
    #[error("{what} must be in {range}, got {value}")]
    OutOfRange {
        /// The argument.
        what: &'static str,
        /// The value.
        value: Decimal,
        /// The allowed range.
        range: &'static str,
    },
    /// Overflow.
    #[error(transparent)]
    Arithmetic(#[from] ArithmeticError),
}

fn cycle_message(tasks: &[String]) -> String {
    let names: Vec<String> = tasks.iter().map(|t| format!("{t:?}")).collect();
    match names.as_slice() {
        [one] => format!("task {one}: waits for itself (after names its own id)"),
        _ => format!("tasks {} wait for each other in a cycle", names.join(", ")),
    }
}

const SIX: Decimal = Decimal::from_parts(6, 0, 0, false, 0);
const THIRTY_SIX: Decimal = Decimal::from_parts(36, 0, 0, false, 0);

/// One task's place in the schedule, from the PERT means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledTask {
    /// The task.
    pub id: String,
    /// PERT mean duration.
    pub mean: Decimal,
    /// PERT variance.
    pub variance: Decimal,
    /// Earliest start (the latest earliest finish of its predecessors, 0 without any).
    pub earliest_start: Decimal,
    /// Earliest start + mean.
    pub earliest_finish: Decimal,
    /// Latest start that keeps the expected project duration.
    pub latest_start: Decimal,
    /// Latest start + mean.
    pub latest_finish: Decimal,
    /// Latest start − earliest start (≥ 0).
    pub slack: Decimal,
    /// Zero slack (it may still be off the chosen critical path when paths tie).
    pub critical: bool,
}

/// A validated project with its forward/backward pass done; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Network {
    id: String,
    tasks: Vec<Task>,
    index: HashMap<String, usize>,
    order: Vec<usize>,
    preds: Vec<Vec<usize>>,
    succs: Vec<Vec<usize>>,
    mean6: Vec<Decimal>,
    var36: Vec<Decimal>,
    es6: Vec<Decimal>,
    lf6: Vec<Decimal>,
    duration6: Decimal,
    critical: Vec<usize>,
    critical_var36: Decimal,
    duration: Decimal,
    variance: Decimal,
    std_dev: Decimal,
}

impl Network {
    fn build(project: &Project) -> Result<Self, DeliveryError> {
        let n = project.tasks.len();
        let mut index = HashMap::with_capacity(n);
        for (i, t) in project.tasks.iter().enumerate() {
            t.validate(i)?;
            if index.insert(t.id.clone(), i).is_some() {
                return Err(DeliveryError::DuplicateTask { id: t.id.clone() });
            }
        }
        let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(n, 0);
        for _ in 0..n {
            graph.add_node(());
        }
        let mut preds = vec![Vec::new(); n];
        let mut succs = vec![Vec::new(); n];
        for (i, t) in project.tasks.iter().enumerate() {
            for a in &t.after {
                let &j = index.get(a).ok_or_else(|| DeliveryError::UnknownDependency {
                    task: t.id.clone(),
                    after: a.clone(),
                })?;
                graph.add_edge(NodeIndex::new(j), NodeIndex::new(i), ());
                if let Some(p) = preds.get_mut(i) {
                    p.push(j);
                }
                if let Some(s) = succs.get_mut(j) {
                    s.push(i);
                }
            }
        }
        let order: Vec<usize> = match toposort(&graph, None) {
            Ok(order) => order.into_iter().map(NodeIndex::index).collect(),
            Err(cycle) => {
                let at = cycle.node_id();
                let mut members = tarjan_scc(&graph)
                    .into_iter()
                    .find(|c| c.contains(&at))
                    .unwrap_or_else(|| vec![at]);
                members.sort_unstable();
                let tasks = members
                    .into_iter()
                    .filter_map(|m| project.tasks.get(m.index()).map(|t| t.id.clone()))
                    .collect();
                return Err(DeliveryError::Cycle { tasks });
            }
        };

        let mean6 = project
            .tasks
            .iter()
            .map(Task::mean6)
            .collect::<Result<Vec<_>, _>>()?;
        let var36 = project
            .tasks
            .iter()
            .map(Task::var36)
            .collect::<Result<Vec<_>, _>>()?;
        let at = |v: &[Decimal], i: usize| v.get(i).copied().unwrap_or_default();

        // Forward pass: earliest starts (sixths).
        let mut es6 = vec![Decimal::ZERO; n];
        let mut duration6 = Decimal::ZERO;
        for &i in &order {
            let mut start = Decimal::ZERO;
            for &p in preds.get(i).map(Vec::as_slice).unwrap_or(&[]) {
                start = start.max(num::add(at(&es6, p), at(&mean6, p), "earliest finish")?);
            }
            if let Some(e) = es6.get_mut(i) {
                *e = start;
            }
            duration6 = duration6.max(num::add(start, at(&mean6, i), "earliest finish")?);
        }
        // Backward pass: latest finishes.
        let mut lf6 = vec![duration6; n];
        for &i in order.iter().rev() {
            let mut finish = duration6;
            for &s in succs.get(i).map(Vec::as_slice).unwrap_or(&[]) {
                finish = finish.min(num::sub(at(&lf6, s), at(&mean6, s), "latest start")?);
            }
            if let Some(l) = lf6.get_mut(i) {
                *l = finish;
            }
        }

        let mut net = Network {
            id: project.id.clone(),
            tasks: project.tasks.clone(),
            index,
            order,
            preds,
            succs,
            mean6,
            var36,
            es6,
            lf6,
            duration6,
            critical: Vec::new(),
            critical_var36: Decimal::ZERO,
            duration: Decimal::ZERO,
            variance: Decimal::ZERO,
            std_dev: Decimal::ZERO,
        };
        net.choose_critical_path()?;
        net.duration = num::div(net.duration6, SIX, "expected duration")?;
        net.variance = num::div(net.critical_var36, THIRTY_SIX, "project variance")?;
        // sd = √(Σ (p − o)²)/6: one square root of the exact sum.
        let root = normal::sqrt(net.critical_var36).ok_or_else(|| ArithmeticError::Overflow {
            operation: "project standard deviation".into(),
        })?;
        net.std_dev = num::div(root, SIX, "project standard deviation")?;
        Ok(net)
    }

    fn slack6(&self, i: usize) -> Decimal {
        let get = |v: &[Decimal]| v.get(i).copied().unwrap_or_default();
        // LS − ES = LF − mean − ES; each term is a sum of the inputs, so this cannot
        // overflow where the passes did not.
        get(&self.lf6) - get(&self.mean6) - get(&self.es6)
    }

    fn is_critical(&self, i: usize) -> bool {
        self.slack6(i).is_zero()
    }

    /// The critical path by the tie rule of the module docs: a dynamic programme over
    /// the critical tasks in reverse topological order — `best[v]` is the largest
    /// variance of a chain of critical tasks from `v` to an end task, each starting
    /// when the previous finishes — then a walk from the start that takes, at each step,
    /// the first task (in project order) still reaching that largest variance.
    fn choose_critical_path(&mut self) -> Result<(), DeliveryError> {
        let n = self.tasks.len();
        let mut best: Vec<Option<Decimal>> = vec![None; n];
        let ef6 = |net: &Network, i: usize| -> Decimal {
            net.es6.get(i).copied().unwrap_or_default() + net.mean6.get(i).copied().unwrap_or_default()
        };
        let tight = |net: &Network, v: usize, s: usize| -> bool {
            net.is_critical(s) && net.es6.get(s).copied().unwrap_or_default() == ef6(net, v)
        };
        for &v in self.order.iter().rev() {
            if !self.is_critical(v) {
                continue;
            }
            let own = self.var36.get(v).copied().unwrap_or_default();
            let succs = self.succs.get(v).map(Vec::as_slice).unwrap_or(&[]);
            let value = if succs.is_empty() {
                (ef6(self, v) == self.duration6).then_some(own)
            } else {
                let mut tail: Option<Decimal> = None;
                for &s in succs {
                    if tight(self, v, s)
                        && let Some(b) = best.get(s).copied().flatten()
                    {
                        tail = Some(tail.map_or(b, |t| t.max(b)));
                    }
                }
                match tail {
                    Some(t) => Some(num::add(own, t, "critical path variance")?),
                    None => None,
                }
            };
            if let Some(slot) = best.get_mut(v) {
                *slot = value;
            }
        }
        // Start tasks (no predecessor) that begin a critical chain.
        let mut path = Vec::new();
        let pick = |candidates: &mut dyn Iterator<Item = usize>| -> Option<(usize, Decimal)> {
            let mut chosen: Option<(usize, Decimal)> = None;
            for c in candidates {
                if let Some(b) = best.get(c).copied().flatten() {
                    // Strictly larger wins; equal keeps the earlier task.
                    let better = match chosen {
                        None => true,
                        Some((ci, cb)) => b > cb || (b == cb && c < ci),
                    };
                    if better {
                        chosen = Some((c, b));
                    }
                }
            }
            chosen
        };
        let starts = (0..n).filter(|&i| self.preds.get(i).is_none_or(Vec::is_empty));
        let mut current = pick(&mut starts.into_iter());
        if let Some((_, total)) = current {
            self.critical_var36 = total;
        }
        while let Some((v, _)) = current {
            path.push(v);
            let succs = self.succs.get(v).cloned().unwrap_or_default();
            let mut next = succs.into_iter().filter(|&s| tight(self, v, s));
            current = pick(&mut next);
        }
        self.critical = path;
        Ok(())
    }

    /// The project's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The tasks, in project order.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// No tasks.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The position of task `id` in project order.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Task positions in a topological order (every task after all it waits for).
    pub fn topological_order(&self) -> &[usize] {
        &self.order
    }

    /// The positions of the tasks task `i` waits for, in its `after` order (empty for an
    /// unknown position).
    pub fn predecessors(&self, i: usize) -> &[usize] {
        self.preds.get(i).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The critical path's task ids, first to last (tie rule in the module docs).
    pub fn critical_path(&self) -> Vec<&str> {
        self.critical
            .iter()
            .filter_map(|&i| self.tasks.get(i).map(|t| t.id.as_str()))
            .collect()
    }

    /// The critical path as task positions.
    pub fn critical_positions(&self) -> &[usize] {
        &self.critical
    }

    /// The expected project duration: the critical path's PERT mean (exact up to the
    /// final division by 6).
    pub fn expected_duration(&self) -> Decimal {
        self.duration
    }

    /// The critical path's variance, Σ `((p − o)/6)²`.
    pub fn variance(&self) -> Decimal {
        self.variance
    }

    /// The critical path's standard deviation, √[`Network::variance`].
    pub fn std_dev(&self) -> Decimal {
        self.std_dev
    }

    /// P(the project finishes within `x`) under the normal approximation,
    /// Φ((x − mean)/sd), 20 places; with sd = 0, 1 for x ≥ mean and 0 below.
    ///
    /// # Errors
    /// Overflow of `6·x`.
    pub fn prob_within(&self, x: Decimal) -> Result<Decimal, DeliveryError> {
        let x6 = num::mul(x, SIX, "prob_within: 6 × x")?;
        let gap6 = num::sub(x6, self.duration6, "prob_within: x − mean")?;
        if self.critical_var36.is_zero() {
            return Ok(if gap6.is_sign_negative() && !gap6.is_zero() {
                Decimal::ZERO
            } else {
                Decimal::ONE
            });
        }
        // (x − mean)/sd = (6x − 6·mean)/√(36·variance).
        let root = normal::sqrt(self.critical_var36).unwrap_or(Decimal::ONE);
        let z = num::div(gap6, root, "prob_within: (x − mean)/sd")?;
        Ok(normal::cdf(z))
    }

    /// The duration met with probability `q` under the normal approximation:
    /// mean + z(q)·sd. With sd = 0 it is the mean for any q in [0, 1].
    ///
    /// # Errors
    /// q outside (0, 1) when sd > 0 (outside [0, 1] when sd = 0); overflow.
    pub fn due_date(&self, q: Decimal) -> Result<Decimal, DeliveryError> {
        if self.critical_var36.is_zero() {
            if q < Decimal::ZERO || q > Decimal::ONE {
                return Err(DeliveryError::OutOfRange {
                    what: "q",
                    value: q,
                    range: "[0, 1]",
                });
            }
            return Ok(self.duration);
        }
        let z = normal::inverse_cdf(q).ok_or(DeliveryError::OutOfRange {
            what: "q",
            value: q,
            range: "(0, 1)",
        })?;
        let root = normal::sqrt(self.critical_var36).unwrap_or(Decimal::ONE);
        let spread6 = num::mul(z, root, "due_date: z × sd")?;
        let total6 = num::add(self.duration6, spread6, "due_date: mean + z × sd")?;
        Ok(num::div(total6, SIX, "due_date")?)
    }

    /// Latest start − earliest start of task `id`, from the PERT means.
    ///
    /// # Errors
    /// An unknown id.
    pub fn slack(&self, id: &str) -> Result<Decimal, DeliveryError> {
        let i = self
            .position(id)
            .ok_or_else(|| DeliveryError::UnknownTask { id: id.to_owned() })?;
        Ok(num::div(self.slack6(i), SIX, "slack")?)
    }

    /// Every task's schedule, in project order.
    ///
    /// # Errors
    /// Overflow.
    pub fn schedule(&self) -> Result<Vec<ScheduledTask>, DeliveryError> {
        let sixth = |x: Decimal, what: &str| num::div(x, SIX, what);
        self.tasks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let get = |v: &[Decimal]| v.get(i).copied().unwrap_or_default();
                let (es6, lf6, m6) = (get(&self.es6), get(&self.lf6), get(&self.mean6));
                Ok(ScheduledTask {
                    id: t.id.clone(),
                    mean: sixth(m6, "mean")?,
                    variance: num::div(get(&self.var36), THIRTY_SIX, "variance")?,
                    earliest_start: sixth(es6, "earliest start")?,
                    earliest_finish: sixth(num::add(es6, m6, "earliest finish")?, "earliest finish")?,
                    latest_start: sixth(num::sub(lf6, m6, "latest start")?, "latest start")?,
                    latest_finish: sixth(lf6, "latest finish")?,
                    slack: sixth(self.slack6(i), "slack")?,
                    critical: self.is_critical(i),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
