//! Solution delivery at scale: the critical path method on a generated 1,000-task
//! project, and the Monte Carlo of a 200-task project's finish.
//!
//! Targets: CPM (validation, forward and backward pass, critical path, sd) on 1,000
//! tasks ≤ 1 ms; 100,000 simulated finishes of a 200-task project ≤ 1 s; the growth
//! simulation of `scenarios/bench-36m.toml` with 30 of its deals linked to projects
//! (8 tasks each, one WMS release shared by every 5 projects) ≤ 2 s for 100,000 paths.
//!
//! `cargo bench --bench delivery` (`-- "projects"` for the growth part only; the
//! 100,000-path wall times print first).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use kam::core::delivery::{Project, Task};
use kam_sim::delivery::simulate_finish;
use rust_decimal::Decimal;

/// SplitMix64: a tiny deterministic generator so the project is the same each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `n` tasks; each after up to three of the 30 tasks before it; durations in tenths of
/// a day (optimistic 1–5 days, most likely up to 3 more, pessimistic up to 10 more).
fn project(n: usize) -> Project {
    let mut rng = Rng(2026);
    let mut p = Project::new("rollout");
    for i in 0..n {
        let o = 10 + rng.below(40) as i64;
        let m = o + rng.below(30) as i64;
        let pess = m + rng.below(100) as i64;
        let mut t = Task::new(
            &format!("t{i}"),
            Decimal::new(o, 1),
            Decimal::new(m, 1),
            Decimal::new(pess, 1),
        );
        if i > 0 {
            for _ in 0..=rng.below(3) {
                let j = i - 1 - rng.below(i.min(30) as u64) as usize;
                let id = format!("t{j}");
                if !t.after.contains(&id) {
                    t.after.push(id);
                }
            }
        }
        p.tasks.push(t);
    }
    p
}

/// bench-36m with its first 30 deals each linked to an 8-task project (weeks), one WMS
/// release shared by every five projects, starts spread over months −3 to 5.
fn linked_scenario() -> kam_sim::Scenario {
    let text = include_str!("../scenarios/bench-36m.toml");
    let mut s = kam_sim::scenario::parse_scenario(text, "scenarios/bench-36m.toml").unwrap();
    let d = |x: i64| Decimal::new(x, 1);
    let t = |id: &str, o, m, p, after: &[&str]| Task::new(id, d(o), d(m), d(p)).after(after.iter().copied());
    let deals: Vec<String> = s.opportunities.iter().take(30).map(|o| o.name.clone()).collect();
    for (i, deal) in deals.into_iter().enumerate() {
        let k = i as i64;
        let wms = format!("wms-{}", i / 5);
        s.projects.push(kam_sim::scenario::SimProject {
            name: format!("project-{i:02}"),
            deal,
            start_month: Decimal::from(k % 9 - 3),
            go_live: "go-live".into(),
            tasks: vec![
                t("design", 20, 30 + k % 5, 60, &[]),
                t("procure", 30, 40, 90, &["design"]),
                t("build", 40, 60 + k % 7, 120, &["design"]),
                t("hire", 30, 40, 70, &["design"]),
                t(&wms, 40, 60, 140, &["design"]),
                t("integration", 20, 40, 80, &[wms.as_str(), "procure"]),
                t("trials", 10, 20, 40, &["integration", "build", "hire"]),
                Task::milestone("go-live").after(["trials"]),
            ],
            shared: vec![wms],
        });
    }
    s.validate().unwrap();
    s
}

fn bench_projects(c: &mut Criterion) {
    use kam_sim::{RunOptions, run};
    let s = linked_scenario();
    let plain = {
        let mut p = s.clone();
        p.projects.clear();
        p
    };
    for threads in [2usize, 1] {
        for (label, sc) in [("30 linked projects", &s), ("no projects", &plain)] {
            let t = Instant::now();
            let r = run(sc, &RunOptions::new(100_000, 42).threads(threads))
                .unwrap()
                .results()
                .unwrap();
            eprintln!(
                "bench-36m, {label}: 100,000 paths in {:.3} s on {threads} thread(s) (year-1 P50 {})",
                t.elapsed().as_secs_f64(),
                r.years[0].revenue.p50
            );
        }
    }
    let mut g = c.benchmark_group("projects");
    g.sample_size(10);
    g.bench_function("bench-36m + 30 linked projects, 20,000 paths, 2 threads", |b| {
        let opts = RunOptions::new(20_000, 42).threads(2);
        b.iter(|| run(&s, &opts).unwrap().results().unwrap())
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let big = project(1_000);
    let mid = project(200);
    let net = mid.network().unwrap();
    for threads in [2, 1] {
        let t = Instant::now();
        let r = simulate_finish(&net, 100_000, 42, Some(threads), &kam_sim::Stop::never()).unwrap();
        eprintln!(
            "100,000 finishes of 200 tasks, {threads} thread(s): {:.3} s (mean {}, PERT mean {})",
            t.elapsed().as_secs_f64(),
            r.mean().unwrap().round_dp(3),
            net.expected_duration().round_dp(3)
        );
    }
    c.bench_function("delivery/cpm 1,000 tasks", |b| {
        b.iter(|| black_box(&big).network().unwrap())
    });
    c.bench_function("delivery/cpm 1,000 tasks + prob_within + due_date", |b| {
        b.iter(|| {
            let n = black_box(&big).network().unwrap();
            (
                n.prob_within(n.expected_duration() + Decimal::TEN).unwrap(),
                n.due_date(Decimal::new(95, 2)).unwrap(),
            )
        })
    });
    let mut g = c.benchmark_group("delivery/simulate");
    g.sample_size(10);
    g.bench_function("100,000 finishes of 200 tasks", |b| {
        b.iter(|| simulate_finish(black_box(&net), 100_000, 42, None, &kam_sim::Stop::never()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench, bench_projects);
criterion_main!(benches);
