//! Alerts as the account team acts on them (`kam alerts`, `kam escalations`,
//! `kam scorecard --alerts`): one alert per problem at every level of the account,
//! routed to an owner, linked to the action plan working on it or flagged when it has
//! none past the grace period, escalated by policy, and followed to resolution.
//!
//! - **One alert per problem.** The register's alerts are folded per (node, KPI) by
//!   [`kam_core::metrics::correlate`]; an alert's `id` is `node/kpi/first-period`, the
//!   same on every run over the same data, so acknowledgements and notifications
//!   recorded against it survive a rerun.
//! - **Owner.** alerts.toml's routing table, first match wins, else its fallback.
//! - **Action plans are judged by the data.** A plan typed resolved or verified is
//!   passed to the engine's [`ActionPlan::verify`]: it is verified only when its KPI has
//!   been on target for alerts.toml's `verify_periods` periods in a row; otherwise it is
//!   reported as resolved (claimed) and not verified — and a typed `verified` the data
//!   contradicts is a `kam check` finding.
//! - **Escalations.** actions.toml's escalations (an alert of the same node and KPI
//!   links to one) and those alerts.toml's `[[escalate]]` rules open from alerts, all
//!   replayed on the SLA ladder up to the account's as-of time (noon UTC of `as_of`). An
//!   escalation opened by policy is dated when the data showing it came in: the end of
//!   the period the rule first held in (`YYYY-MM` periods; the as-of time for the
//!   current period or other labels), and resolved when its problem clears, the same way.
//!
//! Acknowledgements and snoozes are not in the account's files but in its history store;
//! the caller passes them in ([`Marks`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use kam_core::account::NodeLevel;
use kam_core::metrics::escalation::EscalationEvent;
use kam_core::metrics::{
    ActionPlan, ActionState, EscalationBook, EscalationError, PlanReach, Problem, Rung, Severity,
    correlate_latest, link,
};
use rust_decimal::Decimal;
use serde::Serialize;

use super::metrics::{alert_kind, alert_register, noon};
use crate::alerting::AlertSettings;
use crate::error::AccountError;
use crate::model::Account;
use crate::plugins::Plugins;

/// Where an alert is on its way to resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Raised; nobody owns it (the account has no alerts.toml).
    Open,
    /// Routed to an owner; no action plan works on it.
    Owned,
    /// An action plan works on it, or the KPI recovered and the plan is not yet verified.
    ActedOn,
    /// The KPI recovered, and its action plan (if any) is verified by the data.
    Resolved,
}

/// An acknowledgement or a snooze, as recorded in the history store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    /// Seen, being handled.
    Acknowledged,
    /// Not to be notified until a date.
    Snoozed,
}

/// The latest acknowledgement or snooze of an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mark {
    /// Which.
    pub kind: MarkKind,
    /// Why.
    pub reason: String,
    /// Who.
    pub by: Option<String>,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// A snooze's last day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
}

/// Acknowledgements and snoozes by alert id.
pub type Marks = BTreeMap<String, Mark>;

/// One reason of an alert.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonRow {
    /// `threshold_breach`, `consecutive_adverse`, `cost_to_serve_over_limit`,
    /// `margin_under_floor`, or `rule:NAME` (a Rhai rule or a plugin).
    pub kind: String,
    /// This reason's severity.
    pub severity: Severity,
    /// Period raised.
    pub opened: String,
    /// Last period it held.
    pub last_seen: String,
    /// Period it cleared.
    pub closed: Option<String>,
    /// KPI value when raised.
    pub value: Option<Decimal>,
    /// A rule's message.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// One alert: one problem of one KPI at one node.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRow {
    /// Stable id: `node/kpi/first-period`.
    pub id: String,
    /// Account node.
    pub node: String,
    /// The node's level.
    pub level: Option<NodeLevel>,
    /// KPI id.
    pub kpi: String,
    /// Every reason, in raising order.
    pub reasons: Vec<ReasonRow>,
    /// The highest severity of its reasons.
    pub severity: Severity,
    /// Who owns it (alerts.toml's routing; `None` without alerts.toml).
    pub owner: Option<String>,
    /// The action plan working on it.
    pub action: Option<String>,
    /// The escalation it opened or is linked to.
    pub escalation: Option<String>,
    /// Where it is on its way to resolution.
    pub state: AlertState,
    /// First period.
    pub first: String,
    /// Latest period a reason held.
    pub latest: String,
    /// Period it cleared (`None`: open).
    pub closed: Option<String>,
    /// Periods from its first through the latest evaluated (or until it cleared).
    pub periods: u32,
    /// The KPI's value at the node in the latest period.
    pub value: Option<Decimal>,
    /// Open, without an action plan, and older than the grace period.
    pub no_action_plan: bool,
    /// Acknowledgement or snooze in force.
    pub mark: Option<Mark>,
}

impl AlertRow {
    /// Whether the problem is still open.
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }
}

/// An action plan with its status as the data shows it.
#[derive(Debug, Clone, Serialize)]
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
    /// The state typed in actions.toml.
    pub state: ActionState,
    /// The state the engine gives it: resolved or verified only as far as the data
    /// proves (see [`action_status`]).
    pub status: ActionState,
    /// Trailing periods with the KPI on target at the node.
    pub on_target: usize,
    /// Periods on target needed to verify.
    pub verify_periods: u32,
    /// Typed verified, but the data does not verify it.
    pub contradicted: bool,
    /// Past due and not resolved.
    pub overdue: bool,
    /// The alerts it works on.
    pub alerts: Vec<String>,
}

/// Where an escalation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationSource {
    /// Recorded in actions.toml.
    File,
    /// Opened from an alert by an alerts.toml `[[escalate]]` rule.
    Policy,
}

/// An escalation after replaying the SLA ladder.
#[derive(Debug, Clone, Serialize)]
pub struct EscalationRow {
    /// Id (`esc/ALERT-ID` for one opened by policy).
    pub id: String,
    /// Where it comes from.
    pub source: EscalationSource,
    /// The alert it belongs to.
    pub alert: Option<String>,
    /// Node.
    pub node: Option<String>,
    /// KPI.
    pub kpi: Option<String>,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Current rung.
    pub rung: Rung,
    /// Opened (UTC).
    pub opened: DateTime<Utc>,
    /// Resolved (UTC).
    pub resolved: Option<DateTime<Utc>>,
    /// When the current rung's SLA runs out (open ones), UTC.
    pub sla_due: Option<DateTime<Utc>>,
    /// Minutes from the as-of time to `sla_due` (negative: breached at the top rung).
    pub minutes_to_breach: Option<i64>,
    /// The top rung's SLA was missed.
    pub top_sla_missed: bool,
    /// Still open.
    pub open: bool,
}

/// Alerts, action plans and escalations.
#[derive(Debug, Clone, Serialize)]
pub struct AlertsReport {
    /// Evaluated through this period.
    pub period: String,
    /// The as-of time escalations are replayed to (noon UTC of kam.toml's `as_of`).
    pub now: DateTime<Utc>,
    /// Open alerts, and closed ones an action plan or escalation followed, most severe
    /// first.
    pub alerts: Vec<AlertRow>,
    /// Action plans not verified by the data.
    pub actions: Vec<ActionRow>,
    /// Every escalation, open and resolved.
    pub escalations: Vec<EscalationRow>,
}

impl AlertsReport {
    /// The open alerts.
    pub fn open(&self) -> impl Iterator<Item = &AlertRow> {
        self.alerts.iter().filter(|a| a.is_open())
    }
}

/// `kam escalations`.
#[derive(Debug, Clone, Serialize)]
pub struct EscalationsReport {
    /// The as-of time (noon UTC of `as_of`).
    pub now: DateTime<Utc>,
    /// Every escalation: open ones first, the nearest breach first.
    pub escalations: Vec<EscalationRow>,
}

/// An action plan's status as the data shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ActionStatus {
    /// The engine's state: a plan typed resolved or verified is verified only if
    /// [`ActionPlan::verify`] accepts it, else resolved.
    pub status: ActionState,
    /// Trailing periods with the KPI on target at the plan's node.
    pub on_target: usize,
}

/// The status of `plan` from the data: open and in-progress plans are as typed; a plan
/// typed resolved or verified is put to the engine's `verify` with the KPI's values at
/// its node over every period and `verify_periods` required.
pub fn action_status(account: &Account, plan: &ActionPlan, verify_periods: u32) -> ActionStatus {
    let recent: Vec<Option<Decimal>> = account
        .kpi
        .as_ref()
        .and_then(|d| {
            let last = d.periods.last()?;
            d.rolled.history(&plan.node, &plan.kpi, last).ok()
        })
        .unwrap_or_default();
    let Ok(kpi) = account.library.get(&plan.kpi) else {
        return ActionStatus {
            status: match plan.state {
                ActionState::Verified => ActionState::Resolved,
                s => s,
            },
            on_target: 0,
        };
    };
    let on_target = recent
        .iter()
        .rev()
        .take_while(|v| v.is_some_and(|v| kpi.thresholds.meets_target(kpi.direction, v)))
        .count();
    let status = match plan.state {
        ActionState::Open | ActionState::InProgress => plan.state,
        ActionState::Resolved | ActionState::Verified => {
            let mut claim = plan.clone();
            claim.state = ActionState::Resolved;
            claim.history.clear();
            let at = noon(account.manifest.as_of).unwrap_or_default();
            match claim.verify(at, "kam", kpi, &recent, verify_periods as usize) {
                Ok(()) => ActionState::Verified,
                Err(_) => ActionState::Resolved,
            }
        }
    };
    ActionStatus { status, on_target }
}

/// The account's alert settings: alerts.toml, or the defaults.
pub fn settings(account: &Account) -> Cow<'_, AlertSettings> {
    match &account.alerting {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(AlertSettings::defaults()),
    }
}

/// Noon UTC of the as-of date.
fn now_utc(account: &Account) -> Result<DateTime<Utc>, AccountError> {
    Ok(Utc.from_utc_datetime(&noon(account.manifest.as_of)?))
}

/// When the data of `period` was in: the first instant of the next month for a
/// `YYYY-MM` label, capped at `now`; `now` for any other label.
fn known_at(period: &str, now: DateTime<Utc>) -> DateTime<Utc> {
    let next = period.split_once('-').and_then(|(y, m)| {
        let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
        let first = NaiveDate::from_ymd_opt(y, m, 1)?;
        let next = first.checked_add_months(chrono::Months::new(1))?;
        Some(Utc.from_utc_datetime(&next.and_hms_opt(0, 0, 0)?))
    });
    next.map_or(now, |t| t.min(now))
}

/// Every alert of the account as one per problem, routed, linked and escalated (see the
/// module docs), with no acknowledgements.
///
/// # Errors
/// As [`alerts_with`].
pub fn alerts(account: &Account, plugins: &Plugins) -> Result<AlertsReport, AccountError> {
    alerts_with(account, plugins, &Marks::new())
}

/// Escalations: actions.toml's and those opened by policy, on the SLA ladder.
///
/// # Errors
/// As [`alerts_with`].
pub fn escalations(account: &Account, plugins: &Plugins) -> Result<EscalationsReport, AccountError> {
    let r = alerts(account, plugins)?;
    let mut escalations = r.escalations;
    escalations.sort_by_key(|e| (!e.open, e.minutes_to_breach.unwrap_or(i64::MAX), e.id.clone()));
    Ok(EscalationsReport {
        now: r.now,
        escalations,
    })
}

/// A problem kept for the view, with what the view computes about it.
struct Kept<'a> {
    problem: &'a Problem,
    first: usize,
    end: usize,
    action: Option<usize>,
    escalation: Option<String>,
}

/// The alerts of every node (see the module docs); `marks` are the acknowledgements
/// and snoozes recorded for the account.
///
/// # Errors
/// No observations or no account.toml; a rule or plugin that fails; an escalation that
/// cannot be replayed (located in actions.toml).
pub fn alerts_with(
    account: &Account,
    plugins: &Plugins,
    marks: &Marks,
) -> Result<AlertsReport, AccountError> {
    let data = account.kpi_data("the alerts")?;
    let structure = account.need(&account.structure, "account.toml", "the alerts")?;
    let hierarchy = structure
        .hierarchy()
        .map_err(|e| account.error_in("account.toml", None, e))?;
    let settings = settings(account);
    let register = alert_register(account, plugins)?;
    let periods = &data.periods;
    let period = periods
        .last()
        .cloned()
        .ok_or_else(|| AccountError::invalid("no KPI observations"))?;
    let last = periods.len().saturating_sub(1);
    let index: HashMap<&str, usize> = periods.iter().enumerate().map(|(i, p)| (p.as_str(), i)).collect();
    let at = |p: &str| index.get(p).copied().unwrap_or(last);
    let now = now_utc(account)?;

    let plans = &account.actions.action;
    let pairs: Vec<(&str, &str)> = plans.iter().map(|a| (a.node.as_str(), a.kpi.as_str())).collect();
    // The latest problem of each (node, KPI): the open ones, and those that cleared where
    // a plan or a recorded escalation was working on them (to follow them to resolution).
    let reach = PlanReach::new(&pairs, &hierarchy);
    let escalated: BTreeSet<(&str, &str)> = account
        .actions
        .escalation
        .iter()
        .filter_map(|e| Some((e.node.as_deref()?, e.kpi.as_deref()?)))
        .collect();
    let problems = correlate_latest(
        &register,
        periods,
        |a| settings.severity.of(&a.kind),
        |node, kpi| reach.reaches(node, kpi) || escalated.contains(&(node, kpi)),
    );
    let links = link(&problems, &pairs, &hierarchy);
    let statuses: Vec<ActionStatus> = plans
        .iter()
        .map(|p| action_status(account, p, settings.verify_periods))
        .collect();

    // The latest problem of each (node, KPI): the open one, or the last that cleared.
    let mut latest: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, p) in problems.iter().enumerate() {
        latest.insert((&p.node, &p.kpi), i);
    }
    // actions.toml's escalations that name a KPI link to that (node, KPI)'s latest problem.
    let mut manual: HashMap<usize, &str> = HashMap::new();
    for e in &account.actions.escalation {
        if let (Some(node), Some(kpi)) = (&e.node, &e.kpi)
            && let Some(&i) = latest.get(&(node.as_str(), kpi.as_str()))
        {
            manual.entry(i).or_insert(e.id.as_str());
        }
    }
    let mut kept: Vec<Kept<'_>> = Vec::new();
    for (i, p) in problems.iter().enumerate() {
        let is_latest = latest.get(&(&*p.node, &*p.kpi)) == Some(&i);
        let action = links.get(i).copied().flatten();
        if !(p.is_open() || (is_latest && (action.is_some() || manual.contains_key(&i)))) {
            continue;
        }
        let first = at(&p.first);
        let end = p.closed.as_deref().map_or(last, |c| at(c).saturating_sub(1));
        kept.push(Kept {
            problem: p,
            first,
            end,
            action,
            escalation: manual.get(&i).map(|s| (*s).to_owned()),
        });
    }

    // Escalations opened by policy, as (id, kept index, opened, resolved). Lowest level
    // first: a region or the global account red only because a site is shares the
    // site's escalation (an open problem's escalation covers the same KPI above it).
    let mut order: Vec<usize> = (0..kept.len()).collect();
    order.sort_by_key(|&k| {
        std::cmp::Reverse(
            kept.get(k)
                .and_then(|x| hierarchy.level(&x.problem.node))
                .unwrap_or(NodeLevel::Global),
        )
    });
    let mut covered: HashMap<(String, String), String> = HashMap::new();
    let mut opened_by_policy = Vec::new();
    for k in order {
        let Some(item) = kept.get_mut(k) else { continue };
        let p = item.problem;
        if item.escalation.is_none()
            && let Some(id) = covered.get(&(p.kpi.to_string(), p.node.to_string()))
        {
            item.escalation = Some(id.clone());
        }
        if let Some(id) = &item.escalation {
            if p.is_open() {
                for a in hierarchy.ancestors(&p.node) {
                    covered
                        .entry((p.kpi.to_string(), a.to_owned()))
                        .or_insert_with(|| id.clone());
                }
            }
            continue;
        }
        let Some((rule_severity, from)) = settings.escalate.iter().find_map(|r| {
            if !r.kpis.is_empty() && !r.kpis.iter().any(|k| **k == *p.kpi) {
                return None;
            }
            // The first period in which the problem was severe enough…
            let severe_from = match r.min_severity {
                None => item.first,
                Some(min) => {
                    let mut reasons: Vec<_> = p.reasons.iter().map(|x| (at(&x.opened), x.severity)).collect();
                    reasons.sort();
                    reasons.iter().find(|(_, s)| *s <= min).map(|(q, _)| *q)?
                }
            };
            // …and old enough.
            let from = severe_from.max(item.first + r.min_periods.saturating_sub(1) as usize);
            (from <= item.end).then_some((r.severity.unwrap_or(p.severity), from))
        }) else {
            continue;
        };
        let id = format!("esc/{}", p.key());
        let opened = known_at(periods.get(from).map_or("", String::as_str), now);
        let resolved = p.closed.as_deref().map(|c| known_at(c, now));
        item.escalation = Some(id.clone());
        if p.is_open() {
            for a in hierarchy.ancestors(&p.node) {
                covered
                    .entry((p.kpi.to_string(), a.to_owned()))
                    .or_insert_with(|| id.clone());
            }
        }
        opened_by_policy.push((id, k, rule_severity, opened, resolved));
    }

    // Replay every escalation on the ladder in time order.
    let mut book = EscalationBook::new(settings.sla).map_err(AccountError::domain)?;
    let file_err =
        |id: &str, e: EscalationError| account.error_in("actions.toml", Some(&format!("id = \"{id}\"")), e);
    enum Ev<'b> {
        Open(&'b str, Option<&'b str>, String, Severity),
        Resolve(&'b str),
    }
    let mut events: Vec<(NaiveDateTime, bool, usize, Ev<'_>)> = Vec::new();
    for (i, e) in account.actions.escalation.iter().enumerate() {
        events.push((
            e.opened.naive_utc(),
            false,
            i,
            Ev::Open(&e.id, e.node.as_deref(), e.title.clone(), e.severity),
        ));
        if let Some(r) = e.resolved {
            events.push((r.naive_utc(), true, i, Ev::Resolve(&e.id)));
        }
    }
    let base = account.actions.escalation.len();
    let mut sources: HashMap<String, (EscalationSource, Option<String>, Option<String>)> = HashMap::new();
    for e in &account.actions.escalation {
        let alert = kept
            .iter()
            .filter(|k| k.escalation.as_deref() == Some(e.id.as_str()))
            .max_by_key(|k| hierarchy.level(&k.problem.node))
            .map(|k| k.problem.key());
        sources.insert(e.id.clone(), (EscalationSource::File, alert, e.kpi.clone()));
    }
    for (n, (id, k, severity, opened, resolved)) in opened_by_policy.iter().enumerate() {
        let Some(item) = kept.get(*k) else { continue };
        let p = item.problem;
        let kpi_name = account
            .library
            .get(&p.kpi)
            .map_or(p.kpi.to_string(), |x| x.name.clone());
        let title = format!(
            "{kpi_name} at {}: {} reason(s) since {}",
            p.node,
            p.reasons.len(),
            p.first
        );
        events.push((
            opened.naive_utc(),
            false,
            base + n,
            Ev::Open(id, Some(&p.node), title, *severity),
        ));
        if let Some(r) = resolved {
            events.push((r.naive_utc(), true, base + n, Ev::Resolve(id)));
        }
        sources.insert(
            id.clone(),
            (EscalationSource::Policy, Some(p.key()), Some(p.kpi.to_string())),
        );
    }
    events.sort_by_key(|e| (e.0, e.1, e.2));
    let now_naive = now.naive_utc();
    for (t, _, _, ev) in events {
        if t > now_naive {
            continue;
        }
        let id = match &ev {
            Ev::Open(id, ..) | Ev::Resolve(id) => *id,
        };
        book.tick(t).map_err(|x| file_err(id, x))?;
        match ev {
            Ev::Open(id, node, title, severity) => {
                book.open(id, "account", node, &title, severity, t)
                    .map_err(|x| file_err(id, x))?;
            }
            Ev::Resolve(id) => book.resolve(id, t, "resolved").map_err(|x| file_err(id, x))?,
        }
    }
    book.tick(now_naive).map_err(AccountError::domain)?;
    let escalations: Vec<EscalationRow> = book
        .escalations()
        .iter()
        .map(|e| {
            let (source, alert, kpi) =
                sources
                    .get(&e.id)
                    .cloned()
                    .unwrap_or((EscalationSource::File, None, None));
            let due = if e.is_open() {
                book.deadline(&e.id).ok()
            } else {
                None
            };
            let opened = e.history.first().map_or(e.rung_since, |h| match h {
                EscalationEvent::Opened { at, .. } => *at,
                _ => e.rung_since,
            });
            EscalationRow {
                id: e.id.clone(),
                source,
                alert,
                node: e.node.clone(),
                kpi,
                title: e.title.clone(),
                severity: e.severity,
                rung: e.rung,
                opened: Utc.from_utc_datetime(&opened),
                resolved: e.resolved_at.map(|t| Utc.from_utc_datetime(&t)),
                sla_due: due.map(|d| Utc.from_utc_datetime(&d)),
                minutes_to_breach: due.map(|d| (d - now_naive).num_minutes()),
                top_sla_missed: e
                    .history
                    .iter()
                    .any(|h| matches!(h, EscalationEvent::TopSlaMissed { .. })),
                open: e.is_open(),
            }
        })
        .collect();

    // The rows.
    let router = settings.routing.compile(&hierarchy);
    let routed = !settings.routing.fallback.is_empty();
    let as_of = account.manifest.as_of;
    let mut action_alerts: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut alerts = Vec::with_capacity(kept.len());
    for item in &kept {
        let p = item.problem;
        let id = p.key();
        let owner = routed.then(|| router.owner(&p.node, &p.kpi).0.to_owned());
        let action = item.action.and_then(|a| plans.get(a));
        let status = item.action.and_then(|a| statuses.get(a)).map(|s| s.status);
        if let Some(a) = item.action {
            action_alerts.entry(a).or_default().push(id.clone());
        }
        let state = match (p.is_open(), status) {
            (true, Some(_))
            | (false, Some(ActionState::Open | ActionState::InProgress | ActionState::Resolved)) => {
                AlertState::ActedOn
            }
            (false, _) => AlertState::Resolved,
            (true, None) if owner.is_some() => AlertState::Owned,
            (true, None) => AlertState::Open,
        };
        let age = last.saturating_sub(item.first);
        let mark = marks
            .get(&id)
            .filter(|m| m.kind == MarkKind::Acknowledged || m.until.is_some_and(|u| u >= as_of))
            .cloned();
        alerts.push(AlertRow {
            node: p.node.to_string(),
            level: hierarchy.level(&p.node),
            kpi: p.kpi.to_string(),
            reasons: p
                .reasons
                .iter()
                .map(|r| ReasonRow {
                    kind: alert_kind(&r.kind),
                    severity: r.severity,
                    opened: r.opened.to_string(),
                    last_seen: r.last_seen.to_string(),
                    closed: r.closed.as_deref().map(str::to_owned),
                    value: r.value.map(|v| v.round_dp(2)),
                    message: r.message.clone(),
                })
                .collect(),
            severity: p.severity,
            owner,
            action: action.map(|a| a.id.clone()),
            escalation: item.escalation.clone(),
            state,
            first: p.first.to_string(),
            latest: p.latest.to_string(),
            closed: p.closed.as_deref().map(str::to_owned),
            periods: u32::try_from(item.end.saturating_sub(item.first) + 1).unwrap_or(u32::MAX),
            value: data
                .rolled
                .value(&p.node, &p.kpi, &period)
                .ok()
                .flatten()
                .map(|v| v.round_dp(2)),
            no_action_plan: p.is_open() && action.is_none() && age >= settings.grace_periods as usize,
            mark,
            id,
        });
    }
    alerts.sort_by(|a, b| {
        (a.closed.is_some(), a.severity, a.level, &a.node, &a.kpi).cmp(&(
            b.closed.is_some(),
            b.severity,
            b.level,
            &b.node,
            &b.kpi,
        ))
    });
    let actions = plans
        .iter()
        .zip(&statuses)
        .enumerate()
        .filter(|(_, (_, s))| s.status != ActionState::Verified)
        .map(|(i, (a, s))| ActionRow {
            id: a.id.clone(),
            title: a.title.clone(),
            node: a.node.clone(),
            kpi: a.kpi.clone(),
            owner: a.owner.clone(),
            due: a.due,
            state: a.state,
            status: s.status,
            on_target: s.on_target,
            verify_periods: settings.verify_periods,
            contradicted: a.state == ActionState::Verified && s.status != ActionState::Verified,
            overdue: a.is_overdue(as_of),
            alerts: action_alerts.remove(&i).unwrap_or_default(),
        })
        .collect();
    Ok(AlertsReport {
        period,
        now,
        alerts,
        actions,
        escalations,
    })
}
