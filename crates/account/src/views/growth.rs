//! The growth forecast: `growth.toml` (targets resolved from the plan) simulated with
//! the manifest's growth rules, and its P10/P50/P90 against target per year.

use kam_sim::{RunOptions, SimResults};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::AccountError;
use crate::model::Account;
use crate::plugins::Plugins;
use crate::rules;

/// One year of the growth forecast.
#[derive(Debug, Serialize)]
pub struct GrowthYear {
    /// Contract year (1-based).
    pub year: u32,
    /// P10 revenue.
    pub p10: Decimal,
    /// P50 revenue.
    pub p50: Decimal,
    /// P90 revenue.
    pub p90: Decimal,
    /// Target.
    pub target: Option<Decimal>,
    /// Probability of reaching it.
    pub prob_reach_target: Option<Decimal>,
}

/// Growth P10/P50/P90 against target.
#[derive(Debug, Serialize)]
pub struct GrowthReport {
    /// Scenario name.
    pub scenario: String,
    /// Paths.
    pub paths: u64,
    /// Seed.
    pub seed: u64,
    /// Per year.
    pub years: Vec<GrowthYear>,
}

/// Growth summary from simulation results.
pub fn growth_report(r: &SimResults) -> GrowthReport {
    GrowthReport {
        scenario: r.scenario.clone(),
        paths: r.paths,
        seed: r.seed,
        years: r
            .years
            .iter()
            .map(|y| GrowthYear {
                year: y.year,
                p10: y.revenue.p10,
                p50: y.revenue.p50,
                p90: y.revenue.p90,
                target: y.target,
                prob_reach_target: y.prob_reach_target,
            })
            .collect(),
    }
}

/// The run options for the account's growth scenario: `paths`, `seed` and the
/// manifest's growth rules (Rhai scripts and `plugins`' growth plugin).
///
/// # Errors
/// A growth rule script that cannot be loaded.
pub fn run_options(
    account: &Account,
    paths: u64,
    seed: u64,
    plugins: &Plugins,
) -> Result<RunOptions, AccountError> {
    let mut options = RunOptions::new(paths, seed);
    if let Some(rule) = rules::growth(account, plugins)? {
        options = options.rule(rule);
    }
    Ok(options)
}

/// Runs `growth.toml` with `paths` and `seed` and the manifest's growth rules.
///
/// # Errors
/// No growth.toml; a rule that fails (a plugin's located at its kam.toml entry).
pub fn growth(
    account: &Account,
    paths: u64,
    seed: u64,
    plugins: &Plugins,
) -> Result<SimResults, AccountError> {
    let scenario = account.need(&account.growth, "growth.toml", "the growth forecast")?;
    let options = run_options(account, paths, seed, plugins)?;
    let summary = kam_sim::run(scenario, &options).map_err(|e| plugins.locate(AccountError::domain(e)))?;
    summary.results().map_err(AccountError::domain)
}
