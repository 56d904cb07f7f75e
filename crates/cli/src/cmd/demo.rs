//! `kam demo`: the embedded sample account (Nordwerk Automotive) end to end.

use std::time::Instant;

use serde::Serialize;

use crate::account_dir::AccountDir;
use crate::analysis::{self, input};
use crate::error::CliError;
use crate::plugins::{Kind, Plugins};

/// Options of `kam demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Monte Carlo paths for the growth forecast.
    #[arg(long, default_value_t = 20_000)]
    pub paths: u64,
    /// Random seed (fixed, so the demo is reproducible).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Everything the demo shows, in order.
#[derive(Debug, Serialize)]
pub struct Demo {
    /// Account.
    pub account: String,
    /// As-of date.
    pub as_of: chrono::NaiveDate,
    /// Plan integrity.
    pub plan: analysis::PlanCheck,
    /// Stakeholder map.
    pub stakeholders: analysis::StakeholderReport,
    /// Proposal vs baseline.
    pub pricing: analysis::PriceReport,
    /// Negotiation.
    pub negotiation: analysis::NegotiationReport,
    /// QBR scorecard.
    pub scorecard: analysis::ScorecardReport,
    /// Alerts, actions, escalations.
    pub alerts: analysis::AlertsReport,
    /// Growth forecast.
    pub growth: analysis::GrowthReport,
    /// Plugin notes (the embedded sample carries no plugin files: always skipped).
    pub plugins: Vec<String>,
}

/// Runs all analyses over the embedded sample.
pub fn build(paths: u64, seed: u64) -> Result<Demo, CliError> {
    let dir = AccountDir::Sample;
    let manifest = dir.manifest().map_err(input)?;
    let account: kam_core::account::Account = dir.toml("account.toml").map_err(input)?;
    // The embedded sample has no files on disk, so its optional plugins are skipped
    // with a note: the demo's output never depends on which plugins were built.
    let plugins = Plugins::load(&dir, &manifest, &Kind::ALL)?;
    let data = analysis::kpi_data(&dir)?;
    let (_, results) = analysis::growth(&dir, &manifest, paths, seed, &plugins)?;
    Ok(Demo {
        account: account.name,
        as_of: manifest.as_of,
        plan: analysis::plan_check(&dir, manifest.as_of)?,
        stakeholders: analysis::stakeholders(&dir)?,
        pricing: analysis::price(&dir, None, &manifest, &plugins)?,
        negotiation: analysis::negotiate(&dir)?,
        scorecard: analysis::scorecard(&dir, &data, &plugins)?,
        alerts: analysis::alerts(&dir, &data, &manifest, &plugins)?,
        growth: analysis::growth_report(&results),
        plugins: plugins.notes().to_vec(),
    })
}

/// Runs `kam demo`.
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let start = Instant::now();
    let demo = build(args.paths, args.seed)?;
    if args.json {
        super::outln!("{}", serde_json::to_string_pretty(&demo).map_err(input)?);
        return Ok(());
    }
    let rule = "─".repeat(78);
    super::outln!(
        "kam demo — {} (fictional sample), as of {}",
        demo.account,
        demo.as_of
    );
    let sections: [(&str, &dyn std::fmt::Display); 7] = [
        ("1. Account plan integrity", &demo.plan),
        ("2. Stakeholder gaps and map status", &demo.stakeholders),
        (
            "3. Bremen renewal: proposal priced against baseline",
            &demo.pricing,
        ),
        ("4. Negotiation recommendation", &demo.negotiation),
        ("5. QBR scorecard", &demo.scorecard),
        ("6. Alerts, action plans and escalations", &demo.alerts),
        ("7. Growth P10 / P50 / P90 against target", &demo.growth),
    ];
    for (title, body) in sections {
        super::outln!("{rule}\n{title}\n{rule}");
        super::out!("{body}");
    }
    for n in &demo.plugins {
        super::outln!("note: {n}");
    }
    eprintln!("done in {} ms", start.elapsed().as_millis());
    Ok(())
}
