//! # kam-report — the executive business review (EBR) pack
//!
//! Turns an [`EbrReport`] — plain, presentation-ready records that the caller fills from
//! kam's domain results — into one self-contained HTML page: inline CSS, inline SVG
//! charts (see [`svg`]), no scripts, fonts or images from elsewhere, printable on A4.
//! It comes in two editions ([`Audience`]). The **customer** edition is what an account
//! team puts in front of the customer's executives: headlines, the scorecard and KPI
//! trends against target, the joint plan's objectives with their progress, value
//! delivered, what changed since the last review and open escalations. The **internal**
//! pre-read adds what must never reach the customer — the relationship map and its gaps,
//! the pipeline with win probabilities, margins and the negotiation stance, the growth
//! forecast, alerts and action plans with owners — held in [`InternalView`], which the
//! customer edition does not carry at all (so it cannot leak through the template).
//!
//! It is **not** an analysis crate: it computes nothing about the account and depends on
//! no other kam crate. Rendering is deterministic: the same report gives the same bytes.
//!
//! ```
//! use kam_report::{EbrReport, render_html};
//!
//! let report = EbrReport { title: "EBR".into(), account: "Global OEM".into(), ..EbrReport::default() };
//! let html = render_html(&report)?;
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! # Ok::<(), kam_report::ReportError>(())
//! ```

pub mod svg;

use minijinja::value::Serde;
use minijinja::{Environment, context};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use svg::{GanttRow, HeatCell};

/// Rendering failed (a template error: a bug, or data the template cannot show).
#[derive(Debug, thiserror::Error)]
#[error("rendering the EBR report: {0}")]
pub struct ReportError(#[from] minijinja::Error);

/// Red / amber / green, or not applicable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rag {
    /// On target.
    Green,
    /// Watch.
    Amber,
    /// Off target.
    Red,
    /// No status.
    #[default]
    None,
}

/// Who the pack is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The customer's executives: no internal view of their people, deals or margins.
    #[default]
    Customer,
    /// Our account team's pre-read.
    Internal,
}

/// A joint objective of the account plan with its progress.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ObjectiveRow {
    /// Title.
    pub title: String,
    /// Where (region or the account).
    pub scope: String,
    /// The measure's name.
    pub measure: String,
    /// Current value, formatted.
    pub current: String,
    /// Target, formatted.
    pub target: String,
    /// Due, formatted (`Mar 2027`).
    pub due: String,
    /// On target, close, or off.
    pub status: Rag,
}

/// The delivery roadmap: implementation projects against the dates committed to the
/// customer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoadmapView {
    /// One row per project.
    pub rows: Vec<GanttRow>,
    /// Axis ticks (day number, label).
    pub ticks: Vec<(i64, String)>,
}

/// What changed since the last review.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SinceView {
    /// The review compared with (`EBR 2026-Q2, Aug 2026`).
    pub since: String,
    /// One line per change, customer-safe.
    pub lines: Vec<String>,
}

/// An alert in the internal pre-read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlertRow {
    /// Where.
    pub node: String,
    /// Which KPI.
    pub kpi: String,
    /// Why.
    pub reason: String,
    /// Since when.
    pub since: String,
    /// Who acts on it.
    pub owner: String,
}

/// What only the internal pre-read shows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InternalView {
    /// Relationship coverage and its gaps.
    pub coverage: Option<CoverageView>,
    /// The growth forecast against target.
    pub growth: Option<GrowthView>,
    /// The pipeline with win probabilities.
    pub pipeline: Vec<DealRow>,
    /// Margins and the negotiation stance, as (label, value).
    pub commercial: Vec<(String, String)>,
    /// Open alerts with owners.
    pub alerts: Vec<AlertRow>,
    /// Open action plans.
    pub actions: Vec<ActionRow>,
}

/// A headline figure at the top of the pack.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Headline {
    /// What it is ("Scorecard", "Revenue P50 2027").
    pub label: String,
    /// The formatted value.
    pub value: String,
    /// Optional status colour.
    #[serde(default)]
    pub status: Rag,
}

/// One KPI's trend for a chart.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KpiTrend {
    /// KPI name.
    pub name: String,
    /// Unit ("%", "h", "ppm", "EUR").
    pub unit: String,
    /// Period labels, oldest first.
    pub periods: Vec<String>,
    /// Values per period (`None` = no observation).
    pub actual: Vec<Option<Decimal>>,
    /// Target, if any.
    pub target: Option<Decimal>,
    /// Current status.
    #[serde(default)]
    pub status: Rag,
}

/// One scorecard measure row.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MeasureRow {
    /// Measure name.
    pub name: String,
    /// Formatted actual.
    pub actual: String,
    /// Formatted target.
    pub target: String,
    /// Score (1 = on target), or `None` when N/A.
    pub score: Option<Decimal>,
    /// Normalized weight.
    pub weight: Decimal,
    /// Contribution to the overall score.
    pub contribution: Decimal,
    /// Status.
    #[serde(default)]
    pub status: Rag,
}

/// The scorecard section.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScorecardView {
    /// Scorecard name ("Q3 QBR").
    pub name: String,
    /// Overall score.
    pub overall: Decimal,
    /// Grade or band name.
    pub grade: String,
    /// Change against the previous period, if known.
    pub trend: Option<Decimal>,
    /// Measures in template order.
    pub measures: Vec<MeasureRow>,
}

/// The stakeholder coverage section.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CoverageView {
    /// Map status.
    pub status: Rag,
    /// Row labels (regions).
    pub rows: Vec<String>,
    /// Column labels (functions).
    pub cols: Vec<String>,
    /// Cells, `rows × cols`.
    pub cells: Vec<Vec<HeatCell>>,
    /// Findings to show under the map (gaps, unsupported key players, single threads).
    pub findings: Vec<String>,
    /// The customer's most influential people (weighted PageRank), highest first.
    #[serde(default)]
    pub influence: Vec<InfluenceRow>,
    /// The strongest relationship path from one of our people to each decision maker
    /// and approver.
    #[serde(default)]
    pub paths: Vec<PathRow>,
}

/// One of the customer's most influential people (internal: our view of their people).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InfluenceRow {
    /// Rank, 1 first.
    pub rank: usize,
    /// Name and title.
    pub person: String,
    /// Weighted PageRank score.
    pub score: Decimal,
}

/// The strongest relationship path to a decision maker or approver (internal).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PathRow {
    /// The decision maker or approver: name and title.
    pub person: String,
    /// `decision maker` or `approver`.
    pub role: String,
    /// Path strength in (0, 1]; `None`: nobody of ours reaches them.
    pub strength: Option<Decimal>,
    /// The route, `ad —covers→ brandt —influences→ mueller`; empty when unreached.
    pub route: String,
}

/// The growth section.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GrowthView {
    /// Period labels.
    pub periods: Vec<String>,
    /// P10 per period.
    pub p10: Vec<Decimal>,
    /// P50 per period.
    pub p50: Vec<Decimal>,
    /// P90 per period.
    pub p90: Vec<Decimal>,
    /// Target per period, where set.
    pub target: Vec<Option<Decimal>>,
    /// Summary rows (label, value), e.g. ("P(2027 target)", "64 %").
    pub summary: Vec<(String, String)>,
}

/// A pipeline row.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DealRow {
    /// Opportunity name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Service line.
    pub service_line: String,
    /// Sales stage.
    pub stage: String,
    /// Formatted annual value.
    pub value: String,
    /// Formatted win probability.
    pub probability: String,
    /// Formatted weighted value.
    pub weighted: String,
}

/// An open action.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ActionRow {
    /// Id.
    pub id: String,
    /// What is being done.
    pub title: String,
    /// Owner.
    pub owner: String,
    /// Due date.
    pub due: String,
    /// Lifecycle status.
    pub status: String,
    /// Past due.
    pub overdue: bool,
}

/// An open escalation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EscalationRow {
    /// Id.
    pub id: String,
    /// Subject.
    pub title: String,
    /// Severity (S1–S4).
    pub severity: String,
    /// Current rung of the ladder.
    pub level: String,
    /// SLA due time.
    pub sla_due: String,
    /// SLA passed.
    pub breached: bool,
}

/// Everything the EBR pack shows. Empty sections are left out of the page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EbrReport {
    /// Page title.
    pub title: String,
    /// Customer account name.
    pub account: String,
    /// Date of the figures.
    pub as_of: String,
    /// Who prepared it.
    pub prepared_by: String,
    /// Who the pack is for.
    pub audience: Audience,
    /// Headline figures.
    pub headlines: Vec<Headline>,
    /// KPI trends.
    pub kpi_trends: Vec<KpiTrend>,
    /// The scorecard.
    pub scorecard: Option<ScorecardView>,
    /// The joint plan's objectives with their progress.
    pub objectives: Vec<ObjectiveRow>,
    /// Value delivered, as (label, value).
    pub value: Vec<(String, String)>,
    /// The delivery roadmap (absent without delivery data).
    pub roadmap: Option<RoadmapView>,
    /// What changed since the last review (absent without a saved review).
    pub since: Option<SinceView>,
    /// Open escalations.
    pub escalations: Vec<EscalationRow>,
    /// The internal pre-read's sections; `None` in the customer edition.
    pub internal: Option<InternalView>,
}

const TEMPLATE: &str = include_str!("templates/ebr.html");

/// Renders the pack as one self-contained HTML document.
///
/// # Errors
/// Only if the template cannot render (a bug); never for empty or partial data.
pub fn render_html(report: &EbrReport) -> Result<String, ReportError> {
    let trends: Vec<String> = report
        .kpi_trends
        .iter()
        .map(|k| svg::trend_chart(&k.name, &k.periods, &k.actual, k.target))
        .collect();
    let contributions = report.scorecard.as_ref().map(|s| {
        let items: Vec<(String, Decimal)> = s
            .measures
            .iter()
            .map(|m| (m.name.clone(), m.contribution))
            .collect();
        svg::bar_chart("Contribution to the overall score", &items)
    });
    let internal = report.internal.as_ref();
    let heat = internal
        .and_then(|i| i.coverage.as_ref())
        .map(|c| svg::heat_map("Stakeholder coverage", &c.rows, &c.cols, &c.cells));
    let fan = internal.and_then(|i| i.growth.as_ref()).map(|g| {
        svg::fan_chart(
            "Revenue forecast P10–P90 against target",
            &g.periods,
            &g.p10,
            &g.p50,
            &g.p90,
            &g.target,
        )
    });

    let gantt = report
        .roadmap
        .as_ref()
        .map(|r| svg::gantt("Delivery roadmap", &r.rows, &r.ticks));

    let mut env = Environment::new();
    env.add_template("ebr.html", TEMPLATE)?;
    let html = env.get_template("ebr.html")?.render(context! {
        r => Serde(report),
        trend_svgs => Serde(&trends),
        contribution_svg => Serde(&contributions),
        heat_svg => Serde(&heat),
        fan_svg => Serde(&fan),
        gantt_svg => Serde(&gantt),
    })?;
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn escapes_customer_text_and_embeds_one_svg_per_chart() {
        let report = EbrReport {
            title: "EBR <Q3>".into(),
            account: "A & B Motors".into(),
            kpi_trends: vec![KpiTrend {
                name: "OTIF".into(),
                unit: "%".into(),
                periods: vec!["Jan".into(), "Feb".into()],
                actual: vec![Some(dec!(97.1)), Some(dec!(98.9))],
                target: Some(dec!(98.5)),
                status: Rag::Green,
            }],
            scorecard: Some(ScorecardView {
                name: "QBR".into(),
                overall: dec!(0.9842),
                grade: "Green".into(),
                trend: Some(dec!(0.01)),
                measures: vec![MeasureRow {
                    name: "OTIF".into(),
                    contribution: dec!(0.2979),
                    ..MeasureRow::default()
                }],
            }),
            ..EbrReport::default()
        };
        let html = render_html(&report).unwrap();
        assert!(html.contains("EBR &lt;Q3&gt;"));
        assert!(html.contains("A &amp; B Motors"));
        assert!(!html.contains("<Q3>"));
        assert_eq!(html.matches("<svg").count(), 2);
        assert!(!html.contains("<script"));
        assert!(
            !html.contains("http://")
                || html.matches("http://").count()
                    == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        );
    }

    #[test]
    fn text_from_a_rule_is_escaped_in_the_html() {
        // An alert's reason can come from a plugin's or script's message.
        let report = EbrReport {
            internal: Some(InternalView {
                alerts: vec![AlertRow {
                    node: "bremen".into(),
                    kpi: "OTIF".into(),
                    reason: "<script>alert(1)</script><img src=x onerror=alert(2)>".into(),
                    since: "2026-10".into(),
                    owner: "ops".into(),
                }],
                ..InternalView::default()
            }),
            ..EbrReport::default()
        };
        let html = render_html(&report).unwrap();
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;&lt;img src=x onerror=alert(2)&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script") && !html.contains("<img"));
    }
}
