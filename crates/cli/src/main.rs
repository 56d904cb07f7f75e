//! `kam` — the command line for key account analysts.
//!
//! One module per subcommand under [`cmd`]; every subcommand returns
//! `Result<(), CliError>` and [`error::exit`] turns an error into its message on stderr
//! and a non-zero exit code, so all subcommands fail the same way.

mod cmd;
mod error;

use clap::{Parser, Subcommand};

/// Global key account management for contract logistics.
#[derive(Debug, Parser)]
#[command(name = "kam", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an analyst script (Rhai) with the kam analyst API loaded.
    Run(cmd::run::RunArgs),
    /// List the analyst scripting API: names, signatures and docs.
    Api(cmd::api::ApiArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd::run::run(&args),
        Command::Api(args) => cmd::api::run(&args),
    };
    error::exit(result)
}
