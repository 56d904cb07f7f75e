//! `kam coach DIR [--json]`: each regional account manager's plan completeness and
//! coverage against the global standard, and the development actions that follow.

use std::path::PathBuf;

use kam_account::views;

use crate::error::CliError;

/// Options of `kam coach`.
#[derive(Debug, clap::Args)]
pub struct CoachArgs {
    /// The account directory (plan.toml, account.toml; stakeholders.toml for coverage).
    pub dir: PathBuf,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kam coach`.
pub fn run(args: &CoachArgs) -> Result<(), CliError> {
    let account = super::open(&args.dir)?;
    super::emit(&views::coaching(&account)?, args.json)
}
