//! Stakeholder graph at scale: a generated organisation of 100,000 people and 500,000
//! relations (plus 200 of our people and 10,000 coverage relationships).
//!
//! Target (issue 3): full analysis — coverage matrix, gaps, key-player check, influence
//! ranking — in ≤ 1 s.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kam::core::stakeholders::*;
use rust_decimal::Decimal;

const PEOPLE: usize = 100_000;
const RELATIONS: usize = 500_000;
const OURS: usize = 200;
const COVERAGE: usize = 10_000;

/// SplitMix64: a tiny deterministic generator so the organisation is the same each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn organisation() -> StakeholderMap {
    let mut rng = Rng(2026);
    let roles = [
        (60, BuyingRole::User),
        (85, BuyingRole::Evaluator),
        (95, BuyingRole::DecisionMaker),
        (100, BuyingRole::Approver),
    ];
    let powers = [PoliticalPower::Low, PoliticalPower::Medium, PoliticalPower::High];
    let supports = [
        Support::Enemy,
        Support::NonSupporter,
        Support::Neutral,
        Support::Neutral,
        Support::Supporter,
        Support::Mentor,
    ];
    let mut map = StakeholderMap::default();
    for i in 0..PEOPLE {
        let pct = rng.below(100);
        let role = roles.iter().find(|(p, _)| pct < *p).map(|(_, r)| *r).unwrap();
        let mut p = Person::new(
            &format!("p{i}"),
            "person",
            &format!("r{}", rng.below(8)),
            &format!("f{}", rng.below(12)),
            role,
            powers[rng.below(3)],
            supports[rng.below(supports.len())],
        );
        if rng.below(2) == 0 {
            p.buying_centres.push(format!("bc{}", rng.below(200)));
        }
        map.people.push(p);
    }
    for j in 0..OURS {
        map.our_people
            .push(OurPerson::new(&format!("o{j}"), "us", "account manager"));
    }
    let id = |i: usize| format!("p{i}");
    // A reporting tree: everyone but p0 reports to someone earlier, so no cycle.
    for i in 1..PEOPLE {
        map.relations.push(Relation::ReportsTo {
            from: id(i),
            to: id(rng.below(i)),
        });
    }
    let mut conflicts = HashSet::new();
    while conflicts.len() < 20_001 {
        let (a, b) = (rng.below(PEOPLE), rng.below(PEOPLE));
        if a != b && conflicts.insert((a.min(b), a.max(b))) {
            map.relations.push(Relation::ConflictsWith {
                from: id(a),
                to: id(b),
            });
        }
    }
    let mut influence = HashSet::new();
    while map.relations.len() < RELATIONS {
        let (a, b) = (rng.below(PEOPLE), rng.below(PEOPLE));
        if a != b && influence.insert((a, b)) {
            let weight = Decimal::new(rng.below(100) as i64 + 1, 2);
            map.relations.push(Relation::Influences {
                from: id(a),
                to: id(b),
                weight,
            });
        }
    }
    let mut covered = HashSet::new();
    let levels = [
        RelationshipLevel::Vendor,
        RelationshipLevel::CredibleSource,
        RelationshipLevel::ProblemSolver,
        RelationshipLevel::TrustedAdvisor,
    ];
    while map.coverage.len() < COVERAGE {
        let (o, t) = (rng.below(OURS), rng.below(PEOPLE));
        if covered.insert((o, t)) {
            map.coverage
                .push(Coverage::new(&format!("o{o}"), &id(t), levels[rng.below(4)]));
        }
    }
    map
}

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
        b.iter(|| black_box(graph.coverage_matrix().unwrap().gaps().count()))
    });
    g.bench_function("key_player_check", |b| {
        b.iter(|| black_box(graph.unsupported_key_players().unwrap()))
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
