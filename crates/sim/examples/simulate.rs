//! Runs a scenario file and prints the human summary (or JSON) and the wall time:
//! `cargo run --release -p kam-sim --example simulate -- scenarios/bench-36m.toml 100000 42 2 [--json]`
//! (arguments: scenario, paths, seed, threads). The `kam simulate` command does the same
//! with a progress bar.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let file = args.get(1).map_or("scenarios/bench-36m.toml", String::as_str);
    let paths: u64 = args.get(2).map_or(Ok(100_000), |a| a.parse())?;
    let seed: u64 = args.get(3).map_or(Ok(42), |a| a.parse())?;
    let threads: usize = args.get(4).map_or(Ok(2), |a| a.parse())?;
    let json = args.iter().any(|a| a == "--json");
    let scenario = kam_sim::load_scenario(Path::new(file))?;
    let t = Instant::now();
    let summary = kam_sim::run(&scenario, &kam_sim::RunOptions::new(paths, seed).threads(threads))?;
    let results = summary.results()?;
    let secs = t.elapsed().as_secs_f64();
    if json {
        println!("{}", results.to_json()?);
    } else {
        println!("{results}");
    }
    eprintln!(
        "{paths} paths, {threads} thread(s): {secs:.3} s wall, {:.0} paths/s",
        paths as f64 / secs
    );
    Ok(())
}
