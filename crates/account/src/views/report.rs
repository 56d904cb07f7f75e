//! The EBR pack's data (`kam report`): the analyses of one account turned into
//! kam-report's presentation records. Computes nothing the views do not.

use kam_core::metrics::{ActionState, Rung, Status};
use kam_core::stakeholders::ThreadScope;
use kam_report::{
    ActionRow, AlertRow, Audience, CoverageView, DealRow, EbrReport, EscalationRow, GrowthView, Headline,
    HeatCell, InfluenceRow, InternalView, KpiTrend, MeasureRow, ObjectiveRow, PathRow, Rag, ScorecardView,
    SinceView,
};
use rust_decimal::Decimal;

use crate::error::AccountError;
use crate::format::{day, money_short, month_year, pct, pct_of_fraction, period};
use crate::model::Account;
use crate::plugins::Plugins;
use crate::views::pricing::PriceReport;
use kam_plugin::RuleKind;

/// How many of the influence ranking the internal pre-read lists.
const EBR_INFLUENCE_TOP: usize = 10;

/// The domain's colour as the report's (kam-report depends on no kam crate); no colour
/// is the report's `None`.
fn colour(r: Option<kam_core::Rag>) -> Rag {
    match r {
        Some(kam_core::Rag::Green) => Rag::Green,
        Some(kam_core::Rag::Amber) => Rag::Amber,
        Some(kam_core::Rag::Red) => Rag::Red,
        None => Rag::None,
    }
}

fn month_label(start: Option<&str>, month: u32) -> String {
    let parsed = start.and_then(|s| {
        let (y, m) = s.split_once('-')?;
        Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?))
    });
    match parsed {
        Some((y, m)) if (1..=12).contains(&m) => {
            let idx = (m - 1) + month;
            format!("{}-{:02}", y + (idx / 12) as i32, idx % 12 + 1)
        }
        _ => format!("M{}", month + 1),
    }
}

/// The plugin kinds the EBR pack runs: the scorecard, alerts and the growth forecast.
pub const PLUGIN_KINDS: [RuleKind; 3] = [RuleKind::KpiScoring, RuleKind::Alert, RuleKind::Growth];

/// Builds the EBR record of `account` for `audience`, with the manifest's plugins of
/// [`PLUGIN_KINDS`] loaded in `plugins` and, when a review was saved before, what changed
/// since (`since`, already worded for the audience: see [`since_lines`]).
///
/// The customer edition carries no [`InternalView`]: the relationship map, win
/// probabilities, margins, the forecast, alerts and action plans are not in the record,
/// so no template can show them.
///
/// # Errors
/// Any analysis the pack shows fails (see [`super::scorecard`], [`super::alerts`],
/// [`super::stakeholders`], [`super::growth()`]), or account.toml is missing.
pub fn ebr(
    account: &Account,
    paths: u64,
    seed: u64,
    plugins: &Plugins,
    audience: Audience,
    since: Option<SinceView>,
) -> Result<EbrReport, AccountError> {
    let manifest = &account.manifest;
    let structure = account.need(&account.structure, "account.toml", "the EBR report")?;
    let data = account.kpi_data("the EBR report")?;
    let scenario = account.need(&account.growth, "growth.toml", "the EBR report")?;
    let score = super::scorecard(account, plugins)?;
    let alerts = super::alerts(account, plugins)?;
    let sh = super::stakeholders(account)?;
    let results = super::growth(account, paths, seed, plugins)?;

    let kpi_trends = score
        .sheet
        .measures
        .iter()
        .map(|m| {
            let kpi = data.library.get(&m.kpi).map_err(AccountError::domain)?;
            let actual: Vec<Option<Decimal>> = data
                .periods
                .iter()
                .map(|p| {
                    data.rolled
                        .value(&data.root, &m.kpi, p)
                        .map(|v| v.map(|v| v.round_dp(2)))
                })
                .collect::<Result<_, _>>()
                .map_err(AccountError::domain)?;
            let status = actual
                .last()
                .copied()
                .flatten()
                .map_or(Rag::None, |v| colour(kpi.status(v).rag()));
            Ok(KpiTrend {
                name: account
                    .labels
                    .get(&kpi.id)
                    .cloned()
                    .unwrap_or_else(|| kpi.name.clone()),
                unit: unit_text(&kpi.unit),
                periods: data.periods.iter().map(|p| period(p)).collect(),
                actual,
                target: Some(m.target),
                status,
            })
        })
        .collect::<Result<Vec<_>, AccountError>>()?;

    let scorecard = ScorecardView {
        name: score.sheet.template.clone(),
        overall: score.sheet.overall.round_dp(4),
        grade: score.sheet.grade.clone(),
        trend: score.trend,
        measures: score
            .sheet
            .measures
            .iter()
            .map(|m| MeasureRow {
                name: data
                    .library
                    .get(&m.kpi)
                    .map(|k| k.name.clone())
                    .unwrap_or_else(|_| m.kpi.clone()),
                actual: m.actual.map_or("n/a".into(), |a| a.round_dp(2).to_string()),
                target: m.target.to_string(),
                score: m.score.map(|s| s.round_dp(3)),
                weight: m.weight.round_dp(4),
                contribution: m.contribution.round_dp(4),
                status: match m.score {
                    Some(s) if s >= Decimal::ONE => Rag::Green,
                    Some(s) if s > Decimal::ZERO => Rag::Amber,
                    Some(_) => Rag::Red,
                    None => Rag::None,
                },
            })
            .collect(),
    };

    // Our view of the customer's people: who carries weight and how we reach each
    // decider. It goes into the coverage section, which only the internal edition has.
    let who = |id: &str| {
        account
            .stakeholders
            .as_ref()
            .and_then(|m| m.people.iter().find(|p| p.id == id))
            .map_or_else(|| id.to_owned(), |p| format!("{} ({})", p.name, p.title))
    };
    let influence = sh
        .influence
        .iter()
        .take(EBR_INFLUENCE_TOP)
        .enumerate()
        .map(|(i, s)| InfluenceRow {
            rank: i + 1,
            person: who(&s.person),
            score: s.score.round_dp(4),
        })
        .collect();
    let paths = sh
        .paths
        .iter()
        .map(|r| PathRow {
            person: who(&r.person),
            role: crate::format::name(&r.buying_role).replace('_', " "),
            strength: r.path.as_ref().map(|p| p.strength.round_dp(3)),
            route: r
                .path
                .as_ref()
                .map(super::stakeholders::route)
                .unwrap_or_default(),
        })
        .collect();
    let coverage = CoverageView {
        influence,
        paths,
        status: colour(Some(sh.status)),
        rows: sh.regions.iter().map(|r| account.label(r)).collect(),
        cols: sh.functions.iter().map(|f| account.label(f)).collect(),
        cells: sh
            .heat
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| HeatCell {
                        level: (c.people > 0).then_some(c.best_level),
                        text: if c.people > 0 {
                            format!("{}/{}", c.covered, c.people)
                        } else {
                            String::new()
                        },
                    })
                    .collect()
            })
            .collect(),
        findings: sh
            .gaps
            .iter()
            .map(|g| {
                format!(
                    "Gap: {} {} {} — {} key player(s) not covered",
                    account.label(&g.region),
                    account.label(&g.function).to_lowercase(),
                    crate::format::name(&g.buying_role).replace('_', " "),
                    g.key_players
                )
            })
            .chain(sh.unsupported_key_players.iter().map(|u| {
                format!(
                    "No supporter: {} ({}, {})",
                    u.title,
                    u.id,
                    account.label(&u.region)
                )
            }))
            .chain(sh.single_threaded.iter().map(|t| {
                let name = structure
                    .buying_centres
                    .iter()
                    .find(|b| b.id == t.id)
                    .map_or_else(|| account.label(&t.id), |b| b.name.clone());
                format!("Single-threaded {}: {name}", scope_label(t.scope))
            }))
            .collect(),
    };

    let start = manifest.growth_start.as_deref();
    let mut target_by_month = Vec::new();
    for y in &results.years {
        for _ in 0..y.months {
            target_by_month.push(y.target.map(|t| (t / Decimal::from(y.months.max(1))).round_dp(2)));
        }
    }
    let growth = GrowthView {
        periods: results
            .fan_chart
            .iter()
            .map(|b| month_label(start, b.month))
            .collect(),
        p10: results.fan_chart.iter().map(|b| b.p10).collect(),
        p50: results.fan_chart.iter().map(|b| b.p50).collect(),
        p90: results.fan_chart.iter().map(|b| b.p90).collect(),
        target: results
            .fan_chart
            .iter()
            .map(|b| target_by_month.get(b.month as usize).copied().flatten())
            .collect(),
        summary: results
            .years
            .iter()
            .flat_map(|y| {
                let mut v = vec![(
                    format!("Year {} revenue P10 / P50 / P90", y.year),
                    format!(
                        "{} / {} / {}",
                        money_short(&scenario.currency, y.revenue.p10),
                        money_short(&scenario.currency, y.revenue.p50),
                        money_short(&scenario.currency, y.revenue.p90)
                    ),
                )];
                if let (Some(t), Some(p)) = (y.target, y.prob_reach_target) {
                    v.push((
                        format!("Year {} target {}", y.year, money_short(&scenario.currency, t)),
                        format!("reached in {} of paths", pct_of_fraction(p)),
                    ));
                }
                v
            })
            .collect(),
    };

    let mut pipeline = Vec::new();
    for o in &scenario.opportunities {
        let value = o.value.mean().map_err(AccountError::domain)?;
        let weighted = value * o.win_probability;
        pipeline.push((
            weighted,
            DealRow {
                name: o.name.clone(),
                region: account.label(&o.region),
                service_line: account.label(&o.service_line),
                stage: format!("start {}", month_label(start, o.start_month)),
                value: money_short(&scenario.currency, value),
                probability: pct_of_fraction(o.win_probability),
                weighted: money_short(&scenario.currency, weighted),
            },
        ));
    }
    pipeline.sort_by_key(|p| std::cmp::Reverse(p.0));

    // The proposal priced once, without plugins, for value delivered and the margins.
    let quote = match account.pricing {
        Some(_) => Some(super::price(account, None, &Plugins::none())?),
        None => None,
    };
    let first_year = results.years.first();
    let open_escalations = alerts.escalations.iter().filter(|e| e.open).count();
    let mut headlines = vec![
        Headline {
            label: format!("{} {}", scorecard.name, period(&score.period)),
            value: format!("{} ({})", scorecard.overall.round_dp(2), scorecard.grade),
            status: colour(score.status.rag()),
        },
        Headline {
            label: "Open escalations".into(),
            value: open_escalations.to_string(),
            status: if open_escalations == 0 {
                Rag::Green
            } else {
                Rag::Amber
            },
        },
    ];
    let objectives = objectives(account)?;
    if !objectives.is_empty() {
        let on = objectives.iter().filter(|o| o.status == Rag::Green).count();
        let measured = objectives.iter().filter(|o| o.status != Rag::None).count();
        headlines.push(Headline {
            label: "Joint objectives on target".into(),
            value: format!("{on} of {measured}"),
            status: if on == measured { Rag::Green } else { Rag::Amber },
        });
    }
    let internal = match audience {
        Audience::Customer => None,
        Audience::Internal => {
            headlines.push(Headline {
                label: "Stakeholder map".into(),
                value: format!(
                    "{} — {} gaps",
                    crate::format::name(&sh.status).to_uppercase(),
                    sh.gaps.len()
                ),
                status: colour(Some(sh.status)),
            });
            headlines.push(Headline {
                label: "Revenue P50, year 1".into(),
                value: first_year.map_or("n/a".into(), |y| money_short(&scenario.currency, y.revenue.p50)),
                status: Rag::None,
            });
            headlines.push(Headline {
                label: "P(year-1 target)".into(),
                value: first_year
                    .and_then(|y| y.prob_reach_target)
                    .map_or("n/a".into(), pct_of_fraction),
                status: Rag::None,
            });
            Some(InternalView {
                coverage: Some(coverage),
                growth: Some(growth),
                pipeline: pipeline.into_iter().map(|(_, d)| d).collect(),
                commercial: commercial(account, quote.as_ref())?,
                alerts: alerts
                    .open()
                    .map(|a| AlertRow {
                        node: account.label(&a.node),
                        kpi: account.label(&a.kpi),
                        reason: a
                            .reasons
                            .iter()
                            .map(|r| r.kind.replace('_', " "))
                            .collect::<Vec<_>>()
                            .join(", "),
                        since: period(&a.first),
                        owner: match (&a.owner, a.no_action_plan) {
                            (Some(o), false) => o.clone(),
                            (Some(o), true) => format!("{o} (no action plan)"),
                            (None, _) => "— (no owner)".to_owned(),
                        },
                    })
                    .collect(),
                actions: alerts
                    .actions
                    .iter()
                    .map(|a| ActionRow {
                        id: a.id.clone(),
                        title: a.title.clone(),
                        owner: a.owner.clone(),
                        due: day(a.due),
                        status: action_label(a.status).into(),
                        overdue: a.overdue,
                    })
                    .collect(),
            })
        }
    };

    Ok(EbrReport {
        title: match audience {
            Audience::Customer => format!("Executive Business Review — {}", structure.name),
            Audience::Internal => format!("EBR pre-read — {}", structure.name),
        },
        account: structure.name.clone(),
        as_of: day(manifest.as_of),
        prepared_by: manifest.prepared_by.clone(),
        audience,
        headlines,
        kpi_trends,
        scorecard: Some(scorecard),
        objectives,
        value: value_delivered(account, quote.as_ref())?,
        roadmap: roadmap(account, seed)?,
        since,
        escalations: alerts
            .escalations
            .iter()
            .filter(|e| e.open)
            .map(|e| EscalationRow {
                id: e.id.clone(),
                title: e.title.clone(),
                severity: format!("{:?}", e.severity),
                level: rung_label(e.rung).into(),
                sla_due: e.sla_due.map_or("-".into(), |d| {
                    format!("{} {} UTC", day(d.date_naive()), d.format("%H:%M"))
                }),
                breached: e.top_sla_missed,
            })
            .collect(),
        internal,
    })
}

/// A KPI's unit as a reader writes it.
fn unit_text(u: &kam_core::metrics::Unit) -> String {
    match crate::format::name(u).as_str() {
        "percent" => "%".into(),
        "ppm" => "ppm".into(),
        "hours" => "hours".into(),
        "count" => "count".into(),
        other => other.replace('_', " "),
    }
}

/// The plan's objectives that have a measure, with their current value (observed, else
/// typed) against target, in the KPI's direction.
fn objectives(account: &Account) -> Result<Vec<ObjectiveRow>, AccountError> {
    let Some(plan) = &account.plan else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for g in &plan.goals {
        for o in &g.objectives {
            let Some(m) = &o.measure else { continue };
            let node = m.node.as_deref().unwrap_or(&o.node);
            let current = crate::check::observed(account, &m.kpi, node, m.period.as_deref()).or(m.current);
            let kpi = account.library.get(&m.kpi).ok();
            let status = match (current, kpi) {
                (Some(c), Some(k)) => {
                    if k.thresholds.meets_target(k.direction, c) || meets(k.direction, c, m.target) {
                        Rag::Green
                    } else if k.status(c) == Status::Red {
                        Rag::Red
                    } else {
                        Rag::Amber
                    }
                }
                _ => Rag::None,
            };
            let unit = kpi.map(|k| unit_text(&k.unit)).unwrap_or_default();
            let fmt = |v: Decimal| {
                if unit == "%" {
                    pct(v)
                } else {
                    format!("{} {unit}", v.round_dp(2).normalize())
                }
            };
            out.push(ObjectiveRow {
                title: o.title.clone(),
                scope: account.label(node),
                measure: kpi.map_or_else(
                    || m.kpi.clone(),
                    |k| {
                        account
                            .labels
                            .get(&k.id)
                            .cloned()
                            .unwrap_or_else(|| k.name.clone())
                    },
                ),
                current: current.map_or("—".into(), fmt),
                target: fmt(m.target),
                due: o.due.map_or("—".into(), month_year),
                status,
            });
        }
    }
    Ok(out)
}

/// The delivery roadmap from `delivery.toml` (absent without it): each project's start,
/// simulated P50 and P90 go-live and the committed date, in days from the first start,
/// with a tick at the first of every third month.
fn roadmap(account: &Account, seed: u64) -> Result<Option<kam_report::RoadmapView>, AccountError> {
    use chrono::Datelike as _;
    if account.delivery.is_none() {
        return Ok(None);
    }
    let d = super::delivery(account, 10_000, seed)?;
    let Some(first) = d.projects.iter().map(|p| p.start).min() else {
        return Ok(None);
    };
    let days = |x: chrono::NaiveDate| (x - first).num_days();
    let rows: Vec<kam_report::GanttRow> = d
        .projects
        .iter()
        .map(|p| kam_report::GanttRow {
            label: p.name.clone(),
            start: days(p.start),
            p50: days(p.p50),
            p90: days(p.p90),
            committed: days(p.committed),
            late: p.late,
            note: format!(
                "P50 {} · P90 {} · committed {} · {} on time",
                day(p.p50),
                day(p.p90),
                day(p.committed),
                pct(p.prob_on_time * Decimal::ONE_HUNDRED)
            ),
        })
        .collect();
    let last = d
        .projects
        .iter()
        .flat_map(|p| [p.p90, p.committed])
        .max()
        .unwrap_or(first);
    let mut ticks = Vec::new();
    let mut m = chrono::NaiveDate::from_ymd_opt(first.year(), first.month(), 1);
    while let Some(t) = m.filter(|t| *t <= last) {
        if t >= first {
            ticks.push((days(t), month_year(t)));
        }
        m = t.checked_add_months(chrono::Months::new(3));
    }
    Ok(Some(kam_report::RoadmapView { rows, ticks }))
}

/// Whether `value` meets `target` in `direction`.
fn meets(direction: kam_core::Direction, value: Decimal, target: Decimal) -> bool {
    match direction {
        kam_core::Direction::HigherIsBetter => value >= target,
        kam_core::Direction::LowerIsBetter => value <= target,
    }
}

/// Value delivered that the account's files show: the renewal's saving for the customer,
/// the gainshare's saving and the customer's part of it (pricing.toml
/// `[commercial.gainshare]`, the priced month), and the cost-to-serve trend.
fn value_delivered(
    account: &Account,
    quote: Option<&PriceReport>,
) -> Result<Vec<(String, String)>, AccountError> {
    let mut out = Vec::new();
    if let Some(q) = quote {
        let saving = q.baseline_total - q.proposal_net;
        if saving > Decimal::ZERO {
            out.push((
                format!(
                    "Renewal proposal for {}: saving on this month's volumes",
                    account.label(&q.node)
                ),
                format!(
                    "{} ({})",
                    money_short(&q.currency, saving),
                    q.delta_pct.map_or("n/a".into(), |p| pct(-p))
                ),
            ));
        }
        // Only a saving is value delivered; an overrun is the provider's to explain in
        // the commercial section, not a line of this list.
        if let Some(g) = &q.gainshare
            && g.outcome.saving > Decimal::ZERO
        {
            let o = &g.outcome;
            out.push((
                format!(
                    "Gainshare on {}, {}: cost below the agreed baseline",
                    g.activities
                        .iter()
                        .map(|a| account.label(a))
                        .collect::<Vec<_>>()
                        .join(", "),
                    period(&q.period)
                ),
                format!(
                    "{} saved ({}), {} of it yours",
                    money_short(&q.currency, o.saving),
                    o.saving_pct.map_or("n/a".into(), pct),
                    money_short(&q.currency, o.customer_share)
                ),
            ));
        }
    }
    if let Some(data) = &account.kpi {
        let v = |p: &String| {
            data.rolled
                .value(&data.root, "cost_to_serve_pct", p)
                .ok()
                .flatten()
        };
        if let (Some(first), Some(last)) = (data.periods.first(), data.periods.last())
            && let (Some(a), Some(b)) = (v(first), v(last))
        {
            out.push((
                format!("Cost to serve, {} → {}", period(first), period(last)),
                format!("{} → {} of revenue", pct(a), pct(b)),
            ));
        }
    }
    Ok(out)
}

/// Margins and the negotiation stance, for the internal pre-read.
fn commercial(account: &Account, quote: Option<&PriceReport>) -> Result<Vec<(String, String)>, AccountError> {
    let mut out = Vec::new();
    if let Some(m) = quote.and_then(PriceReport::proposal_margin_pct) {
        out.push(("Proposal margin (CM3)".into(), pct(m)));
    }
    if account.negotiation.is_some() && account.pricing.is_some() {
        let n = super::negotiate(account)?;
        out.push((
            format!(
                "Walk-away for {} at a {} % margin floor",
                n.price_issue.replace('_', " "),
                n.min_margin_pct
            ),
            n.floor_price.to_string(),
        ));
        if let Some((lo, hi, _)) = n.price_zopa {
            out.push(("Price zone of agreement".into(), format!("{lo} – {hi}")));
        }
        if let Some(ok) = n.keeps_margin_floor {
            out.push((
                "Recommended package".into(),
                format!(
                    "margin {} — {}",
                    n.recommended_margin_pct.map_or("n/a".into(), pct),
                    if ok { "keeps the floor" } else { "below the floor" }
                ),
            ));
        }
    }
    Ok(out)
}

/// What changed since the last review, worded for `audience`: the customer sees the
/// plan, the scorecard, escalations and targets; the internal pre-read also the people,
/// prices, pipeline and forecast.
pub fn since_lines(account: &Account, c: &crate::history::Changes, audience: Audience) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = &c.plan {
        for o in &p.objectives {
            out.push(format!("Objective {} {}", o.id, crate::format::name(&o.change)));
        }
        for t in &p.targets {
            out.push(format!("Target {} {}", t.id, crate::format::name(&t.change)));
        }
    }
    if let Some(o) = &c.overall {
        out.push(format!(
            "Scorecard: {} → {}",
            o.before.as_deref().unwrap_or("—"),
            o.after.as_deref().unwrap_or("—")
        ));
    }
    for e in &c.escalations {
        out.push(format!("Escalation {} {}", e.id, e.change));
    }
    if audience == Audience::Internal {
        for p in &c.stakeholders.people {
            out.push(format!("Person {} {}", p.id, p.change));
        }
        for g in &c.stakeholders.gaps {
            out.push(format!("Coverage gap {}: {}", g.change, g.cell));
        }
        for p in &c.pricing {
            out.push(format!("Pricing {} {}", p.id, p.change));
        }
        for d in &c.pipeline {
            out.push(format!("Deal {} {}", d.id, d.change));
        }
        for a in &c.actions {
            out.push(format!("Action plan {} {}", a.id, a.change));
        }
        for (b, a) in &c.growth {
            out.push(format!(
                "Forecast year {} P50: {} → {}",
                a.year,
                crate::format::millions(b.p50),
                crate::format::millions(a.p50)
            ));
        }
    }
    let _ = account;
    out
}

/// `region`, `buying centre`.
pub fn scope_label(s: ThreadScope) -> &'static str {
    match s {
        ThreadScope::Region => "region",
        ThreadScope::BuyingCentre => "buying centre",
    }
}

/// `open`, `in progress`…
pub fn action_label(s: ActionState) -> &'static str {
    match s {
        ActionState::Open => "open",
        ActionState::InProgress => "in progress",
        ActionState::Resolved => "resolved",
        ActionState::Verified => "verified",
    }
}

/// `regional account manager`…
pub fn rung_label(r: Rung) -> &'static str {
    match r {
        Rung::RegionalAccountManager => "regional account manager",
        Rung::GlobalAccountDirector => "global account director",
        Rung::Vp => "our VP",
        Rung::CustomerExecutiveSponsor => "customer executive sponsor",
    }
}
