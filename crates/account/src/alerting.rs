//! `alerts.toml`: who owns which alert, how long a problem may go without an action
//! plan, how many green periods prove an action worked, how severe each kind of alert
//! is, and when an alert opens an escalation (with the SLA hours per severity).
//!
//! Every name in it is checked when the account loads, with the error at the
//! file:line:column of the name: an owner that is not one of our people in
//! stakeholders.toml, a KPI that is neither in the KPI library nor a family, a node that
//! is not in account.toml, a negative or zero period count, an SLA that is not positive.
//! Families are names for lists of KPIs (`service = ["otif_order_commit", …]`); a route
//! or escalation rule may name a family wherever it names a KPI.

use std::collections::BTreeMap;

use kam_core::account::{Hierarchy, NodeLevel};
use kam_core::metrics::{AlertKind, KpiLibrary, Route, RoutingTable, Severity, SlaPolicy};
use kam_core::stakeholders::StakeholderMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::files::{self, FileError};

/// The validated `alerts.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertSettings {
    /// An open problem without an action plan is flagged once it is this many periods
    /// old (default 0: at once).
    pub grace_periods: u32,
    /// An action plan is resolved (verified) only after its KPI has been on target this
    /// many periods in a row.
    pub verify_periods: u32,
    /// KPI families by name, each a list of KPI ids.
    pub families: BTreeMap<String, Vec<String>>,
    /// The routing table, families expanded into KPI ids.
    pub routing: RoutingTable,
    /// Severity of each kind of alert.
    pub severity: KindSeverity,
    /// SLA hours per rung, per severity.
    pub sla: SlaPolicy,
    /// When an alert opens an escalation, first match wins.
    pub escalate: Vec<EscalationRule>,
}

/// The severity of each kind of alert (a problem's is the highest of its reasons').
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSeverity {
    /// A threshold breach.
    #[serde(default = "s2")]
    pub threshold_breach: Severity,
    /// A run of adverse periods.
    #[serde(default = "s3")]
    pub consecutive_adverse: Severity,
    /// Cost-to-serve over the limit.
    #[serde(default = "s2")]
    pub cost_to_serve_over_limit: Severity,
    /// Margin under the floor.
    #[serde(default = "s2")]
    pub margin_under_floor: Severity,
    /// An alert raised by a Rhai rule or a plugin.
    #[serde(default = "s3")]
    pub rule: Severity,
}

fn s2() -> Severity {
    Severity::S2
}

fn s3() -> Severity {
    Severity::S3
}

impl Default for KindSeverity {
    fn default() -> Self {
        KindSeverity {
            threshold_breach: s2(),
            consecutive_adverse: s3(),
            cost_to_serve_over_limit: s2(),
            margin_under_floor: s2(),
            rule: s3(),
        }
    }
}

impl KindSeverity {
    /// The severity of an alert of `kind`.
    pub fn of(&self, kind: &AlertKind) -> Severity {
        match kind {
            AlertKind::ThresholdBreach => self.threshold_breach,
            AlertKind::ConsecutiveAdverse => self.consecutive_adverse,
            AlertKind::CostToServeOverLimit => self.cost_to_serve_over_limit,
            AlertKind::MarginUnderFloor => self.margin_under_floor,
            AlertKind::Rule(_) => self.rule,
        }
    }
}

/// When a problem opens an escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationRule {
    /// Only these KPIs (families expanded; empty: any KPI) — customer impact such as line
    /// stoppages.
    pub kpis: Vec<String>,
    /// Only problems at least this severe (`None`: any).
    pub min_severity: Option<Severity>,
    /// Only problems open at least this many periods.
    pub min_periods: u32,
    /// The escalation's severity (`None`: the problem's).
    pub severity: Option<Severity>,
}

impl AlertSettings {
    /// What an account without alerts.toml uses: no routes (no owner), no grace period,
    /// verification over 2 periods, default severities and SLAs, no escalation rules.
    pub fn defaults() -> Self {
        AlertSettings {
            grace_periods: 0,
            verify_periods: 2,
            families: BTreeMap::new(),
            routing: RoutingTable {
                routes: Vec::new(),
                fallback: String::new(),
            },
            severity: KindSeverity::default(),
            sla: SlaPolicy::default(),
            escalate: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    grace_periods: Option<Spanned<i64>>,
    #[serde(default)]
    verify_periods: Option<Spanned<i64>>,
    fallback: Spanned<String>,
    #[serde(default)]
    families: BTreeMap<String, Vec<Spanned<String>>>,
    #[serde(default)]
    route: Vec<RawRoute>,
    #[serde(default)]
    severity: KindSeverity,
    #[serde(default)]
    sla_hours: RawSla,
    #[serde(default)]
    escalate: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(default)]
    kpis: Vec<Spanned<String>>,
    #[serde(default)]
    nodes: Vec<Spanned<String>>,
    #[serde(default)]
    level: Option<NodeLevel>,
    owner: Spanned<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSla {
    #[serde(rename = "S1")]
    s1: Option<Spanned<i64>>,
    #[serde(rename = "S2")]
    s2: Option<Spanned<i64>>,
    #[serde(rename = "S3")]
    s3: Option<Spanned<i64>>,
    #[serde(rename = "S4")]
    s4: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    kpis: Vec<Spanned<String>>,
    #[serde(default)]
    min_severity: Option<Severity>,
    #[serde(default)]
    min_periods: Option<Spanned<i64>>,
    #[serde(default)]
    severity: Option<Severity>,
}

/// What alerts.toml's names are checked against.
pub struct Context<'a> {
    /// The KPI library (kam's and kpis.toml's).
    pub library: &'a KpiLibrary,
    /// The account's hierarchy, if it has account.toml.
    pub hierarchy: Option<&'a Hierarchy>,
    /// The stakeholder map, if it has stakeholders.toml.
    pub stakeholders: Option<&'a StakeholderMap>,
}

/// Parses and checks alerts.toml (`file` is its display name).
///
/// # Errors
/// A parse error, or a name or number that does not hold, at its file:line:column.
pub fn parse(file: &str, text: &str, cx: &Context<'_>) -> Result<AlertSettings, FileError> {
    let raw: Raw = files::parse_toml(file, text)?;
    let at = |span: std::ops::Range<usize>, field: &str, msg: String| {
        let (line, column) = files::line_col(text, span.start);
        FileError::at(file, line, column, Some(field), msg)
    };
    let count = |v: &Option<Spanned<i64>>, field: &str, default: u32, min: i64| match v {
        None => Ok(default),
        Some(s) => {
            let n = *s.get_ref();
            if n < min {
                return Err(at(
                    s.span(),
                    field,
                    format!(
                        "{n} periods: must be {} (a number of periods)",
                        if min == 0 { "0 or more" } else { "1 or more" }
                    ),
                ));
            }
            u32::try_from(n).map_err(|_| at(s.span(), field, format!("{n} periods is too many")))
        }
    };
    let grace_periods = count(&raw.grace_periods, "grace_periods", 0, 0)?;
    let verify_periods = count(&raw.verify_periods, "verify_periods", 2, 1)?;

    let ours: Vec<&str> = cx
        .stakeholders
        .map(|m| m.our_people.iter().map(|p| p.id.as_str()).collect())
        .unwrap_or_default();
    let owner = |o: &Spanned<String>, field: &str| -> Result<String, FileError> {
        let id = o.get_ref();
        if cx.stakeholders.is_none() {
            return Err(at(
                o.span(),
                field,
                format!(
                    "owner {id:?}: owners are our people in stakeholders.toml, which this account does not have"
                ),
            ));
        }
        if !ours.contains(&id.as_str()) {
            return Err(at(
                o.span(),
                field,
                format!(
                    "unknown owner {id:?}: not one of our people in stakeholders.toml ({})",
                    ours.join(", ")
                ),
            ));
        }
        Ok(id.clone())
    };

    let mut families = BTreeMap::new();
    for (name, kpis) in &raw.families {
        let mut ids = Vec::new();
        for k in kpis {
            if cx.library.position(k.get_ref()).is_none() {
                return Err(at(
                    k.span(),
                    "families",
                    format!(
                        "family {name}: unknown KPI {:?} (not in the KPI library or kpis.toml)",
                        k.get_ref()
                    ),
                ));
            }
            ids.push(k.get_ref().clone());
        }
        families.insert(name.clone(), ids);
    }
    let kpis = |list: &[Spanned<String>], field: &str| -> Result<Vec<String>, FileError> {
        let mut out = Vec::new();
        for k in list {
            let name = k.get_ref();
            if let Some(ids) = families.get(name) {
                out.extend(ids.iter().cloned());
            } else if cx.library.position(name).is_some() {
                out.push(name.clone());
            } else {
                return Err(at(
                    k.span(),
                    field,
                    format!("unknown KPI {name:?}: not in the KPI library, kpis.toml or [families]"),
                ));
            }
        }
        Ok(out)
    };

    let mut routes = Vec::new();
    for r in &raw.route {
        let mut nodes = Vec::new();
        for n in &r.nodes {
            let id = n.get_ref();
            match cx.hierarchy {
                Some(h) if h.contains(id) => nodes.push(id.clone()),
                Some(_) => {
                    return Err(at(
                        n.span(),
                        "nodes",
                        format!("unknown account node {id:?} (not in account.toml)"),
                    ));
                }
                None => {
                    return Err(at(
                        n.span(),
                        "nodes",
                        format!(
                            "node {id:?}: routing by node needs account.toml, which this account does not have"
                        ),
                    ));
                }
            }
        }
        routes.push(Route {
            kpis: kpis(&r.kpis, "kpis")?,
            nodes,
            level: r.level,
            owner: owner(&r.owner, "owner")?,
        });
    }
    let fallback = owner(&raw.fallback, "fallback")?;

    let default_sla = SlaPolicy::default();
    let hours = |v: &Option<Spanned<i64>>, field: &str, default: i64| match v {
        None => Ok(default),
        Some(s) if *s.get_ref() > 0 && *s.get_ref() <= 87_600 => Ok(*s.get_ref()),
        Some(s) => Err(at(
            s.span(),
            field,
            format!("{} hours: an SLA must be between 1 and 87600 hours", s.get_ref()),
        )),
    };
    let sla = SlaPolicy {
        s1_hours: hours(&raw.sla_hours.s1, "S1", default_sla.s1_hours)?,
        s2_hours: hours(&raw.sla_hours.s2, "S2", default_sla.s2_hours)?,
        s3_hours: hours(&raw.sla_hours.s3, "S3", default_sla.s3_hours)?,
        s4_hours: hours(&raw.sla_hours.s4, "S4", default_sla.s4_hours)?,
    };

    let mut escalate = Vec::new();
    for r in &raw.escalate {
        escalate.push(EscalationRule {
            kpis: kpis(&r.kpis, "kpis")?,
            min_severity: r.min_severity,
            min_periods: count(&r.min_periods, "min_periods", 1, 1)?,
            severity: r.severity,
        });
    }
    Ok(AlertSettings {
        grace_periods,
        verify_periods,
        families,
        routing: RoutingTable { routes, fallback },
        severity: raw.severity,
        sla,
        escalate,
    })
}
