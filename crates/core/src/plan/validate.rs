//! Plan integrity: [`Plan::validate`] runs every check and returns every finding — not
//! just the first — each with a severity, a stable [`CheckCode`], a path to the item
//! (`goals[2].objectives[0].actions[1]`) and the item's id.
//!
//! References to things outside the plan (account nodes, buying centres, stakeholders,
//! KPIs) are checked against a [`ValidationContext`]; a reference kind whose set the
//! caller did not supply is not checked (it is `None`, not empty).

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{FnvBuild, Measure, Period, Plan, TargetKind, TargetValue};
use crate::account::{Account, Hierarchy, StructureError};

/// How serious a finding is. Ordered `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSeverity {
    /// Worth knowing; the plan is usable.
    Info,
    /// Should be fixed before the next review.
    Warning,
    /// The plan is wrong or inconsistent.
    Error,
}

impl fmt::Display for FindingSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FindingSeverity::Info => "info",
            FindingSeverity::Warning => "warning",
            FindingSeverity::Error => "error",
        })
    }
}

macro_rules! check_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $severity:ident; )*) => {
        /// A check's stable code. The kebab-case string ([`CheckCode::as_str`]) is what
        /// files, scripts and reports use; it never changes once released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum CheckCode {
            $( $(#[$doc])* #[serde(rename = $code)] $variant, )*
        }

        impl CheckCode {
            /// Every check, in the order they run.
            pub const ALL: &'static [CheckCode] = &[$(CheckCode::$variant),*];

            /// The stable kebab-case code.
            pub fn as_str(self) -> &'static str {
                match self { $(CheckCode::$variant => $code,)* }
            }

            /// The severity findings of this check carry.
            pub fn severity(self) -> FindingSeverity {
                match self { $(CheckCode::$variant => FindingSeverity::$severity,)* }
            }
        }
    };
}

check_codes! {
    /// Two goals, objectives, actions, targets, customer goals or whitespace cells share an id.
    DuplicateId = "duplicate-id", Error;
    /// A goal with no objectives.
    GoalWithoutObjectives = "goal-without-objectives", Warning;
    /// A goal supports a customer goal id that the plan does not list.
    UnknownCustomerGoal = "unknown-customer-goal", Error;
    /// A customer goal none of our goals supports.
    UnsupportedCustomerGoal = "unsupported-customer-goal", Info;
    /// An objective without an owner.
    ObjectiveWithoutOwner = "objective-without-owner", Error;
    /// An objective without a measure.
    ObjectiveWithoutMeasure = "objective-without-measure", Info;
    /// An open objective without actions.
    ObjectiveWithoutActions = "objective-without-actions", Info;
    /// An objective placed at an account node that does not exist.
    ObjectiveUnknownNode = "objective-unknown-node", Error;
    /// An open objective past its due date.
    OverdueObjective = "overdue-objective", Warning;
    /// An action without an owner.
    ActionWithoutOwner = "action-without-owner", Warning;
    /// An open action past its due date.
    OverdueAction = "overdue-action", Warning;
    /// An open action under a done or cancelled objective.
    ActionOnClosedObjective = "action-on-closed-objective", Warning;
    /// An action due after its objective.
    ActionDueAfterObjective = "action-due-after-objective", Warning;
    /// A measure references a KPI that is not in the catalogue.
    UnknownKpi = "unknown-kpi", Error;
    /// An objective or customer goal references an unknown stakeholder.
    UnknownStakeholder = "unknown-stakeholder", Error;
    /// A target period whose end is before its start.
    InvalidPeriod = "invalid-period", Error;
    /// Consecutive target periods (same node and kind) leave days uncovered.
    TargetPeriodGap = "target-period-gap", Warning;
    /// Target periods (same node and kind) overlap.
    TargetPeriodOverlap = "target-period-overlap", Error;
    /// Revenue and margin targets are not all in one currency.
    TargetMixedCurrencies = "target-mixed-currencies", Error;
    /// Volume targets of one node in different units.
    TargetMixedUnits = "target-mixed-units", Warning;
    /// A target at an account node that does not exist.
    TargetUnknownNode = "target-unknown-node", Error;
    /// The children's targets do not add up to the parent's (e.g. regions vs global).
    /// Compared per kind for exactly the same period, and only when at least one child
    /// has such a target; children in another currency or unit are left to the mixed checks.
    TargetRollupMismatch = "target-rollup-mismatch", Error;
    /// A negative revenue or volume target, or a negative whitespace amount.
    NegativeAmount = "negative-amount", Error;
    /// Whitespace: current business exceeds the potential.
    WhitespaceCurrentExceedsPotential = "whitespace-current-exceeds-potential", Error;
    /// Whitespace: current + won exceeds the potential (negative gap).
    WhitespaceOverCommitted = "whitespace-over-committed", Warning;
    /// Whitespace: potential, current and won not in one currency.
    WhitespaceMixedCurrencies = "whitespace-mixed-currencies", Error;
    /// Whitespace: unknown buying centre.
    WhitespaceUnknownBuyingCentre = "whitespace-unknown-buying-centre", Error;
    /// The plan has not been reviewed within the allowed number of days (or never).
    StalePlan = "stale-plan", Warning;
}

impl fmt::Display for CheckCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// How serious.
    pub severity: FindingSeverity,
    /// Which check.
    pub code: CheckCode,
    /// Where, e.g. `goals[2].objectives[0].actions[1]` or `targets[4]`.
    pub path: String,
    /// The item's id (for whitespace: `buying_centre/offering`), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// What is wrong, naming the item.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] {}: {}",
            self.severity, self.code, self.path, self.message
        )
    }
}

/// What the plan is checked against. Build with [`ValidationContext::new`] and the
/// `with_*` methods; a reference kind left `None` is not checked.
#[derive(Debug, Clone)]
pub struct ValidationContext {
    /// The day the plan is judged on (overdue, stale).
    pub as_of: NaiveDate,
    /// A plan not reviewed for more than this many days is stale. Default 90.
    pub stale_after_days: u32,
    /// The account hierarchy (checks node references and target roll-ups).
    pub hierarchy: Option<Hierarchy>,
    /// Known buying centre ids.
    pub buying_centres: Option<HashSet<String>>,
    /// Known stakeholder ids (from the stakeholder map).
    pub stakeholders: Option<HashSet<String>>,
    /// Known KPI ids (from the KPI catalogue).
    pub kpis: Option<HashSet<String>>,
}

impl ValidationContext {
    /// A context that knows only the date; external references are not checked.
    pub fn new(as_of: NaiveDate) -> Self {
        ValidationContext {
            as_of,
            stale_after_days: 90,
            hierarchy: None,
            buying_centres: None,
            stakeholders: None,
            kpis: None,
        }
    }

    /// Checks node and buying centre references against `account`.
    ///
    /// # Errors
    /// The account's own structural error ([`StructureError`]).
    pub fn with_account(mut self, account: &Account) -> Result<Self, StructureError> {
        self.hierarchy = Some(account.hierarchy()?);
        self.buying_centres = Some(account.buying_centres.iter().map(|c| c.id.clone()).collect());
        Ok(self)
    }

    /// Checks whitespace buying centre references against these ids (without an account).
    pub fn with_buying_centres<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.buying_centres = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Checks stakeholder references against these ids.
    pub fn with_stakeholders<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.stakeholders = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Checks KPI references against these ids.
    pub fn with_kpis<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.kpis = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the staleness limit in days.
    pub fn with_stale_after_days(mut self, days: u32) -> Self {
        self.stale_after_days = days;
        self
    }
}

struct Findings(Vec<Finding>);

impl Findings {
    fn push(&mut self, code: CheckCode, path: impl Into<String>, item: Option<&str>, message: String) {
        self.0.push(Finding {
            severity: code.severity(),
            code,
            path: path.into(),
            item: item.map(str::to_owned),
            message,
        });
    }
}

fn known(set: &Option<HashSet<String>>, id: &str) -> bool {
    set.as_ref().is_none_or(|s| s.contains(id))
}

impl Plan {
    /// Runs every integrity check against `ctx` and returns all findings, in plan order
    /// (plan-level, customer goals, goals → objectives → actions, targets, whitespace).
    /// An empty result means a clean plan. Never fails and never panics: problems in the
    /// plan are findings, not errors.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use kam_core::plan::{CheckCode, Goal, Plan, ValidationContext};
    ///
    /// let mut plan = Plan::new("p", "oem", "Plan");
    /// plan.goals.push(Goal { id: "g1".into(), title: "Grow".into(), supports: vec![], objectives: vec![] });
    /// let as_of = NaiveDate::from_ymd_opt(2027, 1, 15).ok_or("date")?;
    /// plan.last_reviewed = Some(as_of);
    /// let findings = plan.validate(&ValidationContext::new(as_of));
    /// assert_eq!(findings.len(), 1);
    /// assert_eq!(findings[0].code, CheckCode::GoalWithoutObjectives);
    /// assert_eq!(findings[0].path, "goals[0]");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(&self, ctx: &ValidationContext) -> Vec<Finding> {
        let mut f = Findings(Vec::new());
        self.check_review(ctx, &mut f);
        self.check_customer_goals(ctx, &mut f);
        self.check_goals(ctx, &mut f);
        self.check_targets(ctx, &mut f);
        self.check_whitespace(ctx, &mut f);
        f.0
    }

    fn check_review(&self, ctx: &ValidationContext, f: &mut Findings) {
        match self.last_reviewed {
            None => f.push(
                CheckCode::StalePlan,
                "last_reviewed",
                Some(&self.id),
                format!("plan {:?} has never been reviewed", self.id),
            ),
            Some(day) => {
                let age = (ctx.as_of - day).num_days();
                if age > i64::from(ctx.stale_after_days) {
                    f.push(
                        CheckCode::StalePlan,
                        "last_reviewed",
                        Some(&self.id),
                        format!(
                            "plan {:?} last reviewed {day}, {age} days before {} (limit {} days)",
                            self.id, ctx.as_of, ctx.stale_after_days
                        ),
                    );
                }
            }
        }
    }

    fn check_customer_goals(&self, ctx: &ValidationContext, f: &mut Findings) {
        let mut seen = HashSet::new();
        let supported: HashSet<&str> = self
            .goals
            .iter()
            .flat_map(|g| g.supports.iter().map(String::as_str))
            .collect();
        for (i, c) in self.customer_goals.iter().enumerate() {
            let path = || format!("customer_goals[{i}]");
            if !seen.insert(c.id.as_str()) {
                f.push(
                    CheckCode::DuplicateId,
                    path(),
                    Some(&c.id),
                    format!("customer goal id {:?} is used more than once", c.id),
                );
            }
            if let Some(s) = &c.stakeholder
                && !known(&ctx.stakeholders, s)
            {
                f.push(
                    CheckCode::UnknownStakeholder,
                    path(),
                    Some(&c.id),
                    format!("customer goal {:?} is owned by unknown stakeholder {s:?}", c.id),
                );
            }
            if !supported.contains(c.id.as_str()) {
                f.push(
                    CheckCode::UnsupportedCustomerGoal,
                    path(),
                    Some(&c.id),
                    format!(
                        "customer goal {:?} ({}) is supported by none of our goals",
                        c.id, c.title
                    ),
                );
            }
        }
    }

    fn check_measure(
        measure: &Option<Measure>,
        ctx: &ValidationContext,
        path: &dyn Fn() -> String,
        id: &str,
        what: &str,
        f: &mut Findings,
    ) {
        if let Some(m) = measure
            && !known(&ctx.kpis, &m.kpi)
        {
            f.push(
                CheckCode::UnknownKpi,
                path(),
                Some(id),
                format!("{what} {id:?} is measured by unknown KPI {:?}", m.kpi),
            );
        }
    }

    fn check_goals(&self, ctx: &ValidationContext, f: &mut Findings) {
        let customer_goals: HashSet<&str> = self.customer_goals.iter().map(|c| c.id.as_str()).collect();
        let mut goal_ids: HashSet<&str, FnvBuild> = HashSet::default();
        let mut objective_ids: HashSet<&str, FnvBuild> = HashSet::default();
        let mut action_ids: HashSet<&str, FnvBuild> = HashSet::default();
        let as_of = ctx.as_of;
        for (gi, g) in self.goals.iter().enumerate() {
            let gpath = || format!("goals[{gi}]");
            if !goal_ids.insert(g.id.as_str()) {
                f.push(
                    CheckCode::DuplicateId,
                    gpath(),
                    Some(&g.id),
                    format!("goal id {:?} is used more than once", g.id),
                );
            }
            if g.objectives.is_empty() {
                f.push(
                    CheckCode::GoalWithoutObjectives,
                    gpath(),
                    Some(&g.id),
                    format!("goal {:?} ({}) has no objectives", g.id, g.title),
                );
            }
            for s in &g.supports {
                if !customer_goals.contains(s.as_str()) {
                    f.push(
                        CheckCode::UnknownCustomerGoal,
                        gpath(),
                        Some(&g.id),
                        format!("goal {:?} supports unknown customer goal {s:?}", g.id),
                    );
                }
            }
            for (oi, o) in g.objectives.iter().enumerate() {
                let opath = || format!("goals[{gi}].objectives[{oi}]");
                if !objective_ids.insert(o.id.as_str()) {
                    f.push(
                        CheckCode::DuplicateId,
                        opath(),
                        Some(&o.id),
                        format!("objective id {:?} is used more than once", o.id),
                    );
                }
                if o.owner.as_deref().is_none_or(|s| s.trim().is_empty()) {
                    f.push(
                        CheckCode::ObjectiveWithoutOwner,
                        opath(),
                        Some(&o.id),
                        format!("objective {:?} ({}) has no owner", o.id, o.title),
                    );
                }
                if o.measure.is_none() {
                    f.push(
                        CheckCode::ObjectiveWithoutMeasure,
                        opath(),
                        Some(&o.id),
                        format!("objective {:?} has no measure", o.id),
                    );
                }
                Self::check_measure(&o.measure, ctx, &opath, &o.id, "objective", f);
                if !o.status.is_closed() && o.actions.is_empty() {
                    f.push(
                        CheckCode::ObjectiveWithoutActions,
                        opath(),
                        Some(&o.id),
                        format!("open objective {:?} has no actions", o.id),
                    );
                }
                if let Some(h) = &ctx.hierarchy
                    && !h.contains(&o.node)
                {
                    f.push(
                        CheckCode::ObjectiveUnknownNode,
                        opath(),
                        Some(&o.id),
                        format!(
                            "objective {:?} is placed at unknown account node {:?}",
                            o.id, o.node
                        ),
                    );
                }
                if let Some(due) = o.due
                    && due < as_of
                    && !o.status.is_closed()
                {
                    f.push(
                        CheckCode::OverdueObjective,
                        opath(),
                        Some(&o.id),
                        format!("objective {:?} was due {due} and is still {}", o.id, o.status),
                    );
                }
                for s in &o.stakeholders {
                    if !known(&ctx.stakeholders, s) {
                        f.push(
                            CheckCode::UnknownStakeholder,
                            opath(),
                            Some(&o.id),
                            format!("objective {:?} is linked to unknown stakeholder {s:?}", o.id),
                        );
                    }
                }
                for (ai, a) in o.actions.iter().enumerate() {
                    let apath = || format!("goals[{gi}].objectives[{oi}].actions[{ai}]");
                    if !action_ids.insert(a.id.as_str()) {
                        f.push(
                            CheckCode::DuplicateId,
                            apath(),
                            Some(&a.id),
                            format!("action id {:?} is used more than once", a.id),
                        );
                    }
                    if a.owner.as_deref().is_none_or(|s| s.trim().is_empty()) {
                        f.push(
                            CheckCode::ActionWithoutOwner,
                            apath(),
                            Some(&a.id),
                            format!("action {:?} ({}) has no owner", a.id, a.title),
                        );
                    }
                    if let Some(due) = a.due
                        && due < as_of
                        && !a.status.is_closed()
                    {
                        f.push(
                            CheckCode::OverdueAction,
                            apath(),
                            Some(&a.id),
                            format!("action {:?} was due {due} and is still {}", a.id, a.status),
                        );
                    }
                    if o.status.is_closed() && !a.status.is_closed() {
                        f.push(
                            CheckCode::ActionOnClosedObjective,
                            apath(),
                            Some(&a.id),
                            format!(
                                "action {:?} is {} but its objective {:?} is {}",
                                a.id, a.status, o.id, o.status
                            ),
                        );
                    }
                    if let (Some(ad), Some(od)) = (a.due, o.due)
                        && ad > od
                    {
                        f.push(
                            CheckCode::ActionDueAfterObjective,
                            apath(),
                            Some(&a.id),
                            format!(
                                "action {:?} is due {ad}, after its objective {:?} ({od})",
                                a.id, o.id
                            ),
                        );
                    }
                    Self::check_measure(&a.measure, ctx, &apath, &a.id, "action", f);
                }
            }
        }
    }

    fn check_targets(&self, ctx: &ValidationContext, f: &mut Findings) {
        let mut ids = HashSet::new();
        let mut reference_currency = None;
        // (node, kind) → indices of valid targets, for gap/overlap and units.
        let mut series: HashMap<(&str, TargetKind), Vec<usize>> = HashMap::new();
        for (i, t) in self.targets.iter().enumerate() {
            let path = || format!("targets[{i}]");
            let item = Some(t.id.as_str());
            if !ids.insert(t.id.as_str()) {
                f.push(
                    CheckCode::DuplicateId,
                    path(),
                    item,
                    format!("target id {:?} is used more than once", t.id),
                );
            }
            if let Some(m) = t.value.money() {
                match reference_currency {
                    None => reference_currency = Some((m.currency(), t.id.as_str())),
                    Some((c, first)) if c != m.currency() => f.push(
                        CheckCode::TargetMixedCurrencies,
                        path(),
                        item,
                        format!(
                            "target {:?} is in {} but target {first:?} is in {c}; plan targets must share one currency",
                            t.id,
                            m.currency()
                        ),
                    ),
                    Some(_) => {}
                }
            }
            if t.value.kind() != TargetKind::Margin && t.value.amount() < Decimal::ZERO {
                f.push(
                    CheckCode::NegativeAmount,
                    path(),
                    item,
                    format!(
                        "{} target {:?} is negative ({})",
                        t.value.kind(),
                        t.id,
                        t.value.amount()
                    ),
                );
            }
            if let Some(h) = &ctx.hierarchy
                && !h.contains(&t.node)
            {
                f.push(
                    CheckCode::TargetUnknownNode,
                    path(),
                    item,
                    format!("target {:?} is set for unknown account node {:?}", t.id, t.node),
                );
            }
            if t.period.is_valid() {
                series
                    .entry((t.node.as_str(), t.value.kind()))
                    .or_default()
                    .push(i);
            } else {
                f.push(
                    CheckCode::InvalidPeriod,
                    path(),
                    item,
                    format!(
                        "target {:?} period ends {} before it starts {}",
                        t.id, t.period.end, t.period.start
                    ),
                );
            }
        }
        // Report per series in plan order of the series' first target, so output is stable.
        let mut keys: Vec<_> = series
            .iter()
            .map(|(k, v)| (v.first().copied().unwrap_or(0), *k))
            .collect();
        keys.sort_unstable();
        let mut interim = Vec::new();
        for (_, key) in keys {
            let Some(idx) = series.get(&key) else { continue };
            let mut sorted: Vec<usize> = idx.clone();
            sorted.sort_by_key(|&i| self.targets.get(i).map(|t| (t.period, i)));
            let mut covered_to: Option<(NaiveDate, usize)> = None;
            let mut unit: Option<(&str, usize)> = None;
            for &i in &sorted {
                let Some(t) = self.targets.get(i) else { continue };
                if let TargetValue::Volume(v) = &t.value {
                    match unit {
                        None => unit = Some((v.unit.as_str(), i)),
                        Some((u, first)) if u != v.unit => interim.push((
                            i,
                            CheckCode::TargetMixedUnits,
                            format!(
                                "volume target {:?} for {:?} is in {:?} but target {:?} is in {u:?}",
                                t.id,
                                t.node,
                                v.unit,
                                self.targets.get(first).map(|x| x.id.as_str()).unwrap_or_default()
                            ),
                        )),
                        Some(_) => {}
                    }
                }
                if let Some((end, prev)) = covered_to {
                    let prev_id = self.targets.get(prev).map(|x| x.id.as_str()).unwrap_or_default();
                    if t.period.start <= end {
                        interim.push((
                            i,
                            CheckCode::TargetPeriodOverlap,
                            format!(
                                "{} target {:?} for {:?} ({}) overlaps target {prev_id:?} (covering to {end})",
                                key.1, t.id, t.node, t.period
                            ),
                        ));
                    } else if end.succ_opt().is_some_and(|next| t.period.start > next) {
                        interim.push((
                            i,
                            CheckCode::TargetPeriodGap,
                            format!(
                                "{} targets for {:?} leave a gap between {end} (end of {prev_id:?}) and {} (start of {:?})",
                                key.1, t.node, t.period.start, t.id
                            ),
                        ));
                    }
                }
                if covered_to.is_none_or(|(end, _)| t.period.end > end) {
                    covered_to = Some((t.period.end, i));
                }
            }
        }
        for (i, code, message) in interim {
            let item = self.targets.get(i).map(|t| t.id.as_str());
            f.push(code, format!("targets[{i}]"), item, message);
        }
        if let Some(h) = &ctx.hierarchy {
            self.check_rollup(h, f);
        }
    }

    fn check_rollup(&self, h: &Hierarchy, f: &mut Findings) {
        let mut by_key: HashMap<(&str, TargetKind, Period), Vec<usize>> = HashMap::new();
        for (i, t) in self.targets.iter().enumerate() {
            by_key
                .entry((t.node.as_str(), t.value.kind(), t.period))
                .or_default()
                .push(i);
        }
        for (i, t) in self.targets.iter().enumerate() {
            if !t.period.is_valid() {
                continue;
            }
            let kind = t.value.kind();
            let mut parts = Vec::new();
            let mut total = Decimal::ZERO;
            let mut comparable = true;
            for child in h.children(&t.node) {
                for &ci in by_key
                    .get(&(child, kind, t.period))
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    let Some(c) = self.targets.get(ci) else { continue };
                    // Different currency or unit: reported by the mixed-currency/unit checks.
                    if !c.value.same_unit(&t.value) {
                        comparable = false;
                    }
                    match total.checked_add(c.value.amount()) {
                        Some(s) => total = s,
                        None => comparable = false,
                    }
                    parts.push(format!("{} {}", c.node, c.value.amount()));
                }
            }
            if comparable && !parts.is_empty() && total != t.value.amount() {
                f.push(
                    CheckCode::TargetRollupMismatch,
                    format!("targets[{i}]"),
                    Some(&t.id),
                    format!(
                        "{kind} target {:?} for {:?} {} is {} {} but its children's targets add up to {total} ({})",
                        t.id,
                        t.node,
                        t.period,
                        t.value.amount(),
                        t.value.unit(),
                        parts.join(" + ")
                    ),
                );
            }
        }
    }

    fn check_whitespace(&self, ctx: &ValidationContext, f: &mut Findings) {
        let mut cells = HashSet::new();
        for (i, w) in self.whitespace.iter().enumerate() {
            let path = || format!("whitespace[{i}]");
            let key = w.key();
            let item = Some(key.as_str());
            if !cells.insert((w.buying_centre.as_str(), &w.offering)) {
                f.push(
                    CheckCode::DuplicateId,
                    path(),
                    item,
                    format!("whitespace cell {key} appears more than once"),
                );
            }
            if !known(&ctx.buying_centres, &w.buying_centre) {
                f.push(
                    CheckCode::WhitespaceUnknownBuyingCentre,
                    path(),
                    item,
                    format!(
                        "whitespace cell {key}: unknown buying centre {:?}",
                        w.buying_centre
                    ),
                );
            }
            for (name, m) in [
                ("potential", &w.potential),
                ("current", &w.current),
                ("won", &w.won),
            ] {
                if m.amount() < Decimal::ZERO {
                    f.push(
                        CheckCode::NegativeAmount,
                        path(),
                        item,
                        format!("whitespace cell {key}: {name} is negative ({m})"),
                    );
                }
            }
            let c = w.potential.currency();
            if w.current.currency() != c || w.won.currency() != c {
                f.push(
                    CheckCode::WhitespaceMixedCurrencies,
                    path(),
                    item,
                    format!(
                        "whitespace cell {key}: potential {}, current {}, won {} must share one currency",
                        w.potential, w.current, w.won
                    ),
                );
                continue;
            }
            if w.current.amount() > w.potential.amount() {
                f.push(
                    CheckCode::WhitespaceCurrentExceedsPotential,
                    path(),
                    item,
                    format!(
                        "whitespace cell {key}: current {} exceeds potential {}",
                        w.current, w.potential
                    ),
                );
            } else if let Ok(gap) = w.gap()
                && gap.amount() < Decimal::ZERO
            {
                f.push(
                    CheckCode::WhitespaceOverCommitted,
                    path(),
                    item,
                    format!(
                        "whitespace cell {key}: current {} + won {} exceed potential {} (gap {gap})",
                        w.current, w.won, w.potential
                    ),
                );
            }
        }
    }
}
