//! A generated customer organisation at scale (100,000 people, 500,000 relations, 200 of
//! our people, 10,000 coverage relationships), deterministic from a fixed seed: shared by
//! the stakeholder benchmark and the account-loading benchmark.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashSet;

use kam_core::stakeholders::*;
use rust_decimal::Decimal;

pub const PEOPLE: usize = 100_000;
pub const RELATIONS: usize = 500_000;
pub const OURS: usize = 200;
pub const COVERAGE: usize = 10_000;

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

/// The organisation.
pub fn organisation() -> StakeholderMap {
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
