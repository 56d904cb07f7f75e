//! Paths per second of the growth simulation on `scenarios/bench-36m.toml`
//! (200 opportunities, 50 base-book lines, 36 months), with native model only and with
//! a growth rule called through the `GrowthRule` trait object every month of every path,
//! written natively and in Rhai (issue target: the Rhai rule ≤ 3× native).
//!
//! `cargo bench --bench sim -- --warm-up-time 1 --measurement-time 5`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kam::core::Decimal;
use kam::core::rules::{FnGrowthRule, GrowthRule, GrowthState};
use kam_sim::scenario::parse_scenario;
use kam_sim::{RunOptions, Scenario, run};

const BENCH: &str = include_str!("../scenarios/bench-36m.toml");

fn scenario() -> Scenario {
    parse_scenario(BENCH, "scenarios/bench-36m.toml").unwrap()
}

/// +3 % on warehousing from year 2 while the volume index is below plan: a typical
/// "recovery programme" rule, written natively (the Rhai and WASM versions implement
/// the same trait).
fn rule() -> Arc<dyn GrowthRule> {
    let uplift = Decimal::new(103, 2);
    Arc::new(FnGrowthRule::new("recovery", move |s: &GrowthState| {
        Ok(s.service_lines
            .iter()
            .map(|l| {
                if s.year >= 2 && s.volume_index < Decimal::ONE && l.service_line == "warehousing" {
                    uplift
                } else {
                    Decimal::ONE
                }
            })
            .collect())
    }))
}

/// The same rule as an analyst would write it in Rhai, run through `kam-script`.
const RECOVERY_RHAI: &str = r#"
fn on_period(state) {
    let factors = [];
    for line in state.service_lines {
        if state.year >= 2 && state.volume_index < 1 && line.service_line == "warehousing" {
            factors.push(1.03);
        } else {
            factors.push(1);
        }
    }
    factors
}
"#;

/// A rule of each month's exact revenue (warehousing gains 0.1 % per million of monthly
/// revenue): every month is new to the memo, so every month runs the script.
const REVENUE_RHAI: &str = r#"
fn on_period(state) {
    let factors = [];
    for line in state.service_lines {
        if line.service_line == "warehousing" {
            factors.push(1 + line.revenue / 1000000000);
        } else {
            factors.push(1);
        }
    }
    factors
}
"#;

fn rhai_rule_from(name: &str, source: &str, memo: bool) -> Arc<dyn GrowthRule> {
    let host = Arc::new(kam_script::ScriptHost::new(kam_script::Limits::default()));
    Arc::new(
        kam_script::ScriptGrowthRule::load(host, name, source)
            .unwrap()
            .with_memo(memo),
    )
}

fn rhai_rule() -> Arc<dyn GrowthRule> {
    rhai_rule_from("recovery.rhai", RECOVERY_RHAI, true)
}

/// One timed 100,000-path run (run + results), as `kam simulate --paths 100000` does.
fn wall(label: &str, s: &Scenario, opts: &RunOptions) {
    let t = Instant::now();
    let summary = run(s, opts).unwrap();
    let r = summary.results().unwrap();
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{label}: {} paths in {secs:.3} s = {:.0} paths/s (threads {:?}; year-3 P50 {})",
        r.paths,
        r.paths as f64 / secs,
        opts.threads,
        r.years[2].revenue.p50
    );
}

fn bench(c: &mut Criterion) {
    let s = scenario();
    for threads in [2, 1] {
        wall("native", &s, &RunOptions::new(100_000, 42).threads(threads));
        wall(
            "native rule (trait object)",
            &s,
            &RunOptions::new(100_000, 42).threads(threads).rule(rule()),
        );
        wall(
            "Rhai rule",
            &s,
            &RunOptions::new(100_000, 42).threads(threads).rule(rhai_rule()),
        );
        wall(
            "Rhai rule, memo off",
            &s,
            &RunOptions::new(100_000, 42).threads(threads).rule(rhai_rule_from(
                "recovery.rhai",
                RECOVERY_RHAI,
                false,
            )),
        );
        wall(
            "Rhai rule of the exact revenue",
            &s,
            &RunOptions::new(100_000, 42).threads(threads).rule(rhai_rule_from(
                "revenue.rhai",
                REVENUE_RHAI,
                true,
            )),
        );
    }

    let paths = 20_000u64;
    let mut g = c.benchmark_group("sim bench-36m");
    g.sample_size(10);
    g.throughput(Throughput::Elements(paths));
    for threads in [1usize, 2] {
        g.bench_function(format!("native, {threads} thread(s)"), |b| {
            let opts = RunOptions::new(paths, 42).threads(threads);
            b.iter(|| run(&s, &opts).unwrap().results().unwrap())
        });
        g.bench_function(format!("rule via trait object, {threads} thread(s)"), |b| {
            let opts = RunOptions::new(paths, 42).threads(threads).rule(rule());
            b.iter(|| run(&s, &opts).unwrap().results().unwrap())
        });
        g.bench_function(format!("Rhai rule, {threads} thread(s)"), |b| {
            let opts = RunOptions::new(paths, 42).threads(threads).rule(rhai_rule());
            b.iter(|| run(&s, &opts).unwrap().results().unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
