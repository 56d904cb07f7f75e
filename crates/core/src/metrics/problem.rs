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

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::alert::{Alert, AlertKind, AlertRegister};
use super::escalation::Severity;
use crate::account::Hierarchy;
pub(crate) use crate::fxhash::FxMap;

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
    severity: impl Fn(&Alert) -> Severity + Sync,
) -> Vec<Problem> {
    fold(register, periods, &severity, None)
}

/// What an alert list needs of [`correlate`], at a fraction of its cost on a large
/// register: only the **latest** problem of each (node, KPI), and of those only the open
/// ones and those for which `also(node, kpi)` holds (say, a (node, KPI) an action plan
/// works on, to follow it to resolution). Problems that cleared before a later one of
/// the same (node, KPI) are never built. Order as [`correlate`]'s.
pub fn correlate_latest(
    register: &AlertRegister,
    periods: &[String],
    severity: impl Fn(&Alert) -> Severity + Sync,
    also: impl Fn(&str, &str) -> bool + Sync,
) -> Vec<Problem> {
    fold(register, periods, &severity, Some(&also))
}

/// Which (node, KPI) problems that cleared to keep ([`correlate_latest`]).
type Also<'a> = dyn Fn(&str, &str) -> bool + Sync + 'a;
/// The severity of an alert.
type Rate<'a> = dyn Fn(&Alert) -> Severity + Sync + 'a;

/// [`correlate`] (`latest` `None`) and [`correlate_latest`]. Alerts of different KPIs
/// never form one problem, so the register is split by KPI and the KPIs folded on
/// threads (each KPI's node map stays small and in cache); problems are put back in the
/// order of their first alert.
fn fold(
    register: &AlertRegister,
    periods: &[String],
    severity: &Rate<'_>,
    latest: Option<&Also<'_>>,
) -> Vec<Problem> {
    let alerts = register.alerts();
    // Split by KPI (consecutive alerts mostly share one: the last is remembered); each
    // KPI's alerts are grouped by node on the fold threads.
    let mut kpi_of: FxMap<&str, usize> = FxMap::default();
    let mut by_kpi: Vec<Vec<u32>> = Vec::new();
    let mut last: Option<(&str, usize)> = None;
    for (i, a) in alerts.iter().enumerate() {
        let k = match last {
            Some((s, k)) if std::ptr::eq(s, &*a.kpi) || s == &*a.kpi => k,
            _ => {
                let next = by_kpi.len();
                let k = *kpi_of.entry(&a.kpi).or_insert(next);
                if k == next {
                    by_kpi.push(Vec::new());
                }
                last = Some((&a.kpi, k));
                k
            }
        };
        if let (Some(list), Ok(i)) = (by_kpi.get_mut(k), u32::try_from(i)) {
            list.push(i);
        }
    }
    let index: FxMap<&str, usize> = periods.iter().enumerate().map(|(i, p)| (p.as_str(), i)).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(by_kpi.len())
        .max(1);
    let per = by_kpi.len().div_ceil(threads).max(1);
    let mut parts: Vec<Vec<(u32, Problem)>> = Vec::new();
    std::thread::scope(|scope| {
        let index = &index;
        let handles: Vec<_> = by_kpi
            .chunks(per)
            .map(|chunk| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for members in chunk {
                        let kg = KpiGroups::of(alerts, members);
                        fold_kpi(alerts, &kg, index, severity, latest, &mut out);
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            // A panicking fold thread loses its KPIs' problems rather than the process.
            if let Ok(p) = h.join() {
                parts.push(p);
            }
        }
    });
    let mut all: Vec<(u32, Problem)> = parts.into_iter().flatten().collect();
    all.sort_by_key(|(first, _)| *first);
    all.into_iter().map(|(_, p)| p).collect()
}

/// One KPI's alerts grouped by node.
#[derive(Default)]
struct KpiGroups<'a> {
    /// Node → group, numbered in order of first appearance.
    group_of: FxMap<&'a str, u32>,
    /// Whether each group has an open alert.
    open: Vec<bool>,
    /// (group, register index) of each alert, in register order.
    members: Vec<(u32, u32)>,
}

impl<'a> KpiGroups<'a> {
    /// Groups one KPI's alerts (register indexes, in register order) by node.
    fn of(alerts: &'a [Alert], members: &[u32]) -> Self {
        let mut kg = KpiGroups::default();
        kg.members.reserve(members.len());
        for &i in members {
            let Some(a) = alerts.get(i as usize) else { continue };
            let next = u32::try_from(kg.open.len()).unwrap_or(u32::MAX);
            let g = *kg.group_of.entry(&a.node).or_insert(next);
            if g == next {
                kg.open.push(false);
            }
            if a.closed.is_none()
                && let Some(o) = kg.open.get_mut(g as usize)
            {
                *o = true;
            }
            kg.members.push((g, i));
        }
        kg
    }
}

/// The problems of one KPI's alerts, each with the register index of its first alert.
fn fold_kpi(
    alerts: &[Alert],
    kg: &KpiGroups<'_>,
    index: &FxMap<&str, usize>,
    severity: &Rate<'_>,
    latest: Option<&Also<'_>>,
    out: &mut Vec<(u32, Problem)>,
) {
    let at = |p: &str| index.get(p).copied().unwrap_or(usize::MAX);
    let (group_of, open, group) = (&kg.group_of, &kg.open, &kg.members);
    // Only the groups to build (all, or the open and those `also` keeps), in a counting
    // sort by group.
    let groups = open.len();
    let wanted: Vec<bool> = match latest {
        None => vec![true; groups],
        Some(also) => {
            let mut w = open.clone();
            for (node, &g) in group_of {
                if let Some(x) = w.get_mut(g as usize)
                    && !*x
                {
                    let kpi = group
                        .first()
                        .and_then(|(_, i)| alerts.get(*i as usize))
                        .map_or("", |a| &*a.kpi);
                    *x = also(node, kpi);
                }
            }
            w
        }
    };
    let mut start = vec![0u32; groups + 1];
    for &(g, _) in group {
        if wanted.get(g as usize).copied().unwrap_or(false)
            && let Some(s) = start.get_mut(g as usize + 1)
        {
            *s += 1;
        }
    }
    for g in 0..groups {
        let before = start.get(g).copied().unwrap_or(0);
        if let Some(s) = start.get_mut(g + 1) {
            *s += before;
        }
    }
    let mut fill = start.clone();
    let mut order = vec![0u32; start.last().copied().unwrap_or(0) as usize];
    for &(g, i) in group {
        if !wanted.get(g as usize).copied().unwrap_or(false) {
            continue;
        }
        if let Some(f) = fill.get_mut(g as usize) {
            if let Some(o) = order.get_mut(*f as usize) {
                *o = i;
            }
            *f += 1;
        }
    }
    let span = |i: u32| {
        alerts
            .get(i as usize)
            .map_or((usize::MAX, usize::MAX, usize::MAX), |a| {
                (
                    at(&a.opened),
                    at(&a.last_seen),
                    a.closed.as_deref().map_or(usize::MAX, at),
                )
            })
    };
    let mut members: Vec<(u32, (usize, usize, usize))> = Vec::new();
    for g in 0..groups {
        let (from, to) = (
            start.get(g).copied().unwrap_or(0) as usize,
            start.get(g + 1).copied().unwrap_or(0) as usize,
        );
        if from == to {
            continue;
        }
        members.clear();
        members.extend(
            order
                .get(from..to)
                .unwrap_or_default()
                .iter()
                .map(|&i| (i, span(i))),
        );
        // Raising order is period order already; sort (stably) only if the register
        // was built otherwise.
        if !members.windows(2).all(|w| w[0].1.0 <= w[1].1.0) {
            members.sort_by_key(|m| m.1.0);
        }
        if latest.is_some() {
            // Where the last problem starts, from the spans alone.
            let mut last_start = 0;
            let mut end = 0;
            for (m, (_, (o, _, e))) in members.iter().enumerate() {
                if m == 0 || *o > end {
                    last_start = m;
                    end = *e;
                } else {
                    end = end.max(*e);
                }
            }
            members.drain(..last_start);
        }
        let mut current: Option<(u32, Problem, usize, usize)> = None; // (first alert, problem, end, latest idx)
        for &(i, (opened, seen, end)) in &members {
            let Some(a) = alerts.get(i as usize) else { continue };
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
                Some((_, p, p_end, p_latest)) if opened <= *p_end => {
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
                    if let Some((first, p, _, _)) = current.take() {
                        out.push((first, p));
                    }
                    let mut reasons = Vec::with_capacity(to - from);
                    let severity = reason.severity;
                    reasons.push(reason);
                    current = Some((
                        i,
                        Problem {
                            node: Arc::clone(&a.node),
                            kpi: Arc::clone(&a.kpi),
                            first: Arc::clone(&a.opened),
                            latest: Arc::clone(&a.last_seen),
                            closed: a.closed.clone(),
                            severity,
                            reasons,
                        },
                        end,
                        seen,
                    ));
                }
            }
        }
        if let Some((first, p, _, _)) = current {
            out.push((first, p));
        }
    }
}

/// For each problem, the index (into `plans`, given as (node, KPI) pairs) of the action
/// plan working on it: one for the same KPI at the same node, else the nearest one at an
/// ancestor (a regional plan covers its sites), else the nearest at a descendant (a
/// site's plan covers the region its figures pull down); the first in `plans` on a tie.
/// `None`: no plan for it.
pub fn link(problems: &[Problem], plans: &[(&str, &str)], hierarchy: &Hierarchy) -> Vec<Option<usize>> {
    if plans.is_empty() {
        return vec![None; problems.len()];
    }
    // Nodes by index with their parents, KPIs interned: keys become integers.
    let ids = hierarchy.bottom_up();
    let node_index: FxMap<&str, u32> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    let parent: Vec<Option<u32>> = ids
        .iter()
        .map(|id| hierarchy.parent(id).and_then(|p| node_index.get(p).copied()))
        .collect();
    let mut kpi_index: FxMap<&str, u32> = FxMap::default();
    // (kpi, node) → the plan there (first wins); (kpi, node) → the nearest plan below.
    let mut here: FxMap<(u32, u32), usize> = FxMap::default();
    let mut below: FxMap<(u32, u32), (usize, usize)> = FxMap::default();
    for (i, (node, kpi)) in plans.iter().enumerate() {
        let Some(&n) = node_index.get(node) else { continue };
        let next = u32::try_from(kpi_index.len()).unwrap_or(u32::MAX);
        let k = *kpi_index.entry(kpi).or_insert(next);
        here.entry((k, n)).or_insert(i);
        let mut d = 0;
        let mut cur = parent.get(n as usize).copied().flatten();
        while let Some(a) = cur {
            let e = below.entry((k, a)).or_insert((d, i));
            if (d, i) < *e {
                *e = (d, i);
            }
            d += 1;
            cur = parent.get(a as usize).copied().flatten();
        }
    }
    problems
        .iter()
        .map(|p| {
            let k = *kpi_index.get(&*p.kpi)?;
            let n = *node_index.get(&*p.node)?;
            if let Some(&i) = here.get(&(k, n)) {
                return Some(i);
            }
            let mut cur = parent.get(n as usize).copied().flatten();
            while let Some(a) = cur {
                if let Some(&i) = here.get(&(k, a)) {
                    return Some(i);
                }
                cur = parent.get(a as usize).copied().flatten();
            }
            below.get(&(k, n)).map(|&(_, i)| i)
        })
        .collect()
}

/// The (node, KPI) pairs action plans reach by [`link`]'s rule — each plan's node, the
/// nodes above it and the nodes below it, for its KPI — to tell [`correlate_latest`]
/// which problems that cleared to keep (they were worked on).
#[derive(Debug, Clone, Default)]
pub struct PlanReach<'a> {
    nodes: FxMap<&'a str, u32>,
    kpis: FxMap<&'a str, u32>,
    reached: FxMap<(u32, u32), ()>,
}

impl<'a> PlanReach<'a> {
    /// The reach of `plans` ((node, KPI) pairs) in `hierarchy`.
    pub fn new(plans: &[(&'a str, &'a str)], hierarchy: &'a Hierarchy) -> Self {
        let ids = hierarchy.bottom_up();
        let nodes: FxMap<&str, u32> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); ids.len()];
        let mut parent: Vec<Option<u32>> = vec![None; ids.len()];
        for (i, id) in ids.iter().enumerate() {
            if let Some(&p) = hierarchy.parent(id).and_then(|p| nodes.get(p)) {
                if let Some(c) = children.get_mut(p as usize) {
                    c.push(u32::try_from(i).unwrap_or(u32::MAX));
                }
                if let Some(x) = parent.get_mut(i) {
                    *x = Some(p);
                }
            }
        }
        let mut kpis: FxMap<&str, u32> = FxMap::default();
        let mut reached: FxMap<(u32, u32), ()> = FxMap::default();
        for (node, kpi) in plans {
            let Some(&n) = nodes.get(node) else { continue };
            let next = u32::try_from(kpis.len()).unwrap_or(u32::MAX);
            let k = *kpis.entry(kpi).or_insert(next);
            let mut cur = Some(n);
            while let Some(a) = cur {
                reached.insert((k, a), ());
                cur = parent.get(a as usize).copied().flatten();
            }
            let mut stack: Vec<u32> = children.get(n as usize).cloned().unwrap_or_default();
            while let Some(c) = stack.pop() {
                reached.insert((k, c), ());
                stack.extend(children.get(c as usize).into_iter().flatten());
            }
        }
        PlanReach { nodes, kpis, reached }
    }

    /// Whether a plan reaches `kpi` at `node`.
    pub fn reaches(&self, node: &str, kpi: &str) -> bool {
        match (self.kpis.get(kpi), self.nodes.get(node)) {
            (Some(&k), Some(&n)) => self.reached.contains_key(&(k, n)),
            _ => false,
        }
    }
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

        // Only the latest problem of each (node, KPI): the open ones, and those `also` keeps.
        let open_only: Vec<Problem> = problems.iter().filter(|p| p.is_open()).cloned().collect();
        assert_eq!(
            correlate_latest(&reg, &periods, severity, |_, _| false),
            open_only
        );
        let every_key = correlate_latest(&reg, &periods, severity, |_, _| true);
        let keys: std::collections::BTreeSet<_> = problems.iter().map(|p| (&p.node, &p.kpi)).collect();
        assert_eq!(every_key.len(), keys.len());
        assert!(
            every_key
                .iter()
                .all(|p| problems.iter().rev().find(|q| q.node == p.node && q.kpi == p.kpi) == Some(p))
        );

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
