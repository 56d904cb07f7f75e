//! One alert per problem: the register's alerts for the same (node, KPI) that overlap in
//! time are one [`Problem`] with all its reasons, and problems are routed to an owner
//! ([`super::routing`]) and linked to the action plan working on them ([`link`]).
//!
//! The register de-duplicates per (node, KPI, *kind*), so one bad month can hold a
//! threshold breach, a run of adverse periods, a cost-to-serve limit and a rule's alert
//! at once. [`correlate`] folds them: alerts of one (node, KPI) whose periods touch or
//! overlap form one episode — a problem — whose first period is its earliest reason's,
//! whose latest is the last period any reason held, which is open while any reason is,
//! and whose severity is the highest of its reasons'. A problem's [`Problem::key`]
//! (`node/kpi/first`) is stable across re-evaluations of the same data, so an
//! acknowledgement or a notification recorded against it survives a rerun.
//!
//! ```
//! use kam_core::metrics::{evaluate, correlate, AlertPolicy, AlertRegister, KpiLibrary, Observation, ObservationTable, Severity};
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
//! let periods: Vec<String> = ["m1", "m2", "m3", "m4"].map(String::from).to_vec();
//! let mut t = ObservationTable::new(&KpiLibrary::contract_logistics(), &account.hierarchy()?, periods.clone())?;
//! for (p, on_time) in [("m1", 99), ("m2", 97), ("m3", 95), ("m4", 93)] {
//!     t.record("pune", "otif_order_commit", p, Observation::ratio(on_time.into(), dec!(100)))?;
//! }
//! let mut register = AlertRegister::default();
//! evaluate(&t.roll_up()?, &AlertPolicy::default(), &[], &mut register, "m4")?;
//! // Pune goes red in m3 (a threshold breach) and has worsened three periods running by
//! // m4 (a second alert): two alerts, one problem, first seen in m3.
//! let problems = correlate(&register, &periods, |_| Severity::S3);
//! let pune = problems.iter().find(|p| &*p.node == "pune").unwrap();
//! assert_eq!(pune.reasons.len(), 2);
//! assert_eq!(pune.key(), "pune/otif_order_commit/m3");
//! assert!(pune.is_open());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::alert::{Alert, AlertKind, AlertRegister};
use super::escalation::Severity;
use crate::account::Hierarchy;

/// One reason of a problem: one alert of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The alert's register id.
    pub alert: u64,
    /// Kind of problem.
    pub kind: AlertKind,
    /// Period in which this reason was raised.
    pub opened: Arc<str>,
    /// Last period in which it held.
    pub last_seen: Arc<str>,
    /// Period in which it cleared (`None` while it holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Arc<str>>,
    /// The KPI value when raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Decimal>,
    /// A user rule's explanation (empty for built-in kinds).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// This reason's severity.
    pub severity: Severity,
}

/// One problem: a KPI at a node off for a stretch of periods, for one or more reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Account node.
    pub node: Arc<str>,
    /// KPI id.
    pub kpi: Arc<str>,
    /// The earliest period of its reasons.
    pub first: Arc<str>,
    /// The latest period in which any reason held.
    pub latest: Arc<str>,
    /// The period in which the last reason cleared (`None` while any holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Arc<str>>,
    /// The highest severity of its reasons (S1 highest).
    pub severity: Severity,
    /// Its reasons (alerts), in raising order.
    pub reasons: Vec<Reason>,
}

impl Problem {
    /// Whether any reason still holds.
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    /// The stable key `node/kpi/first`: the same problem on the same data has the same
    /// key on every run.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.node, self.kpi, self.first)
    }
}

/// Folds the register's alerts into problems: one per (node, KPI) and stretch of
/// periods in which its alerts touch or overlap (an alert raised in the period another
/// cleared continues the same problem). `periods` are the evaluated periods in order
/// (alerts name periods by label); `severity` rates each alert.
///
/// Problems come in the order of their first alert in the register (which is raising
/// order: period, KPI, node, kind), reasons in raising order. An alert naming a period
/// that is not in `periods` sorts after all others.
pub fn correlate(
    register: &AlertRegister,
    periods: &[String],
    severity: impl Fn(&Alert) -> Severity,
) -> Vec<Problem> {
    let index: HashMap<&str, usize> = periods.iter().enumerate().map(|(i, p)| (p.as_str(), i)).collect();
    let at = |p: &str| index.get(p).copied().unwrap_or(usize::MAX);
    let alerts = register.alerts();
    // Group alert indexes by (node, KPI), groups in order of first appearance.
    let mut group_of: HashMap<(&str, &str), u32> = HashMap::new();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for (i, a) in alerts.iter().enumerate() {
        let next = u32::try_from(groups.len()).unwrap_or(u32::MAX);
        let g = *group_of.entry((&*a.node, &*a.kpi)).or_insert(next);
        if g == next {
            groups.push(Vec::with_capacity(2));
        }
        if let (Some(list), Ok(i)) = (groups.get_mut(g as usize), u32::try_from(i)) {
            list.push(i);
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for mut members in groups {
        // Raising order is period order already; sort (stably) in case the register
        // was built from several sources.
        members.sort_by_key(|&i| alerts.get(i as usize).map_or(usize::MAX, |a| at(&a.opened)));
        let mut current: Option<(Problem, usize, usize)> = None; // (problem, end, latest idx)
        for &i in &members {
            let Some(a) = alerts.get(i as usize) else { continue };
            let opened = at(&a.opened);
            let end = a.closed.as_deref().map_or(usize::MAX, at);
            let seen = at(&a.last_seen);
            let reason = Reason {
                alert: a.id,
                kind: a.kind.clone(),
                opened: Arc::clone(&a.opened),
                last_seen: Arc::clone(&a.last_seen),
                closed: a.closed.clone(),
                value: a.value,
                message: a.message.clone(),
                severity: severity(a),
            };
            match &mut current {
                Some((p, p_end, p_latest)) if opened <= *p_end => {
                    p.severity = p.severity.min(reason.severity);
                    if seen > *p_latest || *p_latest == usize::MAX {
                        *p_latest = seen;
                        p.latest = Arc::clone(&a.last_seen);
                    }
                    if end > *p_end {
                        *p_end = end;
                        p.closed = a.closed.clone();
                    }
                    p.reasons.push(reason);
                }
                _ => {
                    if let Some((p, _, _)) = current.take() {
                        out.push(p);
                    }
                    current = Some((
                        Problem {
                            node: Arc::clone(&a.node),
                            kpi: Arc::clone(&a.kpi),
                            first: Arc::clone(&a.opened),
                            latest: Arc::clone(&a.last_seen),
                            closed: a.closed.clone(),
                            severity: reason.severity,
                            reasons: vec![reason],
                        },
                        end,
                        seen,
                    ));
                }
            }
        }
        if let Some((p, _, _)) = current {
            out.push(p);
        }
    }
    out
}

/// For each problem, the index (into `plans`, given as (node, KPI) pairs) of the action
/// plan working on it: one for the same KPI at the same node, else the nearest one at an
/// ancestor (a regional plan covers its sites), else one at a descendant (a site's plan
/// covers the region its figures pull down); the first in `plans` on a tie. `None`: no
/// plan for it.
pub fn link(problems: &[Problem], plans: &[(&str, &str)], hierarchy: &Hierarchy) -> Vec<Option<usize>> {
    // Plans by KPI, each with its node's ancestors (nearest first).
    let mut by_kpi: HashMap<&str, Vec<(usize, &str, Vec<&str>)>> = HashMap::new();
    for (i, (node, kpi)) in plans.iter().enumerate() {
        by_kpi
            .entry(kpi)
            .or_default()
            .push((i, node, hierarchy.ancestors(node)));
    }
    problems
        .iter()
        .map(|p| {
            let candidates = by_kpi.get(&*p.kpi)?;
            let node: &str = &p.node;
            let ancestors = hierarchy.ancestors(node);
            // Rank: 0 same node, 1 + distance for an ancestor, then descendants by depth.
            candidates
                .iter()
                .filter_map(|(i, plan_node, plan_ancestors)| {
                    if *plan_node == node {
                        Some((0, *i))
                    } else if let Some(d) = ancestors.iter().position(|a| a == plan_node) {
                        Some((1 + d, *i))
                    } else {
                        plan_ancestors
                            .iter()
                            .position(|a| *a == node)
                            .map(|d| (ancestors.len() + 2 + d, *i))
                    }
                })
                .min()
                .map(|(_, i)| i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Account, AccountNode, NodeLevel};
    use crate::metrics::{AlertPolicy, KpiLibrary, Observation, ObservationTable, evaluate};
    use rust_decimal_macros::dec;

    fn account() -> Account {
        Account {
            id: "a".into(),
            name: "A".into(),
            service_lines: vec![],
            buying_centres: vec![],
            nodes: vec![
                AccountNode::new("global", "G", NodeLevel::Global, None),
                AccountNode::new("emea", "E", NodeLevel::Region, Some("global")),
                AccountNode::new("de", "D", NodeLevel::Country, Some("emea")),
                AccountNode::new("leipzig", "L", NodeLevel::Site, Some("de")),
                AccountNode::new("bremen", "B", NodeLevel::Site, Some("de")),
            ],
        }
    }

    #[test]
    fn overlapping_alerts_are_one_problem_and_a_later_relapse_another() {
        let periods: Vec<String> = (1..=8).map(|p| format!("p{p}")).collect();
        let h = account().hierarchy().unwrap();
        let mut t = ObservationTable::new(&KpiLibrary::contract_logistics(), &h, periods.clone()).unwrap();
        // Cost to serve: 90 green, then worse and worse (adverse run, over the limit,
        // red), green again in p6, red again in p8.
        for (p, v) in [90, 93, 94, 96, 98, 90, 90, 98].iter().enumerate() {
            for site in ["leipzig", "bremen"] {
                t.record(
                    site,
                    "cost_to_serve_pct",
                    &periods[p],
                    Observation::ratio(Decimal::from(*v), dec!(100)),
                )
                .unwrap();
            }
        }
        let mut reg = AlertRegister::default();
        evaluate(
            &t.roll_up().unwrap(),
            &AlertPolicy::default(),
            &[],
            &mut reg,
            "p8",
        )
        .unwrap();
        let severity = |a: &Alert| match a.kind {
            AlertKind::ThresholdBreach => Severity::S2,
            _ => Severity::S3,
        };
        let problems = correlate(&reg, &periods, severity);
        let leipzig: Vec<_> = problems.iter().filter(|p| &*p.node == "leipzig").collect();
        assert_eq!(leipzig.len(), 2, "{leipzig:#?}");
        assert_eq!(&*leipzig[0].first, "p4");
        assert_eq!(leipzig[0].closed.as_deref(), Some("p6"));
        assert_eq!(&*leipzig[0].latest, "p5");
        assert!(leipzig[0].reasons.len() >= 3);
        assert_eq!(leipzig[0].severity, Severity::S2);
        assert!(leipzig[1].is_open());
        assert_eq!(leipzig[1].key(), "leipzig/cost_to_serve_pct/p8");
        // Every node of the hierarchy raised: sites, country, region, global.
        for n in ["bremen", "de", "emea", "global"] {
            assert!(problems.iter().any(|p| &*p.node == n && p.is_open()), "{n}");
        }
        // No two open problems share a (node, KPI).
        let mut open: Vec<_> = problems
            .iter()
            .filter(|p| p.is_open())
            .map(|p| (&p.node, &p.kpi))
            .collect();
        let n = open.len();
        open.sort();
        open.dedup();
        assert_eq!(open.len(), n);

        // Linking: a plan at the site covers the site and the country above it; a
        // regional plan covers what no nearer plan does.
        let plans = [
            ("leipzig", "cost_to_serve_pct"),
            ("emea", "cost_to_serve_pct"),
            ("leipzig", "otif_order_commit"),
        ];
        let links = link(&problems, &plans, &h);
        for (p, l) in problems.iter().zip(&links) {
            // The global account: the regional plan, the nearest descendant.
            let want = if &*p.node == "leipzig" { Some(0) } else { Some(1) };
            assert_eq!(*l, want, "{}", p.key());
        }
        assert_eq!(link(&problems, &[], &h), vec![None; problems.len()]);
    }
}
