//! `kam` — the command line for key account analysts.
//!
//! One module per subcommand under [`cmd`]; every subcommand returns
//! `Result<(), CliError>` and [`error::exit`] turns an error into its message on stderr
//! and a non-zero exit code, so all subcommands fail the same way.

mod cmd;
mod error;
mod table;

/// mimalloc, not the system allocator: the large analyses allocate and free hundreds of
/// megabytes in large blocks, which glibc's malloc hands back to the OS and then faults
/// in again page by page. With 100,000 people `kam stakeholders --json` spent 0.2 s of
/// its 0.55 s in the kernel; with mimalloc 0.03 s (README, performance table).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// Global key account management for contract logistics.
#[derive(Debug, Parser)]
#[command(
    name = "kam",
    version,
    about,
    long_about = None,
    after_help = "Environment:\n  KAM_CACHE_DIR  where compiled WASM plugins are kept, under plugins/ \
                  (default: $XDG_CACHE_HOME/kam or ~/.cache/kam; set empty to keep none)\n  \
                  KAM_STORE      the history store (default: DIR/.kam/history.db)\n  \
                  KAM_AUTHOR     who saves a revision (default: the OS user)\n  \
                  KAM_NOW        the time a revision is saved, or an alert acknowledged or notified, at, RFC 3339 \
                  (default: the clock)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the embedded sample account (Nordwerk Automotive) end to end.
    Demo(cmd::demo::DemoArgs),
    /// Price the renewal proposal against the baseline, with CM1–CM3 margins.
    Price(cmd::price::PriceArgs),
    /// Negotiation analysis: margin floor, ZOPA, Pareto frontier, recommended package.
    Negotiate(cmd::negotiate::NegotiateArgs),
    /// Monte Carlo growth simulation (sharded runs and merge).
    Simulate(cmd::simulate::SimulateArgs),
    /// The QBR scorecard of the latest period (or, with --alerts, alerts and actions).
    Scorecard(cmd::scorecard::ScorecardArgs),
    /// One alert per problem at every level, with owner, action plan and escalation;
    /// acknowledge or snooze one (`ack`); notify owners (`--notify`).
    Alerts(cmd::alerts::AlertsArgs),
    /// Escalations (from actions.toml and opened by alerts.toml's policy) on the SLA
    /// ladder, with time to breach.
    Escalations(cmd::alerts::EscalationsArgs),
    /// Every finding of the plan and across the account's files (file, line, code).
    Check(cmd::check::CheckArgs),
    /// Account plan integrity check and diff.
    Plan(cmd::plan::PlanArgs),
    /// The account's saved revisions: save one, list them.
    History(cmd::history::HistoryArgs),
    /// What changed since a saved revision (plan, people, pricing, pipeline, scores…).
    Changes(cmd::history::ChangesArgs),
    /// Coaching: each regional manager's plan completeness and coverage, development actions.
    Coach(cmd::coach::CoachArgs),
    /// Implementation projects: critical paths, P50/P90 go-live vs committed, load.
    Delivery(cmd::delivery::DeliveryArgs),
    /// Stakeholder map status, coverage gaps and single threads.
    Stakeholders(cmd::stakeholders::StakeholdersArgs),
    /// Render the executive business review pack as one self-contained HTML page.
    Report(cmd::ebr::ReportArgs),
    /// Run an analyst script (Rhai) with the kam analyst API loaded.
    Run(cmd::run::RunArgs),
    /// List the analyst scripting API: names, signatures and docs.
    Api(cmd::api::ApiArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => cmd::demo::run(&args),
        Command::Price(args) => cmd::price::run(&args),
        Command::Negotiate(args) => cmd::negotiate::run(&args),
        Command::Simulate(args) => cmd::simulate::run(&args),
        Command::Scorecard(args) => cmd::scorecard::run(&args),
        Command::Alerts(args) => cmd::alerts::run(&args),
        Command::Escalations(args) => cmd::alerts::escalations(&args),
        Command::Check(args) => cmd::check::run(&args),
        Command::Plan(args) => cmd::plan::run(&args),
        Command::History(args) => cmd::history::run(&args),
        Command::Changes(args) => cmd::history::changes(&args),
        Command::Coach(args) => cmd::coach::run(&args),
        Command::Delivery(args) => cmd::delivery::run(&args),
        Command::Stakeholders(args) => cmd::stakeholders::run(&args),
        Command::Report(args) => cmd::ebr::run(&args),
        Command::Run(args) => cmd::run::run(&args),
        Command::Api(args) => cmd::api::run(&args),
    };
    error::exit(result)
}
