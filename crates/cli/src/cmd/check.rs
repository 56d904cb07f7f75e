//! `kam check DIR [--strict] [--json]`: every finding of the account — the plan's own
//! integrity checks and the checks across its files — each with its code, severity,
//! file and line.

use std::path::PathBuf;

use kam_account::check::{self, FindingSeverity};

use crate::error::{CliError, input};

/// Options of `kam check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The account directory.
    pub dir: PathBuf,
    /// Exit 1 when there is any finding of warning or error severity (for CI).
    #[arg(long)]
    pub strict: bool,
    /// JSON: an array of {code, severity, file, line, message, path?}.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kam check`.
pub fn run(args: &CheckArgs) -> Result<(), CliError> {
    let account = super::open(&args.dir)?;
    let findings = check::check(&account)?;
    if args.json {
        super::outln!("{}", serde_json::to_string_pretty(&findings).map_err(input)?);
    } else {
        super::out!("{}", crate::table::Table(&findings));
    }
    let serious = findings
        .iter()
        .filter(|f| f.severity >= FindingSeverity::Warning)
        .count();
    if args.strict && serious > 0 {
        return Err(input(format!(
            "{}: {serious} finding(s) of warning or error severity (--strict)",
            args.dir.display()
        )));
    }
    Ok(())
}
