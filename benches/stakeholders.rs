//! Stakeholder graph at scale: a generated organisation of 100,000 people and 500,000
//! relations (plus 200 of our people and 10,000 coverage relationships).
//!
//! Target (issue 3): full analysis — coverage matrix, gaps, key-player check, influence
//! ranking — in ≤ 1 s.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kam::core::stakeholders::*;

#[path = "support/org.rs"]
mod org;

use org::{PEOPLE, RELATIONS, organisation};

/// This thread's CPU time (user + system) in clock ticks (1/100 s on Linux), read from
/// /proc so the figure can be told apart from time spent waiting on a loaded machine.
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Wall and CPU time per call over `runs` calls, printed beside criterion's figures.
fn cpu_and_wall(label: &str, runs: u32, mut f: impl FnMut()) {
    let (t0, c0) = (std::time::Instant::now(), thread_cpu_ticks());
    for _ in 0..runs {
        f();
    }
    let wall = t0.elapsed() / runs;
    match (c0, thread_cpu_ticks()) {
        (Some(a), Some(b)) => eprintln!(
            "{label}: wall {} ms per run, CPU {} ms per run ({runs} runs)",
            wall.as_millis(),
            (b - a) * 10 / u64::from(runs)
        ),
        _ => eprintln!("{label}: wall {} ms per run ({runs} runs)", wall.as_millis()),
    }
}

fn bench(c: &mut Criterion) {
    let map = organisation();
    assert_eq!((map.people.len(), map.relations.len()), (PEOPLE, RELATIONS));
    let graph = map.graph().unwrap();
    let options = InfluenceOptions::default();
    let once = graph.analyse(&options).unwrap();
    eprintln!(
        "organisation: {} people, {} relations, {} coverage; {} cells, {} gaps, {} unsupported key players, \
         {} single-threaded, PageRank {} iterations (converged: {}), status {:?}",
        map.people.len(),
        map.relations.len(),
        map.coverage.len(),
        once.coverage.cells.len(),
        once.coverage.gaps().count(),
        once.unsupported_key_players.len(),
        once.single_threaded.len(),
        once.influence.iterations,
        once.influence.converged,
        once.status.status,
    );

    cpu_and_wall("build_graph_from_records", 3, || {
        black_box(map.graph().unwrap());
    });
    cpu_and_wall("full_analysis", 10, || {
        black_box(graph.analyse(&options).unwrap());
    });
    cpu_and_wall("influence_ranking", 10, || {
        black_box(graph.influence_ranking(&options).unwrap());
    });
    cpu_and_wall("strongest_paths", 5, || {
        black_box(graph.strongest_paths().unwrap());
    });
    cpu_and_wall("departure_what_if", 3, || {
        black_box(graph.departure("o7").unwrap());
    });

    let mut g = c.benchmark_group("stakeholders_100k_people_500k_relations");
    g.sample_size(10);
    g.bench_function("build_graph_from_records", |b| {
        b.iter(|| black_box(map.graph().unwrap()))
    });
    g.bench_function("full_analysis", |b| {
        b.iter(|| black_box(graph.analyse(&options).unwrap()))
    });
    g.bench_function("coverage_matrix_and_gaps", |b| {
        b.iter(|| black_box(graph.coverage_matrix().gaps().count()))
    });
    g.bench_function("key_player_check", |b| {
        b.iter(|| black_box(graph.unsupported_key_players()))
    });
    g.bench_function("influence_ranking", |b| {
        b.iter(|| black_box(graph.influence_ranking(&options).unwrap()))
    });
    g.bench_function("strongest_paths", |b| {
        b.iter(|| black_box(graph.strongest_paths().unwrap()))
    });
    g.bench_function("departure_what_if", |b| {
        b.iter(|| black_box(graph.departure("o7").unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
