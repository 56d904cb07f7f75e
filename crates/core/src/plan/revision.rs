//! Revisions: a plan is revised, never overwritten.
//!
//! A [`RevisionLog`] is append-only. Each [`Revision`] stores the author, the time (passed
//! in — the core has no clock), a message and a **full snapshot** of the plan. Snapshots
//! rather than stored diffs keep any two revisions directly comparable, make a damaged
//! log impossible to mis-replay and cost little (a plan with 5,000 objectives is a few
//! MB); the structured [`PlanDiff`] is computed on demand.
//!
//! A diff matches items by id (objectives and actions across the whole plan, so moving an
//! objective to another goal is a change of its `goal` field, not a removal and an
//! addition). Every list in a diff is sorted by id, so `diff(b, a)` is exactly
//! `diff(a, b).inverse()`.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    Action, CustomerGoal, FnvBuild, FnvMap, Goal, Measure, Objective, Plan, PlanError, Target, WhitespaceCell,
};

/// Whether an item was added, removed or changed between two revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Present only in the later revision.
    Added,
    /// Present only in the earlier revision.
    Removed,
    /// Present in both with different fields.
    Changed,
}

impl ChangeKind {
    fn inverse(self) -> Self {
        match self {
            ChangeKind::Added => ChangeKind::Removed,
            ChangeKind::Removed => ChangeKind::Added,
            ChangeKind::Changed => ChangeKind::Changed,
        }
    }
}

/// One field's value before and after (as display text; `None` = absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Field name, e.g. `"status"` or `"measure.current"`.
    pub field: String,
    /// Value in the earlier revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Value in the later revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// An item (goal, objective, action, target, whitespace cell, customer goal) that
/// changed. Added and removed items list all their fields (one side `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemChange {
    /// The item's id (whitespace: `buying_centre/offering`).
    pub id: String,
    /// Added, removed or changed.
    pub change: ChangeKind,
    /// The fields that differ.
    #[serde(default)]
    pub fields: Vec<FieldChange>,
}

/// A stakeholder linked to or unlinked from an objective.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StakeholderRefChange {
    /// The objective.
    pub objective: String,
    /// The stakeholder id.
    pub stakeholder: String,
    /// `Added` (linked) or `Removed` (unlinked).
    pub change: ChangeKind,
}

/// The structured difference between two plans.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDiff {
    /// Plan-level fields (name, vision, priorities, SWOT, review date, managers).
    #[serde(default)]
    pub plan: Vec<FieldChange>,
    /// Customer goals.
    #[serde(default)]
    pub customer_goals: Vec<ItemChange>,
    /// Our goals.
    #[serde(default)]
    pub goals: Vec<ItemChange>,
    /// Objectives (matched by id across goals).
    #[serde(default)]
    pub objectives: Vec<ItemChange>,
    /// Actions (matched by id across objectives).
    #[serde(default)]
    pub actions: Vec<ItemChange>,
    /// Targets.
    #[serde(default)]
    pub targets: Vec<ItemChange>,
    /// Whitespace cells.
    #[serde(default)]
    pub whitespace: Vec<ItemChange>,
    /// Stakeholder links of objectives.
    #[serde(default)]
    pub stakeholders: Vec<StakeholderRefChange>,
}

impl PlanDiff {
    /// The diff from `before` to `after`.
    ///
    /// # Errors
    /// [`PlanError::DuplicateId`] if either plan repeats an id, since items could not be
    /// matched.
    ///
    /// ```
    /// use kam_core::plan::{ChangeKind, Goal, Plan, PlanDiff};
    ///
    /// let before = Plan::new("p", "oem", "Plan");
    /// let mut after = before.clone();
    /// after.goals.push(Goal { id: "g1".into(), title: "Grow EMEA".into(), supports: vec![], objectives: vec![] });
    /// let diff = PlanDiff::between(&before, &after)?;
    /// assert_eq!(diff.goals[0].change, ChangeKind::Added);
    /// assert_eq!(PlanDiff::between(&after, &before)?, diff.inverse());
    /// assert!(PlanDiff::between(&after, &after)?.is_empty());
    /// # Ok::<(), kam_core::plan::PlanError>(())
    /// ```
    pub fn between(before: &Plan, after: &Plan) -> Result<PlanDiff, PlanError> {
        // Duplicate ids are detected while indexing the items (no separate pass).
        let ids = (before.id.as_str(), after.id.as_str());
        let mut d = PlanDiff {
            plan: diff_fields(&plan_fields(before), &plan_fields(after)),
            ..PlanDiff::default()
        };
        d.customer_goals = diff_items(
            ("customer goal", ids),
            &before.customer_goals,
            &after.customer_goals,
            |c| Cow::Borrowed(&c.id),
            |a, b| a == b,
            customer_goal_fields,
        )?;
        d.goals = diff_items(
            ("goal", ids),
            &before.goals,
            &after.goals,
            |g| Cow::Borrowed(&g.id),
            |a, b| a.title == b.title && a.supports == b.supports,
            goal_fields,
        )?;
        let (ob, oa) = (objectives_with_goal(before), objectives_with_goal(after));
        d.objectives = diff_items(
            ("objective", ids),
            &ob,
            &oa,
            |(_, o)| Cow::Borrowed(&o.id),
            same_objective,
            objective_fields,
        )?;
        let (ab, aa) = (actions_with_objective(before), actions_with_objective(after));
        d.actions = diff_items(
            ("action", ids),
            &ab,
            &aa,
            |(_, a)| Cow::Borrowed(&a.id),
            same_action,
            action_fields,
        )?;
        d.targets = diff_items(
            ("target", ids),
            &before.targets,
            &after.targets,
            |t| Cow::Borrowed(&t.id),
            |a, b| a == b,
            target_fields,
        )?;
        d.whitespace = diff_items(
            ("whitespace cell", ids),
            &before.whitespace,
            &after.whitespace,
            |w| Cow::Owned(w.key()),
            |a, b| a == b,
            whitespace_fields,
        )?;
        d.stakeholders = stakeholder_changes(&ob, &oa);
        Ok(d)
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.plan.is_empty()
            && self.customer_goals.is_empty()
            && self.goals.is_empty()
            && self.objectives.is_empty()
            && self.actions.is_empty()
            && self.targets.is_empty()
            && self.whitespace.is_empty()
            && self.stakeholders.is_empty()
    }

    /// Number of changed items (plan fields, items and stakeholder links).
    pub fn len(&self) -> usize {
        self.plan.len()
            + self.customer_goals.len()
            + self.goals.len()
            + self.objectives.len()
            + self.actions.len()
            + self.targets.len()
            + self.whitespace.len()
            + self.stakeholders.len()
    }

    /// The diff in the other direction: added ↔ removed, before ↔ after.
    pub fn inverse(&self) -> PlanDiff {
        let fields = |v: &[FieldChange]| {
            v.iter()
                .map(|f| FieldChange {
                    field: f.field.clone(),
                    before: f.after.clone(),
                    after: f.before.clone(),
                })
                .collect::<Vec<_>>()
        };
        let items = |v: &[ItemChange]| {
            v.iter()
                .map(|c| ItemChange {
                    id: c.id.clone(),
                    change: c.change.inverse(),
                    fields: fields(&c.fields),
                })
                .collect::<Vec<_>>()
        };
        PlanDiff {
            plan: fields(&self.plan),
            customer_goals: items(&self.customer_goals),
            goals: items(&self.goals),
            objectives: items(&self.objectives),
            actions: items(&self.actions),
            targets: items(&self.targets),
            whitespace: items(&self.whitespace),
            stakeholders: self
                .stakeholders
                .iter()
                .map(|s| StakeholderRefChange {
                    change: s.change.inverse(),
                    ..s.clone()
                })
                .collect(),
        }
    }
}

impl Plan {
    /// The structured diff from `self` to `later`; see [`PlanDiff::between`].
    ///
    /// # Errors
    /// [`PlanError::DuplicateId`] if either plan repeats an id.
    pub fn diff(&self, later: &Plan) -> Result<PlanDiff, PlanError> {
        PlanDiff::between(self, later)
    }
}

/// A field value, compared before it is rendered: only fields that differ (or belong to
/// an added or removed item) are turned into text.
#[derive(PartialEq)]
enum Val<'a> {
    Str(&'a str),
    Owned(String),
    Date(NaiveDate),
    Dec(Decimal),
    Name(&'static str),
}

impl Val<'_> {
    fn render(&self) -> String {
        match self {
            Val::Str(s) => (*s).to_owned(),
            Val::Owned(s) => s.clone(),
            Val::Date(d) => d.to_string(),
            Val::Dec(x) => x.to_string(),
            Val::Name(n) => (*n).to_owned(),
        }
    }
}

type Fields<'a> = Vec<(&'static str, Option<Val<'a>>)>;

fn objectives_with_goal(p: &Plan) -> Vec<(&str, &Objective)> {
    p.objectives().map(|(g, o)| (g.id.as_str(), o)).collect()
}

fn actions_with_objective(p: &Plan) -> Vec<(&str, &Action)> {
    p.actions().map(|(o, a)| (o.id.as_str(), a)).collect()
}

/// Field lists come from one function per item type, so both sides name the same
/// fields in the same order; an empty side stands for an absent item.
fn diff_fields(before: &Fields<'_>, after: &Fields<'_>) -> Vec<FieldChange> {
    let change = |field: &str, b: Option<&Val<'_>>, a: Option<&Val<'_>>| {
        (b != a).then(|| FieldChange {
            field: field.to_owned(),
            before: b.map(Val::render),
            after: a.map(Val::render),
        })
    };
    if before.is_empty() {
        after
            .iter()
            .filter_map(|(n, a)| change(n, None, a.as_ref()))
            .collect()
    } else if after.is_empty() {
        before
            .iter()
            .filter_map(|(n, b)| change(n, b.as_ref(), None))
            .collect()
    } else {
        before
            .iter()
            .zip(after)
            .filter_map(|((n, b), (_, a))| change(n, b.as_ref(), a.as_ref()))
            .collect()
    }
}

/// Matches items by key and lists the added, removed and changed ones, sorted by key.
/// `same` is a cheap equality test that skips building fields of unchanged items.
fn diff_items<'a, T>(
    (kind, (before_plan, after_plan)): (&'static str, (&str, &str)),
    before: &'a [T],
    after: &'a [T],
    key: impl Fn(&'a T) -> Cow<'a, str>,
    same: impl Fn(&T, &T) -> bool,
    fields: impl Fn(&'a T) -> Fields<'a>,
) -> Result<Vec<ItemChange>, PlanError> {
    let duplicate = |plan: &str, id: &str| PlanError::DuplicateId {
        plan: plan.to_owned(),
        kind,
        id: id.to_owned(),
    };
    let mut after_index: FnvMap<Cow<'a, str>, usize> = FnvMap::default();
    after_index.reserve(after.len());
    for (i, x) in after.iter().enumerate() {
        let k = key(x);
        if after_index.contains_key(&k) {
            return Err(duplicate(after_plan, &k));
        }
        after_index.insert(k, i);
    }
    // Which after-items were matched; keys only in `before` are tracked separately to
    // catch duplicates among removed items.
    let mut matched = vec![false; after.len()];
    let mut removed_keys: HashSet<Cow<'a, str>, FnvBuild> = HashSet::default();
    let mut out = Vec::new();
    for b in before {
        let k = key(b);
        match after_index.get(&k).copied() {
            None => {
                out.push(ItemChange {
                    fields: diff_fields(&fields(b), &Vec::new()),
                    id: k.clone().into_owned(),
                    change: ChangeKind::Removed,
                });
                if !removed_keys.insert(k.clone()) {
                    return Err(duplicate(before_plan, &k));
                }
            }
            Some(i) => {
                let (Some(a), Some(seen)) = (after.get(i), matched.get_mut(i)) else {
                    continue;
                };
                if *seen {
                    return Err(duplicate(before_plan, &k));
                }
                *seen = true;
                if !same(b, a) {
                    let changed = diff_fields(&fields(b), &fields(a));
                    if !changed.is_empty() {
                        out.push(ItemChange {
                            id: k.into_owned(),
                            change: ChangeKind::Changed,
                            fields: changed,
                        });
                    }
                }
            }
        }
    }
    for (a, seen) in after.iter().zip(&matched) {
        if !seen {
            out.push(ItemChange {
                fields: diff_fields(&Vec::new(), &fields(a)),
                id: key(a).into_owned(),
                change: ChangeKind::Added,
            });
        }
    }
    out.sort_by(|x, y| x.id.cmp(&y.id));
    Ok(out)
}

fn opt_str(x: &Option<String>) -> Option<Val<'_>> {
    x.as_deref().map(Val::Str)
}

fn list(v: &[String]) -> Option<Val<'static>> {
    (!v.is_empty()).then(|| Val::Owned(v.join(" | ")))
}

fn measure_fields<'a>(m: &'a Option<Measure>, out: &mut Fields<'a>) {
    out.push(("measure.kpi", m.as_ref().map(|m| Val::Str(&m.kpi))));
    out.push(("measure.target", m.as_ref().map(|m| Val::Dec(m.target))));
    out.push((
        "measure.current",
        m.as_ref().and_then(|m| m.current.map(Val::Dec)),
    ));
    out.push((
        "measure.node",
        m.as_ref().and_then(|m| m.node.as_deref().map(Val::Str)),
    ));
    out.push((
        "measure.period",
        m.as_ref().and_then(|m| m.period.as_deref().map(Val::Str)),
    ));
}

fn plan_fields(p: &Plan) -> Fields<'_> {
    let managers: Vec<String> = p
        .regional_managers
        .iter()
        .map(|(r, m)| format!("{r}: {m}"))
        .collect();
    vec![
        ("id", Some(Val::Str(&p.id))),
        ("account", Some(Val::Str(&p.account))),
        ("name", Some(Val::Str(&p.name))),
        ("last_reviewed", p.last_reviewed.map(Val::Date)),
        ("vision", (!p.vision.is_empty()).then_some(Val::Str(&p.vision))),
        ("strategic_priorities", list(&p.strategic_priorities)),
        ("swot.strengths", list(&p.swot.strengths)),
        ("swot.weaknesses", list(&p.swot.weaknesses)),
        ("swot.opportunities", list(&p.swot.opportunities)),
        ("swot.threats", list(&p.swot.threats)),
        ("regional_managers", list(&managers)),
    ]
}

fn customer_goal_fields(c: &CustomerGoal) -> Fields<'_> {
    vec![
        ("title", Some(Val::Str(&c.title))),
        ("stakeholder", opt_str(&c.stakeholder)),
    ]
}

fn goal_fields(g: &Goal) -> Fields<'_> {
    vec![
        ("title", Some(Val::Str(&g.title))),
        ("supports", list(&g.supports)),
    ]
}

fn same_objective((ga, a): &(&str, &Objective), (gb, b): &(&str, &Objective)) -> bool {
    ga == gb
        && a.title == b.title
        && a.node == b.node
        && a.owner == b.owner
        && a.due == b.due
        && a.status == b.status
        && a.priority == b.priority
        && a.measure == b.measure
}

fn objective_fields<'a>((goal, o): &'a (&'a str, &'a Objective)) -> Fields<'a> {
    let mut v: Fields<'a> = vec![
        ("title", Some(Val::Str(&o.title))),
        ("goal", Some(Val::Str(goal))),
        ("node", Some(Val::Str(&o.node))),
        ("owner", opt_str(&o.owner)),
        ("due", o.due.map(Val::Date)),
        ("status", Some(Val::Name(o.status.as_str()))),
        ("priority", Some(Val::Name(o.priority.as_str()))),
    ];
    measure_fields(&o.measure, &mut v);
    v
}

fn same_action((oa, a): &(&str, &Action), (ob, b): &(&str, &Action)) -> bool {
    oa == ob && a == b
}

fn action_fields<'a>((objective, a): &'a (&'a str, &'a Action)) -> Fields<'a> {
    let mut v: Fields<'a> = vec![
        ("title", Some(Val::Str(&a.title))),
        ("objective", Some(Val::Str(objective))),
        ("owner", opt_str(&a.owner)),
        ("due", a.due.map(Val::Date)),
        ("status", Some(Val::Name(a.status.as_str()))),
        ("priority", Some(Val::Name(a.priority.as_str()))),
        ("updated", a.updated.map(Val::Date)),
    ];
    measure_fields(&a.measure, &mut v);
    v
}

fn target_fields(t: &Target) -> Fields<'_> {
    vec![
        ("node", Some(Val::Str(&t.node))),
        ("period", Some(Val::Owned(t.period.to_string()))),
        ("value", Some(Val::Owned(t.value.to_string()))),
    ]
}

fn whitespace_fields(w: &WhitespaceCell) -> Fields<'_> {
    vec![
        ("potential", Some(Val::Owned(w.potential.to_string()))),
        ("current", Some(Val::Owned(w.current.to_string()))),
        ("won", Some(Val::Owned(w.won.to_string()))),
        ("gap", w.gap().ok().map(|g| Val::Owned(g.to_string()))),
    ]
}

fn stakeholder_changes(
    before: &[(&str, &Objective)],
    after: &[(&str, &Objective)],
) -> Vec<StakeholderRefChange> {
    let after_index: FnvMap<&str, &Objective> = after.iter().map(|(_, o)| (o.id.as_str(), *o)).collect();
    let mut out = Vec::new();
    let mut push = |o: &Objective, s: &String, change| {
        out.push(StakeholderRefChange {
            objective: o.id.clone(),
            stakeholder: s.clone(),
            change,
        })
    };
    let mut seen: HashSet<&str, FnvBuild> = HashSet::default();
    for (_, b) in before {
        seen.insert(b.id.as_str());
        match after_index.get(b.id.as_str()) {
            None => b
                .stakeholders
                .iter()
                .for_each(|s| push(b, s, ChangeKind::Removed)),
            Some(a) if a.stakeholders != b.stakeholders => {
                let (sb, sa): (BTreeSet<&String>, BTreeSet<&String>) =
                    (b.stakeholders.iter().collect(), a.stakeholders.iter().collect());
                sb.difference(&sa).for_each(|s| push(b, s, ChangeKind::Removed));
                sa.difference(&sb).for_each(|s| push(a, s, ChangeKind::Added));
            }
            Some(_) => {}
        }
    }
    for (_, a) in after {
        if !seen.contains(a.id.as_str()) {
            a.stakeholders.iter().for_each(|s| push(a, s, ChangeKind::Added));
        }
    }
    out.sort();
    // A stakeholder listed twice on one objective is one link.
    out.dedup();
    out
}

/// What cannot be done with a revision log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevisionError {
    /// The log has no revisions yet.
    #[error("the revision log is empty")]
    Empty,
    /// No revision with this number.
    #[error("no revision {number} (the log has revisions 1..={latest})")]
    UnknownRevision {
        /// The number asked for.
        number: u32,
        /// The latest revision's number (0 if empty).
        latest: u32,
    },
    /// A revision timestamped before the latest one: the log is append-only in time.
    #[error("revision {number} at {at} is earlier than revision {previous_number} at {previous}")]
    OutOfOrder {
        /// The new (or offending) revision's number.
        number: u32,
        /// Its time.
        at: NaiveDateTime,
        /// The previous revision's number.
        previous_number: u32,
        /// Its time.
        previous: NaiveDateTime,
    },
    /// A stored log whose revision numbers are not 1, 2, 3, …
    #[error("revision at position {position} is numbered {found}, expected {expected}")]
    Numbering {
        /// Zero-based position in the log.
        position: usize,
        /// The expected number.
        expected: u32,
        /// The stored number.
        found: u32,
    },
    /// A revision of a different plan.
    #[error("revision {number} is of plan {found:?}, but this log is for plan {expected:?}")]
    PlanMismatch {
        /// The revision number it would have.
        number: u32,
        /// The log's plan id.
        expected: String,
        /// The offered plan's id.
        found: String,
    },
    /// The plan itself is unusable (duplicate ids).
    #[error("revision {number}: {source}")]
    Plan {
        /// The revision number it would have.
        number: u32,
        /// The plan's problem.
        source: PlanError,
    },
}

/// One revision: who, when, why, and the plan as it then stood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// 1, 2, 3, … in order.
    pub number: u32,
    /// Who made it.
    pub author: String,
    /// When (passed in by the caller).
    pub at: NaiveDateTime,
    /// Why.
    pub message: String,
    /// The full plan snapshot.
    pub plan: Plan,
}

/// A revision without its snapshot, for listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionSummary {
    /// Revision number.
    pub number: u32,
    /// Author.
    pub author: String,
    /// Time.
    pub at: NaiveDateTime,
    /// Message.
    pub message: String,
}

impl From<&Revision> for RevisionSummary {
    fn from(r: &Revision) -> Self {
        RevisionSummary {
            number: r.number,
            author: r.author.clone(),
            at: r.at,
            message: r.message.clone(),
        }
    }
}

/// What changed since a date, for an executive business review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesSince {
    /// The date asked about.
    pub since: NaiveDate,
    /// The revision in effect at the start of that day (`None`: the plan did not exist,
    /// so everything counts as added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<u32>,
    /// The latest revision.
    pub latest: u32,
    /// The revisions made on or after the date, oldest first.
    pub revisions: Vec<RevisionSummary>,
    /// Baseline → latest.
    pub diff: PlanDiff,
}

/// An append-only log of plan revisions (full snapshots; see the module doc).
///
/// Deserializing a log re-checks its invariants (numbering, time order, one plan id,
/// unique ids), so a hand-edited file cannot smuggle in an inconsistent history.
///
/// ```
/// use chrono::NaiveDate;
/// use kam_core::plan::{Plan, RevisionLog};
///
/// let day = |d| NaiveDate::from_ymd_opt(2027, 1, d).and_then(|x| x.and_hms_opt(9, 0, 0)).ok_or("date");
/// let mut log = RevisionLog::new();
/// let mut plan = Plan::new("p", "oem", "Plan");
/// log.commit("ada", day(4)?, "first draft", plan.clone())?;
/// plan.vision = "Lead partner for inbound logistics".into();
/// log.commit("ada", day(20)?, "vision agreed", plan)?;
/// let since = log.changes_since(NaiveDate::from_ymd_opt(2027, 1, 10).ok_or("date")?)?;
/// assert_eq!(since.baseline, Some(1));
/// assert_eq!(since.diff.plan[0].field, "vision");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RevisionLogRecord", into = "RevisionLogRecord")]
pub struct RevisionLog {
    revisions: Vec<Revision>,
}

/// The serialized form of a [`RevisionLog`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RevisionLogRecord {
    /// Revisions, oldest first.
    #[serde(default)]
    pub revisions: Vec<Revision>,
}

impl From<RevisionLog> for RevisionLogRecord {
    fn from(log: RevisionLog) -> Self {
        RevisionLogRecord {
            revisions: log.revisions,
        }
    }
}

impl TryFrom<RevisionLogRecord> for RevisionLog {
    type Error = RevisionError;
    fn try_from(record: RevisionLogRecord) -> Result<Self, Self::Error> {
        let mut log = RevisionLog::new();
        for (position, r) in record.revisions.into_iter().enumerate() {
            let expected = log.next_number();
            if r.number != expected {
                return Err(RevisionError::Numbering {
                    position,
                    expected,
                    found: r.number,
                });
            }
            log.commit(&r.author, r.at, &r.message, r.plan)?;
        }
        Ok(log)
    }
}

impl RevisionLog {
    /// An empty log.
    pub fn new() -> Self {
        RevisionLog::default()
    }

    fn next_number(&self) -> u32 {
        u32::try_from(self.revisions.len()).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    fn latest_number(&self) -> u32 {
        self.revisions.last().map_or(0, |r| r.number)
    }

    /// Appends a revision and returns its number.
    ///
    /// # Errors
    /// [`RevisionError::OutOfOrder`] if `at` is before the latest revision,
    /// [`RevisionError::PlanMismatch`] if `plan` has another id than the log's plan,
    /// [`RevisionError::Plan`] if the plan repeats an id.
    pub fn commit(
        &mut self,
        author: &str,
        at: NaiveDateTime,
        message: &str,
        plan: Plan,
    ) -> Result<u32, RevisionError> {
        let number = self.next_number();
        plan.check_ids()
            .map_err(|source| RevisionError::Plan { number, source })?;
        if let Some(first) = self.revisions.first()
            && first.plan.id != plan.id
        {
            return Err(RevisionError::PlanMismatch {
                number,
                expected: first.plan.id.clone(),
                found: plan.id,
            });
        }
        if let Some(last) = self.revisions.last()
            && at < last.at
        {
            return Err(RevisionError::OutOfOrder {
                number,
                at,
                previous_number: last.number,
                previous: last.at,
            });
        }
        self.revisions.push(Revision {
            number,
            author: author.to_owned(),
            at,
            message: message.to_owned(),
            plan,
        });
        Ok(number)
    }

    /// All revisions, oldest first.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// Number of revisions.
    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    /// Whether there are no revisions.
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// The latest revision.
    ///
    /// # Errors
    /// [`RevisionError::Empty`].
    pub fn latest(&self) -> Result<&Revision, RevisionError> {
        self.revisions.last().ok_or(RevisionError::Empty)
    }

    /// Revision `number` (1-based).
    ///
    /// # Errors
    /// [`RevisionError::UnknownRevision`].
    pub fn get(&self, number: u32) -> Result<&Revision, RevisionError> {
        usize::try_from(number)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.revisions.get(i))
            .ok_or(RevisionError::UnknownRevision {
                number,
                latest: self.latest_number(),
            })
    }

    /// The revision in effect at `at`: the last one made at or before it.
    pub fn in_effect_at(&self, at: NaiveDateTime) -> Option<&Revision> {
        let n = self.revisions.partition_point(|r| r.at <= at);
        n.checked_sub(1).and_then(|i| self.revisions.get(i))
    }

    /// The diff from revision `from` to revision `to` (either order).
    ///
    /// # Errors
    /// [`RevisionError::UnknownRevision`] for a missing number.
    pub fn diff(&self, from: u32, to: u32) -> Result<PlanDiff, RevisionError> {
        let (a, b) = (self.get(from)?, self.get(to)?);
        // Snapshots were checked for unique ids on commit, so this cannot fail; map anyway.
        PlanDiff::between(&a.plan, &b.plan).map_err(|source| RevisionError::Plan { number: to, source })
    }

    /// What changed from the start of `since` to the latest revision: the baseline is
    /// the last revision made before that day (none → an empty plan, everything added).
    ///
    /// # Errors
    /// [`RevisionError::Empty`] if there is no revision.
    pub fn changes_since(&self, since: NaiveDate) -> Result<ChangesSince, RevisionError> {
        let latest = self.latest()?;
        let first_on_or_after = self.revisions.partition_point(|r| r.at.date() < since);
        let baseline = first_on_or_after
            .checked_sub(1)
            .and_then(|i| self.revisions.get(i));
        let empty;
        let base_plan = match baseline {
            Some(b) => &b.plan,
            None => {
                empty = Plan::new(&latest.plan.id, &latest.plan.account, "");
                &empty
            }
        };
        let diff = PlanDiff::between(base_plan, &latest.plan).map_err(|source| RevisionError::Plan {
            number: latest.number,
            source,
        })?;
        Ok(ChangesSince {
            since,
            baseline: baseline.map(|b| b.number),
            latest: latest.number,
            revisions: self
                .revisions
                .get(first_on_or_after..)
                .unwrap_or_default()
                .iter()
                .map(Into::into)
                .collect(),
            diff,
        })
    }
}
