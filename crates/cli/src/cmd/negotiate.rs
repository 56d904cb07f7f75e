//! `kam negotiate DIR [--json]`: ZOPA, Pareto frontier and the recommended package.

use std::path::PathBuf;

use kam_account::views;

use crate::error::CliError;

/// Options of `kam negotiate`.
#[derive(Debug, clap::Args)]
pub struct NegotiateArgs {
    /// The account directory (negotiation.toml and pricing.toml).
    pub dir: PathBuf,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kam negotiate`.
pub fn run(args: &NegotiateArgs) -> Result<(), CliError> {
    let account = super::open(&args.dir)?;
    super::emit(&views::negotiate(&account)?, args.json)
}
