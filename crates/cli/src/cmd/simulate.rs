//! `kam simulate SCENARIO --paths N --seed S [--threads T] [--shard i/n | --shard env
//! [--shards N]] [--deadline SECONDS] [--tornado] [--json]` and `kam simulate merge FILES…`.
//!
//! SCENARIO is a growth scenario TOML file or an account directory (its `growth.toml`).
//! Given a directory, the growth rules its `kam.toml` lists (`[rules] growth` scripts and
//! a growth plugin; factors multiply) apply to every month of every path; a scenario
//! file alone has no manifest, so it runs without user rules.
//! A sharded run prints the shard's summary JSON (save it, then `merge` the shards); the
//! merged result is identical to a single run with the same seed and path count.
//! `--shard env` takes the shard from the batch engine running this process as one task of
//! an array job ([`Shard::from_env`]: Kubernetes Indexed Job, Slurm, AWS Batch; see
//! `deploy/`). A run shows a progress bar with an ETA on a terminal; Ctrl-C or
//! `--deadline` stops it with exit 1, saying how many paths were done of how many, and
//! prints no results (a partial forecast would read as a whole one).
//! `--tornado` adds the sensitivity of the horizon P50 to each key input
//! ([`kam_sim::tornado`]: 17 runs of the same paths and seed, so it takes 17 times as long).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kam_sim::{ProgressFn, RunOptions, Shard, SimResults, Summary};

use kam_account::plugins::Plugins;
use kam_account::{AccountError, files, views};
use kam_plugin::RuleKind;

use crate::error::{CliError, input};
use crate::table::Table;

/// Options of `kam simulate`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimulateArgs {
    /// `merge`: combine shard summaries.
    #[command(subcommand)]
    pub command: Option<SimulateCommand>,
    /// Scenario TOML, or an account directory with growth.toml.
    pub scenario: Option<PathBuf>,
    /// Paths in the whole run (all shards together).
    #[arg(long, default_value_t = 20_000)]
    pub paths: u64,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run only shard i of n (`--shard 2/4`, 1-based) and print its summary JSON;
    /// `--shard env` reads i from the batch engine (JOB_COMPLETION_INDEX,
    /// SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX).
    #[arg(long)]
    pub shard: Option<String>,
    /// With `--shard env`: the number of shards (else SLURM_ARRAY_TASK_COUNT or
    /// AWS_BATCH_JOB_ARRAY_SIZE).
    #[arg(long, requires = "shard")]
    pub shards: Option<u32>,
    /// Stop after this many seconds (exit 1, saying how far the run got).
    #[arg(long, value_name = "SECONDS")]
    pub deadline: Option<f64>,
    /// Also the tornado: which inputs move the horizon P50 most (17 runs of the paths).
    #[arg(long, conflicts_with = "shard")]
    pub tornado: bool,
    /// JSON results instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `kam simulate` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SimulateCommand {
    /// Merge shard summaries (JSON files written by `--shard`).
    Merge {
        /// The shard files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// JSON results instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn parse_shard(s: &str, shards: Option<u32>) -> Result<Shard, CliError> {
    if s == "env" {
        return Shard::from_env(|k| std::env::var(k).ok(), shards).map_err(input);
    }
    if shards.is_some() {
        return Err(input(
            "--shards goes with --shard env (with --shard i/n, n is the count)",
        ));
    }
    let bad = || input(format!("--shard {s:?}: expected i/n with 1 ≤ i ≤ n, e.g. 2/4"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: u32 = i.trim().parse().map_err(|_| bad())?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if i == 0 || i > n {
        return Err(bad());
    }
    Shard::new(i, n).map_err(input)
}

fn print(results: &SimResults, json: bool) -> Result<(), CliError> {
    if json {
        super::outln!("{}", results.to_json().map_err(input)?);
    } else {
        super::out!("{}", Table(&views::growth_report(results)));
        if let Some(t) = &results.tornado {
            super::out!("\n{}", Table(t));
        }
    }
    Ok(())
}

/// A progress bar on stderr for `len` paths that appears only once the work has taken
/// more than a second, and the callback that drives it.
fn progress_bar(len: u64, what: &str) -> (ProgressBar, ProgressFn) {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} {{pos}}/{{len}} paths [{{bar:30}}] {{eta}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let shown = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let driven = bar.clone();
    let progress: ProgressFn = Arc::new(move |done, total| {
        if !shown.load(Ordering::Relaxed) && start.elapsed() > Duration::from_secs(1) {
            shown.store(true, Ordering::Relaxed);
            driven.set_draw_target(ProgressDrawTarget::stderr());
        }
        driven.set_length(total);
        driven.set_position(done);
    });
    (bar, progress)
}

/// Runs `kam simulate`.
pub fn run(args: &SimulateArgs) -> Result<(), CliError> {
    if let Some(SimulateCommand::Merge { files: paths, json }) = &args.command {
        let mut parts = Vec::new();
        for p in paths {
            let text = files::read_text(p).map_err(input)?;
            parts.push(Summary::from_shard_json(&text).map_err(|e| input(format!("{}: {e}", p.display())))?);
        }
        let results = Summary::merge(parts).and_then(|s| s.results()).map_err(input)?;
        return print(&results, *json);
    }
    let Some(path) = &args.scenario else {
        return Err(input(
            "kam simulate: give a SCENARIO file or account directory (or `merge FILES…`)",
        ));
    };
    // A directory is an account: its growth.toml (with the deals of its pipeline export)
    // with targets from its plan, and its growth rules. A file alone is a scenario
    // without a manifest, export or rules.
    let (scenario, plugins, mut options) = if path.is_dir() {
        let account = super::open(path)?;
        let plugins = Plugins::load(&account, &[RuleKind::Growth])?;
        let options = views::run_options(&account, args.paths, args.seed, &plugins)?;
        let scenario = account
            .need(&account.growth, "growth.toml", "kam simulate")?
            .clone();
        (scenario, plugins, options)
    } else {
        let scenario = kam_sim::load_scenario(path).map_err(input)?;
        (scenario, Plugins::none(), RunOptions::new(args.paths, args.seed))
    };
    if let Some(t) = args.threads {
        options = options.threads(t);
    }
    if let Some(s) = &args.shard {
        options = options.shard(parse_shard(s, args.shards)?);
    }
    let mut stop = kam_sim::Stop::never().on_flag(interrupted());
    if let Some(seconds) = args.deadline {
        let limit = Duration::try_from_secs_f64(seconds)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| input(format!("--deadline {seconds}: expected a number of seconds > 0")))?;
        if let Some(at) = Instant::now().checked_add(limit) {
            stop = stop.at(at);
        }
    }
    options = options.stop(stop);
    let simulated = simulate(&scenario, options, args, &plugins);
    // The plugins' notes and log lines, once, whatever happened.
    match plugins.finish(simulated)? {
        Simulated::Shard(json) => {
            super::outln!("{json}");
            Ok(())
        }
        Simulated::Results(results) => print(&results, args.json),
    }
}

/// The flag Ctrl-C sets (the handler is installed on first use; if it cannot be, Ctrl-C
/// keeps its default effect of ending the process).
fn interrupted() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let set = Arc::clone(&flag);
        // The first Ctrl-C asks the run to stop cleanly; a second one ends the process
        // at once (exit 130, as for SIGINT) should something not stop.
        let _ = ctrlc::set_handler(move || {
            if set.swap(true, Ordering::Relaxed) {
                std::process::exit(130);
            }
        });
        flag
    }))
}

/// A run stopped by Ctrl-C or `--deadline` as the error the user sees; any other error
/// located at the plugin that caused it.
fn run_error(e: kam_sim::SimError, plugins: &Plugins) -> CliError {
    match e {
        kam_sim::SimError::Stopped { reason, done, total } => input(format!(
            "kam simulate: {reason} after {done} of {total} paths ({}); no results were written",
            match reason {
                kam_sim::StopReason::Interrupted => "Ctrl-C",
                kam_sim::StopReason::Deadline => "--deadline",
            }
        )),
        other => plugins.locate(AccountError::domain(other)).into(),
    }
}

/// What a run prints: a shard's summary JSON, or the results.
enum Simulated {
    Shard(String),
    Results(Box<SimResults>),
}

/// The run (and with `--tornado`, its tornado), each with a progress bar; a failure of a
/// plugin is located at its `kam.toml` entry.
fn simulate(
    scenario: &kam_sim::Scenario,
    options: RunOptions,
    args: &SimulateArgs,
    plugins: &Plugins,
) -> Result<Simulated, CliError> {
    let (bar, progress) = progress_bar(args.paths, "simulating");
    let summary = kam_sim::run(scenario, &options.clone().progress(progress));
    bar.finish_and_clear();
    let summary = summary.map_err(|e| run_error(e, plugins))?;
    if args.shard.is_some() {
        return summary.to_shard_json().map(Simulated::Shard).map_err(input);
    }
    let mut results = summary.results().map_err(input)?;
    if args.tornado {
        let (bar, progress) = progress_bar(
            args.paths.saturating_mul(kam_sim::tornado_runs(scenario)),
            "tornado",
        );
        let tornado = kam_sim::tornado(scenario, &options.progress(progress));
        bar.finish_and_clear();
        results.tornado = Some(tornado.map_err(|e| run_error(e, plugins))?);
    }
    Ok(Simulated::Results(Box::new(results)))
}
