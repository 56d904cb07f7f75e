//! `kam report DIR -o ebr.html`: the executive business review pack, one self-contained
//! HTML page (inline CSS and SVG, no scripts, no external assets).

use std::path::{Path, PathBuf};

use kam_core::metrics::Status;
use kam_report::{
    ActionRow, CoverageView, DealRow, EbrReport, EscalationRow, GrowthView, Headline, HeatCell, KpiTrend,
    MeasureRow, Rag, ScorecardView, render_html,
};
use rust_decimal::Decimal;

use crate::account_dir::AccountDir;
use crate::analysis::{self, input, money, pct_of_fraction};
use crate::error::CliError;
use crate::plugins::{Kind, Plugins};

/// Options of `kam report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The account directory.
    pub dir: PathBuf,
    /// Output HTML file.
    #[arg(short, long, default_value = "ebr.html")]
    pub output: PathBuf,
    /// Monte Carlo paths for the growth fan chart.
    #[arg(long, default_value_t = 20_000)]
    pub paths: u64,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

fn rag(s: Status) -> Rag {
    match s {
        Status::Green => Rag::Green,
        Status::Amber => Rag::Amber,
        Status::Red => Rag::Red,
        Status::NoData => Rag::None,
    }
}

fn rag_name(s: &str) -> Rag {
    match s.to_ascii_lowercase().as_str() {
        "green" => Rag::Green,
        "amber" => Rag::Amber,
        "red" => Rag::Red,
        _ => Rag::None,
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
pub const PLUGIN_KINDS: [Kind; 3] = [Kind::Scoring, Kind::Alert, Kind::Growth];

/// Builds the EBR record for an account directory, with the manifest's plugins of
/// [`PLUGIN_KINDS`] loaded in `plugins`.
pub fn build(dir: &AccountDir, paths: u64, seed: u64, plugins: &Plugins) -> Result<EbrReport, CliError> {
    let manifest = dir.manifest().map_err(input)?;
    let account: kam_core::account::Account = dir.toml("account.toml").map_err(input)?;
    let data = analysis::kpi_data(dir)?;
    let score = analysis::scorecard(dir, &data, plugins)?;
    let alerts = analysis::alerts(dir, &data, &manifest, plugins)?;
    let sh = analysis::stakeholders(dir)?;
    let (scenario, results) = analysis::growth(dir, &manifest, paths, seed, plugins)?;

    let kpi_trends = score
        .sheet
        .measures
        .iter()
        .map(|m| {
            let kpi = data.library.get(&m.kpi).map_err(input)?;
            let actual: Vec<Option<Decimal>> = data
                .periods
                .iter()
                .map(|p| {
                    data.rolled
                        .value(&data.root, &m.kpi, p)
                        .map(|v| v.map(|v| v.round_dp(2)))
                })
                .collect::<Result<_, _>>()
                .map_err(input)?;
            let status = actual
                .last()
                .copied()
                .flatten()
                .map_or(Rag::None, |v| rag(kpi.status(v)));
            Ok(KpiTrend {
                name: kpi.name.clone(),
                unit: analysis::label(&kpi.unit),
                periods: data.periods.clone(),
                actual,
                target: Some(m.target),
                status,
            })
        })
        .collect::<Result<Vec<_>, CliError>>()?;

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
        status: rag_name(&sh.status),
        rows: sh.regions.clone(),
        cols: sh.functions.clone(),
        cells: sh
            .heat
            .iter()
            .map(|row| {
                row.iter()
                    .map(|&(people, covered, level)| HeatCell {
                        level: (people > 0).then_some(level),
                        text: if people > 0 {
                            format!("{covered}/{people}")
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
                    g.region, g.function, g.buying_role, g.key_players
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
                    .map(|t| format!("Single-threaded {}: {}", t.scope.replace('_', " "), t.id)),
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
        let value = o.value.mean().map_err(input)?;
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
            status: rag_name(&scorecard.grade),
        },
        Headline {
            label: "Stakeholder map".into(),
            value: format!("{} — {} gaps", sh.status.to_uppercase(), sh.gaps.len()),
            status: rag_name(&sh.status),
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
                alerts.alerts.len(),
                alerts.escalations.iter().filter(|e| e.open).count()
            ),
            status: if alerts.alerts.is_empty() {
                Rag::Green
            } else {
                Rag::Amber
            },
        },
    ];

    Ok(EbrReport {
        title: format!("Executive Business Review — {}", account.name),
        account: account.name.clone(),
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
                status: a.state.replace('_', " "),
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
                severity: e.severity.clone(),
                level: e.rung.replace('_', " "),
                sla_due: e
                    .sla_due
                    .map_or("-".into(), |d| d.format("%Y-%m-%d %H:%M").to_string()),
                breached: e.top_sla_missed,
            })
            .collect(),
    })
}

/// Runs `kam report`.
pub fn run(args: &ReportArgs) -> Result<(), CliError> {
    let (dir, manifest) = super::open(&args.dir)?;
    let plugins = Plugins::load(&dir, &manifest, &PLUGIN_KINDS)?;
    let report = plugins.finish(build(&dir, args.paths, args.seed, &plugins))?;
    let html = render_html(&report).map_err(input)?;
    write(&args.output, &html)?;
    super::outln!(
        "wrote {} ({} KB, {} KPI trends, {} pipeline deals, {} open actions)",
        args.output.display(),
        html.len() / 1024,
        report.kpi_trends.len(),
        report.pipeline.len(),
        report.actions.len()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|source| CliError::Io {
        path: path.display().to_string(),
        source,
    })
}
