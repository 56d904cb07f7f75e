//! `kam delivery DIR [--paths N] [--seed S] [--json]`: each implementation project's
//! critical path, simulated P50/P90 go-live against the committed date, milestones at
//! risk, critical tasks without an owner, and our people's overloaded months
//! (`delivery.toml`; durations in weeks).

use std::path::PathBuf;

use kam_account::views;
use kam_account::views::delivery::{DEFAULT_PATHS, DEFAULT_SEED};

use crate::error::CliError;

/// Options of `kam delivery`.
#[derive(Debug, clap::Args)]
pub struct DeliveryArgs {
    /// The account directory (delivery.toml).
    pub dir: PathBuf,
    /// Simulated paths per milestone.
    #[arg(long, default_value_t = DEFAULT_PATHS)]
    pub paths: u64,
    /// Random seed.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kam delivery`.
pub fn run(args: &DeliveryArgs) -> Result<(), CliError> {
    let stages = super::Stages::new("kam delivery");
    stages.stage("reading the account");
    let account = super::open(&args.dir)?;
    stages.stage(&format!(
        "simulating go-lives ({} paths per milestone)",
        args.paths
    ));
    let report = views::delivery(&account, args.paths, args.seed)?;
    drop(stages);
    super::emit(&report, args.json)
}
