//! Coaching regional account managers against the global plan standard.
//!
//! The global Account Director sets a [`PlanStandard`]: the plan sections that must be
//! filled, a minimum number of objectives per region, how fresh open actions must be, and
//! how the completeness criteria are weighted. [`assess`] scores each region's part of
//! the global plan (the objectives, targets and whitespace placed at or below the region)
//! and turns every gap into a [`DevelopmentAction`] for that region's account manager.
//!
//! The score is a `Decimal` in [0, 1]: `Σ weightᵢ · scoreᵢ / Σ weightᵢ`, rounded half-even
//! to 4 decimals, over five criteria, each itself in [0, 1]:
//!
//! | criterion | score |
//! |---|---|
//! | sections | required sections present ÷ required sections (plan-wide sections — vision, strategic priorities, SWOT, customer goals — count for every region; goals, targets and whitespace count only if the region has some) |
//! | objectives | min(objectives in the region ÷ minimum, 1) |
//! | ownership | objectives and actions with an owner ÷ all of them |
//! | measures | objectives with a measure ÷ objectives |
//! | freshness | open actions updated within the freshness window ÷ open actions (1 if none are open) |
//!
//! A region without objectives scores 0 on ownership, measures and freshness: there is
//! nothing planned to own, measure or update. Default weights: 30 / 25 / 15 / 15 / 15.
//!
//! This is not a competency model of the manager as a person; it coaches from the plan.
//!
//! ```
//! use chrono::NaiveDate;
//! use kam_core::account::{Account, AccountNode, NodeLevel};
//! use kam_core::coaching::{assess, PlanStandard};
//! use kam_core::plan::Plan;
//!
//! let account = Account {
//!     id: "oem".into(),
//!     name: "OEM".into(),
//!     nodes: vec![
//!         AccountNode::new("global", "Global", NodeLevel::Global, None),
//!         AccountNode::new("emea", "EMEA", NodeLevel::Region, Some("global")),
//!     ],
//!     service_lines: vec![],
//!     buying_centres: vec![],
//! };
//! let plan = Plan::new("p", "oem", "Plan");
//! let as_of = NaiveDate::from_ymd_opt(2027, 2, 1).ok_or("date")?;
//! let report = assess(&plan, &account, &PlanStandard::default(), as_of)?;
//! assert_eq!(report[0].region, "emea");
//! assert_eq!(report[0].score, kam_core::Decimal::ZERO); // an empty plan
//! assert!(!report[0].development_actions.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::fmt;

use chrono::{Days, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::account::{Account, Hierarchy, NodeLevel, StructureError};
use crate::num::{self, ArithmeticError};
use crate::plan::{Plan, Priority};

/// What can go wrong in an assessment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoachingError {
    /// The account structure is invalid.
    #[error("account: {0}")]
    Account(#[from] StructureError),
    /// Weights that are negative or sum to zero.
    #[error("plan standard weights: {reason}")]
    InvalidWeights {
        /// Which weight and why.
        reason: String,
    },
    /// No region with this id.
    #[error("{0:?} is not a region of the account")]
    UnknownRegion(String),
    /// Overflow in the score arithmetic.
    #[error(transparent)]
    Arithmetic(#[from] ArithmeticError),
    /// A date beyond the calendar.
    #[error("development action due date overflows: {as_of} + {days} days")]
    DateOverflow {
        /// The assessment date.
        as_of: NaiveDate,
        /// Days added.
        days: u32,
    },
}

/// A section of the account plan the standard can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// The vision statement.
    Vision,
    /// Strategic priorities.
    StrategicPriorities,
    /// SWOT: all four quadrants filled.
    Swot,
    /// The customer's goals.
    CustomerGoals,
    /// Goals with objectives placed in the region.
    Goals,
    /// Targets for nodes in the region.
    Targets,
    /// Whitespace cells for buying centres in the region.
    Whitespace,
}

impl Section {
    /// Every section.
    pub const ALL: [Section; 7] = [
        Section::Vision,
        Section::StrategicPriorities,
        Section::Swot,
        Section::CustomerGoals,
        Section::Goals,
        Section::Targets,
        Section::Whitespace,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Vision => "vision",
            Section::StrategicPriorities => "strategic_priorities",
            Section::Swot => "swot",
            Section::CustomerGoals => "customer_goals",
            Section::Goals => "goals",
            Section::Targets => "targets",
            Section::Whitespace => "whitespace",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Weights of the completeness criteria (any non-negative scale; normalized by their sum).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletenessWeights {
    /// Required sections present.
    pub sections: Decimal,
    /// Minimum objectives met.
    pub objectives: Decimal,
    /// Objectives and actions owned.
    pub ownership: Decimal,
    /// Objectives measured.
    pub measures: Decimal,
    /// Open actions fresh.
    pub freshness: Decimal,
}

impl Default for CompletenessWeights {
    fn default() -> Self {
        CompletenessWeights {
            sections: Decimal::from(30),
            objectives: Decimal::from(25),
            ownership: Decimal::from(15),
            measures: Decimal::from(15),
            freshness: Decimal::from(15),
        }
    }
}

/// The global plan standard every regional plan is measured against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStandard {
    /// Sections that must be filled.
    pub required_sections: Vec<Section>,
    /// Objectives each region must have.
    pub min_objectives_per_region: u32,
    /// An open action must have been updated within this many days.
    pub action_freshness_days: u32,
    /// Criterion weights.
    #[serde(default)]
    pub weights: CompletenessWeights,
    /// Development actions fall due this many days after the assessment.
    pub development_due_days: u32,
}

impl Default for PlanStandard {
    fn default() -> Self {
        PlanStandard {
            required_sections: Section::ALL.to_vec(),
            min_objectives_per_region: 3,
            action_freshness_days: 30,
            weights: CompletenessWeights::default(),
            development_due_days: 30,
        }
    }
}

/// A completeness criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Required sections present.
    Sections,
    /// Minimum number of objectives.
    Objectives,
    /// Owners on objectives and actions.
    Ownership,
    /// Measures on objectives.
    Measures,
    /// Fresh open actions.
    Freshness,
}

/// One criterion's weight and score for a region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionScore {
    /// Which criterion.
    pub criterion: Criterion,
    /// Its weight as given in the standard.
    pub weight: Decimal,
    /// Score in [0, 1], exact.
    pub score: Decimal,
    /// How the score came about, e.g. `"2 of 3 objectives"`.
    pub detail: String,
}

/// A gap between a regional plan and the standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// A required section is empty.
    MissingSection,
    /// Fewer objectives than the minimum.
    TooFewObjectives,
    /// Objectives or actions without an owner.
    MissingOwners,
    /// Objectives without a measure.
    MissingMeasures,
    /// Open actions not updated within the freshness window.
    StaleActions,
}

impl GapKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::MissingSection => "missing_section",
            GapKind::TooFewObjectives => "too_few_objectives",
            GapKind::MissingOwners => "missing_owners",
            GapKind::MissingMeasures => "missing_measures",
            GapKind::StaleActions => "stale_actions",
        }
    }
}

/// A development action for a regional account manager, derived from a gap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevelopmentAction {
    /// Stable id: `region:gap[:section]`.
    pub id: String,
    /// The region.
    pub region: String,
    /// The regional account manager (from the plan's `regional_managers`), if named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// The gap it closes.
    pub gap: GapKind,
    /// The items concerned (section name, objective/action ids).
    #[serde(default)]
    pub items: Vec<String>,
    /// What to do.
    pub title: String,
    /// When by.
    pub due: NaiveDate,
    /// How urgent.
    pub priority: Priority,
}

/// A region's completeness against the standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionalAssessment {
    /// Region node id.
    pub region: String,
    /// The regional account manager, if named in the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// Weighted completeness in [0, 1], 4 decimals.
    pub score: Decimal,
    /// Per-criterion scores.
    pub criteria: Vec<CriterionScore>,
    /// What to do about the gaps, most urgent first.
    pub development_actions: Vec<DevelopmentAction>,
}

/// Assesses every region of `account` (in file order).
///
/// # Errors
/// An invalid account, invalid weights, or arithmetic overflow.
pub fn assess(
    plan: &Plan,
    account: &Account,
    standard: &PlanStandard,
    as_of: NaiveDate,
) -> Result<Vec<RegionalAssessment>, CoachingError> {
    let h = account.hierarchy()?;
    let index = RegionIndex::new(plan, account, &h);
    account
        .nodes
        .iter()
        .filter(|n| n.level == NodeLevel::Region)
        .map(|n| assess_with(plan, &index, standard, as_of, &n.id))
        .collect()
}

/// Assesses one region.
///
/// # Errors
/// [`CoachingError::UnknownRegion`] if `region` is not a region node, or as [`assess`].
pub fn assess_region(
    plan: &Plan,
    account: &Account,
    standard: &PlanStandard,
    as_of: NaiveDate,
    region: &str,
) -> Result<RegionalAssessment, CoachingError> {
    let h = account.hierarchy()?;
    if h.level(region) != Some(NodeLevel::Region) {
        return Err(CoachingError::UnknownRegion(region.to_owned()));
    }
    let index = RegionIndex::new(plan, account, &h);
    assess_with(plan, &index, standard, as_of, region)
}

/// Which region each objective, target and whitespace cell belongs to.
struct RegionIndex<'a> {
    objectives: HashMap<&'a str, Vec<(usize, usize)>>,
    targets: HashMap<&'a str, usize>,
    whitespace: HashMap<&'a str, usize>,
}

impl<'a> RegionIndex<'a> {
    fn new(plan: &'a Plan, account: &'a Account, h: &'a Hierarchy) -> Self {
        let mut objectives: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
        for (gi, g) in plan.goals.iter().enumerate() {
            for (oi, o) in g.objectives.iter().enumerate() {
                if let Some(r) = h.region_of(&o.node) {
                    objectives.entry(r).or_default().push((gi, oi));
                }
            }
        }
        let mut targets: HashMap<&str, usize> = HashMap::new();
        for t in &plan.targets {
            if let Some(r) = h.region_of(&t.node) {
                *targets.entry(r).or_default() += 1;
            }
        }
        let centre_region: HashMap<&str, &str> = account
            .buying_centres
            .iter()
            .filter_map(|c| h.region_of(&c.node).map(|r| (c.id.as_str(), r)))
            .collect();
        let mut whitespace: HashMap<&str, usize> = HashMap::new();
        for w in &plan.whitespace {
            if let Some(r) = centre_region.get(w.buying_centre.as_str()) {
                *whitespace.entry(r).or_default() += 1;
            }
        }
        RegionIndex {
            objectives,
            targets,
            whitespace,
        }
    }
}

fn ratio(part: usize, whole: usize, op: &str) -> Result<Decimal, CoachingError> {
    if whole == 0 {
        return Ok(Decimal::ZERO);
    }
    Ok(num::div(Decimal::from(part), Decimal::from(whole), op)?)
}

fn assess_with(
    plan: &Plan,
    index: &RegionIndex<'_>,
    standard: &PlanStandard,
    as_of: NaiveDate,
    region: &str,
) -> Result<RegionalAssessment, CoachingError> {
    let w = &standard.weights;
    let weights = [w.sections, w.objectives, w.ownership, w.measures, w.freshness];
    if let Some(neg) = weights.iter().find(|x| x.is_sign_negative() && !x.is_zero()) {
        return Err(CoachingError::InvalidWeights {
            reason: format!("weights must not be negative, got {neg}"),
        });
    }
    let total_weight = num::sum(weights, "plan standard weight total")?;
    if total_weight.is_zero() {
        return Err(CoachingError::InvalidWeights {
            reason: "all weights are zero".into(),
        });
    }
    let due = as_of
        .checked_add_days(Days::new(u64::from(standard.development_due_days)))
        .ok_or(CoachingError::DateOverflow {
            as_of,
            days: standard.development_due_days,
        })?;
    let manager = plan.regional_managers.get(region).cloned();
    let mut actions = Vec::new();
    let mut act =
        |gap: GapKind, suffix: Option<&str>, items: Vec<String>, title: String, priority: Priority| {
            actions.push(DevelopmentAction {
                id: match suffix {
                    Some(s) => format!("{region}:{}:{s}", gap.as_str()),
                    None => format!("{region}:{}", gap.as_str()),
                },
                region: region.to_owned(),
                manager: manager.clone(),
                gap,
                items,
                title,
                due,
                priority,
            });
        };

    let objectives: Vec<_> = index
        .objectives
        .get(region)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|&(gi, oi)| plan.goals.get(gi).and_then(|g| g.objectives.get(oi)))
        .collect();

    // Sections.
    let mut present = 0usize;
    for &s in &standard.required_sections {
        let ok = match s {
            Section::Vision => !plan.vision.trim().is_empty(),
            Section::StrategicPriorities => !plan.strategic_priorities.is_empty(),
            Section::Swot => {
                let q = &plan.swot;
                !(q.strengths.is_empty()
                    || q.weaknesses.is_empty()
                    || q.opportunities.is_empty()
                    || q.threats.is_empty())
            }
            Section::CustomerGoals => !plan.customer_goals.is_empty(),
            Section::Goals => !objectives.is_empty(),
            Section::Targets => index.targets.get(region).is_some_and(|&n| n > 0),
            Section::Whitespace => index.whitespace.get(region).is_some_and(|&n| n > 0),
        };
        if ok {
            present += 1;
        } else {
            act(
                GapKind::MissingSection,
                Some(s.as_str()),
                vec![s.as_str().to_owned()],
                format!(
                    "Complete the {} section of the account plan for {region}",
                    s.as_str().replace('_', " ")
                ),
                Priority::High,
            );
        }
    }
    let sections = if standard.required_sections.is_empty() {
        Decimal::ONE
    } else {
        ratio(present, standard.required_sections.len(), "section completeness")?
    };

    // Objectives.
    let need = usize::try_from(standard.min_objectives_per_region).unwrap_or(usize::MAX);
    let have = objectives.len();
    let objectives_score = if need == 0 {
        Decimal::ONE
    } else {
        ratio(have.min(need), need, "objective completeness")?
    };
    if have < need {
        act(
            GapKind::TooFewObjectives,
            None,
            Vec::new(),
            format!(
                "Agree {} more objective(s) for {region} with the customer (has {have}, the standard asks for {need})",
                need - have
            ),
            Priority::High,
        );
    }

    // Ownership.
    let mut unowned = Vec::new();
    let mut owned_items = 0usize;
    let mut all_items = 0usize;
    let has_owner = |o: &Option<String>| o.as_deref().is_some_and(|s| !s.trim().is_empty());
    for o in &objectives {
        all_items += 1;
        if has_owner(&o.owner) {
            owned_items += 1;
        } else {
            unowned.push(o.id.clone());
        }
        for a in &o.actions {
            all_items += 1;
            if has_owner(&a.owner) {
                owned_items += 1;
            } else {
                unowned.push(a.id.clone());
            }
        }
    }
    let ownership = ratio(owned_items, all_items, "ownership")?;
    if !unowned.is_empty() {
        act(
            GapKind::MissingOwners,
            None,
            unowned.clone(),
            format!(
                "Name an owner for {} objective(s)/action(s) in {region}: {}",
                unowned.len(),
                unowned.join(", ")
            ),
            Priority::High,
        );
    }

    // Measures.
    let unmeasured: Vec<String> = objectives
        .iter()
        .filter(|o| o.measure.is_none())
        .map(|o| o.id.clone())
        .collect();
    let measures = ratio(have - unmeasured.len(), have, "measures")?;
    if !unmeasured.is_empty() {
        act(
            GapKind::MissingMeasures,
            None,
            unmeasured.clone(),
            format!(
                "Attach a KPI measure to objective(s) {} in {region}",
                unmeasured.join(", ")
            ),
            Priority::Medium,
        );
    }

    // Freshness.
    let window = i64::from(standard.action_freshness_days);
    let mut open = 0usize;
    let mut stale = Vec::new();
    for a in objectives
        .iter()
        .flat_map(|o| o.actions.iter())
        .filter(|a| !a.status.is_closed())
    {
        open += 1;
        if a.updated.is_none_or(|d| (as_of - d).num_days() > window) {
            stale.push(a.id.clone());
        }
    }
    let freshness = if have == 0 {
        Decimal::ZERO
    } else if open == 0 {
        Decimal::ONE
    } else {
        ratio(open - stale.len(), open, "freshness")?
    };
    if !stale.is_empty() {
        act(
            GapKind::StaleActions,
            None,
            stale.clone(),
            format!(
                "Update progress on {} open action(s) in {region} not updated within {window} days: {}",
                stale.len(),
                stale.join(", ")
            ),
            Priority::Medium,
        );
    }

    let criteria = vec![
        CriterionScore {
            criterion: Criterion::Sections,
            weight: w.sections,
            score: sections,
            detail: format!(
                "{present} of {} required sections",
                standard.required_sections.len()
            ),
        },
        CriterionScore {
            criterion: Criterion::Objectives,
            weight: w.objectives,
            score: objectives_score,
            detail: format!("{have} of {need} objectives"),
        },
        CriterionScore {
            criterion: Criterion::Ownership,
            weight: w.ownership,
            score: ownership,
            detail: format!("{owned_items} of {all_items} objectives and actions owned"),
        },
        CriterionScore {
            criterion: Criterion::Measures,
            weight: w.measures,
            score: measures,
            detail: format!("{} of {have} objectives measured", have - unmeasured.len()),
        },
        CriterionScore {
            criterion: Criterion::Freshness,
            weight: w.freshness,
            score: freshness,
            detail: format!(
                "{} of {open} open actions updated within {window} days",
                open - stale.len()
            ),
        },
    ];
    let mut weighted = Decimal::ZERO;
    for c in &criteria {
        weighted = num::add(
            weighted,
            num::mul(c.weight, c.score, "criterion weight × score")?,
            "weighted score",
        )?;
    }
    let score = num::div(weighted, total_weight, "completeness score")?
        .round_dp_with_strategy(4, RoundingStrategy::MidpointNearestEven)
        .clamp(Decimal::ZERO, Decimal::ONE);
    actions.sort_by_key(|a| std::cmp::Reverse(a.priority));
    Ok(RegionalAssessment {
        region: region.to_owned(),
        manager,
        score,
        criteria,
        development_actions: actions,
    })
}
