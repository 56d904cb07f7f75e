//! `kam demo`: the embedded sample account (Nordwerk Automotive) end to end.

use std::time::Instant;

use serde::Serialize;

use kam_account::plugins::Plugins;
use kam_account::{Account, views};
use kam_plugin::RuleKind;

use crate::error::{CliError, input};
use crate::table::Table;

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
    pub plan: views::PlanCheck,
    /// Stakeholder map.
    pub stakeholders: views::StakeholderReport,
    /// Proposal vs baseline.
    pub pricing: views::PriceReport,
    /// Negotiation.
    pub negotiation: views::NegotiationReport,
    /// QBR scorecard.
    pub scorecard: views::ScorecardReport,
    /// Alerts, actions, escalations.
    pub alerts: views::AlertsReport,
    /// Growth forecast.
    pub growth: views::GrowthReport,
    /// Findings of the checks across the account's files (`kam check`, less the plan's
    /// own findings shown above).
    pub checks: Vec<kam_account::check::Finding>,
    /// Plugin notes (the embedded sample carries no plugin files: always skipped).
    pub plugins: Vec<String>,
    /// Implementation projects, go-lives and load (the last section).
    pub delivery: views::DeliveryReport,
}

/// Runs all analyses over the embedded sample.
pub fn build(paths: u64, seed: u64) -> Result<Demo, CliError> {
    let account = Account::sample()?;
    // The embedded sample has no files on disk, so its optional plugins are skipped
    // with a note: the demo's output never depends on which plugins were built.
    let plugins = Plugins::load(&account, &RuleKind::ALL)?;
    let results = views::growth(&account, paths, seed, &plugins)?;
    let structure = account.need(&account.structure, "account.toml", "kam demo")?;
    Ok(Demo {
        account: structure.name.clone(),
        as_of: account.manifest.as_of,
        plan: views::plan_check(&account)?,
        stakeholders: views::stakeholders(&account)?,
        pricing: views::price(&account, None, &plugins)?,
        negotiation: views::negotiate(&account)?,
        scorecard: views::scorecard(&account, &plugins)?,
        alerts: views::alerts(&account, &plugins)?,
        growth: views::growth_report(&results),
        checks: kam_account::check::check(&account)?
            .into_iter()
            .filter(|f| kam_account::check::CODES.iter().any(|(c, _)| *c == f.code))
            .collect(),
        plugins: plugins.notes().to_vec(),
        delivery: views::delivery(
            &account,
            views::delivery::DEFAULT_PATHS,
            views::delivery::DEFAULT_SEED,
        )?,
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
    let sections: [(&str, &dyn std::fmt::Display); 9] = [
        ("1. Account plan integrity", &Table(&demo.plan)),
        ("2. Stakeholder gaps and map status", &Table(&demo.stakeholders)),
        (
            "3. Bremen renewal: proposal priced against baseline",
            &Table(&demo.pricing),
        ),
        ("4. Negotiation recommendation", &Table(&demo.negotiation)),
        ("5. QBR scorecard", &Table(&demo.scorecard)),
        ("6. Alerts, action plans and escalations", &Table(&demo.alerts)),
        ("7. Growth P10 / P50 / P90 against target", &Table(&demo.growth)),
        (
            "8. Checks across the account's files (kam check)",
            &Table(&demo.checks),
        ),
        (
            "9. Implementation projects: go-lives and load (kam delivery)",
            &Table(&demo.delivery),
        ),
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
