//! The solution delivery section: `project()` and its PERT/CPM methods over
//! `kam_core::delivery`, and `p.simulate(paths, seed)` over `kam_sim::delivery`.
//!
//! A script builds the project task by task; each `p.task` checks what it can on its
//! own (the id, the durations), while what needs the whole project — an `after` naming
//! a task not (yet) defined, a cycle — is reported by the first analysis call, naming
//! the task. The validated network is cached until the next `p.task`. This module
//! converts arguments and errors only; it computes nothing itself.

use std::sync::Arc;

use kam_core::delivery::{DeliveryError, Network, Project, Task};
use kam_sim::EmpiricalDistribution;
use kam_sim::delivery::simulate_finish;
use rhai::{Array, Dynamic, Map};
use rust_decimal::Decimal;

use super::growth::paths_arg;
use super::{Api, R, arg_err, fn_err, id_text, known_fields, map, num, type_name};

/// A project as scripts hold it: the records, and the network once an analysis built it.
#[derive(Debug, Clone)]
pub struct ScriptProject {
    project: Project,
    network: Option<Arc<Network>>,
}

impl ScriptProject {
    fn new() -> Self {
        ScriptProject {
            project: Project::new("project"),
            network: None,
        }
    }

    /// The validated network, built on first use after a change; errors name `func`.
    fn network(&mut self, func: &str) -> R<Arc<Network>> {
        if let Some(n) = &self.network {
            return Ok(Arc::clone(n));
        }
        let n = Arc::new(self.project.network().map_err(|e| fn_err(func, e))?);
        self.network = Some(Arc::clone(&n));
        Ok(n)
    }
}

/// A task id: a string, or an integer (keyed by its text).
fn task_id(func: &str, arg: &str, v: &Dynamic) -> R<String> {
    id_text(v).ok_or_else(|| {
        arg_err(
            func,
            arg,
            format!("a task id must be a string, got {} {v}", type_name(v)),
        )
    })
}

/// `p.task(id, spec)`: the task record from the script's map.
fn task_from(f: &str, id: &str, spec: &Map) -> R<Task> {
    known_fields(
        f,
        "spec",
        spec,
        &[
            "optimistic",
            "most_likely",
            "pessimistic",
            "after",
            "owner",
            "milestone",
        ],
    )?;
    let milestone = match spec.get("milestone") {
        None => false,
        Some(v) => v.as_bool().map_err(|_| {
            arg_err(
                f,
                "spec.milestone",
                format!("task {id:?}: must be true or false, got {}", type_name(v)),
            )
        })?,
    };
    let duration = |key: &str| -> R<Decimal> {
        match spec.get(key) {
            Some(v) => num(f, &format!("spec.{key}"), v).map_err(|_| {
                arg_err(
                    f,
                    &format!("spec.{key}"),
                    format!("task {id:?}: must be a number, got {}", type_name(v)),
                )
            }),
            // A milestone may leave its (zero) durations out.
            None if milestone => Ok(Decimal::ZERO),
            None => Err(arg_err(f, "spec", format!("task {id:?}: missing field `{key}`"))),
        }
    };
    let mut task = Task::new(
        id,
        duration("optimistic")?,
        duration("most_likely")?,
        duration("pessimistic")?,
    );
    task.milestone = milestone;
    if let Some(after) = spec.get("after") {
        let list = after.clone().into_array().map_err(|_| {
            arg_err(
                f,
                "spec.after",
                format!(
                    "task {id:?}: must be an array of task ids, got {}",
                    type_name(after)
                ),
            )
        })?;
        for (i, a) in list.iter().enumerate() {
            task.after.push(task_id(f, &format!("spec.after[{i}]"), a)?);
        }
    }
    if let Some(owner) = spec.get("owner")
        && !owner.is_unit()
    {
        let o = owner.clone().into_string().map_err(|_| {
            arg_err(
                f,
                "spec.owner",
                format!("task {id:?}: must be a string, got {}", type_name(owner)),
            )
        })?;
        task.owner = Some(o);
    }
    Ok(task)
}

pub(crate) fn register(api: &mut Api<'_>) {
    api.section("Solution delivery");
    api.ty::<ScriptProject>(
        "Project",
        "An implementation project: tasks with three-point durations and dependencies (PERT/CPM).",
    );
    api.func(
        "project",
        &["Project"],
        "project() -> Project",
        "An empty project.",
        ScriptProject::new,
    );
    api.func(
        "task",
        &["p: &mut Project", "id: &str", "spec: Map", "()"],
        "p.task(id, #{ optimistic, most_likely, pessimistic, after, owner, milestone })",
        "Adds a task: durations in any one unit with 0 ≤ optimistic ≤ most_likely ≤ pessimistic; \
         `after` (optional) lists the ids of tasks it waits for (they may be added later); `owner` \
         (optional) a string; `milestone: true` a checkpoint whose durations are 0 (may be left out). \
         A duplicate id or bad durations are errors naming the task; an unknown id in `after` or a \
         cycle is reported by the next analysis call, naming the task.",
        |p: &mut ScriptProject, id: Dynamic, spec: Dynamic| -> R<()> {
            let f = "project.task";
            let id = task_id(f, "id", &id)?;
            let spec = map(f, "spec", &spec)?;
            let task = task_from(f, &id, &spec)?;
            if p.project.tasks.iter().any(|t| t.id == task.id) {
                return Err(arg_err(f, "id", format!("task {id:?} is already in the project")));
            }
            task.validate(p.project.tasks.len()).map_err(|e| match e {
                DeliveryError::NegativeDuration { field, .. } => arg_err(f, &format!("spec.{field}"), e),
                DeliveryError::EmptyId { .. } => arg_err(f, "id", "must not be empty"),
                DeliveryError::DuplicateDependency { .. } => arg_err(f, "spec.after", e),
                other => arg_err(f, "spec", other),
            })?;
            p.project.tasks.push(task);
            p.network = None;
            Ok(())
        },
    );
    api.func(
        "critical_path",
        &["p: &mut Project", "Array"],
        "p.critical_path() -> [id, …]",
        "The critical path's task ids, first to last, from the PERT means (o + 4m + p)/6. When \
         chains tie, the one with the largest variance, then the first in task order.",
        |p: &mut ScriptProject| -> R<Array> {
            let net = p.network("project.critical_path")?;
            let ids: Array = net
                .critical_path()
                .into_iter()
                .map(|id| Dynamic::from(id.to_owned()))
                .collect();
            Ok(ids)
        },
    );
    api.func(
        "expected_duration",
        &["p: &mut Project", "decimal"],
        "p.expected_duration() -> decimal",
        "The critical path's PERT mean (the expected project duration).",
        |p: &mut ScriptProject| -> R<Decimal> {
            Ok(p.network("project.expected_duration")?.expected_duration())
        },
    );
    api.func(
        "std_dev",
        &["p: &mut Project", "decimal"],
        "p.std_dev() -> decimal",
        "√ of the sum of the critical tasks' variances ((p − o)/6)².",
        |p: &mut ScriptProject| -> R<Decimal> { Ok(p.network("project.std_dev")?.std_dev()) },
    );
    api.func(
        "prob_within",
        &["p: &mut Project", "x: number", "decimal"],
        "p.prob_within(x) -> decimal",
        "P(finish within x), normal approximation Φ((x − mean)/sd), 20 places; when sd is 0, 1 for \
         x ≥ mean and 0 below.",
        |p: &mut ScriptProject, x: Dynamic| -> R<Decimal> {
            let f = "project.prob_within";
            let x = num(f, "x", &x)?;
            p.network(f)?.prob_within(x).map_err(|e| arg_err(f, "x", e))
        },
    );
    api.func(
        "due_date",
        &["p: &mut Project", "q: number", "decimal"],
        "p.due_date(q) -> decimal",
        "The duration met with probability q: mean + z(q) × sd; q in (0, 1) (any q in [0, 1] gives the \
         mean when sd is 0).",
        |p: &mut ScriptProject, q: Dynamic| -> R<Decimal> {
            let f = "project.due_date";
            let q = num(f, "q", &q)?;
            p.network(f)?.due_date(q).map_err(|e| match e {
                DeliveryError::OutOfRange { range, value, .. } => {
                    arg_err(f, "q", format!("must be in {range}, got {value}"))
                }
                other => fn_err(f, other),
            })
        },
    );
    api.func(
        "slack",
        &["p: &mut Project", "id: &str", "decimal"],
        "p.slack(id) -> decimal",
        "Latest start − earliest start of the task, from the PERT means (0 on the critical path).",
        |p: &mut ScriptProject, id: Dynamic| -> R<Decimal> {
            let f = "project.slack";
            let id = task_id(f, "id", &id)?;
            p.network(f)?.slack(&id).map_err(|e| arg_err(f, "id", e))
        },
    );
    api.func(
        "simulate",
        &["p: &mut Project", "paths: int", "seed: int", "SimulatedDistribution"],
        "p.simulate(paths, seed) -> SimulatedDistribution",
        "Monte Carlo of the finish: every task's duration drawn from its PERT (beta) distribution; \
         `paths` finishes (at most 10,000,000) from `seed` (same seed, same result); .mean, .quantile(q), .prob_at_least(x).",
        |p: &mut ScriptProject, paths: Dynamic, seed: Dynamic| -> R<EmpiricalDistribution> {
            let f = "project.simulate";
            let (n, s) = paths_arg(f, &paths, &seed)?;
            let net = p.network(f)?;
            simulate_finish(&net, n, s, None, &crate::host::native_stop()).map_err(|e| fn_err(f, e))
        },
    );
}
