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

/// Writes `text` to stdout. A reader that closes the pipe early (`kam price DIR | head`)
/// is not an error: the rest of the output is dropped and the command still succeeds.
///
/// # Errors
/// Any other write error.
pub fn write_out(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Io {
            path: "standard output".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// `print!` to stdout through [`write_out`] (returns early with its error).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cmd::write_out(&format!($($arg)*))?
    };
}

/// `println!` to stdout through [`write_out`] (returns early with its error).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cmd::write_out(&format!("{}\n", format_args!($($arg)*)))?
    };
}

pub(crate) use {out, outln};

/// Prints `value` as pretty JSON (fields in declaration order) or as its table.
pub fn emit<T: Serialize + std::fmt::Display>(value: &T, json: bool) -> Result<(), CliError> {
    if json {
        outln!("{}", serde_json::to_string_pretty(value).map_err(input)?);
    } else {
        out!("{value}");
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
