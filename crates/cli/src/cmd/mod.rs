//! One module per subcommand.

pub mod api;
pub mod demo;
pub mod ebr;
pub mod negotiate;
pub mod plan;
pub mod price;
pub mod run;
pub mod scorecard;
pub mod simulate;
pub mod stakeholders;
pub mod xlsx;

use std::path::Path;

use serde::Serialize;

use crate::account_dir::{AccountDir, Manifest};
use crate::analysis::input;
use crate::error::CliError;

/// Prints `value` as pretty JSON (fields in declaration order) or as its table.
pub fn emit<T: Serialize + std::fmt::Display>(value: &T, json: bool) -> Result<(), CliError> {
    if json {
        println!("{}", serde_json::to_string_pretty(value).map_err(input)?);
    } else {
        print!("{value}");
    }
    Ok(())
}

/// Opens an account directory and reads its manifest.
pub fn open(dir: &Path) -> Result<(AccountDir, Manifest), CliError> {
    if !dir.is_dir() {
        return Err(input(format!(
            "{}: not a directory (expected an account directory with kam.toml)",
            dir.display()
        )));
    }
    let d = AccountDir::new(Some(dir));
    let m = d.manifest().map_err(input)?;
    Ok((d, m))
}
