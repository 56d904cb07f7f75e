//! KPIs as the account team reviews them: the QBR scorecard (`kam scorecard`) and the
//! open alerts, action plans and escalations (`kam scorecard --alerts`).

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};
use kam_core::metrics::escalation::EscalationEvent;
use kam_core::metrics::{
    ActionState, AlertKind, AlertPolicy, AlertRegister, EscalationBook, EscalationError, Rung, Severity,
    SlaPolicy, Status, evaluate,
};
use kam_core::rules::AlertRule;
use kam_core::scorecard::{ScoreSheet, ScorecardError, Template, trend};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::AccountError;
use crate::model::{Account, KpiData};
use crate::plugins::Plugins;
use crate::rules;

/// A node's overall score in a period.
#[derive(Debug, Serialize)]
pub struct NodeGrade {
    /// Site.
    pub site: String,
    /// Overall score.
    pub overall: Decimal,
    /// Grade (the band's name).
    pub grade: String,
    /// The band's colour.
    pub status: Status,
}

/// `kam scorecard`.
#[derive(Debug, Serialize)]
pub struct ScorecardReport {
    /// Node scored.
    pub node: String,
    /// Period scored.
    pub period: String,
    /// The sheet.
    pub sheet: ScoreSheet,
    /// The colour of the sheet's grade band.
    pub status: Status,
    /// Change of the overall score against the previous period.
    pub trend: Option<Decimal>,
    /// Every site's score in the period.
    pub sites: Vec<NodeGrade>,
}

/// The colour of grade band `name` in `template`'s grading scheme: the lowest band is
/// red, the highest green, any between amber — whatever the bands are called.
pub fn grade_status(template: &Template, name: &str) -> Status {
    let bands = template.grading.bands();
    match bands.iter().position(|b| b.name == name) {
        None => Status::NoData,
        Some(0) if bands.len() > 1 => Status::Red,
        Some(i) if i + 1 == bands.len() => Status::Green,
        Some(_) => Status::Amber,
    }
}

/// The latest period with observations.
fn latest(data: &KpiData) -> Result<String, AccountError> {
    data.periods
        .last()
        .cloned()
        .ok_or_else(|| AccountError::invalid("no KPI observations"))
}

/// Scores `scorecard.toml` for the whole account (and each site) in the last period;
/// measures with `method = "rule"` are scored by `plugins`' scoring plugin.
///
/// # Errors
/// No scorecard.toml or observations; a scoring error (located in scorecard.toml, or
/// at the plugin's kam.toml entry).
pub fn scorecard(account: &Account, plugins: &Plugins) -> Result<ScorecardReport, AccountError> {
    let name = "scorecard.toml";
    let template = account.need(&account.scorecard, name, "the scorecard")?;
    let data = account.kpi_data("the scorecard")?;
    let err = |e: ScorecardError| plugins.locate(account.error_in(name, None, e));
    let rule = plugins.scoring();
    let period = latest(data)?;
    let sheet = template
        .score_node(&data.library, &data.rolled, &data.root, &period, rule)
        .map_err(err)?;
    let previous = data
        .periods
        .len()
        .checked_sub(2)
        .and_then(|i| data.periods.get(i));
    let trend = match previous {
        Some(prev) => {
            let p = template
                .score_node(&data.library, &data.rolled, &data.root, prev, rule)
                .map_err(err)?;
            Some(trend(&sheet, &p).map_err(err)?.delta.round_dp(4))
        }
        None => None,
    };
    let mut sites = Vec::new();
    for s in &data.sites {
        let sh = template
            .score_node(&data.library, &data.rolled, s, &period, rule)
            .map_err(err)?;
        sites.push(NodeGrade {
            site: s.clone(),
            overall: sh.overall.round_dp(4),
            status: grade_status(template, &sh.grade),
            grade: sh.grade,
        });
    }
    Ok(ScorecardReport {
        node: data.root.clone(),
        period,
        status: grade_status(template, &sheet.grade),
        sheet,
        trend,
        sites,
    })
}

/// An open alert.
#[derive(Debug, Serialize)]
pub struct AlertRow {
    /// Node.
    pub node: String,
    /// KPI.
    pub kpi: String,
    /// Kind: the built-in alert's name, or `rule:NAME` for a rule's.
    pub kind: String,
    /// Period opened.
    pub opened: String,
    /// Periods active.
    pub periods_active: u32,
    /// Last value.
    pub value: Option<Decimal>,
    /// Message.
    pub message: String,
}

/// An action plan.
#[derive(Debug, Serialize)]
pub struct ActionRow {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Node.
    pub node: String,
    /// KPI.
    pub kpi: String,
    /// Owner.
    pub owner: String,
    /// Due date.
    pub due: NaiveDate,
    /// State.
    pub state: ActionState,
    /// Past due and not resolved.
    pub overdue: bool,
}

/// An escalation after replaying the SLA ladder.
#[derive(Debug, Serialize)]
pub struct EscalationRow {
    /// Id.
    pub id: String,
    /// Node.
    pub node: Option<String>,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Current rung.
    pub rung: Rung,
    /// When the current rung's SLA runs out (open ones).
    pub sla_due: Option<NaiveDateTime>,
    /// The top rung's SLA was missed.
    pub top_sla_missed: bool,
    /// Still open.
    pub open: bool,
}

/// Alerts, action plans and escalations.
#[derive(Debug, Serialize)]
pub struct AlertsReport {
    /// Evaluated through this period.
    pub period: String,
    /// Open alerts.
    pub alerts: Vec<AlertRow>,
    /// Open action plans.
    pub actions: Vec<ActionRow>,
    /// Escalations.
    pub escalations: Vec<EscalationRow>,
}

/// The open alerts of every node over all periods: the built-in policy, the manifest's
/// Rhai alert rules and `plugins`' alert plugins.
///
/// # Errors
/// No observations; a rule or plugin that fails.
pub fn alert_register(account: &Account, plugins: &Plugins) -> Result<AlertRegister, AccountError> {
    let data = account.kpi_data("the alerts")?;
    let loaded = rules::alert(account)?;
    let rules: Vec<&dyn AlertRule> = loaded
        .iter()
        .map(|r| r as &dyn AlertRule)
        .chain(plugins.alert())
        .collect();
    let period = latest(data)?;
    let mut register = AlertRegister::default();
    evaluate(
        &data.rolled,
        &AlertPolicy::default(),
        &rules,
        &mut register,
        &period,
    )
    .map_err(|e| plugins.locate(AccountError::domain(e)))?;
    Ok(register)
}

/// The display kind of an alert: `threshold_breach`…, or `rule:NAME`.
pub fn alert_kind(kind: &AlertKind) -> String {
    match kind {
        AlertKind::ThresholdBreach => "threshold_breach".into(),
        AlertKind::ConsecutiveAdverse => "consecutive_adverse".into(),
        AlertKind::CostToServeOverLimit => "cost_to_serve_over_limit".into(),
        AlertKind::MarginUnderFloor => "margin_under_floor".into(),
        AlertKind::Rule(n) => format!("rule:{n}"),
    }
}

/// Evaluates alerts over all periods (see [`alert_register`]) and replays action plans
/// and escalations up to noon of the as-of date. Alerts are listed for sites.
///
/// # Errors
/// As [`alert_register`]; an escalation that cannot be replayed (located in
/// actions.toml).
pub fn alerts(account: &Account, plugins: &Plugins) -> Result<AlertsReport, AccountError> {
    let data = account.kpi_data("the alerts")?;
    let register = alert_register(account, plugins)?;
    let period = latest(data)?;
    let site_set: BTreeSet<&str> = data.sites.iter().map(String::as_str).collect();
    let mut alerts: Vec<AlertRow> = register
        .open()
        .filter(|a| site_set.contains(&*a.node))
        .map(|a| AlertRow {
            node: a.node.to_string(),
            kpi: a.kpi.to_string(),
            kind: alert_kind(&a.kind),
            opened: a.opened.to_string(),
            periods_active: a.periods_active,
            value: a.value.map(|v| v.round_dp(2)),
            message: a.message.clone(),
        })
        .collect();
    alerts.sort_by(|a, b| (&a.node, &a.kpi, &a.kind).cmp(&(&b.node, &b.kpi, &b.kind)));
    let as_of = account.manifest.as_of;
    let now = noon(as_of)?;
    let af = &account.actions;
    let actions = af
        .action
        .iter()
        .filter(|a| a.state != ActionState::Verified)
        .map(|a| ActionRow {
            id: a.id.clone(),
            title: a.title.clone(),
            node: a.node.clone(),
            kpi: a.kpi.clone(),
            owner: a.owner.clone(),
            due: a.due,
            state: a.state,
            overdue: a.is_overdue(as_of),
        })
        .collect();
    let book = escalation_book(account, now)?;
    let escalations = book
        .escalations()
        .iter()
        .map(|e| EscalationRow {
            id: e.id.clone(),
            node: e.node.clone(),
            title: e.title.clone(),
            severity: e.severity,
            rung: e.rung,
            sla_due: if e.is_open() {
                book.deadline(&e.id).ok()
            } else {
                None
            },
            top_sla_missed: e
                .history
                .iter()
                .any(|h| matches!(h, EscalationEvent::TopSlaMissed { .. })),
            open: e.is_open(),
        })
        .collect();
    Ok(AlertsReport {
        period,
        alerts,
        actions,
        escalations,
    })
}

/// Noon of `day`: the moment the account's figures are taken at.
pub(crate) fn noon(day: NaiveDate) -> Result<NaiveDateTime, AccountError> {
    day.and_hms_opt(12, 0, 0)
        .ok_or_else(|| AccountError::invalid("as_of: invalid date"))
}

/// The escalations of actions.toml replayed on the SLA ladder up to `now`.
fn escalation_book(account: &Account, now: NaiveDateTime) -> Result<EscalationBook, AccountError> {
    let af = &account.actions;
    let mut book = EscalationBook::new(SlaPolicy::default()).map_err(AccountError::domain)?;
    let esc_err =
        |id: &str, e: EscalationError| account.error_in("actions.toml", Some(&format!("id = \"{id}\"")), e);
    let mut events: Vec<(NaiveDateTime, bool, usize)> = Vec::new();
    for (i, e) in af.escalation.iter().enumerate() {
        events.push((e.opened, false, i));
        if let Some(r) = e.resolved {
            events.push((r, true, i));
        }
    }
    events.sort();
    for (at, resolve, i) in events {
        let Some(e) = af.escalation.get(i) else { continue };
        if at > now {
            continue;
        }
        book.tick(at).map_err(|x| esc_err(&e.id, x))?;
        if resolve {
            book.resolve(&e.id, at, "resolved")
                .map_err(|x| esc_err(&e.id, x))?;
        } else {
            book.open(&e.id, "account", e.node.as_deref(), &e.title, e.severity, at)
                .map_err(|x| esc_err(&e.id, x))?;
        }
    }
    book.tick(now).map_err(AccountError::domain)?;
    Ok(book)
}
