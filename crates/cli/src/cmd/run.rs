//! `kam run FILE.rhai`: run an analyst script.

use std::path::PathBuf;
use std::time::Duration;

use kam_script::{Limits, ScriptHost};

use crate::error::CliError;

/// Options of `kam run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The script to run.
    pub file: PathBuf,
    /// Operation budget (default 20,000,000; 0 = unlimited, the wall-clock limit still applies).
    #[arg(long)]
    pub max_operations: Option<u64>,
    /// Wall-clock limit in milliseconds (default 5000).
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Print the script's final value after it finishes (unless it is `()`).
    #[arg(long)]
    pub print_result: bool,
}

/// Runs the script; `print` goes to stdout, errors are rendered with file:line:col.
pub fn run(args: &RunArgs) -> Result<(), CliError> {
    let path = args.file.display().to_string();
    let source = std::fs::read_to_string(&args.file).map_err(|source| CliError::Io {
        path: path.clone(),
        source,
    })?;
    let mut limits = Limits::default();
    if let Some(ops) = args.max_operations {
        limits.max_operations = ops;
    }
    if let Some(ms) = args.timeout_ms {
        limits.wall_clock = Duration::from_millis(ms);
    }
    let host = ScriptHost::new(limits);
    let script = host
        .compile(&path, &source)
        .map_err(|e| CliError::Script(e.render()))?;
    let value = host.run(&script).map_err(|e| CliError::Script(e.render()))?;
    if args.print_result && !value.is_unit() {
        super::outln!("{value}");
    }
    Ok(())
}
