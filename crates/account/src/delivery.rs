//! `delivery.toml`: the account's implementation projects and the people who deliver
//! them — read, validated at file:line:col naming the task, and linked to the growth
//! scenario.
//!
//! **Durations are in weeks** (decimals allowed: `"0.4"` is two working days); a month
//! is [`kam_sim::scenario::WEEKS_PER_MONTH`] weeks (365.2425 / 12 / 7), the same in
//! the schedule's dates and in the growth model. Efforts and capacities are in person
//! days.
//!
//! ```toml
//! [[people]]                      # ids are stakeholders.toml's our_people
//! id = "solutions"
//! function = "solution_design"    # account_management, solution_design, operations,
//!                                 # it, coe, support, service, management
//! capacity_days_per_month = "18"
//!
//! [[shared_task]]                 # one task several projects wait for
//! id = "wms-release"
//! optimistic = "4"
//! most_likely = "6"
//! pessimistic = "12"
//! owner = "it-lead"
//! effort_days = "30"
//!
//! [[project]]
//! id = "leipzig-nx"
//! name = "Leipzig NX sequencing go-live"
//! deal = "Leipzig NX sequencing"  # a growth.toml opportunity: its revenue starts at go-live
//! objectives = ["o-nx-leipzig"]   # plan objectives it delivers
//! owner = "solutions"             # accountable (the A of the RACI)
//! consulted = ["ops-emea"]
//! informed = ["ad"]
//! start = "2026-10-05"
//! committed = "2027-03-31"        # the go-live date promised to the customer
//! go_live = "go-live"
//! task = [
//!   { id = "design", optimistic = "2", most_likely = "3", pessimistic = "6", owner = "solutions", effort_days = "10" },
//!   { id = "wms-release", shared = true, after = ["design"] },
//!   { id = "go-live", milestone = true, after = ["wms-release"] },
//! ]
//! ```
//!
//! Work outside the projects' tasks — a plan objective to drive, an escalation to
//! work — is an `[[assignment]]`: so many person days a month between two dates,
//! counted in the person's load (prorated by calendar day in the first and last
//! month) and in the objective's RACI as `role` (default `responsible`):
//!
//! ```toml
//! [[assignment]]
//! person = "ad"
//! escalation = "ESC-0412"         # an actions.toml escalation, or objective = "o-…"
//! days_per_month = "4"
//! from = "2026-10-01"
//! until = "2026-12-31"            # inclusive
//! role = "responsible"            # responsible, consulted or informed
//! ```
//!
//! A task's `owner` must be one of `[[people]]` (an error at its place); a person who is
//! not one of stakeholders.toml's `our_people`, a project's unknown deal or objective,
//! an unowned critical task, an overloaded person and a late project are `kam check`
//! findings.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use kam_core::delivery::{DeliveryError, Network, Project, Task};
use kam_sim::scenario::{SimProject, WEEKS_PER_MONTH};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::files::{self, FileError};

/// The file's name in an account directory.
pub const FILE: &str = "delivery.toml";

/// A function of one of our people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Function {
    /// Account management.
    AccountManagement,
    /// Solution design.
    SolutionDesign,
    /// Operations.
    Operations,
    /// IT.
    It,
    /// Centre of excellence.
    Coe,
    /// Support.
    Support,
    /// Customer service.
    Service,
    /// Management.
    Management,
}

/// One of our people as a delivery resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Id (one of stakeholders.toml's `our_people`).
    pub id: String,
    /// Function.
    pub function: Function,
    /// Person days available to the account per month.
    pub capacity_days_per_month: Decimal,
}

/// A task as written in delivery.toml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryTask {
    /// Unique within the project.
    pub id: String,
    /// What it is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Shortest credible duration, weeks (omitted: 0 for a milestone; taken from the
    /// `[[shared_task]]` for a shared one).
    #[serde(default)]
    pub optimistic: Option<Decimal>,
    /// Most likely duration, weeks.
    #[serde(default)]
    pub most_likely: Option<Decimal>,
    /// Longest credible duration, weeks.
    #[serde(default)]
    pub pessimistic: Option<Decimal>,
    /// Tasks that must finish first (ids in the same project).
    #[serde(default)]
    pub after: Vec<String>,
    /// Who delivers it (one of `[[people]]`).
    #[serde(default)]
    pub owner: Option<String>,
    /// Person days of work, spread over the task's scheduled weeks.
    #[serde(default)]
    pub effort_days: Decimal,
    /// A checkpoint (no duration).
    #[serde(default)]
    pub milestone: bool,
    /// The `[[shared_task]]` of the same id: one physical task in every project that
    /// lists it (durations, owner and effort from there; its effort is counted once).
    #[serde(default)]
    pub shared: bool,
    /// The date a milestone is due (the go-live's is the project's `committed`).
    #[serde(default)]
    pub due: Option<NaiveDate>,
}

/// An implementation project as written in delivery.toml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryProject {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The growth.toml opportunity (or won contract) it implements.
    #[serde(default)]
    pub deal: Option<String>,
    /// Plan objectives it delivers.
    #[serde(default)]
    pub objectives: Vec<String>,
    /// Accountable for the project (one of `[[people]]`).
    #[serde(default)]
    pub owner: Option<String>,
    /// Consulted.
    #[serde(default)]
    pub consulted: Vec<String>,
    /// Informed.
    #[serde(default)]
    pub informed: Vec<String>,
    /// First day of work.
    pub start: NaiveDate,
    /// The go-live date committed to the customer.
    pub committed: NaiveDate,
    /// The go-live milestone's task id.
    pub go_live: String,
    /// Tasks.
    #[serde(default)]
    pub task: Vec<DeliveryTask>,
}

/// A person's part in an objective (the R, C or I of its RACI; the A is the
/// objective's owner in plan.toml).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// Does the work.
    #[default]
    Responsible,
    /// Asked before decisions.
    Consulted,
    /// Kept up to date.
    Informed,
}

/// Work of one of our people outside the projects' tasks: on a plan objective or an
/// escalation, at so many person days a month from one date to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// One of `[[people]]`.
    pub person: String,
    /// A plan.toml objective (exactly one of `objective` and `escalation`).
    #[serde(default)]
    pub objective: Option<String>,
    /// An actions.toml escalation.
    #[serde(default)]
    pub escalation: Option<String>,
    /// Person days a month (a whole month's worth; prorated in partial months).
    pub days_per_month: Decimal,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub until: NaiveDate,
    /// Part in the objective's RACI.
    #[serde(default)]
    pub role: Role,
}

impl Assignment {
    /// What the person works on, as `objective o-…` or `escalation ESC-…`.
    pub fn target(&self) -> String {
        match (&self.objective, &self.escalation) {
            (Some(o), _) => format!("objective {o}"),
            (None, Some(e)) => format!("escalation {e}"),
            (None, None) => String::new(),
        }
    }
}

/// `delivery.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryFile {
    /// Our people with function and capacity.
    #[serde(default)]
    pub people: Vec<Person>,
    /// Tasks shared between projects.
    #[serde(default)]
    pub shared_task: Vec<DeliveryTask>,
    /// Projects.
    #[serde(default)]
    pub project: Vec<DeliveryProject>,
    /// Work on objectives and escalations.
    #[serde(default)]
    pub assignment: Vec<Assignment>,
}

impl DeliveryFile {
    /// The project `i` as a kam-core project: shared tasks resolved, milestones' missing
    /// durations 0.
    pub fn core_project(&self, i: usize) -> Option<Project> {
        let p = self.project.get(i)?;
        let tasks = p.task.iter().map(|t| self.core_task(t)).collect();
        Some(Project {
            id: p.id.clone(),
            tasks,
        })
    }

    /// The task as scheduled: a shared one's durations, owner and effort come from its
    /// `[[shared_task]]`.
    pub fn resolved<'a>(&'a self, t: &'a DeliveryTask) -> &'a DeliveryTask {
        if t.shared {
            self.shared_task.iter().find(|s| s.id == t.id).unwrap_or(t)
        } else {
            t
        }
    }

    fn core_task(&self, t: &DeliveryTask) -> Task {
        let r = self.resolved(t);
        let zero = Decimal::ZERO;
        Task {
            id: t.id.clone(),
            optimistic: r.optimistic.unwrap_or(zero),
            most_likely: r.most_likely.unwrap_or(zero),
            pessimistic: r.pessimistic.unwrap_or(zero),
            after: t.after.clone(),
            owner: r.owner.clone(),
            milestone: t.milestone,
        }
    }

    /// Every project's network, in file order (validated at load, so this only fails
    /// on an account built by hand).
    ///
    /// # Errors
    /// A project that is not a valid network.
    pub fn networks(&self) -> Result<Vec<Network>, DeliveryError> {
        (0..self.project.len())
            .filter_map(|i| self.core_project(i))
            .map(|p| p.network())
            .collect()
    }
}

/// The date `weeks` after `start` (rounded up to whole days).
pub fn date_after(start: NaiveDate, weeks: Decimal) -> NaiveDate {
    use rust_decimal::prelude::ToPrimitive;
    let days = (weeks * Decimal::from(7)).ceil().to_i64().unwrap_or(i64::MAX / 2);
    start
        .checked_add_signed(chrono::Duration::days(days.clamp(0, 3_650_000)))
        .unwrap_or(NaiveDate::MAX)
}

/// Months from `origin` (a first of month) to `date`, fractions as the elapsed part of
/// the date's month (`2027-02-15` from `2027-01-01`: 1 + 14/28 = 1.5).
pub fn months_from(origin: NaiveDate, date: NaiveDate) -> Decimal {
    let whole = (date.year() - origin.year()) * 12 + date.month() as i32 - origin.month() as i32;
    let days_in_month = date
        .with_day(1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .and_then(|n| n.pred_opt())
        .map_or(30, |l| l.day());
    Decimal::from(whole) + Decimal::from(date.day() - 1) / Decimal::from(days_in_month)
}

/// The projects linked to a growth deal, as kam-sim projects: start in months from
/// `growth_start`, durations in weeks, shared tasks named.
pub fn sim_projects(file: &DeliveryFile, growth_start: NaiveDate, deals: &BTreeSet<&str>) -> Vec<SimProject> {
    let mut out = Vec::new();
    for (i, p) in file.project.iter().enumerate() {
        let Some(deal) = p.deal.as_deref().filter(|d| deals.contains(d)) else {
            continue;
        };
        let Some(core) = file.core_project(i) else {
            continue;
        };
        out.push(SimProject {
            name: p.id.clone(),
            deal: deal.to_owned(),
            start_month: months_from(growth_start, p.start),
            go_live: p.go_live.clone(),
            shared: p.task.iter().filter(|t| t.shared).map(|t| t.id.clone()).collect(),
            tasks: core.tasks,
        });
    }
    out
}

/// Weeks in a month, for the schedule's month columns.
pub fn weeks_per_month() -> Decimal {
    WEEKS_PER_MONTH
}

/// Where the `n`-th `header` block starts in `text` (0 when absent).
fn block(text: &str, header: &str, n: usize) -> usize {
    text.match_indices(header).nth(n).map_or(0, |(o, _)| o)
}

/// The offset of `needle` at or after `from`, else `from`.
fn after(text: &str, from: usize, needle: &str) -> usize {
    text.get(from..)
        .and_then(|t| t.find(needle))
        .map_or(from, |o| from + o)
}

/// Validates a parsed file against its text: unique ids, owners among `[[people]]`,
/// shared tasks that exist, durations present, each project a valid network with its
/// go-live task. Errors at file:line:col, naming the project and task.
///
/// # Errors
/// The first problem found.
pub fn validate(file: &DeliveryFile, name: &str, text: &str) -> Result<(), FileError> {
    let at = |offset: usize, field: &str, message: String| {
        let (line, column) = files::line_col(text, offset);
        FileError::at(name, line, column, Some(field), message)
    };
    let mut people = BTreeSet::new();
    for (i, p) in file.people.iter().enumerate() {
        if !people.insert(p.id.as_str()) {
            let o = after(text, block(text, "[[people]]", i), &format!("\"{}\"", p.id));
            return Err(at(o, "id", format!("person {:?} is listed twice", p.id)));
        }
        if p.capacity_days_per_month < Decimal::ZERO {
            let o = after(text, block(text, "[[people]]", i), "capacity_days_per_month");
            return Err(at(
                o,
                "capacity_days_per_month",
                format!("person {:?}: capacity must not be negative", p.id),
            ));
        }
    }
    let owner_ok = |t: &DeliveryTask, start: usize, what: &str| -> Result<(), FileError> {
        if let Some(o) = &t.owner
            && !people.contains(o.as_str())
        {
            let off = after(text, start, &format!("owner = \"{o}\""));
            return Err(at(
                off,
                "owner",
                format!("{what}: owner {o:?} is not one of [[people]]"),
            ));
        }
        if t.effort_days < Decimal::ZERO {
            let off = after(text, start, "effort_days");
            return Err(at(
                off,
                "effort_days",
                format!("{what}: effort must not be negative"),
            ));
        }
        Ok(())
    };
    let mut shared = BTreeMap::new();
    for (i, t) in file.shared_task.iter().enumerate() {
        let start = after(text, block(text, "[[shared_task]]", i), &format!("\"{}\"", t.id));
        if shared.insert(t.id.as_str(), i).is_some() {
            return Err(at(start, "id", format!("shared task {:?} is listed twice", t.id)));
        }
        owner_ok(t, start, &format!("shared task {:?}", t.id))?;
        if !t.after.is_empty() {
            return Err(at(
                after(text, start, "after"),
                "after",
                format!(
                    "shared task {:?}: dependencies belong to the projects' tasks that use it",
                    t.id
                ),
            ));
        }
        let task = Task {
            id: t.id.clone(),
            optimistic: t.optimistic.unwrap_or_default(),
            most_likely: t.most_likely.unwrap_or_default(),
            pessimistic: t.pessimistic.unwrap_or_default(),
            after: Vec::new(),
            owner: None,
            milestone: t.milestone,
        };
        task.validate(i)
            .map_err(|e| at(start, "id", format!("shared task: {e}")))?;
    }
    let mut ids = BTreeSet::new();
    let mut deals = BTreeSet::new();
    for (i, p) in file.project.iter().enumerate() {
        let head = block(text, "[[project]]", i);
        let here = |needle: &str| after(text, head, needle);
        if !ids.insert(p.id.as_str()) {
            return Err(at(
                here(&format!("\"{}\"", p.id)),
                "id",
                format!("project {:?} is listed twice", p.id),
            ));
        }
        if let Some(d) = &p.deal
            && !deals.insert(d.as_str())
        {
            return Err(at(
                here("deal"),
                "deal",
                format!(
                    "project {:?}: deal {d:?} is already another project's (one project per deal)",
                    p.id
                ),
            ));
        }
        for o in p.owner.iter().chain(&p.consulted).chain(&p.informed) {
            if !people.contains(o.as_str()) {
                return Err(at(
                    here(&format!("\"{o}\"")),
                    "owner",
                    format!("project {:?}: {o:?} is not one of [[people]]", p.id),
                ));
            }
        }
        let task_at = |id: &str| here(&format!("id = \"{id}\""));
        for t in &p.task {
            let what = format!("project {:?}, task {:?}", p.id, t.id);
            let start = task_at(&t.id);
            owner_ok(t, start, &what)?;
            if t.shared {
                if !shared.contains_key(t.id.as_str()) {
                    return Err(at(
                        start,
                        "shared",
                        format!("{what}: no [[shared_task]] with this id"),
                    ));
                }
            } else if !t.milestone
                && (t.optimistic.is_none() || t.most_likely.is_none() || t.pessimistic.is_none())
            {
                return Err(at(
                    start,
                    "pessimistic",
                    format!("{what}: needs optimistic, most_likely and pessimistic (weeks)"),
                ));
            }
        }
        let core = file.core_project(i).unwrap_or_default();
        if let Err(e) = core.network() {
            let task = error_task(&e).unwrap_or(&p.go_live);
            let field = match &e {
                DeliveryError::UnknownDependency { .. } | DeliveryError::DuplicateDependency { .. } => {
                    "after"
                }
                DeliveryError::Cycle { .. } => "after",
                _ => "id",
            };
            return Err(at(task_at(task), field, format!("project {:?}: {e}", p.id)));
        }
        if !p.task.iter().any(|t| t.id == p.go_live) {
            return Err(at(
                here("go_live"),
                "go_live",
                format!("project {:?}: no task {:?} to go live with", p.id, p.go_live),
            ));
        }
        if p.committed < p.start {
            return Err(at(
                here("committed"),
                "committed",
                format!(
                    "project {:?}: committed {} is before its start {}",
                    p.id, p.committed, p.start
                ),
            ));
        }
    }
    for (i, a) in file.assignment.iter().enumerate() {
        let head = block(text, "[[assignment]]", i);
        let here = |needle: &str| after(text, head, needle);
        let what = format!("assignment {} ({})", i + 1, a.person);
        if !people.contains(a.person.as_str()) {
            return Err(at(
                here("person"),
                "person",
                format!("{what}: {:?} is not one of [[people]]", a.person),
            ));
        }
        match (&a.objective, &a.escalation) {
            (Some(_), Some(_)) => {
                return Err(at(
                    here("escalation"),
                    "escalation",
                    format!("{what}: one of objective and escalation, not both"),
                ));
            }
            (None, None) => {
                return Err(at(
                    here("person"),
                    "objective",
                    format!("{what}: needs an objective or an escalation to work on"),
                ));
            }
            _ => {}
        }
        if a.days_per_month <= Decimal::ZERO {
            return Err(at(
                here("days_per_month"),
                "days_per_month",
                format!("{what}: days_per_month must be more than 0"),
            ));
        }
        if a.until < a.from {
            return Err(at(
                here("until"),
                "until",
                format!("{what}: until {} is before from {}", a.until, a.from),
            ));
        }
    }
    Ok(())
}

/// An assignment's person days per calendar month (`YYYY-MM`): `days_per_month` for
/// each whole month of `from ..= until`, prorated by calendar days in a partial one.
pub fn assignment_months(a: &Assignment) -> Vec<(String, Decimal)> {
    let mut out = Vec::new();
    let mut day = a.from;
    while day <= a.until {
        let first = day.with_day(1).unwrap_or(day);
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(a.until);
        let in_month = (next - first).num_days().max(1);
        let end = if next > a.until {
            a.until.succ_opt().unwrap_or(next)
        } else {
            next
        };
        let covered = (end - day).num_days().max(0);
        out.push((
            format!("{:04}-{:02}", day.year(), day.month()),
            a.days_per_month * Decimal::from(covered) / Decimal::from(in_month),
        ));
        if next <= day {
            break;
        }
        day = next;
    }
    out
}

/// The task a delivery error names.
fn error_task(e: &DeliveryError) -> Option<&str> {
    match e {
        DeliveryError::DuplicateTask { id } => Some(id),
        DeliveryError::NegativeDuration { task, .. }
        | DeliveryError::DurationOrder { task, .. }
        | DeliveryError::Milestone { task, .. }
        | DeliveryError::UnknownDependency { task, .. }
        | DeliveryError::DuplicateDependency { task, .. } => Some(task),
        DeliveryError::Cycle { tasks } => tasks.first().map(String::as_str),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_days_are_prorated_by_calendar_day() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let a = Assignment {
            person: "ad".into(),
            objective: Some("o".into()),
            escalation: None,
            days_per_month: Decimal::from(3),
            from: d(2026, 10, 17),
            until: d(2026, 12, 31),
            role: Role::Responsible,
        };
        // October: 15 of 31 days; November and December whole.
        assert_eq!(
            assignment_months(&a),
            vec![
                ("2026-10".to_owned(), Decimal::from(45) / Decimal::from(31)),
                ("2026-11".to_owned(), Decimal::from(3)),
                ("2026-12".to_owned(), Decimal::from(3)),
            ]
        );
        let one_day = Assignment {
            from: d(2027, 2, 28),
            until: d(2027, 2, 28),
            ..a
        };
        assert_eq!(
            assignment_months(&one_day),
            vec![("2027-02".to_owned(), Decimal::from(3) / Decimal::from(28))]
        );
    }

    #[test]
    fn months_from_the_growth_start() {
        let o = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(months_from(o, d(2027, 1, 1)), Decimal::ZERO);
        assert_eq!(months_from(o, d(2027, 2, 15)), Decimal::new(15, 1));
        assert_eq!(months_from(o, d(2026, 10, 1)), Decimal::from(-3));
        assert_eq!(date_after(d(2027, 1, 1), Decimal::new(15, 1)), d(2027, 1, 12));
    }
}
