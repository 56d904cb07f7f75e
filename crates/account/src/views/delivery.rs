//! Implementation projects (`kam delivery`): each project's critical path to go-live,
//! its simulated P50/P90 go-live against the committed date, milestones at risk,
//! critical tasks without an owner, a RACI, and our people's load per month against
//! their capacity.
//!
//! Durations are in weeks ([`crate::delivery`]). A milestone's (and the go-live's)
//! finish is simulated on the tasks it waits for (its ancestors), `paths` paths from
//! `seed` ([`kam_sim::delivery::simulate_finish`]); dates are the start plus the weeks,
//! rounded up to whole days. A milestone is **at risk** when its P90 date is after its
//! due date (the go-live's due date is the committed one); a project is **late** when
//! its go-live is at risk.
//!
//! Load: each owned task's `effort_days` spread evenly over the calendar days of its
//! PERT-mean schedule (earliest start to earliest finish), summed per person and
//! calendar month; a shared task counts once, in the first project that lists it; an
//! `[[assignment]]` to an objective or escalation adds its days per month (prorated by
//! calendar day in partial months). A person is **overloaded** in a month when the load
//! exceeds `capacity_days_per_month`.
//!
//! RACI: per project (task owners responsible, the project's owner accountable) and per
//! plan objective ([`ObjectiveRaci`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use kam_core::delivery::{Network, Project};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::delivery::{DeliveryFile, Function, date_after};
use crate::error::AccountError;
use crate::model::Account;

/// Paths and seed `kam delivery` and `kam check` use by default.
pub const DEFAULT_PATHS: u64 = 10_000;
/// The default seed.
pub const DEFAULT_SEED: u64 = 42;

/// One task of a project's PERT-mean schedule.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Owner.
    pub owner: Option<String>,
    /// Person days.
    pub effort_days: Decimal,
    /// PERT mean, weeks.
    pub mean_weeks: Decimal,
    /// Earliest start (date).
    pub start: NaiveDate,
    /// Earliest finish (date).
    pub finish: NaiveDate,
    /// Slack, weeks.
    pub slack_weeks: Decimal,
    /// On the critical path.
    pub critical: bool,
    /// A milestone.
    pub milestone: bool,
    /// Shared with other projects.
    pub shared: bool,
}

/// A milestone's simulated date against its due date.
#[derive(Debug, Clone, Serialize)]
pub struct MilestoneRow {
    /// Task id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Due (the go-live's: the committed date).
    pub due: NaiveDate,
    /// Simulated P50 date.
    pub p50: NaiveDate,
    /// Simulated P90 date.
    pub p90: NaiveDate,
    /// Simulated probability of finishing by the due date.
    pub prob_on_time: Decimal,
    /// P90 after the due date.
    pub at_risk: bool,
}

/// Responsible, accountable, consulted, informed.
#[derive(Debug, Clone, Serialize)]
pub struct Raci {
    /// Task owners, in task order.
    pub responsible: Vec<String>,
    /// The project's owner.
    pub accountable: Option<String>,
    /// Consulted.
    pub consulted: Vec<String>,
    /// Informed.
    pub informed: Vec<String>,
}

/// One project.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The growth deal it implements.
    pub deal: Option<String>,
    /// Whether the growth forecast starts that deal at this project's go-live.
    pub feeds_growth: bool,
    /// Plan objectives.
    pub objectives: Vec<String>,
    /// Start date.
    pub start: NaiveDate,
    /// Committed go-live date.
    pub committed: NaiveDate,
    /// The go-live milestone.
    pub go_live: String,
    /// The critical path to go-live (PERT means), task ids.
    pub critical_path: Vec<String>,
    /// PERT mean of the go-live, weeks from start.
    pub pert_weeks: Decimal,
    /// Simulated P50 go-live, weeks from start.
    pub p50_weeks: Decimal,
    /// Simulated P90 go-live, weeks from start.
    pub p90_weeks: Decimal,
    /// Simulated P50 go-live date.
    pub p50: NaiveDate,
    /// Simulated P90 go-live date.
    pub p90: NaiveDate,
    /// Simulated probability of going live by the committed date.
    pub prob_on_time: Decimal,
    /// P90 go-live after the committed date.
    pub late: bool,
    /// Milestones with a due date, and the go-live.
    pub milestones: Vec<MilestoneRow>,
    /// Critical tasks (not milestones) without an owner.
    pub unowned_critical: Vec<String>,
    /// Who does what.
    pub raci: Raci,
    /// The schedule.
    pub tasks: Vec<TaskRow>,
}

/// One person's load in one month.
#[derive(Debug, Clone, Serialize)]
pub struct MonthLoad {
    /// `YYYY-MM`.
    pub month: String,
    /// Person days assigned (2 decimals).
    pub days: Decimal,
    /// More than the capacity.
    pub overloaded: bool,
}

/// One person's load.
#[derive(Debug, Clone, Serialize)]
pub struct PersonLoad {
    /// Id.
    pub person: String,
    /// Function.
    pub function: Function,
    /// Person days a month.
    pub capacity_days_per_month: Decimal,
    /// Months with load, in order.
    pub months: Vec<MonthLoad>,
}

/// A person over capacity in a month.
#[derive(Debug, Clone, Serialize)]
pub struct Overload {
    /// Person.
    pub person: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Person days assigned (2 decimals).
    pub days: Decimal,
    /// Capacity.
    pub capacity_days: Decimal,
    /// The projects whose tasks load the person that month.
    pub projects: Vec<String>,
    /// The assignments that load the person that month (`objective o-…`,
    /// `escalation ESC-…`).
    pub assignments: Vec<String>,
}

/// The RACI of one plan objective, from the figures entered once: the objective's owner
/// in plan.toml is accountable; its actions' owners, the task owners of the projects
/// that deliver it and the people `[[assignment]]`s give it as responsible are
/// responsible; the projects' consulted and informed, and the assignments' roles, the
/// rest.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveRaci {
    /// Objective id.
    pub objective: String,
    /// Its title in plan.toml (`None`: not in the plan — a `kam check` finding).
    pub title: Option<String>,
    /// The projects that deliver it.
    pub projects: Vec<String>,
    /// Who does what.
    pub raci: Raci,
}

/// `kam delivery`.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryReport {
    /// Unit of durations.
    pub unit: String,
    /// Paths per simulated milestone.
    pub paths: u64,
    /// Seed.
    pub seed: u64,
    /// Projects, in file order.
    pub projects: Vec<ProjectView>,
    /// Load per person (in `[[people]]` order).
    pub load: Vec<PersonLoad>,
    /// Every person-month over capacity.
    pub overloads: Vec<Overload>,
    /// The RACI of every objective a project delivers or an assignment works on (plan
    /// order, then objectives the plan does not have).
    pub objectives: Vec<ObjectiveRaci>,
}

fn domain(e: impl std::error::Error + Send + Sync + 'static) -> AccountError {
    AccountError::domain(e)
}

/// The tasks `id` waits for, and itself, in project order.
fn ancestors(project: &Project, network: &Network, id: &str) -> Project {
    let mut keep = BTreeSet::new();
    let mut stack: Vec<usize> = network.position(id).into_iter().collect();
    while let Some(i) = stack.pop() {
        if keep.insert(i) {
            stack.extend_from_slice(network.predecessors(i));
        }
    }
    Project {
        id: project.id.clone(),
        tasks: project
            .tasks
            .iter()
            .enumerate()
            .filter(|(i, _)| keep.contains(i))
            .map(|(_, t)| t.clone())
            .collect(),
    }
}

/// Simulated finish of `id`: (P50 weeks, P90 weeks, P(≤ due weeks)), and its network.
fn simulate_to(
    project: &Project,
    network: &Network,
    id: &str,
    due_weeks: Decimal,
    paths: u64,
    seed: u64,
) -> Result<(Decimal, Decimal, Decimal, Network), AccountError> {
    let sub = ancestors(project, network, id).network().map_err(domain)?;
    // The sorted finishes, not a distribution of decimals: two quantiles and one count
    // need a dozen conversions, not 10,000 (same figures).
    let r = kam_sim::delivery::simulate_finishes(&sub, paths, seed, None, &kam_sim::Stop::never())
        .map_err(domain)?;
    let p50 = r.quantile(Decimal::new(5, 1)).map_err(domain)?;
    let p90 = r.quantile(Decimal::new(9, 1)).map_err(domain)?;
    let on_time = r.count_at_most(due_weeks).map_err(domain)?;
    let prob = if r.is_empty() {
        Decimal::ONE
    } else {
        (Decimal::from(on_time as u64) / Decimal::from(r.len() as u64)).round_dp(4)
    };
    Ok((p50, p90, prob, sub))
}

/// Weeks from `start` to `date`.
fn weeks_between(start: NaiveDate, date: NaiveDate) -> Decimal {
    Decimal::from((date - start).num_days()) / Decimal::from(7)
}

/// The delivery view of the account: `paths` simulated paths per milestone from `seed`.
///
/// # Errors
/// No delivery.toml; a simulation refused (zero paths).
pub fn delivery(account: &Account, paths: u64, seed: u64) -> Result<DeliveryReport, AccountError> {
    build(account, paths, seed, Milestones::Simulate)
}

/// What `kam check` needs of the view: every project's go-live (simulated exactly as in
/// [`delivery`], so both agree on P50/P90 and lateness), load and overloads, but no
/// milestone rows — the checks report late projects, not milestones, and skipping their
/// simulations more than halves the cost of `kam check` on an account with milestones.
pub fn for_checks(account: &Account) -> Result<DeliveryReport, AccountError> {
    build(account, DEFAULT_PATHS, DEFAULT_SEED, Milestones::Skip)
}

/// Whether [`build`] simulates the milestones other than the go-live.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Milestones {
    Simulate,
    Skip,
}

fn build(
    account: &Account,
    paths: u64,
    seed: u64,
    milestones_mode: Milestones,
) -> Result<DeliveryReport, AccountError> {
    let file = account.need(&account.delivery, crate::delivery::FILE, "kam delivery")?;
    let linked: BTreeSet<&str> = account
        .growth
        .as_ref()
        .map(|g| g.projects.iter().map(|p| p.name.as_str()).collect())
        .unwrap_or_default();
    let mut projects = Vec::with_capacity(file.project.len());
    // (person, month) → (days, projects); tasks counted once by (shared) id.
    let mut load: Load = BTreeMap::new();
    let mut counted_shared = BTreeSet::new();
    for (i, p) in file.project.iter().enumerate() {
        let core = file.core_project(i).unwrap_or_default();
        let network = core.network().map_err(domain)?;
        let committed_weeks = weeks_between(p.start, p.committed);
        let (p50w, p90w, prob, sub) = simulate_to(&core, &network, &p.go_live, committed_weeks, paths, seed)?;
        let mut milestones = Vec::new();
        for t in &p.task {
            let due = if t.id == p.go_live {
                Some(p.committed)
            } else if t.milestone {
                t.due
            } else {
                None
            };
            let Some(due) = due else { continue };
            if milestones_mode == Milestones::Skip {
                continue;
            }
            let (m50, m90, mprob) = if t.id == p.go_live {
                (p50w, p90w, prob)
            } else {
                let (a, b, c, _) =
                    simulate_to(&core, &network, &t.id, weeks_between(p.start, due), paths, seed)?;
                (a, b, c)
            };
            let p90_date = date_after(p.start, m90);
            milestones.push(MilestoneRow {
                id: t.id.clone(),
                name: t.name.clone(),
                due,
                p50: date_after(p.start, m50),
                p90: p90_date,
                prob_on_time: mprob,
                at_risk: p90_date > due,
            });
        }
        let schedule = network.schedule().map_err(domain)?;
        let mut tasks = Vec::with_capacity(schedule.len());
        let mut unowned_critical = Vec::new();
        let mut responsible: Vec<String> = Vec::new();
        for t in &p.task {
            let Some(s) = schedule.iter().find(|s| s.id == t.id) else {
                continue;
            };
            let r = file.resolved(t);
            let start = date_after(p.start, s.earliest_start);
            let finish = date_after(p.start, s.earliest_finish);
            if s.critical && !t.milestone && r.owner.is_none() {
                unowned_critical.push(t.id.clone());
            }
            if let Some(o) = &r.owner
                && !responsible.contains(o)
            {
                responsible.push(o.clone());
            }
            let first_use = !t.shared || counted_shared.insert(t.id.clone());
            if let Some(o) = &r.owner
                && r.effort_days > Decimal::ZERO
                && first_use
            {
                for (month, days) in spread(r.effort_days, start, finish) {
                    let e = load.entry((o.clone(), month)).or_default();
                    e.days += days;
                    e.projects.insert(p.id.clone());
                }
            }
            tasks.push(TaskRow {
                id: t.id.clone(),
                name: if t.name.is_empty() {
                    r.name.clone()
                } else {
                    t.name.clone()
                },
                owner: r.owner.clone(),
                effort_days: r.effort_days,
                mean_weeks: s.mean,
                start,
                finish,
                slack_weeks: s.slack,
                critical: s.critical,
                milestone: t.milestone,
                shared: t.shared,
            });
        }
        let p90 = date_after(p.start, p90w);
        projects.push(ProjectView {
            id: p.id.clone(),
            name: p.name.clone(),
            deal: p.deal.clone(),
            feeds_growth: linked.contains(p.id.as_str()),
            objectives: p.objectives.clone(),
            start: p.start,
            committed: p.committed,
            go_live: p.go_live.clone(),
            critical_path: sub.critical_path().into_iter().map(str::to_owned).collect(),
            pert_weeks: sub.expected_duration(),
            p50_weeks: p50w,
            p90_weeks: p90w,
            p50: date_after(p.start, p50w),
            p90,
            prob_on_time: prob,
            late: p90 > p.committed,
            milestones,
            unowned_critical,
            raci: Raci {
                responsible,
                accountable: p.owner.clone(),
                consulted: p.consulted.clone(),
                informed: p.informed.clone(),
            },
            tasks,
        });
    }
    for a in &file.assignment {
        for (month, days) in crate::delivery::assignment_months(a) {
            let e = load.entry((a.person.clone(), month)).or_default();
            e.days += days;
            e.assignments.insert(a.target());
        }
    }
    let (people, overloads) = people_load(file, &load);
    let objectives = objective_raci(account, file, &projects);
    Ok(DeliveryReport {
        unit: "weeks".into(),
        paths,
        seed,
        projects,
        load: people,
        overloads,
        objectives,
    })
}

/// One person-month's load and where it comes from.
#[derive(Default)]
struct Work {
    days: Decimal,
    projects: BTreeSet<String>,
    assignments: BTreeSet<String>,
}

/// (person, `YYYY-MM`) → work.
type Load = BTreeMap<(String, String), Work>;

/// The RACI per objective ([`ObjectiveRaci`]).
fn objective_raci(account: &Account, file: &DeliveryFile, projects: &[ProjectView]) -> Vec<ObjectiveRaci> {
    let push = |list: &mut Vec<String>, who: &str| {
        if !list.iter().any(|x| x == who) {
            list.push(who.to_owned());
        }
    };
    let plan_objectives: Vec<&kam_core::plan::Objective> = account
        .plan
        .as_ref()
        .map(|p| p.goals.iter().flat_map(|g| &g.objectives).collect())
        .unwrap_or_default();
    // Referenced objectives: plan order first, then the ones the plan lacks.
    let mut ids: Vec<String> = Vec::new();
    let referenced = projects
        .iter()
        .flat_map(|p| p.objectives.iter().cloned())
        .chain(file.assignment.iter().filter_map(|a| a.objective.clone()));
    let mut unknown = Vec::new();
    for id in referenced {
        if plan_objectives.iter().any(|o| o.id == id) {
            continue;
        }
        push(&mut unknown, &id);
    }
    for o in &plan_objectives {
        let used = projects.iter().any(|p| p.objectives.contains(&o.id))
            || file
                .assignment
                .iter()
                .any(|a| a.objective.as_deref() == Some(o.id.as_str()));
        if used {
            push(&mut ids, &o.id);
        }
    }
    ids.extend(unknown);
    ids.into_iter()
        .map(|id| {
            let planned = plan_objectives.iter().find(|o| o.id == id);
            let mut raci = Raci {
                responsible: Vec::new(),
                accountable: planned.and_then(|o| o.owner.clone()),
                consulted: Vec::new(),
                informed: Vec::new(),
            };
            for a in planned.iter().flat_map(|o| &o.actions) {
                if let Some(owner) = &a.owner {
                    push(&mut raci.responsible, owner);
                }
            }
            let delivering: Vec<&ProjectView> =
                projects.iter().filter(|p| p.objectives.contains(&id)).collect();
            for p in &delivering {
                for r in &p.raci.responsible {
                    push(&mut raci.responsible, r);
                }
                for c in &p.raci.consulted {
                    push(&mut raci.consulted, c);
                }
                for i in &p.raci.informed {
                    push(&mut raci.informed, i);
                }
            }
            for a in file
                .assignment
                .iter()
                .filter(|a| a.objective.as_deref() == Some(id.as_str()))
            {
                let list = match a.role {
                    crate::delivery::Role::Responsible => &mut raci.responsible,
                    crate::delivery::Role::Consulted => &mut raci.consulted,
                    _ => &mut raci.informed,
                };
                push(list, &a.person);
            }
            // One part per person, the strongest they have (the accountable owner may
            // also do the work, but is not also consulted or informed).
            let responsible = raci.responsible.clone();
            let accountable = raci.accountable.clone();
            let stronger = |p: &String| responsible.contains(p) || accountable.as_ref() == Some(p);
            raci.consulted.retain(|p| !stronger(p));
            let consulted = raci.consulted.clone();
            raci.informed.retain(|p| !stronger(p) && !consulted.contains(p));
            ObjectiveRaci {
                objective: id,
                title: planned.map(|o| o.title.clone()),
                projects: delivering.iter().map(|p| p.id.clone()).collect(),
                raci,
            }
        })
        .collect()
}

fn people_load(file: &DeliveryFile, load: &Load) -> (Vec<PersonLoad>, Vec<Overload>) {
    let mut people = Vec::new();
    let mut overloads = Vec::new();
    for person in &file.people {
        let mut months = Vec::new();
        for ((who, month), work) in load.range((person.id.clone(), String::new())..) {
            let days = &work.days;
            if who != &person.id {
                break;
            }
            let over = *days > person.capacity_days_per_month;
            months.push(MonthLoad {
                month: month.clone(),
                days: days.round_dp(2),
                overloaded: over,
            });
            if over {
                overloads.push(Overload {
                    person: person.id.clone(),
                    month: month.clone(),
                    days: days.round_dp(2),
                    capacity_days: person.capacity_days_per_month,
                    projects: work.projects.iter().cloned().collect(),
                    assignments: work.assignments.iter().cloned().collect(),
                });
            }
        }
        people.push(PersonLoad {
            person: person.id.clone(),
            function: person.function,
            capacity_days_per_month: person.capacity_days_per_month,
            months,
        });
    }
    overloads.sort_by(|a, b| (&a.month, &a.person).cmp(&(&b.month, &b.person)));
    (people, overloads)
}

/// `effort` spread evenly over the days `start .. finish` (all of it in `start`'s month
/// when the window is empty), per `YYYY-MM`.
fn spread(effort: Decimal, start: NaiveDate, finish: NaiveDate) -> Vec<(String, Decimal)> {
    let label = |d: NaiveDate| format!("{:04}-{:02}", d.year(), d.month());
    let total = (finish - start).num_days();
    if total <= 0 {
        return vec![(label(start), effort)];
    }
    let mut out: Vec<(String, Decimal)> = Vec::new();
    let mut day = start;
    while day < finish {
        let next_month = day
            .with_day(1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .unwrap_or(finish);
        let end = next_month.min(finish);
        let days = (end - day).num_days();
        out.push((label(day), effort * Decimal::from(days) / Decimal::from(total)));
        day = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effort_is_spread_by_calendar_days() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let s = spread(Decimal::from(20), d(2027, 1, 22), d(2027, 2, 11));
        assert_eq!(
            s,
            vec![
                ("2027-01".to_owned(), Decimal::from(10)),
                ("2027-02".to_owned(), Decimal::from(10))
            ]
        );
        assert_eq!(spread(Decimal::ONE, d(2027, 1, 5), d(2027, 1, 5)).len(), 1);
    }
}
