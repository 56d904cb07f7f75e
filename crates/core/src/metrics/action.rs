//! Action plans that have to prove they worked.
//!
//! An [`ActionPlan`] is raised against a KPI at an account node (usually from an alert):
//! owner, due date, steps. Its lifecycle is
//!
//! ```text
//! open ──start──▶ in progress ──resolve──▶ resolved ──verify──▶ verified
//!                      ▲                       │
//!                      └────────reopen─────────┘
//! ```
//!
//! *Resolved* is the owner's claim; *verified* is the evidence: the KPI must have met its
//! target in each of the last M periods. Any other transition is a typed error, and every
//! transition is recorded with the time, the person and a note (times are passed in).
//!
//! ```
//! use chrono::NaiveDate;
//! use kam_core::metrics::{ActionPlan, ActionState, Kpi};
//! use kam_core::metrics::kpi::{CountBasis, DateBasis};
//! use rust_decimal_macros::dec;
//!
//! let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
//! let at = |d| day(d).and_hms_opt(9, 0, 0).unwrap();
//! let kpi = Kpi::otif(CountBasis::Order, DateBasis::Commit);
//! let mut a = ActionPlan::new("a1", "Recover Pune OTIF", "pune", &kpi.id, "R. Iyer", day(31))?;
//! a.start(at(2), "R. Iyer", "carrier review booked")?;
//! a.resolve(at(10), "R. Iyer", "second carrier onboarded")?;
//! // Back on target (≥ 98 %) only in the last period: not enough for M = 2.
//! assert!(a.verify(at(20), "GAD", &kpi, &[Some(dec!(96)), Some(dec!(98.4))], 2).is_err());
//! a.verify(at(28), "GAD", &kpi, &[Some(dec!(98.4)), Some(dec!(99.1))], 2)?;
//! assert_eq!(a.state, ActionState::Verified);
//! assert_eq!(a.history.len(), 3);
//! # Ok::<(), kam_core::metrics::ActionError>(())
//! ```

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::kpi::Kpi;

/// Where an action plan is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionState {
    /// Agreed, not started.
    Open,
    /// Being worked on.
    InProgress,
    /// The owner says it is fixed.
    Resolved,
    /// The KPI has been back within target for the required periods.
    Verified,
}

impl std::fmt::Display for ActionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ActionState::Open => "open",
            ActionState::InProgress => "in progress",
            ActionState::Resolved => "resolved",
            ActionState::Verified => "verified",
        })
    }
}

/// Why an action plan operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// The lifecycle does not allow this transition.
    #[error("action {action:?}: cannot go from {from} to {to}")]
    TransitionNotAllowed {
        /// Action id.
        action: String,
        /// Current state.
        from: ActionState,
        /// Requested state.
        to: ActionState,
    },
    /// Verification asked while the KPI has not been on target for the required periods.
    #[error("action {action:?}: KPI {kpi:?} on target in {on_target} of the last {required} periods")]
    NotBackOnTarget {
        /// Action id.
        action: String,
        /// KPI id.
        kpi: String,
        /// Trailing periods on target.
        on_target: usize,
        /// Periods required.
        required: usize,
    },
    /// The KPI passed to verify is not the one the action is about.
    #[error("action {action:?} is about KPI {expected:?}, not {given:?}")]
    WrongKpi {
        /// Action id.
        action: String,
        /// The action's KPI.
        expected: String,
        /// The KPI given.
        given: String,
    },
    /// A transition dated before the previous one.
    #[error("action {action:?}: transition at {at} is before the last one at {last}")]
    TimeTravel {
        /// Action id.
        action: String,
        /// Time given.
        at: NaiveDateTime,
        /// Time of the last transition.
        last: NaiveDateTime,
    },
    /// A required field is empty.
    #[error("action {action:?}: {field} must not be empty")]
    Missing {
        /// Action id.
        action: String,
        /// Field name.
        field: &'static str,
    },
    /// Verification needs at least one period.
    #[error("action {action:?}: verification needs at least one period on target")]
    ZeroPeriods {
        /// Action id.
        action: String,
    },
    /// A step index that does not exist.
    #[error("action {action:?}: no step {step}")]
    UnknownStep {
        /// Action id.
        action: String,
        /// Index given.
        step: usize,
    },
}

/// One step of an action plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionStep {
    /// What is to be done.
    pub description: String,
    /// Step due date.
    pub due: NaiveDate,
    /// When it was completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<NaiveDateTime>,
}

/// One recorded transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// State before.
    pub from: ActionState,
    /// State after.
    pub to: ActionState,
    /// When (passed in by the caller).
    pub at: NaiveDateTime,
    /// Who.
    pub by: String,
    /// Why.
    pub note: String,
}

/// An action plan against one KPI at one account node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionPlan {
    /// Unique id.
    pub id: String,
    /// What the plan fixes.
    pub title: String,
    /// Account node.
    pub node: String,
    /// KPI id.
    pub kpi: String,
    /// Accountable owner.
    pub owner: String,
    /// Due date for resolution.
    pub due: NaiveDate,
    /// Steps.
    #[serde(default)]
    pub steps: Vec<ActionStep>,
    /// The alert that triggered it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<u64>,
    /// Current state.
    pub state: ActionState,
    /// Every transition, oldest first.
    #[serde(default)]
    pub history: Vec<Transition>,
}

impl ActionPlan {
    /// A new open plan.
    ///
    /// # Errors
    /// Empty id, node, KPI or owner.
    pub fn new(
        id: &str,
        title: &str,
        node: &str,
        kpi: &str,
        owner: &str,
        due: NaiveDate,
    ) -> Result<Self, ActionError> {
        for (field, v) in [("id", id), ("node", node), ("kpi", kpi), ("owner", owner)] {
            if v.trim().is_empty() {
                return Err(ActionError::Missing {
                    action: id.to_owned(),
                    field,
                });
            }
        }
        Ok(ActionPlan {
            id: id.to_owned(),
            title: title.to_owned(),
            node: node.to_owned(),
            kpi: kpi.to_owned(),
            owner: owner.to_owned(),
            due,
            steps: Vec::new(),
            alert: None,
            state: ActionState::Open,
            history: Vec::new(),
        })
    }

    /// Adds a step.
    pub fn step(&mut self, description: &str, due: NaiveDate) -> &mut Self {
        self.steps.push(ActionStep {
            description: description.to_owned(),
            due,
            done_at: None,
        });
        self
    }

    /// Marks step `index` done.
    ///
    /// # Errors
    /// [`ActionError::UnknownStep`].
    pub fn complete_step(&mut self, index: usize, at: NaiveDateTime) -> Result<(), ActionError> {
        let action = self.id.clone();
        let s = self
            .steps
            .get_mut(index)
            .ok_or(ActionError::UnknownStep { action, step: index })?;
        s.done_at = Some(at);
        Ok(())
    }

    fn transition(
        &mut self,
        to: ActionState,
        at: NaiveDateTime,
        by: &str,
        note: &str,
    ) -> Result<(), ActionError> {
        use ActionState::*;
        let allowed = matches!(
            (self.state, to),
            (Open, InProgress) | (InProgress, Resolved) | (Resolved, InProgress) | (Resolved, Verified)
        );
        if !allowed {
            return Err(ActionError::TransitionNotAllowed {
                action: self.id.clone(),
                from: self.state,
                to,
            });
        }
        if let Some(last) = self.history.last()
            && at < last.at
        {
            return Err(ActionError::TimeTravel {
                action: self.id.clone(),
                at,
                last: last.at,
            });
        }
        self.history.push(Transition {
            from: self.state,
            to,
            at,
            by: by.to_owned(),
            note: note.to_owned(),
        });
        self.state = to;
        Ok(())
    }

    /// open → in progress.
    ///
    /// # Errors
    /// A disallowed transition or a time before the last transition.
    pub fn start(&mut self, at: NaiveDateTime, by: &str, note: &str) -> Result<(), ActionError> {
        self.transition(ActionState::InProgress, at, by, note)
    }

    /// in progress → resolved.
    ///
    /// # Errors
    /// As [`ActionPlan::start`].
    pub fn resolve(&mut self, at: NaiveDateTime, by: &str, note: &str) -> Result<(), ActionError> {
        self.transition(ActionState::Resolved, at, by, note)
    }

    /// resolved → in progress (the fix did not hold).
    ///
    /// # Errors
    /// As [`ActionPlan::start`].
    pub fn reopen(&mut self, at: NaiveDateTime, by: &str, note: &str) -> Result<(), ActionError> {
        self.transition(ActionState::InProgress, at, by, note)
    }

    /// resolved → verified, only if the last `periods` values of `recent` (the KPI at the
    /// action's node, oldest first, since resolution) all meet `kpi`'s target. A period
    /// without data does not count as on target.
    ///
    /// # Errors
    /// Wrong KPI, zero periods, [`ActionError::NotBackOnTarget`], or a disallowed transition.
    pub fn verify(
        &mut self,
        at: NaiveDateTime,
        by: &str,
        kpi: &Kpi,
        recent: &[Option<Decimal>],
        periods: usize,
    ) -> Result<(), ActionError> {
        if kpi.id != self.kpi {
            return Err(ActionError::WrongKpi {
                action: self.id.clone(),
                expected: self.kpi.clone(),
                given: kpi.id.clone(),
            });
        }
        if periods == 0 {
            return Err(ActionError::ZeroPeriods {
                action: self.id.clone(),
            });
        }
        if self.state != ActionState::Resolved {
            return Err(ActionError::TransitionNotAllowed {
                action: self.id.clone(),
                from: self.state,
                to: ActionState::Verified,
            });
        }
        let on_target = recent
            .iter()
            .rev()
            .take_while(|v| v.is_some_and(|v| kpi.thresholds.meets_target(kpi.direction, v)))
            .count();
        if on_target < periods {
            return Err(ActionError::NotBackOnTarget {
                action: self.id.clone(),
                kpi: kpi.id.clone(),
                on_target,
                required: periods,
            });
        }
        let note = format!("{} on target for the last {periods} period(s)", kpi.name);
        self.transition(ActionState::Verified, at, by, &note)
    }

    /// Past its due date and not yet resolved or verified.
    pub fn is_overdue(&self, as_of: NaiveDate) -> bool {
        as_of > self.due && matches!(self.state, ActionState::Open | ActionState::InProgress)
    }

    /// Indexes of steps past their due date and not done.
    pub fn overdue_steps(&self, as_of: NaiveDate) -> Vec<usize> {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.done_at.is_none() && as_of > s.due)
            .map(|(i, _)| i)
            .collect()
    }
}

/// The overdue plans among `plans`.
pub fn overdue(plans: &[ActionPlan], as_of: NaiveDate) -> Vec<&ActionPlan> {
    plans.iter().filter(|p| p.is_overdue(as_of)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::kpi::Kpi;
    use rust_decimal_macros::dec;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 4, d).unwrap()
    }
    fn at(d: u32) -> NaiveDateTime {
        day(d).and_hms_opt(12, 0, 0).unwrap()
    }

    #[test]
    fn lifecycle_and_errors() {
        let kpi = Kpi::damage_ppm();
        let mut a = ActionPlan::new("a", "Cut damage", "leipzig", "damage_ppm", "Ops lead", day(20)).unwrap();
        a.step("Retrain forklift drivers", day(5))
            .step("Add corner protectors", day(10));
        assert!(matches!(
            a.resolve(at(1), "x", ""),
            Err(ActionError::TransitionNotAllowed { .. })
        ));
        assert!(matches!(
            a.verify(at(1), "x", &kpi, &[Some(dec!(10))], 1),
            Err(ActionError::TransitionNotAllowed { .. })
        ));
        a.start(at(2), "Ops lead", "").unwrap();
        assert!(matches!(
            a.start(at(3), "x", ""),
            Err(ActionError::TransitionNotAllowed { .. })
        ));
        assert_eq!(a.overdue_steps(day(6)), vec![0]);
        a.complete_step(0, at(4)).unwrap();
        assert!(a.overdue_steps(day(6)).is_empty());
        assert!(a.complete_step(7, at(4)).is_err());
        assert!(!a.is_overdue(day(20)));
        assert!(a.is_overdue(day(21)));
        assert!(matches!(
            a.resolve(at(1), "x", ""),
            Err(ActionError::TimeTravel { .. })
        ));
        a.resolve(at(15), "Ops lead", "").unwrap();
        assert!(!a.is_overdue(day(25)));
        // Lower is better: 140 ppm meets the 150 target, 160 does not; None never counts.
        assert!(
            a.verify(at(16), "GAD", &kpi, &[Some(dec!(140)), None], 1)
                .is_err()
        );
        assert!(
            a.verify(at(16), "GAD", &kpi, &[Some(dec!(140)), Some(dec!(160))], 1)
                .is_err()
        );
        assert!(matches!(
            a.verify(at(16), "GAD", &Kpi::order_accuracy(), &[Some(dec!(100))], 1),
            Err(ActionError::WrongKpi { .. })
        ));
        assert!(a.verify(at(16), "GAD", &kpi, &[Some(dec!(150))], 0).is_err());
        a.reopen(at(17), "GAD", "relapsed").unwrap();
        a.resolve(at(18), "Ops lead", "").unwrap();
        a.verify(
            at(30),
            "GAD",
            &kpi,
            &[Some(dec!(200)), Some(dec!(150)), Some(dec!(90))],
            2,
        )
        .unwrap();
        assert_eq!(a.state, ActionState::Verified);
        assert!(a.reopen(at(30), "x", "").is_err());
        assert_eq!(
            a.history.iter().map(|t| t.to).collect::<Vec<_>>(),
            vec![
                ActionState::InProgress,
                ActionState::Resolved,
                ActionState::InProgress,
                ActionState::Resolved,
                ActionState::Verified
            ]
        );
        assert_eq!(overdue(&[a.clone()], day(30)).len(), 0);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<ActionPlan>(&json).unwrap(), a);
        let t = toml::to_string(&a).unwrap();
        assert_eq!(toml::from_str::<ActionPlan>(&t).unwrap(), a);
    }
}
