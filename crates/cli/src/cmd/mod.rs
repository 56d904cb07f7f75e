//! One module per subcommand.

pub mod alerts;
pub mod api;
pub mod check;
pub mod coach;
pub mod delivery;
pub mod demo;
pub mod ebr;
pub mod history;
pub mod negotiate;
pub mod plan;
pub mod price;
pub mod run;
pub mod scorecard;
pub mod simulate;
pub mod stakeholders;
pub mod xlsx;

use std::path::Path;

use kam_account::Account;
use serde::Serialize;

use crate::error::{CliError, input};
use crate::table::Table;

/// Writes `text` to stdout. A reader that closes the pipe early (`kam price DIR | head`)
/// is not an error: the rest of the output is dropped and the command still succeeds.
///
/// Every control character but newline and tab, and every bidi control, is escaped
/// first ([`kam_core::text::for_terminal`]): labels and messages from plugins and
/// scripts reach the user's terminal only as visible text. The escape is JSON's, so
/// JSON output keeps its value.
///
/// # Errors
/// Any other write error.
pub fn write_out(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let text = kam_core::text::for_terminal(text);
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
pub fn emit<'a, T: Serialize>(value: &'a T, json: bool) -> Result<(), CliError>
where
    Table<'a, T>: std::fmt::Display,
{
    if json {
        write_json(value)?;
    } else {
        out!("{}", Table(value));
    }
    Ok(())
}

/// Writes `value` as pretty JSON and a newline to stdout, streamed through a buffer: a
/// 100,000-person stakeholder report is tens of megabytes, not worth building as one
/// string first. A closed pipe is not an error (see [`write_out`]).
///
/// # Errors
/// Serialization fails, or any other write error.
pub fn write_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Ok(()),
        _ => Err(CliError::Io {
            path: "standard output".into(),
            source: e,
        }),
    };
    if let Err(e) = serde_json::to_writer_pretty(&mut out, value) {
        return match e.io_error_kind() {
            Some(_) => io(std::io::Error::from(e)),
            None => Err(input(e)),
        };
    }
    match out.write_all(b"\n").and_then(|()| out.flush()) {
        Err(e) => io(e),
        Ok(()) => Ok(()),
    }
}

/// Loads an account directory (every file, once).
pub fn open(dir: &Path) -> Result<Account, CliError> {
    Ok(Account::open(dir)?)
}

/// A spinner on stderr naming the stage a longer command is in (`kam report`,
/// `kam delivery`), with the time spent so far. Only on a terminal: indicatif draws
/// nothing when stderr is not one, so pipes, files and tests see no trace of it. Cleared
/// when dropped, before the command prints its result.
pub struct Stages {
    bar: indicatif::ProgressBar,
}

impl Stages {
    /// A spinner for `command`.
    pub fn new(command: &str) -> Self {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(&format!("{{spinner}} {command}: {{msg}} ({{elapsed}})"))
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Stages { bar }
    }

    /// Enters `stage`.
    pub fn stage(&self, stage: &str) {
        self.bar.set_message(stage.to_owned());
    }
}

impl Drop for Stages {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
