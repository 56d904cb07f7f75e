//! `kam negotiate DIR [--log FILE] [--json]`: ZOPA, Pareto frontier and the recommended
//! package; with `--log`, the concession log replayed against both walk-aways and our
//! margin floor.

use std::path::PathBuf;

use kam_account::views;

use crate::error::CliError;

/// Options of `kam negotiate`.
#[derive(Debug, clap::Args)]
pub struct NegotiateArgs {
    /// The account directory (negotiation.toml and pricing.toml).
    pub dir: PathBuf,
    /// A concession log (`concessions.toml`: dated `[[offer]]`s). A relative path that
    /// does not exist is looked up in DIR.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kam negotiate`.
pub fn run(args: &NegotiateArgs) -> Result<(), CliError> {
    let account = super::open(&args.dir)?;
    let mut report = views::negotiate(&account)?;
    if let Some(log) = &args.log {
        let path = if log.is_relative() && !log.exists() {
            args.dir.join(log)
        } else {
            log.clone()
        };
        let text = kam_account::files::read_text(&path).map_err(kam_account::AccountError::from)?;
        report.concessions = Some(views::concessions(&account, &path.display().to_string(), &text)?);
    }
    super::emit(&report, args.json)
}
