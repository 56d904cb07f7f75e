//! `kam stakeholders DIR [--json]`: map status, coverage gaps, unsupported key players,
//! single threads.

use std::path::PathBuf;

use kam_account::views;

use crate::error::CliError;

/// Options of `kam stakeholders`.
#[derive(Debug, clap::Args)]
pub struct StakeholdersArgs {
    /// The account directory (stakeholders.toml).
    pub dir: PathBuf,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kam stakeholders`.
pub fn run(args: &StakeholdersArgs) -> Result<(), CliError> {
    let account = super::open(&args.dir)?;
    super::emit(&views::stakeholders(&account)?, args.json)
}
