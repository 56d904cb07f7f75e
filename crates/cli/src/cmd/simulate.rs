//! `kam simulate SCENARIO --paths N --seed S [--threads T] [--shard i/n] [--json]` and
//! `kam simulate merge FILES…`.
//!
//! SCENARIO is a growth scenario TOML file or an account directory (its `growth.toml`).
//! Given a directory, the growth plugin its `kam.toml` lists is applied to every month of
//! every path; a scenario file alone has no manifest, so it runs without user rules.
//! A sharded run prints the shard's summary JSON (save it, then `merge` the shards); the
//! merged result is identical to a single run with the same seed and path count.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kam_sim::{RunOptions, Shard, Summary};

use crate::analysis::{growth_report, input};
use crate::error::CliError;
use crate::files;
use crate::plugins::{Kind, Plugins};

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
    /// Run only shard i of n (`--shard 2/4`, 1-based) and print its summary JSON.
    #[arg(long)]
    pub shard: Option<String>,
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

fn parse_shard(s: &str) -> Result<Shard, CliError> {
    let bad = || input(format!("--shard {s:?}: expected i/n with 1 ≤ i ≤ n, e.g. 2/4"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: u32 = i.trim().parse().map_err(|_| bad())?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if i == 0 || i > n {
        return Err(bad());
    }
    Shard::new(i, n).map_err(input)
}

fn print(summary: &Summary, json: bool) -> Result<(), CliError> {
    let results = summary.results().map_err(input)?;
    if json {
        super::outln!("{}", results.to_json().map_err(input)?);
    } else {
        super::out!("{}", growth_report(&results));
    }
    Ok(())
}

/// Runs `kam simulate`.
pub fn run(args: &SimulateArgs) -> Result<(), CliError> {
    if let Some(SimulateCommand::Merge { files: paths, json }) = &args.command {
        let mut parts = Vec::new();
        for p in paths {
            let text = files::read_text(p).map_err(input)?;
            parts.push(Summary::from_shard_json(&text).map_err(|e| input(format!("{}: {e}", p.display())))?);
        }
        return print(&Summary::merge(parts).map_err(input)?, *json);
    }
    let Some(path) = &args.scenario else {
        return Err(input(
            "kam simulate: give a SCENARIO file or account directory (or `merge FILES…`)",
        ));
    };
    let (file, plugins) = if path.is_dir() {
        let (dir, manifest) = super::open(path)?;
        let plugins = Plugins::load(&dir, &manifest, &[Kind::Growth])?;
        (path.join("growth.toml"), plugins)
    } else {
        (path.clone(), Plugins::none())
    };
    let scenario = kam_sim::load_scenario(&file).map_err(input)?;
    let mut options = RunOptions::new(args.paths, args.seed);
    if let Some(rule) = plugins.growth() {
        options = options.rule(rule);
    }
    if let Some(t) = args.threads {
        options = options.threads(t);
    }
    if let Some(s) = &args.shard {
        options = options.shard(parse_shard(s)?);
    }
    // The bar appears only once a run has taken more than a second.
    let bar = ProgressBar::with_draw_target(Some(args.paths), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} simulating {pos}/{len} paths [{bar:30}] {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let shown = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    {
        let bar = bar.clone();
        let shown = Arc::clone(&shown);
        options = options.progress(Arc::new(move |done, total| {
            if !shown.load(Ordering::Relaxed) && start.elapsed() > Duration::from_secs(1) {
                shown.store(true, Ordering::Relaxed);
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
            bar.set_length(total);
            bar.set_position(done);
        }));
    }
    let summary = kam_sim::run(&scenario, &options).map_err(|e| plugins.locate(input(e)));
    bar.finish_and_clear();
    let summary = plugins.finish(summary)?;
    if args.shard.is_some() {
        super::outln!("{}", summary.to_shard_json().map_err(input)?);
        return Ok(());
    }
    print(&summary, args.json)
}
