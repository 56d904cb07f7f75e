//! `kam check`: every finding of one account — the plan's own integrity checks
//! (kam-core's `Plan::validate`) and the checks *across* its files, which no single
//! engine can see: a region we serve with nobody mapped, a proposal below the
//! negotiation's margin floor, a target typed twice and different, a plan measure that
//! drifts from the KPI it tracks, an action plan closed while its KPI is red…
//!
//! Each finding has a stable `code` (kebab-case; listed in [`CODES`]), a severity, the
//! file and line to fix, and a message naming the items. A check whose inputs the
//! account does not have (no stakeholder map, no observations) does not run; a
//! reference that points nowhere is a finding, never a panic or a silent skip.
//!
//! What it does not do: run WASM plugins (a check must not depend on what was built),
//! or the growth forecast. The delivery checks do simulate each project's go-live
//! (seeded, [`views::delivery`]'s defaults), so they agree with `kam delivery`. The Rhai pricing and alert rules do run, as they are part
//! of the account's figures.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use kam_core::account::NodeLevel;
use kam_core::metrics::{ActionState, Status};
use kam_core::plan::TargetValue;
use kam_core::stakeholders::{BuyingRole, Support};
use rust_decimal::Decimal;
use serde::Serialize;

pub use kam_core::plan::FindingSeverity;

use crate::error::AccountError;
use crate::model::Account;
use crate::plugins::Plugins;
use crate::views;

/// One finding of `kam check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier of the check (see [`CODES`]).
    pub code: String,
    /// How serious.
    pub severity: FindingSeverity,
    /// The file to fix (display name).
    pub file: String,
    /// 1-based line in it.
    pub line: usize,
    /// What is wrong, naming the items.
    pub message: String,
    /// Where inside the file's structure (`goals[0].objectives[2]`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The codes of the checks across files, with what each means.
pub const CODES: &[(&str, &str)] = &[
    (
        "region-unmapped",
        "a region or country with sites or revenue has no customer person mapped",
    ),
    (
        "region-uncovered",
        "a region's customer people are mapped but none is covered by one of ours",
    ),
    (
        "region-single-threaded",
        "every covered person of a region is covered by one and the same person of ours",
    ),
    (
        "proposal-below-floor",
        "the proposal's CM3 margin is below the negotiation's margin floor",
    ),
    (
        "proposal-rate-below-walk-away",
        "the proposal bills the negotiated price activity below the walk-away price of the margin floor",
    ),
    (
        "growth-target-differs",
        "a growth.toml target differs from the plan's target for the same year (the plan's is used)",
    ),
    (
        "growth-target-duplicate",
        "a growth.toml target repeats the plan's: enter it once, in the plan",
    ),
    (
        "revenue-targets-mismatch",
        "the regions' revenue targets do not add up to the account's for the same period",
    ),
    (
        "measure-drift",
        "a plan measure's typed current value differs from the KPI it tracks",
    ),
    (
        "measure-untracked",
        "a plan measure has no typed value and no observation of its KPI",
    ),
    (
        "action-closed-while-red",
        "an action plan is typed verified but the data does not verify it (its KPI not on target for alerts.toml's \
         verify_periods), or typed resolved while its KPI is red",
    ),
    (
        "red-kpi-without-action",
        "a red KPI's open alert has no action plan past alerts.toml's grace period",
    ),
    ("owner-unknown", "an owner is not one of our people"),
    (
        "key-player-stale",
        "a key player has not been contacted within the configured number of days",
    ),
    ("key-player-enemy", "a key player works against us"),
    (
        "deal-unknown-region",
        "a pipeline deal or growth line names a region the account does not have",
    ),
    (
        "deal-unknown-service-line",
        "a pipeline deal or growth line names a service line the account does not have",
    ),
    (
        "base-book-unknown-site",
        "a growth base-book line names a site the account does not have",
    ),
    (
        "reference-unknown",
        "a node, KPI, person or buying centre named in one file is not in the file that defines it",
    ),
    (
        "whitespace-unpriceable",
        "open whitespace potential for an offering no rate card prices",
    ),
    (
        "scorecard-kpi-no-data",
        "a scorecard measure's KPI has no observation for the account",
    ),
    (
        "region-without-manager",
        "a region with sites has no regional account manager in the plan",
    ),
    (
        "project-deal-unknown",
        "a delivery project's deal is not a growth deal of growth.toml or the pipeline export (its go-live feeds no forecast)",
    ),
    (
        "project-objective-unknown",
        "a delivery project names a plan objective the plan does not have",
    ),
    (
        "assignment-target-unknown",
        "a delivery.toml assignment works on an objective the plan does not have, or an escalation actions.toml does not have",
    ),
    (
        "delivery-person-unknown",
        "a person of delivery.toml is not one of our people in stakeholders.toml",
    ),
    (
        "critical-task-unowned",
        "a task on a project's critical path has no owner",
    ),
    (
        "person-overloaded",
        "a person's assigned effort in a month exceeds their capacity",
    ),
    (
        "project-late",
        "a project's simulated P90 go-live is after the date committed to the customer",
    ),
    (
        "commercial-activity-unknown",
        "a pricing.toml [commercial] clause names an activity the proposal card does not price (or, for open book \
         and gainshare, the cost model does not cost)",
    ),
    (
        "commercial-open-book-escalated",
        "an indexation, fuel or FX clause names an activity billed open book at cost",
    ),
    (
        "commercial-invalid",
        "a pricing.toml [commercial] clause cannot be applied (overlapping or gapped gainshare bands, no FX rate on \
         or before the review date, a negative fee, an unknown index…): kam price's error, at its line",
    ),
    (
        "served-reference-unknown",
        "a pricing.toml [[served]] split names a node or service line account.toml does not have, or an activity \
         [volumes] does not have",
    ),
    (
        "served-exceeds-volumes",
        "pricing.toml's [[served]] splits claim more of an activity than [volumes] has",
    ),
];

/// Collects findings, locating each by searching its file's text.
struct Sink<'a> {
    account: &'a Account,
    out: Vec<Finding>,
    /// The two costly views the checks read, computed side by side before the checks
    /// run (see [`check`]); each is taken, with its error, by the one check that reads it.
    alerts: Option<Result<views::AlertsReport, AccountError>>,
    delivery: Option<Result<views::DeliveryReport, AccountError>>,
}

impl Sink<'_> {
    fn push(
        &mut self,
        code: &str,
        severity: FindingSeverity,
        file: &str,
        needle: Option<&str>,
        message: String,
    ) {
        let line = needle.map_or(1, |n| self.account.line_of(file, n));
        self.record(code, severity, self.account.display(file), line, message);
    }

    /// The one place a finding is made: its code must be declared in [`CODES`].
    fn record(&mut self, code: &str, severity: FindingSeverity, file: String, line: usize, message: String) {
        debug_assert!(CODES.iter().any(|(c, _)| *c == code), "undeclared code {code}");
        self.out.push(Finding {
            code: code.to_owned(),
            severity,
            file,
            line,
            message,
            path: None,
        });
    }
}

impl Sink<'_> {
    /// A finding at a known line of `file`.
    fn push_at(&mut self, code: &str, severity: FindingSeverity, file: &str, line: usize, message: String) {
        self.record(code, severity, self.account.display(file), line, message);
    }

    /// A finding about a person, placed where the person is recorded: stakeholders.toml
    /// or the CRM export the person was imported from.
    fn push_person(&mut self, code: &str, severity: FindingSeverity, id: &str, message: String) {
        let place = self.account.person_place(id);
        self.record(code, severity, place.file, place.line, message);
    }

    /// A finding about a growth deal, placed where the deal is entered: growth.toml or
    /// the row of the pipeline export it was imported from.
    fn push_deal(&mut self, code: &str, severity: FindingSeverity, deal: &str, message: String) {
        let place = self.account.deal_place(deal);
        self.record(code, severity, place.file, place.line, message);
    }
}

fn id_needle(id: &str) -> String {
    format!("id = \"{id}\"")
}

/// Every finding of the account: the plan's own (when it has a plan and account.toml)
/// and every check across files, sorted by file, line and code.
///
/// # Errors
/// An analysis a check needs fails on valid-looking input (a Rhai pricing rule that
/// fails, a stakeholder map that is not a valid graph).
pub fn check(account: &Account) -> Result<Vec<Finding>, AccountError> {
    // The alert register (thousands of Rhai rule calls) and the go-live simulations are
    // most of the time of a check; both run on the thread pool, and computing them
    // together lets one fill the cores while the other is in a sequential stretch. Their
    // errors are raised where the checks that read them run, so the first error is the
    // one the checks met in order.
    let wants_alerts = account.kpi.is_some() && account.structure.is_some();
    let (alerts, delivery_view) = rayon::join(
        || wants_alerts.then(|| views::alerts(account, &Plugins::none())),
        || {
            account
                .delivery
                .as_ref()
                .map(|_| views::delivery::for_checks(account))
        },
    );
    let mut sink = Sink {
        account,
        out: Vec::new(),
        alerts,
        delivery: delivery_view,
    };
    if let (Some(plan), Some(_)) = (&account.plan, &account.structure) {
        for f in views::plan::plan_findings(account, plan)? {
            let needle = f.item.as_deref().map(id_needle);
            let mut line = needle.as_deref().map_or(1, |n| account.line_of("plan.toml", n));
            if line == 1
                && let Some(item) = &f.item
                && let Some((bc, offering)) = item.split_once('/')
            {
                line = account.line_of(
                    "plan.toml",
                    &format!("buying_centre = \"{bc}\"\noffering = \"{offering}\""),
                );
            }
            sink.out.push(Finding {
                code: f.code.to_string(),
                severity: f.severity,
                file: account.display("plan.toml"),
                line,
                message: f.message,
                path: Some(f.path),
            });
        }
    }
    regions(&mut sink);
    pricing(&mut sink)?;
    targets(&mut sink);
    measures(&mut sink);
    actions(&mut sink)?;
    owners(&mut sink);
    key_players(&mut sink);
    growth_references(&mut sink);
    references(&mut sink);
    whitespace(&mut sink);
    scorecard(&mut sink);
    delivery(&mut sink)?;
    let mut out = sink.out;
    out.sort_by(|a, b| (&a.file, a.line, &a.code, &a.message).cmp(&(&b.file, b.line, &b.code, &b.message)));
    Ok(out)
}

/// Regions and countries with sites or revenue, and the people mapped and covered in
/// them.
fn regions(sink: &mut Sink<'_>) {
    let a = sink.account;
    let (Some(structure), Some(map)) = (&a.structure, &a.stakeholders) else {
        return;
    };
    let Ok(h) = structure.hierarchy() else { return };
    let mut revenue: BTreeSet<&str> = BTreeSet::new();
    if let Some(g) = &a.growth {
        revenue.extend(g.base_book.iter().map(|l| l.region.as_str()));
    }
    if let Some(plan) = &a.plan {
        revenue.extend(
            plan.targets
                .iter()
                .filter(|t| matches!(t.value, TargetValue::Revenue(_)))
                .map(|t| t.node.as_str()),
        );
    }
    let coverers: BTreeMap<&str, BTreeSet<&str>> = map.coverage.iter().fold(BTreeMap::new(), |mut m, c| {
        m.entry(c.theirs.as_str()).or_default().insert(c.ours.as_str());
        m
    });
    for node in &structure.nodes {
        if !matches!(node.level, NodeLevel::Region | NodeLevel::Country) {
            continue;
        }
        let sites = h.sites_under(&node.id).len();
        let earns = revenue.contains(node.id.as_str());
        if sites == 0 && !earns {
            continue;
        }
        // A person is mapped in a country when their region is the country or the
        // region above it.
        let region = if node.level == NodeLevel::Region {
            Some(node.id.as_str())
        } else {
            h.region_of(&node.id)
        };
        let people: Vec<&str> = map
            .people
            .iter()
            .filter(|p| p.region == node.id || Some(p.region.as_str()) == region)
            .map(|p| p.id.as_str())
            .collect();
        let why = match (sites, earns) {
            (0, _) => "revenue".to_owned(),
            (n, false) => format!("{n} site(s)"),
            (n, true) => format!("{n} site(s) and revenue"),
        };
        if people.is_empty() {
            sink.push(
                "region-unmapped",
                FindingSeverity::Warning,
                "stakeholders.toml",
                None,
                format!(
                    "{} {} ({}) has {why} but nobody of the customer's is mapped there (account.toml:{})",
                    level_name(node.level),
                    node.id,
                    node.name,
                    a.line_of("account.toml", &id_needle(&node.id))
                ),
            );
            continue;
        }
        if node.level != NodeLevel::Region {
            continue;
        }
        let ours: BTreeSet<&str> = people
            .iter()
            .filter_map(|p| coverers.get(p))
            .flatten()
            .copied()
            .collect();
        let first = people.first().copied().unwrap_or_default();
        match ours.len() {
            0 => sink.push_person(
                "region-uncovered",
                FindingSeverity::Warning,
                first,
                format!(
                    "region {}: {} customer people mapped, none covered by one of ours",
                    node.id,
                    people.len()
                ),
            ),
            1 if people.len() > 1 => sink.push_person(
                "region-single-threaded",
                FindingSeverity::Warning,
                first,
                format!(
                    "region {}: every covered person of its {} is covered by {} alone",
                    node.id,
                    people.len(),
                    ours.iter().next().copied().unwrap_or_default()
                ),
            ),
            _ => {}
        }
    }
}

fn level_name(l: NodeLevel) -> &'static str {
    match l {
        NodeLevel::Global => "account",
        NodeLevel::Region => "region",
        NodeLevel::Country => "country",
        NodeLevel::Site => "site",
    }
}

/// `[commercial]`'s references; then, when they hold, the proposal priced with its
/// clauses (an error of a clause is a `commercial-invalid` finding at its line) and
/// against the negotiation's margin floor.
fn pricing(sink: &mut Sink<'_>) -> Result<(), AccountError> {
    let a = sink.account;
    let Some(pf) = &a.pricing else {
        return Ok(());
    };
    served(sink, pf);
    let references = views::pricing::commercial_findings(a)?;
    let clean = references.is_empty();
    for (code, line, message) in references {
        sink.push_at(code, FindingSeverity::Error, "pricing.toml", line, message);
    }
    // kam price would stop at the first bad reference: already a finding.
    if !clean || (pf.commercial.is_none() && a.negotiation.is_none()) {
        return Ok(());
    }
    let report = match views::price(a, None, &Plugins::none()) {
        Ok(r) => r,
        Err(e) => {
            let line = match &e {
                AccountError::File(crate::files::FileError::Parse { file, line, .. })
                    if pf.commercial.is_some() && *file == a.display("pricing.toml") =>
                {
                    *line
                }
                _ => return Err(e),
            };
            sink.push_at(
                "commercial-invalid",
                FindingSeverity::Error,
                "pricing.toml",
                line,
                format!("[commercial] cannot be applied: {e}"),
            );
            return Ok(());
        }
    };
    let Some(nf) = &a.negotiation else {
        return Ok(());
    };
    if let Some(m) = report.proposal_margin_pct()
        && m < nf.min_margin_pct
    {
        sink.push(
            "proposal-below-floor",
            FindingSeverity::Error,
            "pricing.toml",
            Some("[proposal]"),
            format!(
                "the proposal for {} / {} gives a CM3 margin of {} %, below the {} % floor of negotiation.toml:{}",
                report.node,
                report.service_line,
                m.round_dp(2),
                nf.min_margin_pct,
                a.line_of("negotiation.toml", "min_margin_pct")
            ),
        );
    }
    let (_, _, floor_price) = views::pricing::price_floor(a)?;
    if let Some(line) = report.lines.iter().find(|l| l.activity == nf.price_activity)
        && !line.quantity.is_zero()
    {
        let rate = (line.proposal / line.quantity).round_dp(4);
        if rate < floor_price {
            sink.push(
                "proposal-rate-below-walk-away",
                FindingSeverity::Error,
                "pricing.toml",
                Some("[proposal]"),
                format!(
                    "the proposal bills {} at {rate} a unit on average, below the walk-away price {floor_price} \
                     that keeps the {} % margin floor (negotiation.toml:{})",
                    nf.price_activity,
                    nf.min_margin_pct,
                    a.line_of("negotiation.toml", "min_margin_pct")
                ),
            );
        }
    }
    Ok(())
}

/// `[[served]]` splits: their node and service line exist, their activities are in
/// `[volumes]`, and together they claim no more of an activity than `[volumes]` has.
fn served(sink: &mut Sink<'_>, pf: &crate::model::PricingFile) {
    let a = sink.account;
    // The i-th `[[served]]` header's line (the splits are found in file order).
    let headers: Vec<usize> = a.text("pricing.toml").map_or_else(Vec::new, |t| {
        t.match_indices("[[served]]")
            .map(|(o, _)| crate::files::line_col(t, o).0)
            .collect()
    });
    let line = |i: usize| headers.get(i).copied().unwrap_or(1);
    let (nodes, lines): (BTreeSet<&str>, BTreeSet<&str>) = match &a.structure {
        Some(s) => (
            s.nodes.iter().map(|n| n.id.as_str()).collect(),
            s.service_lines.iter().map(|l| l.as_str()).collect(),
        ),
        None => (BTreeSet::new(), BTreeSet::new()),
    };
    let mut claimed: BTreeMap<&str, (Decimal, usize)> = BTreeMap::new();
    for (i, s) in pf.served.iter().enumerate() {
        let mut unknown = Vec::new();
        if a.structure.is_some() && !nodes.contains(s.node.as_str()) {
            unknown.push(format!("node {:?} is not in account.toml", s.node));
        }
        if a.structure.is_some() && !lines.contains(s.service_line.as_str()) {
            unknown.push(format!(
                "service line {:?} is not one of account.toml's",
                s.service_line
            ));
        }
        for (activity, q) in &s.volumes {
            if !pf.volumes.contains_key(activity) {
                unknown.push(format!("activity {activity:?} is not in [volumes]"));
            }
            let c = claimed.entry(activity.as_str()).or_insert((Decimal::ZERO, i));
            c.0 = c.0.checked_add(*q).unwrap_or(Decimal::MAX);
            c.1 = i;
        }
        for u in unknown {
            sink.push_at(
                "served-reference-unknown",
                FindingSeverity::Error,
                "pricing.toml",
                line(i),
                format!("served[{i}] ({} / {}): {u}", s.node, s.service_line),
            );
        }
    }
    for (activity, (sum, last)) in claimed {
        if let Some(total) = pf.volumes.get(activity)
            && sum > *total
        {
            sink.push_at(
                "served-exceeds-volumes",
                FindingSeverity::Error,
                "pricing.toml",
                line(last),
                format!("the [[served]] splits claim {sum} {activity}, more than the {total} of [volumes]"),
            );
        }
    }
}

/// Growth targets against the plan's; regional revenue targets against the account's.
fn targets(sink: &mut Sink<'_>) {
    let a = sink.account;
    for t in &a.growth_targets {
        let (Some(id), Some(typed)) = (&t.plan_target, t.typed) else {
            continue;
        };
        let needle = format!("year = {}", t.year);
        if typed == t.revenue {
            sink.push(
                "growth-target-duplicate",
                FindingSeverity::Info,
                "growth.toml",
                Some(&needle),
                format!(
                    "year {} target {} is also the plan's {id}: remove it here, the plan's is used",
                    t.year, typed
                ),
            );
        } else {
            sink.push(
                "growth-target-differs",
                FindingSeverity::Warning,
                "growth.toml",
                Some(&needle),
                format!(
                    "year {} target {} differs from the plan's {id} ({}, plan.toml:{}); the plan's is used",
                    t.year,
                    typed,
                    t.revenue,
                    a.line_of("plan.toml", &id_needle(id))
                ),
            );
        }
    }
    let (Some(plan), Some(structure)) = (&a.plan, &a.structure) else {
        return;
    };
    let Ok(h) = structure.hierarchy() else { return };
    let root = h.root();
    let regions: Vec<&str> = structure
        .nodes
        .iter()
        .filter(|n| n.level == NodeLevel::Region)
        .map(|n| n.id.as_str())
        .collect();
    for t in &plan.targets {
        let TargetValue::Revenue(total) = &t.value else {
            continue;
        };
        if t.node != root || regions.is_empty() {
            continue;
        }
        let parts: Vec<_> = regions
            .iter()
            .filter_map(|r| {
                plan.targets.iter().find_map(|x| match &x.value {
                    TargetValue::Revenue(m) if x.node == *r && x.period == t.period => Some(m.amount()),
                    _ => None,
                })
            })
            .collect();
        if parts.len() != regions.len() {
            continue;
        }
        let sum = parts.iter().try_fold(Decimal::ZERO, |s, p| s.checked_add(*p));
        if sum.is_some_and(|s| s != total.amount()) {
            sink.push(
                "revenue-targets-mismatch",
                FindingSeverity::Warning,
                "plan.toml",
                Some(&id_needle(&t.id)),
                format!(
                    "the regions' revenue targets for {} – {} add up to {}, the account's {} is {}",
                    t.period.start,
                    t.period.end,
                    sum.unwrap_or_default(),
                    t.id,
                    total.amount()
                ),
            );
        }
    }
}

/// The value of `kpi` observed at `node` in `period` (default: the latest period).
pub fn observed(account: &Account, kpi: &str, node: &str, period: Option<&str>) -> Option<Decimal> {
    let data = account.kpi.as_ref()?;
    let period = match period {
        Some(p) => p,
        None => data.periods.last()?,
    };
    data.rolled.value(node, kpi, period).ok().flatten()
}

/// Plan measures against the KPIs they track.
fn measures(sink: &mut Sink<'_>) {
    let a = sink.account;
    let Some(plan) = &a.plan else { return };
    let tolerance = a.manifest.check.measure_tolerance;
    for g in &plan.goals {
        for o in &g.objectives {
            let Some(m) = &o.measure else { continue };
            let node = m.node.as_deref().unwrap_or(&o.node);
            let seen = observed(a, &m.kpi, node, m.period.as_deref());
            let needle = id_needle(&o.id);
            match (m.current, seen) {
                (Some(typed), Some(seen)) if (typed - seen).abs() > tolerance => sink.push(
                    "measure-drift",
                    FindingSeverity::Warning,
                    "plan.toml",
                    Some(&needle),
                    format!(
                        "objective {}: measure {} is typed as {typed}, the observations say {} at {node}; \
                         leave `current` out to track them",
                        o.id,
                        m.kpi,
                        seen.round_dp(2)
                    ),
                ),
                (None, None) => sink.push(
                    "measure-untracked",
                    FindingSeverity::Warning,
                    "plan.toml",
                    Some(&needle),
                    format!(
                        "objective {}: measure {} has no current value and no observation at {node}",
                        o.id, m.kpi
                    ),
                ),
                _ => {}
            }
        }
    }
}

/// The status of `kpi` at `node` in the latest period.
fn latest_status(account: &Account, kpi: &str, node: &str) -> Option<Status> {
    let value = observed(account, kpi, node, None)?;
    Some(account.library.get(kpi).ok()?.status(value))
}

/// Action plans against the KPIs they were raised for, and red KPIs with alerts and no
/// plan — both read from the alerts view (`views::alerts`), so `kam check` and
/// `kam alerts` judge plans and flag problems the same way.
fn actions(sink: &mut Sink<'_>) -> Result<(), AccountError> {
    let a = sink.account;
    let Some(view) = sink.alerts.take() else {
        return Ok(());
    };
    let view = view?;
    let verify = views::alerts::settings(a).verify_periods;
    for p in &a.actions.action {
        let status = latest_status(a, &p.kpi, &p.node);
        let needle = id_needle(&p.id);
        let engine = views::action_status(a, p, verify);
        match (p.state, status) {
            (ActionState::Verified, _) if engine.status != ActionState::Verified => sink.push(
                "action-closed-while-red",
                FindingSeverity::Error,
                "actions.toml",
                Some(&needle),
                format!(
                    "action plan {} is marked verified, but {} at {} has been on target in only {} of the last {verify} \
                     period(s) (latest: {}): it is not resolved",
                    p.id,
                    p.kpi,
                    p.node,
                    engine.on_target,
                    status.map_or_else(|| "no data".to_owned(), |s| crate::format::name(&s))
                ),
            ),
            (ActionState::Resolved, Some(Status::Red)) => sink.push(
                "action-closed-while-red",
                FindingSeverity::Warning,
                "actions.toml",
                Some(&needle),
                format!(
                    "action plan {} is marked resolved, but {} at {} is still red in the latest period",
                    p.id, p.kpi, p.node
                ),
            ),
            _ => {}
        }
    }
    // A red KPI whose open alert is flagged "no action plan" (past alerts.toml's grace
    // period without a plan at the node, above it or below it); one problem is reported
    // once, at the lowest red node.
    let Some(data) = &a.kpi else { return Ok(()) };
    let Some(structure) = &a.structure else {
        return Ok(());
    };
    let Ok(h) = structure.hierarchy() else {
        return Ok(());
    };
    let red: BTreeMap<(String, String), String> = view
        .open()
        .filter(|x| x.no_action_plan && latest_status(a, &x.kpi, &x.node) == Some(Status::Red))
        .map(|x| ((x.node.clone(), x.kpi.clone()), x.first.clone()))
        .collect();
    let latest = data.periods.last().cloned().unwrap_or_default();
    for ((node, kpi), since) in &red {
        let lower = red
            .keys()
            .any(|(n, k)| k == kpi && n != node && h.ancestors(n).contains(&node.as_str()));
        if lower {
            continue;
        }
        let (file, line) = data
            .origin
            .get(&(node.clone(), kpi.clone(), latest.clone()))
            .cloned()
            .unwrap_or_else(|| (a.display("actions.toml"), 1));
        sink.out.push(Finding {
            code: "red-kpi-without-action".into(),
            severity: FindingSeverity::Warning,
            file,
            line,
            message: format!(
                "{kpi} at {node} is red in {latest} with open alerts (since {since}), and no action plan \
                 for it in actions.toml"
            ),
            path: None,
        });
    }
    Ok(())
}

/// Owners named in the plan and the action plans against our people.
fn owners(sink: &mut Sink<'_>) {
    let a = sink.account;
    let Some(map) = &a.stakeholders else { return };
    let ours: BTreeSet<&str> = map.our_people.iter().map(|p| p.id.as_str()).collect();
    let unknown = |sink: &mut Sink<'_>, file: &str, needle: String, what: String, owner: &str| {
        if !ours.contains(owner) {
            sink.push(
                "owner-unknown",
                FindingSeverity::Warning,
                file,
                Some(&needle),
                format!("{what}: owner {owner:?} is not one of our people in stakeholders.toml"),
            );
        }
    };
    if let Some(plan) = &a.plan {
        for g in &plan.goals {
            for o in &g.objectives {
                if let Some(owner) = &o.owner {
                    unknown(
                        sink,
                        "plan.toml",
                        id_needle(&o.id),
                        format!("objective {}", o.id),
                        owner,
                    );
                }
                for x in &o.actions {
                    if let Some(owner) = &x.owner {
                        unknown(
                            sink,
                            "plan.toml",
                            id_needle(&x.id),
                            format!("action {}", x.id),
                            owner,
                        );
                    }
                }
            }
        }
        for (region, owner) in &plan.regional_managers {
            unknown(
                sink,
                "plan.toml",
                format!("{region} = \"{owner}\""),
                format!("regional manager of {region}"),
                owner,
            );
        }
    }
    for p in &a.actions.action {
        unknown(
            sink,
            "actions.toml",
            id_needle(&p.id),
            format!("action plan {}", p.id),
            &p.owner,
        );
    }
}

/// Key players not contacted for too long, and key players who are enemies.
fn key_players(sink: &mut Sink<'_>) {
    let a = sink.account;
    let Some(map) = &a.stakeholders else { return };
    let as_of: NaiveDate = a.manifest.as_of;
    let days = i64::from(a.manifest.check.contact_days);
    for p in map.people.iter().filter(|p| p.is_key_player()) {
        let stale = match p.last_contact {
            None => Some("never".to_owned()),
            Some(d) if (as_of - d).num_days() > days => {
                Some(format!("last on {d}, {} days ago", (as_of - d).num_days()))
            }
            Some(_) => None,
        };
        if let Some(when) = stale {
            sink.push_person(
                "key-player-stale",
                FindingSeverity::Warning,
                &p.id,
                format!(
                    "key player {} ({}, {}) contacted {when}; the account's limit is {days} days",
                    p.id, p.title, p.region
                ),
            );
        }
        if p.support == Support::Enemy {
            sink.push_person(
                "key-player-enemy",
                FindingSeverity::Warning,
                &p.id,
                format!(
                    "key player {} ({}, {}) works against us{}",
                    p.id,
                    p.title,
                    p.region,
                    if matches!(p.buying_role, BuyingRole::DecisionMaker | BuyingRole::Approver) {
                        " and decides or approves"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
}

/// The growth scenario's regions, service lines and sites against account.toml.
fn growth_references(sink: &mut Sink<'_>) {
    let a = sink.account;
    let (Some(g), Some(structure)) = (&a.growth, &a.structure) else {
        return;
    };
    let regions: BTreeSet<&str> = structure
        .nodes
        .iter()
        .filter(|n| n.level == NodeLevel::Region)
        .map(|n| n.id.as_str())
        .collect();
    let lines: BTreeSet<&str> = structure.service_lines.iter().map(|s| s.as_str()).collect();
    // A base-book site is a site's id or name, or the first words of its name
    // ("Győr" for "Győr plant logistics").
    let site_names: Vec<(String, String)> = structure
        .nodes
        .iter()
        .filter(|n| n.level == NodeLevel::Site)
        .map(|n| (n.id.to_lowercase(), n.name.to_lowercase()))
        .collect();
    let known_site = |s: &str| {
        let s = s.to_lowercase();
        site_names
            .iter()
            .any(|(id, name)| *id == s || *name == s || name.starts_with(&format!("{s} ")))
    };
    for r in &g.regions {
        if !regions.contains(r.as_str()) {
            sink.push(
                "deal-unknown-region",
                FindingSeverity::Error,
                "growth.toml",
                Some("regions ="),
                format!("growth.toml's regions name {r:?}, which is not a region of account.toml"),
            );
        }
    }
    for l in &g.service_lines {
        if !lines.contains(l.as_str()) {
            sink.push(
                "deal-unknown-service-line",
                FindingSeverity::Error,
                "growth.toml",
                Some("service_lines ="),
                format!("growth.toml's service_lines name {l:?}, which account.toml does not list"),
            );
        }
    }
    for d in &g.opportunities {
        if !regions.contains(d.region.as_str()) {
            sink.push_deal(
                "deal-unknown-region",
                FindingSeverity::Error,
                &d.name,
                format!(
                    "deal {:?} is for region {:?}, which account.toml does not have",
                    d.name, d.region
                ),
            );
        }
        if !lines.contains(d.service_line.as_str()) {
            sink.push_deal(
                "deal-unknown-service-line",
                FindingSeverity::Error,
                &d.name,
                format!(
                    "deal {:?} is for service line {:?}, which account.toml does not list",
                    d.name, d.service_line
                ),
            );
        }
    }
    let mut reported = BTreeSet::new();
    for l in &g.base_book {
        if !lines.contains(l.service_line.as_str()) && reported.insert(("line", l.service_line.clone())) {
            sink.push(
                "deal-unknown-service-line",
                FindingSeverity::Error,
                "growth.toml",
                Some(&format!("service_line = \"{}\"", l.service_line)),
                format!(
                    "a base-book line is for service line {:?}, which account.toml does not list",
                    l.service_line
                ),
            );
        }
        if !known_site(&l.site) && reported.insert(("site", l.site.clone())) {
            sink.push(
                "base-book-unknown-site",
                FindingSeverity::Warning,
                "growth.toml",
                Some(&format!("site = \"{}\"", l.site)),
                format!(
                    "base-book site {:?} is not the id or name of a site in account.toml",
                    l.site
                ),
            );
        }
    }
}

/// Names one file gives that the defining file does not have.
fn references(sink: &mut Sink<'_>) {
    let a = sink.account;
    let Some(structure) = &a.structure else { return };
    let nodes: BTreeSet<&str> = structure.nodes.iter().map(|n| n.id.as_str()).collect();
    let centres: BTreeSet<&str> = structure.buying_centres.iter().map(|b| b.id.as_str()).collect();
    let lines: BTreeSet<&str> = structure.service_lines.iter().map(|s| s.as_str()).collect();
    let missing = |sink: &mut Sink<'_>, file: &str, needle: &str, message: String| {
        sink.push(
            "reference-unknown",
            FindingSeverity::Error,
            file,
            Some(needle),
            message,
        );
    };
    if let Some(map) = &a.stakeholders {
        for p in &map.people {
            if !nodes.contains(p.region.as_str()) {
                sink.push_person(
                    "reference-unknown",
                    FindingSeverity::Error,
                    &p.id,
                    format!(
                        "person {}: region {:?} is not a node of account.toml",
                        p.id, p.region
                    ),
                );
            }
            for b in &p.buying_centres {
                if !centres.contains(b.as_str()) {
                    sink.push_person(
                        "reference-unknown",
                        FindingSeverity::Error,
                        &p.id,
                        format!("person {}: buying centre {b:?} is not in account.toml", p.id),
                    );
                }
            }
        }
    }
    if let Some(p) = &a.pricing {
        if !nodes.contains(p.node.as_str()) {
            missing(
                sink,
                "pricing.toml",
                "node =",
                format!(
                    "pricing.toml prices node {:?}, which account.toml does not have",
                    p.node
                ),
            );
        }
        if !lines.contains(p.service_line.as_str()) {
            missing(
                sink,
                "pricing.toml",
                "service_line =",
                format!(
                    "pricing.toml prices service line {:?}, which account.toml does not list",
                    p.service_line
                ),
            );
        }
    }
    for x in &a.actions.action {
        if !nodes.contains(x.node.as_str()) {
            missing(
                sink,
                "actions.toml",
                &id_needle(&x.id),
                format!("action plan {}: node {:?} is not in account.toml", x.id, x.node),
            );
        }
        if a.library.position(&x.kpi).is_none() {
            missing(
                sink,
                "actions.toml",
                &id_needle(&x.id),
                format!(
                    "action plan {}: KPI {:?} is not in the KPI library or kpis.toml",
                    x.id, x.kpi
                ),
            );
        }
    }
    for e in &a.actions.escalation {
        if let Some(n) = &e.node
            && !nodes.contains(n.as_str())
        {
            missing(
                sink,
                "actions.toml",
                &id_needle(&e.id),
                format!("escalation {}: node {n:?} is not in account.toml", e.id),
            );
        }
    }
    if let Some(plan) = &a.plan {
        for region in plan.regional_managers.keys() {
            if !nodes.contains(region.as_str()) {
                missing(
                    sink,
                    "plan.toml",
                    &format!("{region} = "),
                    format!("regional_managers names {region:?}, which is not a node of account.toml"),
                );
            }
        }
        for n in &structure.nodes {
            let has_sites = structure
                .hierarchy()
                .is_ok_and(|h| !h.sites_under(&n.id).is_empty());
            if n.level == NodeLevel::Region && has_sites && !plan.regional_managers.contains_key(&n.id) {
                sink.push(
                    "region-without-manager",
                    FindingSeverity::Info,
                    "plan.toml",
                    Some("regional_managers"),
                    format!(
                        "region {} has sites but no regional account manager in regional_managers",
                        n.id
                    ),
                );
            }
        }
    }
}

/// Open whitespace potential whose offering no rate card of the account prices.
fn whitespace(sink: &mut Sink<'_>) {
    let a = sink.account;
    let (Some(plan), Some(p)) = (&a.plan, &a.pricing) else {
        return;
    };
    let mut open: BTreeMap<&str, (Decimal, usize, String)> = BTreeMap::new();
    for w in &plan.whitespace {
        let Ok(left) = w.gap() else { continue };
        if left.amount() <= Decimal::ZERO || w.offering.as_str() == p.service_line {
            continue;
        }
        let e = open
            .entry(w.offering.as_str())
            .or_insert_with(|| (Decimal::ZERO, 0, w.buying_centre.clone()));
        e.0 = e.0.checked_add(left.amount()).unwrap_or(e.0);
        e.1 += 1;
    }
    for (offering, (amount, cells, first_centre)) in open {
        sink.push(
            "whitespace-unpriceable",
            FindingSeverity::Info,
            "plan.toml",
            Some(&format!(
                "buying_centre = \"{first_centre}\"\noffering = \"{offering}\""
            )),
            format!(
                "{} of open {offering} potential in {cells} whitespace cell(s) cannot be priced: \
                 pricing.toml has a rate card for {} only",
                crate::format::money(amount),
                p.service_line
            ),
        );
    }
}

/// Scorecard measures whose KPI has no observation at the top node.
fn scorecard(sink: &mut Sink<'_>) {
    let a = sink.account;
    let (Some(t), Some(data)) = (&a.scorecard, &a.kpi) else {
        return;
    };
    for g in &t.groups {
        for m in &g.measures {
            let any = data
                .periods
                .iter()
                .any(|p| data.rolled.value(&data.root, &m.kpi, p).ok().flatten().is_some());
            if !any {
                sink.push(
                    "scorecard-kpi-no-data",
                    FindingSeverity::Warning,
                    "scorecard.toml",
                    Some(&format!("kpi = \"{}\"", m.kpi)),
                    format!(
                        "measure {}: no observation of the KPI for the account in any period",
                        m.kpi
                    ),
                );
            }
        }
    }
}

/// Delivery projects: references to growth deals, plan objectives and our people, and
/// the schedule's risks (from [`views::delivery`] with its default paths and seed, so
/// `kam check` and `kam delivery` agree; milestones are not simulated for the checks).
fn delivery(sink: &mut Sink<'_>) -> Result<(), AccountError> {
    let a = sink.account;
    let Some(d) = &a.delivery else { return Ok(()) };
    let file = crate::delivery::FILE;
    let deals: BTreeSet<&str> = a
        .growth
        .as_ref()
        .map(|g| g.opportunities.iter().map(|o| o.name.as_str()).collect())
        .unwrap_or_default();
    let objectives: Option<BTreeSet<&str>> = a.plan.as_ref().map(|p| {
        p.goals
            .iter()
            .flat_map(|g| g.objectives.iter().map(|o| o.id.as_str()))
            .collect()
    });
    for p in &d.project {
        if let Some(deal) = &p.deal
            && !deals.contains(deal.as_str())
        {
            sink.push(
                "project-deal-unknown",
                FindingSeverity::Warning,
                file,
                Some(&format!("deal = \"{deal}\"")),
                format!(
                    "project {}: deal {deal:?} is not a growth deal (growth.toml or the pipeline export)",
                    p.id
                ),
            );
        }
        if let Some(known) = &objectives {
            for o in &p.objectives {
                if !known.contains(o.as_str()) {
                    sink.push(
                        "project-objective-unknown",
                        FindingSeverity::Warning,
                        file,
                        Some(&format!("\"{o}\"")),
                        format!("project {}: objective {o:?} is not in plan.toml", p.id),
                    );
                }
            }
        }
    }
    let escalations: BTreeSet<&str> = a.actions.escalation.iter().map(|e| e.id.as_str()).collect();
    for x in &d.assignment {
        let unknown = match (&x.objective, &x.escalation) {
            (Some(o), _) => objectives
                .as_ref()
                .filter(|known| !known.contains(o.as_str()))
                .map(|_| {
                    (
                        format!("objective = \"{o}\""),
                        format!("objective {o:?} is not in plan.toml"),
                    )
                }),
            (None, Some(e)) if !escalations.contains(e.as_str()) => Some((
                format!("escalation = \"{e}\""),
                format!("escalation {e:?} is not an escalation of actions.toml"),
            )),
            _ => None,
        };
        if let Some((needle, what)) = unknown {
            sink.push(
                "assignment-target-unknown",
                FindingSeverity::Warning,
                file,
                Some(&needle),
                format!("{}'s assignment: {what}", x.person),
            );
        }
    }
    if let Some(map) = &a.stakeholders {
        let ours: BTreeSet<&str> = map.our_people.iter().map(|p| p.id.as_str()).collect();
        for p in &d.people {
            if !ours.contains(p.id.as_str()) {
                sink.push(
                    "delivery-person-unknown",
                    FindingSeverity::Warning,
                    file,
                    Some(&id_needle(&p.id)),
                    format!("person {:?} is not one of our people in stakeholders.toml", p.id),
                );
            }
        }
    }
    let Some(report) = sink.delivery.take() else {
        return Ok(());
    };
    let report = report?;
    for p in &report.projects {
        for t in &p.unowned_critical {
            sink.push(
                "critical-task-unowned",
                FindingSeverity::Warning,
                file,
                Some(&id_needle(t)),
                format!("project {}: critical task {t} has no owner", p.id),
            );
        }
        if p.late {
            sink.push(
                "project-late",
                FindingSeverity::Warning,
                file,
                Some(&format!("committed = \"{}\"", p.committed)),
                format!(
                    "project {}: P90 go-live {} is after the committed {} (P50 {}, {:.1} % on time)",
                    p.id,
                    p.p90,
                    p.committed,
                    p.p50,
                    (p.prob_on_time * Decimal::ONE_HUNDRED).round_dp(1)
                ),
            );
        }
    }
    for o in &report.overloads {
        sink.push(
            "person-overloaded",
            FindingSeverity::Warning,
            file,
            Some(&id_needle(&o.person)),
            format!(
                "{} in {}: {} person days assigned, capacity {} ({})",
                o.person,
                o.month,
                o.days,
                o.capacity_days,
                o.projects.join(", ")
            ),
        );
    }
    Ok(())
}
