//! `kam price DIR [--volumes FILE] [--xlsx FILE] [--json]`: the proposal priced against
//! the baseline with CM1–CM3.

use std::path::PathBuf;

use kam_account::plugins::Plugins;
use kam_account::{read_volumes, views};
use kam_plugin::RuleKind;

use crate::error::CliError;

/// Options of `kam price`.
#[derive(Debug, clap::Args)]
pub struct PriceArgs {
    /// The account directory (with kam.toml and pricing.toml).
    pub dir: PathBuf,
    /// Volumes from a CSV or XLSX table (`activity,quantity`) instead of pricing.toml's.
    #[arg(long)]
    pub volumes: Option<PathBuf>,
    /// Also write the quote to this XLSX workbook.
    #[arg(long)]
    pub xlsx: Option<PathBuf>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kam price`.
pub fn run(args: &PriceArgs) -> Result<(), CliError> {
    let account = super::open(&args.dir)?;
    let volumes = match &args.volumes {
        Some(p) => Some(read_volumes(p).map_err(kam_account::AccountError::from)?),
        None => None,
    };
    let plugins = Plugins::load(&account, &[RuleKind::Pricing])?;
    let report = plugins.finish(views::price(&account, volumes.as_ref(), &plugins))?;
    if let Some(x) = &args.xlsx {
        super::xlsx::quote(&report, x)?;
    }
    super::emit(&report, args.json)
}
