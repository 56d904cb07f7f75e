//! Stakeholder graph: known answers on small hand-built maps, typed errors, and
//! properties (serde round trip, coverage monotone under removal, paths exist edge by
//! edge, PageRank sums to 1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::NaiveDate;
use kam_core::account::{Account, AccountNode, BuyingCentre, NodeLevel};
use kam_core::stakeholders::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use BuyingRole::{Approver, DecisionMaker, Evaluator, User};
use PoliticalPower::{High, Low, Medium};

fn person(
    id: &str,
    region: &str,
    function: &str,
    role: BuyingRole,
    power: PoliticalPower,
    support: Support,
) -> Person {
    Person::new(id, id, region, function, role, power, support)
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn reports(from: &str, to: &str) -> Relation {
    Relation::ReportsTo {
        from: from.into(),
        to: to.into(),
    }
}

fn influences(from: &str, to: &str, weight: Decimal) -> Relation {
    Relation::Influences {
        from: from.into(),
        to: to.into(),
        weight,
    }
}

fn conflict(from: &str, to: &str) -> Relation {
    Relation::ConflictsWith {
        from: from.into(),
        to: to.into(),
    }
}

/// A global OEM: the CEO and CFO at the global node, procurement and logistics in
/// EMEA, an APAC logistics VP who backs a competitor.
fn oem() -> StakeholderMap {
    let mut people = vec![
        person("ceo", "global", "exec", Approver, High, Support::Neutral),
        person(
            "cpo",
            "emea",
            "procurement",
            DecisionMaker,
            High,
            Support::NonSupporter,
        ),
        person("buyer", "emea", "procurement", Evaluator, Medium, Support::Mentor),
        person("ops", "emea", "logistics", User, Low, Support::Supporter),
        person(
            "vp_apac",
            "apac",
            "logistics",
            DecisionMaker,
            High,
            Support::Enemy,
        ),
        person("planner", "apac", "logistics", User, Low, Support::Neutral),
        person("cfo", "global", "finance", Approver, High, Support::Supporter),
    ];
    people[3].buying_centres = vec!["emea-inbound".into()];
    people[4].buying_centres = vec!["apac-aftermarket".into()];
    people[5].buying_centres = vec!["apac-aftermarket".into()];
    let contacts = [
        Some("2026-10-01"),
        Some("2026-09-01"),
        Some("2026-11-20"),
        None,
        Some("2026-12-01"),
        Some("2026-05-30"),
        Some("2026-09-27"),
    ];
    for (p, c) in people.iter_mut().zip(contacts) {
        p.last_contact = c.map(date);
    }
    StakeholderMap {
        people,
        our_people: vec![
            OurPerson::new("ad", "Global account director", "account director"),
            OurPerson::new("ram_emea", "EMEA account manager", "regional account manager"),
            OurPerson::new("ram_apac", "APAC account manager", "regional account manager"),
        ],
        relations: vec![
            reports("cpo", "ceo"),
            reports("buyer", "cpo"),
            reports("ops", "cpo"),
            reports("vp_apac", "ceo"),
            reports("planner", "vp_apac"),
            reports("cfo", "ceo"),
            influences("buyer", "cpo", dec!(0.6)),
            influences("cfo", "ceo", dec!(0.8)),
            influences("planner", "vp_apac", dec!(0.3)),
            conflict("cpo", "vp_apac"),
        ],
        coverage: vec![
            Coverage::new("ad", "cfo", RelationshipLevel::TrustedAdvisor),
            Coverage::new("ram_emea", "buyer", RelationshipLevel::ProblemSolver),
            Coverage::new("ram_emea", "ops", RelationshipLevel::CredibleSource),
            Coverage::new("ram_apac", "planner", RelationshipLevel::Vendor),
        ],
    }
}

#[test]
fn coverage_matrix_and_gaps() {
    let m = oem().graph().unwrap().coverage_matrix();
    let keys: Vec<(&str, &str, BuyingRole, bool)> = m
        .cells
        .iter()
        .map(|c| (c.region.as_str(), c.function.as_str(), c.buying_role, c.gap))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("apac", "logistics", User, false),
            ("apac", "logistics", DecisionMaker, true),
            ("emea", "logistics", User, false),
            ("emea", "procurement", Evaluator, false),
            ("emea", "procurement", DecisionMaker, true),
            ("global", "exec", Approver, true),
            ("global", "finance", Approver, false),
        ]
    );
    let cfo = m.cell("global", "finance", Approver).unwrap();
    assert_eq!(
        (
            cfo.people,
            cfo.key_players,
            cfo.covered_people,
            cfo.covered_key_players,
            cfo.relationships
        ),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(cfo.best_level, Some(RelationshipLevel::TrustedAdvisor));
    let planner = m.cell("apac", "logistics", User).unwrap();
    assert_eq!(planner.best_level, Some(RelationshipLevel::Vendor));
    assert_eq!(planner.key_players, 0);
    assert_eq!(m.gaps().count(), 3);
    assert_eq!((m.covered_people(), m.relationships()), (4, 4));
}

#[test]
fn key_players_and_supporters() {
    let g = oem().graph().unwrap();
    let kp = g.key_players();
    let summary: Vec<(&str, Vec<&str>, bool)> = kp
        .iter()
        .map(|k| {
            (
                k.person.as_str(),
                k.supported_by.iter().map(String::as_str).collect(),
                k.covered,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("ceo", vec!["cfo"], false),   // the CFO (supporter) influences the CEO
            ("cpo", vec!["buyer"], false), // the buyer (mentor) influences the CPO
            ("vp_apac", vec![], false),    // only a neutral planner and a neutral CEO
            ("cfo", vec![], true),         // supportive herself
        ]
    );
    assert_eq!(g.unsupported_key_players(), vec!["vp_apac"]);
}

#[test]
fn a_supportive_manager_backs_a_key_player() {
    let map = StakeholderMap {
        people: vec![
            person("boss", "emea", "ops", User, Low, Support::Mentor),
            person("dm", "emea", "ops", DecisionMaker, Medium, Support::Neutral),
        ],
        relations: vec![reports("dm", "boss")],
        ..Default::default()
    };
    let g = map.graph().unwrap();
    assert_eq!(g.key_players()[0].supported_by, vec!["boss"]);
    assert!(g.unsupported_key_players().is_empty());
}

#[test]
fn single_threaded_regions_and_buying_centres() {
    let g = oem().graph().unwrap();
    let owned = g.thread_counts();
    let counts: Vec<(ThreadScope, &str, u32, u32, u32)> = owned
        .iter()
        .map(|t| (t.scope, t.id.as_str(), t.people, t.relationships, t.our_people))
        .collect();
    assert_eq!(
        counts,
        vec![
            (ThreadScope::Region, "apac", 2, 1, 1),
            (ThreadScope::Region, "emea", 3, 2, 1),
            (ThreadScope::Region, "global", 2, 1, 1),
            (ThreadScope::BuyingCentre, "apac-aftermarket", 2, 1, 1),
            (ThreadScope::BuyingCentre, "emea-inbound", 1, 1, 1),
        ]
    );
    let single: Vec<String> = g.single_threaded().into_iter().map(|t| t.id).collect();
    assert_eq!(single, vec!["apac", "global", "apac-aftermarket", "emea-inbound"]);
}

#[test]
fn map_status_red_amber_green() {
    let g = oem().graph().unwrap();
    let s = g.map_status();
    assert_eq!(s.status, Rag::Amber);
    assert_eq!(
        (
            s.key_players,
            s.supportive_key_players,
            s.deciders,
            s.supportive_deciders
        ),
        (4, 1, 4, 1)
    );

    let mut map = oem();
    for p in &mut map.people {
        if matches!(p.buying_role, DecisionMaker | Approver) {
            p.support = Support::Supporter;
        }
    }
    assert_eq!(map.graph().unwrap().map_status().status, Rag::Green);

    let mut map = oem();
    map.people[6].support = Support::Neutral; // the only supportive key player
    assert_eq!(map.graph().unwrap().map_status().status, Rag::Red);

    // A supportive high-power user alone makes amber, not green.
    let map = StakeholderMap {
        people: vec![person("u", "emea", "ops", User, High, Support::Mentor)],
        ..Default::default()
    };
    assert_eq!(map.graph().unwrap().map_status().status, Rag::Amber);
    assert_eq!(
        StakeholderMap::default().graph().unwrap().map_status().status,
        Rag::Red
    );
}

#[test]
fn contact_freshness_against_policy() {
    let g = oem().graph().unwrap();
    let checks = g.contact_freshness(&ContactPolicy::default(), date("2026-11-26"));
    let got: Vec<(&str, u32, Option<i64>, Freshness)> = checks
        .iter()
        .map(|c| (c.person.as_str(), c.limit_days, c.days_since, c.freshness))
        .collect();
    assert_eq!(
        got,
        vec![
            ("ceo", 60, Some(56), Freshness::Fresh), // approver 90, key player cap 60
            ("cpo", 60, Some(86), Freshness::Stale),
            ("buyer", 90, Some(6), Freshness::Fresh),
            ("ops", 180, None, Freshness::NeverContacted),
            ("vp_apac", 60, Some(-5), Freshness::InFuture),
            ("planner", 180, Some(180), Freshness::Fresh), // the limit is inclusive
            ("cfo", 60, Some(60), Freshness::Fresh),
        ]
    );
    let lax = ContactPolicy {
        key_player: None,
        ..ContactPolicy::default()
    };
    let ceo = &g.contact_freshness(&lax, date("2026-11-26"))[0];
    assert_eq!(ceo.limit_days, 90);
}

fn strengths(reach: &[Reach]) -> Vec<(&str, Option<Decimal>)> {
    reach
        .iter()
        .map(|r| (r.person.as_str(), r.path.as_ref().map(|p| p.strength)))
        .collect()
}

#[test]
fn strongest_paths_to_decision_makers() {
    let g = oem().graph().unwrap();
    let reach = g.strongest_paths().unwrap();
    assert_eq!(
        strengths(&reach),
        vec![
            ("ceo", Some(dec!(0.8))),     // ad →TA cfo →0.8 ceo
            ("cpo", Some(dec!(0.45))),    // ram_emea →PS(0.75) buyer →0.6 cpo
            ("vp_apac", Some(dec!(0.4))), // via the CEO, down the line (0.5)
            ("cfo", Some(dec!(1))),
        ]
    );
    let vp = reach[2].path.as_ref().unwrap();
    let steps: Vec<(&str, &str, PathLink)> = vp
        .steps
        .iter()
        .map(|s| (s.from.as_str(), s.to.as_str(), s.link))
        .collect();
    assert_eq!(
        steps,
        vec![
            (
                "ad",
                "cfo",
                PathLink::Coverage {
                    level: RelationshipLevel::TrustedAdvisor
                }
            ),
            ("cfo", "ceo", PathLink::Influences { weight: dec!(0.8) }),
            ("ceo", "vp_apac", PathLink::ManagerOf),
        ]
    );
    // A stronger reports-to step makes the CPO reachable through the line instead.
    let opts = PathOptions {
        reports_to_strength: dec!(1),
    };
    let reach = g.strongest_paths_with(&opts).unwrap();
    // ad →TA cfo →reports-to ceo →manager-of cpo, every step at strength 1.
    assert_eq!(reach[1].path.as_ref().unwrap().strength, dec!(1));
    assert_eq!(reach[1].path.as_ref().unwrap().steps.len(), 3);
    assert!(matches!(
        g.strongest_paths_with(&PathOptions {
            reports_to_strength: dec!(0)
        }),
        Err(StakeholderError::OutOfRange { .. })
    ));
}

#[test]
fn unreachable_decision_maker_has_no_path() {
    let map = StakeholderMap {
        people: vec![
            person("a", "emea", "ops", User, Low, Support::Neutral),
            person("dm", "emea", "ops", DecisionMaker, High, Support::Neutral),
        ],
        our_people: vec![OurPerson::new("x", "x", "ram")],
        // Conflicts are not walked, and influence runs one way only.
        relations: vec![conflict("a", "dm"), influences("dm", "a", dec!(1))],
        coverage: vec![Coverage::new("x", "a", RelationshipLevel::TrustedAdvisor)],
    };
    let reach = map.graph().unwrap().strongest_paths().unwrap();
    assert_eq!(strengths(&reach), vec![("dm", None)]);
}

#[test]
fn departure_of_our_account_director() {
    let g = oem().graph().unwrap();
    let d = g.departure("ad").unwrap();
    assert_eq!(d.side, Side::Ours);
    assert_eq!(d.relationships_lost, vec![("ad".to_string(), "cfo".to_string())]);
    assert_eq!(d.newly_uncovered, vec!["cfo"]);
    assert_eq!(
        d.gaps_opened,
        vec![CellKey {
            region: "global".into(),
            function: "finance".into(),
            buying_role: Approver
        }]
    );
    assert_eq!(
        d.newly_uncovered_scopes,
        vec![(ThreadScope::Region, "global".to_string())]
    );
    assert!(d.newly_single_threaded.is_empty());
    assert!(d.paths_broken.is_empty());
    let weakened: Vec<(&str, Decimal, Decimal)> = d
        .paths_weakened
        .iter()
        .map(|c| (c.person.as_str(), c.before, c.after))
        .collect();
    assert_eq!(
        weakened,
        vec![
            ("ceo", dec!(0.8), dec!(0.225)),     // now via buyer → cpo → ceo
            ("vp_apac", dec!(0.4), dec!(0.125)), // now via the planner's reporting line
            ("cfo", dec!(1), dec!(0.1125)),      // now via the CEO
        ]
    );
    assert_eq!((d.status_before, d.status_after), (Rag::Amber, Rag::Amber));
}

#[test]
fn departure_of_a_customer_person() {
    let g = oem().graph().unwrap();
    let d = g.departure("cfo").unwrap();
    assert_eq!(d.side, Side::Customer);
    assert_eq!(d.relationships_lost, vec![("ad".to_string(), "cfo".to_string())]);
    assert!(d.newly_uncovered.is_empty());
    assert!(d.gaps_opened.is_empty()); // the CFO's cell leaves with her
    assert_eq!(
        d.newly_uncovered_scopes,
        vec![(ThreadScope::Region, "global".to_string())]
    );
    assert_eq!((d.status_before, d.status_after), (Rag::Amber, Rag::Red));

    let d = g.departure("ram_emea").unwrap();
    assert_eq!(d.newly_uncovered, vec!["buyer", "ops"]);
    assert_eq!(
        d.newly_uncovered_scopes,
        vec![
            (ThreadScope::Region, "emea".to_string()),
            (ThreadScope::BuyingCentre, "emea-inbound".to_string())
        ]
    );
    assert_eq!(d.paths_weakened.len(), 1);
    assert_eq!(
        (d.paths_weakened[0].person.as_str(), d.paths_weakened[0].after),
        ("cpo", dec!(0.4))
    );

    // The only bridge to a decision maker leaves: the path breaks.
    let map = StakeholderMap {
        people: vec![
            person("a", "emea", "ops", User, Low, Support::Neutral),
            person("b", "emea", "ops", User, Low, Support::Neutral),
            person("dm", "emea", "ops", DecisionMaker, High, Support::Neutral),
        ],
        our_people: vec![OurPerson::new("x", "x", "ram"), OurPerson::new("y", "y", "ram")],
        relations: vec![influences("a", "dm", dec!(0.5))],
        coverage: vec![
            Coverage::new("x", "a", RelationshipLevel::TrustedAdvisor),
            Coverage::new("y", "a", RelationshipLevel::Vendor),
            Coverage::new("y", "b", RelationshipLevel::Vendor),
        ],
    };
    let g = map.graph().unwrap();
    let d = g.departure("a").unwrap();
    assert_eq!(d.paths_broken, vec!["dm"]);
    assert_eq!(
        d.newly_single_threaded,
        vec![(ThreadScope::Region, "emea".to_string())]
    );
    assert!(matches!(
        g.departure("nobody"),
        Err(StakeholderError::NotInGraph { .. })
    ));
}

#[test]
fn pagerank_known_answers() {
    // a influences b and c (weight 1): b and c defer to a, a is dangling.
    // PR(a) = 27/47, PR(b) = PR(c) = 10/47 with d = 0.85.
    let p = |id| person(id, "emea", "ops", User, Low, Support::Neutral);
    let tight = InfluenceOptions {
        tolerance: dec!(0.0000000000001),
        ..InfluenceOptions::default()
    };
    let map = StakeholderMap {
        people: vec![p("a"), p("b"), p("c")],
        relations: vec![influences("a", "b", dec!(1)), influences("a", "c", dec!(1))],
        ..Default::default()
    };
    let r = map.graph().unwrap().influence_ranking(&tight).unwrap();
    assert!(r.converged);
    let close = |x: Decimal, num: i64, den: i64| {
        (x - Decimal::from(num) / Decimal::from(den)).abs() < dec!(0.00000000001)
    };
    assert_eq!(r.scores[0].person, "a");
    assert!(close(r.scores[0].score, 27, 47), "{:?}", r.scores);
    assert!(close(r.scores[1].score, 10, 47) && close(r.scores[2].score, 10, 47));
    assert_eq!(r.scores.iter().map(|s| s.score).sum::<Decimal>(), Decimal::ONE);

    // Weighted: a influences c with 0.9, b influences c with 0.1.
    // PR(c) = 1/3.85, PR(a) = 3.53/7.7, PR(b) = 2.17/7.7.
    let map = StakeholderMap {
        people: vec![p("a"), p("b"), p("c")],
        relations: vec![influences("a", "c", dec!(0.9)), influences("b", "c", dec!(0.1))],
        ..Default::default()
    };
    let r = map.graph().unwrap().influence_ranking(&tight).unwrap();
    let order: Vec<&str> = r.scores.iter().map(|s| s.person.as_str()).collect();
    assert_eq!(order, vec!["a", "b", "c"]);
    assert!(close(r.scores[0].score, 353, 770));
    assert!(close(r.scores[1].score, 217, 770));
    assert!(close(r.scores[2].score, 200, 770));

    // With reports-to carrying influence, the manager rises.
    let map = StakeholderMap {
        people: vec![p("a"), p("b"), p("boss")],
        relations: vec![reports("a", "boss"), reports("b", "boss")],
        ..Default::default()
    };
    let g = map.graph().unwrap();
    let plain = g.influence_ranking(&InfluenceOptions::default()).unwrap();
    // No influence relations: everyone dangles, the ranking is uniform.
    let third = Decimal::ONE / Decimal::from(3);
    assert!(
        plain
            .scores
            .iter()
            .all(|s| (s.score - third).abs() <= dec!(0.000000000001))
    );
    let with_lines = InfluenceOptions {
        reports_to_weight: Some(dec!(0.5)),
        ..InfluenceOptions::default()
    };
    let r = g.influence_ranking(&with_lines).unwrap();
    assert_eq!(r.scores[0].person, "boss");

    for bad in [
        InfluenceOptions {
            damping: dec!(1),
            ..InfluenceOptions::default()
        },
        InfluenceOptions {
            tolerance: dec!(0),
            ..InfluenceOptions::default()
        },
        InfluenceOptions {
            max_iterations: 0,
            ..InfluenceOptions::default()
        },
        InfluenceOptions {
            reports_to_weight: Some(dec!(1.5)),
            ..InfluenceOptions::default()
        },
    ] {
        assert!(matches!(
            g.influence_ranking(&bad),
            Err(StakeholderError::OutOfRange { .. })
        ));
    }
    let empty = StakeholderMap::default().graph().unwrap();
    assert!(
        empty
            .influence_ranking(&InfluenceOptions::default())
            .unwrap()
            .scores
            .is_empty()
    );
}

#[test]
fn oem_influence_ranking_puts_the_ceo_first() {
    let r = oem()
        .graph()
        .unwrap()
        .influence_ranking(&InfluenceOptions::default())
        .unwrap();
    assert_eq!(r.scores.len(), 7);
    assert_eq!(r.scores.iter().map(|s| s.score).sum::<Decimal>(), Decimal::ONE);
    // cfo influences the CEO; buyer the CPO; planner the VP: the influencers gain.
    let rank = |id: &str| r.scores.iter().position(|s| s.person == id).unwrap();
    assert!(rank("cfo") < rank("ceo"));
    assert!(rank("buyer") < rank("cpo"));
}

#[test]
fn analyse_bundles_the_standard_analysis() {
    let g = oem().graph().unwrap();
    let a = g.analyse(&InfluenceOptions::default()).unwrap();
    assert_eq!(a.coverage.gaps().count(), 3);
    assert_eq!(a.unsupported_key_players, vec!["vp_apac"]);
    assert_eq!(a.single_threaded.len(), 4);
    assert_eq!(a.status.status, Rag::Amber);
    let json = serde_json::to_string(&a).unwrap();
    assert_eq!(serde_json::from_str::<Analysis>(&json).unwrap(), a);
}

fn err(map: &StakeholderMap) -> StakeholderError {
    map.graph().unwrap_err()
}

#[test]
fn bad_input_gets_typed_errors() {
    let mut m = oem();
    m.people
        .push(person("cpo", "emea", "x", User, Low, Support::Neutral));
    assert_eq!(
        err(&m),
        StakeholderError::DuplicateId {
            path: "people[7].id".into(),
            id: "cpo".into()
        }
    );
    let mut m = oem();
    m.our_people.push(OurPerson::new("ceo", "clash", ""));
    assert!(matches!(err(&m), StakeholderError::DuplicateId { path, .. } if path == "our_people[3].id"));
    let mut m = oem();
    m.people[0].id.clear();
    assert!(matches!(err(&m), StakeholderError::EmptyId { .. }));

    let mut m = oem();
    m.relations.push(reports("ops", "ghost"));
    assert_eq!(
        err(&m),
        StakeholderError::UnknownPerson {
            path: "relations[10].to".into(),
            side: "customer person",
            id: "ghost".into()
        }
    );
    let mut m = oem();
    m.relations.push(influences("ad", "cpo", dec!(0.5))); // our person in a customer relation
    assert!(matches!(
        err(&m),
        StakeholderError::UnknownPerson {
            side: "customer person",
            ..
        }
    ));
    let mut m = oem();
    m.coverage
        .push(Coverage::new("cpo", "ceo", RelationshipLevel::Vendor)); // wrong side
    assert!(matches!(
        err(&m),
        StakeholderError::UnknownPerson {
            side: "our person",
            ..
        }
    ));
    let mut m = oem();
    m.coverage
        .push(Coverage::new("ad", "nobody", RelationshipLevel::Vendor));
    assert!(matches!(err(&m), StakeholderError::UnknownPerson { path, .. } if path == "coverage[4].theirs"));

    let mut m = oem();
    m.relations.push(influences("cpo", "cpo", dec!(0.5)));
    assert!(matches!(
        err(&m),
        StakeholderError::SelfEdge {
            kind: "influences",
            ..
        }
    ));

    let mut m = oem();
    m.relations.push(reports("ceo", "planner")); // ceo → planner → vp_apac → ceo
    match err(&m) {
        StakeholderError::ReportsToCycle { cycle } => {
            assert_eq!(cycle.first(), cycle.last());
            assert_eq!(cycle.len(), 4);
            for id in ["ceo", "planner", "vp_apac"] {
                assert!(cycle.iter().any(|c| c == id));
            }
        }
        other => panic!("expected a cycle, got {other:?}"),
    }

    for w in [dec!(0), dec!(-0.1), dec!(1.0001)] {
        let mut m = oem();
        m.relations.push(influences("ops", "ceo", w));
        assert_eq!(
            err(&m),
            StakeholderError::OutOfRange {
                path: "relations[10].weight".into(),
                value: w,
                range: "(0, 1]"
            }
        );
    }

    let mut m = oem();
    m.relations.push(conflict("vp_apac", "cpo")); // the same conflict, other way round
    assert!(matches!(
        err(&m),
        StakeholderError::DuplicateRelation {
            kind: "conflicts_with",
            ..
        }
    ));
    let mut m = oem();
    m.coverage
        .push(Coverage::new("ad", "cfo", RelationshipLevel::Vendor));
    assert!(matches!(
        err(&m),
        StakeholderError::DuplicateRelation { kind: "coverage", .. }
    ));
    // Messages name the item.
    assert_eq!(
        err(&m).to_string(),
        "coverage[4]: duplicate coverage relation between \"ad\" and \"cfo\""
    );
}

/// A map large enough that the relations' ends are looked up on several threads: the
/// first bad record is still the one reported, and the graph is the map's.
#[test]
fn a_large_map_reports_its_first_bad_relation() {
    let n = 30_000;
    let mut m = StakeholderMap::default();
    for i in 0..n {
        m.people.push(person(
            &format!("p{i}"),
            "emea",
            "ops",
            User,
            Low,
            Support::Neutral,
        ));
    }
    m.our_people.push(OurPerson::new("ad", "Account director", ""));
    for i in 1..n {
        m.relations
            .push(reports(&format!("p{i}"), &format!("p{}", i / 2)));
        m.relations
            .push(influences(&format!("p{}", i - 1), &format!("p{i}"), dec!(0.5)));
    }
    m.coverage
        .push(Coverage::new("ad", "p0", RelationshipLevel::Vendor));
    assert!(m.relations.len() > 50_000);
    let g = m.graph().unwrap();
    assert_eq!(g.size(), (n + 1, 2 * (n - 1) + 1));
    assert_eq!(g.to_map(), m);
    assert!(g.contains("p29999") && g.contains("ad") && !g.contains("p30000"));

    // Two bad ends, the earlier in the second half: that one is reported.
    let mut bad = m.clone();
    bad.relations[50_001] = reports("p3", "ghost");
    bad.relations[55_000] = reports("nobody", "p3");
    assert_eq!(
        err(&bad),
        StakeholderError::UnknownPerson {
            path: "relations[50001].to".into(),
            side: "customer person",
            id: "ghost".into()
        }
    );
    // One of ours in a customer relation, near the end.
    let mut bad = m.clone();
    bad.relations[59_990] = influences("p1", "ad", dec!(0.5));
    assert!(
        matches!(err(&bad), StakeholderError::UnknownPerson { path, .. } if path == "relations[59990].to")
    );
    // A duplicate id among many is found at its second occurrence.
    let mut bad = m;
    bad.people[29_999].id = "p12345".into();
    assert!(matches!(err(&bad), StakeholderError::DuplicateId { path, .. } if path == "people[29999].id"));
}

fn account() -> Account {
    Account {
        id: "oem".into(),
        name: "OEM".into(),
        nodes: vec![
            AccountNode::new("global", "Global", NodeLevel::Global, None),
            AccountNode::new("emea", "EMEA", NodeLevel::Region, Some("global")),
            AccountNode::new("apac", "APAC", NodeLevel::Region, Some("global")),
            AccountNode::new("de", "Germany", NodeLevel::Country, Some("emea")),
            AccountNode::new("leipzig", "Leipzig", NodeLevel::Site, Some("de")),
        ],
        service_lines: vec![],
        buying_centres: vec![
            BuyingCentre {
                id: "emea-inbound".into(),
                name: "EMEA inbound".into(),
                node: "emea".into(),
                service_lines: vec![],
            },
            BuyingCentre {
                id: "apac-aftermarket".into(),
                name: "APAC aftermarket".into(),
                node: "apac".into(),
                service_lines: vec![],
            },
        ],
    }
}

#[test]
fn checked_against_the_account_people_roll_up_to_regions() {
    let mut m = oem();
    m.people[3].region = "leipzig".into(); // ops works at the Leipzig plant
    let g = m.graph_for_account(&account()).unwrap();
    let cells = g.coverage_matrix();
    assert!(cells.cell("emea", "logistics", User).is_some());
    assert!(cells.cell("leipzig", "logistics", User).is_none());
    // Without the account, the site is its own group.
    let plain = m.graph().unwrap().coverage_matrix();
    assert!(plain.cell("leipzig", "logistics", User).is_some());

    let mut bad = oem();
    bad.people[0].region = "mars".into();
    assert!(matches!(
        bad.graph_for_account(&account()),
        Err(StakeholderError::UnknownRegion { path, .. }) if path == "people[0].region"
    ));
    let mut bad = oem();
    bad.people[0].buying_centres = vec!["nope".into()];
    assert!(matches!(
        bad.graph_for_account(&account()),
        Err(StakeholderError::UnknownBuyingCentre { path, .. }) if path == "people[0].buying_centres[0]"
    ));
}

#[test]
fn serde_round_trip_as_records() {
    let map = oem();
    let json = serde_json::to_string_pretty(&map).unwrap();
    assert_eq!(serde_json::from_str::<StakeholderMap>(&json).unwrap(), map);
    assert!(json.contains("\"kind\": \"influences\""));
    assert!(json.contains("\"trusted_advisor\""));
    let text = toml::to_string(&map).unwrap();
    assert_eq!(toml::from_str::<StakeholderMap>(&text).unwrap(), map);
    // The graph gives the records back, also after a removal.
    let g = map.graph().unwrap();
    assert_eq!(g.to_map(), map);
    let without = g.without("cpo").unwrap().to_map();
    assert_eq!(without.people.len(), 6);
    assert!(
        without
            .relations
            .iter()
            .all(|r| r.ends().0 != "cpo" && r.ends().1 != "cpo")
    );
    assert_eq!(without.relations.len(), 5); // 10 minus the CPO's five
}

#[test]
fn graph_and_records_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<StakeholderGraph>();
    send_sync::<StakeholderMap>();
    send_sync::<StakeholderError>();
}

#[test]
fn into_graph_equals_graph_and_results_round_trip() {
    let map = oem();
    let moved = map.clone().into_graph().unwrap();
    assert_eq!(moved.to_map(), map);
    assert_eq!(moved.size(), (10, 14)); // 7 + 3 people; 10 relations + 4 coverage
    let d = moved.departure("ad").unwrap();
    let text = toml::to_string(&d).unwrap();
    assert_eq!(toml::from_str::<Departure>(&text).unwrap(), d);
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(serde_json::from_str::<Departure>(&json).unwrap(), d);
    let m = moved.coverage_matrix();
    assert_eq!(
        toml::from_str::<CoverageMatrix>(&toml::to_string(&m).unwrap()).unwrap(),
        m
    );
    let opts = InfluenceOptions::default();
    assert_eq!(
        toml::from_str::<InfluenceOptions>(&toml::to_string(&opts).unwrap()).unwrap(),
        opts
    );
    let policy = ContactPolicy::default();
    assert_eq!(
        toml::from_str::<ContactPolicy>(&toml::to_string(&policy).unwrap()).unwrap(),
        policy
    );
    assert_eq!(moved.person("cfo").map(|p| p.buying_role), Some(Approver));
    assert!(moved.contains("ad") && !moved.contains("ghost"));
    assert_eq!(moved.people().count(), 7);
}

#[test]
fn a_hand_written_toml_map_loads() {
    let text = r#"
[[people]]
id = "cpo"
name = "Chief Procurement Officer"
region = "emea"
function = "procurement"
buying_role = "decision_maker"
power = "high"
support = "supporter"
last_contact = "2026-10-01"

[[people]]
id = "buyer"
name = "Buyer"
region = "emea"
function = "procurement"
buying_role = "evaluator"
power = "medium"
support = "mentor"

[[our_people]]
id = "ad"
name = "Account Director"

[[relations]]
kind = "influences"
from = "buyer"
to = "cpo"
weight = "0.7"

[[coverage]]
ours = "ad"
theirs = "buyer"
level = "problem_solver"
"#;
    let map: StakeholderMap = toml::from_str(text).unwrap();
    let g = map.graph().unwrap();
    assert_eq!(
        g.strongest_paths().unwrap()[0].path.as_ref().unwrap().strength,
        dec!(0.525)
    );
    assert_eq!(g.map_status().status, Rag::Green);
}

// ---- properties ----

const ROLES: [BuyingRole; 4] = [User, Evaluator, DecisionMaker, Approver];
const POWERS: [PoliticalPower; 3] = [Low, Medium, High];
const SUPPORTS: [Support; 5] = [
    Support::Enemy,
    Support::NonSupporter,
    Support::Neutral,
    Support::Supporter,
    Support::Mentor,
];
const LEVELS: [RelationshipLevel; 4] = [
    RelationshipLevel::Vendor,
    RelationshipLevel::CredibleSource,
    RelationshipLevel::ProblemSolver,
    RelationshipLevel::TrustedAdvisor,
];

type RawPerson = (usize, usize, usize, usize, usize, Option<u16>);

/// A random valid map: reports-to only to earlier people (so no cycles), duplicates
/// dropped.
fn build_map(
    people: Vec<RawPerson>,
    ours: usize,
    edges: Vec<(u8, usize, usize, u32)>,
    coverage: Vec<(usize, usize, usize)>,
) -> StakeholderMap {
    let n = people.len();
    let mut map = StakeholderMap::default();
    for (i, (r, f, role, power, support, contact)) in people.into_iter().enumerate() {
        let mut p = person(
            &format!("p{i}"),
            ["emea", "apac", "americas"][r % 3],
            ["procurement", "logistics"][f % 2],
            ROLES[role % 4],
            POWERS[power % 3],
            SUPPORTS[support % 5],
        );
        p.last_contact = contact.map(|d| date(&format!("2026-{:02}-{:02}", d % 12 + 1, d % 28 + 1)));
        if i % 3 == 0 {
            p.buying_centres = vec![format!("bc{}", i % 2)];
        }
        map.people.push(p);
    }
    for j in 0..ours {
        map.our_people.push(OurPerson::new(&format!("o{j}"), "us", "ram"));
    }
    let mut seen = std::collections::HashSet::new();
    for (kind, a, b, w) in edges {
        let (a, b) = (a % n, b % n);
        if a == b {
            continue;
        }
        let (a, b) = if kind % 3 == 0 {
            (a.max(b), a.min(b))
        } else {
            (a, b)
        };
        let key = if kind % 3 == 2 {
            (kind % 3, a.min(b), a.max(b))
        } else {
            (kind % 3, a, b)
        };
        if !seen.insert(key) {
            continue;
        }
        let (from, to) = (format!("p{a}"), format!("p{b}"));
        map.relations.push(match kind % 3 {
            0 => Relation::ReportsTo { from, to },
            1 => Relation::Influences {
                from,
                to,
                weight: Decimal::new(i64::from(w % 100 + 1), 2),
            },
            _ => Relation::ConflictsWith { from, to },
        });
    }
    if ours > 0 {
        let mut seen = std::collections::HashSet::new();
        for (o, t, l) in coverage {
            let (o, t) = (o % ours, t % n);
            if seen.insert((o, t)) {
                map.coverage
                    .push(Coverage::new(&format!("o{o}"), &format!("p{t}"), LEVELS[l % 4]));
            }
        }
    }
    map
}

fn arb_map() -> impl Strategy<Value = StakeholderMap> {
    (
        prop::collection::vec(
            (
                0..3usize,
                0..2usize,
                0..4usize,
                0..3usize,
                0..5usize,
                prop::option::of(0..700u16),
            ),
            1..14,
        ),
        0..4usize,
        prop::collection::vec((0..3u8, 0..14usize, 0..14usize, 0..1000u32), 0..40),
        prop::collection::vec((0..4usize, 0..14usize, 0..4usize), 0..20),
    )
        .prop_map(|(p, o, e, c)| build_map(p, o, e, c))
}

fn all_ids(map: &StakeholderMap) -> Vec<String> {
    map.people
        .iter()
        .map(|p| p.id.clone())
        .chain(map.our_people.iter().map(|p| p.id.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn serde_round_trips(map in arb_map()) {
        let json = serde_json::to_string(&map).unwrap();
        prop_assert_eq!(&serde_json::from_str::<StakeholderMap>(&json).unwrap(), &map);
        let text = toml::to_string(&map).unwrap();
        prop_assert_eq!(&toml::from_str::<StakeholderMap>(&text).unwrap(), &map);
        prop_assert_eq!(&map.graph().unwrap().to_map(), &map);
    }

    #[test]
    fn removing_a_person_never_increases_coverage(map in arb_map()) {
        let g = map.graph().unwrap();
        let before = g.coverage_matrix();
        for id in all_ids(&map) {
            let after = g.without(&id).unwrap().coverage_matrix();
            prop_assert!(after.covered_people() <= before.covered_people());
            prop_assert!(after.relationships() <= before.relationships());
            for cell in &after.cells {
                let old = before.cell(&cell.region, &cell.function, cell.buying_role).unwrap();
                prop_assert!(cell.covered_people <= old.covered_people);
                prop_assert!(cell.covered_key_players <= old.covered_key_players);
                prop_assert!(cell.relationships <= old.relationships);
                prop_assert!(cell.best_level <= old.best_level);
            }
        }
    }

    #[test]
    fn a_path_found_exists_edge_by_edge(map in arb_map()) {
        let g = map.graph().unwrap();
        for reach in g.strongest_paths().unwrap() {
            let Some(path) = reach.path else { continue };
            prop_assert!(!path.steps.is_empty());
            prop_assert!(map.our_people.iter().any(|o| o.id == path.steps[0].from));
            prop_assert_eq!(&path.steps[path.steps.len() - 1].to, &reach.person);
            let mut product = Decimal::ONE;
            for (i, s) in path.steps.iter().enumerate() {
                if i > 0 {
                    prop_assert_eq!(&path.steps[i - 1].to, &s.from);
                }
                let exists = match s.link {
                    PathLink::Coverage { level } => i == 0
                        && level.strength() == s.strength
                        && map.coverage.iter().any(|c| c.ours == s.from && c.theirs == s.to && c.level == level),
                    PathLink::Influences { weight } => weight == s.strength
                        && map.relations.contains(&influences(&s.from, &s.to, weight)),
                    PathLink::ReportsTo => map.relations.contains(&reports(&s.from, &s.to)),
                    PathLink::ManagerOf => map.relations.contains(&reports(&s.to, &s.from)),
                };
                prop_assert!(exists, "step {:?} is not in the map", s);
                product *= s.strength;
            }
            prop_assert_eq!(product, path.strength);
        }
    }

    #[test]
    fn departure_agrees_with_the_map_without_the_person(map in arb_map()) {
        let g = map.graph().unwrap();
        let covered_before: std::collections::HashSet<String> =
            map.coverage.iter().map(|c| c.theirs.clone()).collect();
        for id in all_ids(&map) {
            let d = g.departure(&id).unwrap();
            let after = g.without(&id).unwrap();
            prop_assert_eq!(d.status_after, after.map_status().status);
            prop_assert_eq!(d.status_before, g.map_status().status);
            let gaps_after: Vec<CellKey> = after
                .coverage_matrix()
                .gaps()
                .map(|c| CellKey { region: c.region.clone(), function: c.function.clone(), buying_role: c.buying_role })
                .collect();
            prop_assert!(d.gaps_opened.iter().all(|k| gaps_after.contains(k)));
            let covered_after: std::collections::HashSet<String> =
                after.to_map().coverage.iter().map(|c| c.theirs.clone()).collect();
            for p in &d.newly_uncovered {
                prop_assert!(covered_before.contains(p) && !covered_after.contains(p));
            }
            let lost = map.coverage.iter().filter(|c| c.ours == id || c.theirs == id).count();
            prop_assert_eq!(d.relationships_lost.len(), lost);
            for p in &d.paths_broken {
                let reach = after.strongest_paths().unwrap();
                prop_assert!(reach.iter().any(|r| &r.person == p && r.path.is_none()));
            }
        }
    }

    #[test]
    fn pagerank_sums_to_one(map in arb_map(), damping in 0..100i64, lines in any::<bool>()) {
        let g = map.graph().unwrap();
        let opts = InfluenceOptions {
            damping: Decimal::new(damping, 2),
            reports_to_weight: lines.then(|| dec!(0.5)),
            ..InfluenceOptions::default()
        };
        let r = g.influence_ranking(&opts).unwrap();
        prop_assert_eq!(r.scores.len(), map.people.len());
        prop_assert!(r.scores.iter().all(|s| s.score > Decimal::ZERO));
        prop_assert_eq!(r.scores.iter().map(|s| s.score).sum::<Decimal>(), Decimal::ONE);
        // Removing anyone keeps it a distribution.
        if let Some(first) = map.people.first() {
            let r = g.without(&first.id).unwrap().influence_ranking(&opts).unwrap();
            let total: Decimal = r.scores.iter().map(|s| s.score).sum();
            prop_assert!(r.scores.is_empty() || total == Decimal::ONE);
        }
    }
}
