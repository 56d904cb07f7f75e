//! Solution delivery at scale: the critical path method on a generated 1,000-task
//! project, and the Monte Carlo of a 200-task project's finish.
//!
//! Targets: CPM (validation, forward and backward pass, critical path, sd) on 1,000
//! tasks ≤ 1 ms; 100,000 simulated finishes of a 200-task project ≤ 1 s.
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

fn bench(c: &mut Criterion) {
    let big = project(1_000);
    let mid = project(200);
    let net = mid.network().unwrap();
    for threads in [2, 1] {
        let t = Instant::now();
        let r = simulate_finish(&net, 100_000, 42, Some(threads)).unwrap();
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
        b.iter(|| simulate_finish(black_box(&net), 100_000, 42, None).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
