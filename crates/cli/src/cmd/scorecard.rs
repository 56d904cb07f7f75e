//! `kam scorecard DIR [--xlsx FILE] [--json]`: the QBR scorecard of the latest period,
//! plus alerts, action plans and escalations with `--alerts`.

use std::path::PathBuf;

use kam_account::plugins::Plugins;
use kam_account::views;
use kam_plugin::RuleKind;

use crate::error::CliError;

/// Options of `kam scorecard`.
#[derive(Debug, clap::Args)]
pub struct ScorecardArgs {
    /// The account directory (scorecard.toml, kpis.toml, kpi_observations.csv/.xlsx).
    pub dir: PathBuf,
    /// Also write the scorecard to this XLSX workbook.
    #[arg(long)]
    pub xlsx: Option<PathBuf>,
    /// Show open alerts, action plans and escalations instead of the scorecard.
    #[arg(long)]
    pub alerts: bool,
    /// Roll every site's score up site → country → region → global, weighted by revenue.
    #[arg(long, conflicts_with = "alerts")]
    pub rollup: bool,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kam scorecard`.
pub fn run(args: &ScorecardArgs) -> Result<(), CliError> {
    let account = super::open(&args.dir)?;
    if args.alerts {
        let plugins = Plugins::load(&account, &[RuleKind::Alert])?;
        let report = plugins.finish(views::alerts(&account, &plugins))?;
        return super::emit(&report, args.json);
    }
    let plugins = Plugins::load(&account, &[RuleKind::KpiScoring])?;
    if args.rollup {
        let r = plugins.finish(views::rollup(&account, &plugins))?;
        return super::emit(&r, args.json);
    }
    let report = plugins.finish(views::scorecard(&account, &plugins))?;
    if let Some(x) = &args.xlsx {
        super::xlsx::scorecard(&report, x)?;
    }
    super::emit(&report, args.json)
}
