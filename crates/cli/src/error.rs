//! The shared error and exit-code path of every subcommand.

use std::io::Write;
use std::process::ExitCode;

/// Why a subcommand failed. Each variant has its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A script failed to compile or run; the text is the rendered error with the source line.
    #[error("{0}")]
    Script(String),
    /// Invalid input or options that clap could not catch.
    #[error("{0}")]
    Input(String),
    /// The account could not be loaded or analysed (file:line:col, the failing plugin…).
    #[error(transparent)]
    Account(#[from] kam_account::AccountError),
}

impl CliError {
    /// The process exit code: 1 input/script errors, 3 I/O. (clap uses 2 for usage errors.)
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Script(_) | CliError::Input(_) | CliError::Account(_) => 1,
            CliError::Io { .. } => 3,
        }
    }
}

/// Any displayable error as an input error.
pub fn input(e: impl std::fmt::Display) -> CliError {
    CliError::Input(e.to_string())
}

/// Prints the error (if any) to stderr and maps the result to the process exit code.
pub fn exit(result: Result<(), CliError>) -> ExitCode {
    // Flush what a script printed before the error message appears.
    let _ = std::io::stdout().flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The message may quote a plugin's or script's refusal: escaped like stdout.
            let text = kam_core::text::for_terminal(&e.to_string()).into_owned();
            let mut err = std::io::stderr().lock();
            let _ = if text.starts_with("error:") {
                write!(err, "{text}")
            } else {
                writeln!(err, "error: {text}")
            };
            ExitCode::from(e.exit_code())
        }
    }
}
