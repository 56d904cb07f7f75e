//! The EBR pack's data (`kam report`): the analyses of one account turned into
//! kam-report's presentation records. Computes nothing the views do not.

use kam_core::metrics::{ActionState, Rung, Status};
use kam_core::stakeholders::{BuyingRole, Rag as MapRag, ThreadScope};
use kam_report::{
    ActionRow, CoverageView, DealRow, EbrReport, EscalationRow, GrowthView, Headline, HeatCell, KpiTrend,
    MeasureRow, Rag, ScorecardView,
};
use rust_decimal::Decimal;

use crate::error::AccountError;
use crate::format::{money, pct_of_fraction};
use crate::model::Account;
use crate::plugins::Plugins;
use kam_plugin::RuleKind;

fn rag(s: Status) -> Rag {
    match s {
        Status::Green => Rag::Green,
        Status::Amber => Rag::Amber,
        Status::Red => Rag::Red,
        Status::NoData => Rag::None,
    }
}

fn map_rag(s: MapRag) -> Rag {
    match s {
        MapRag::Green => Rag::Green,
        MapRag::Amber => Rag::Amber,
        MapRag::Red => Rag::Red,
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

/// Builds the EBR record of `account`, with the manifest's plugins of [`PLUGIN_KINDS`]
/// loaded in `plugins`.
///
/// # Errors
/// Any analysis the pack shows fails (see [`super::scorecard`], [`super::alerts`],
/// [`super::stakeholders`], [`super::growth()`]), or account.toml is missing.
pub fn ebr(account: &Account, paths: u64, seed: u64, plugins: &Plugins) -> Result<EbrReport, AccountError> {
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
                .map_or(Rag::None, |v| rag(kpi.status(v)));
            Ok(KpiTrend {
                name: kpi.name.clone(),
                unit: crate::format::name(&kpi.unit),
                periods: data.periods.clone(),
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

    let coverage = CoverageView {
        status: map_rag(sh.status),
        rows: sh.regions.clone(),
        cols: sh.functions.clone(),
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
                    g.region,
                    g.function,
                    role_label(g.buying_role),
                    g.key_players
                )
            })
            .chain(
                sh.unsupported_key_players
                    .iter()
                    .map(|u| format!("No supporter: {} ({}, {})", u.title, u.id, u.region)),
            )
            .chain(
                sh.single_threaded
                    .iter()
                    .map(|t| format!("Single-threaded {}: {}", scope_label(t.scope), t.id)),
            )
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
                        money(y.revenue.p10),
                        money(y.revenue.p50),
                        money(y.revenue.p90)
                    ),
                )];
                if let (Some(t), Some(p)) = (y.target, y.prob_reach_target) {
                    v.push((
                        format!("Year {} target {}", y.year, money(t)),
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
                region: o.region.clone(),
                service_line: o.service_line.replace('_', " "),
                stage: format!("start {}", month_label(start, o.start_month)),
                value: money(value),
                probability: pct_of_fraction(o.win_probability),
                weighted: money(weighted),
            },
        ));
    }
    pipeline.sort_by_key(|p| std::cmp::Reverse(p.0));

    let first_year = results.years.first();
    let headlines = vec![
        Headline {
            label: format!("{} {}", scorecard.name, score.period),
            value: format!("{} ({})", scorecard.overall.round_dp(2), scorecard.grade),
            status: rag(score.status),
        },
        Headline {
            label: "Stakeholder map".into(),
            value: format!(
                "{} — {} gaps",
                map_status_label(sh.status).to_uppercase(),
                sh.gaps.len()
            ),
            status: map_rag(sh.status),
        },
        Headline {
            label: "Revenue P50, year 1".into(),
            value: first_year.map_or("n/a".into(), |y| money(y.revenue.p50)),
            status: Rag::None,
        },
        Headline {
            label: "P(year-1 target)".into(),
            value: first_year
                .and_then(|y| y.prob_reach_target)
                .map_or("n/a".into(), pct_of_fraction),
            status: Rag::None,
        },
        Headline {
            label: "Open alerts / escalations".into(),
            value: format!(
                "{} / {}",
                alerts.open().count(),
                alerts.escalations.iter().filter(|e| e.open).count()
            ),
            status: if alerts.open().next().is_none() {
                Rag::Green
            } else {
                Rag::Amber
            },
        },
    ];

    Ok(EbrReport {
        title: format!("Executive Business Review — {}", structure.name),
        account: structure.name.clone(),
        as_of: manifest.as_of.to_string(),
        prepared_by: manifest.prepared_by.clone(),
        headlines,
        kpi_trends,
        scorecard: Some(scorecard),
        coverage: Some(coverage),
        growth: Some(growth),
        pipeline: pipeline.into_iter().map(|(_, d)| d).collect(),
        actions: alerts
            .actions
            .iter()
            .map(|a| ActionRow {
                id: a.id.clone(),
                title: a.title.clone(),
                owner: a.owner.clone(),
                due: a.due.to_string(),
                status: action_label(a.state).into(),
                overdue: a.overdue,
            })
            .collect(),
        escalations: alerts
            .escalations
            .iter()
            .filter(|e| e.open)
            .map(|e| EscalationRow {
                id: e.id.clone(),
                title: e.title.clone(),
                severity: format!("{:?}", e.severity),
                level: rung_label(e.rung).into(),
                sla_due: e
                    .sla_due
                    .map_or("-".into(), |d| d.format("%Y-%m-%d %H:%M").to_string()),
                breached: e.top_sla_missed,
            })
            .collect(),
    })
}

/// `red`, `amber`, `green`.
pub fn map_status_label(s: MapRag) -> &'static str {
    match s {
        MapRag::Red => "red",
        MapRag::Amber => "amber",
        MapRag::Green => "green",
    }
}

/// `decision maker`, `approver`…
pub fn role_label(r: BuyingRole) -> &'static str {
    match r {
        BuyingRole::DecisionMaker => "decision_maker",
        BuyingRole::Approver => "approver",
        BuyingRole::Evaluator => "evaluator",
        BuyingRole::User => "user",
    }
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
        Rung::Vp => "vp",
        Rung::CustomerExecutiveSponsor => "customer executive sponsor",
    }
}
