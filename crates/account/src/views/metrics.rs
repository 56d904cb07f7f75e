//! KPIs as the account team reviews them: the QBR scorecard (`kam scorecard`) and the
//! alert register behind `kam alerts` (see [`super::alerts`]).

use chrono::{NaiveDate, NaiveDateTime};
use kam_core::metrics::{AlertKind, AlertPolicy, AlertRegister, Status, evaluate};
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

/// Noon of `day`: the moment the account's figures are taken at.
pub(crate) fn noon(day: NaiveDate) -> Result<NaiveDateTime, AccountError> {
    day.and_hms_opt(12, 0, 0)
        .ok_or_else(|| AccountError::invalid("as_of: invalid date"))
}
