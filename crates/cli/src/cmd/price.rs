//! `kam price DIR [--volumes FILE] [--by node,service_line] [--xlsx FILE] [--json]`: the
//! proposal priced against the baseline with CM1–CM3; over several periods with the
//! minimum commitments' credit banking; or its cost-to-serve per node and service line.

use std::path::PathBuf;

use kam_account::plugins::Plugins;
use kam_account::views::{self, GroupBy};
use kam_account::volumes::VolumeTable;
use kam_plugin::RuleKind;

use crate::error::{CliError, input};

/// Options of `kam price`.
#[derive(Debug, clap::Args)]
pub struct PriceArgs {
    /// The account directory (with kam.toml and pricing.toml).
    pub dir: PathBuf,
    /// Volumes from a CSV or XLSX table (`activity,quantity`, optional `period`, `node`,
    /// `service_line` columns) or a TOML file (`[[period]]` tables) instead of
    /// pricing.toml's. Several periods are priced one by one with credit banking.
    #[arg(long)]
    pub volumes: Option<PathBuf>,
    /// Cost-to-serve and CM1–CM3 per `node,service_line`, `node` or `service_line`.
    #[arg(long, value_parser = parse_by)]
    pub by: Option<GroupBy>,
    /// Also write the quote to this XLSX workbook (one period).
    #[arg(long)]
    pub xlsx: Option<PathBuf>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_by(s: &str) -> Result<GroupBy, String> {
    let mut parts: Vec<&str> = s.split(',').map(str::trim).collect();
    parts.sort_unstable();
    parts.dedup();
    match parts.as_slice() {
        ["node", "service_line"] => Ok(GroupBy::NodeAndServiceLine),
        ["node"] => Ok(GroupBy::Node),
        ["service_line"] => Ok(GroupBy::ServiceLine),
        _ => Err(format!("{s:?}: expected node,service_line, node or service_line")),
    }
}

/// Runs `kam price`.
pub fn run(args: &PriceArgs) -> Result<(), CliError> {
    let account = super::open(&args.dir)?;
    let table = match &args.volumes {
        Some(p) => Some(VolumeTable::read(p).map_err(kam_account::AccountError::from)?),
        None => None,
    };
    let plugins = Plugins::load(&account, &[RuleKind::Pricing])?;
    if let Some(by) = args.by {
        let report = plugins.finish(views::cost_to_serve(&account, table.as_ref(), by, &plugins))?;
        return super::emit(&report, args.json);
    }
    match &table {
        Some(t) if t.periods.len() > 1 => {
            if args.xlsx.is_some() {
                return Err(input(format!(
                    "--xlsx writes one period's quote; {} has {} periods",
                    t.file,
                    t.periods.len()
                )));
            }
            let report = plugins.finish(views::price_periods(&account, t, &plugins))?;
            super::emit(&report, args.json)
        }
        _ => {
            let report = match table.as_ref().and_then(|t| t.periods.first()) {
                Some(p) => plugins.finish(views::price_volumes(&account, p, &plugins))?,
                None => plugins.finish(views::price(&account, None, &plugins))?,
            };
            if let Some(x) = &args.xlsx {
                super::xlsx::quote(&report, x)?;
            }
            super::emit(&report, args.json)
        }
    }
}
